#pragma once
// kob-andersen: the Kob-Andersen 80:20 Lennard-Jones mixture in 3D (W. Kob and H. C. Andersen,
// Phys. Rev. E 51, 4626 (1995)), the field's standard glass former (docs/PHYSICS.md, "Models").
//   U_ab(r) = 4 eps_ab [ (s_ab/r)^12 - (s_ab/r)^6 ] - U_ab(rc_ab)   for r < rc_ab = 2.5 s_ab
// (energy-shifted, force not shifted); eps_AA = 1, eps_AB = 1.5, eps_BB = 0.5; s_AA = 1,
// s_AB = 0.8, s_BB = 0.88. Types: 0 = A (80 %), 1 = B (20 %). All masses 1.
// Sign convention as every evaluator: fscal = -(1/r) dU/dr, energy = U(r).
#include <cmath>

#include "vitrify/core/hostdevice.hpp"
#include "vitrify/core/real.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify {

struct KobAndersen {
  static constexpr int dimension = 3;
  static constexpr int n_types = 2;
  static constexpr double epsilon[2][2] = {{1.0, 1.5}, {1.5, 0.5}};
  static constexpr double sigma[2][2] = {{1.0, 0.8}, {0.8, 0.88}};
  static constexpr double cutoff_sigmas = 2.5;  // rc_ab / s_ab
  // Quasi-species radii: the first minimum of each partial g(r).
  static constexpr double species_radius[2][2] = {{1.45, 1.25}, {1.25, 1.075}};

  real eps4[2][2];    // 4 eps_ab
  real sigma2[2][2];  // s_ab^2
  real rc2[2][2];     // (2.5 s_ab)^2
  real shift[2][2];   // U_ab(rc_ab) without the shift
  real species2[2][2];

  static KobAndersen make() {
    KobAndersen m{};
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        const double s2 = sigma[a][b] * sigma[a][b];
        const double rc2 = cutoff_sigmas * cutoff_sigmas * s2;
        const double sr6 = std::pow(s2 / rc2, 3);
        m.eps4[a][b] = real(4.0 * epsilon[a][b]);
        m.sigma2[a][b] = real(s2);
        m.rc2[a][b] = real(rc2);
        m.shift[a][b] = real(4.0 * epsilon[a][b] * (sr6 * sr6 - sr6));
        m.species2[a][b] = real(species_radius[a][b] * species_radius[a][b]);
      }
    return m;
  }

  // Largest interaction cutoff (sigma): 2.5 s_AA.
  VT_HD real max_cutoff() const { return sqrt(rc2[0][0]); }
  VT_HD real cutoff2(int ti, int tj) const { return rc2[ti][tj]; }

  VT_HD bool evaluate(real r2, int ti, int tj, real& fscal, real& energy) const {
    if (r2 >= rc2[ti][tj]) return false;
    const real ir2 = real(1) / r2;
    const real s2 = sigma2[ti][tj] * ir2;
    const real s6 = s2 * s2 * s2;
    const real s12 = s6 * s6;
    energy = eps4[ti][tj] * (s12 - s6) - shift[ti][tj];
    fscal = eps4[ti][tj] * (real(12) * s12 - real(6) * s6) * ir2;
    return true;
  }

  // Quasi-species rule: j counts as a neighbour of i within the first minimum of g_ab(r).
  VT_HD bool is_species_neighbor(real r2, int ti, int tj) const { return r2 < species2[ti][tj]; }

  static ModelInfo info() {
    ModelInfo m;
    m.name = "kob-andersen";
    m.summary = "3D 80:20 Kob-Andersen Lennard-Jones mixture (not in the paper)";
    m.dimension = dimension;
    m.n_types = n_types;
    m.type_names = {"A", "B"};
    m.type_fractions = {0.8, 0.2};
    m.particle_multiple = 5;
    m.species_prefixes = {"a", "b"};
    m.default_ensemble = "nvt";
    m.default_particles = 4000;
    m.default_density = 1.2;
    m.default_pressure = 4.5;  // rho ~ 1.2 near T = 0.55 (docs/VALIDATION.md)
    m.default_initial_density = 1.2;
    m.default_species = "auto";
    m.max_cutoff = cutoff_sigmas * sigma[0][0];
    m.min_init_distance = 0.8;
    // An A-B pair (epsilon 1.5, sigma 0.8, the stiffest) meeting with 20 k_B T at T = 2 (the
    // shipped melt temperature) comes to r = 0.66, where U'' gives omega = 196/tau:
    // 2/omega = 0.010.
    m.max_stable_dt = 0.01;
    m.max_dt_reason =
        "velocity Verlet needs omega dt < 2; an A-B pair (epsilon = 1.5, sigma = 0.8, the "
        "stiffest) meeting with 20 kT at T = 2 (the shipped melt temperature) comes to "
        "r = 0.66 sigma, where it vibrates with omega = 196/tau (2/omega = 0.010)";
    m.isf_k = 7.25;  // A particles
    m.isf_types = {0};
    m.reference_species = {"", ""};
    return m;
  }
};

}  // namespace vitrify
