#pragma once
// binary3d: 50:50 binary mixture of soft spheres in 3D, the paper's first model
// (docs/PHYSICS.md, "Models").
//   U(r) = eps [ (s_ij/r)^8 - (s_ij/r)^6 + a0 ]   for r <= rc_ij = sqrt(8/6) s_ij, else 0,
//   a0 = 27/256 so that U(rc) = U'(rc) = 0. Purely repulsive.
// Types: 0 = small (s_ss = 1.0), 1 = large (s_ll = 1.4), s_sl = 1.2. All masses 1.
//
// Sign convention shared by every evaluator: evaluate() returns fscal = -(1/r) dU/dr,
// so that the force on particle i from j is fscal * (r_i - r_j), and energy = U(r).
#include <cmath>

#include "vitrify/core/hostdevice.hpp"
#include "vitrify/core/real.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify {

struct Binary3d {
  static constexpr int dimension = 3;
  static constexpr int n_types = 2;
  static constexpr double sigma_small = 1.0, sigma_mixed = 1.2, sigma_large = 1.4;
  static constexpr double cutoff_factor2 = 8.0 / 6.0;  // rc^2 / sigma^2 (minimum of the 8-6 form)

  real sigma2[2][2];  // s_ij^2
  real rc2[2][2];     // cutoff^2 = (8/6) s_ij^2; also the quasi-species neighbour radius^2
  real a0;            // 27/256

  static Binary3d make() {
    Binary3d m{};
    const double s[2][2] = {{sigma_small, sigma_mixed}, {sigma_mixed, sigma_large}};
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        m.sigma2[a][b] = real(s[a][b] * s[a][b]);
        m.rc2[a][b] = real(cutoff_factor2 * s[a][b] * s[a][b]);
      }
    m.a0 = real(27.0 / 256.0);
    return m;
  }

  // Largest interaction cutoff (sigma): sqrt(8/6) * 1.4.
  VT_HD real max_cutoff() const { return sqrt(rc2[1][1]); }
  VT_HD real cutoff2(int ti, int tj) const { return rc2[ti][tj]; }

  VT_HD bool evaluate(real r2, int ti, int tj, real& fscal, real& energy) const {
    if (r2 > rc2[ti][tj]) return false;
    const real ir2 = real(1) / r2;
    const real s2 = sigma2[ti][tj] * ir2;
    const real s6 = s2 * s2 * s2;
    const real s8 = s6 * s2;
    energy = s8 - s6 + a0;
    fscal = (real(8) * s8 - real(6) * s6) * ir2;
    return true;
  }

  // Quasi-species rule: j counts as a neighbour of i when r_ij <= rc(type_i, type_j).
  VT_HD bool is_species_neighbor(real r2, int ti, int tj) const { return r2 <= rc2[ti][tj]; }

  static ModelInfo info() {
    ModelInfo m;
    m.name = "binary3d";
    m.summary = "3D 50:50 soft-sphere 8-6 mixture (the paper's NPT model)";
    m.dimension = dimension;
    m.n_types = n_types;
    m.type_names = {"S", "L"};
    m.type_fractions = {0.5, 0.5};
    m.particle_multiple = 2;
    m.species_prefixes = {"s", "l"};
    m.default_ensemble = "npt";
    m.default_particles = 4096;
    m.default_density = 0.74;
    m.default_pressure = 10.0;
    m.default_initial_density = 0.6;
    m.default_species = "paper";
    m.max_cutoff = std::sqrt(cutoff_factor2) * sigma_large;
    m.min_init_distance = 0.8;
    // Two small particles (sigma = 1, reduced mass 1/2) meeting with 20 k_B T at T = 3 (the
    // shipped melt temperature) come to r = 0.57, where U'' = 72/r^10 - 42/r^8 gives
    // omega = sqrt(U''/(1/2)) = 178/tau: 2/omega = 0.011.
    m.max_stable_dt = 0.01;
    m.max_dt_reason =
        "velocity Verlet needs omega dt < 2; two small particles meeting with 20 kT at "
        "T = 3 (the shipped melt temperature) come to r = 0.57 sigma, where the 8-6 core "
        "vibrates with omega = 178/tau (2/omega = 0.011); larger steps heat the hot stages "
        "until the run blows up (dt = 0.02 does at T = 6)";
    m.isf_k = 5.1;  // large particles
    m.isf_types = {1};
    add_species_range(m.paper_species, "s", 0, 3, 10);
    add_species_range(m.paper_species, "l", 1, 6, 14);
    for (int n = 3; n <= 7; ++n) m.liquid_species.push_back(m.species_name(0, n));
    for (int n = 6; n <= 11; ++n) m.liquid_species.push_back(m.species_name(1, n));
    m.reference_species = {"", ""};
    return m;
  }
};

}  // namespace vitrify
