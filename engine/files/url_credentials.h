// Bitrix24 puts the caller's authorization into the file links it hands out:
// DOWNLOAD_URL of disk.file.get and disk.attachedObject.get, uploadUrl of
// disk.*.uploadfile, a CRM file field's downloadUrl / urlMachine
// (`auth=TOKEN`, or `auth[auth]=TOKEN` for attached objects). Whoever holds
// such a link acts as the portal's user until the token expires -- for a
// webhook, as the webhook. The gateway's callers must not get that
// authority: they download through FilesService, which authorizes the link
// itself.
//
// WithoutAuthParams takes the authorization out of such a link and leaves
// the rest, so the link still names its file (docs/bitrix24-protocol.md,
// "Files"); service/result_links.h applies it to every answer.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_FILES_URL_CREDENTIALS_H_
#define B24GATE_ENGINE_FILES_URL_CREDENTIALS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace b24gate {

// `url` without the query parameters named `auth` or `auth[...]` (in any
// case, raw or percent-encoded). Anything that is not an absolute http(s)
// URL or an absolute path with a query comes back unchanged.
std::string WithoutAuthParams(absl::string_view url);

// Whether `text` may hold an auth parameter at all (a cheap test first: most
// strings are not links).
bool MayCarryAuthParam(absl::string_view text);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_FILES_URL_CREDENTIALS_H_
