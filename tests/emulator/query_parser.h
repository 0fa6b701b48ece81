// PHP-compatible parsing of query strings and form fields into a parameter
// tree, reproducing what a Bitrix24 portal (PHP's parse_str / $_POST) sees:
//   a[b][c]=1      -> {"a": {"b": {"c": "1"}}}
//   a[]=x&a[]=y    -> {"a": ["x", "y"]}        (append: max integer key + 1)
//   a[0]=x         -> {"a": ["x"]}
//   a[1]=x&a[0]=y  -> {"a": {"1": "x", "0": "y"}}  (PHP keeps insertion order)
//   a.b=1, a b=1   -> {"a_b": "1"}             (PHP mangles the base name)
//   a[b=1          -> {"a_b": "1"}             (unmatched '[' becomes '_')
//   +, %XX         -> space, byte
// Every leaf is a JSON string. A map whose keys are exactly 0..n-1 in insertion
// order becomes a JSON array (method_api.h contract); anything else stays an
// object whose key order is the order of first appearance.
//
// Thread-safety: free functions are thread-safe; a PhpParamsBuilder is not.
#ifndef B24EMU_QUERY_PARSER_H_
#define B24EMU_QUERY_PARSER_H_

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace b24emu {

// PHP urldecode(): '+' is a space, %XX a byte; malformed escapes stay as-is.
std::string UrlDecode(std::string_view s);

// RFC 3986 percent-encoding of everything except unreserved characters; what
// http_build_query produces (with %20 instead of '+', which PHP also accepts).
std::string UrlEncode(std::string_view s);

// True when `key` is a PHP integer-like array key ("0", "17", "-3"; not "01",
// "+1", "-0", " 1"), which PHP stores as an integer.
bool IsPhpIntegerKey(std::string_view key);

// Accumulates decoded (name, value) pairs the way PHP registers request
// variables, then renders them as JSON.
class PhpParamsBuilder {
 public:
  PhpParamsBuilder();
  ~PhpParamsBuilder();
  PhpParamsBuilder(const PhpParamsBuilder&) = delete;
  PhpParamsBuilder& operator=(const PhpParamsBuilder&) = delete;

  // `name` and `value` are already URL-decoded. Names with an empty base
  // ("", "[x]") are ignored, as PHP does.
  void Add(std::string_view name, std::string value);

  // The tree so far; always a JSON object or array at the top level (an empty
  // input gives an empty object).
  nlohmann::ordered_json Build() const;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
};

// parse_str(): splits on '&', each pair on its first '=', decodes both sides.
nlohmann::ordered_json ParsePhpQuery(std::string_view query);

}  // namespace b24emu

#endif  // B24EMU_QUERY_PARSER_H_
