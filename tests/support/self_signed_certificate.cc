#include "tests/support/self_signed_certificate.h"

#include <cstdlib>

#include "tests/support/temp_file.h"

namespace b24gate::testing {

std::string SelfSignedCertificate() {
  const std::string dir = TempDir();
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
  return std::system(command.c_str()) == 0 ? dir : "";
}

}  // namespace b24gate::testing
