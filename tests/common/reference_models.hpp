#pragma once
// Independent references for the engine tests: each model's pair potential and quasi-species
// rule written out again in double precision from docs/PHYSICS.md ("Models"), without the
// model's evaluator, and a brute-force N^2 evaluation of a configuration (forces, energies,
// virial, species counts) from them.
//
// Adding a model: specialise Reference<Model> below (sigma, cutoff, pair, species rule and a
// few published values of U). A model of AllModels without one fails to compile.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "tests/common/test_util.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/models/all.hpp"

namespace vitrify::test_ref {

// A value of the potential quoted in docs/PHYSICS.md (or following from its formulas):
// U_ab(r) = u to within tol (the digits quoted).
struct PublishedValue {
  int a, b;
  double r, u, tol;
};

// One pair inside its cutoff: U(r), -dU/dr, and the sums of the magnitudes of the terms that
// make them up (the scale of float rounding and cancellation in an evaluator).
struct Pair {
  double u, f, u_terms, f_terms;
};

// Per model: sigma(a, b) (the contact distance), cutoff(a, b), inside(r, a, b) (whether r is
// within the cutoff, with the model's < or <=), pair(r, a, b), species_radius(a, b) and
// published() (values of U to check the reference itself).
template <class Model>
struct Reference;

// binary3d: U = (s/r)^8 - (s/r)^6 + 27/256 for r <= rc = sqrt(8/6) s; s = 1, 1.2, 1.4.
template <>
struct Reference<Binary3d> {
  static double sigma(int a, int b) { return a + b == 0 ? 1.0 : (a + b == 1 ? 1.2 : 1.4); }
  static double cutoff(int a, int b) { return std::sqrt(8.0 / 6.0) * sigma(a, b); }
  static bool inside(double r, int a, int b) { return r <= cutoff(a, b); }
  static Pair pair(double r, int a, int b) {
    const double s = sigma(a, b) / r, s6 = std::pow(s, 6), s8 = std::pow(s, 8);
    return {s8 - s6 + 27.0 / 256.0, (8 * s8 - 6 * s6) / r, s8 + s6 + 27.0 / 256.0,
            (8 * s8 + 6 * s6) / r};
  }
  static double species_radius(int a, int b) { return cutoff(a, b); }
  static std::vector<PublishedValue> published() {
    return {{0, 0, 1.0, 27.0 / 256.0, 1e-12},  // U(sigma) = a0
            {1, 1, 1.4, 27.0 / 256.0, 1e-12},
            {0, 0, 1.1547, 0.0, 1e-8},  // U(rc) = 0 (rc = 1.1547, 1.3856, 1.6166)
            {0, 1, 1.3856, 0.0, 1e-8},
            {1, 1, 1.6166, 0.0, 1e-8}};
  }
};

// hump2d: LJ core (without the factor 4) up to r0 = 2^(1/6), then h0 P(x) up to r* = 1.65.
template <>
struct Reference<Hump2d> {
  static constexpr double r0 = 1.122462048309373, r_star = 1.65, h0 = 0.75;
  static constexpr double a[8] = {1.0,
                                  0.0,
                                  2.675405732987203,
                                  46.593574934286437,
                                  -212.021700143354,
                                  308.7495934944721,
                                  -188.1854149609638,
                                  41.188540942572089};
  static double sigma(int, int) { return 1.0; }
  static double cutoff(int, int) { return r_star; }
  static bool inside(double r, int, int) { return r <= r_star; }
  static Pair pair(double r, int, int) {
    if (r <= r0) {
      const double r6 = std::pow(r, -6), r12 = r6 * r6;
      return {r12 - r6 + 0.25 + h0, (12 * r12 - 6 * r6) / r, r12 + r6 + 0.25 + h0,
              (12 * r12 + 6 * r6) / r};
    }
    const double w = r_star - r0, x = (r - r0) / w;
    Pair out{0, 0, 0, 0};
    for (int k = 0; k <= 7; ++k) {
      out.u += h0 * a[k] * std::pow(x, k);
      out.u_terms += h0 * std::fabs(a[k]) * std::pow(x, k);
      if (k > 0) {
        out.f -= h0 * k * a[k] * std::pow(x, k - 1) / w;
        out.f_terms += h0 * k * std::fabs(a[k]) * std::pow(x, k - 1) / w;
      }
    }
    return out;
  }
  static double species_radius(int, int) { return 1.32; }
  static std::vector<PublishedValue> published() {
    return {{0, 0, r0, h0, 1e-12},          // the well's bottom
            {0, 0, 1.31765, 1.0875, 1e-4},  // the hump's top
            {0, 0, r_star, 0.0, 1e-9}};
  }
};

// kob-andersen: 4 eps [(s/r)^12 - (s/r)^6] - U(rc) for r < rc = 2.5 s.
template <>
struct Reference<KobAndersen> {
  static double epsilon(int a, int b) { return a + b == 0 ? 1.0 : (a + b == 1 ? 1.5 : 0.5); }
  static double sigma(int a, int b) { return a + b == 0 ? 1.0 : (a + b == 1 ? 0.8 : 0.88); }
  static double cutoff(int a, int b) { return 2.5 * sigma(a, b); }
  static bool inside(double r, int a, int b) { return r < cutoff(a, b); }
  static Pair pair(double r, int a, int b) {
    const double e = epsilon(a, b), s6 = std::pow(sigma(a, b) / r, 6);
    const double c6 = std::pow(2.5, -6), shift = 4 * e * (c6 * c6 - c6);
    return {4 * e * (s6 * s6 - s6) - shift, 24 * e * (2 * s6 * s6 - s6) / r,
            4 * e * (s6 * s6 + s6) + std::fabs(shift), 24 * e * (2 * s6 * s6 + s6) / r};
  }
  static double species_radius(int a, int b) {
    return a + b == 0 ? 1.45 : (a + b == 1 ? 1.25 : 1.075);
  }
  static std::vector<PublishedValue> published() {
    const double r_min = std::pow(2.0, 1.0 / 6.0);
    return {{0, 0, 1.0, 0.0163169, 1e-7},  // U(sigma) = the shift (docs/PHYSICS.md table)
            {0, 1, 0.8, 0.0244753, 1e-7},
            {1, 1, 0.88, 0.0081584, 1e-7},
            {0, 0, r_min, -1.0 + 0.0163169, 1e-7},  // the well: -eps + shift
            {0, 1, 0.8 * r_min, -1.5 + 0.0244753, 1e-7},
            {1, 1, 2.2 * (1 - 1e-12), 0.0, 1e-9}};
  }
};

// Pairs closer than this (relative, in r^2) to a cutoff or species radius may fall either way
// in float arithmetic.
constexpr double kEdge = 1e-5;

// Brute-force results for one replica, in double from the (float) positions.
struct Result {
  double energy = 0;  // U, each pair once
  double virial = 0;  // W = sum over pairs of r.f
  // Tolerance scales: sums over pairs of the magnitudes of the terms of U (plus |r.f|, the
  // sensitivity to a rounded distance) and of r.f.
  double energy_scale = 0;
  double virial_scale = 0;
  double kinetic = 0;           // K = 1/2 sum v^2
  double edge = 0;              // what pairs at a cutoff (within kEdge) may add or not to U, W
  std::vector<double> f;        // 3 per particle
  std::vector<double> u;        // per particle: sum over j of U (the engine's convention)
  std::vector<double> f_scale;  // per particle, the same for the force and for u_i
  std::vector<double> u_scale;
  std::vector<double> f_edge;     // per particle: what edge pairs may add or not to a force
  std::vector<double> u_edge;     // per particle: what edge pairs may add or not to u_i
  std::vector<int> species;       // quasi-species neighbour counts
  std::vector<int> species_edge;  // pairs within kEdge of the species radius
};

template <class Model>
Result brute_force(const BatchState& s, int r) {
  using Ref = Reference<Model>;
  const int n = s.n;
  Result out;
  out.f.assign(3 * static_cast<std::size_t>(n), 0.0);
  out.u.assign(n, 0.0);
  out.f_scale.assign(n, 0.0);
  out.u_scale.assign(n, 0.0);
  out.f_edge.assign(n, 0.0);
  out.u_edge.assign(n, 0.0);
  out.species.assign(n, 0);
  out.species_edge.assign(n, 0);
  const real* p[3] = {s.x.data(), s.y.data(), s.z.data()};
  const real* v[3] = {s.vx.data(), s.vy.data(), s.vz.data()};
  const long base = static_cast<long>(r) * n;
  for (int i = 0; i < n; ++i)
    for (int a = 0; a < s.dim; ++a) out.kinetic += 0.5 * double(v[a][base + i]) * v[a][base + i];
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      double d[3] = {0, 0, 0};
      for (int a = 0; a < s.dim; ++a) {
        const double len = s.box[3 * r + a];
        d[a] = double(p[a][base + i]) - double(p[a][base + j]);
        d[a] -= len * std::round(d[a] / len);
      }
      const double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2], dist = std::sqrt(r2);
      const int ti = s.type[base + i], tj = s.type[base + j];
      const double rs = Ref::species_radius(ti, tj);
      if (std::fabs(r2 / (rs * rs) - 1) < kEdge) {
        ++out.species_edge[i];
        ++out.species_edge[j];
      } else if (dist < rs) {
        ++out.species[i];
        ++out.species[j];
      }
      const double rc = Ref::cutoff(ti, tj);
      const bool at_edge = std::fabs(r2 / (rc * rc) - 1) < kEdge;
      if (!at_edge && !Ref::inside(dist, ti, tj)) continue;
      const Pair pr = Ref::pair(dist, ti, tj);
      const double u = pr.u, fr = pr.f;
      const double weight = at_edge ? 0.5 : 1.0;  // an edge pair: half in, half slack
      const double fscal = weight * fr / dist;
      for (int a = 0; a < 3; ++a) {
        out.f[3 * i + a] += fscal * d[a];
        out.f[3 * j + a] -= fscal * d[a];
      }
      out.energy += weight * u;
      out.virial += weight * fr * dist;
      out.u[i] += weight * u;
      out.u[j] += weight * u;
      const double w = std::fabs(fr * dist), w_terms = pr.f_terms * dist;
      out.energy_scale += pr.u_terms + w;
      out.virial_scale += w_terms;
      for (int k : {i, j}) {
        out.f_scale[k] += pr.f_terms;
        out.u_scale[k] += pr.u_terms + w;
      }
      if (at_edge) {
        const double slack = 0.5 * (std::fabs(u) + w);
        out.edge += slack;
        for (int k : {i, j}) {
          out.f_edge[k] += 0.5 * std::fabs(fr);
          out.u_edge[k] += 0.5 * std::fabs(u);
        }
      }
    }
  return out;
}

