#include "tests/emulator/php_json.h"

#include <gtest/gtest.h>

namespace b24emu::php_json_test {
namespace {

using OJson = nlohmann::ordered_json;

TEST(PhpJsonTest, EmptyMapIsEmptyList) {
  EXPECT_EQ(PhpJsonEncode(OJson::object()), "[]");
  EXPECT_EQ(PhpJsonEncode(OJson{{"a", OJson::object()}}), R"({"a":[]})");
}

TEST(PhpJsonTest, SequentialKeysBecomeList) {
  EXPECT_EQ(PhpJsonEncode(OJson{{"0", "a"}, {"1", "b"}}), R"(["a","b"])");
}

TEST(PhpJsonTest, OutOfOrderOrSparseKeysStayObject) {
  EXPECT_EQ(PhpJsonEncode(OJson{{"1", "a"}, {"0", "b"}}), R"({"1":"a","0":"b"})");
  EXPECT_EQ(PhpJsonEncode(OJson{{"0", "a"}, {"2", "b"}}), R"({"0":"a","2":"b"})");
}

TEST(PhpJsonTest, SortedJsonWithElevenIntegerKeysIsList) {
  nlohmann::json j = nlohmann::json::object();
  for (int i = 0; i <= 10; ++i) j[std::to_string(i)] = i;
  EXPECT_EQ(PhpJsonEncode(j), "[0,1,2,3,4,5,6,7,8,9,10]");
  EXPECT_EQ(PhpJsonEncode(ToPhpOrdered(j)), "[0,1,2,3,4,5,6,7,8,9,10]");
}

TEST(PhpJsonTest, SlashIsEscaped) {
  EXPECT_EQ(PhpJsonEncode(OJson("https://x/rest/")), R"("https:\/\/x\/rest\/")");
}

TEST(PhpJsonTest, NonAsciiIsEscaped) {
  EXPECT_EQ(PhpJsonEncode(OJson("Иван")), R"("\u0418\u0432\u0430\u043d")");
  EXPECT_EQ(PhpJsonEncode(OJson("😀")), R"("\ud83d\ude00")");
}

TEST(PhpJsonTest, ControlCharacters) {
  EXPECT_EQ(PhpJsonEncode(OJson(std::string("a\n\t\"\\\x01", 6))), R"("a\n\t\"\\\u0001")");
}

TEST(PhpJsonTest, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(PhpJsonEncode(OJson(std::string("a\xff", 2))), R"("a\ufffd")");
}

TEST(PhpJsonTest, FloatsLikePhp) {
  EXPECT_EQ(PhpFormatDouble(1.0), "1");
  EXPECT_EQ(PhpFormatDouble(0.1), "0.1");
  EXPECT_EQ(PhpFormatDouble(-2.5), "-2.5");
  EXPECT_EQ(PhpFormatDouble(1725000000.123456), "1725000000.123456");
  EXPECT_EQ(PhpFormatDouble(0.0001), "0.0001");
  EXPECT_EQ(PhpFormatDouble(0.00001), "1.0e-5");
  EXPECT_EQ(PhpFormatDouble(1.5e-7), "1.5e-7");
  EXPECT_EQ(PhpFormatDouble(1e16), "10000000000000000");
  EXPECT_EQ(PhpFormatDouble(1e17), "1.0e+17");
  EXPECT_EQ(PhpFormatDouble(1e25), "1.0e+25");
  EXPECT_EQ(PhpFormatDouble(0.0), "0");
}

TEST(PhpJsonTest, ScalarsAndNesting) {
  const OJson j = OJson::parse(R"({"a":null,"b":true,"c":[1,-2,{"d":"x"}],"e":18446744073709551615})");
  EXPECT_EQ(PhpJsonEncode(j), R"({"a":null,"b":true,"c":[1,-2,{"d":"x"}],"e":18446744073709551615})");
}

}  // namespace
}  // namespace b24emu::php_json_test
