// The accepted socket a request came on, and how long ago its last bytes
// arrived (the kernel's own record, TCP_INFO): the server counts a reply's
// modelled processing time from there, as a portal whose front end takes
// requests in on many machines does, not from when a busy emulator thread
// got round to reading it.
//
// Thread-safety: safe to call from any connection thread.
#ifndef B24EMU_CONNECTION_SOCKET_H_
#define B24EMU_CONNECTION_SOCKET_H_

#include "absl/time/time.h"

namespace httplib {
struct Request;
}

namespace b24emu {

// The socket `req` arrived on, or -1. cpp-httplib 0.11 does not expose it
// for plain HTTP; the (local, remote) address pair identifies it among this
// process's descriptors (the last one found on this thread is tried first:
// a connection keeps its thread for all its requests).
int ConnectionSocket(const httplib::Request& req);

// How long ago `fd` (a TCP socket) last received data; zero when unknown.
// The kernel counts it in whole jiffies, so AgeRounding() is taken off: the
// age is never more than the real one.
absl::Duration LastDataAge(int fd);

// The most TCP_INFO's last_data_recv can exceed the real age: one kernel
// jiffy, the resolution of CLOCK_MONOTONIC_COARSE (1 / CONFIG_HZ: 4 ms at
// HZ=250, 1 ms at HZ=1000), plus 1 ms where a jiffy is not whole
// milliseconds (HZ=300: the kernel rounds its count up to one); 10 ms (HZ=100,
// the coarsest) when the clock cannot be read. Taking off more would count
// every request as arriving later than it did and hold its reply that much
// past its modelled processing time.
absl::Duration AgeRounding();

}  // namespace b24emu

#endif  // B24EMU_CONNECTION_SOCKET_H_
