// KeepWarmSet: which of the transport's open sockets to watch for the
// server's close, kept up to date as things change rather than worked out
// again at every loop turn.
//
// A socket is watched while it counts (OpenSockets: open, not found closed
// by the peer) and its origin is kept warm (a caller's request went there
// within keep_warm_for). What a readable socket means depends on whether a
// transfer to its origin runs: while none does the socket is idle, and
// readable only when the server closes it; while one does, the data may be
// that transfer's (libcurl does not say which connection a transfer took).
// So a socket found readable while its origin is busy leaves the list until
// the origin is idle again, and one opened while it is busy joins then.
// Each event (a socket counted or not, a busy socket found readable, the
// origin idle again, used or aged out) adds or removes just the sockets it
// concerns, through the WatchList:
// - a loop turn with nothing changed costs nothing, however many portals
//   and sockets there are: a gateway in front of thousands of portals
//   (Marketplace applications) holds tens of thousands of idle connections,
//   and rebuilding the watched list from all of them at every curl event
//   was O(open sockets) on the one transport thread;
// - a request costs only the sockets that saw data, not all of its
//   portal's (taking all 8 of a portal's connections out of the list and
//   back for each call was 16 epoll_ctl calls).
//
// Thread-safety: none; the transport's loop thread only.
#ifndef B24GATE_ENGINE_HTTP_KEEP_WARM_SET_H_
#define B24GATE_ENGINE_HTTP_KEEP_WARM_SET_H_

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "engine/http/http_transport.h"
#include "engine/http/watch_list.h"

namespace b24gate {

class KeepWarmSet {
 public:
  // `list` outlives the set; zero keep_warm_for keeps nothing warm.
  KeepWarmSet(absl::Duration keep_warm_for, WatchList* list);
  KeepWarmSet(const KeepWarmSet&) = delete;
  KeepWarmSet& operator=(const KeepWarmSet&) = delete;

  // A caller's request to `origin` starts at `now` (with these TLS options,
  // which the connections opened in place of closed ones use): the origin
  // is kept warm until keep_warm_for after it.
  void Used(const std::string& origin, absl::Time now, const TlsOptions& tls);
  // A transfer to `origin` (a caller's request or a HEAD opening a
  // connection) starts or ends.
  void Started(const std::string& origin);
  void Finished(const std::string& origin);
  // A socket to `origin` counts (opened), or no longer does (closed by
  // either side). An unknown fd is ignored; a known one counted again is a
  // number the kernel handed out again.
  void Counted(int fd, const std::string& origin);
  void Uncounted(int fd);
  // A watched socket turned readable. True if no transfer to its origin
  // runs: the server is closing it. False otherwise: the data may be a
  // transfer's, and the socket leaves the list until the origin is idle.
  bool Readable(int fd);
  // Origins last used longer than keep_warm_for before `now` are no longer
  // kept warm: their sockets are left to expire with the server's limit.
  // Costs nothing while the oldest is still young.
  void Expire(absl::Time now);

  // The TLS options of a kept-warm origin, or nullptr if it is not kept.
  const TlsOptions* Kept(const std::string& origin) const;
  // Origins kept warm now.
  size_t kept() const { return by_use_.size(); }
  // Sockets in the list now.
  size_t watched() const { return watched_; }

 private:
  struct Origin {
    std::string name;
    int running = 0;               // transfers started and not finished
    absl::flat_hash_set<int> fds;  // counted sockets
    // Counted sockets of a kept origin out of the list while it is busy.
    std::vector<int> waiting;
    bool kept = false;  // used within keep_warm_for
    absl::Time last_used;
    TlsOptions tls;
    std::list<Origin*>::iterator use;  // in by_use_, while kept
  };
  struct Socket {
    Origin* origin;
    bool listed = false;
  };

  Origin& Get(const std::string& name);
  // Puts a counted socket of a kept origin in the list now, or when the
  // origin is idle.
  void Watch(int fd, Socket& socket);
  void Unlist(int fd, Socket& socket);
  // The origin is idle: its waiting sockets join the list.
  void ListWaiting(Origin& origin);
  // Forgets `origin` when nothing of it is left to remember.
  void Drop(Origin& origin);

  const absl::Duration keep_warm_for_;
  WatchList* const list_;
  // Stable addresses: fds_ and by_use_ point into it.
  std::unordered_map<std::string, Origin> origins_;
  absl::flat_hash_map<int, Socket> fds_;  // counted sockets
  // Kept-warm origins, least recently used first: Expire() stops at the
  // first one still young.
  std::list<Origin*> by_use_;
  size_t watched_ = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_HTTP_KEEP_WARM_SET_H_
