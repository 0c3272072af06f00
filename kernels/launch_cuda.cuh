#pragma once
// CUDA side of `launch`: one generic __global__ wrapper that calls a kernel body once per
// index, exactly like the CPU policy's OpenMP loop. nvcc only.
#include <cuda_runtime.h>

namespace vitrify::kernels {

template <class F>
__global__ void generic_kernel(F body, long n) {
  const long i = static_cast<long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) body(static_cast<int>(i));
}

template <class F>
inline cudaError_t launch_cuda(long n, const F& body, cudaStream_t stream = 0, int block = 128) {
  if (n <= 0) return cudaSuccess;
  const long grid = (n + block - 1) / block;
  generic_kernel<<<static_cast<unsigned>(grid), block, 0, stream>>>(body, n);
  return cudaGetLastError();
}

}  // namespace vitrify::kernels
