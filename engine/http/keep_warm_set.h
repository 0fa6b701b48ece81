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
// Where the server announces its idle limit (Keep-Alive: timeout=N), the
// set also says when a kept origin's connections are due to be replaced
// BEFORE the server closes them: kAhead before the limit, counted from when
// the origin last went idle. Replaced after the server's close, a request
// could take a connection at the very moment the server closed it, and a
// POST then failed with an unknown outcome. libcurl is told too (MaxAge):
// it reuses no connection idle within 1 s of the limit, whatever the
// keeping warm does.
//
// Thread-safety: none; the transport's loop thread only.
#ifndef B24GATE_ENGINE_HTTP_KEEP_WARM_SET_H_
#define B24GATE_ENGINE_HTTP_KEEP_WARM_SET_H_

#include <cstddef>
#include <list>
#include <optional>
#include <set>
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
  // connection) starts or ends (at `now`).
  void Started(const std::string& origin);
  void Finished(const std::string& origin, absl::Time now);
  // The server of `origin` closes connections idle for `limit` (its
  // Keep-Alive header said so). Applies from its next idle spell.
  void Limit(const std::string& origin, absl::Duration limit);
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

  // Whole seconds libcurl may keep reusing an idle connection to `origin`
  // (CURLOPT_MAXAGE_CONN; libcurl truncates the idle time to whole seconds,
  // so it refuses from 1 s past this, 1 s before the server's limit), or
  // nullopt when its server announced no limit.
  std::optional<long> MaxAgeSeconds(const std::string& origin) const;
  // When the next origin is due for replacing its connections ahead
  // (absl::InfiniteFuture() when none is).
  absl::Time NextDue() const;
  // One origin due: its name and its counted sockets, which the caller
  // closes (they stop counting) and replaces.
  struct Due {
    std::string origin;
    std::vector<int> fds;
  };
  // The origins due by `now` (idle and kept warm, past their idle limit
  // less kAhead), each taken off the schedule until its next idle spell.
  void TakeDue(absl::Time now, std::vector<Due>* due);

  // How long before the server's limit connections are replaced, and the
  // shortest idle spell worth replacing after: with a limit under 3 s the
  // connections are replaced when the server closes them, as without a
  // limit (replacing sooner than every second is churn).
  static constexpr absl::Duration kAhead = absl::Seconds(2);
  static constexpr absl::Duration kShortestSpell = absl::Seconds(1);

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
    std::optional<absl::Duration> limit;  // the server's idle limit
    absl::Time due = absl::InfiniteFuture();  // in due_ unless infinite
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
  // Puts an origin gone idle at `now` on (and takes one off) the schedule.
  void Schedule(Origin& origin, absl::Time now);
  void Unschedule(Origin& origin);

  const absl::Duration keep_warm_for_;
  WatchList* const list_;
  // Stable addresses: fds_ and by_use_ point into it.
  std::unordered_map<std::string, Origin> origins_;
  absl::flat_hash_map<int, Socket> fds_;  // counted sockets
  // Kept-warm origins, least recently used first: Expire() stops at the
  // first one still young.
  std::list<Origin*> by_use_;
  // Origins due for replacing ahead, soonest first.
  std::set<std::pair<absl::Time, Origin*>> due_;
  size_t watched_ = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_HTTP_KEEP_WARM_SET_H_
