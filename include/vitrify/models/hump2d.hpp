#pragma once
// hump2d: one-component 2D "hump" model, the paper's second model (docs/PHYSICS.md,
// "Models"), sigma = eps = 1.
//   r <= r0 = 2^(1/6):  U = r^-12 - r^-6 + 1/4 + h0
//   r0 < r <= r*:       U = h0 P(x),  x = (r - r0)/(r* - r0),  P(x) = sum_k a_k x^k
//   r > r* = 1.65:      U = 0
// h0 = 0.75. Coefficients exactly as published (U'' jumps by about 1 % at r0).
// Sign convention as every evaluator: fscal = -(1/r) dU/dr, energy = U(r).
#include "vitrify/core/hostdevice.hpp"
#include "vitrify/core/real.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify {

struct Hump2d {
  static constexpr int dimension = 2;
  static constexpr int n_types = 1;
  static constexpr double r_star = 1.65;  // end of the hump: the interaction cutoff
  // Quasi-species radius: neighbours bound in front of the hump, r < r_hump = 1.32.
  static constexpr double r_hump = 1.32;

  real r0, rstar, h0;
  real a[8];
  real r0_2, rstar2, rhump2;

  static Hump2d make() {
    Hump2d m{};
    m.r0 = real(1.122462048309373);  // 2^(1/6)
    m.rstar = real(r_star);
    m.h0 = real(0.75);
    const double c[8] = {1.0,
                         0.0,
                         2.675405732987203,
                         46.593574934286437,
                         -212.021700143354,
                         308.7495934944721,
                         -188.1854149609638,
                         41.188540942572089};
    for (int k = 0; k < 8; ++k) m.a[k] = real(c[k]);
    m.r0_2 = m.r0 * m.r0;
    m.rstar2 = m.rstar * m.rstar;
    m.rhump2 = real(r_hump * r_hump);
    return m;
  }

  VT_HD real max_cutoff() const { return rstar; }
  VT_HD real cutoff2(int, int) const { return rstar2; }

  VT_HD bool evaluate(real r2, int, int, real& fscal, real& energy) const {
    if (r2 > rstar2) return false;
    if (r2 <= r0_2) {
      const real ir2 = real(1) / r2;
      const real ir6 = ir2 * ir2 * ir2;
      const real ir12 = ir6 * ir6;
      energy = ir12 - ir6 + real(0.25) + h0;
      fscal = (real(12) * ir12 - real(6) * ir6) * ir2;
      return true;
    }
    const real r = sqrt(r2);
    const real w = rstar - r0;
    const real x = (r - r0) / w;
    real p = a[7];
    real dp = real(7) * a[7];
    for (int k = 6; k >= 1; --k) {
      p = p * x + a[k];
      dp = dp * x + real(k) * a[k];
    }
    p = p * x + a[0];
    energy = h0 * p;
    fscal = -h0 * dp / (w * r);
    return true;
  }

  VT_HD bool is_species_neighbor(real r2, int, int) const { return r2 < rhump2; }

  static ModelInfo info() {
    ModelInfo m;
    m.name = "hump2d";
    m.summary = "2D one-component hump model (the paper's NVT model)";
    m.dimension = dimension;
    m.n_types = n_types;
    m.type_names = {"A"};
    m.type_fractions = {1.0};
    m.particle_multiple = 1;
    m.species_prefixes = {"c"};
    m.default_ensemble = "nvt";
    m.default_particles = 4096;
    m.default_density = 0.825;  // calibration: docs/VALIDATION.md
    m.default_pressure = 1.0;
    m.default_initial_density = 0.825;
    m.default_species = "paper";
    m.max_cutoff = r_star;
    m.min_init_distance = 0.85;
    m.isf_k = 6.16;  // all particles
    m.isf_types = {0};
    add_species_range(m.paper_species, "c", 0, 2, 6);
    m.liquid_species = {"c2", "c5", "c6"};
    m.reference_species = {"c2"};
    m.reference_reason = "the paper's reference species i = 2";
    return m;
  }
};

}  // namespace vitrify
