// A free TCP port on 127.0.0.1, for a server whose port must be known
// before it starts (it is passed to another process first).
//
// Thread-safety: thread-safe.
#ifndef B24GATE_TESTS_SUPPORT_FREE_PORT_H_
#define B24GATE_TESTS_SUPPORT_FREE_PORT_H_

namespace b24gate::testing {

// A port no other caller on the machine gets while this process lives:
// each is reserved by a lock on a file named after it (released when the
// process exits), and taken outside the kernel's ephemeral range, so no
// outgoing connection or server on port 0 takes it meanwhile either. A
// server killed and started again finds its port still free. 0 when none
// is left.
int FreePort();

}  // namespace b24gate::testing

#endif  // B24GATE_TESTS_SUPPORT_FREE_PORT_H_
