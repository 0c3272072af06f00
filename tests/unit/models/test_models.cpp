// Analytic checks of the pair potentials: values, continuity, force = -dU/dr; every model
// against its independent reference.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tests/common/execution_paths.hpp"
#include "tests/common/reference_models.hpp"
#include "vitrify/models/all.hpp"
#include "vitrify/models/binary3d.hpp"
#include "vitrify/models/hump2d.hpp"

using vitrify::real;

namespace {

template <class M>
double energy(const M& m, double r, int ti = 0, int tj = 0) {
  real f, e;
  return m.evaluate(real(r * r), ti, tj, f, e) ? double(e) : 0.0;
}
template <class M>
double force(const M& m, double r, int ti = 0, int tj = 0) {  // -dU/dr
  real f, e;
  return m.evaluate(real(r * r), ti, tj, f, e) ? double(f) * r : 0.0;
}

// The same potentials written out in double, straight from docs/PHYSICS.md ("Models"), as an
// independent oracle.
double binary_u(double r, double s) {
  const double rc = std::sqrt(8.0 / 6.0) * s;
  if (r > rc) return 0;
  return std::pow(s / r, 8) - std::pow(s / r, 6) + 27.0 / 256.0;
}
double hump_u(double r) {
  const double r0 = std::pow(2.0, 1.0 / 6.0), rs = 1.65, h0 = 0.75;
  const double a[8] = {1.0,
                       0.0,
                       2.675405732987203,
                       46.593574934286437,
                       -212.021700143354,
                       308.7495934944721,
                       -188.1854149609638,
                       41.188540942572089};
  if (r <= r0) return std::pow(r, -12) - std::pow(r, -6) + 0.25 + h0;
  if (r > rs) return 0;
  const double x = (r - r0) / (rs - r0);
  double p = 0;
  for (int k = 7; k >= 0; --k) p = p * x + a[k];
  return h0 * p;
}

}  // namespace

TEST(Binary3d, AnalyticValues) {
  const auto m = vitrify::Binary3d::make();
  const double s[2][2] = {{1.0, 1.2}, {1.2, 1.4}};
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      // At r = sigma: U = a0 and -dU/dr = (8 - 6)/sigma.
      EXPECT_NEAR(energy(m, s[a][b], a, b), 27.0 / 256.0, 1e-6);
      EXPECT_NEAR(force(m, s[a][b], a, b), 2.0 / s[a][b], 1e-5);
      for (double r = 0.8 * s[a][b]; r < 1.3 * s[a][b]; r += 0.01)
        EXPECT_NEAR(energy(m, r, a, b), binary_u(r, s[a][b]),
                    2e-5 * std::max(1.0, binary_u(r, s[a][b])));
    }
  EXPECT_NEAR(m.max_cutoff(), std::sqrt(8.0 / 6.0) * 1.4, 1e-6);
}

TEST(Binary3d, ContinuousAtCutoff) {
  const auto m = vitrify::Binary3d::make();
  const double s[3] = {1.0, 1.2, 1.4};
  const int ta[3] = {0, 0, 1}, tb[3] = {0, 1, 1};
  for (int k = 0; k < 3; ++k) {
    const double rc = std::sqrt(8.0 / 6.0) * s[k];
    EXPECT_NEAR(energy(m, rc * (1 - 1e-6), ta[k], tb[k]), 0.0, 1e-6);
    EXPECT_NEAR(force(m, rc * (1 - 1e-6), ta[k], tb[k]), 0.0, 1e-4);
    EXPECT_EQ(energy(m, rc * (1 + 1e-5), ta[k], tb[k]), 0.0);
  }
}

TEST(Hump2d, FactsFromSpec) {
  const auto m = vitrify::Hump2d::make();
  const double r0 = std::pow(2.0, 1.0 / 6.0);
  EXPECT_NEAR(energy(m, r0), 0.75, 1e-6);  // bottom of the well
  // Continuity of U and U' at r0 and r*.
  EXPECT_NEAR(energy(m, r0 - 1e-5), energy(m, r0 + 1e-5), 1e-4);
  EXPECT_NEAR(force(m, r0 - 1e-4), 0.0, 1e-2);
  EXPECT_NEAR(force(m, r0 + 1e-4), 0.0, 1e-2);
  EXPECT_NEAR(hump_u(1.65 - 1e-9), 0.0, 1e-6);
  EXPECT_NEAR(energy(m, 1.65 - 1e-4), 0.0, 1e-4);
  EXPECT_NEAR(force(m, 1.65 - 1e-4), 0.0, 1e-2);
  // Top of the hump near r = 1.3177 with U = 1.0875.
  double best_r = 0, best_u = -1;
  for (double r = 1.25; r < 1.4; r += 1e-5)
    if (hump_u(r) > best_u) best_u = hump_u(r), best_r = r;
  EXPECT_NEAR(best_r, 1.3177, 2e-4);
  EXPECT_NEAR(best_u, 1.0875, 2e-4);
  EXPECT_NEAR(energy(m, best_r), best_u, 1e-5);
  EXPECT_NEAR(force(m, best_r), 0.0, 2e-3);
  for (double r = 0.9; r < 1.7; r += 0.01)
    EXPECT_NEAR(energy(m, r), hump_u(r), 1e-4 * std::max(1.0, hump_u(r)));
}

