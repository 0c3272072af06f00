#pragma once
// CPU execution policy: memory is host memory, `launch` is an OpenMP loop over the index
// range calling the kernel body once per index (the CUDA policy runs the same bodies in a
// generic __global__ wrapper).
#include <cstddef>
#include <vector>

namespace vitrify {

struct CpuExec {
  static constexpr bool host_memory = true;
  static constexpr const char* name = "cpu";
  // Neighbour-list layout: one particle's neighbours contiguous (cache friendly on a CPU).
  static constexpr bool neighbors_particle_major = true;

  template <class T>
  using Buffer = std::vector<T>;

  // Neighbour lists hold every pair once and forces are accumulated per fixed particle range
  // (kernels/forces.hpp: ComputeForcesHalf): half the pair evaluations of full lists.
  static constexpr bool half_lists = true;

  template <class F>
  void launch(long n, const F& f) const {
#pragma omp parallel for schedule(static) if (n >= 512)
    for (long i = 0; i < n; ++i) f(static_cast<int>(i));
  }

  // For a few heavy work items (one per replica and particle range) covering `particles`
  // particles in all: parallel from two items on, unless the whole is as small as the
  // launches that stay serial above.
  template <class F>
  void launch_coarse(long n, long particles, const F& f) const {
#pragma omp parallel for schedule(static, 1) if (n >= 2 && particles >= 512)
    for (long i = 0; i < n; ++i) f(static_cast<int>(i));
  }

  template <class T>
  static void allocate(Buffer<T>& buf, std::size_t n) {
    buf.assign(n, T{});
  }
  template <class T>
  static void upload(Buffer<T>& dst, const std::vector<T>& src) {
    dst = src;
  }
  template <class T>
  static void download(std::vector<T>& dst, const Buffer<T>& src) {
    dst = src;
  }
  template <class T>
  static void fill(Buffer<T>& buf, T value) {
    std::fill(buf.begin(), buf.end(), value);
  }
  template <class T>
  static T* ptr(Buffer<T>& buf) {
    return buf.data();
  }
  void synchronize() const {}
};

}  // namespace vitrify
