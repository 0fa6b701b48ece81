// WatchList: the sockets the transport's loop polls for readability besides
// libcurl's own, kept up to date one change at a time.
//
// KeepWarmSet decides which sockets belong here and tells the list each
// change; the list is what the poll looks at. The production list is an
// epoll instance (EpollWatchList), whose one descriptor the loop hands to
// curl_multi_poll however many sockets it watches, so a loop turn costs
// nothing per watched socket. Tests use a list that records the set.
//
// Thread-safety: none; the transport's loop thread only.
#ifndef B24GATE_ENGINE_HTTP_WATCH_LIST_H_
#define B24GATE_ENGINE_HTTP_WATCH_LIST_H_

namespace b24gate {

class WatchList {
 public:
  virtual ~WatchList() = default;
  // `fd` is not in the list yet (Add) or is in it (Remove); KeepWarmSet
  // never asks otherwise.
  virtual void Add(int fd) = 0;
  virtual void Remove(int fd) = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_HTTP_WATCH_LIST_H_
