// Injection end to end: nothing a caller sends can add commands or
// parameters to a batch's query strings, or reach another path or portal.
// Every hostile key and value either arrives as data in its own parameter
// (checked by reading the stored lead back from the emulator directly, and by
// the emulator's counts of commands and created entities) or is refused with
// INVALID_ARGUMENT naming the field before anything is sent (the emulator's
// request count stays unchanged).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::injection_test {
namespace {

// Rate limits are not under test here: a roomy bucket on both sides keeps
// the many small reads quick.
std::unique_ptr<Stack> Up(GatewaySpec gateway = {}) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits"};
  gateway.portal["burst"] = 10000;
  gateway.portal["drain_per_second"] = 10000;
  gateway.portal["autothrottle"] = false;
  auto stack = Stack::Start(std::move(emulator), std::move(gateway));
  EXPECT_TRUE(stack.ok()) << stack.status();
  return stack.ok() ? std::move(*stack) : nullptr;
}

// Query-string syntax, path syntax, encoded and double-encoded forms, header
// injection and the batch's own parameter names. (Text holding a NUL byte is
// refused, see NulBytesAreRefusedNotSent.)
const std::vector<std::string>& HostileTexts() {
  static const auto* texts = new std::vector<std::string>{
      "x&ID=1",
      "x&fields[TITLE]=pwned",
      "a?b=c",
      "#fragment&ID=1",
      "a=b=c",
      "../../oauth/token/",
      "/rest/1/other/crm.lead.delete?id=1",
      "%26ID%3D1",
      "%2526ID%253D1",
      "%252526",
      "%3F%23%2F%2E%2E",
      "line\r\nX-Injected: 1",
      "\r\n\r\nGET /rest/1/e2esecretcode/crm.lead.delete?id=1 HTTP/1.1",
      "?",
      "&",
      "#",
      "/",
      "..",
      "%2F",
      "%26",
      "%3F",
      "a%2F..%2Fb",
      "\r",
      "\n",
      "cr\rlf\n",
      "+plus+ and space",
      "x]&y[=1",
      "cmd[evil]=batch&halt=1",
      "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xF0\x9F\x8C\x8D",
      "%",
      "%zz",
      "\\\"'<>{}|^`",
  };
  return *texts;
}

// Readable form of a hostile text for failure messages.
std::string Show(const std::string& text) { return json(text).dump(); }

void ExpectInvalid(const grpc::Status& status, const std::string& field, const std::string& what) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << what << ": " << status.error_code() << " " << status.error_message();
  EXPECT_NE(status.error_message().find(field), std::string::npos)
      << what << ": message does not name " << field << ": " << status.error_message();
}

// The lead as the emulator stores it, read directly (JSON body), not through
// the gateway.
json StoredLead(Stack& stack, int64_t id) {
  json answer = stack.Rest("crm.lead.get", {{"id", id}});
  EXPECT_TRUE(answer.is_object() && answer.contains("result")) << answer.dump();
  return answer.is_object() && answer.contains("result") ? answer["result"] : json::object();
}

// A stored text field, "" when absent or not a string (null).
std::string Text(const json& lead, const char* field) {
  return lead.contains(field) && lead[field].is_string() ? lead[field].get<std::string>() : "";
}

int64_t IdOfResult(const pb::CallResult& r) {
  json v = J(r.result());
  return v.is_number() ? v.get<int64_t>() : v.is_string() ? std::stoll(v.get<std::string>()) : -1;
}

