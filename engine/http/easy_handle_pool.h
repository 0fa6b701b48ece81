// EasyHandlePool: libcurl easy handles kept for reuse by one transport's
// event loop, instead of one made and cleaned up for every request (a
// profile put that at about 3% of an idle call's CPU); a kept handle is
// reset instead.
//
// Nothing of one request reaches the next: Give resets the handle
// (curl_easy_reset) before keeping it, so every option the last transfer
// set -- its URL (with the webhook code), method, headers (with a token),
// body and progress callbacks and their data, range, redirect policy,
// timeouts, TLS trust -- is back to libcurl's default, and an idle handle
// holds no secret. A reset keeps the handle's TLS session cache; libcurl
// resumes a session only for a request whose TLS settings match the ones it
// was made with. Connections live in the transport's multi handle, not in
// the easy handle, and are kept either way.
//
// Thread-safety: none; one thread (the transport's loop) uses a pool.
#ifndef B24GATE_ENGINE_HTTP_EASY_HANDLE_POOL_H_
#define B24GATE_ENGINE_HTTP_EASY_HANDLE_POOL_H_

#include <curl/curl.h>

#include <cstddef>
#include <vector>

namespace b24gate {

class EasyHandlePool {
 public:
  // Keeps at most `max_idle` handles; more given back are cleaned up.
  explicit EasyHandlePool(size_t max_idle) : max_idle_(max_idle) {}
  ~EasyHandlePool();

  EasyHandlePool(const EasyHandlePool&) = delete;
  EasyHandlePool& operator=(const EasyHandlePool&) = delete;

  // A handle with libcurl's default options: a kept one, or a new one.
  // Null when libcurl cannot make one.
  CURL* Take();
  // Takes `easy` back (null: nothing). REQUIRES: not in a multi handle.
  void Give(CURL* easy);

 private:
  const size_t max_idle_;
  std::vector<CURL*> idle_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_HTTP_EASY_HANDLE_POOL_H_
