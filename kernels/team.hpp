#pragma once
// The team execution model of the block kernels: one team of threads (a CUDA thread block)
// per work unit (a replica), running a program of phases with a barrier after every phase.
//
// A team kernel K supplies
//   using Control = ...;                                 the program counter (phase, step, ...)
//   VT_HD Control start(const TeamContext&) const;        the first phase
//   VT_HD void phase(const Control&, const TeamContext&, int rank) const;
//                                                        one phase for one thread
//   VT_HD bool advance(Control&, const TeamContext&) const;
//                                                        the next phase; false when done
//   VT_HD std::size_t scratch_bytes(int team_size) const;  team-shared scratch per team
//                                                        (may be static)
// Rules that make a sequential emulation exact (include/vitrify/engine/exec_team_cpu.hpp):
// - within a phase, a thread reads only what earlier phases wrote, or what it wrote itself;
//   two threads never write the same location (atomics on integers excepted);
// - advance() reads the Control and the kernel's launch parameters alone (no memory the kernel
//   writes), so every thread takes the same path and reaches every barrier; data-dependent
//   work is a phase whose threads return at once (the neighbour build when the list is valid);
// - reductions are fixed trees over the scratch array (team_tree_max), never warp-synchronous.
// The CUDA policy (kernels/launch_team_cuda.cuh) runs the program with __syncthreads() after
// every phase; the CPU policy runs every phase for thread 0..size-1 (or another order, to
// expose a missing barrier) before the next.
#include <stddef.h>

#include "vitrify/core/hostdevice.hpp"
#include "vitrify/core/real.hpp"

namespace vitrify::kernels {

// What a thread of a team knows besides its rank.
struct TeamContext {
  int team;       // the team's index (the replica)
  int size;       // threads per team (a power of two)
  void* scratch;  // team-shared scratch, kernel.scratch_bytes(size) bytes, uninitialised
};

// Threads per team must be a power of two (the fixed reduction trees halve it).
VT_HD inline bool valid_team_size(int size) { return size > 0 && (size & (size - 1)) == 0; }

// One level of the fixed-tree maximum over values[0..size): thread `rank` < stride keeps the
// larger of values[rank] and values[rank + stride]. Levels stride = size/2, size/4, ..., 1,
// one phase each, leave the maximum in values[0]; the pairing, hence the result for NaN-free
// values, does not depend on the order in which threads run.
VT_HD inline void team_tree_max(real* values, int stride, int rank) {
  if (rank >= stride) return;
  const real other = values[rank + stride];
  if (other > values[rank]) values[rank] = other;
}

}  // namespace vitrify::kernels