// Bulk calls travel as batch sub-commands ("method?query"), the path where
// an unencoded "&" or "=" would become a parameter of its own.
TEST(Injection, HostileValuesArriveAsDataThroughBatches) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const std::vector<std::string>& texts = HostileTexts();
  std::vector<json> adds;
  for (const std::string& text : texts) {
    adds.push_back({{"fields", {{"TITLE", text}, {"COMMENTS", "before|" + text + "|after"}}}});
  }
  stack->ResetEmulator();
  CallOut out = CallBulk(*stack, "crm.lead.add", adds);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), static_cast<int>(texts.size()));
  json stats = stack->EmulatorStats();
  EXPECT_GE(StatInt(stats, "batches"), 1) << "bulk adds should travel in batches: " << stats.dump();
  // Exactly one command per item ran: nothing was split off or added.
  EXPECT_EQ(StatInt(stats, "commands"), static_cast<int64_t>(texts.size())) << stats.dump();
  EXPECT_EQ(StatIn(stats, "created", "crm.lead"), static_cast<int64_t>(texts.size())) << stats.dump();
  EXPECT_TRUE(!stats.contains("errors") || stats["errors"].empty()) << stats.dump();

  std::vector<int64_t> ids;
  for (int i = 0; i < out.response.results_size(); ++i) {
    const pb::CallResult& r = out.response.results(i);
    ASSERT_FALSE(r.has_error()) << Show(texts[i]) << ": " << r.error().description();
    ids.push_back(IdOfResult(r));
    json lead = StoredLead(*stack, ids.back());
    EXPECT_EQ(Text(lead, "TITLE"), texts[i]) << "TITLE sent as " << Show(texts[i]);
    EXPECT_EQ(Text(lead, "COMMENTS"), "before|" + texts[i] + "|after") << Show(texts[i]);
  }

  // The same through CallBatch parameters (encoded by the gateway).
  std::vector<Cmd> updates;
  for (size_t i = 0; i < texts.size(); ++i) {
    updates.push_back({"u" + std::to_string(i), "crm.lead.update",
                       {{"id", ids[i]}, {"fields", {{"TITLE", "2:" + texts[i]}}}}});
  }
  stack->ResetEmulator();
  BatchOut batch = CallBatch(*stack, updates);
  ASSERT_TRUE(batch.status.ok()) << batch.status.error_message();
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "commands"), static_cast<int64_t>(texts.size()));
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(Text(StoredLead(*stack, ids[i]), "TITLE"), "2:" + texts[i]) << Show(texts[i]);
  }

  // And read back through GetAll's filter: each value selects its own lead.
  for (size_t i = 0; i < texts.size(); ++i) {
    GetAllOut all = GetAll(*stack, "crm.lead.list",
                           {{"filter", {{"TITLE", "2:" + texts[i]}}}, {"select", {"ID", "TITLE"}}});
    ASSERT_TRUE(all.status.ok()) << Show(texts[i]) << ": " << all.status.error_message();
    ASSERT_EQ(all.items.size(), 1u) << "filter TITLE=" << Show(texts[i]);
    EXPECT_EQ(IdOf(all.items[0]), ids[i]) << Show(texts[i]);
  }
}

// Keys cannot split their pair or leave their parameter: a key holding
// "&fields[TITLE]=pwned" stays one (unknown) field name.
TEST(Injection, HostileKeysStayInsideTheirParameter) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::vector<std::string> keys;
  for (const std::string& text : HostileTexts()) keys.push_back("K" + text + "&fields[TITLE]=pwned");
  keys.push_back("?fields[TITLE]=pwned");
  keys.push_back("#&fields[COMMENTS]=pwned");
  keys.push_back("\r\nfields[TITLE]=pwned");
  std::vector<json> adds;
  for (size_t i = 0; i < keys.size(); ++i) {
    json item = {{"fields", {{"TITLE", "marker" + std::to_string(i)}, {"COMMENTS", "clean"}}}};
    item["fields"][keys[i]] = "v";  // inside `fields`
    item[keys[i]] = "v";            // and at the top level
    adds.push_back(item);
  }
  // Under an empty key the children stay nested ("[fields][COMMENTS]"),
  // never becoming the top-level `fields`.
  adds.push_back({{"fields", {{"TITLE", "marker-empty"}}},
                  {"", {{"fields", {{"COMMENTS", "pwned"}}}}}});
  stack->ResetEmulator();
  CallOut out = CallBulk(*stack, "crm.lead.add", adds);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), static_cast<int>(adds.size()));
  json stats = stack->EmulatorStats();
  EXPECT_EQ(StatInt(stats, "commands"), static_cast<int64_t>(adds.size())) << stats.dump();
  for (size_t i = 0; i < adds.size(); ++i) {
    const pb::CallResult& r = out.response.results(static_cast<int>(i));
    ASSERT_FALSE(r.has_error()) << i << ": " << r.error().description();
    json lead = StoredLead(*stack, IdOfResult(r));
    EXPECT_EQ(Text(lead, "TITLE"), adds[i]["fields"]["TITLE"].get<std::string>())
        << "key " << (i < keys.size() ? Show(keys[i]) : "\"\"");
    EXPECT_EQ(Text(lead, "COMMENTS"), i < keys.size() ? "clean" : "")
        << "key " << (i < keys.size() ? Show(keys[i]) : "\"\"");
  }
}

