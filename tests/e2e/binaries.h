// Where the end-to-end tests find the programs they start and the repository
// files they read: absolute paths fixed when CMake configures the build.
//
// They are compiled into binaries.cc alone, not given to every test file as
// compile definitions: a path differs from one checkout to the next, and a
// definition that names it would make every test file's compile command
// differ too, so that ccache (CCACHE_BASEDIR, scripts/build.sh) could never
// reuse another clone's objects. Thread-safe: constants.
#ifndef B24GATE_TESTS_E2E_BINARIES_H_
#define B24GATE_TESTS_E2E_BINARIES_H_

namespace b24gate::e2e {

// The gateway (service/b24gate) and the emulator (tests/emulator).
extern const char* const kGatewayBin;
extern const char* const kEmulatorBin;
// tests/e2e/make_test_certs.sh: `bash SCRIPT DIR` writes a test PKI into DIR.
extern const char* const kTestCertsScript;
// deploy/grafana/b24gate.json: the dashboard whose queries prometheus_test runs.
extern const char* const kDashboardJson;

}  // namespace b24gate::e2e

#endif  // B24GATE_TESTS_E2E_BINARIES_H_
