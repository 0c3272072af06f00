// The CUDA backend against the CPU backend on identical configurations, its determinism and
// its lazy neighbour-list overflow handling. Every test that needs a GPU skips (with the
// reason) when no CUDA device answers; backend selection is checked on every machine.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kernels/integrate.hpp"
#include "tests/common/cli_util.hpp"
#include "tests/common/execution_paths.hpp"
#include "tests/common/test_util.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/models/all.hpp"
#include "vitrify/models/model_info.hpp"
#if defined(VITRIFY_HAVE_CUDA)
#include "vitrify/engine/cuda_backend.hpp"
#endif

using namespace vitrify;
using test_paths::CpuPath;
using test_paths::CudaPath;

#define REQUIRE_CUDA_DEVICE()                                            \
  do {                                                                   \
    std::string why_unavailable;                                         \
    if (!cuda_device_available(&why_unavailable))                        \
      GTEST_SKIP() << "needs a CUDA device (" << why_unavailable << ")"; \
  } while (0)

namespace {

constexpr int kObs = kObsCount;

double obs_of(const std::vector<double>& obs, int r, int q) { return obs[r * kObs + q]; }

// The temperature of the liquids compared below (every model is a liquid there at its
// default density).
constexpr double kLiquidT = 1.0;

// Each model in its default ensemble.
template <class Model>
Ensemble default_ensemble() {
  return Model::info().default_ensemble == "npt" ? Ensemble::kNPT : Ensemble::kNVT;
}

// Lattices at one density per replica (so every replica has its own box), melted on the CPU
// at temperature t under NVT: liquid configurations with finite forces.
template <class Model>
BatchState melted_batch(const std::vector<double>& densities, int n, double t, long steps) {
  const ModelInfo m = Model::info();
  const int replicas = static_cast<int>(densities.size());
  BatchState s;
  s.resize(replicas, n, m.dimension);
  for (int r = 0; r < replicas; ++r)
    make_lattice_replica(s, r, m, densities[r], t, replica_seed(17, r));
  EngineSettings es;
  es.ensemble = Ensemble::kNVT;
  auto e = CpuPath::make<Model>(es);
  const std::vector<double> temps(replicas, t);
  e->set_targets(temps, temps, std::vector<double>(replicas, 1.0));
  e->set_state(s);
  e->run(steps);
  e->get_state(s);
  return s;
}

// 4 replicas x 4000 particles at 1.0 to 1.15 times the model's default density.
template <class Model>
const BatchState& liquid() {
  const double rho = Model::info().default_density;
  static const BatchState s =
      melted_batch<Model>({rho, 1.05 * rho, 1.1 * rho, 1.15 * rho}, 4000, kLiquidT, 400);
  return s;
}

// Unwrapped coordinate a (0 = x, 1 = y, 2 = z) of particle g.
double unwrapped(const BatchState& s, long g, int a) {
  const int r = static_cast<int>(g / s.n);
  const real* p[3] = {s.x.data(), s.y.data(), s.z.data()};
  const int* img[3] = {s.img_x.data(), s.img_y.data(), s.img_z.data()};
  return double(p[a][g]) + double(img[a][g]) * double(s.box[3 * r + a]);
}

// The two engines hold the same configuration: forces, energies, virials, pressures,
// neighbour lists (as sets) and quasi-species counts must agree.
//
// Tolerances. Both backends run the same float kernel bodies in the same summation order; the
// remaining differences are contractions to fused multiply-adds by nvcc (each changes a result
// by at most one rounding) and the device's libm. A particle's force sums ~30-60 pair terms
// whose magnitudes are at most of the order of the largest force in the replica, each with
// a few roundings of relative size 6e-8: |dF| <~ 60 * 3 * 6e-8 * F_max = 1e-5 * F_max. The
// same bound holds for the per-particle energies and virials summed in double, so totals are
// compared to 1e-5 of the sum of their magnitudes (measured agreement is ~1e-7, see below).
template <class Model>
void expect_same_configuration_results(Engine& cpu, Engine& gpu, const BatchState& s,
                                       const Model& model, double skin) {
  std::vector<real> cfx, cfy, cfz, gfx, gfy, gfz;
  cpu.forces(cfx, cfy, cfz);
  gpu.forces(gfx, gfy, gfz);
  std::vector<double> cobs, gobs;
  cpu.observables(cobs);
  gpu.observables(gobs);
  std::vector<real> cu, gu;
  cpu.particle_energies(cu);
  gpu.particle_energies(gu);
  for (int r = 0; r < s.n_replicas; ++r) {
    double fmax = 0, worst = 0, u_abs = 0;
    for (int i = 0; i < s.n; ++i) {
      const long g = static_cast<long>(r) * s.n + i;
      fmax = std::max(
          {fmax, std::fabs(double(cfx[g])), std::fabs(double(cfy[g])), std::fabs(double(cfz[g]))});
      u_abs += std::fabs(double(cu[g]));
    }
    const double ftol = 1e-5 * std::max(1.0, fmax);
    int bad = 0;
    for (int i = 0; i < s.n; ++i) {
      const long g = static_cast<long>(r) * s.n + i;
      const double d =
          std::max({std::fabs(double(cfx[g]) - gfx[g]), std::fabs(double(cfy[g]) - gfy[g]),
                    s.dim == 3 ? std::fabs(double(cfz[g]) - gfz[g]) : 0.0});
      worst = std::max(worst, d);
      if (d > ftol && bad++ < 5)
        ADD_FAILURE() << "replica " << r << " particle " << i << ": force differs by " << d
                      << " (tolerance " << ftol << ")";
      EXPECT_NEAR(cu[g], gu[g], 1e-5 * std::max(1.0, std::fabs(double(cu[g]))));
    }
    EXPECT_EQ(bad, 0) << "replica " << r;
    std::printf("[ info ] replica %d: |F|max %.3g, max |dF| %.3g (%.2g relative)\n", r, fmax, worst,
                worst / std::max(1.0, fmax));
    const double u_c = obs_of(cobs, r, kObsPotential);
    const double u_g = obs_of(gobs, r, kObsPotential);
    EXPECT_NEAR(u_g, u_c, 1e-5 * std::max(1.0, 0.5 * u_abs)) << "replica " << r;
    const double w_c = obs_of(cobs, r, kObsVirial);
    const double w_g = obs_of(gobs, r, kObsVirial);
    EXPECT_NEAR(w_g, w_c, 1e-5 * std::max({1.0, std::fabs(w_c), double(s.n)})) << "replica " << r;
    const double p_c = obs_of(cobs, r, kObsPressure);
    EXPECT_NEAR(obs_of(gobs, r, kObsPressure), p_c, 1e-5 * std::max(1.0, std::fabs(p_c)));
    EXPECT_NEAR(obs_of(gobs, r, kObsKinetic), obs_of(cobs, r, kObsKinetic),
                1e-6 * obs_of(cobs, r, kObsKinetic));
  }

  // Neighbour lists, as sets, on a sample of particles of every replica: a pair may be listed
  // by one backend only if its distance is within 1e-5 (relative, in r^2) of the list radius,
  // where one rounding of r^2 can decide.
  // The capacities differ by design: the CPU keeps half lists (sized with 0.8 of the mean count
  // in the list sphere), the GPU full lists (1.6); each must hold its own longest list.
  const int cap_c = cpu.neighbor_stats().max_neighbors, cap_g = gpu.neighbor_stats().max_neighbors;
  EXPECT_GT(cap_g, cap_c);
  long compared = 0, boundary = 0;
  for (int r = 0; r < s.n_replicas; ++r)
    for (int i = r; i < s.n; i += 41) {
      const long g = static_cast<long>(r) * s.n + i;
      const std::vector<int> lc = cpu.neighbors_of(g), lg = gpu.neighbors_of(g);
      EXPECT_LE(static_cast<int>(lg.size()), cap_g) << "GPU list of " << g;
      const std::set<int> sc(lc.begin(), lc.end()), sg(lg.begin(), lg.end());
      EXPECT_EQ(sg.size(), lg.size()) << "duplicate in the GPU list of " << g;
      std::vector<int> only;
      std::set_symmetric_difference(sc.begin(), sc.end(), sg.begin(), sg.end(),
                                    std::back_inserter(only));
      for (int gj : only) {
        const double d2 = test_util::distance2(s, r, g, gj);
        const real rl = std::sqrt(model.cutoff2(s.type[g], s.type[gj])) + real(skin);
        const double cut2 = double(rl) * rl;
        EXPECT_LT(std::fabs(d2 / cut2 - 1), 1e-5) << "pair " << g << "-" << gj << " listed by "
                                                  << (sc.count(gj) ? "CPU" : "GPU") << " only";
        ++boundary;
      }
      ++compared;
    }
  EXPECT_GT(compared, 100);
  std::printf("[ info ] neighbour lists of %ld particles compared, %ld boundary pairs\n", compared,
              boundary);

  // Quasi-species neighbour counts of every particle: a difference must be explained by pairs
  // within 1e-5 (relative, in r^2) of the species radius.
  std::vector<int> nc, ng;
  cpu.species_neighbor_counts(nc);
  gpu.species_neighbor_counts(ng);
  ASSERT_EQ(nc.size(), ng.size());
  long differing = 0;
  for (long g = 0; g < static_cast<long>(nc.size()); ++g) {
    if (nc[g] == ng[g]) continue;
    ++differing;
    const int r = static_cast<int>(g / s.n);
    int ambiguous = 0;
    for (int j = 0; j < s.n; ++j) {
      const long gj = static_cast<long>(r) * s.n + j;
      if (gj == g) continue;
      const double d2 = test_util::distance2(s, r, g, gj);
      const int ti = s.type[g], tj = s.type[gj];
      if (model.is_species_neighbor(real(d2 * (1 - 1e-5)), ti, tj) !=
          model.is_species_neighbor(real(d2 * (1 + 1e-5)), ti, tj))
        ++ambiguous;
    }
    EXPECT_LE(std::abs(nc[g] - ng[g]), ambiguous)
        << "particle " << g << ": CPU " << nc[g] << " species neighbours, GPU " << ng[g];
  }
  std::printf("[ info ] species counts differing (explained by boundary pairs): %ld of %zu\n",
              differing, nc.size());
}

template <class Model>
void compare_configuration(const BatchState& s, double skin) {
  EngineSettings es;
  es.skin = skin;
  auto cpu = CpuPath::make<Model>(es);
  auto gpu = CudaPath::make<Model>(es);
  ASSERT_EQ(gpu->backend_name(), "cuda");
  cpu->set_state(s);
  gpu->set_state(s);
  expect_same_configuration_results(*cpu, *gpu, s, Model::make(), skin);
}

// Both backends advance the same state by `steps` steps; returns the largest difference of
// unwrapped positions and the largest relative difference of U, p and V over replicas.
struct TrajectoryGap {
  double position = 0, observable = 0;
};
template <class Model>
TrajectoryGap trajectory_gap(const BatchState& s, long steps) {
  EngineSettings es;
  es.ensemble = default_ensemble<Model>();
  es.barostat_tau = 2.0;
  const std::vector<double> temps(s.n_replicas, kLiquidT);
  const std::vector<double> press(s.n_replicas, Model::info().default_pressure);
  TrajectoryGap gap;
  auto cpu = CpuPath::make<Model>(es);
  auto gpu = CudaPath::make<Model>(es);
  for (Engine* e : {cpu.get(), gpu.get()}) {
    e->set_targets(temps, temps, press);
    e->set_state(s);
    e->run(steps);
  }
  BatchState a, b;
  cpu->get_state(a);
  gpu->get_state(b);
  for (long g = 0; g < static_cast<long>(a.x.size()); ++g)
    for (int k = 0; k < a.dim; ++k)
      gap.position = std::max(gap.position, std::fabs(unwrapped(a, g, k) - unwrapped(b, g, k)));
  std::vector<double> oa, ob;
  cpu->observables(oa);
  gpu->observables(ob);
  for (int r = 0; r < s.n_replicas; ++r)
    for (int q : {kObsPotential, kObsPressure, kObsVolume}) {
      const double x = obs_of(oa, r, q), y = obs_of(ob, r, q);
      gap.observable = std::max(gap.observable, std::fabs(x - y) / std::max(1.0, std::fabs(x)));
    }
  return gap;
}

// Time averages of T, p and u per replica over a thermostatted run (after equilibration).
struct Averages {
  std::vector<double> t, p, u;
};
template <class Path, class Model>
Averages thermostatted_averages(const BatchState& s, double temperature, long equilibration,
                                long production) {
  EngineSettings es;
  es.ensemble = default_ensemble<Model>();
  auto e = Path::template make<Model>(es);
  const std::vector<double> temps(s.n_replicas, temperature);
  e->set_targets(temps, temps, std::vector<double>(s.n_replicas, Model::info().default_pressure));
  e->set_state(s);
  e->run(equilibration);
  Averages av;
  av.t.assign(s.n_replicas, 0);
  av.p.assign(s.n_replicas, 0);
  av.u.assign(s.n_replicas, 0);
  const long interval = 20, samples = production / interval;
  std::vector<double> obs;
  for (long k = 0; k < samples; ++k) {
    e->run(interval);
    e->observables(obs);
    for (int r = 0; r < s.n_replicas; ++r) {
      av.t[r] += obs_of(obs, r, kObsTemperature) / samples;
      av.p[r] += obs_of(obs, r, kObsPressure) / samples;
      av.u[r] += obs_of(obs, r, kObsPotential) / s.n / samples;
    }
  }
  return av;
}

// Mean over replicas and its standard error (replicas are independent samples).
std::pair<double, double> mean_and_error(const std::vector<double>& v) {
  const double n = double(v.size());
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  return {mean, std::sqrt(var / (n - 1) / n)};
}

}  // namespace

