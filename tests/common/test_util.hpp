#pragma once
// Helpers shared by the engine tests: random configurations and brute-force oracles.
#include <cmath>
#include <random>
#include <vector>

#include "vitrify/core/box.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/exec_cpu.hpp"

namespace vitrify::test_util {

// The CPU policy with the GPU's full lists and per-particle force kernel: a reference for the
// CPU backend's half lists, and for the device code path bit for bit (half lists change the
// force summation order, hence the rounding).
struct FullListCpuExec : CpuExec {
  static constexpr bool half_lists = false;
};

// Random positions (uniform, overlaps allowed) for replica r of a sized state.
inline void random_replica(BatchState& s, int r, double len, int n_types, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int a = 0; a < 3; ++a) s.box[3 * r + a] = real(a < s.dim ? len : 1.0);
  for (int i = 0; i < s.n; ++i) {
    const long g = static_cast<long>(r) * s.n + i;
    s.x[g] = real(u(rng) * len);
    s.y[g] = real(u(rng) * len);
    s.z[g] = s.dim == 3 ? real(u(rng) * len) : real(0);
    s.type[g] = n_types > 1 ? static_cast<int>(u(rng) * n_types) % n_types : 0;
  }
}

// Squared minimum-image distance between particles gi and gj of replica r, in double.
inline double distance2(const BatchState& s, int r, long gi, long gj) {
  double d2 = 0;
  const real* p[3] = {s.x.data(), s.y.data(), s.z.data()};
  for (int a = 0; a < s.dim; ++a) {
    const double len = s.box[3 * r + a];
    double d = double(p[a][gi]) - double(p[a][gj]);
    d -= len * std::round(d / len);
    d2 += d * d;
  }
  return d2;
}

// Brute-force forces and total energy of replica r with evaluator `model`, in double
// arithmetic on the float positions (the evaluator runs in `real`).
template <class Model>
double brute_force(const BatchState& s, int r, const Model& model, std::vector<double>& f) {
  const int n = s.n;
  f.assign(static_cast<std::size_t>(n) * 3, 0.0);
  double energy = 0;
  const real* p[3] = {s.x.data(), s.y.data(), s.z.data()};
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      const long gi = static_cast<long>(r) * n + i, gj = static_cast<long>(r) * n + j;
      double d[3] = {0, 0, 0};
      for (int a = 0; a < s.dim; ++a) {
        const double len = s.box[3 * r + a];
        d[a] = double(p[a][gi]) - double(p[a][gj]);
        d[a] -= len * std::round(d[a] / len);
      }
      real fscal, e;
      const double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
      if (model.evaluate(real(r2), s.type[gi], s.type[gj], fscal, e)) {
        energy += e;
        for (int a = 0; a < 3; ++a) {
          f[3 * i + a] += fscal * d[a];
          f[3 * j + a] -= fscal * d[a];
        }
      }
    }
  return energy;
}

}  // namespace vitrify::test_util
