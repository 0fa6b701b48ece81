#include "service/inbound_events.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

QueuedEvent ToQueued(InboundPost post) {
  QueuedEvent e;
  e.event = std::move(post.event);
  e.timestamp = std::move(post.ts);
  e.record_id = RecordIdOf(post.data);
  e.data = std::move(post.data);
  return e;
}

}  // namespace

bool InboundEvents::SameSecret(absl::string_view a, absl::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

// A registered portal's token is the one its install gave (the registry's
// record, kept current by a reinstall); a configured portal's is in the
// configuration.
std::string InboundEvents::ExpectedToken(const Portal& portal) const {
  absl::StatusOr<PortalRecord> record = gateway_->directory().Get(portal.name());
  if (record.ok() && !record->application_token.empty()) return record->application_token;
  return portal.options().application_token;
}

InboundEvents::Reply InboundEvents::Handle(const std::string& portal_name, absl::string_view body) {
  // The path names the portal ("" would be the default one).
  if (portal_name.empty()) return Refuse(404, "unknown_portal", "", "no such portal");
  auto portal = gateway_->FindPortal(portal_name);
  if (!portal.ok()) return Refuse(404, "unknown_portal", "", "no such portal");
  const std::string& name = (*portal)->name();
  absl::StatusOr<InboundPost> post = ParseInboundPost(body, limits_);
  if (!post.ok()) return Refuse(400, "malformed", name, post.status().message());
  if (!SameSecret(post->application_token, ExpectedToken(**portal)) ||
      post->application_token.empty()) {
    return Refuse(403, "bad_token", name, "auth[application_token] is not the portal's");
  }
  ledger_->Received(name);
  logger_->Log(LogLevel::kDebug, "event received", {{"portal", name}, {"event", post->event}});
  if (post->event == "ONOFFLINEEVENT") {
    events_->PollNow(name);
    return Reply{200, "OK"};
  }
  // 200 only once the event is stored: then no restart loses it.
  if (absl::Status s = hub_->Store(name, ToQueued(*std::move(post))); !s.ok()) {
    logger_->Log(LogLevel::kError, "event not stored", {{"portal", name}, {"error", s.ToString()}});
    return Reply{503, "not stored"};
  }
  return Reply{200, "OK"};
}

InboundEvents::Reply InboundEvents::Refuse(int http_status, const std::string& reason,
                                           const std::string& portal, absl::string_view why) {
  ledger_->Refused(reason);
  logger_->Log(LogLevel::kDebug, "event post refused",
               {{"reason", reason}, {"portal", portal}, {"why", std::string(why)}});
  return Reply{http_status, absl::StrCat("refused: ", why)};
}

}  // namespace b24gate