// ---- runs on every machine ----------------------------------------------------------------

TEST(CudaBackendSelection, CudaIsRefusedClearlyWithoutDeviceAndAutoFallsBackToCpu) {
  std::string why;
  const bool have_device = cuda_device_available(&why);
  EXPECT_FALSE(why.empty());
  if (!have_device) {
    try {
      make_engine("cuda", "binary3d", {});
      ADD_FAILURE() << "backend cuda without a device must throw";
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("\"cuda\""), std::string::npos) << msg;
      EXPECT_NE(msg.find("unavailable"), std::string::npos) << msg;
      EXPECT_NE(msg.find(why), std::string::npos) << msg;  // says why
    }
    for_each_model([](auto model) {
      const std::string name = decltype(model)::info().name;
      auto e = make_engine("auto", name, {});
      EXPECT_EQ(e->backend_name(), "cpu") << name;
    });
  } else {
    for_each_model([&](auto model) {
      const std::string name = decltype(model)::info().name;
      EXPECT_EQ(make_engine("cuda", name, {})->backend_name(), "cuda") << name;
      auto e = make_engine("auto", name, {});
      EXPECT_EQ(e->backend_name(), "cuda") << name;
      EXPECT_EQ(e->device_name(), why) << name;
    });
  }
  EXPECT_THROW(make_engine("cuda", "nonsense", {}), InputError);
  EXPECT_THROW(make_engine("opencl", "binary3d", {}), InputError);
}

