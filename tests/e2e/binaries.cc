#include "tests/e2e/binaries.h"

namespace b24gate::e2e {

// tests/e2e/CMakeLists.txt defines these for this file only.
const char* const kGatewayBin = B24GATE_BIN;
const char* const kEmulatorBin = B24_EMULATOR_BIN;
const char* const kTestCertsScript = B24GATE_TEST_CERTS_SCRIPT;
const char* const kDashboardJson = B24GATE_DASHBOARD_JSON;

}  // namespace b24gate::e2e
