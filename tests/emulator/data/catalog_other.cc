// Field catalogs of tasks, task comments, users, CRM statuses, timeline
// comments and activities. Child rows (comments, activities) store their
// parent binding explicitly at seeding; everything else is generated.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "data/catalog.h"
#include "data/catalog_util.h"
#include "data/status_catalog.h"

namespace b24emu::data {
namespace {

using catalog::F;
using catalog::IdField;
using catalog::Null;
using catalog::ReadOnly;
using catalog::Required;
using catalog::Text;
using FT = FieldType;

constexpr const char* kTaskTitles[] = {"Prepare the quote", "Call the client back",
                                       "Send the contract draft", "Update the price list",
                                       "Check the delivery", "Plan the demo",
                                       "Review the invoice", "Collect the requirements"};
constexpr const char* kPositions[] = {"Sales manager", "Account manager", "Support engineer",
                                      "Head of sales", "Marketing specialist", "Accountant"};

Cell SeededUserId(const Row& r, const SeedContext& c, uint64_t salt) {
  return gen::IdCell(gen::PickId(r.id, salt, c.user_ids));
}

EntityDef* MakeTask() {
  std::vector<FieldDef> f;
  f.push_back(IdField());
  f.push_back(F("PARENT_ID", FT::kInteger, "Parent task"));
  f.push_back(Required(F("TITLE", FT::kString, "Name", +[](const Row& r, const SeedContext&) {
    return Text(gen::PickFrom(r.id, 1, kTaskTitles));
  })));
  f.push_back(F("DESCRIPTION", FT::kString, "Description",
                +[](const Row& r, const SeedContext&) { return Text(gen::Sentence(r.id, 2)); }));
  f.push_back(F("MARK", FT::kString, "Rating"));
  f.push_back(F("PRIORITY", FT::kInteger, "Priority", +[](const Row& r, const SeedContext&) {
    return Text(gen::Chance(r.id, 3, 20) ? "2" : "1");
  }));
  f.push_back(F("STATUS", FT::kInteger, "Status", +[](const Row& r, const SeedContext&) {
    constexpr const char* kStatus[] = {"2", "2", "3", "3", "4", "5", "5", "6"};
    return Text(gen::PickFrom(r.id, 4, kStatus));
  }));
  f.push_back(F("MULTITASK", FT::kChar, "Multiple assignees",
                +[](const Row&, const SeedContext&) { return Text("N"); }));
  f.push_back(F("NOT_VIEWED", FT::kChar, "Not viewed",
                +[](const Row&, const SeedContext&) { return Text("N"); }));
  f.push_back(F("REPLICATE", FT::kChar, "Recurring", +[](const Row&, const SeedContext&) { return Text("N"); }));
  f.push_back(F("GROUP_ID", FT::kInteger, "Project", +[](const Row&, const SeedContext&) { return Text("0"); }));
  f.push_back(F("STAGE_ID", FT::kInteger, "Stage", +[](const Row&, const SeedContext&) { return Text("0"); }));
  f.push_back(F("CREATED_BY", FT::kUser, "Created by",
                +[](const Row& r, const SeedContext& c) { return SeededUserId(r, c, 5); }));
  f.push_back(ReadOnly(F("CREATED_DATE", FT::kDateTime, "Created on", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDateTime(gen::CreatedAt(r.id, c.max_task_id)));
  })));
  f.push_back(Required(F("RESPONSIBLE_ID", FT::kUser, "Assignee",
                         +[](const Row& r, const SeedContext& c) { return SeededUserId(r, c, 6); })));
  f.push_back(ReadOnly(F("CHANGED_BY", FT::kUser, "Changed by",
                         +[](const Row& r, const SeedContext& c) { return SeededUserId(r, c, 7); })));
  f.push_back(ReadOnly(F("CHANGED_DATE", FT::kDateTime, "Changed on", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDateTime(gen::CreatedAt(r.id, c.max_task_id) + 3600 * gen::Pick(r.id, 8, 200)));
  })));
  f.push_back(ReadOnly(F("CLOSED_BY", FT::kUser, "Closed by")));
  f.push_back(ReadOnly(F("CLOSED_DATE", FT::kDateTime, "Closed on")));
  f.push_back(F("DATE_START", FT::kDateTime, "Started on"));
  f.push_back(F("DEADLINE", FT::kDateTime, "Deadline", +[](const Row& r, const SeedContext& c) {
    if (!gen::Chance(r.id, 9, 70)) return Null();
    return Text(FormatDateTime(gen::CreatedAt(r.id, c.max_task_id) + 86400 * (1 + gen::Pick(r.id, 10, 30))));
  }));
  f.push_back(F("START_DATE_PLAN", FT::kDateTime, "Planned start"));
  f.push_back(F("END_DATE_PLAN", FT::kDateTime, "Planned end"));
  f.push_back(F("XML_ID", FT::kString, "External ID"));
  f.push_back(F("ALLOW_CHANGE_DEADLINE", FT::kChar, "Assignee can change deadline",
                +[](const Row&, const SeedContext&) { return Text("Y"); }));
  f.push_back(F("TASK_CONTROL", FT::kChar, "Approve task when completed",
                +[](const Row&, const SeedContext&) { return Text("N"); }));
  f.push_back(F("TIME_ESTIMATE", FT::kInteger, "Time estimate",
                +[](const Row&, const SeedContext&) { return Text("0"); }));
  return new EntityDef("tasks.task", std::move(f));
}

