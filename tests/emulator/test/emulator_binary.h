// The path of the built b24-emulator, which binary_test runs. It is compiled
// into emulator_binary.cc alone rather than given to every test file as a
// compile definition: the path differs from one checkout to the next, and a
// definition naming it would make every test file's compile command differ,
// so that ccache could never reuse another clone's objects.
#ifndef B24EMU_TEST_EMULATOR_BINARY_H_
#define B24EMU_TEST_EMULATOR_BINARY_H_

namespace b24emu {

extern const char* const kEmulatorBinary;

}  // namespace b24emu

#endif  // B24EMU_TEST_EMULATOR_BINARY_H_
