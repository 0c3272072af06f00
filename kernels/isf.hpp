#pragma once
// Per-particle term of the self-intermediate scattering function
// (docs/PHYSICS.md, "Measurements"),
//   F_k(t) = < (1/M) sum_p cos(k . d_p) >,   d_p = [r_p(t) - r_p(0)] - [R(t) - R(0)],
// R the centre of mass of the M selected particles. The average over wave-vector directions
// of modulus k is taken exactly (the limit of infinitely many directions):
//   3D:  <cos(k . d)>_directions = sin(kd)/(kd)
//   2D:  <cos(k . d)>_directions = (1/2pi) int_0^2pi cos(kd cos(theta)) dtheta = J0(kd)
// Exact averaging removes the anisotropy noise of a finite direction set and costs one sqrt
// and one table polynomial (ten multiply-adds, kernels/isf_tables.hpp) per particle and frame
// pair.
// HOSTDEVICE: compiled by g++ and nvcc; no STL, exceptions or logging.
#include <math.h>

#include "kernels/isf_tables.hpp"
#include "vitrify/core/hostdevice.hpp"
#include "vitrify/core/real.hpp"

namespace vitrify::kernels {

// The table polynomial of interval i = floor(ax) at ax, 0 <= ax < kIsfTableIntervals
// (kernels/isf_tables.hpp): ten multiply-adds.
VT_HD inline double isf_table_polynomial(const double* c, double ax) {
  const double t = ax - (floor(ax) + 0.5);
  double sum = c[kIsfTableDegree];
  for (int k = kIsfTableDegree - 1; k >= 0; --k) sum = sum * t + c[k];
  return sum;
}

// sin(x)/x, x dimensionless, absolute error below about 1e-14: its Taylor series near 0
// (exactly 1 at x = 0), the table polynomial of kernels/isf_tables.hpp for |x| < 40 (about
// twice as fast as a library sin), sin(x)/x beyond.
VT_HD inline double sinc(double x) {
  const double ax = fabs(x);
  if (ax < 1e-3) {
    const double x2 = x * x;
    return 1.0 - x2 * (1.0 / 6.0) + x2 * x2 * (1.0 / 120.0);  // error < x^6/5040 < 2e-22
  }
  if (ax < double(kIsfTableIntervals))
    return isf_table_polynomial(sinc_coefficients(static_cast<int>(ax)), ax);
  return sin(ax) / ax;
}

// Bessel function of the first kind, order 0, absolute error below about 1e-14 for all real x.
//   |x| < 40: one polynomial of degree 10 per unit interval, in the distance from the interval's
//             centre (kernels/isf_tables.hpp, generated and checked against 40-digit
//             values by tools/gen_isf_tables.py): one table row and ten multiply-adds,
//             about 20 times cheaper than the power series it replaces (which needs up to ~60
//             terms near |x| = 12);
//   |x| >= 40: Hankel asymptotic expansion
//             J0 = sqrt(2/(pi x)) [P cos(x - pi/4) - Q sin(x - pi/4)],
//             P = sum_even (-1)^(k/2) a_k / x^k,  Q = sum_odd (-1)^((k-1)/2) a_k / x^k,
//             a_k = prod_{j=1..k} (-(2j-1)^2) / (k! 8^k), summed until the terms fall below
//             1e-16 (about ten terms; they decrease by about k / (2x) each).
VT_HD inline double bessel_j0(double x) {
  const double ax = fabs(x);
  if (ax < 1e-3) {
    const double y = 0.25 * ax * ax;  // series 1 - y + y^2/4, error < y^3/36 < 1e-20
    return 1.0 - y + 0.25 * y * y;
  }
  if (ax < double(kIsfTableIntervals))
    return isf_table_polynomial(bessel_j0_coefficients(static_cast<int>(ax)), ax);
  // Hankel expansion: t_k = a_k / x^k, t_k = t_{k-1} * (-(2k-1)^2) / (8 k x).
  const double inv_8x = 1.0 / (8.0 * ax);
  double t = 1.0;  // t_0
  double p = 1.0;  // P = t_0 - t_2 + t_4 - ...
  double q = 0.0;  // Q = t_1 - t_3 + t_5 - ...
  for (int k = 1; k < 60; ++k) {
    const double odd = double(2 * k - 1);
    const double next = t * (-odd * odd) * inv_8x / double(k);
    if (fabs(next) >= fabs(t)) break;  // the asymptotic series starts to diverge (not at x >= 40)
    t = next;
    const double sign = ((k / 2) % 2 == 0) ? 1.0 : -1.0;
    if (k % 2 == 0)
      p += sign * t;
    else
      q += sign * t;
    if (fabs(t) < 1e-16) break;
  }
  const double s = sin(ax);
  const double c = cos(ax);
  // cos(x - pi/4) = (c + s)/sqrt2, sin(x - pi/4) = (s - c)/sqrt2; sqrt(2/(pi x))/sqrt2 =
  // 1/sqrt(pi x).
  return (p * (c + s) - q * (s - c)) / sqrt(3.14159265358979323846 * ax);
}

// Exact average of cos(k . d) over the directions of k at fixed kd = |k||d| (dimensionless):
// J0(kd) in 2D, sin(kd)/(kd) in 3D.
VT_HD inline double isotropic_cos_average(int dim, double kd) {
  return dim == 2 ? bessel_j0(kd) : sinc(kd);
}

// Self-ISF term of one particle: the direction average of cos(k . d) for the displacement
// d = (dx, dy, dz) in sigma (drift already removed), k in 1/sigma. dz is ignored in 2D.
VT_HD inline double self_isf_term(int dim, double k, double dx, double dy, double dz) {
  const double d2 = dim == 2 ? dx * dx + dy * dy : dx * dx + dy * dy + dz * dz;
  return isotropic_cos_average(dim, k * sqrt(d2));
}

// ---- frames kept where the particles are (Engine::isf_frame) ------------------------------
// The device path keeps the multiple-tau frames of the self-ISF (analysis::SelfIsfAccumulator)
// in device memory: `store` holds slot after slot, each slot R frames of dim * M doubles (x
// block, y block[, z block]: the accumulator's frame layout), M selected particles per replica
// (`selected`: R * M replica-local indices). Per production sample the host receives one sum
// per replica and origin slot, not the particles. Every sum is over fixed particle chunks
// combined in chunk order: deterministic, no atomics.
constexpr int kIsfChunks = 8;

// Unwrapped coordinate d of particle g of replica r (sigma), in double.
VT_HD inline double isf_unwrapped(const real* x, const real* y, const real* z, const int* img_x,
                                  const int* img_y, const int* img_z, const real* box, int r, int d,
                                  long g) {
  const double l = static_cast<double>(box[3 * r + d]);
  if (d == 0) return static_cast<double>(x[g]) + static_cast<double>(img_x[g]) * l;
  if (d == 1) return static_cast<double>(y[g]) + static_cast<double>(img_y[g]) * l;
  return static_cast<double>(z[g]) + static_cast<double>(img_z[g]) * l;
}

// Chunk sums of the selected particles' unwrapped coordinates: item (r * dim + d) * kIsfChunks
// + c, out: partial[item].
struct IsfCentrePartial {
  const real *x, *y, *z;
  const int *img_x, *img_y, *img_z;
  const real* box;
  const int* selected;
  int n, m, dim;
  double* partial;
  VT_HD void operator()(long item) const {
    const int c = static_cast<int>(item % kIsfChunks);
    const long rd = item / kIsfChunks;
    const int d = static_cast<int>(rd % dim);
    const int r = static_cast<int>(rd / dim);
    const long begin = static_cast<long>(m) * c / kIsfChunks;
    const long end = static_cast<long>(m) * (c + 1) / kIsfChunks;
    double sum = 0.0;
    for (long i = begin; i < end; ++i) {
      const long g = static_cast<long>(r) * n + selected[static_cast<long>(r) * m + i];
      sum += isf_unwrapped(x, y, z, img_x, img_y, img_z, box, r, d, g);
    }
    partial[item] = sum;
  }
};

// The current frame, centre of mass removed: item (r * dim + d) * m + i.
struct IsfCurrentFrame {
  const real *x, *y, *z;
  const int *img_x, *img_y, *img_z;
  const real* box;
  const int* selected;
  int n, m, dim;
  const double* partial;  // IsfCentrePartial's
  double* current;        // R * dim * m
  VT_HD void operator()(long item) const {
    const long i = item % m;
    const long rd = item / m;
    const int d = static_cast<int>(rd % dim);
    const int r = static_cast<int>(rd / dim);
    double com = 0.0;
    for (int c = 0; c < kIsfChunks; ++c) com += partial[rd * kIsfChunks + c];
    com /= static_cast<double>(m);
    const long g = static_cast<long>(r) * n + selected[static_cast<long>(r) * m + i];
    current[item] = isf_unwrapped(x, y, z, img_x, img_y, img_z, box, r, d, g) - com;
  }
};

// dst[i] = src[i] (a slot into another, the current frame into a slot).
struct CopyDoubles {
  const double* src;
  double* dst;
  VT_HD void operator()(long i) const { dst[i] = src[i]; }
};

// Chunk sums of the direction average between the current frame and the frame in each origin
// slot: item (o * R + r) * kIsfChunks + c, out: partial[item].
struct IsfSweepPartial {
  int dim, m, replicas;
  double k;
  const double* current;
  const double* store;
  const int* origin_slots;
  double* partial;
  VT_HD void operator()(long item) const {
    const int c = static_cast<int>(item % kIsfChunks);
    const long orr = item / kIsfChunks;
    const int r = static_cast<int>(orr % replicas);
    const long o = orr / replicas;
    const long frame = static_cast<long>(dim) * m;
    const double* cur = current + r * frame;
    const double* org = store + (static_cast<long>(origin_slots[o]) * replicas + r) * frame;
    const long begin = static_cast<long>(m) * c / kIsfChunks;
    const long end = static_cast<long>(m) * (c + 1) / kIsfChunks;
    double sum = 0.0;
    for (long i = begin; i < end; ++i) {
      const double dz = dim == 3 ? cur[2 * m + i] - org[2 * m + i] : 0.0;
      sum += self_isf_term(dim, k, cur[i] - org[i], cur[m + i] - org[m + i], dz);
    }
    partial[item] = sum;
  }
};

// The chunk sums combined in chunk order: item r * n_origins + o, out: sums[item].
struct IsfSweepCombine {
  int replicas, n_origins;
  const double* partial;
  double* sums;
  VT_HD void operator()(long item) const {
    const long o = item % n_origins;
    const long r = item / n_origins;
    const double* p = partial + (o * replicas + r) * kIsfChunks;
    double sum = 0.0;
    for (int c = 0; c < kIsfChunks; ++c) sum += p[c];
    sums[item] = sum;
  }
};

}  // namespace vitrify::kernels
