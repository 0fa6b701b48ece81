// Seeding: the `--seed` spec ("crm.lead=1000000,crm.deal=500,...") and the
// deterministic portal it describes. Only ids are materialised (with gaps of
// 1–3, as after deletions); field values are generated on demand from them.
#ifndef B24EMU_DATA_SEED_H_
#define B24EMU_DATA_SEED_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "data/portal.h"

namespace b24emu::data {

struct SeedSpec {
  int64_t leads = 0;
  int64_t deals = 0;
  int64_t contacts = 0;
  int64_t companies = 0;
  int64_t tasks = 0;
  int64_t users = 1;  // at least the portal's administrator, id 1
  int64_t items = 0;  // smart process (entityTypeId 128), key "crm.item"
  int64_t eventlog = 0;  // REST 3.0 event log entries, key "main.eventlog"
};

// Keys: crm.lead, crm.deal, crm.contact, crm.company, tasks.task, user,
// crm.item, main.eventlog. Unknown keys, repeated keys, negative or non-numeric counts are
// InvalidArgument. An empty spec seeds only user 1.
absl::StatusOr<SeedSpec> ParseSeedSpec(const std::string& spec);

// Builds the portal data for `spec`; the same spec always gives the same data.
std::unique_ptr<PortalData> SeedPortal(const SeedSpec& spec);

}  // namespace b24emu::data

#endif  // B24EMU_DATA_SEED_H_
