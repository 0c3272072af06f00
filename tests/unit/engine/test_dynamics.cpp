// Integrator, thermostat, barostat and determinism, on every execution path
// (tests/common/execution_paths.hpp) and every model. Run lengths are kept short: each test
// runs once per (path, model) pair; the figures they print are the measured ones.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/integrate.hpp"
#include "tests/common/execution_paths.hpp"
#include "tests/common/reference_models.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/models/all.hpp"

using namespace vitrify;

namespace {

struct Series {
  std::vector<double> v;
  double mean() const { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }
  // Standard error from contiguous blocks (blocks much longer than the correlation time).
  double block_error(int blocks = 10) const {
    const std::size_t len = v.size() / blocks;
    std::vector<double> m;
    for (int b = 0; b < blocks; ++b)
      m.push_back(std::accumulate(v.begin() + b * len, v.begin() + (b + 1) * len, 0.0) / len);
    const double mu = std::accumulate(m.begin(), m.end(), 0.0) / blocks;
    double var = 0;
    for (double x : m) var += (x - mu) * (x - mu);
    return std::sqrt(var / (blocks - 1) / blocks);
  }
};

// Lattice replicas of `Model` at the given densities and temperature, of n particles or as
// many more as a box of 2.2 list radii at the largest density needs.
template <class Model>
BatchState lattice_batch(const std::vector<double>& densities, int n, double t,
                         std::uint64_t seed) {
  const ModelInfo m = Model::info();
  const double rho = *std::max_element(densities.begin(), densities.end());
  const double fit =
      rho * std::pow(2.2 * test_ref::list_radius<Model>(EngineSettings{}.skin), m.dimension);
  BatchState s;
  s.resize(static_cast<int>(densities.size()),
           test_ref::round_up_particles(m, std::max<double>(n, fit)), m.dimension);
  for (int r = 0; r < s.n_replicas; ++r)
    make_lattice_replica(s, r, m, densities[r], t, replica_seed(seed, r));
  return s;
}

double observable(Engine& e, int r, int q) {
  std::vector<double> obs;
  e.observables(obs);
  return obs[r * kObsCount + q];
}

double total_energy(Engine& e, int r) {
  return observable(e, r, kObsKinetic) + observable(e, r, kObsPotential);
}

}  // namespace

class Dynamics : public test_paths::EnginePathTest {};
INSTANTIATE_TEST_SUITE_P(EnginePaths, Dynamics, test_paths::engine_cases(), test_paths::CaseName{});

// NVE: after melting with a thermostat, the total energy per particle must not drift. Velocity
// Verlet conserves a shadow Hamiltonian, so E fluctuates by O(dt^2) without growing; what can
// accumulate is round-off (float forces and positions), a random walk of roughly 1e-7 |e| per
// particle-step, and any real error (a wrong force, a missed neighbour, a half-step mistake)
// shows up as a systematic drift; so does kob-andersen's force step at the cutoff, a random
// walk of its own. N = 400 at the model's default density, T = 0.7, 1500 steps of dt = 0.004
// (6 time units); per particle the fluctuation of E scales as 1/sqrt(N). Bounds: the largest
// departure from E0 below 1e-3 per particle (measured: 4.4e-5 to 9.2e-5 for binary3d and
// hump2d, 4.9e-4 for kob-andersen), the drift between the mean energies of the first and the
// last quarter below 1.5e-4 per particle (measured: up to 2e-5, and 5.2e-5 for kob-andersen).
// A wrong force or a missed neighbour drifts by orders of magnitude more.
TEST_P(Dynamics, NveConservesEnergy) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const ModelInfo m = Model::info();
    BatchState s = lattice_batch<Model>({m.default_density}, 400, 1.0, 3);
    EngineSettings warm;
    warm.ensemble = Ensemble::kNVT;
    auto e = C::make_engine(warm);
    e->set_targets({0.7}, {0.7}, {1.0});
    e->set_state(s);
    e->run(1000);
    e->get_state(s);
    EngineSettings nve;
    nve.ensemble = Ensemble::kNVE;
    nve.dt = 0.004;
    auto f = C::make_engine(nve);
    f->set_state(s);
    const double e0 = total_energy(*f, 0) / s.n;
    const int blocks = 20;
    double max_dev = 0, first = 0, last = 0;
    for (int block = 0; block < blocks; ++block) {
      f->run(75);
      const double e = total_energy(*f, 0) / s.n;
      max_dev = std::max(max_dev, std::fabs(e - e0));
      if (block < blocks / 4) first += e / (blocks / 4);
      if (block >= blocks - blocks / 4) last += e / (blocks / 4);
    }
    const double drift = std::fabs(last - first);
    std::printf(
        "[ info ] %s: over 1500 NVE steps of N = %d, max |E/N - E0/N| = %.3g, drift between "
        "the first and last quarter = %.3g\n",
        C::name().c_str(), s.n, max_dev, drift);
    EXPECT_LT(max_dev, 1e-3);
    EXPECT_LT(drift, 1.5e-4);
    // and the dynamics really moved: the kinetic temperature is nonzero
    EXPECT_GT(observable(*f, 0, kObsTemperature), 0.3);
  });
}

