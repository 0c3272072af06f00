#pragma once
// Per-particle term of the self-intermediate scattering function
// (docs/PHYSICS.md, "Measurements"),
//   F_k(t) = < (1/M) sum_p cos(k . d_p) >,   d_p = [r_p(t) - r_p(0)] - [R(t) - R(0)],
// R the centre of mass of the M selected particles. The average over wave-vector directions
// of modulus k is taken exactly (the limit of infinitely many directions):
//   3D:  <cos(k . d)>_directions = sin(kd)/(kd)
//   2D:  <cos(k . d)>_directions = (1/2pi) int_0^2pi cos(kd cos(theta)) dtheta = J0(kd)
// Exact averaging removes the anisotropy noise of a finite direction set and costs one sqrt
// and one sin (3D) or one Bessel evaluation (2D) per particle and frame pair.
// HOSTDEVICE: compiled by g++ and nvcc; no STL, exceptions or logging.
#include <math.h>

#include "vitrify/core/hostdevice.hpp"

namespace vitrify::kernels {

// sin(x)/x, with its Taylor series near 0 (exactly 1 at x = 0). x dimensionless.
VT_HD inline double sinc(double x) {
  const double ax = fabs(x);
  if (ax < 1e-3) {
    const double x2 = x * x;
    return 1.0 - x2 * (1.0 / 6.0) + x2 * x2 * (1.0 / 120.0);  // error < x^6/5040 < 2e-22
  }
  return sin(x) / x;
}

// Bessel function of the first kind, order 0, absolute error below about 1e-12 for all real x.
//   |x| < 12: power series  J0 = sum_k (-1)^k (x^2/4)^k / (k!)^2  (largest term ~4e3 at
//             x = 12, so cancellation costs at most ~4 digits of double precision);
//   |x| >= 12: Hankel asymptotic expansion
//             J0 = sqrt(2/(pi x)) [P cos(x - pi/4) - Q sin(x - pi/4)],
//             P = sum_even (-1)^(k/2) a_k / x^k,  Q = sum_odd (-1)^((k-1)/2) a_k / x^k,
//             a_k = prod_{j=1..k} (-(2j-1)^2) / (k! 8^k), summed until the terms stop
//             decreasing (smallest term ~ e^(-2x) < 4e-11 relative at x = 12) or fall below
//             1e-17.
VT_HD inline double bessel_j0(double x) {
  const double ax = fabs(x);
  if (ax < 12.0) {
    const double y = 0.25 * ax * ax;
    double term = 1.0;
    double sum = 1.0;
    for (int k = 1; k < 80; ++k) {
      term *= -y / (double(k) * double(k));
      sum += term;
      if (fabs(term) < 1e-17) break;
    }
    return sum;
  }
  // Hankel expansion: t_k = a_k / x^k, t_k = t_{k-1} * (-(2k-1)^2) / (8 k x).
  const double inv_8x = 1.0 / (8.0 * ax);
  double t = 1.0;  // t_0
  double p = 1.0;  // P = t_0 - t_2 + t_4 - ...
  double q = 0.0;  // Q = t_1 - t_3 + t_5 - ...
  for (int k = 1; k < 60; ++k) {
    const double odd = double(2 * k - 1);
    const double next = t * (-odd * odd) * inv_8x / double(k);
    if (fabs(next) >= fabs(t)) break;  // the asymptotic series starts to diverge
    t = next;
    const double sign = ((k / 2) % 2 == 0) ? 1.0 : -1.0;
    if (k % 2 == 0)
      p += sign * t;
    else
      q += sign * t;
    if (fabs(t) < 1e-17) break;
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

}  // namespace vitrify::kernels
