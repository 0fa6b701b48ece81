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
// The kernel counts it in jiffies (up to 10 ms), so one jiffy of rounding is
// taken off: the age is never more than the real one.
absl::Duration LastDataAge(int fd);

}  // namespace b24emu

#endif  // B24EMU_CONNECTION_SOCKET_H_