EntityDef* MakeTaskComment() {
  std::vector<FieldDef> f;
  f.push_back(IdField());
  f.push_back(F("TASK_ID", FT::kInteger, "Task"));
  f.push_back(F("AUTHOR_ID", FT::kUser, "Author",
                +[](const Row& r, const SeedContext& c) { return SeededUserId(r, c, 1); }));
  f.push_back(F("POST_DATE", FT::kDateTime, "Posted on", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDateTime(gen::CreatedAt(r.id, c.max_task_comment_id)));
  }));
  f.push_back(F("POST_MESSAGE", FT::kString, "Text",
                +[](const Row& r, const SeedContext&) { return Text(gen::Sentence(r.id, 2)); }));
  return new EntityDef("task.commentitem", std::move(f));
}

EntityDef* MakeUser() {
  std::vector<FieldDef> f;
  f.push_back(IdField());
  f.push_back(F("XML_ID", FT::kString, "External ID",
                +[](const Row& r, const SeedContext&) { return Text(absl::StrCat("emp", r.id)); }));
  f.push_back(F("ACTIVE", FT::kBoolean, "Active", +[](const Row& r, const SeedContext&) {
    return Text(r.id == 1 || !gen::Chance(r.id, 1, 10) ? "Y" : "N");
  }));
  f.push_back(F("NAME", FT::kString, "First name",
                +[](const Row& r, const SeedContext&) { return Text(gen::FirstName(r.id, 101)); }));
  f.push_back(F("LAST_NAME", FT::kString, "Last name",
                +[](const Row& r, const SeedContext&) { return Text(gen::LastName(r.id, 102)); }));
  f.push_back(F("SECOND_NAME", FT::kString, "Middle name"));
  f.push_back(F("EMAIL", FT::kString, "E-mail", +[](const Row& r, const SeedContext&) {
    return Text(absl::AsciiStrToLower(absl::StrCat(gen::FirstName(r.id, 101), ".",
                                                   gen::LastName(r.id, 102), "@company.example")));
  }));
  f.push_back(F("LAST_LOGIN", FT::kDateTime, "Last login", +[](const Row& r, const SeedContext&) {
    return Text(FormatDateTime(1725148800 - 3600 * static_cast<int64_t>(gen::Pick(r.id, 3, 500))));
  }));
  f.push_back(F("DATE_REGISTER", FT::kDateTime, "Registered on", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDateTime(gen::CreatedAt(r.id, c.max_user_id)));
  }));
  f.push_back(F("IS_ONLINE", FT::kChar, "Online", +[](const Row&, const SeedContext&) { return Text("N"); }));
  f.push_back(F("TIME_ZONE_OFFSET", FT::kInteger, "Time zone offset",
                +[](const Row&, const SeedContext&) { return Text(std::to_string(kPortalUtcOffsetSeconds)); }));
  f.push_back(F("PERSONAL_GENDER", FT::kString, "Gender"));
  f.push_back(F("PERSONAL_MOBILE", FT::kString, "Mobile phone",
                +[](const Row& r, const SeedContext&) { return Text(gen::Phone(r.id, 104)); }));
  f.push_back(F("PERSONAL_CITY", FT::kString, "City",
                +[](const Row& r, const SeedContext&) { return Text(gen::City(r.id, 105)); }));
  f.push_back(F("WORK_PHONE", FT::kString, "Work phone"));
  f.push_back(F("WORK_POSITION", FT::kString, "Position",
                +[](const Row& r, const SeedContext&) { return Text(gen::PickFrom(r.id, 106, kPositions)); }));
  f.push_back(F("UF_DEPARTMENT", FT::kIntegerList, "Departments", +[](const Row& r, const SeedContext&) {
    return Text(r.id == 1 ? "1" : std::to_string(1 + gen::Pick(r.id, 107, 4)));
  }));
  f.push_back(F("USER_TYPE", FT::kString, "User type",
                +[](const Row&, const SeedContext&) { return Text("employee"); }));
  return new EntityDef("user", std::move(f));
}

