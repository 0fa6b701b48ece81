// What lazily generated values may depend on besides their own row id: the
// seeded id lists of the entities they point at (a deal's COMPANY_ID must be a
// real company). Frozen after seeding, so a generated value never changes when
// rows are later added or deleted.
#ifndef B24EMU_DATA_SEED_CONTEXT_H_
#define B24EMU_DATA_SEED_CONTEXT_H_

#include <cstdint>
#include <vector>

namespace b24emu::data {

struct SeedContext {
  std::vector<int64_t> user_ids;
  std::vector<int64_t> company_ids;
  std::vector<int64_t> contact_ids;
  std::vector<int64_t> lead_ids;
  std::vector<int64_t> deal_ids;
  // Largest seeded id per table, for spreading creation dates over the table.
  int64_t max_lead_id = 1, max_deal_id = 1, max_contact_id = 1, max_company_id = 1;
  int64_t max_item_id = 1, max_task_id = 1, max_user_id = 1;
  int64_t max_activity_id = 1, max_timeline_id = 1, max_task_comment_id = 1;
};

}  // namespace b24emu::data

#endif  // B24EMU_DATA_SEED_CONTEXT_H_
