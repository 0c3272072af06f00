#pragma once
// Atomic helpers usable from kernel bodies on both backends (CUDA atomics under nvcc,
// GCC/Clang __atomic builtins on the host, which OpenMP threads share).
#include "vitrify/core/hostdevice.hpp"

namespace vitrify::kernels {

// Adds v to *p and returns the old value.
VT_HD inline int atomic_add_int(int* p, int v) {
#if defined(__CUDA_ARCH__)
  return atomicAdd(p, v);
#else
  return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
#endif
}

// Sets bits in *p (used for flags that many threads may raise at once).
VT_HD inline void atomic_or_int(int* p, int v) {
#if defined(__CUDA_ARCH__)
  atomicOr(p, v);
#else
  __atomic_fetch_or(p, v, __ATOMIC_RELAXED);
#endif
}

}  // namespace vitrify::kernels