// A caller's "$result[...]" is text: inside a batch Bitrix24 would replace it
// with another command's result (another caller's, when calls share a batch).
TEST(Injection, ResultReferencesInCallsStayText) {
  GatewaySpec gateway;
  gateway.portal["linger_ms"] = 300;  // concurrent callers share batches
  auto stack = Up(gateway);
  ASSERT_TRUE(stack);
  const std::vector<std::string> refs = {"$result[c0]", "$result[c0][ID]", "x $result[c1][TITLE] y",
                                         "$result_total[c0]", "$result_error[c0]"};
  std::vector<json> adds = {{{"fields", {{"TITLE", "plain"}}}}};
  for (const std::string& ref : refs) adds.push_back({{"fields", {{"TITLE", ref}, {"COMMENTS", ref}}}});
  CallOut out = CallBulk(*stack, "crm.lead.add", adds);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  for (size_t i = 1; i < adds.size(); ++i) {
    const pb::CallResult& r = out.response.results(static_cast<int>(i));
    ASSERT_FALSE(r.has_error()) << r.error().description();
    json lead = StoredLead(*stack, IdOfResult(r));
    EXPECT_EQ(Text(lead, "TITLE"), refs[i - 1]);
    EXPECT_EQ(Text(lead, "COMMENTS"), refs[i - 1]);
  }

  // Two callers at once: one reads a lead, the other writes a reference to
  // whatever command shares its batch. The write stores the text.
  json victim = StoredLead(*stack, 1);
  CallOut read, write;
  std::thread reader([&] { read = Call1(*stack, "crm.lead.get", {{"id", 1}}); });
  std::thread writer([&] {
    write = Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", "$result[c0][TITLE]"}}}});
  });
  reader.join();
  writer.join();
  ASSERT_TRUE(read.status.ok()) << read.status.error_message();
  ASSERT_TRUE(write.status.ok()) << write.status.error_message();
  ASSERT_TRUE(write.result().is_number()) << write.result().dump();
  json written = StoredLead(*stack, write.result().get<int64_t>());
  EXPECT_EQ(Text(written, "TITLE"), "$result[c0][TITLE]");
  EXPECT_NE(Text(written, "TITLE"), Text(victim, "TITLE"));

  // GetAll sends its pages in batches of its own: refused, naming the field.
  int64_t before = Requests(*stack);
  GetAllOut all = GetAll(*stack, "crm.lead.list", {{"filter", {{"TITLE", "$result[p0][0][TITLE]"}}}});
  ExpectInvalid(all.status, "params.filter.TITLE", "GetAll filter with $result");
  EXPECT_EQ(Requests(*stack), before);
}