// Status rows are generated from AllStatuses(): row id N is entry N-1.
const StatusEntry& Entry(const Row& r) { return AllStatuses()[r.id - 1]; }

EntityDef* MakeStatus() {
  std::vector<FieldDef> f;
  f.push_back(IdField());
  f.push_back(F("ENTITY_ID", FT::kString, "Entity",
                +[](const Row& r, const SeedContext&) { return Text(Entry(r).entity_id); }));
  f.push_back(F("STATUS_ID", FT::kString, "Status",
                +[](const Row& r, const SeedContext&) { return Text(Entry(r).status_id); }));
  f.push_back(F("NAME", FT::kString, "Name",
                +[](const Row& r, const SeedContext&) { return Text(Entry(r).name); }));
  f.push_back(F("NAME_INIT", FT::kString, "Default name",
                +[](const Row& r, const SeedContext&) { return Text(Entry(r).name); }));
  f.push_back(F("SORT", FT::kInteger, "Sort",
                +[](const Row& r, const SeedContext&) { return Text(std::to_string(Entry(r).sort)); }));
  f.push_back(F("SYSTEM", FT::kChar, "System", +[](const Row& r, const SeedContext&) {
    return Text(Entry(r).semantics != nullptr || Entry(r).sort == 10 ? "Y" : "N");
  }));
  f.push_back(F("CATEGORY_ID", FT::kInteger, "Pipeline", +[](const Row& r, const SeedContext&) {
    return Entry(r).category_id < 0 ? Null() : Text(std::to_string(Entry(r).category_id));
  }));
  f.push_back(F("COLOR", FT::kString, "Color", +[](const Row& r, const SeedContext&) {
    return Entry(r).color == nullptr ? Null() : Text(Entry(r).color);
  }));
  f.push_back(F("SEMANTICS", FT::kString, "Semantics", +[](const Row& r, const SeedContext&) {
    return Entry(r).semantics == nullptr ? Null() : Text(Entry(r).semantics);
  }));
  return new EntityDef("crm.status", std::move(f));
}

EntityDef* MakeTimelineComment() {
  std::vector<FieldDef> f;
  f.push_back(IdField());
  f.push_back(ReadOnly(F("CREATED", FT::kDateTime, "Created on", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDateTime(gen::CreatedAt(r.id, c.max_timeline_id)));
  })));
  f.push_back(Required(F("ENTITY_ID", FT::kInteger, "Entity ID")));
  f.push_back(Required(F("ENTITY_TYPE", FT::kString, "Entity type")));
  f.push_back(F("AUTHOR_ID", FT::kUser, "Author",
                +[](const Row& r, const SeedContext& c) { return SeededUserId(r, c, 1); }));
  f.push_back(Required(F("COMMENT", FT::kString, "Comment",
                         +[](const Row& r, const SeedContext&) { return Text(gen::Sentence(r.id, 2)); })));
  return new EntityDef("crm.timeline.comment", std::move(f));
}

