#include "tests/emulator/reply_turns.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace b24emu {
namespace {

// The kernel's struct sched_attr, first version (linux/sched/types.h
// cannot be included beside glibc's <sched.h>).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

// glibc (2.36) has no wrappers for sched_getattr and sched_setattr.
bool GetAttr(SchedAttr* attr) {
  *attr = SchedAttr{};
  return syscall(SYS_sched_getattr, 0, attr, sizeof(*attr), 0) == 0;
}

// What this thread last asked for (threads start with the default).
thread_local bool holding = false;

}  // namespace

bool UseReplyTurns(bool holding_reply) {
  if (holding_reply == holding) return true;
  SchedAttr attr;
  // Read first: setattr sets the policy and nice value too, and the
  // thread keeps both.
  if (!GetAttr(&attr)) return false;
  attr.size = sizeof(attr);
  attr.sched_flags = 0;
  // 0 asks for the kernel's default turn.
  attr.sched_runtime =
      holding_reply ? static_cast<uint64_t>(absl::ToInt64Nanoseconds(kReplyTurn)) : 0;
  if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return false;
  holding = holding_reply;
  return true;
}

absl::Duration CurrentTurn() {
  SchedAttr attr;
  if (!GetAttr(&attr)) return absl::ZeroDuration();
  return absl::Nanoseconds(static_cast<int64_t>(attr.sched_runtime));
}

}  // namespace b24emu