// Method names are bare names: no query, fragment, path or control bytes, in
// any RPC. Refused before anything is sent.
TEST(Injection, MethodNamesCannotCarryQueriesOrPaths) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const std::vector<std::string> methods = {
      "crm.lead.list?x=1",
      "crm.lead.list&start=0",
      "crm.lead.list#x",
      "crm.lead.list=1",
      "../batch",
      "crm.lead.list/../../oauth",
      "crm.lead.list/../../../oauth/token",
      "/crm.lead.list",
      "crm.lead.list%3Fx=1",
      "crm.lead.list%2F..%2Fbatch",
      "crm.lead.list%252F..",
      "crm.lead.list\r\nX-Injected: 1",
      "crm.lead.list\nHost: evil",
      std::string("crm.lead.list\0.x", 16),
      "crm..lead",
      "http://evil.example/rest/crm.lead.list",
      "crm.lead list",
      "crm.lead.list;x",
      "crm.lead.list%26start=0",
      "crm.lead.list%23x",
      "crm.lead.list/..",
      "..",
      "crm.lead.list\r",
      "crm.lead.list\n",
      "crm.lead.list?x=1&halt=0",
  };
  stack->ResetEmulator();
  for (const std::string& m : methods) {
    ExpectInvalid(Call1(*stack, m, {{"id", 1}}).status, "method", "Call " + Show(m));
    ExpectInvalid(CallBulk(*stack, m, {{{"id", 1}}}).status, "method", "bulk Call " + Show(m));
    // In CallBatch "method?query" is the Bitrix24 form (its query is data,
    // see BatchCommandQueriesArriveAsData); a bad name before it is refused.
    if (m.find('?') == std::string::npos) {
      ExpectInvalid(CallBatch(*stack, {{"a", m, {{"id", 1}}}}).status, "commands[0].method",
                    "CallBatch " + Show(m));
      ExpectInvalid(CallBatch(*stack, {{"a", m + "?id=1", nullptr}}).status, "commands[0].method",
                    "CallBatch query " + Show(m));
    }
    ExpectInvalid(GetAll(*stack, m, json::object()).status, "method", "GetAll " + Show(m));
    ExpectInvalid(GetById(*stack, m, {json(1)}).status, "method", "GetById " + Show(m));
  }
  // Another portal cannot be reached through the portal name either.
  for (const std::string& portal : {"../main", "main/../other", "main?x=1", "main#", "main\r\n"}) {
    CallOut out = Call1(*stack, "crm.lead.get", {{"id", 1}}, false, portal);
    EXPECT_EQ(out.status.error_code(), grpc::StatusCode::NOT_FOUND) << Show(portal);
    EXPECT_EQ(ReasonOf(out.status), "UNKNOWN_PORTAL") << Show(portal);
  }
  EXPECT_EQ(Requests(*stack), 0) << stack->EmulatorStats().dump();
}