EntityDef* MakeActivity() {
  std::vector<FieldDef> f;
  f.push_back(IdField());
  f.push_back(F("OWNER_ID", FT::kInteger, "Owner ID"));
  f.push_back(F("OWNER_TYPE_ID", FT::kInteger, "Owner type"));
  f.push_back(F("TYPE_ID", FT::kInteger, "Type", +[](const Row& r, const SeedContext&) {
    return Text(gen::Chance(r.id, 1, 50) ? "2" : "4");  // 2 call, 4 e-mail
  }));
  f.push_back(F("PROVIDER_ID", FT::kString, "Provider", +[](const Row& r, const SeedContext&) {
    return Text(gen::Chance(r.id, 1, 50) ? "VOXIMPLANT_CALL" : "CRM_EMAIL");
  }));
  f.push_back(F("PROVIDER_TYPE_ID", FT::kString, "Provider type", +[](const Row& r, const SeedContext&) {
    return Text(gen::Chance(r.id, 1, 50) ? "CALL" : "EMAIL");
  }));
  f.push_back(F("SUBJECT", FT::kString, "Subject", +[](const Row& r, const SeedContext&) {
    return Text(gen::Chance(r.id, 1, 50) ? absl::StrCat("Call with ", gen::FirstName(r.id, 2))
                                         : absl::StrCat("Re: quote #", 1000 + r.id));
  }));
  f.push_back(ReadOnly(F("CREATED", FT::kDateTime, "Created on", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDateTime(gen::CreatedAt(r.id, c.max_activity_id)));
  })));
  f.push_back(ReadOnly(F("LAST_UPDATED", FT::kDateTime, "Updated on", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDateTime(gen::CreatedAt(r.id, c.max_activity_id) + 600));
  })));
  f.push_back(F("START_TIME", FT::kDateTime, "Start", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDateTime(gen::CreatedAt(r.id, c.max_activity_id)));
  }));
  f.push_back(F("END_TIME", FT::kDateTime, "End", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDateTime(gen::CreatedAt(r.id, c.max_activity_id) + 900));
  }));
  f.push_back(F("DEADLINE", FT::kDateTime, "Deadline", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDateTime(gen::CreatedAt(r.id, c.max_activity_id) + 900));
  }));
  f.push_back(F("COMPLETED", FT::kChar, "Completed",
                +[](const Row& r, const SeedContext&) { return Text(gen::Chance(r.id, 3, 70) ? "Y" : "N"); }));
  f.push_back(F("STATUS", FT::kInteger, "Status",
                +[](const Row& r, const SeedContext&) { return Text(gen::Chance(r.id, 3, 70) ? "2" : "1"); }));
  f.push_back(F("RESPONSIBLE_ID", FT::kUser, "Responsible",
                +[](const Row& r, const SeedContext& c) { return SeededUserId(r, c, 4); }));
  f.push_back(F("PRIORITY", FT::kInteger, "Priority", +[](const Row&, const SeedContext&) { return Text("2"); }));
  f.push_back(F("DESCRIPTION", FT::kString, "Description",
                +[](const Row& r, const SeedContext&) { return Text(gen::Sentence(r.id, 5)); }));
  f.push_back(F("DIRECTION", FT::kInteger, "Direction",
                +[](const Row& r, const SeedContext&) { return Text(gen::Chance(r.id, 6, 50) ? "1" : "2"); }));
  f.push_back(F("AUTHOR_ID", FT::kUser, "Author",
                +[](const Row& r, const SeedContext& c) { return SeededUserId(r, c, 4); }));
  f.push_back(F("EDITOR_ID", FT::kUser, "Editor",
                +[](const Row& r, const SeedContext& c) { return SeededUserId(r, c, 4); }));
  auto* def = new EntityDef("crm.activity", std::move(f));
  // fast_bitrix24's README filters activities by ENTITY_TYPE/ENTITY_ID.
  def->AddAlias("ENTITY_TYPE", "OWNER_TYPE_ID");
  def->AddAlias("ENTITY_TYPE_ID", "OWNER_TYPE_ID");
  def->AddAlias("ENTITY_ID", "OWNER_ID");
  return def;
}

}  // namespace

#define B24EMU_SINGLETON(Fn, Make) \
  const EntityDef& Fn() {          \
    static const EntityDef* def = Make(); \
    return *def;                   \
  }
B24EMU_SINGLETON(TaskDef, MakeTask)
B24EMU_SINGLETON(TaskCommentDef, MakeTaskComment)
B24EMU_SINGLETON(UserDef, MakeUser)
B24EMU_SINGLETON(StatusDef, MakeStatus)
B24EMU_SINGLETON(TimelineCommentDef, MakeTimelineComment)
B24EMU_SINGLETON(ActivityDef, MakeActivity)
#undef B24EMU_SINGLETON

}  // namespace b24emu::data