// ---- needs a GPU: the CUDA backend against the CPU backend, per model --------------------

class CudaVsCpu : public test_paths::ModelTest {
 protected:
  void SetUp() override { REQUIRE_CUDA_DEVICE(); }
};
INSTANTIATE_TEST_SUITE_P(Models, CudaVsCpu, test_paths::model_cases(), test_paths::CaseName{});

TEST_P(CudaVsCpu, ForcesEnergiesListsAndSpeciesAgree) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    compare_configuration<Model>(liquid<Model>(), 0.3);
  });
}

// Trajectories: one ulp differences grow chaotically (Lyapunov time of order 0.1-1 tau), so
// agreement is demanded only for the first steps. After 1 step the gap is rounding of the
// positions (|x| < 20: one float ulp is 2e-6); after 20 steps (0.1 tau) it has grown by
// less than e^2, which the bounds allow with a margin of 10.
TEST_P(CudaVsCpu, ShortTrajectoriesAgree) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const BatchState& s = liquid<Model>();
    const TrajectoryGap one = trajectory_gap<Model>(s, 1);
    const TrajectoryGap twenty = trajectory_gap<Model>(s, 20);
    std::printf(
        "[ info ] %s: position gap %.3g after 1 step, %.3g after 20; observables %.3g, %.3g\n",
        C::name().c_str(), one.position, twenty.position, one.observable, twenty.observable);
    EXPECT_LT(one.position, 2e-5);
    EXPECT_LT(twenty.position, 2e-4);
    EXPECT_LT(one.observable, 1e-5);
    EXPECT_LT(twenty.observable, 1e-4);
  });
}