// "method?query" commands are read the PHP way, then re-encoded: whatever
// was written as %XX arrives as that byte, inside its own parameter.
TEST(Injection, BatchCommandQueriesArriveAsData) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  struct Case {
    std::string query;
    std::string title;
  };
  const std::vector<Case> cases = {
      {"fields[TITLE]=a%26ID%3D1%23frag&fields[COMMENTS]=c", "a&ID=1#frag"},
      {"fields[TITLE]=%2526&fields[COMMENTS]=c", "%26"},
      {"fields[TITLE]=%252526&fields[COMMENTS]=c", "%2526"},
      {"fields[TITLE]=a#b&fields[COMMENTS]=c", "a#b"},
      {"fields[TITLE]=q?x=1&fields[COMMENTS]=c", "q?x=1"},
      {"fields[TITLE]=line%0D%0Abreak&fields[COMMENTS]=c", "line\r\nbreak"},
      {"fields[TITLE]=..%2F..%2Foauth&fields[COMMENTS]=c", "../../oauth"},
      {"fields[TITLE]=t&cmd[x]=batch&halt=1&fields[COMMENTS]=c", "t"},
      {"fields[TITLE]=$result_x[a]&fields[COMMENTS]=c", "$result_x[a]"},
  };
  std::vector<Cmd> commands;
  for (size_t i = 0; i < cases.size(); ++i) {
    commands.push_back({"k" + std::to_string(i), "crm.lead.add?" + cases[i].query, nullptr});
  }
  stack->ResetEmulator();
  BatchOut out = CallBatch(*stack, commands);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  json stats = stack->EmulatorStats();
  const json seen = stack->EmulatorCommands();  // before the checks' own reads
  EXPECT_EQ(StatInt(stats, "batches"), 1) << stats.dump();
  EXPECT_EQ(StatInt(stats, "commands"), static_cast<int64_t>(cases.size())) << stats.dump();
  auto by_key = out.by_key();
  for (size_t i = 0; i < cases.size(); ++i) {
    const pb::CallResult& r = by_key["k" + std::to_string(i)];
    ASSERT_FALSE(r.has_error()) << cases[i].query << ": " << r.error().description();
    json lead = StoredLead(*stack, IdOfResult(r));
    EXPECT_EQ(Text(lead, "TITLE"), cases[i].title) << cases[i].query;
    EXPECT_EQ(Text(lead, "COMMENTS"), "c") << cases[i].query;
  }
  // As the portal read them: one crm.lead.add each, holding only `fields`.
  ASSERT_EQ(seen.size(), cases.size()) << seen.dump();
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(seen[i]["method"], "crm.lead.add") << cases[i].query;
    json expected = {{"fields", {{"TITLE", cases[i].title}, {"COMMENTS", "c"}}}};
    // The batch's own parameter names, written in one command's query, stay
    // parameters of that command.
    if (cases[i].query.find("cmd[x]") != std::string::npos) {
      expected["cmd"] = {{"x", "batch"}};
      expected["halt"] = "1";
    }
    EXPECT_EQ(seen[i]["params"], expected) << cases[i].query << ": " << seen[i].dump();
  }

  // Malformed queries are refused, naming the command.
  stack->ResetEmulator();
  for (const std::string& bad : {"crm.lead.list?filter[ID=1", "crm.lead.list?x=%zz", "crm.lead.list?x=%2",
                                 "crm.lead.list?=1"}) {
    ExpectInvalid(CallBatch(*stack, {{"a", bad, nullptr}}).status, "commands[0].method", Show(bad));
  }
  // A key cannot carry syntax either: it names cmd[KEY] in the batch.
  for (const std::string& key : {"a&cmd[b]=x", "a]", "a[b]", "a?x", "a#", "a\r\n", "a/../b"}) {
    ExpectInvalid(CallBatch(*stack, {{key, "crm.lead.get", {{"id", 1}}}}).status, "commands[0].key",
                  "key " + Show(key));
  }
  EXPECT_EQ(Requests(*stack), 0) << stack->EmulatorStats().dump();
}

// An id is data in the id field: "1&ID=2" never reads lead 2.
TEST(Injection, GetByIdIdsStayInTheirField) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  json lead2 = StoredLead(*stack, 2);
  ASSERT_TRUE(lead2.contains("TITLE"));
  const std::vector<json> ids = {json("1&ID=2"), json("1&id=2"), json("2#"), json("1?id=2"),
                                 json("../2"), json("1%26ID%3D2"), json("1\r\nID: 2")};
  GetByIdOut out = GetById(*stack, "crm.lead.get", ids);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.results.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const pb::IdResult& r = out.results[i];
    if (r.has_result()) {
      json got = J(r.result());
      EXPECT_NE(got.value("ID", ""), "2") << "id " << ids[i].dump() << " read lead 2";
    }
  }
}