// Berendsen keeps <T> at each replica's own target up to its small bias: within three
// standard errors (blocks of 100 steps) plus 0.5 %, far tighter than the spread between the
// targets. From a lattice at T = 2, 1200 steps of equilibration: kob-andersen's lattice keeps
// releasing potential energy for longer (after 800 steps <T> is still 1.8 % above 0.8).
TEST_P(Dynamics, ThermostatReachesEachReplicasTarget) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const ModelInfo m = Model::info();
    const double rho = m.default_density;
    BatchState s = lattice_batch<Model>({rho, rho, rho}, 200, 2.0, 3);
    EngineSettings es;
    es.ensemble = Ensemble::kNVT;
    auto e = C::make_engine(es);
    const std::vector<double> targets = {0.8, 1.2, 2.0};
    e->set_targets(targets, targets, {1, 1, 1});
    e->set_state(s);
    e->run(1200);
    std::vector<Series> t(3);
    std::vector<double> obs;
    for (int k = 0; k < 200; ++k) {
      e->run(5);
      e->observables(obs);
      for (int r = 0; r < 3; ++r) t[r].v.push_back(obs[r * kObsCount + kObsTemperature]);
    }
    for (int r = 0; r < 3; ++r) {
      const double err = t[r].block_error();
      std::printf("[ info ] %s: target T %.2f, <T> = %.4f +- %.4f\n", C::name().c_str(), targets[r],
                  t[r].mean(), err);
      EXPECT_NEAR(t[r].mean(), targets[r], 3 * err + 0.005 * targets[r]) << "replica " << r;
    }
  });
}

// The same start gives the same trajectory bit for bit; on the host paths whatever the number
// of threads (forces and sums are accumulated in fixed particle ranges, not per thread).
TEST_P(Dynamics, SameStartSameTrajectory) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    using Path = typename C::Path;
    const ModelInfo m = Model::info();
    auto run = [&](int threads) {
      if (Path::openmp) omp_set_num_threads(threads);
      const double rho = m.default_density;
      BatchState s = lattice_batch<Model>({rho, 0.95 * rho}, 300, 1.5, 7);
      EngineSettings es;
      es.ensemble = Ensemble::kNPT;
      auto e = C::make_engine(es);
      const double p = m.default_pressure;
      e->set_targets({1.0, 1.2}, {0.8, 1.2}, {p, p});
      e->set_state(s);
      e->run(520, 0.0, 1.0);  // past the device path's first 500-step block, with a ramp
      e->get_state(s);
      std::vector<double> obs;
      e->observables(obs);
      return std::make_pair(s, obs);
    };
    const int threads = omp_get_max_threads();
    const auto [a, oa] = run(1);
    for (int k : {2, 3}) {
      const auto [b, ob] = run(k);
      EXPECT_EQ(a.x, b.x) << k << " threads";
      EXPECT_EQ(a.y, b.y) << k << " threads";
      EXPECT_EQ(a.z, b.z) << k << " threads";
      EXPECT_EQ(a.vx, b.vx) << k << " threads";
      EXPECT_EQ(a.vz, b.vz) << k << " threads";
      EXPECT_EQ(a.box, b.box) << k << " threads";
      EXPECT_EQ(a.img_y, b.img_y) << k << " threads";
      EXPECT_EQ(oa, ob) << k << " threads";
      if (!Path::openmp) break;  // one repetition is enough where threads do not apply
    }
    omp_set_num_threads(threads);
  });
}

// The barostat brings the mean pressure to its target, on the models that run under NPT
// (ModelInfo::default_ensemble).
class Barostat : public test_paths::EnginePathTest {};
INSTANTIATE_TEST_SUITE_P(EnginePaths, Barostat, test_paths::engine_cases([](const ModelInfo& m) {
                           return m.default_ensemble == "npt";
                         }),
                         test_paths::CaseName{});

// From the model's initial lattice density to its default pressure at two temperatures: <p>
// within 3 standard errors (+0.2 %) of the target, the lattice compressed, and the hotter
// replica less dense.
TEST_P(Barostat, BringsThePressureToItsTarget) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const ModelInfo m = Model::info();
    const double rho0 = m.default_initial_density, p0 = m.default_pressure;
    BatchState s = lattice_batch<Model>({rho0, rho0}, 256, 2.0, 3);
    EngineSettings es;
    es.ensemble = Ensemble::kNPT;
    auto e = C::make_engine(es);
    e->set_targets({1.0, 1.5}, {1.0, 1.5}, {p0, p0});
    e->set_state(s);
    e->run(3000);  // equilibrate the volume
    std::vector<Series> p(2), rho(2);
    std::vector<double> obs;
    for (int k = 0; k < 400; ++k) {
      e->run(10);
      e->observables(obs);
      for (int r = 0; r < 2; ++r) {
        p[r].v.push_back(obs[r * kObsCount + kObsPressure]);
        rho[r].v.push_back(s.n / obs[r * kObsCount + kObsVolume]);
      }
    }
    for (int r = 0; r < 2; ++r) {
      const double err = p[r].block_error();
      std::printf("[ info ] %s replica %d: <p> = %.4f +- %.4f (target %.4g), <rho> = %.4f\n",
                  C::name().c_str(), r, p[r].mean(), err, p0, rho[r].mean());
      EXPECT_LT(std::fabs(p[r].mean() - p0), 3 * err + 2e-3 * p0) << "replica " << r;
      EXPECT_GT(rho[r].mean(), 1.1 * rho0);  // compressed from the initial lattice
    }
    EXPECT_LT(rho[1].mean(), rho[0].mean());  // the hotter replica is less dense
  });
}
