// The block kernel (kernels/block_step.hpp) in its CPU emulation (CpuTeamExec), and the team
// model's emulation itself (kernels/team.hpp). The engine tests of every path run on the block
// path as well (block_on_cpu in tests/common/execution_paths.hpp); these add what is particular
// to it: bitwise agreement with the per-particle kernels of the device path, independence of
// the team size, the thread order within a phase and the OpenMP threads, agreement with the
// CPU's half-list path to rounding, and that the emulation exposes a missing barrier.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/team.hpp"
#include "tests/common/execution_paths.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/exec_team_cpu.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/models/all.hpp"

using namespace vitrify;
using test_paths::lattice_batch;

namespace {

EngineSettings block_settings(EngineSettings es) {
  es.kernel = KernelKind::kBlock;
  return es;
}

// The model's default ensemble.
template <class Model>
EngineSettings default_settings() {
  EngineSettings es;
  es.ensemble = Model::info().default_ensemble == "npt" ? Ensemble::kNPT : Ensemble::kNVT;
  return es;
}

// Sets targets and state and runs `steps` steps with a cooling ramp.
template <class Model>
void start_and_run(Engine& e, const BatchState& start, long steps) {
  const ModelInfo m = Model::info();
  std::vector<double> t0(start.n_replicas, 1.2), t1(start.n_replicas, 0.8),
      p(start.n_replicas, m.default_pressure);
  e.set_targets(t0, t1, p);
  e.set_state(start);
  e.run(steps, 0.0, 1.0);
}

void expect_identical(Engine& a, Engine& b, const std::string& what) {
  BatchState sa, sb;
  a.get_state(sa);
  b.get_state(sb);
  EXPECT_EQ(sa.x, sb.x) << what;
  EXPECT_EQ(sa.y, sb.y) << what;
  EXPECT_EQ(sa.z, sb.z) << what;
  EXPECT_EQ(sa.vx, sb.vx) << what;
  EXPECT_EQ(sa.vy, sb.vy) << what;
  EXPECT_EQ(sa.vz, sb.vz) << what;
  EXPECT_EQ(sa.img_x, sb.img_x) << what;
  EXPECT_EQ(sa.box, sb.box) << what;
  std::vector<double> oa, ob;
  a.observables(oa);
  b.observables(ob);
  EXPECT_EQ(oa, ob) << what;
  EXPECT_EQ(a.neighbor_stats().builds, b.neighbor_stats().builds) << what;
}

// Restores the emulation's settings at the end of a test.
struct TeamSettingsGuard {
  int size = CpuTeamExec::threads_per_team;
  TeamThreadOrder order = CpuTeamExec::thread_order;
  int threads = omp_get_max_threads();
  std::size_t scratch_limit = CpuTeamExec::team_scratch_limit;
  ~TeamSettingsGuard() {
    CpuTeamExec::team_scratch_limit = scratch_limit;
    CpuTeamExec::threads_per_team = size;
    CpuTeamExec::thread_order = order;
    omp_set_num_threads(threads);
  }
};

}  // namespace

class BlockKernel : public test_paths::ModelTest {};
INSTANTIATE_TEST_SUITE_P(Models, BlockKernel, test_paths::model_cases(), test_paths::CaseName{});

// The block kernel calls the per-particle kernel bodies phase by phase, so it must reproduce
// the device path's per-particle launches bit for bit: positions, velocities, boxes,
// observables, list builds, and what is computed afterwards from its lists. Each model in its
// default ensemble, with a ramp, across a check block of 500 steps.
TEST_P(BlockKernel, TrajectoryIsBitwiseThePerParticleDevicePaths) {
  visit([&](auto c) {
    using Model = typename decltype(c)::Model;
    const ModelInfo m = Model::info();
    const TeamSettingsGuard guard;
    omp_set_num_threads(1);  // the per-particle launches are many and short
    const BatchState start =
        lattice_batch<Model>({m.default_density, 1.05 * m.default_density}, 250, 1.2, 5);
    const EngineSettings es = default_settings<Model>();
    auto dev = test_paths::make_test_engine<test_paths::DevicePathOnCpuPath, Model>(es);
    auto blk = make_engine("cpu", m.name, block_settings(es));
    EXPECT_EQ(blk->kernel_name(), "block");
    EXPECT_EQ(blk->device_name(), "host, block-kernel emulation");
    start_and_run<Model>(*dev, start, 520);
    start_and_run<Model>(*blk, start, 520);
    expect_identical(*dev, *blk, m.name);
    EXPECT_GT(blk->neighbor_stats().builds, 2) << "the run should rebuild lists";
    std::vector<int> na, nb;
    dev->species_neighbor_counts(na);
    blk->species_neighbor_counts(nb);
    EXPECT_EQ(na, nb);
  });
}

