// Passes each PortalObserver event to several observers (metrics, logs).
//
// Thread-safety: as thread-safe as the observers it holds; the list is fixed
// at construction.
#ifndef B24GATE_SERVICE_OBSERVER_FANOUT_H_
#define B24GATE_SERVICE_OBSERVER_FANOUT_H_

#include <string>
#include <vector>

#include "engine/portal/portal_observer.h"

namespace b24gate {

class ObserverFanout : public PortalObserver {
 public:
  // Null entries are skipped; the others must outlive the fan-out.
  explicit ObserverFanout(std::vector<PortalObserver*> observers) {
    for (PortalObserver* o : observers) {
      if (o != nullptr) observers_.push_back(o);
    }
  }

  void OnRequestSent(const std::string& portal, int commands) override {
    for (auto* o : observers_) o->OnRequestSent(portal, commands);
  }
  void OnCommandSent(const std::string& portal, const std::string& method) override {
    for (auto* o : observers_) o->OnCommandSent(portal, method);
  }
  void OnRequestDone(const std::string& portal, HttpOutcome outcome,
                     absl::Duration latency) override {
    for (auto* o : observers_) o->OnRequestDone(portal, outcome, latency);
  }
  void OnBitrixError(const std::string& portal, const std::string& method, const std::string& code,
                     const std::string& description) override {
    for (auto* o : observers_) o->OnBitrixError(portal, method, code, description);
  }
  void OnRetry(const std::string& portal, const std::string& method, RetryReason reason,
               absl::Duration delay) override {
    for (auto* o : observers_) o->OnRetry(portal, method, reason, delay);
  }
  void OnOutcomeUnknown(const std::string& portal, const std::string& method,
                        const std::string& cause) override {
    for (auto* o : observers_) o->OnOutcomeUnknown(portal, method, cause);
  }
  void OnTransportFailure(const std::string& portal, const std::string& message) override {
    for (auto* o : observers_) o->OnTransportFailure(portal, message);
  }
  void OnTokenRefresh(const std::string& portal, bool ok) override {
    for (auto* o : observers_) o->OnTokenRefresh(portal, ok);
  }
  void OnRedirect(const std::string& portal) override {
    for (auto* o : observers_) o->OnRedirect(portal);
  }
  void OnRedirectRefused(const std::string& portal, const std::string& to,
                         const std::string& why) override {
    for (auto* o : observers_) o->OnRedirectRefused(portal, to, why);
  }
  void OnAutothrottle(const std::string& portal, double rate_factor, int concurrency) override {
    for (auto* o : observers_) o->OnAutothrottle(portal, rate_factor, concurrency);
  }
  void OnRestV3Sent(const std::string& portal, const std::string& method) override {
    for (auto* o : observers_) o->OnRestV3Sent(portal, method);
  }
  void OnIdempotentReplay(const std::string& portal, const std::string& method) override {
    for (auto* o : observers_) o->OnIdempotentReplay(portal, method);
  }

 private:
  std::vector<PortalObserver*> observers_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_OBSERVER_FANOUT_H_
