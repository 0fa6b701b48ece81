// One portal as the portal registry keeps it: who it is (name, member_id,
// domain), how to reach it (an incoming webhook, or OAuth tokens of the
// application), and what was chosen for it (plan, tuning). The record is
// what survives a restart; the running portal (engine/portal/portal.h) is
// built from it on first use.
//
// Secrets (webhook_url, refresh_token, client_secret, application_token)
// are never logged; Summary() is what may be.
//
// Thread-safety: a plain value.
#ifndef B24GATE_ENGINE_REGISTRY_PORTAL_RECORD_H_
#define B24GATE_ENGINE_REGISTRY_PORTAL_RECORD_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "engine/common/event_bindings_spec.h"

namespace b24gate {

struct PortalRecord {
  // The name requests use in their `portal` field (ValidatePortalName).
  std::string name;
  // Bitrix24's id of the portal (the install callback's member_id); may be
  // empty. Unique among the portals, like the domain.
  std::string member_id;
  // The portal's host, e.g. "example.bitrix24.com"; empty = the host of the
  // webhook or portal URL.
  std::string domain;
  // An incoming webhook (https://PORTAL/rest/USER_ID/CODE/), or empty for
  // OAuth. A secret.
  std::string webhook_url;
  // OAuth: the REST endpoint (https://PORTAL/rest/, the client_endpoint)
  // and the current refresh token (a secret; rotated on every refresh and
  // written back here before the new access token is used).
  std::string portal_url;
  std::string refresh_token;
  // OAuth application of this portal; empty = the gateway's application.
  std::string client_id;
  std::string client_secret;  // a secret
  // What Bitrix24 sends with every event of this portal (the install's
  // application_token), for the inbound endpoint to check. A secret.
  std::string application_token;
  // Rate-limit preset ("standard", "enterprise"); empty = the default.
  std::string plan;
  // Tunables set for this portal by name (engine/portal/tuning_fields.h),
  // applied over the plan.
  std::map<std::string, double> tuning;
  // The event bindings the gateway keeps on the portal (as a configured
  // portal's "event_bindings"); nothing listed = none managed.
  EventBindingsSpec event_bindings;

  bool oauth() const { return webhook_url.empty(); }
  // The domain, or the host of the webhook or portal URL.
  std::string Domain() const;
  // Name, member_id, domain and kind: no secret.
  std::string Summary() const;
};

// The stored form (a JSON object) and back. Decoding fails with
// DATA_LOSS naming what is wrong, never quoting a value.
std::string EncodeRecord(const PortalRecord& record);
absl::StatusOr<PortalRecord> DecodeRecord(const std::string& text);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_REGISTRY_PORTAL_RECORD_H_
