#include "engine/common/heap_warmth.h"

#include <cstdlib>
#include <cstring>
#include <vector>

namespace b24gate {
namespace {

// Under glibc's smallest mmap threshold (128 KiB), so every piece comes
// from the arena whatever the process set.
constexpr size_t kPiece = 64 << 10;

}  // namespace

void WarmThreadHeap(size_t bytes) {
  std::vector<void*> pieces;
  pieces.reserve(bytes / kPiece + 1);
  for (size_t done = 0; done < bytes; done += kPiece) {
    void* piece = std::malloc(kPiece);
    if (piece == nullptr) break;
    // Not zeros: the compiler makes a malloc and a memset of zeros one
    // calloc, which writes nothing on memory fresh from the kernel (only
    // one page in eight was touched that way).
    std::memset(piece, 0xA5, kPiece);
    // Nor may it drop writes to memory that nobody reads.
    asm volatile("" : : "r"(piece) : "memory");
    pieces.push_back(piece);
  }
  for (void* piece : pieces) std::free(piece);
}

}  // namespace b24gate