// Long runs decorrelate, so only averages can be compared: per backend the mean over 8
// independent replicas of each replica's time average, with the standard error from the
// spread over replicas; the backends must agree within 4 combined standard errors (plus 1e-4
// relative for the thermostat's temperature, whose spread is tiny). Each model in its default
// ensemble at its default density (and pressure).
TEST_P(CudaVsCpu, ThermostattedAveragesAgreeWithinStatisticalErrors) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const double rho = Model::info().default_density;
    const BatchState s = melted_batch<Model>(std::vector<double>(8, rho), 1000, kLiquidT, 500);
    const Averages a = thermostatted_averages<CpuPath, Model>(s, kLiquidT, 3000, 5000);
    const Averages b = thermostatted_averages<CudaPath, Model>(s, kLiquidT, 3000, 5000);
    const char* names[3] = {"T", "p", "u"};
    const std::vector<double>* xs[3] = {&a.t, &a.p, &a.u};
    const std::vector<double>* ys[3] = {&b.t, &b.p, &b.u};
    for (int q = 0; q < 3; ++q) {
      const auto [mc, ec] = mean_and_error(*xs[q]);
      const auto [mg, eg] = mean_and_error(*ys[q]);
      const double allowed = 4 * std::hypot(ec, eg) + 1e-4 * std::fabs(mc);
      std::printf("[ info ] %s <%s>: CPU %.5f +- %.5f, CUDA %.5f +- %.5f\n", C::name().c_str(),
                  names[q], mc, ec, mg, eg);
      EXPECT_LT(std::fabs(mc - mg), allowed) << "<" << names[q] << ">";
    }
  });
}

