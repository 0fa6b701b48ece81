// This process's stdout and stderr captured to a file, with everything the
// processes started meanwhile write there (they inherit the descriptors):
// how the e2e tests read the gateway's log lines (header-only; not a test).
#ifndef B24GATE_TESTS_E2E_OUTPUT_CAPTURE_H_
#define B24GATE_TESTS_E2E_OUTPUT_CAPTURE_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace b24gate::e2e {

// Sends fds 1 and 2 to a file until Stop(); children started meanwhile
// inherit the file.
class OutputCapture {
 public:
  OutputCapture() {
    char path[] = "/tmp/b24gate-output-XXXXXX";
    int fd = mkstemp(path);
    path_ = path;
    std::fflush(nullptr);
    std::cout.flush();
    saved_out_ = dup(1);
    saved_err_ = dup(2);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
  }
  // Restores the descriptors and returns what was written.
  std::string Stop() {
    std::fflush(nullptr);
    std::cout.flush();
    std::cerr.flush();
    dup2(saved_out_, 1);
    dup2(saved_err_, 2);
    close(saved_out_);
    close(saved_err_);
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    std::remove(path_.c_str());
    return text.str();
  }

 private:
  std::string path_;
  int saved_out_ = -1, saved_err_ = -1;
};

}  // namespace b24gate::e2e

#endif  // B24GATE_TESTS_E2E_OUTPUT_CAPTURE_H_
