#include "engine/lists/v3_list_strategy.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/lists/keyset_pages.h"

namespace b24gate {
namespace {

constexpr char kId[] = "id";

// A condition group the portal reads as one (it looks for these keys before
// reading a condition by position).
bool IsConditionGroup(const Json& filter) {
  if (!filter.is_object()) return false;
  for (const char* key : {"logic", "conditions", "type", "negative"}) {
    if (filter.contains(key)) return true;
  }
  return false;
}

// The field a tail cursor moves on (the portal's default: id).
std::string CursorField(const Json& cursor) {
  auto it = cursor.find("field");
  return it != cursor.end() && it->is_string() ? it->get<std::string>() : kId;
}

absl::Status CheckCursor(const Json& cursor) {
  if (!cursor.is_object()) {
    return absl::InvalidArgumentError(
        "params.cursor: must be an object {\"field\"?, \"order\"?, \"value\"?, \"limit\"?}");
  }
  if (cursor.contains("field") &&
      (!cursor["field"].is_string() || cursor["field"].get_ref<const std::string&>().empty())) {
    return absl::InvalidArgumentError("params.cursor.field: must be a field name");
  }
  if (cursor.contains("order") && !cursor["order"].is_string()) {
    return absl::InvalidArgumentError("params.cursor.order: must be \"ASC\" or \"DESC\"");
  }
  int64_t limit = 0;
  if (cursor.contains("limit") && (!ToInt64(cursor["limit"], &limit) || limit < 1)) {
    return absl::InvalidArgumentError("params.cursor.limit: must be a positive integer");
  }
  return absl::OkStatus();
}

// `list` with `name` in it (a select the reader needs a field of).
Json WithField(Json list, const std::string& name) {
  if (std::find(list.begin(), list.end(), Json(name)) == list.end()) list.push_back(name);
  return list;
}

}  // namespace

Json V3KeysetPageParams(Json params, int64_t after, std::optional<int64_t> upto) {
  Json filter = Json::array();
  if (auto it = params.find("filter"); it != params.end() && !it->is_null()) {
    filter = it->is_array() ? *it : Json::array({*it});
  }
  filter.push_back(Json::array({kId, ">", after}));
  if (upto) filter.push_back(Json::array({kId, "<=", *upto}));
  params["filter"] = std::move(filter);
  params["order"] = {{kId, "ASC"}};
  params["pagination"] = {{"limit", kV3PageLimit}};
  // Looked up last: adding keys moves an ordered_json's members.
  if (auto select = params.find("select"); select != params.end()) {
    *select = WithField(*select, kId);
  }
  return params;
}

absl::Status ValidateV3ListParams(const Json& params) {
  if (!params.is_object()) {
    return absl::InvalidArgumentError("params: must be an object for a list method");
  }
  if (params.contains("pagination")) {
    return absl::InvalidArgumentError(
        "params.pagination: GetAll pages by itself; remove `pagination` (use Call for one page)");
  }
  auto filter = params.find("filter");
  if (filter != params.end() && !filter->is_null() && !filter->is_array() &&
      !IsConditionGroup(*filter)) {
    return absl::InvalidArgumentError(
        "params.filter: REST 3.0 filters are a list of conditions, e.g. [[\"id\", \">\", 100]], "
        "or a {\"logic\", \"conditions\"} group");
  }
  auto select = params.find("select");
  if (select != params.end() && !select->is_array()) {
    return absl::InvalidArgumentError("params.select: must be a list of field names");
  }
  auto order = params.find("order");
  if (order != params.end() && !order->is_null() && !order->is_object()) {
    return absl::InvalidArgumentError("params.order: must be an object {\"field\": \"ASC\"|\"DESC\"}");
  }
  if (params.contains("cursor")) return CheckCursor(params["cursor"]);
  return absl::OkStatus();
}

absl::StatusOr<ListStrategyKind> ChooseV3Strategy(ListStrategyKind requested, const Json& params) {
  if (params.contains("cursor")) {
    if (requested != ListStrategyKind::kDefault) {
      return absl::InvalidArgumentError(
          "strategy: a read with params.cursor follows that cursor (a tail read); leave strategy "
          "unspecified");
    }
    return ListStrategyKind::kV3Tail;
  }
  const bool by_id = OrderAllowsKeyset(params, kId);
  if (requested == ListStrategyKind::kOffset || (requested == ListStrategyKind::kDefault && !by_id)) {
    return ListStrategyKind::kV3Offset;
  }
  if (!by_id) {
    return absl::InvalidArgumentError(
        "params.order: keyset reading delivers in id order; remove `order` or use the offset "
        "strategy");
  }
  return requested == ListStrategyKind::kKeysetChain ? ListStrategyKind::kV3Keyset
                                                     : ListStrategyKind::kV3ParallelKeyset;
}

absl::StatusOr<std::unique_ptr<V3ListStrategy>> V3ListStrategy::Create(ListStrategyKind kind,
                                                                       ListContext* context,
                                                                       const Json& resume) {
  Json position;
  if (!resume.is_null()) {
    const char* key = kind == ListStrategyKind::kV3Keyset ? "after"
                      : kind == ListStrategyKind::kV3Tail ? "value"
                                                          : "offset";
    int64_t n = 0;
    const bool ok = resume.is_object() && resume.contains(key) &&
                    (kind == ListStrategyKind::kV3Tail ? resume[key].is_primitive()
                                                       : ToInt64(resume[key], &n) && n >= 0);
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("resume_cursor: not a cursor of a ", ListStrategyName(kind), " read"));
    }
    position = resume[key];
  }
  return std::unique_ptr<V3ListStrategy>(new V3ListStrategy(kind, context, std::move(position)));
}