// The kernels use no floating-point atomics and sort every cell, so a run is a deterministic
// function of its input on one device: two runs of a large batch must agree bit for bit
// (small batches on every path: Dynamics.SameStartSameTrajectory).
TEST_P(CudaVsCpu, CudaRunsAreBitwiseReproducible) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const BatchState& start = liquid<Model>();
    auto run = [&] {
      EngineSettings es;
      es.ensemble = default_ensemble<Model>();
      auto e = CudaPath::make<Model>(es);
      const int R = start.n_replicas;
      e->set_targets(std::vector<double>(R, 1.2), std::vector<double>(R, 0.8),
                     std::vector<double>(R, Model::info().default_pressure));
      e->set_state(start);
      e->run(1200, 0.0, 1.0);  // more than two overflow-check blocks, with a ramp
      BatchState s;
      e->get_state(s);
      std::vector<double> obs;
      e->observables(obs);
      return std::make_pair(s, obs);
    };
    const auto [a, oa] = run();
    const auto [b, ob] = run();
    EXPECT_EQ(a.x, b.x);
    EXPECT_EQ(a.y, b.y);
    EXPECT_EQ(a.z, b.z);
    EXPECT_EQ(a.vx, b.vx);
    EXPECT_EQ(a.vy, b.vy);
    EXPECT_EQ(a.img_x, b.img_x);
    EXPECT_EQ(a.box, b.box);
    EXPECT_EQ(oa, ob);
  });
}