// ---- configurations -------------------------------------------------------------------

// The largest neighbour-list radius (interaction cutoff + skin) of a model.
template <class Model>
double list_radius(double skin) {
  double rc = 0;
  for (int a = 0; a < Model::n_types; ++a)
    for (int b = 0; b < Model::n_types; ++b) rc = std::max(rc, Reference<Model>::cutoff(a, b));
  return rc + skin;
}

// A type drawn from the model's composition.
inline int draw_type(const ModelInfo& m, double u01) {
  double acc = 0;
  for (int t = 0; t + 1 < m.n_types; ++t) {
    acc += m.type_fractions[t];
    if (u01 < acc) return t;
  }
  return m.n_types - 1;
}

// Replica r of `s`: random positions in a cubic (square) box of edge `len`, no two particles
// closer than `dmin`, types from the model's composition, velocities uniform in [-1, 1].
inline void random_replica(BatchState& s, int r, const ModelInfo& m, double len, double dmin,
                           std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int a = 0; a < 3; ++a) s.box[3 * r + a] = real(a < s.dim ? len : 1.0);
  for (int i = 0; i < s.n; ++i) {
    const long g = static_cast<long>(r) * s.n + i;
    for (long tries = 0;; ++tries) {
      s.x[g] = real(u(rng) * len);
      s.y[g] = real(u(rng) * len);
      s.z[g] = s.dim == 3 ? real(u(rng) * len) : real(0);
      bool ok = true;
      for (int j = 0; j < i && ok; ++j)
        ok = test_util::distance2(s, r, g, static_cast<long>(r) * s.n + j) > dmin * dmin;
      if (ok) break;
      if (tries > 1000000) throw std::runtime_error("random_replica: box too full");
    }
    s.type[g] = draw_type(m, u(rng));
    s.vx[g] = real(2 * u(rng) - 1);
    s.vy[g] = real(2 * u(rng) - 1);
    s.vz[g] = s.dim == 3 ? real(2 * u(rng) - 1) : real(0);
    s.img_x[g] = s.img_y[g] = s.img_z[g] = 0;
  }
}

// Box edge holding n particles at number density rho in d dimensions.
inline double box_edge(int n, double rho, int d) { return std::pow(n / rho, 1.0 / d); }

// The smallest multiple of the model's particle multiple that is >= n.
inline int round_up_particles(const ModelInfo& m, double n) {
  const int k = m.particle_multiple;
  return static_cast<int>(std::ceil(n / k - 1e-9)) * k;
}

}  // namespace vitrify::test_ref