V3ListStrategy::V3ListStrategy(ListStrategyKind kind, ListContext* context, Json position)
    : kind_(kind), context_(context), position_(std::move(position)) {}

Json V3ListStrategy::PageParams() const {
  Json p = context_->request().params;
  std::string position_field = kId;  // the field the reader needs in `select`
  if (kind_ == ListStrategyKind::kV3Tail) {
    Json& cursor = p["cursor"];
    if (!position_.is_null()) cursor["value"] = position_;
    if (!cursor.contains("limit")) cursor["limit"] = kV3PageLimit;
    position_field = CursorField(cursor);
  } else if (kind_ == ListStrategyKind::kV3Offset) {
    p["pagination"] = {{"limit", kV3PageLimit}, {"offset", position_.is_null() ? Json(0) : position_}};
    return p;
  } else {
    int64_t after = 0;
    if (!position_.is_null()) ToInt64(position_, &after);
    return V3KeysetPageParams(p, after, std::nullopt);
  }
  // Looked up last: adding keys moves an ordered_json's members.
  if (auto select = p.find("select"); select != p.end()) {
    *select = WithField(*select, position_field);
  }
  return p;
}

void V3ListStrategy::Pump() {
  if (done_ || in_flight_ || !context_->ConsumerHasRoom()) return;
  in_flight_ = true;
  context_->portal()->Call(context_->request().method, PageParams(), /*as_json=*/true,
                           context_->Options(),
                           context_->Guard([this](absl::StatusOr<CallReply> reply) {
                             OnPage(std::move(reply));
                           }));
}

void V3ListStrategy::OnPage(absl::StatusOr<CallReply> reply) {
  in_flight_ = false;
  if (!reply.ok()) {
    context_->Fail(reply.status());
    return;
  }
  std::vector<Json> items;
  if (!context_->extractor()->Extract(reply->result, &items)) {
    context_->Fail(absl::InvalidArgumentError(absl::StrCat(
        context_->request().method, " did not return a list under result.",
        context_->extractor()->items_key())));
    return;
  }
  const int64_t size = static_cast<int64_t>(items.size());
  longest_page_ = std::max(longest_page_, size);
  if (size > 0 && kind_ != ListStrategyKind::kV3Offset) {
    const Json next = PositionAfter(items.back(), position_, size - 1);
    if (next.is_null() || next == position_) {
      // Without this the same page would be asked for forever.
      context_->Fail(absl::FailedPreconditionError(absl::StrCat(
          context_->request().method, " returned a page that does not move the ",
          kind_ == ListStrategyKind::kV3Tail ? "cursor" : "id", " forward (its last item's ",
          kind_ == ListStrategyKind::kV3Tail ? "cursor field" : "id", " is ", next.dump(), ")")));
      return;
    }
  }
  DeliverItems(std::move(items));
  if (size == 0 || size < longest_page_) done_ = true;
}

Json V3ListStrategy::PositionAfter(const Json& item, const Json& page_start,
                                   int64_t index_in_page) const {
  switch (kind_) {
    case ListStrategyKind::kV3Keyset: {
      std::optional<int64_t> id = ItemId(item, kId);
      return id ? Json(*id) : Json();
    }
    case ListStrategyKind::kV3Tail: {
      const std::string field = CursorField(context_->request().params["cursor"]);
      auto it = item.is_object() ? item.find(field) : item.end();
      return it != item.end() && it->is_primitive() && !it->is_null() ? *it : Json();
    }
    default: {
      int64_t offset = 0;
      if (!page_start.is_null()) ToInt64(page_start, &offset);
      return offset + index_in_page + 1;
    }
  }
}

void V3ListStrategy::DeliverItems(std::vector<Json> items) {
  if (items.empty()) {
    context_->Deliver({}, ResumeState(position_));
    return;
  }
  const Json page_start = position_;
  for (size_t first = 0; first < items.size(); first += kPageSize) {
    const size_t end = std::min(items.size(), first + kPageSize);
    // An item without its position keeps the previous one (OnPage checked
    // that the page's last item has one).
    Json after = PositionAfter(items[end - 1], page_start, static_cast<int64_t>(end) - 1);
    if (!after.is_null()) position_ = std::move(after);
    std::vector<Json> page(std::make_move_iterator(items.begin() + first),
                           std::make_move_iterator(items.begin() + end));
    context_->Deliver(std::move(page), ResumeState(position_));
  }
}

Json V3ListStrategy::ResumeState(const Json& position) const {
  if (position.is_null()) return Json();
  switch (kind_) {
    case ListStrategyKind::kV3Keyset: return {{"after", position}};
    case ListStrategyKind::kV3Tail: return {{"value", position}};
    default: return {{"offset", position}};
  }
}

}  // namespace b24gate
