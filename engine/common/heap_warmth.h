// Touching a thread's heap ahead of use, so that its first allocations do
// not fault.
//
// glibc gives each thread that allocates an arena of its own, and an arena
// grows into pages the process never touched: the first write to each is a
// minor fault, several microseconds of kernel time on a virtual machine. A
// fresh gateway's first 20,000-item list read took about 3,000 of them on
// its two dispatch threads while they parsed the first answers (traced: a
// 2,500-item answer parsed in 2-19 ms instead of 1.2-1.8 ms, on a core the
// portal's replies were waiting for; tests/bench/batch_answer_bench prints
// the same gap as "fresh memory").
//
// Thread-safety: thread-safe; it works on the calling thread's arena.
#ifndef B24GATE_ENGINE_COMMON_HEAP_WARMTH_H_
#define B24GATE_ENGINE_COMMON_HEAP_WARMTH_H_

#include <cstddef>

namespace b24gate {

// Allocates `bytes` in pieces well under the mmap threshold, writes every
// page of them and frees them again. The freed pages stay with the calling
// thread's arena, for its later allocations, as long as the process keeps
// that much freed heap (mallopt M_TRIM_THRESHOLD at least `bytes`: the
// gateway's main sets 64 MiB); with glibc's default of 128 KiB they go back
// to the kernel at once and this is only time lost.
void WarmThreadHeap(size_t bytes);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_COMMON_HEAP_WARMTH_H_