// A $result reference as long as a message allows is refused with a short
// message; the gateway keeps serving (the reference scanner once recursed per
// character and overflowed the stack).
TEST(Injection, HugeReferenceIsRefusedNotFatal) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::string huge = "$result[" + std::string(1 << 20, 'a') + "][ID]";
  BatchOut out = CallBatch(*stack, {{"a", "crm.lead.get", {{"id", huge}}}});
  ExpectInvalid(out.status, "commands[0]", "1 MiB reference");
  EXPECT_LT(out.status.error_message().size(), 400u);
  EXPECT_TRUE(Call1(*stack, "crm.lead.get", {{"id", 1}}).status.ok()) << "gateway stopped serving";
}

// A resume cursor comes back from the client: a forged one whose fields have
// the wrong types is refused, and the gateway keeps serving (reading the
// version as a number once threw out of the handler).
TEST(Injection, ForgedResumeCursorIsRefusedNotFatal) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  for (const std::string& forged :
       {R"({"v":"1","s":"keyset","n":1,"h":"0"})", R"({"v":1,"s":5,"n":"x","h":[]})", R"([1])"}) {
    pb::GetAllRequest request;
    request.set_method("crm.lead.list");
    request.set_resume_cursor(absl::WebSafeBase64Escape(forged));
    auto ctx = Ctx(30);
    auto reader = stack->stub().GetAll(ctx.get(), request);
    pb::GetAllResponse message;
    while (reader->Read(&message)) {
    }
    ExpectInvalid(reader->Finish(), "resume_cursor", forged);
  }
  EXPECT_TRUE(Call1(*stack, "crm.lead.get", {{"id", 1}}).status.ok()) << "gateway stopped serving";
}

// Texts a hostile key may hold and still round-trip through PHP's query
// parsing: brackets in a name are PHP's own syntax (those keys are checked in
// HostileKeysStayInsideTheirParameter), the rest must arrive as written.
std::vector<std::string> KeyTexts() {
  std::vector<std::string> keys;
  for (const std::string& t : HostileTexts()) {
    if (t.find_first_of("[]") == std::string::npos) keys.push_back(t);
  }
  return keys;
}

// The emulator's record of what it ran: each command's method and params
// exactly as sent, one command per item, whatever path the call took
// (single calls, bulk and CallBatch travel in batches' query strings; GetAll
// filters and GetById ids in their own requests).
TEST(Injection, EmulatorReadsEveryKeyAndValueExactlyAsSent) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const std::vector<std::string>& texts = HostileTexts();
  const std::vector<std::string> keys = KeyTexts();
  // The parameter set for text i: the text as a value, and (when it can be
  // a name) as a key, both inside `filter`.
  auto params_for = [&](size_t i) {
    json filter = {{"TITLE", texts[i]}};
    if (texts[i].find_first_of("[]") == std::string::npos) filter["K" + texts[i]] = "v" + texts[i];
    return json{{"filter", filter}};
  };
  // Whether `seen` holds exactly one command `method` with `params`.
  auto count_of = [](const json& seen, const std::string& method, const json& params) {
    int n = 0;
    for (const auto& c : seen) n += c["method"] == method && c["params"] == params;
    return n;
  };

  stack->ResetEmulator();
  for (size_t i = 0; i < texts.size(); ++i) {
    CallOut out = Call1(*stack, "crm.lead.list", params_for(i));
    ASSERT_NE(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Show(texts[i]);
  }
  json seen = stack->EmulatorCommands();
  EXPECT_EQ(seen.size(), texts.size()) << seen.dump();
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(count_of(seen, "crm.lead.list", json(params_for(i))), 1) << "Call " << Show(texts[i]);
  }

  stack->ResetEmulator();
  std::vector<json> sets;
  std::vector<Cmd> commands;
  for (size_t i = 0; i < texts.size(); ++i) {
    sets.push_back(params_for(i));
    commands.push_back({"c" + std::to_string(i), "crm.lead.list", params_for(i)});
  }
  ASSERT_TRUE(CallBulk(*stack, "crm.lead.list", sets).status.ok());
  ASSERT_TRUE(CallBatch(*stack, commands).status.ok());
  seen = stack->EmulatorCommands();
  EXPECT_EQ(seen.size(), 2 * texts.size()) << seen.dump();
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(count_of(seen, "crm.lead.list", json(params_for(i))), 2)
        << "bulk and CallBatch " << Show(texts[i]);
  }

  // GetById: each id is the value of ID, nothing more.
  stack->ResetEmulator();
  std::vector<json> ids;
  for (const std::string& t : texts) ids.push_back(json("1" + t));
  ASSERT_TRUE(GetById(*stack, "crm.lead.get", ids).status.ok());
  seen = stack->EmulatorCommands();
  EXPECT_EQ(seen.size(), texts.size()) << seen.dump();
  for (const std::string& t : texts) {
    EXPECT_EQ(count_of(seen, "crm.lead.get", json({{"ID", "1" + t}})), 1) << "GetById " << Show(t);
  }

  // GetAll: the filter value and key arrive as sent beside GetAll's own
  // paging parameters; every page is crm.lead.list.
  for (size_t i = 0; i < keys.size(); ++i) {
    stack->ResetEmulator();
    json filter = {{"TITLE", keys[i]}, {"K" + keys[i], "v"}};
    ASSERT_TRUE(GetAll(*stack, "crm.lead.list", {{"filter", filter}}).status.ok()) << Show(keys[i]);
    seen = stack->EmulatorCommands();
    ASSERT_FALSE(seen.empty());
    for (const auto& c : seen) {
      EXPECT_EQ(c["method"], "crm.lead.list") << c.dump();
      ASSERT_TRUE(c["params"].contains("filter")) << c.dump();
      EXPECT_EQ(c["params"]["filter"]["TITLE"], keys[i]) << c.dump();
      EXPECT_EQ(c["params"]["filter"]["K" + keys[i]], "v") << c.dump();
    }
  }
}

