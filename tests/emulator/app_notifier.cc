#include "tests/emulator/app_notifier.h"

#include <httplib.h>

#include <chrono>
#include <cmath>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/emulator/query_parser.h"

namespace b24emu {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// "key=value&..." with every value URL-encoded; keys are written encoded.
std::string Form(const Fields& fields) {
  std::string form;
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&form, form.empty() ? "" : "&", key, "=", UrlEncode(value));
  }
  return form;
}

// The auth[...] fields every post of the portal carries.
Fields PortalAuth(const InstalledApp& app) {
  return {{"auth%5Bdomain%5D", app.domain},
          {"auth%5Bclient_endpoint%5D", app.client_endpoint},
          {"auth%5Bserver_endpoint%5D", "https://oauth.bitrix.info/rest/"},
          {"auth%5Bmember_id%5D", app.member_id},
          {"auth%5Bstatus%5D", "L"},
          {"auth%5Bapplication_token%5D", app.application_token}};
}

}  // namespace

std::string AppNotifier::InstallForm(const InstalledApp& app, absl::Time now) {
  Fields fields = {{"event", "ONAPPINSTALL"},
                   {"data%5BVERSION%5D", "1"},
                   {"data%5BACTIVE%5D", "Y"},
                   {"data%5BINSTALLED%5D", "Y"},
                   {"data%5BLANGUAGE_ID%5D", "en"},
                   {"ts", absl::StrCat(absl::ToUnixSeconds(now))}};
  for (auto& field : PortalAuth(app)) fields.push_back(std::move(field));
  if (!app.access_token.empty()) {
    const double lifetime = absl::ToDoubleSeconds(app.access_lifetime);
    fields.insert(fields.end(),
                  {{"auth%5Baccess_token%5D", app.access_token},
                   {"auth%5Bexpires%5D",
                    absl::StrCat(absl::ToUnixSeconds(now) + static_cast<int64_t>(std::ceil(lifetime)))},
                   {"auth%5Bexpires_in%5D", absl::StrCat(lifetime)},
                   {"auth%5Bscope%5D", "crm,task,user,disk"},
                   {"auth%5Buser_id%5D", absl::StrCat(app.user_id)},
                   {"auth%5Brefresh_token%5D", app.refresh_token}});
  }
  return Form(fields);
}

std::string AppNotifier::UninstallForm(const InstalledApp& app, bool clean, absl::Time now) {
  Fields fields = {{"event", "ONAPPUNINSTALL"},
                   {"data%5BCLEAN%5D", clean ? "1" : "0"},
                   {"data%5BLANGUAGE_ID%5D", "en"},
                   {"ts", absl::StrCat(absl::ToUnixSeconds(now))}};
  for (auto& field : PortalAuth(app)) fields.push_back(std::move(field));
  return Form(fields);
}

int AppNotifier::Install(const InstalledApp& app, absl::Duration retry_for) const {
  return Post(InstallForm(app, absl::Now()), retry_for);
}

int AppNotifier::Uninstall(const InstalledApp& app, bool clean) const {
  return Post(UninstallForm(app, clean, absl::Now()), absl::ZeroDuration());
}

int AppNotifier::Post(const std::string& form, absl::Duration retry_for) const {
  // "http://host:port/path": the client takes the origin, the request the path.
  const size_t scheme = app_url_.find("://");
  const size_t path = scheme == std::string::npos ? std::string::npos : app_url_.find('/', scheme + 3);
  const std::string origin = app_url_.substr(0, path);
  const std::string target = path == std::string::npos ? "/" : app_url_.substr(path);
  const absl::Time give_up = absl::Now() + retry_for;
  while (true) {
    httplib::Client client(origin);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(10, 0);
    httplib::Result res = client.Post(target, form, "application/x-www-form-urlencoded");
    if (res) return res->status;
    // Only a connection never made is tried again: an answer may be lost
    // after the application acted on the post.
    if (res.error() != httplib::Error::Connection || absl::Now() >= give_up) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace b24emu
