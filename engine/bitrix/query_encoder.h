// PHP-compatible query-string encoding of JSON parameters.
//
// Bitrix24 is written in PHP and decodes query strings and form bodies with
// PHP's rules, and batch sub-commands are query strings ("method?query"). The
// gateway therefore encodes parameters exactly as PHP's
// `http_build_query($params)` does (arg separator "&", PHP_QUERY_RFC1738), so
// a call means the same thing whether it travels alone or inside a batch.
//
// A query string cannot carry `null`, and PHP's encoder silently drops it; a
// positional (list) parameter set breaks legacy methods once anything is added
// to it. ContainsNullOrTopLevelList() detects both so the engine can send such
// calls as a JSON body instead.
//
// Key order: the output lists keys in the caller's order (ordered_json), as
// PHP's http_build_query does. Bitrix24 gives it meaning: the keys of a
// multi-field `order` are its sort priority.
//
// Thread-safety: pure functions; safe to call from any thread.
#ifndef B24GATE_ENGINE_BITRIX_QUERY_ENCODER_H_
#define B24GATE_ENGINE_BITRIX_QUERY_ENCODER_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace b24gate {

// Returns what PHP 8.2's `http_build_query($params)` returns for the PHP
// array that `json_decode($params_as_text, true)` produces:
//   - nested objects and lists become `a%5Bb%5D%5B0%5D=x`;
//   - true -> 1, false -> 0; null and empty objects/lists emit nothing;
//   - integers print as integers, floats as PHP prints them with
//     precision=14 (0.1 -> 0.1, 1.0 -> 1, 1e20 -> 1.0E+20);
//   - keys and values are escaped like PHP `urlencode` (alphanumerics and
//     "-_." kept, space -> "+", every other byte -> "%XX", upper-case hex).
// A top-level list is encoded with its indexes as keys ("0=a&1=b"), as PHP
// does; a scalar encodes as "".
std::string HttpBuildQuery(const nlohmann::ordered_json& params);

// PHP `urlencode` of one string (exposed for tests and for callers that
// build "method?query" strings).
std::string UrlEncode(const std::string& text);

// True if `params` is a list, or if any value nested in it is null: such a
// call cannot be expressed as a query string and must be sent on its own as a
// JSON body.
bool ContainsNullOrTopLevelList(const nlohmann::ordered_json& params);

// Where `params` holds "$result" in a key or string value: the path of the
// first such place ("fields.TITLE", "select[0]"), or nullopt. Inside a
// `batch` request Bitrix24 replaces `$result[key]...` (and $result_error,
// ...) with results of other commands, so such parameters must never travel
// inside a batch their caller did not write.
std::optional<std::string> FindBatchReference(const nlohmann::ordered_json& params);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BITRIX_QUERY_ENCODER_H_
