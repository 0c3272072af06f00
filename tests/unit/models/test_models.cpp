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
#include "vitrify/models/kob_andersen.hpp"
#include "vitrify/models/model_info.hpp"

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
// Kob-Andersen: 4 eps [(s/r)^12 - (s/r)^6] shifted to zero at rc = 2.5 s, parameters by pair.
const double ka_eps[2][2] = {{1.0, 1.5}, {1.5, 0.5}};
const double ka_sigma[2][2] = {{1.0, 0.8}, {0.8, 0.88}};
double lj(double r, double eps, double s) {
  const double x6 = std::pow(s / r, 6);
  return 4 * eps * (x6 * x6 - x6);
}
double ka_u(double r, int a, int b) {
  const double eps = ka_eps[a][b], s = ka_sigma[a][b];
  if (r >= 2.5 * s) return 0;
  return lj(r, eps, s) - lj(2.5 * s, eps, s);
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

TEST(KobAndersen, AnalyticValues) {
  const auto m = vitrify::KobAndersen::make();
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      const double eps = ka_eps[a][b], s = ka_sigma[a][b];
      const double shift = 4 * eps * (std::pow(2.5, -12) - std::pow(2.5, -6));  // ~ -0.0163 eps
      EXPECT_NEAR(shift / eps, -0.016316891136, 1e-11);
      // At r = sigma the unshifted part vanishes; at r = 2^(1/6) sigma it is -eps with zero force.
      EXPECT_NEAR(energy(m, s, a, b), -shift, 1e-6);
      EXPECT_NEAR(force(m, s, a, b), 24 * eps / s, 2e-5 * 24 * eps / s);
      const double rmin = std::pow(2.0, 1.0 / 6.0) * s;
      EXPECT_NEAR(energy(m, rmin, a, b), -eps - shift, 2e-6);
      EXPECT_NEAR(force(m, rmin, a, b), 0.0, 1e-4);
      // The float evaluator against the double formula over the whole range, with a tolerance
      // of a few float roundings of the largest term.
      for (double r = 0.8 * s; r < 2.5 * s; r += 0.005 * s) {
        const double x6 = std::pow(s / r, 6), scale = 4 * eps * (x6 * x6 + x6) + 1;
        EXPECT_NEAR(energy(m, r, a, b), ka_u(r, a, b), 2e-6 * scale)
            << "pair " << a << b << ", r = " << r;
      }
    }
  // Symmetric in the types.
  EXPECT_EQ(energy(m, 0.9, 0, 1), energy(m, 0.9, 1, 0));
  EXPECT_EQ(force(m, 0.9, 0, 1), force(m, 0.9, 1, 0));
}

TEST(KobAndersen, EnergyContinuousAtCutoff) {
  const auto m = vitrify::KobAndersen::make();
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      const double eps = ka_eps[a][b], s = ka_sigma[a][b], rc = 2.5 * s;
      EXPECT_NEAR(double(m.cutoff2(a, b)), rc * rc, 1e-6 * rc * rc);
      EXPECT_NEAR(ka_u(rc * (1 - 1e-12), a, b), 0.0, 1e-12);  // the oracle's U(rc) = 0
      EXPECT_NEAR(energy(m, rc * (1 - 1e-6), a, b), 0.0, 1e-6);
      EXPECT_EQ(energy(m, rc * (1 + 1e-5), a, b), 0.0);  // no interaction beyond rc
      real f, e;
      EXPECT_FALSE(m.evaluate(real(rc * rc * (1 + 1e-5)), a, b, f, e));
      // Only the energy is shifted: the force keeps its LJ value at rc, -dU/dr < 0 (attractive).
      const double f_rc = 4 * eps * (12 * std::pow(2.5, -12) - 6 * std::pow(2.5, -6)) / rc;
      EXPECT_LT(f_rc, 0.0);
      EXPECT_NEAR(force(m, rc * (1 - 1e-6), a, b), f_rc, 1e-5);
    }
  EXPECT_NEAR(double(m.max_cutoff()), 2.5, 1e-6);  // AA has the largest cutoff
}

TEST(KobAndersen, ForceIsMinusDerivative) {
  const auto m = vitrify::KobAndersen::make();
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      const double s = ka_sigma[a][b];
      check_finite_difference(
          m, [a, b](double r) { return ka_u(r, a, b); }, 0.85 * s, 2.49 * s, a, b);
    }
}

TEST(KobAndersen, SpeciesRadii) {
  const auto m = vitrify::KobAndersen::make();
  const double rs[2][2] = {{1.45, 1.25}, {1.25, 1.075}};  // AA, AB, BB
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      const double r = rs[a][b];
      EXPECT_TRUE(m.is_species_neighbor(real(r * r * (1 - 1e-5)), a, b)) << a << b;
      EXPECT_FALSE(m.is_species_neighbor(real(r * r * (1 + 1e-5)), a, b)) << a << b;
      // Within the interaction range, beyond the first peak 2^(1/6) sigma_ab.
      EXPECT_GT(r, std::pow(2.0, 1.0 / 6.0) * ka_sigma[a][b]);
      EXPECT_LT(r, 2.5 * ka_sigma[a][b]);
    }
}

TEST(KobAndersen, ModelInfo) {
  const vitrify::ModelInfo i = vitrify::KobAndersen::info();
  EXPECT_EQ(i.name, "kob-andersen");
  EXPECT_EQ(i.dimension, 3);
  EXPECT_EQ(i.n_types, 2);
  ASSERT_EQ(i.type_fractions.size(), 2u);
  EXPECT_DOUBLE_EQ(i.type_fractions[0], 0.8);
  EXPECT_DOUBLE_EQ(i.type_fractions[1], 0.2);
  EXPECT_EQ(i.particle_multiple, 5);
  EXPECT_EQ(i.type_names, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(i.species_prefixes, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(i.species_name(0, 12), "a12");
  EXPECT_EQ(i.species_name(1, 9), "b9");
  EXPECT_EQ(i.default_ensemble, "nvt");
  EXPECT_EQ(i.default_particles, 4000);
  EXPECT_EQ(i.default_particles % i.particle_multiple, 0);
  EXPECT_DOUBLE_EQ(i.default_density, 1.2);
  EXPECT_DOUBLE_EQ(i.default_initial_density, 1.2);
  EXPECT_EQ(i.default_species, "auto");
  EXPECT_TRUE(i.paper_species.empty());
  EXPECT_TRUE(i.liquid_species.empty());
  EXPECT_DOUBLE_EQ(i.max_cutoff, 2.5);
  EXPECT_NEAR(i.max_cutoff, double(vitrify::KobAndersen::make().max_cutoff()), 1e-6);
  EXPECT_DOUBLE_EQ(i.isf_k, 7.25);
  EXPECT_EQ(i.isf_types, std::vector<int>{0});
  // The registry serves the same description.
  EXPECT_EQ(vitrify::model_info("kob-andersen").particle_multiple, 5);
  EXPECT_EQ(vitrify::model_info("kob-andersen").dimension, 3);
}
