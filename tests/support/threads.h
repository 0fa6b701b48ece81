// How many threads this process runs, from /proc/self/task (Linux): for tests
// that a component's threads do not grow with what it serves.
//
// Thread-safety: thread-safe.
#ifndef B24GATE_TESTS_SUPPORT_THREADS_H_
#define B24GATE_TESTS_SUPPORT_THREADS_H_

#include <dirent.h>

namespace b24gate::testing {

// -1 when /proc is not there.
inline int ThreadsOfThisProcess() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int threads = 0;
  while (dirent* entry = readdir(dir)) threads += entry->d_name[0] != '.';
  closedir(dir);
  return threads;
}

}  // namespace b24gate::testing

#endif  // B24GATE_TESTS_SUPPORT_THREADS_H_