// The same with the stochastic components (CSVR, c-rescale: random numbers keyed by replica
// and step, per-replica state, c-rescale's velocity scaling in KickDrift).
TEST(BlockKernelStochastic, CsvrAndCRescaleAreBitwiseThePerParticleDevicePaths) {
  using Model = Binary3d;
  const ModelInfo m = Model::info();
  const TeamSettingsGuard guard;
  omp_set_num_threads(1);
  const BatchState start = lattice_batch<Model>({1.2, 1.25}, 250, 1.2, 11);
  EngineSettings es;
  es.ensemble = Ensemble::kNPT;
  es.thermostat = ThermostatKind::kCsvr;
  es.barostat = BarostatKind::kCRescale;
  auto dev = test_paths::make_test_engine<test_paths::DevicePathOnCpuPath, Model>(es);
  auto blk = make_engine("cpu", m.name, block_settings(es));
  start_and_run<Model>(*dev, start, 300);
  start_and_run<Model>(*blk, start, 300);
  expect_identical(*dev, *blk, "csvr + c-rescale");
}

// Compressing a dilute lattice makes the lists outgrow their capacity inside the block kernel's
// launch; the engine restores the block's start, grows the capacity and reruns it, as on the
// device path, and both end bitwise the same (kept results of a truncated list would differ).
TEST(BlockKernelOverflow, RerunBlockIsBitwiseTheDevicePaths) {
  using Model = Binary3d;
  const ModelInfo m = Model::info();
  const TeamSettingsGuard guard;
  omp_set_num_threads(1);
  const double rho = m.default_density;
  const BatchState dilute = lattice_batch<Model>({0.4 * rho, 0.47 * rho}, 400, 1.0, 77);
  EngineSettings es;
  es.ensemble = Ensemble::kNPT;
  es.barostat_tau = 0.5;
  auto dev = test_paths::make_test_engine<test_paths::DevicePathOnCpuPath, Model>(es);
  auto blk = make_engine("cpu", m.name, block_settings(es));
  for (Engine* e : {dev.get(), blk.get()}) {
    e->set_targets({1.0, 1.0}, {1.0, 1.0}, {40.0, 40.0});
    e->set_state(dilute);
  }
  const int capacity = blk->neighbor_stats().max_neighbors;
  dev->run(500);
  blk->run(500);
  EXPECT_GT(blk->neighbor_stats().max_neighbors, capacity) << "the lists should have grown";
  expect_identical(*dev, *blk, "after an overflow");
}

