#pragma once
// VT_HD marks functions compiled for both the host (g++) and the device (nvcc).
// Kernel bodies in kernels/*.hpp and the model evaluators use it; they never use
// the STL, exceptions or logging so that nvcc can compile them for the GPU.
#if defined(__CUDACC__)
#define VT_HD __host__ __device__
#else
#define VT_HD
#endif
