#pragma once
// CUDA side of the team model (kernels/team.hpp): one thread block per team, the kernel's
// phase program with __syncthreads() after every phase, and the team's scratch array in
// dynamic shared memory. The CPU emulation (include/vitrify/engine/exec_team_cpu.hpp) runs the
// same program thread by thread. nvcc only.
#include <cuda_runtime.h>

#include "kernels/team.hpp"

namespace vitrify::kernels {

template <class K>
__global__ void team_kernel(K kernel) {
  extern __shared__ double team_scratch[];
  const TeamContext ctx{static_cast<int>(blockIdx.x), static_cast<int>(blockDim.x), team_scratch};
  // advance() reads only the control, which every thread keeps in its own registers: all
  // threads take the same path and reach every barrier.
  auto control = kernel.start(ctx);
  do {
    kernel.phase(control, ctx, static_cast<int>(threadIdx.x));
    __syncthreads();
  } while (kernel.advance(control, ctx));
}

// Launches `teams` blocks of `size` threads (a power of two) running `kernel`'s program.
template <class K>
inline cudaError_t launch_teams_cuda(int teams, int size, const K& kernel,
                                     cudaStream_t stream = 0) {
  if (teams <= 0) return cudaSuccess;
  if (!valid_team_size(size)) return cudaErrorInvalidValue;
  const size_t scratch = kernel.scratch_bytes(size);
  // Above 48 KiB of dynamic shared memory a kernel must opt in (once per kernel type, to the
  // largest size launched so far).
  static size_t opted_in = 48 * 1024;
  if (scratch > opted_in) {
    const cudaError_t err = cudaFuncSetAttribute(
        team_kernel<K>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(scratch));
    if (err != cudaSuccess) return err;
    opted_in = scratch;
  }
  team_kernel<K><<<static_cast<unsigned>(teams), size, scratch, stream>>>(kernel);
  return cudaGetLastError();
}

}  // namespace vitrify::kernels
