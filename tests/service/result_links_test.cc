#include "service/result_links.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace b24gate::result_links_test {
namespace {

using ::b24gate::ItemsJsonText;
using nlohmann::ordered_json;

TEST(ItemsJsonText, StripsLinksAtAnyDepth) {
  std::vector<ordered_json> items = {ordered_json::parse(
      R"({"ID":"7","FILES":[{"downloadUrl":"https://p/x?token=1&auth=SECRET"}],
          "LINK":{"url":"/rest/download.json?auth=SECRET"}})")};
  const std::string text = ItemsJsonText(items);
  EXPECT_EQ(text.find("SECRET"), std::string::npos) << text;
  EXPECT_EQ(text,
            R"([{"ID":"7","FILES":[{"downloadUrl":"https://p/x?token=1"}],)"
            R"("LINK":{"url":"/rest/download.json"}}])");
}

TEST(ItemsJsonText, KeepsKeyOrderAndWholeNumbers) {
  // A Struct would sort the keys and carry 2^53 + 1 as a double (2^53).
  std::vector<ordered_json> items = {ordered_json::parse(R"({"b":9007199254740993,"a":1.5})"),
                                     ordered_json::parse(R"({"z":null,"y":[true,"x"]})")};
  EXPECT_EQ(ItemsJsonText(items), R"([{"b":9007199254740993,"a":1.5},{"z":null,"y":[true,"x"]}])");
}

TEST(ItemsJsonText, EmptyPageIsAnEmptyArray) {
  std::vector<ordered_json> items;
  EXPECT_EQ(ItemsJsonText(items), "[]");
}

TEST(ItemsJsonText, ReplacesTextThatIsNotUtf8) {
  std::vector<ordered_json> items = {ordered_json(std::string("a\xff" "b"))};
  EXPECT_EQ(ItemsJsonText(items), "[\"a\xef\xbf\xbd" "b\"]");
}

}  // namespace
}  // namespace b24gate::result_links_test
