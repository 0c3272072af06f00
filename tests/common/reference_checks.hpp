#pragma once
// An engine's configuration against the brute-force reference of tests/common/reference_models.hpp:
// forces, per-particle energies, total energy, virial (and, for a configuration just set,
// kinetic energy, temperature and pressure), neighbour lists and quasi-species counts.
//
// Tolerances. The engine evaluates each pair in float (`real`) from float positions; the
// reference evaluates the same float positions in double. A pair distance carries a rounding
// of about one float ulp of the coordinates (|x| < 30: 2e-6, i.e. ~2e-6 relative for r ~ 1),
// which changes U by |r f| * 2e-6 and r.f by at most 13 times that (the r^-12 core); the float
// evaluation adds a few roundings of 6e-8 relative, and the hump polynomial loses ~1e-5
// absolute near r* to cancellation (terms of ~300). Sums are compared to 1e-4 of the sum of
// the magnitudes of their terms (|U| + |r.f| per pair for energies, |f| for forces, |r.f|
// for the virial) plus 1e-5 absolute: a factor of 5 or more above the worst case, and the
// tests print the largest error found as a fraction of its tolerance. Pairs within 1e-5 of a
// cutoff may be counted or not (kob-andersen's force steps at rc); their contribution is
// added to the tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "kernels/integrate.hpp"
#include "tests/common/reference_models.hpp"
#include "tests/common/test_util.hpp"
#include "vitrify/engine/engine.hpp"

namespace vitrify::test_ref {

struct CheckOptions {
  double skin = 0.3;             // the engine's skin (list radius = cutoff + skin)
  bool just_set = true;          // configuration from set_state (no step since): K, T, p checked
  bool lists_just_built = true;  // listed pairs lie within the list radius
  int list_stride = 7;           // neighbour lists checked for every list_stride-th particle
  bool species = true;           // quasi-species counts checked
};

constexpr double kRelTol = 1e-4, kAbsTol = 1e-5;

// Largest error / tolerance seen, per quantity.
struct Worst {
  double energy = 0, virial = 0, force = 0, particle_energy = 0, kinetic = 0, pressure = 0;
  void print(const std::string& what) const {
    std::printf(
        "[ info ] %s: largest error / tolerance: U %.2g, W %.2g, forces %.2g, u_i %.2g, "
        "K %.2g, p %.2g\n",
        what.c_str(), energy, virial, force, particle_energy, kinetic, pressure);
  }
};

inline void track(double& worst, double error, double tol) { worst = std::max(worst, error / tol); }

template <class Model>
Worst expect_matches_reference(Engine& e, const BatchState& s, const CheckOptions& o,
                               const std::string& what) {
  using Ref = Reference<Model>;
  std::vector<real> fx, fy, fz, ui;
  e.forces(fx, fy, fz);
  e.particle_energies(ui);
  std::vector<double> obs;
  e.observables(obs);
  std::vector<int> species;
  if (o.species) e.species_neighbor_counts(species);
  Worst worst;
  const real* f[3] = {fx.data(), fy.data(), fz.data()};
  for (int r = 0; r < s.n_replicas; ++r) {
    const Result ref = brute_force<Model>(s, r);
    const double* ob = &obs[static_cast<long>(r) * kObsCount];
    const std::string at = what + " replica " + std::to_string(r);

    double tol = kRelTol * ref.energy_scale + kAbsTol + ref.edge;
    EXPECT_NEAR(ob[kObsPotential], ref.energy, tol) << at;
    track(worst.energy, std::fabs(ob[kObsPotential] - ref.energy), tol);
    const double w_tol = kRelTol * ref.virial_scale + kAbsTol + ref.edge;
    EXPECT_NEAR(ob[kObsVirial], ref.virial, w_tol) << at;
    track(worst.virial, std::fabs(ob[kObsVirial] - ref.virial), w_tol);
    double volume = 1;
    for (int a = 0; a < s.dim; ++a) volume *= double(s.box[3 * r + a]);
    EXPECT_NEAR(ob[kObsVolume], volume, 1e-6 * volume) << at;
    if (o.just_set) {
      tol = 1e-6 * ref.kinetic + 1e-12;
      EXPECT_NEAR(ob[kObsKinetic], ref.kinetic, tol) << at;
      track(worst.kinetic, std::fabs(ob[kObsKinetic] - ref.kinetic), tol);
      const double dof = double(s.dim) * (s.n - 1);
      EXPECT_NEAR(ob[kObsTemperature], 2 * ref.kinetic / dof, 2 * tol / dof) << at;
      const double p = (2 * ref.kinetic + ref.virial) / (s.dim * volume);
      tol = (2 * tol + w_tol) / (s.dim * volume) + 1e-6 * std::fabs(p);
      EXPECT_NEAR(ob[kObsPressure], p, tol) << at;
      track(worst.pressure, std::fabs(ob[kObsPressure] - p), tol);
    }

    for (int i = 0; i < s.n; ++i) {
      const long g = static_cast<long>(r) * s.n + i;
      const double ftol = kRelTol * ref.f_scale[i] + kAbsTol + ref.f_edge[i];
      for (int a = 0; a < s.dim; ++a) {
        const double err = std::fabs(double(f[a][g]) - ref.f[3 * i + a]);
        EXPECT_LE(err, ftol) << at << " particle " << i << " force component " << a << ": "
                             << f[a][g] << " vs " << ref.f[3 * i + a];
        track(worst.force, err, ftol);
      }
      const double utol = kRelTol * ref.u_scale[i] + kAbsTol + ref.u_edge[i];
      const double uerr = std::fabs(double(ui[g]) - ref.u[i]);
      EXPECT_LE(uerr, utol) << at << " particle " << i << " energy " << ui[g] << " vs " << ref.u[i];
      track(worst.particle_energy, uerr, utol);
      if (o.species) {
        if (ref.species_edge[i] == 0)
          EXPECT_EQ(species[g], ref.species[i]) << at << " particle " << i;
        else
          EXPECT_LE(std::abs(species[g] - ref.species[i]), ref.species_edge[i])
              << at << " particle " << i;
      }
    }

    // Neighbour lists: every pair inside the interaction cutoff is listed, no duplicates, no
    // self; right after a build every listed pair is inside cutoff + skin (plus rounding).
    for (int i = 0; i < s.n; i += o.list_stride) {
      const long g = static_cast<long>(r) * s.n + i;
      const std::vector<int> list = e.neighbors_of(g);
      const std::set<int> listed(list.begin(), list.end());
      EXPECT_EQ(listed.size(), list.size()) << at << " particle " << i << ": duplicates";
      EXPECT_EQ(listed.count(static_cast<int>(g)), 0u) << at << " particle " << i << ": self";
      for (int j = 0; j < s.n; ++j) {
        if (j == i) continue;
        const long gj = static_cast<long>(r) * s.n + j;
        const double d2 = test_util::distance2(s, r, g, gj);
        const double rc = Ref::cutoff(s.type[g], s.type[gj]);
        if (d2 < rc * rc * (1 - kEdge))
          EXPECT_EQ(listed.count(static_cast<int>(gj)), 1u)
              << at << ": pair " << i << "-" << j << " inside the cutoff is not listed";
        const double rl = rc + o.skin;
        if (o.lists_just_built && listed.count(static_cast<int>(gj)))
          EXPECT_LT(d2, rl * rl * (1 + 1e-4)) << at << ": pair " << i << "-" << j;
      }
    }
  }
  return worst;
}

}  // namespace vitrify::test_ref
