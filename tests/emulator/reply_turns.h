// A connection thread's turns on the CPU: short while it holds a reply for
// its due time and writes it, the kernel's default while it works one out.
//
// A reply is due at its arrival plus its modelled time, and the thread that
// holds it sleeps until then. Traced on the list benchmark (2 cores, load
// 5), the eight 170 KB batch replies due together were written 1-15 ms
// late: their threads woke at the due time but waited, runnable, for a CPU.
// Linux's fair scheduler (EEVDF) runs first the runnable thread whose turn
// ends earliest; a thread that asks for short turns (sched_setattr's
// sched_runtime, Linux 6.12 and later) has the earliest end as soon as it
// wakes. Short turns for a thread working out a 50-page batch (100-450 ms
// of CPU) would only multiply its switches, hence the two modes. Older
// kernels ignore the request. No reply is written before it is due: only
// how soon after it the thread runs changes.
#ifndef B24EMU_REPLY_TURNS_H_
#define B24EMU_REPLY_TURNS_H_

#include "absl/time/time.h"

namespace b24emu {

// The turn of a thread holding a reply: the kernel's shortest.
inline constexpr absl::Duration kReplyTurn = absl::Microseconds(100);

// The calling thread's turns from now on: kReplyTurn (true) or the
// kernel's default (false), its nice value kept. Asks the kernel only when
// that changes; false when it refused.
bool UseReplyTurns(bool holding_reply);

// The calling thread's turn as the kernel reports it (Linux 6.12 and
// later); zero where it reports none.
absl::Duration CurrentTurn();

}  // namespace b24emu

#endif  // B24EMU_REPLY_TURNS_H_
