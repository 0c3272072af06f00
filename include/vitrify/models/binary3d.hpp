#pragma once
// binary3d: 50:50 binary mixture of soft spheres in 3D (SPEC.md section 1a).
//   U(r) = eps [ (s_ij/r)^8 - (s_ij/r)^6 + a0 ]   for r <= rc_ij = sqrt(8/6) s_ij, else 0,
//   a0 = 27/256 so that U(rc) = U'(rc) = 0. Purely repulsive.
// Types: 0 = small (s_ss = 1.0), 1 = large (s_ll = 1.4), s_sl = 1.2. All masses 1.
//
// Sign convention shared by every evaluator: evaluate() returns fscal = -(1/r) dU/dr,
// so that the force on particle i from j is fscal * (r_i - r_j), and energy = U(r).
#include "vitrify/core/hostdevice.hpp"
#include "vitrify/core/real.hpp"

namespace vitrify {

struct Binary3d {
  static constexpr int dimension = 3;
  static constexpr int n_types = 2;
  // Self-ISF: large particles only, at k = 5.1 / sigma.
  static constexpr double isf_k = 5.1;

  real sigma2[2][2];  // s_ij^2
  real rc2[2][2];     // cutoff^2 = (8/6) s_ij^2; also the quasi-species neighbour radius^2
  real a0;            // 27/256

  static Binary3d make() {
    Binary3d m{};
    const double s[2][2] = {{1.0, 1.2}, {1.2, 1.4}};
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        m.sigma2[a][b] = real(s[a][b] * s[a][b]);
        m.rc2[a][b] = real(8.0 / 6.0 * s[a][b] * s[a][b]);
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
  VT_HD real species_cutoff2(int ti, int tj) const { return rc2[ti][tj]; }
  VT_HD bool is_species_neighbor(real r2, int ti, int tj) const { return r2 <= rc2[ti][tj]; }
  VT_HD bool isf_particle(int type) const { return type == 1; }
};

}  // namespace vitrify