// The state and observables of a CUDA run of `steps` steps (ramp 1.2 -> 0.8) from `start`.
template <class Model>
std::pair<BatchState, std::vector<double>> cuda_run(const BatchState& start, EngineSettings es,
                                                    long steps) {
  es.ensemble = default_ensemble<Model>();
  auto e = CudaPath::make<Model>(es);
  const int R = start.n_replicas;
  e->set_targets(std::vector<double>(R, 1.2), std::vector<double>(R, 0.8),
                 std::vector<double>(R, Model::info().default_pressure));
  e->set_state(start);
  e->run(steps, 0.0, 1.0);
  BatchState s;
  e->get_state(s);
  std::vector<double> obs;
  e->observables(obs);
  return {s, obs};
}

// A replayed graph runs the very kernels that the launches run, with the same parameters (the
// step's ramp from the step base in device memory): bitwise the same run, over full blocks,
// a shorter last block and a second run that replays the kept graphs.
TEST_P(CudaVsCpu, GraphsAreBitwiseTheLaunches) {
  visit([&](auto c) {
    using Model = typename decltype(c)::Model;
    const BatchState& start = liquid<Model>();
    EngineSettings with, without;
    with.graphs = true;
    without.graphs = false;
    const auto [a, oa] = cuda_run<Model>(start, with, 1200);
    const auto [b, ob] = cuda_run<Model>(start, without, 1200);
    EXPECT_EQ(a.x, b.x);
    EXPECT_EQ(a.y, b.y);
    EXPECT_EQ(a.z, b.z);
    EXPECT_EQ(a.vx, b.vx);
    EXPECT_EQ(a.box, b.box);
    EXPECT_EQ(oa, ob);
  });
}

// The block kernel (one block per replica, positions in shared memory) against the
// per-particle kernels on the device. The same bodies in the same order; nvcc may contract
// other multiply-adds in the two kernels, so agreement is demanded as for the CPU
// (ShortTrajectoriesAgree) and whether it is bitwise is printed.
TEST_P(CudaVsCpu, BlockKernelFollowsThePerParticleKernels) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const BatchState& start = liquid<Model>();
    EngineSettings block;
    block.kernel = KernelKind::kBlock;
    for (const long steps : {1L, 20L}) {
      const auto [a, oa] = cuda_run<Model>(start, EngineSettings{}, steps);
      const auto [b, ob] = cuda_run<Model>(start, block, steps);
      double gap = 0;
      for (long g = 0; g < static_cast<long>(a.x.size()); ++g)
        for (int k = 0; k < a.dim; ++k)
          gap = std::max(gap, std::fabs(unwrapped(a, g, k) - unwrapped(b, g, k)));
      std::printf("[ info ] %s: block vs per-particle after %ld steps: position gap %.3g (%s)\n",
                  C::name().c_str(), steps, gap, a.x == b.x ? "bitwise" : "not bitwise");
      EXPECT_LT(gap, steps == 1 ? 2e-5 : 2e-4);
    }
  });
}

