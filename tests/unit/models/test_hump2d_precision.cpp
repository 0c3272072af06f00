// Precision of the float hump2d evaluator against the published form evaluated in double:
// pair energies and forces on a fine grid of r, and total particle forces on random 2D
// configurations (brute force in double).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "vitrify/models/hump2d.hpp"

using vitrify::Hump2d;
using vitrify::real;

namespace {

// U(r) and -dU/dr of the published form, in double (docs/PHYSICS.md, "Models").
void reference(double r, double& u, double& minus_du) {
  const double r0 = std::pow(2.0, 1.0 / 6.0), rs = Hump2d::r_star, h0 = 0.75;
  const double* a = Hump2d::published;
  u = minus_du = 0;
  if (r > rs) return;
  if (r <= r0) {
    const double ir6 = std::pow(r, -6), ir12 = ir6 * ir6;
    u = ir12 - ir6 + 0.25 + h0;
    minus_du = (12 * ir12 - 6 * ir6) / r;
    return;
  }
  const double w = rs - r0, x = (r - r0) / w;
  double p = 0, dp = 0;
  for (int k = 7; k >= 0; --k) {
    dp = dp * x + p;
    p = p * x + a[k];
  }
  u = h0 * p;
  minus_du = -h0 * dp / w;
}

}  // namespace

// Every r of a fine grid through the polynomial region and either side: the evaluator at the
// float r^2 it is given against the double form at exactly that r^2.
TEST(Hump2dPrecision, PairEnergyAndForceOnAFineGrid) {
  const auto m = Hump2d::make();
  double worst_u = 0, worst_f = 0;
  for (double r = 1.0; r < 1.66; r += 1e-5) {
    const real r2f = real(r * r);
    const double rr = std::sqrt(double(r2f));
    double u, mdu;
    reference(rr, u, mdu);
    real fscal = 0, e = 0;
    const bool inside = m.evaluate(r2f, 0, 0, fscal, e);
    if (!inside) {
      EXPECT_GT(rr, Hump2d::r_star * (1 - 1e-6)) << "r = " << rr;
      continue;
    }
    worst_u = std::max(worst_u, std::fabs(double(e) - u));
    // fscal r = -dU/dr: absolute error, against the largest |dU/dr| of the hump (about 5.8).
    worst_f = std::max(worst_f, std::fabs(double(fscal) * rr - mdu));
  }
  EXPECT_LE(worst_u, 1e-6);
  EXPECT_LE(worst_f, 5e-6);
  RecordProperty("worst_energy_error", std::to_string(worst_u));
  RecordProperty("worst_force_error", std::to_string(worst_f));
}

// Total forces on each particle of random configurations (N = 500, rho = 0.825: a jittered
// triangular lattice, so that no pair overlaps strongly), summed in float as the force kernels
// do, against the brute-force sum in double over the same separations (the float dx, dy the
// kernels compute: the rounding of a coordinate difference is not the potential's).
TEST(Hump2dPrecision, ParticleForcesOnRandomConfigurations) {
  const auto m = Hump2d::make();
  const double rho = 0.825;
  const int nx = 20, ny = 25;  // 500 particles
  const double a = std::sqrt(2.0 / (std::sqrt(3.0) * rho));
  const double lx = nx * a, ly = ny * a * std::sqrt(3.0) / 2;
  const int n = nx * ny;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> jitter(-0.1, 0.1);
  double worst = 0, worst_scale = 0;
  int failing = 0, checked = 0;
  for (int config = 0; config < 4; ++config) {
    std::vector<real> x(n), y(n);
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) {
        const int k = j * nx + i;
        double px = (i + 0.5 * (j % 2)) * a + jitter(rng) * a;
        double py = j * a * std::sqrt(3.0) / 2 + jitter(rng) * a;
        px -= lx * std::floor(px / lx);
        py -= ly * std::floor(py / ly);
        x[k] = real(px);
        y[k] = real(py);
      }
    const real lxf = real(lx), lyf = real(ly);
    for (int i = 0; i < n; ++i) {
      real fx = 0, fy = 0;
      double gx = 0, gy = 0, scale = 0;
      for (int j = 0; j < n; ++j) {
        if (j == i) continue;
        real dx = x[i] - x[j], dy = y[i] - y[j];
        dx -= lxf * std::nearbyint(dx / lxf);
        dy -= lyf * std::nearbyint(dy / lyf);
        real fscal, e;
        if (m.evaluate(dx * dx + dy * dy, 0, 0, fscal, e)) {
          fx += fscal * dx;
          fy += fscal * dy;
        }
        const double ex = dx, ey = dy;
        const double r = std::hypot(ex, ey);
        double u, mdu;
        reference(r, u, mdu);
        gx += mdu * ex / r;
        gy += mdu * ey / r;
        scale += std::fabs(mdu);
      }
      const double total = std::hypot(gx, gy);
      const double err = std::hypot(double(fx) - gx, double(fy) - gy);
      ASSERT_GT(total, 0.0);
      worst = std::max(worst, err / total);
      worst_scale = std::max(worst_scale, err / scale);
      if (err > 2e-5 * total) ++failing;
      ++checked;
      // Where the pair forces cancel to a total below a tenth of their sum of magnitudes, float
      // rounding of the inputs (r^2) alone exceeds 2e-5 |F_i|: there the bound is taken
      // relative to a tenth of that sum.
      EXPECT_LE(err, 2e-5 * std::max(total, 0.1 * scale))
          << "config " << config << ", particle " << i << ": |F| = " << total
          << ", sum |f_ij| = " << scale;
    }
  }
  // 2e-5 |F_i| holds for all but a few strongly cancelling particles.
  EXPECT_LE(failing, checked / 100);
  EXPECT_LE(worst_scale, 5e-6);
  std::printf(
      "particle force error / |F_i|: worst %.3g (%d of %d above 2e-5); "
      "/ sum_j |f_ij|: worst %.3g\n",
      worst, failing, checked, worst_scale);
}