// A NUL byte in a value or a key is refused, naming the field, in every RPC
// and every form (Struct, JSON text, %00 in a "method?query" command, ids);
// nothing reaches the emulator.
TEST(Injection, NulBytesAreRefusedNotSent) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  const std::string nul("nul\0inside", 10);
  ExpectInvalid(Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", nul}}}}).status,
                "params.fields.TITLE", "Call value");
  ExpectInvalid(Call1(*stack, "crm.lead.add", {{"fields", {{nul, "v"}}}}).status, "params.fields",
                "Call key");
  ExpectInvalid(CallBulk(*stack, "crm.lead.add", {{{"fields", {{"TITLE", "ok"}}}},
                                                  {{"fields", {{"TITLE", nul}}}}})
                    .status,
                "bulk_params[1].fields.TITLE", "bulk value");
  ExpectInvalid(CallBatch(*stack, {{"a", "crm.lead.add", {{"fields", {{"TITLE", nul}}}}}}).status,
                "commands[0].params.fields.TITLE", "CallBatch value");
  ExpectInvalid(CallBatch(*stack, {{"a", "crm.lead.add?fields[TITLE]=nul%00byte", nullptr}}).status,
                "commands[0].method?query.fields.TITLE", "CallBatch %00");
  ExpectInvalid(GetAll(*stack, "crm.lead.list", {{"filter", {{"TITLE", nul}}}}).status,
                "params.filter.TITLE", "GetAll filter");
  ExpectInvalid(GetById(*stack, "crm.lead.get", {json(nul)}).status, "ids[0]", "GetById id");
  pb::CallRequest text;
  text.set_method("crm.lead.add");
  text.set_params_json(R"({"fields":{"TITLE":"a\u0000b"}})");
  CallOut out = DoCall(*stack, text);
  ExpectInvalid(out.status, "params_json.fields.TITLE", "params_json \\u0000");
  EXPECT_EQ(Requests(*stack), 0) << stack->EmulatorStats().dump();
}

}  // namespace
}  // namespace b24gate::e2e::injection_test
