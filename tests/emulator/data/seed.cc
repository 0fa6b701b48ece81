#include "data/seed.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "data/gen_util.h"
#include "data/status_catalog.h"

namespace b24emu {

std::unique_ptr<MethodTable> MakeSeededPortal(const std::string& seed_spec, std::string* error) {
  absl::StatusOr<data::SeedSpec> spec = data::ParseSeedSpec(seed_spec);
  if (!spec.ok()) {
    if (error != nullptr) *error = std::string(spec.status().message());
    return nullptr;
  }
  return data::MakePortal(data::SeedPortal(*spec));
}

namespace data {
namespace {

// Appends `n` seeded rows whose ids start at 1 and grow by 1–3 (salted per
// table), returning the ids.
std::vector<int64_t> SeedIds(Table& table, int64_t n, uint64_t salt) {
  std::vector<int64_t> ids;
  ids.reserve(n);
  table.Reserve(n);
  int64_t id = 1;
  for (int64_t k = 0; k < n; ++k) {
    table.AppendSeeded(id);
    ids.push_back(id);
    id += 1 + static_cast<int64_t>(gen::Pick(k, salt, 3));
  }
  return ids;
}

int64_t MaxId(const std::vector<int64_t>& ids) { return ids.empty() ? 1 : ids.back(); }

// Seeds `per_parent(parent)` child rows per parent id, binding each with
// explicit cells (`bind`), ids sparse and increasing.
template <typename PerParent, typename Bind>
int64_t SeedChildren(Table& table, const std::vector<int64_t>& parents, uint64_t salt, PerParent per_parent,
                     Bind bind, int64_t first_id) {
  int64_t id = first_id;
  int64_t k = 0;
  for (int64_t parent : parents) {
    int n = per_parent(parent);
    for (int i = 0; i < n; ++i) {
      Row& row = table.AppendSeeded(id);
      bind(row, parent);
      id += 1 + static_cast<int64_t>(gen::Pick(k++, salt, 3));
    }
  }
  return table.size() == 0 ? 1 : table.rows().back().id;
}

}  // namespace

absl::StatusOr<SeedSpec> ParseSeedSpec(const std::string& spec) {
  SeedSpec out;
  absl::flat_hash_set<std::string> seen;
  for (absl::string_view part : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    std::string key(absl::StripAsciiWhitespace(kv.first));
    int64_t count;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(kv.second), &count) || count < 0) {
      return absl::InvalidArgumentError(absl::StrCat("--seed: bad count in '", part, "'"));
    }
    if (!seen.insert(key).second) return absl::InvalidArgumentError(absl::StrCat("--seed: repeated entity '", key, "'"));
    if (key == "crm.lead") {
      out.leads = count;
    } else if (key == "crm.deal") {
      out.deals = count;
    } else if (key == "crm.contact") {
      out.contacts = count;
    } else if (key == "crm.company") {
      out.companies = count;
    } else if (key == "tasks.task") {
      out.tasks = count;
    } else if (key == "user") {
      out.users = std::max<int64_t>(1, count);
    } else if (key == "crm.item") {
      out.items = count;
    } else if (key == "main.eventlog") {
      out.eventlog = count;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--seed: unknown entity '", key,
          "' (known: crm.lead, crm.deal, crm.contact, crm.company, tasks.task, user, crm.item, "
          "main.eventlog)"));
    }
  }
  return out;
}

std::unique_ptr<PortalData> SeedPortal(const SeedSpec& spec) {
  auto d = std::make_unique<PortalData>();
  d->eventlog_entries = spec.eventlog;
  SeedContext& c = d->ctx;
  c.user_ids = SeedIds(d->user, spec.users, 11);
  c.company_ids = SeedIds(d->company, spec.companies, 12);
  c.contact_ids = SeedIds(d->contact, spec.contacts, 13);
  c.lead_ids = SeedIds(d->lead, spec.leads, 14);
  c.deal_ids = SeedIds(d->deal, spec.deals, 15);
  std::vector<int64_t> items = SeedIds(d->item, spec.items, 16);
  std::vector<int64_t> tasks = SeedIds(d->task, spec.tasks, 17);
  c.max_user_id = MaxId(c.user_ids);
  c.max_company_id = MaxId(c.company_ids);
  c.max_contact_id = MaxId(c.contact_ids);
  c.max_lead_id = MaxId(c.lead_ids);
  c.max_deal_id = MaxId(c.deal_ids);
  c.max_item_id = MaxId(items);
  c.max_task_id = MaxId(tasks);

  for (size_t i = 0; i < AllStatuses().size(); ++i) d->status.AppendSeeded(static_cast<int64_t>(i) + 1);

  // A few timeline comments per deal (0–3).
  const int tl_entity = d->timeline_comment.def().Find("ENTITY_ID");
  const int tl_type = d->timeline_comment.def().Find("ENTITY_TYPE");
  c.max_timeline_id = SeedChildren(
      d->timeline_comment, c.deal_ids, 18, [](int64_t p) { return static_cast<int>(gen::Pick(p, 601, 4)); },
      [&](Row& row, int64_t parent) {
        d->timeline_comment.Set(row, tl_entity, std::to_string(parent));
        d->timeline_comment.Set(row, tl_type, std::string("deal"));
      },
      1);

  // Activities: 0–2 per deal (owner type 2), then per contact (3).
  const int act_owner = d->activity.def().Find("OWNER_ID");
  const int act_type = d->activity.def().Find("OWNER_TYPE_ID");
  auto bind_activity = [&](const char* type) {
    return [&, type](Row& row, int64_t parent) {
      d->activity.Set(row, act_owner, std::to_string(parent));
      d->activity.Set(row, act_type, std::string(type));
    };
  };
  auto per_owner = [](int64_t p) { return static_cast<int>(gen::Pick(p, 602, 3)); };
  int64_t last = SeedChildren(d->activity, c.deal_ids, 19, per_owner, bind_activity("2"), 1);
  c.max_activity_id =
      SeedChildren(d->activity, c.contact_ids, 20, per_owner, bind_activity("3"), d->activity.size() ? last + 2 : 1);

  // Task comments: 0–2 per task.
  const int tc_task = d->task_comment.def().Find("TASK_ID");
  c.max_task_comment_id = SeedChildren(
      d->task_comment, tasks, 21, [](int64_t p) { return static_cast<int>(gen::Pick(p, 603, 3)); },
      [&](Row& row, int64_t parent) { d->task_comment.Set(row, tc_task, std::to_string(parent)); }, 1);

  // New multi-field items are numbered above every seeded one.
  int64_t max_row = std::max({c.max_lead_id, c.max_contact_id, c.max_company_id, c.max_deal_id});
  d->next_multi_id = gen::MultiId(max_row + 1, 0, 0);
  return d;
}

}  // namespace data
}  // namespace b24emu