// Positions and types in the team's scratch array (shared memory on the device) where they fit,
// in the batch otherwise: bitwise the same trajectory, which is the device path's. The limit
// is the emulation's setting (Hopper's 227 KiB by default; 0 forces the batch).
TEST_P(BlockKernel, SharedPositionsAreBitwiseTheBatchPositions) {
  visit([&](auto c) {
    using Model = typename decltype(c)::Model;
    const ModelInfo m = Model::info();
    const TeamSettingsGuard guard;
    omp_set_num_threads(1);
    const BatchState start =
        lattice_batch<Model>({m.default_density, 1.05 * m.default_density}, 250, 1.2, 9);
    const EngineSettings es = block_settings(default_settings<Model>());
    const std::size_t tree = CpuTeamExec::threads_per_team * sizeof(real);
    const std::size_t positions = 250 * (m.dimension * sizeof(real) + sizeof(int));

    auto shared = make_engine("cpu", m.name, es);
    start_and_run<Model>(*shared, start, 520);
    EXPECT_EQ(CpuTeamExec::last_scratch_bytes, tree + positions) << "positions in the scratch";

    CpuTeamExec::team_scratch_limit = tree + positions - 1;  // one byte short: the batch
    auto global = make_engine("cpu", m.name, es);
    start_and_run<Model>(*global, start, 520);
    EXPECT_EQ(CpuTeamExec::last_scratch_bytes, tree) << "positions in the batch";

    expect_identical(*shared, *global, m.name);
    auto dev = test_paths::make_test_engine<test_paths::DevicePathOnCpuPath, Model>(
        default_settings<Model>());
    start_and_run<Model>(*dev, start, 520);
    expect_identical(*shared, *dev, m.name);
  });
}

// Results depend neither on the threads per team (every sum is over fixed chunks, the lists
// are sorted), nor on the order of the threads within a phase (a missing barrier would show
// here), nor on the OpenMP threads that run the teams.
TEST_P(BlockKernel, IndependentOfTeamSizeThreadOrderAndOpenMPThreads) {
  visit([&](auto c) {
    using Model = typename decltype(c)::Model;
    const ModelInfo m = Model::info();
    const TeamSettingsGuard guard;
    const BatchState start = lattice_batch<Model>(
        {m.default_density, 1.05 * m.default_density, 0.95 * m.default_density}, 250, 1.2, 9);
    const EngineSettings es = block_settings(default_settings<Model>());
    struct Variant {
      int size;
      TeamThreadOrder order;
      int threads;
    };
    const Variant variants[] = {{64, TeamThreadOrder::kForward, 1},
                                {32, TeamThreadOrder::kReverse, 2},
                                {128, TeamThreadOrder::kStrided, 3},
                                {1, TeamThreadOrder::kForward, 2}};
    std::unique_ptr<Engine> reference;
    for (const Variant& v : variants) {
      CpuTeamExec::threads_per_team = v.size;
      CpuTeamExec::thread_order = v.order;
      omp_set_num_threads(v.threads);
      auto e = make_engine("cpu", m.name, es);
      start_and_run<Model>(*e, start, 250);
      if (reference)
        expect_identical(*reference, *e, m.name + ", team size " + std::to_string(v.size));
      else
        reference = std::move(e);
    }
  });
}

// Against the CPU's own path (half lists, pair-once forces: other rounding): the same
// trajectory to rounding over a short NVE run, and the same energy.
TEST_P(BlockKernel, FollowsTheHalfListCpuPathToRounding) {
  visit([&](auto c) {
    using Model = typename decltype(c)::Model;
    const ModelInfo m = Model::info();
    const BatchState start = lattice_batch<Model>({m.default_density}, 300, 1.0, 3);
    EngineSettings es;
    es.ensemble = Ensemble::kNVE;
    auto cpu = make_engine("cpu", m.name, es);
    auto blk = make_engine("cpu", m.name, block_settings(es));
    start_and_run<Model>(*cpu, start, 40);
    start_and_run<Model>(*blk, start, 40);
    BatchState a, b;
    cpu->get_state(a);
    blk->get_state(b);
    double worst = 0;
    for (std::size_t i = 0; i < a.x.size(); ++i) {
      worst = std::max(worst, std::abs(double(a.x[i]) - b.x[i]));
      worst = std::max(worst, std::abs(double(a.y[i]) - b.y[i]));
    }
    EXPECT_LT(worst, 1e-3) << m.name;
    std::vector<double> oa, ob;
    cpu->observables(oa);
    blk->observables(ob);
    const double ea = oa[kObsKinetic] + oa[kObsPotential];
    const double eb = ob[kObsKinetic] + ob[kObsPotential];
    EXPECT_NEAR(ea, eb, 1e-4 * std::abs(ea) + 1e-3) << m.name;
  });
}

