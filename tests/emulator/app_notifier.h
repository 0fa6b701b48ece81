// Posts an application's install events to its handler URL (--app-url) the
// way a portal does when the application is installed or removed
// (docs/bitrix24-protocol.md, "Installing an application"): ONAPPINSTALL
// with the portal's fresh tokens, member_id, domain and application_token,
// and ONAPPUNINSTALL with no tokens (they are dead by then), both
// form-encoded like any online event.
//
// Thread-safety: thread-safe (each post has its own HTTP client).
#ifndef B24EMU_APP_NOTIFIER_H_
#define B24EMU_APP_NOTIFIER_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace b24emu {

// What an install post says about the portal.
struct InstalledApp {
  std::string domain;           // host[:port] the portal is reached at
  std::string client_endpoint;  // "http(s)://DOMAIN/rest/"
  std::string member_id;
  std::string application_token;
  std::string access_token;     // empty: the portal serves no OAuth
  std::string refresh_token;
  absl::Duration access_lifetime;
  int64_t user_id = 1;
};

class AppNotifier {
 public:
  // `app_url`: "http://host:port/path".
  explicit AppNotifier(std::string app_url) : app_url_(std::move(app_url)) {}

  // The handler's HTTP status, or -1 when it could not be reached (tried
  // again every 0.2 s for `retry_for`: at start-up the application may not
  // listen yet; an answer is never repeated).
  int Install(const InstalledApp& app, absl::Duration retry_for = absl::ZeroDuration()) const;
  // `clean`: the administrator asked for the application's data to go.
  int Uninstall(const InstalledApp& app, bool clean) const;

  // The form bodies (exposed for tests).
  static std::string InstallForm(const InstalledApp& app, absl::Time now);
  static std::string UninstallForm(const InstalledApp& app, bool clean, absl::Time now);

 private:
  int Post(const std::string& form, absl::Duration retry_for) const;

  const std::string app_url_;
};

}  // namespace b24emu

#endif  // B24EMU_APP_NOTIFIER_H_
