// A free TCP port on 127.0.0.1, for a server whose port must be known
// before it starts (it is passed to another process first).
//
// Thread-safety: thread-safe.
#ifndef B24GATE_TESTS_SUPPORT_FREE_PORT_H_
#define B24GATE_TESTS_SUPPORT_FREE_PORT_H_

namespace b24gate::testing {

// A port the kernel just handed out (and took back): free unless someone
// races us for it, so a caller whose server fails to bind starts again.
int FreePort();

}  // namespace b24gate::testing

#endif  // B24GATE_TESTS_SUPPORT_FREE_PORT_H_