// ---- the emulation of the team model ----------------------------------------------------

namespace {

// A two-phase team kernel: phase 0 writes out[rank] = 10 (rank + 1) into the scratch array;
// phase 1 (or, without the barrier, phase 0 itself) reads the next thread's value. With the
// barrier every thread sees its neighbour's value in any order; without it, what a thread
// reads depends on whether its neighbour ran before it.
struct NeighbourRead {
  using Control = int;
  int* out;
  bool barrier;
  static std::size_t scratch_bytes(int size) { return size * sizeof(int); }
  Control start(const kernels::TeamContext&) const { return 0; }
  bool advance(Control& phase, const kernels::TeamContext&) const { return barrier && ++phase < 2; }
  void phase(const Control& phase, const kernels::TeamContext& t, int rank) const {
    int* s = static_cast<int*>(t.scratch);
    if (phase == 0) s[rank] = 10 * (rank + 1);
    if (phase == 1 || !barrier) out[t.team * t.size + rank] = s[(rank + 1) % t.size];
  }
};

// The fixed-tree maximum: one phase per level.
struct TreeMax {
  using Control = int;  // the stride; 0: the phase that fills the scratch array
  const real* in;
  real* out;
  static std::size_t scratch_bytes(int size) { return size * sizeof(real); }
  Control start(const kernels::TeamContext&) const { return 0; }
  bool advance(Control& stride, const kernels::TeamContext& t) const {
    stride = stride == 0 ? t.size / 2 : stride / 2;
    return stride >= 1;
  }
  void phase(const Control& stride, const kernels::TeamContext& t, int rank) const {
    real* s = static_cast<real*>(t.scratch);
    if (stride == 0) s[rank] = in[t.team * t.size + rank];
    if (stride > 0) kernels::team_tree_max(s, stride, rank);
    if (stride == 1 && rank == 0) out[t.team] = s[0];
  }
};

std::vector<int> neighbour_reads(bool barrier, TeamThreadOrder order) {
  CpuTeamExec::threads_per_team = 16;
  CpuTeamExec::thread_order = order;
  std::vector<int> out(3 * 16, -1);
  CpuTeamExec{}.launch_teams(3, NeighbourRead{out.data(), barrier});
  return out;
}

}  // namespace

TEST(TeamEmulation, ThreadOrderExposesAMissingBarrier) {
  const TeamSettingsGuard guard;
  const std::vector<int> fwd = neighbour_reads(true, TeamThreadOrder::kForward);
  for (int k = 0; k < 3 * 16; ++k) EXPECT_EQ(fwd[k], 10 * ((k % 16 + 1) % 16 + 1));
  EXPECT_EQ(neighbour_reads(true, TeamThreadOrder::kReverse), fwd);
  EXPECT_EQ(neighbour_reads(true, TeamThreadOrder::kStrided), fwd);
  // Without the barrier, the forward order reads scratch not yet written (NaN bytes) and the
  // reverse order reads the values: the orders disagree, which is what the tests look for.
  EXPECT_NE(neighbour_reads(false, TeamThreadOrder::kForward),
            neighbour_reads(false, TeamThreadOrder::kReverse));
}

TEST(TeamEmulation, TreeMaximumOfEveryTeam) {
  const TeamSettingsGuard guard;
  for (int size : {2, 8, 64}) {
    CpuTeamExec::threads_per_team = size;
    std::vector<real> in(4 * size);
    for (std::size_t k = 0; k < in.size(); ++k) in[k] = real((k * 37) % 101);
    std::vector<real> out(4, -1);
    CpuTeamExec{}.launch_teams(4, TreeMax{in.data(), out.data()});
    for (int t = 0; t < 4; ++t)
      EXPECT_EQ(out[t], *std::max_element(in.begin() + t * size, in.begin() + (t + 1) * size));
  }
  CpuTeamExec::threads_per_team = 12;
  EXPECT_THROW(CpuTeamExec{}.launch_teams(1, TreeMax{nullptr, nullptr}), SimulationError);
}
