// Fuzzes the configuration entry point, LoadConfig(args, env), with arbitrary
// config files (and flags): a bad file must be refused with INVALID_ARGUMENT
// at start-up, never crash the gateway or throw.
//
// Input: the config file's text. If the input starts with "--" or "B24GATE_",
// its lines up to the first empty line are command-line flags (one argument
// per line) and NAME=VALUE environment variables; the rest is the file.
// Inputs naming /dev, /proc or /sys are skipped: a *_file setting pointing
// at a device or FIFO would block the read, which is not a parser bug.
//
// Checked: a refusal is INVALID_ARGUMENT with a message; an accepted config
// has at least one portal, unique names, each passing ValidatePortalOptions;
// no error message quotes a webhook URL, client secret or refresh token (of
// 12+ bytes) that the input does not also hold elsewhere (a name, a key).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "engine/portal/portal_options.h"
#include "service/config.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using Json = nlohmann::ordered_json;

void CollectSecrets(const Json& node, std::vector<std::string>* out) {
  if (node.is_object()) {
    for (const auto& [key, child] : node.items()) {
      if ((key == "webhook" || key == "client_secret" || key == "refresh_token") &&
          child.is_string() && child.get_ref<const std::string&>().size() >= 12) {
        out->push_back(child.get<std::string>());
      }
      CollectSecrets(child, out);
    }
  } else if (node.is_array()) {
    for (const auto& child : node) CollectSecrets(child, out);
  }
}

size_t Occurrences(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  for (const char* special : {"/dev", "/proc", "/sys"}) {
    if (absl::StrContains(input, special)) return 0;
  }
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string file_text = input;
  if (absl::StartsWith(input, "--") || absl::StartsWith(input, "B24GATE_")) {
    size_t end = input.find("\n\n");
    std::string header = input.substr(0, end);
    file_text = end == std::string::npos ? "" : input.substr(end + 2);
    for (const std::string& line : std::vector<std::string>(absl::StrSplit(header, '\n'))) {
      size_t eq = line.find('=');
      if (absl::StartsWith(line, "B24GATE_") && eq != std::string::npos) {
        env[line.substr(0, eq)] = line.substr(eq + 1);
      } else {
        args.push_back(line);
      }
    }
  }
  static const std::string path =
      "/tmp/b24gate-config-fuzz-" + std::to_string(getpid()) + ".json";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << file_text;
  }
  if (env.count("B24GATE_CONFIG") == 0) env["B24GATE_CONFIG"] = path;

  absl::StatusOr<b24gate::ServerConfig> config = b24gate::LoadConfig(args, env);
  if (!config.ok()) {
    FUZZ_CHECK(config.status().code() == absl::StatusCode::kInvalidArgument,
               "refusal is not INVALID_ARGUMENT: " + config.status().ToString());
    FUZZ_CHECK(!config.status().message().empty(), "refusal without a message");
    std::vector<std::string> secrets;
    CollectSecrets(Json::parse(file_text, nullptr, /*allow_exceptions=*/false), &secrets);
    for (const std::string& secret : secrets) {
      FUZZ_CHECK(!absl::StrContains(config.status().message(), secret) ||
                     Occurrences(input, secret) > 1,
                 "error message quotes a secret: " + config.status().ToString());
    }
    return 0;
  }
  if (config->help) return 0;
  FUZZ_CHECK(!config->portals.empty(), "accepted a config without portals");
  std::set<std::string> names;
  for (const b24gate::PortalOptions& portal : config->portals) {
    FUZZ_CHECK(names.insert(portal.name).second, "portal configured twice: " + portal.name);
    FUZZ_CHECK(b24gate::ValidatePortalOptions(portal).ok(), "accepted an invalid portal");
  }
  return 0;
}
