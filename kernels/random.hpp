#pragma once
// Counter-based random numbers for the stochastic ensemble components, on the host and in
// CUDA from the same code: Random123's Philox4x32-10 (Salmon et al., SC'11; the Debian
// package librandom123-dev, header only). A draw is a pure function of its key and counter,
// so nothing but the counter's inputs has to be saved for a run to be resumed bit for bit:
//
//   key     = (seed low 32 bits, seed high 32 bits)         the configuration's "seed"
//   counter = (step low 32 bits, step high 32 bits, replica, stream << 24 | block)
//
// `replica` is the scan-wide replica index (not the position in a batch, so dropping a replica
// or splitting the scan over processes does not change another replica's numbers), `step` the
// number of steps the component has applied to that replica, `stream` names the component
// (kStream*) and `block` counts the 4-word blocks one step consumes (at most 2^24).
//
// The integer words are the same on every backend; the variates made from them (uniform,
// normal, gamma) go through log, sqrt, cos and exp, whose last bit may differ between the
// host's and the device's math libraries.
#if defined(__CUDACC__) && !defined(R123_CUDA_DEVICE)
// Philox's functions for host and device code alike (Random123 makes them __device__ only in
// the device pass); the kernel bodies below are VT_HD.
#define R123_CUDA_DEVICE __host__ __device__
#endif
#include <Random123/philox.h>
#include <math.h>
#include <stdint.h>

#include "vitrify/core/hostdevice.hpp"

namespace vitrify::kernels {

// Stream ids of the components that draw random numbers (the counter's fourth word).
constexpr uint32_t kStreamCsvrThermostat = 1;
constexpr uint32_t kStreamCRescaleBarostat = 2;
constexpr uint32_t kStreamReplicaExchange = 3;  // host: the acceptance draws of parallel tempering
constexpr uint32_t kStreamTest = 255;           // the tests' own draws

// The random numbers one component draws for one replica at one step, in order.
class PhiloxStream {
 public:
  using Philox = r123::Philox4x32;
  VT_HD PhiloxStream(uint64_t seed, uint32_t replica, uint64_t step, uint32_t stream) {
    key_[0] = static_cast<uint32_t>(seed);
    key_[1] = static_cast<uint32_t>(seed >> 32);
    ctr_[0] = static_cast<uint32_t>(step);
    ctr_[1] = static_cast<uint32_t>(step >> 32);
    ctr_[2] = replica;
    ctr_[3] = stream << 24;
    used_ = 4;
    have_normal_ = false;
  }

  // The next 32-bit word of the stream.
  VT_HD uint32_t next_u32() {
    if (used_ == 4) {
      Philox philox;
      block_ = philox(ctr_, key_);
      ++ctr_[3];  // the block counter (the low 24 bits)
      used_ = 0;
    }
    return block_[used_++];
  }

  // Uniform in the open interval (0, 1), 53 random bits from two words.
  VT_HD double uniform() {
    const uint64_t hi = next_u32() >> 5;  // 27 bits
    const uint64_t lo = next_u32() >> 6;  // 26 bits
    return (double((hi << 26) | lo) + 0.5) * (1.0 / 9007199254740992.0);
  }

  // Standard normal (Box-Muller; the second number of each pair is kept for the next call).
  VT_HD double normal() {
    if (have_normal_) {
      have_normal_ = false;
      return spare_;
    }
    const double r = sqrt(-2.0 * log(uniform()));
    const double phi = 6.283185307179586476925 * uniform();
    spare_ = r * sin(phi);
    have_normal_ = true;
    return r * cos(phi);
  }

  // Gamma variate of shape a > 0 and scale 1 (Marsaglia & Tsang, ACM TOMS 26, 363 (2000)):
  // exact rejection sampling from normal and uniform numbers; shapes below 1 are drawn at
  // a + 1 and multiplied by U^(1/a). Returns -1 if a is not positive or the loop, whose
  // acceptance rate exceeds 95 %, were ever to run out of blocks.
  VT_HD double gamma(double a) {
    if (!(a > 0)) return -1.0;
    double boost = 1.0;
    if (a < 1.0) {
      boost = pow(uniform(), 1.0 / a);
      a += 1.0;
    }
    const double d = a - 1.0 / 3.0;
    const double c = 1.0 / sqrt(9.0 * d);
    for (int attempt = 0; attempt < 100000; ++attempt) {
      const double x = normal();
      double v = 1.0 + c * x;
      if (v <= 0.0) continue;
      v = v * v * v;
      const double u = uniform();
      const double x2 = x * x;
      if (u < 1.0 - 0.0331 * x2 * x2) return boost * d * v;
      if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v))) return boost * d * v;
    }
    return -1.0;
  }

  // Sum of n squared standard normal numbers (chi-squared with n degrees of freedom), n >= 0:
  // 2 Gamma(n/2).
  VT_HD double chi_squared(double n) { return n > 0 ? 2.0 * gamma(0.5 * n) : 0.0; }

 private:
  Philox::ctr_type ctr_;
  Philox::key_type key_;
  Philox::ctr_type block_;
  int used_;
  bool have_normal_;
  double spare_ = 0;
};

}  // namespace vitrify::kernels
