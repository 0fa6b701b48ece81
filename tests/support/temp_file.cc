#include "tests/support/temp_file.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace b24gate::testing {

std::string TempFile(absl::string_view text) {
  char path[] = "/tmp/b24gate-test-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    std::perror("TempFile: mkstemp");
    std::abort();
  }
  std::FILE* f = fdopen(fd, "w");
  if (f == nullptr || std::fwrite(text.data(), 1, text.size(), f) != text.size() ||
      std::fclose(f) != 0) {
    std::perror("TempFile: write");
    std::abort();
  }
  return path;
}

}  // namespace b24gate::testing
