#include "tests/emulator/test/emulator_binary.h"

namespace b24emu {

// tests/emulator/CMakeLists.txt defines B24EMU_BINARY for this file only.
const char* const kEmulatorBinary = B24EMU_BINARY;

}  // namespace b24emu