TEST(Hump2d, SecondDerivativeJumpAtR0IsAboutOnePercent) {
  const double r0 = std::pow(2.0, 1.0 / 6.0), h = 1e-4;
  const double lj2 = (hump_u(r0) - 2 * hump_u(r0 - h) + hump_u(r0 - 2 * h)) / (h * h);
  const double p2 = (hump_u(r0 + 2 * h) - 2 * hump_u(r0 + h) + hump_u(r0)) / (h * h);
  const double jump = std::fabs(p2 - lj2) / std::fabs(lj2);
  EXPECT_GT(jump, 0.003);
  EXPECT_LT(jump, 0.03);
}

// Force from the evaluator (float) against a central finite difference of the potential
// written out in double (h = 1e-5, truncation ~1e-9): the float evaluator's forces carry a
// relative rounding error of ~1e-6, and near r* the polynomial's cancellation between terms
// of size ~300 limits the absolute error to ~1e-4 (tolerance below).
template <class M, class U>
void check_finite_difference(const M& m, U&& reference_u, double rmin, double rmax, int ti,
                             int tj) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(rmin, rmax);
  for (int k = 0; k < 200; ++k) {
    const double r = u(rng), h = 1e-5;
    const double fd = -(reference_u(r + h) - reference_u(r - h)) / (2 * h);
    const double f = force(m, r, ti, tj);
    EXPECT_NEAR(f, fd, 5e-4 + 2e-5 * std::fabs(f)) << "r = " << r;
  }
}

TEST(Binary3d, ForceIsMinusDerivative) {
  const auto m = vitrify::Binary3d::make();
  check_finite_difference(
      m, [](double r) { return binary_u(r, 1.0); }, 0.85, 1.15, 0, 0);
  check_finite_difference(
      m, [](double r) { return binary_u(r, 1.2); }, 1.0, 1.38, 0, 1);
  check_finite_difference(
      m, [](double r) { return binary_u(r, 1.4); }, 1.2, 1.61, 1, 1);
}

TEST(Hump2d, ForceIsMinusDerivative) {
  const auto m = vitrify::Hump2d::make();
  check_finite_difference(m, hump_u, 0.9, 1.12, 0, 0);
  check_finite_difference(m, hump_u, 1.125, 1.649, 0, 0);
}

// ---- every model of the list against its independent reference --------------------------

class ModelEvaluators : public vitrify::test_paths::ModelTest {};
INSTANTIATE_TEST_SUITE_P(Models, ModelEvaluators, vitrify::test_paths::model_cases(),
                         vitrify::test_paths::CaseName{});

// The float evaluator against the double reference written from docs/PHYSICS.md
// (tests/common/reference_models.hpp), for every type pair from 0.85 sigma to beyond the
// cutoff: U and -dU/dr to 2e-5 of the sum of the magnitudes of their terms (float rounding
// and cancellation), zero beyond the cutoff, the same cutoff and quasi-species radius.
TEST_P(ModelEvaluators, MatchTheReferencePotential) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    using Ref = vitrify::test_ref::Reference<Model>;
    const Model m = Model::make();
    for (int a = 0; a < Model::n_types; ++a)
      for (int b = 0; b < Model::n_types; ++b) {
        const double s = Ref::sigma(a, b), rc = Ref::cutoff(a, b);
        EXPECT_NEAR(m.cutoff2(a, b), rc * rc, 1e-6 * rc * rc) << a << b;
        const double rs = Ref::species_radius(a, b);
        EXPECT_TRUE(m.is_species_neighbor(real(rs * rs * (1 - 1e-5)), a, b)) << a << b;
        EXPECT_FALSE(m.is_species_neighbor(real(rs * rs * (1 + 1e-5)), a, b)) << a << b;
        for (double r = 0.85 * s; r < 1.1 * rc; r += 0.0071 * s) {
          if (std::fabs(r / rc - 1) < 1e-5) continue;
          real f, e;
          const bool inside = m.evaluate(real(r * r), a, b, f, e);
          EXPECT_EQ(inside, r < rc) << "types " << a << b << " r " << r;
          if (!inside || r >= rc) continue;
          const vitrify::test_ref::Pair p = Ref::pair(r, a, b);
          EXPECT_NEAR(e, p.u, 2e-5 * p.u_terms) << "types " << a << b << " r " << r;
          EXPECT_NEAR(double(f) * r, p.f, 2e-5 * p.f_terms + 2e-5 * std::fabs(p.f))
              << "types " << a << b << " r " << r;
        }
      }
  });
}
