#include "tests/support/temp_file.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace b24gate::testing {
namespace {

// The files this process made, removed when it exits so that test runs do
// not pile files up in /tmp (a test that aborts leaves its own behind).
struct MadeFiles {
  absl::Mutex mu;
  std::vector<std::string> paths ABSL_GUARDED_BY(mu);
  bool removal_registered ABSL_GUARDED_BY(mu) = false;
};

MadeFiles& Made() {
  static MadeFiles* made = new MadeFiles;  // never destroyed: used at exit
  return *made;
}

void RemoveMadeFiles() {
  MadeFiles& made = Made();
  std::vector<std::string> paths;
  {
    absl::MutexLock lock(&made.mu);
    paths.swap(made.paths);
  }
  std::error_code ignored;
  for (const std::string& path : paths) std::filesystem::remove_all(path, ignored);
}

void Remember(const std::string& path) {
  MadeFiles& made = Made();
  absl::MutexLock lock(&made.mu);
  if (!made.removal_registered) {
    made.removal_registered = true;
    std::atexit(RemoveMadeFiles);
  }
  made.paths.push_back(path);
}

}  // namespace

std::string TempFile(absl::string_view text) {
  char path[] = "/tmp/b24gate-test-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    std::perror("TempFile: mkstemp");
    std::abort();
  }
  Remember(path);
  std::FILE* f = fdopen(fd, "w");
  if (f == nullptr || std::fwrite(text.data(), 1, text.size(), f) != text.size() ||
      std::fclose(f) != 0) {
    std::perror("TempFile: write");
    std::abort();
  }
  return path;
}

std::string TempDir() {
  char path[] = "/tmp/b24gate-test-XXXXXX";
  if (mkdtemp(path) == nullptr) {
    std::perror("TempDir: mkdtemp");
    std::abort();
  }
  Remember(path);
  return path;
}

}  // namespace b24gate::testing
