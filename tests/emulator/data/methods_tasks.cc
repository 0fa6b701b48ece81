// tasks.task.{add,get,list} (camelCase keys, string values, wrapped in
// {"task": ...} / {"tasks": [...]}; filter, order and select take UPPER
// names) and the legacy positional task.commentitem.{add,getlist}.
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "data/field_write.h"
#include "data/methods_common.h"
#include "data/portal.h"
#include "data/values.h"

namespace b24emu::data {
namespace {

using json = nlohmann::json;

MethodResult TaskNotFound() { return Error(400, "ERROR_CORE", "Task not found or not accessible"); }

std::vector<int> AllTaskFields() { return AllFields(TaskDef()); }

// Legacy task methods take positional arguments (a JSON list, or "0", "1"
// keys) or their documented names; anything else makes the PHP argument
// parser fail, which is why clients injecting parameters break them.
std::optional<MethodResult> CheckPositional(const json& params, std::initializer_list<const char*> names) {
  if (params.is_array() || params.is_null()) return std::nullopt;
  if (!params.is_object()) return Error(400, "ERROR_CORE", "Wrong arguments");
  for (auto it = params.begin(); it != params.end(); ++it) {
    const std::string& key = it.key();
    bool ok = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos &&
              static_cast<size_t>(std::stoul(key)) < names.size();
    for (const char* n : names) ok = ok || absl::EqualsIgnoreCase(key, n);
    if (!ok) {
      return Error(400, "ERROR_CORE",
                   absl::StrCat("TASKS_ERROR_EXCEPTION_#256; Unknown parameter '", key,
                                "'; 256/TE/WRONG_ARGUMENTS"));
    }
  }
  return std::nullopt;
}

// Positional argument `i`, or its named form.
const json* Arg(const json& params, size_t i, const char* name) {
  const json* v = Positional(params, i);
  if (v == nullptr) v = Param(params, name);
  return v;
}

json RenderComment(const PortalData& d, const Row& row) {
  const Table& t = d.task_comment;
  json c = json::object();
  auto text = [&](const char* name) -> json {
    Cell cell = t.Get(row, t.def().Find(name));
    const std::string* s = AsText(cell);
    return s == nullptr ? json(nullptr) : json(*s);
  };
  c["POST_MESSAGE_HTML"] = nullptr;
  c["ID"] = std::to_string(row.id);
  c["AUTHOR_ID"] = text("AUTHOR_ID");
  std::string name;
  std::optional<int64_t> author = JsonToInt(c["AUTHOR_ID"]);
  if (const Row* u = author ? d.user.Find(*author) : nullptr) {
    auto field = [&](const char* n) {
      Cell cell = d.user.Get(*u, d.user.def().Find(n));
      const std::string* s = AsText(cell);
      return s == nullptr ? std::string() : *s;
    };
    name = absl::StrCat(field("NAME"), " ", field("LAST_NAME"));
    c["AUTHOR_NAME"] = name;
    c["AUTHOR_EMAIL"] = field("EMAIL");
  } else {
    c["AUTHOR_NAME"] = "";
    c["AUTHOR_EMAIL"] = "";
  }
  c["POST_DATE"] = text("POST_DATE");
  c["POST_MESSAGE"] = text("POST_MESSAGE");
  return c;
}

}  // namespace

void RegisterTaskMethods(MethodRegistry* r) {
  r->AddWrite("tasks.task.add", [](PortalData& d, const MethodCall& call) {
    const json* fields = Param(call.params, "fields");
    if (fields == nullptr || !fields->is_object()) return Error(400, "ERROR_CORE", "Parameter 'fields' must be array");
    const json* title = Param(*fields, "TITLE");
    std::optional<std::string> title_text = title != nullptr ? ScalarText(*title) : std::nullopt;
    if (!title_text || title_text->empty()) return Error(400, "ERROR_CORE", "TITLE: The task title is not specified.");
    Table& t = d.task;
    Row& row = t.Insert();
    const int64_t id = row.id;
    const std::string user = std::to_string(call.user_id);
    const std::string stamp = FormatDateTime(d.now());
    auto set = [&](const char* name, std::string v) { t.Set(row, t.def().Find(name), std::move(v)); };
    set("CREATED_BY", user);
    set("RESPONSIBLE_ID", user);
    set("CHANGED_BY", user);
    set("CREATED_DATE", stamp);
    set("CHANGED_DATE", stamp);
    set("STATUS", "2");
    set("PRIORITY", "1");
    for (const char* n : {"MULTITASK", "NOT_VIEWED", "REPLICATE", "TASK_CONTROL"}) set(n, "N");
    set("ALLOW_CHANGE_DEADLINE", "Y");
    set("GROUP_ID", "0");
    set("STAGE_ID", "0");
    set("TIME_ESTIMATE", "0");
    ApplyFields(t, row, *fields, &d.next_multi_id);
    MethodResult res = Ok({{"task", RenderRow(t, *t.Find(id), AllTaskFields(), Style::kTask)}});
    res.created_entity = "tasks.task";
    return res;
  });

  r->AddRead("tasks.task.get", [](const PortalData& d, const MethodCall& call) {
    std::optional<int64_t> id = IntParam(call.params, "taskId");
    if (!id) id = IntParam(call.params, "id");
    if (!id || *id <= 0) return Error(400, "ERROR_CORE", "Parameter 'taskId' is not defined or invalid");
    const Row* row = d.task.Find(*id);
    if (row == nullptr) return TaskNotFound();
    const json* select = Param(call.params, "select");
    std::vector<int> fields =
        select != nullptr ? ParseSelect(*select, TaskDef(), SelectDefault::kAll) : AllTaskFields();
    return Ok({{"task", RenderRow(d.task, *row, fields, Style::kTask)}});
  });

  r->AddRead("tasks.task.list", [](const PortalData& d, const MethodCall& call) {
    ListCall lc = ReadListParams(call.params);
    lc.style = Style::kTask;
    lc.select_default = SelectDefault::kAll;
    MethodResult res = RunListMethod(d.task, lc);
    res.result = {{"tasks", std::move(res.result)}};
    return res;
  });

  r->AddWrite("task.commentitem.add", [](PortalData& d, const MethodCall& call) {
    if (auto err = CheckPositional(call.params, {"TASKID", "FIELDS"})) return *err;
    const json* task_arg = Arg(call.params, 0, "TASKID");
    std::optional<int64_t> task_id = task_arg != nullptr ? JsonToInt(*task_arg) : std::nullopt;
    if (!task_id || *task_id <= 0) return Error(400, "ERROR_CORE", "TASKS_ERROR_EXCEPTION_#256; Param #0 (taskId) expected to be of type \"integer\"; 256/TE/WRONG_ARGUMENTS");
    const json* fields = Arg(call.params, 1, "FIELDS");
    if (fields == nullptr || !fields->is_object()) {
      return Error(400, "ERROR_CORE", "TASKS_ERROR_EXCEPTION_#256; Param #1 (arFields) expected to be of type \"array\"; 256/TE/WRONG_ARGUMENTS");
    }
    const json* msg = Param(*fields, "POST_MESSAGE");
    std::optional<std::string> text = msg != nullptr ? ScalarText(*msg) : std::nullopt;
    if (!text || text->empty()) return Error(400, "ERROR_CORE", "POST_MESSAGE: The message text is empty.");
    if (d.task.Find(*task_id) == nullptr) return TaskNotFound();
    Table& t = d.task_comment;
    Row& row = t.Insert();
    t.Set(row, t.def().Find("TASK_ID"), std::to_string(*task_id));
    std::optional<int64_t> author = IntParam(*fields, "AUTHOR_ID");
    t.Set(row, t.def().Find("AUTHOR_ID"), std::to_string(author.value_or(call.user_id)));
    t.Set(row, t.def().Find("POST_DATE"), FormatDateTime(d.now()));
    t.Set(row, t.def().Find("POST_MESSAGE"), *text);
    MethodResult res = Ok(row.id);
    res.created_entity = "task.commentitem";
    return res;
  });

  r->AddRead("task.commentitem.getlist", [](const PortalData& d, const MethodCall& call) {
    if (auto err = CheckPositional(call.params, {"TASKID", "ORDER", "FILTER"})) return *err;
    const json* task_arg = Arg(call.params, 0, "TASKID");
    std::optional<int64_t> task_id = task_arg != nullptr ? JsonToInt(*task_arg) : std::nullopt;
    if (!task_id || *task_id <= 0) return Error(400, "ERROR_CORE", "TASKS_ERROR_EXCEPTION_#256; Param #0 (taskId) expected to be of type \"integer\"; 256/TE/WRONG_ARGUMENTS");
    if (d.task.Find(*task_id) == nullptr) return TaskNotFound();
    const json* order_arg = Arg(call.params, 1, "ORDER");
    const json* filter_arg = Arg(call.params, 2, "FILTER");
    ParsedFilter filter = ParseFilter(filter_arg != nullptr ? *filter_arg : json(), d.task_comment.def());
    filter.conditions.push_back(ParseFilter({{"TASK_ID", *task_id}}, d.task_comment.def()).conditions[0]);
    std::vector<OrderKey> order = ParseOrder(order_arg != nullptr ? *order_arg : json(), d.task_comment.def());
    // Every comment of the task: this legacy method does not page.
    json out = json::array();
    for (const Row* row : AllMatches(d.task_comment, filter.conditions, order)) {
      out.push_back(RenderComment(d, *row));
    }
    MethodResult res = Ok(std::move(out));
    res.work.rows_returned = static_cast<int64_t>(res.result.size());
    return res;
  });
}

}  // namespace b24emu::data
