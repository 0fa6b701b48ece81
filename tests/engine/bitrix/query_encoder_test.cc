#include "engine/bitrix/query_encoder.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace b24gate::query_encoder_test {
namespace {

struct PhpCase {
  const char* params_json;
  const char* php_output;
};

// Every expected string below is PHP 8.2.36's output for
//   echo http_build_query(json_decode($params_json, true));
// pasted verbatim. Object keys keep their order, as in PHP.
// clang-format off
constexpr PhpCase kPhpCases[] = {
    {R"json({"filter":{">ID":0}})json",
     "filter%5B%3EID%5D=0"},
    {R"json({"filter":{">ID":"$result[p0][49][ID]"},"order":{"ID":"ASC"},"start":-1})json",
     "filter%5B%3EID%5D=%24result%5Bp0%5D%5B49%5D%5BID%5D&order%5BID%5D=ASC&start=-1"},
    {R"json({"entityTypeId":2,"filter":{">ID":"$result[p0][items][49][id]"},"start":-1})json",
     "entityTypeId=2&filter%5B%3EID%5D=%24result%5Bp0%5D%5Bitems%5D%5B49%5D%5Bid%5D&start=-1"},
    {R"json({"fields":{"PHONE":[{"VALUE":"+1 333 555","VALUE_TYPE":"WORK"},{"VALUE":"112233","VALUE_TYPE":"HOME"}]}})json",
     "fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=%2B1+333+555&fields%5BPHONE%5D%5B0%5D%5BVALUE_TYPE%5D=WORK&fields%5BPHONE%5D%5B1%5D%5BVALUE%5D=112233&fields%5BPHONE%5D%5B1%5D%5BVALUE_TYPE%5D=HOME"},
    {R"json({"select":["ID","NAME","UF_*","*"]})json",
     "select%5B0%5D=ID&select%5B1%5D=NAME&select%5B2%5D=UF_%2A&select%5B3%5D=%2A"},
    {R"json({"fields":{"TITLE":"Привет, мир"}})json",
     "fields%5BTITLE%5D=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82%2C+%D0%BC%D0%B8%D1%80"},
    {R"json({"q":"100%"})json",
     "q=100%25"},
    {R"json({"q":"a&b"})json",
     "q=a%26b"},
    {R"json({"q":"a=b"})json",
     "q=a%3Db"},
    {R"json({"q":"a?b"})json",
     "q=a%3Fb"},
    {R"json({"q":"a#b"})json",
     "q=a%23b"},
    {R"json({"q":"a+b"})json",
     "q=a%2Bb"},
    {R"json({"q":"a b  c"})json",
     "q=a+b++c"},
    {R"json({"q":"a/b\\c"})json",
     "q=a%2Fb%5Cc"},
    {R"json({"q":"[x]{y}<z>|^`'\"!$()*,;:@"})json",
     "q=%5Bx%5D%7By%7D%3Cz%3E%7C%5E%60%27%22%21%24%28%29%2A%2C%3B%3A%40"},
    {R"json({"q":"-_.~"})json",
     "q=-_.%7E"},
    {R"json({"q":""})json",
     "q="},
    {R"json({"a b":{"c&d":{"e=f":{"g?h#i%j+k/l":1}}}})json",
     "a+b%5Bc%26d%5D%5Be%3Df%5D%5Bg%3Fh%23i%25j%2Bk%2Fl%5D=1"},
    {R"json({"big":9223372036854775807,"n":0,"neg":-42,"small":-9223372036854775808})json",
     "big=9223372036854775807&n=0&neg=-42&small=-9223372036854775808"},
    {R"json({"no":false,"yes":true})json",
     "no=0&yes=1"},
    {R"json({"a":null,"b":1,"c":{"d":null}})json",
     "b=1"},
    {R"json({"a":[],"b":{"c":{}},"d":1,"e":[[],{}]})json",
     "d=1"},
    {R"json({"f01":1.0,"f02":0.1,"f03":0.30000000000000004,"f04":1e20,"f05":-0.0,"f06":1.5e-7,"f07":1e15,"f08":1e14,"f09":1e13,"f10":0.0001,"f11":0.00001,"f12":123456789012345678.0,"f13":2.5,"f14":-1.25e-10,"f15":3.141592653589793,"f16":1e100,"f17":99999999999999.99,"f18":0.5})json",
     "f01=1&f02=0.1&f03=0.3&f04=1.0E%2B20&f05=-0&f06=1.5E-7&f07=1.0E%2B15&f08=1.0E%2B14&f09=10000000000000&f10=0.0001&f11=1.0E-5&f12=1.2345678901235E%2B17&f13=2.5&f14=-1.25E-10&f15=3.1415926535898&f16=1.0E%2B100&f17=1.0E%2B14&f18=0.5"},
    {R"json(["a","b",{"c":1}])json",
     "0=a&1=b&2%5Bc%5D=1"},
    {R"json({"a":{"b":{"c":[1,[2,3]]}}})json",
     "a%5Bb%5D%5Bc%5D%5B0%5D=1&a%5Bb%5D%5Bc%5D%5B1%5D%5B0%5D=2&a%5Bb%5D%5Bc%5D%5B1%5D%5B1%5D=3"},
    {R"json({"q":"line1\nline2\ttab\r"})json",
     "q=line1%0Aline2%09tab%0D"},
    {R"json({"q":"😀 €"})json",
     "q=%F0%9F%98%80+%E2%82%AC"},
    {R"json({})json",
     ""},
    {R"json({"a":{"":"x"}})json",
     "a%5B%5D=x"},
    {R"json({"fields":{"0":"x","10":"y","2":"z"}})json",
     "fields%5B0%5D=x&fields%5B10%5D=y&fields%5B2%5D=z"},
    {R"json({"cmd":"crm.lead.list?filter[>ID]=5&start=-1"})json",
     "cmd=crm.lead.list%3Ffilter%5B%3EID%5D%3D5%26start%3D-1"},
    {R"json({"q":"é ß Ä"})json",
     "q=%C3%A9+%C3%9F+%C3%84"},
    {R"json({"email":"user@example.com"})json",
     "email=user%40example.com"},
    {R"json({"fields":{"CLOSED":"N","OPPORTUNITY":"1000000.00","TITLE":"Deal #1"},"id":410})json",
     "fields%5BCLOSED%5D=N&fields%5BOPPORTUNITY%5D=1000000.00&fields%5BTITLE%5D=Deal+%231&id=410"},
    {R"json({"items":[{"a":true},{"a":false}]})json",
     "items%5B0%5D%5Ba%5D=1&items%5B1%5D%5Ba%5D=0"},
    {R"json({"Привет":{"ключ":"значение"}})json",
     "%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82%5B%D0%BA%D0%BB%D1%8E%D1%87%5D=%D0%B7%D0%BD%D0%B0%D1%87%D0%B5%D0%BD%D0%B8%D0%B5"},
    {R"json({"filter":{"!=STAGE_ID":"WON","%TITLE":"abc","<=DATE":"2024-08-30T14:29:00+02:00","@ID":[1,2,3]}})json",
     "filter%5B%21%3DSTAGE_ID%5D=WON&filter%5B%25TITLE%5D=abc&filter%5B%3C%3DDATE%5D=2024-08-30T14%3A29%3A00%2B02%3A00&filter%5B%40ID%5D%5B0%5D=1&filter%5B%40ID%5D%5B1%5D=2&filter%5B%40ID%5D%5B2%5D=3"},
};
// clang-format on

class HttpBuildQueryPhpTest : public ::testing::TestWithParam<PhpCase> {};

TEST_P(HttpBuildQueryPhpTest, MatchesPhp) {
  const PhpCase& c = GetParam();
  EXPECT_EQ(HttpBuildQuery(nlohmann::ordered_json::parse(c.params_json)), c.php_output)
      << "params: " << c.params_json;
}

INSTANTIATE_TEST_SUITE_P(Php82, HttpBuildQueryPhpTest,
                         ::testing::ValuesIn(kPhpCases));

TEST(HttpBuildQueryTest, ScalarTopLevelEncodesNothing) {
  EXPECT_EQ(HttpBuildQuery(nlohmann::ordered_json(5)), "");
  EXPECT_EQ(HttpBuildQuery(nlohmann::ordered_json()), "");
}

TEST(HttpBuildQueryTest, BuiltInCodeMatchesParsedText) {
  // Values built in code (not parsed) take the same paths.
  nlohmann::ordered_json params;
  params["filter"][">ID"] = 0;
  params["select"] = {"ID", "TITLE"};
  params["start"] = -1;
  EXPECT_EQ(
      HttpBuildQuery(params),
      "filter%5B%3EID%5D=0&select%5B0%5D=ID&select%5B1%5D=TITLE&start=-1");
}

TEST(UrlEncodeTest, EncodesEveryByteOutsideUnreserved) {
  // PHP 8.2: echo urlencode("a b+c~\x01\xff");
  EXPECT_EQ(UrlEncode("a b+c~\x01\xff"), "a+b%2Bc%7E%01%FF");
}

TEST(ContainsNullOrTopLevelListTest, TopLevelListIsTrue) {
  EXPECT_TRUE(ContainsNullOrTopLevelList(nlohmann::ordered_json::parse(R"([1, 2])")));
  EXPECT_TRUE(ContainsNullOrTopLevelList(nlohmann::ordered_json::array()));
}

TEST(ContainsNullOrTopLevelListTest, NestedNullIsTrue) {
  EXPECT_TRUE(ContainsNullOrTopLevelList(
      nlohmann::ordered_json::parse(R"({"id": 1, "fields": {"DESCRIPTION": null}})")));
  EXPECT_TRUE(ContainsNullOrTopLevelList(
      nlohmann::ordered_json::parse(R"({"a": [1, {"b": [null]}]})")));
}

TEST(ContainsNullOrTopLevelListTest, PlainObjectIsFalse) {
  EXPECT_FALSE(ContainsNullOrTopLevelList(nlohmann::ordered_json::parse(
      R"({"filter": {">ID": 0}, "select": ["ID"], "e": [], "o": {}, "b": false})")));
  EXPECT_FALSE(ContainsNullOrTopLevelList(nlohmann::ordered_json::object()));
}

TEST(HttpBuildQueryTest, ChildrenOfAnEmptyKeyStayNested) {
  // PHP 8.2: echo http_build_query(["" => ["fields" => ["TITLE" => "x"]], "id" => 1]);
  // Read as a top-level `fields`, the child would override the caller's own.
  EXPECT_EQ(HttpBuildQuery(nlohmann::ordered_json::parse(
                R"({"": {"fields": {"TITLE": "x"}}, "id": 1})")),
            "%5Bfields%5D%5BTITLE%5D=x&id=1");
}

TEST(FindBatchReferenceTest, NamesThePathOfTheFirstReference) {
  using J = nlohmann::ordered_json;
  EXPECT_EQ(FindBatchReference(J::parse(R"({"id": 1, "fields": {"TITLE": "a $result[c0] b"}})")),
            "fields.TITLE");
  EXPECT_EQ(FindBatchReference(J::parse(R"({"select": ["ID", "$result_total[x]"]})")), "select[1]");
  EXPECT_EQ(FindBatchReference(J::parse(R"({"filter": {"$result[a]": 1}})")), "filter.$result[a]");
  EXPECT_EQ(FindBatchReference(J::parse(R"({"a": [{"b": "$result"}]})")), "a[0].b");
  EXPECT_EQ(FindBatchReference(J::parse(R"({"TITLE": "$resul", "n": 5, "x": null})")), std::nullopt);
}

}  // namespace
}  // namespace b24gate::query_encoder_test
