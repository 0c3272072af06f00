#pragma once
// hump2d: one-component 2D "hump" model, the paper's second model (docs/PHYSICS.md,
// "Models"), sigma = eps = 1.
//   r <= r0 = 2^(1/6):  U = r^-12 - r^-6 + 1/4 + h0
//   r0 < r <= r*:       U = h0 P(x),  x = (r - r0)/(r* - r0),  P(x) = sum_k a_k x^k
//   r > r* = 1.65:      U = 0
// h0 = 0.75. Coefficients exactly as published (U'' jumps by about 1 % at r0).
// Sign convention as every evaluator: fscal = -(1/r) dU/dr, energy = U(r).
//
// Evaluation in float: the published P(x) sums terms of size ~300 to values of order one near
// r*, which in float leaves force errors of ~1e-4. make() therefore re-expands the same
// polynomial (in double, from the published coefficients) about the centres c_m of kPieces
// equal pieces of [r0, r*], in t = r - c_m (exact in float for the r of a piece), where the
// terms are no larger than the value itself: U = sum_j d_mj t^j, dU/dr = sum_j e_mj t^j.
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

  static constexpr double r0_exact = 1.122462048309373;  // 2^(1/6)
  static constexpr double h0_exact = 0.75;
  // The published coefficients a_k of P(x): the definition of the potential.
  static constexpr double published[8] = {1.0,
                                          0.0,
                                          2.675405732987203,
                                          46.593574934286437,
                                          -212.021700143354,
                                          308.7495934944721,
                                          -188.1854149609638,
                                          41.188540942572089};
  static constexpr int kPieces = 4;

  real r0, rstar, h0;
  real r0_2, rstar2, rhump2;
  real piece_scale;      // kPieces / (r* - r0): piece of r is int((r - r0) * piece_scale)
  real centre[kPieces];  // c_m, float values
  real d[kPieces][8];    // U   = sum_j d[m][j] t^j, t = r - c_m
  real e[kPieces][7];    // dU/dr = sum_j e[m][j] t^j

  static Hump2d make() {
    Hump2d m{};
    m.r0 = real(r0_exact);
    m.rstar = real(r_star);
    m.h0 = real(h0_exact);
    m.r0_2 = m.r0 * m.r0;
    m.rstar2 = m.rstar * m.rstar;
    m.rhump2 = real(r_hump * r_hump);
    const double w = r_star - r0_exact;
    m.piece_scale = real(kPieces / w);
    for (int p = 0; p < kPieces; ++p) {
      // The centre as a float, and the expansion about exactly that value.
      m.centre[p] = real(r0_exact + (p + 0.5) * w / kPieces);
      const double xc = (double(m.centre[p]) - r0_exact) / w;
      for (int j = 0; j < 8; ++j) {
        // Taylor coefficient j of P about xc: sum_k a_k binom(k, j) xc^(k-j), then x -> r.
        double b = 0;
        for (int k = 7; k >= j; --k) b = b * xc + published[k] * binomial(k, j);
        double wj = 1;
        for (int q = 0; q < j; ++q) wj *= w;
        m.d[p][j] = real(h0_exact * b / wj);
        if (j > 0) m.e[p][j - 1] = real(j * h0_exact * b / wj);
      }
    }
    return m;
  }

  static constexpr double binomial(int n, int k) {
    double b = 1;
    for (int q = 1; q <= k; ++q) b = b * (n - k + q) / q;
    return b;
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
    int piece = static_cast<int>((r - r0) * piece_scale);
    piece = piece < 0 ? 0 : (piece >= kPieces ? kPieces - 1 : piece);
    const real t = r - centre[piece];
    const real* dc = d[piece];
    const real* ec = e[piece];
    real u = dc[7];
    real du = ec[6];
    for (int j = 6; j >= 1; --j) {
      u = u * t + dc[j];
      du = du * t + ec[j - 1];
    }
    u = u * t + dc[0];
    energy = u;
    fscal = -du / r;
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
    // Two particles meeting with 20 k_B T at T = 1.5 (the shipped melt temperature) come to
    // r = 0.74 of the LJ core, where U'' = 156/r^14 - 42/r^8 gives omega = 137/tau:
    // 2/omega = 0.0146.
    m.max_stable_dt = 0.013;
    m.max_dt_reason =
        "velocity Verlet needs omega dt < 2; two particles meeting with 20 kT at T = 1.5 "
        "(the shipped melt temperature) come to r = 0.74 sigma, where the LJ core vibrates "
        "with omega = 137/tau (2/omega = 0.0146)";
    m.isf_k = 6.16;  // all particles
    m.isf_types = {0};
    add_species_range(m.paper_species, "c", 0, 2, 6);
    m.liquid_species = {"c2", "c5", "c6"};
    m.reference_species = {"c2"};
    m.reference_reason = "the paper's reference species i = 2";
    m.paper_energy_per_neighbor = 0.83;  // E_i = 0.83 i over the bound neighbours
    return m;
  }
};

}  // namespace vitrify
