// The inbound HTTP endpoint Bitrix24 posts events to (--events-listen):
// POST /events/PORTAL, decided by InboundEvents, and the application's
// install and uninstall events at POST /app (AppInstall). It faces the internet, so
// it runs on a fixed pool of kWorkers threads (connections beyond them wait
// in the accept queue, never get a thread of their own), reads at most
// InboundPostLimits::max_bytes of body however it is sent (more is refused
// with 413), and gives a slow client kIoTimeout per read or write. Each
// post's body is read in the handler, so that every refusal of a post,
// one whose body never arrived whole included, is decided and counted in
// one place.
//
// Thread-safety: Start and Stop from one thread; requests run on the pool.
#ifndef B24GATE_SERVICE_INBOUND_ENDPOINT_H_
#define B24GATE_SERVICE_INBOUND_ENDPOINT_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "service/app_install.h"
#include "service/inbound_events.h"

namespace httplib {
class Server;
}

namespace b24gate {

class InboundEndpoint {
 public:
  static constexpr int kWorkers = 4;
  static constexpr int kIoTimeoutSeconds = 5;

  explicit InboundEndpoint(const InboundPostLimits& limits);
  ~InboundEndpoint();  // Stop()

  // Binds `listen` (HOST:PORT, validated); returns the bound port.
  // INVALID_ARGUMENT naming events-listen when it cannot bind.
  absl::StatusOr<int> Bind(const std::string& listen);
  // Serves with `events`, and `install` (null: /app is not served) for
  // POST /app, on a thread of its own. Both must outlive the endpoint.
  // REQUIRES: Bind() succeeded; called once.
  void Serve(InboundEvents* events, AppInstall* install);
  // Stops accepting and waits for the requests being served.
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_INBOUND_ENDPOINT_H_
