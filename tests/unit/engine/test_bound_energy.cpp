// Bound energies (Engine::bound_energies: the sum of U over the quasi-species neighbours only)
// against a brute-force double sum, for every model and every list form: CPU half lists, CPU
// full lists, and the device path (full, entry-major lists) run on the CPU.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/common/execution_paths.hpp"
#include "tests/common/test_util.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/exec_cpu.hpp"
#include "vitrify/engine/replica_engine.hpp"
#include "vitrify/models/all.hpp"

using namespace vitrify;

namespace {

// The device code path of ReplicaEngine on host memory.
using BoundDevicePathExec = test_paths::HostDevicePathExec;

// Random positions with no pair closer than dmin, types drawn by the model's fractions.
template <class Model>
BatchState spread_batch(int replicas, int n, double density, double dmin, std::uint64_t seed) {
  BatchState s;
  s.resize(replicas, n, Model::dimension);
  const double len = std::pow(n / density, 1.0 / Model::dimension);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int r = 0; r < replicas; ++r) {
    for (int a = 0; a < 3; ++a) s.box[3 * r + a] = real(a < s.dim ? len : 1.0);
    for (int i = 0; i < n; ++i) {
      const long g = static_cast<long>(r) * n + i;
      for (int tries = 0;; ++tries) {
        s.x[g] = real(u(rng) * len);
        s.y[g] = real(u(rng) * len);
        s.z[g] = s.dim == 3 ? real(u(rng) * len) : real(0);
        bool ok = true;
        for (int j = 0; j < i && ok; ++j)
          ok = test_util::distance2(s, r, g, static_cast<long>(r) * n + j) > dmin * dmin;
        if (ok) break;
        if (tries > 100000) throw std::runtime_error("spread_batch: too dense");
      }
      s.type[g] = Model::n_types > 1 && u(rng) < 0.2 ? 1 : 0;
    }
  }
  return s;
}

// Brute force in double: per particle the sum of U over its species neighbours, and over every
// partner (the full sum, u_i); `scale`: the sum of |U| + |r dU/dr| over every partner (the float
// kernels' rounding, of the sums and of r^2, is relative to it).
template <class Model>
void brute_force(const BatchState& s, const Model& model, std::vector<double>& bound,
                 std::vector<double>& full, std::vector<double>& scale) {
  const long nt = static_cast<long>(s.n_replicas) * s.n;
  bound.assign(nt, 0.0);
  full.assign(nt, 0.0);
  scale.assign(nt, 0.0);
  for (int r = 0; r < s.n_replicas; ++r)
    for (int i = 0; i < s.n; ++i)
      for (int j = 0; j < s.n; ++j) {
        if (i == j) continue;
        const long gi = static_cast<long>(r) * s.n + i, gj = static_cast<long>(r) * s.n + j;
        const real r2 = real(test_util::distance2(s, r, gi, gj));
        real fscal, e;
        if (!model.evaluate(r2, s.type[gi], s.type[gj], fscal, e)) continue;
        full[gi] += e;
        // |U| (summation) and |r dU/dr| (the float rounding of r^2 in the kernels).
        scale[gi] += std::fabs(e) + std::fabs(fscal * r2);
        if (model.is_species_neighbor(r2, s.type[gi], s.type[gj])) bound[gi] += e;
      }
}

template <class Exec, class Model>
void check(const char* model_name, int n, double density, double dmin, bool expect_differs) {
  const BatchState s = spread_batch<Model>(2, n, density, dmin, 12345);
  EngineSettings es;
  ReplicaEngine<Exec, Model> engine(model_name, es);
  engine.set_state(s);
  std::vector<real> ub, ui;
  engine.bound_energies(ub);
  engine.particle_energies(ui);
  std::vector<double> bound, full, scale;
  brute_force(s, Model::make(), bound, full, scale);
  ASSERT_EQ(ub.size(), bound.size());
  double differs = 0;
  for (std::size_t g = 0; g < bound.size(); ++g) {
    const double tol = 1e-6 + 2e-6 * scale[g];
    EXPECT_NEAR(ub[g], bound[g], tol) << Exec::name << " " << model_name << " particle " << g;
    EXPECT_NEAR(ui[g], full[g], tol) << Exec::name << " " << model_name << " particle " << g;
    differs = std::max(differs, std::fabs(full[g] - bound[g]));
  }
  if (expect_differs)
    EXPECT_GT(differs, 0.1) << "the bound and the full sums should differ for " << model_name;
  else
    EXPECT_EQ(differs, 0.0) << "species radius = cutoff: the sums coincide for " << model_name;
}

template <class Exec>
void check_every_model() {
  // hump2d: bound neighbours r < 1.32, cutoff 1.65.
  check<Exec, Hump2d>("hump2d", 400, 0.825, 0.9, true);
  // kob-andersen: species radii (1.45, 1.25, 1.075) inside the cutoffs 2.5 sigma.
  check<Exec, KobAndersen>("kob-andersen", 500, 1.2, 0.75, true);
  // binary3d: species radius = cutoff.
  check<Exec, Binary3d>("binary3d", 500, 0.74, 0.8, false);
}

}  // namespace

TEST(BoundEnergy, HalfListsMatchBruteForce) { check_every_model<CpuExec>(); }

TEST(BoundEnergy, FullListsMatchBruteForce) { check_every_model<test_util::FullListCpuExec>(); }

TEST(BoundEnergy, DevicePathMatchesBruteForce) { check_every_model<BoundDevicePathExec>(); }

// The half-list sums do not depend on the number of threads.
TEST(BoundEnergy, HalfListsIndependentOfThreads) {
  const BatchState s = spread_batch<Hump2d>(1, 600, 0.825, 0.9, 99);
  EngineSettings es;
  std::vector<real> a, b;
  const int threads = omp_get_max_threads();
  for (int t : {1, 3}) {
    omp_set_num_threads(t);
    ReplicaEngine<CpuExec, Hump2d> e("hump2d", es);
    e.set_state(s);
    e.bound_energies(t == 1 ? a : b);
  }
  omp_set_num_threads(threads);
  EXPECT_EQ(a, b);
}