// A strongly compressing barostat makes the neighbour lists outgrow their initial capacity in
// the middle of a block; the GPU path only notices at the end of the block, so it must restore
// the block's start, grow the capacity and rerun. The end state's forces must then be exactly
// those of complete lists (checked against the CPU engine on the same configuration).
TEST_P(CudaVsCpu, ListsOutgrowingTheirCapacityAreRebuiltNotTruncated) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const ModelInfo m = Model::info();
    BatchState s;
    s.resize(2, 2000, m.dimension);
    for (int r = 0; r < 2; ++r)
      make_lattice_replica(s, r, m, (0.4 + 0.07 * r) * m.default_density, 1.0, 77 + r);
    EngineSettings es;
    es.ensemble = Ensemble::kNPT;
    es.barostat_tau = 0.5;
    auto gpu = CudaPath::make<Model>(es);
    gpu->set_targets({1.0, 1.0}, {1.0, 1.0}, {40.0, 40.0});
    gpu->set_state(s);
    const NeighborStats before = gpu->neighbor_stats();
    std::vector<double> obs;
    gpu->observables(obs);
    const double v0 = obs_of(obs, 0, kObsVolume);
    gpu->run(1500);
    const NeighborStats after = gpu->neighbor_stats();
    gpu->observables(obs);
    EXPECT_LT(obs_of(obs, 0, kObsVolume), 0.5 * v0);       // compressed a lot
    EXPECT_GT(after.max_neighbors, before.max_neighbors);  // the capacity had to grow
    std::printf("[ info ] neighbour capacity %d -> %d, cell capacity %d -> %d\n",
                before.max_neighbors, after.max_neighbors, before.cell_capacity,
                after.cell_capacity);
    BatchState end;
    gpu->get_state(end);
    for (double p : {obs_of(obs, 0, kObsPotential), obs_of(obs, 1, kObsPotential)})
      EXPECT_TRUE(std::isfinite(p));
    auto cpu = CpuPath::make<Model>(es);
    cpu->set_state(end);
    // A fresh set_state sizes the GPU lists for the dense state too; compare the run's forces.
    std::vector<real> cfx, cfy, cfz, gfx, gfy, gfz;
    cpu->forces(cfx, cfy, cfz);
    gpu->forces(gfx, gfy, gfz);
    double fmax = 0, worst = 0;
    for (std::size_t g = 0; g < cfx.size(); ++g) {
      fmax = std::max(
          {fmax, std::fabs(double(cfx[g])), std::fabs(double(cfy[g])), std::fabs(double(cfz[g]))});
      worst = std::max({worst, std::fabs(double(cfx[g]) - gfx[g]),
                        std::fabs(double(cfy[g]) - gfy[g]), std::fabs(double(cfz[g]) - gfz[g])});
    }
    EXPECT_LT(worst, 1e-5 * std::max(1.0, fmax)) << "|F|max " << fmax;
    std::vector<double> cobs;
    cpu->observables(cobs);
    for (int r = 0; r < 2; ++r)
      EXPECT_NEAR(obs_of(obs, r, kObsPotential), obs_of(cobs, r, kObsPotential),
                  1e-5 * std::max(1.0, obs_of(cobs, r, kObsPotential)));
  });
}

#if defined(VITRIFY_HAVE_CUDA)
TEST(CudaMemory, OversizedRequestIsRefusedWithRequiredAndFreeMemory) {
  REQUIRE_CUDA_DEVICE();
  try {
    require_cuda_memory(std::size_t(1) << 50, "a test batch");
    ADD_FAILURE() << "a petabyte request must be refused";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("a test batch needs about"), std::string::npos) << msg;
    EXPECT_NE(msg.find("free"), std::string::npos) << msg;
    EXPECT_NE(msg.find("MiB"), std::string::npos) << msg;
  }
  EXPECT_NO_THROW(require_cuda_memory(1 << 20, "a small batch"));
}
#endif

// The binary links one CUDA runtime (the static one), not the shared library beside it.
TEST(CudaBuild, LinksOneCudaRuntime) {
#if !defined(VITRIFY_HAVE_CUDA)
  GTEST_SKIP() << "CPU-only build";
#else
  const vitrify::test_util::Cmd r = vitrify::test_util::run_shell("ldd " VITRIFY_BINARY);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("libcudart.so"), std::string::npos) << r.output;
#endif
}
