// A file in a CRM record's field: the update's body cut around the file's
// place, the field's value found in a record, bad targets named.
#include "engine/files/record_file.h"

#include <gtest/gtest.h>

namespace b24gate::record_file_test {
namespace {

using OJson = nlohmann::ordered_json;

TEST(RecordFile, TheUpdatesBodyIsCutAroundTheFilesPlace) {
  RecordField record{"deal", 42, "UF_CRM_1", 0};
  const std::string body = FieldUploadParams(record, "a \"q\".pdf", "PLACE").dump();
  absl::StatusOr<SplitBody> split = SplitAtPlaceholder(body, "PLACE");
  ASSERT_TRUE(split.ok()) << split.status();
  // Whatever goes into the gap is the second element of fileData.
  const OJson whole = OJson::parse(split->head + "QUJD" + split->tail);
  EXPECT_EQ(whole["id"], 42);
  EXPECT_EQ(whole["fields"]["UF_CRM_1"]["fileData"][0], "a \"q\".pdf");
  EXPECT_EQ(whole["fields"]["UF_CRM_1"]["fileData"][1], "QUJD");
  // A name spelling the quoted placeholder stays escaped text, not a place;
  // a body with two places is refused, not cut at either.
  const std::string spelled = FieldUploadParams(record, "\"PLACE\"", "PLACE").dump();
  split = SplitAtPlaceholder(spelled, "PLACE");
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ(OJson::parse(split->head + split->tail)["fields"]["UF_CRM_1"]["fileData"][0],
            "\"PLACE\"");
  EXPECT_FALSE(SplitAtPlaceholder(R"({"a":"PLACE","b":"PLACE"})", "PLACE").ok());
  EXPECT_FALSE(SplitAtPlaceholder(R"({"a":"x"})", "PLACE").ok());
}

TEST(RecordFile, TheFieldsValueIsFoundOrNamedMissing) {
  RecordField record{"deal", 7, "UF_F", 0};
  const OJson value = {{"id", 5}, {"showUrl", "/s?x=1"}, {"downloadUrl", "/d?auth=SECRET&x=1"}};
  absl::StatusOr<OJson> found = FileValueOf(OJson{{"UF_F", value}}, record);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(FileLinkOf(*found), "/d?auth=SECRET&x=1");
  EXPECT_EQ(WithoutLinkCredentials(*found)["downloadUrl"], "/d?x=1");
  // urlMachine wins where a portal gives one.
  OJson machine = value;
  machine["urlMachine"] = "https://p.example/m?auth=T";
  EXPECT_EQ(FileLinkOf(machine), "https://p.example/m?auth=T");
  // A multiple field: the file at `index`.
  record.index = 1;
  found = FileValueOf(OJson{{"UF_F", OJson::array({value, machine})}}, record);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->contains("urlMachine"));
  record.index = 2;
  EXPECT_EQ(FileValueOf(OJson{{"UF_F", OJson::array({value})}}, record).status().code(),
            absl::StatusCode::kNotFound);
  record.index = 0;
  for (const OJson& record_object :
       {OJson{{"UF_F", nullptr}}, OJson{{"UF_G", value}}, OJson{{"UF_F", OJson::array()}},
        OJson{{"UF_F", ""}}, OJson::array()}) {
    absl::Status s = FileValueOf(record_object, record).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << record_object;
    EXPECT_NE(s.message().find("UF_F"), absl::string_view::npos) << s;
  }
}

TEST(RecordFile, BadTargetsAreNamed) {
  struct Case {
    RecordField record;
    const char* names;
  };
  for (const Case& c : {Case{{"invoice", 1, "UF_A", 0}, "r.entity_type"},
                        Case{{"deal", 0, "UF_A", 0}, "r.record_id"},
                        Case{{"deal", -3, "UF_A", 0}, "r.record_id"},
                        Case{{"deal", 1, "", 0}, "r.field"},
                        Case{{"deal", 1, "UF\"A", 0}, "r.field"},
                        Case{{"deal", 1, "UF_A", -1}, "r.index"}}) {
    absl::Status s = CheckRecordField(c.record, "r");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.names;
    EXPECT_NE(s.message().find(c.names), absl::string_view::npos) << s;
  }
  EXPECT_TRUE(CheckRecordField({"company", 9, "UF_CRM_1638795037", 0}, "r").ok());
  EXPECT_EQ(UpdateMethodOf({"lead", 1, "UF_A", 0}), "crm.lead.update");
  EXPECT_EQ(GetMethodOf({"lead", 1, "UF_A", 0}), "crm.lead.get");
}

// crm.item: the entityTypeId goes into both calls, the pair is the field's
// value itself, and the record is found inside crm.item.get's {"item": ...}.
TEST(RecordFile, ItemsAreWrittenAndReadThroughTheUniversalApi) {
  RecordField record{"item", 8, "ufCrm1_1", 0, 128};
  ASSERT_TRUE(CheckRecordField(record, "r").ok());
  EXPECT_EQ(UpdateMethodOf(record), "crm.item.update");
  EXPECT_EQ(GetMethodOf(record), "crm.item.get");
  EXPECT_EQ(GetParamsOf(record), (OJson{{"entityTypeId", 128}, {"id", 8}}));
  absl::StatusOr<SplitBody> split =
      SplitAtPlaceholder(FieldUploadParams(record, "a.pdf", "PLACE").dump(), "PLACE");
  ASSERT_TRUE(split.ok()) << split.status();
  const OJson whole = OJson::parse(split->head + "QUJD" + split->tail);
  EXPECT_EQ(whole["entityTypeId"], 128);
  EXPECT_EQ(whole["id"], 8);
  EXPECT_EQ(whole["fields"]["ufCrm1_1"], (OJson{"a.pdf", "QUJD"}));

  const OJson value = {{"id", 3}, {"url", "https://p/u"}, {"urlMachine", "https://p/m?auth=T"}};
  absl::StatusOr<OJson> found =
      FileValueOf(OJson{{"item", {{"id", 8}, {"ufCrm1_1", OJson::array({value})}}}}, record);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(FileLinkOf(*found), "https://p/m?auth=T");
  EXPECT_EQ(WithoutLinkCredentials(*found)["urlMachine"], "https://p/m");

  // entityTypeId with item and only with it.
  for (const RecordField& bad : {RecordField{"item", 8, "ufCrm1_1", 0, 0},
                                 RecordField{"item", 8, "ufCrm1_1", 0, -1},
                                 RecordField{"deal", 8, "UF_A", 0, 128}}) {
    absl::Status s = CheckRecordField(bad, "r");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad.entity_type;
    EXPECT_NE(s.message().find("r.entity_type_id"), absl::string_view::npos) << s;
  }
}

// An append names the field's files ({"id": N}) before the new one, in
// either API's form; the ids are read from a multiple field's list, a
// single file's value is no list to append to, and the added file is the
// one whose id was not kept.
TEST(RecordFile, AnAppendKeepsTheFieldsFilesByTheirIds) {
  RecordField deal{"deal", 4, "UF_M", 0, 0, /*append=*/true};
  absl::StatusOr<SplitBody> split =
      SplitAtPlaceholder(FieldUploadParams(deal, "c.pdf", "PLACE", {7, 9}).dump(), "PLACE");
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ(OJson::parse(split->head + "QUJD" + split->tail)["fields"]["UF_M"],
            OJson::parse(R"([{"id":7},{"id":9},{"fileData":["c.pdf","QUJD"]}])"));
  RecordField item{"item", 8, "ufCrm1_1", 0, 128, /*append=*/true};
  split = SplitAtPlaceholder(FieldUploadParams(item, "c.pdf", "PLACE", {}).dump(), "PLACE");
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ(OJson::parse(split->head + "QUJD" + split->tail)["fields"]["ufCrm1_1"],
            OJson::parse(R"([["c.pdf","QUJD"]])"));

  const OJson a = {{"id", 7}, {"downloadUrl", "/d?fileId=7"}};
  const OJson b = {{"id", "9"}, {"downloadUrl", "/d?fileId=9"}};
  const OJson c = {{"id", 12}, {"downloadUrl", "/d?fileId=12"}};
  absl::StatusOr<std::vector<int64_t>> ids = FileIdsOf(OJson{{"UF_M", OJson::array({a, b})}}, deal);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<int64_t>{7, 9}));
  for (const OJson& empty : {OJson(nullptr), OJson(""), OJson(false), OJson::array()}) {
    ids = FileIdsOf(OJson{{"UF_M", empty}}, deal);
    ASSERT_TRUE(ids.ok()) << empty;
    EXPECT_TRUE(ids->empty()) << empty;
  }
  EXPECT_EQ(FileIdsOf(OJson{{"UF_M", a}}, deal).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(FileIdsOf(OJson{{"UF_X", a}}, deal).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(FileIdsOf(OJson{{"item", {{"ufCrm1_1", OJson::array({a})}}}}, item).value(),
            std::vector<int64_t>{7});

  absl::StatusOr<OJson> added = AddedFileValueOf(OJson{{"UF_M", OJson::array({a, b, c})}}, deal, {7, 9});
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ((*added)["id"], 12);
  EXPECT_EQ(AddedFileValueOf(OJson{{"UF_M", OJson::array({a, b})}}, deal, {7, 9}).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace b24gate::record_file_test
