#include "vitrify/engine/initial.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

namespace vitrify {

std::uint64_t replica_seed(std::uint64_t seed, int replica) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (static_cast<std::uint64_t>(replica) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void make_lattice_replica(BatchState& s, int r, const ModelInfo& m, double density,
                          double temperature, std::uint64_t seed) {
  const int d = m.dimension;
  const int n = s.n;
  const double len = std::pow(n / density, 1.0 / d);
  int side = static_cast<int>(std::ceil(std::pow(double(n), 1.0 / d) - 1e-9));
  while (std::pow(double(side), d) < n) ++side;
  const double a = len / side;
  long sites = 1;
  for (int k = 0; k < d; ++k) sites *= side;
  std::mt19937_64 rng(seed);
  std::vector<long> order(sites);
  std::iota(order.begin(), order.end(), 0L);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<int> types(n, 0);
  {
    int filled = 0;
    for (int t = 0; t < m.n_types; ++t) {
      const int count =
          t + 1 == m.n_types ? n - filled : static_cast<int>(std::lround(m.type_fractions[t] * n));
      for (int k = 0; k < count; ++k) types[filled + k] = t;
      filled += count;
    }
    std::shuffle(types.begin(), types.end(), rng);
  }
  const long base = static_cast<long>(r) * n;
  std::vector<long> chosen(order.begin(), order.begin() + n);
  std::sort(chosen.begin(), chosen.end());
  for (int i = 0; i < n; ++i) {
    long site = chosen[i];
    const int ix = static_cast<int>(site % side);
    site /= side;
    const int iy = static_cast<int>(site % side);
    site /= side;
    const int iz = static_cast<int>(site);
    s.x[base + i] = real((ix + 0.5) * a);
    s.y[base + i] = real((iy + 0.5) * a);
    s.z[base + i] = d == 3 ? real((iz + 0.5) * a) : real(0);
    s.type[base + i] = types[i];
    s.img_x[base + i] = s.img_y[base + i] = s.img_z[base + i] = 0;
  }
  s.box[3 * r] = real(len);
  s.box[3 * r + 1] = real(len);
  s.box[3 * r + 2] = d == 3 ? real(len) : real(1);
  assign_velocities(s, r, temperature, rng());
}

void assign_velocities(BatchState& s, int r, double temperature, std::uint64_t seed) {
  const int d = s.dim;
  const int n = s.n;
  const long base = static_cast<long>(r) * n;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> gauss(0.0, std::sqrt(temperature));
  std::vector<double> v(static_cast<std::size_t>(n) * 3, 0.0);
  double mom[3] = {0, 0, 0};
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < d; ++k) {
      v[3 * i + k] = gauss(rng);
      mom[k] += v[3 * i + k];
    }
  double k2 = 0;
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < d; ++k) {
      v[3 * i + k] -= mom[k] / n;
      k2 += v[3 * i + k] * v[3 * i + k];
    }
  const double t_now = k2 / (double(d) * (n - 1));
  const double scale = t_now > 0 ? std::sqrt(temperature / t_now) : 0.0;
  for (int i = 0; i < n; ++i) {
    s.vx[base + i] = real(v[3 * i] * scale);
    s.vy[base + i] = real(v[3 * i + 1] * scale);
    s.vz[base + i] = d == 3 ? real(v[3 * i + 2] * scale) : real(0);
  }
}

}  // namespace vitrify
