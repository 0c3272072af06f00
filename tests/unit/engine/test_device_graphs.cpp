// The per-particle device step (ReplicaEngine::device_step) and its captured graphs, on the
// device code path on the CPU (HostDevicePathExec: team kernels and graphs emulated as the
// CUDA policy runs them). A step is three launches whatever the ensemble; a block of steps is
// captured once and replayed; replaying gives bitwise the results of launching every kernel,
// also across a capacity overflow, a batch change and runs of different lengths and ramps,
// after which a graph captured with the old pointers or parameters would give others.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "tests/common/execution_paths.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/replica_engine.hpp"
#include "vitrify/models/all.hpp"

using namespace vitrify;
using test_paths::HostDevicePathExec;
using test_paths::lattice_batch;

namespace {

template <class Model>
using DeviceEngine = ReplicaEngine<HostDevicePathExec, Model>;

template <class Model>
std::unique_ptr<DeviceEngine<Model>> device_engine(EngineSettings es, bool graphs) {
  es.graphs = graphs;
  return std::make_unique<DeviceEngine<Model>>(Model::info().name, es);
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
  EXPECT_EQ(a.neighbor_stats().max_neighbors, b.neighbor_stats().max_neighbors) << what;
}

// Replica `from` of `src` into replica `to` of `dst` (same n and dimension).
void copy_replica(const BatchState& src, int from, BatchState& dst, int to) {
  const std::size_t n = static_cast<std::size_t>(src.n);
  auto part = [&](const auto& a, auto& b) {
    std::copy(a.begin() + from * n, a.begin() + (from + 1) * n, b.begin() + to * n);
  };
  part(src.x, dst.x), part(src.y, dst.y), part(src.z, dst.z);
  part(src.vx, dst.vx), part(src.vy, dst.vy), part(src.vz, dst.vz);
  part(src.type, dst.type), part(src.img_x, dst.img_x), part(src.img_y, dst.img_y);
  part(src.img_z, dst.img_z);
  std::copy(src.box.begin() + 3 * from, src.box.begin() + 3 * from + 3, dst.box.begin() + 3 * to);
}

// Engine::run with the default ramp (hidden by the override in ReplicaEngine).
void run(Engine& e, long steps) { e.run(steps); }

struct ThreadsGuard {
  int threads = omp_get_max_threads();
  ~ThreadsGuard() { omp_set_num_threads(threads); }
};

}  // namespace

// Three launches (graph nodes) per step in every ensemble: the target is at most six.
TEST(DeviceGraphs, ThreeLaunchesPerStepInEveryEnsemble) {
  using Model = Binary3d;
  const BatchState start = lattice_batch<Model>({1.2, 1.25}, 108, 1.0, 3);
  for (const Ensemble ens : {Ensemble::kNVE, Ensemble::kNVT, Ensemble::kNPT}) {
    EngineSettings es;
    es.ensemble = ens;
    auto e = device_engine<Model>(es, true);
    e->set_targets({1.0, 1.0}, {1.0, 1.0}, {10.0, 10.0});
    e->set_state(start);
    EXPECT_EQ(e->graph_captures(), 0);
    run(*e, 40);
    EXPECT_EQ(e->graph_captures(), 1);
    EXPECT_EQ(e->graph_nodes_per_step(), 3.0) << "ensemble " << static_cast<int>(ens);
    run(*e, 40);  // the same run again: replayed, not captured
    EXPECT_EQ(e->graph_captures(), 1);
  }
  // Without graphs nothing is captured.
  auto plain = device_engine<Model>(EngineSettings{}, false);
  plain->set_state(start);
  run(*plain, 40);
  EXPECT_EQ(plain->graph_captures(), 0);
  EXPECT_EQ(plain->graph_nodes_per_step(), 0.0);
}

// Graphs against launches, bitwise, for each model in its default ensemble with a ramp: runs
// longer than a check block (a full block and a shorter last one), a run of another length,
// a batch change to fewer replicas (new arrays) followed by the first run's blocks again (a
// graph kept from before would replay on the old batch), and a second ramp.
TEST(DeviceGraphs, ReplayIsBitwiseTheLaunchesAcrossRunsAndBatchChanges) {
  const ThreadsGuard guard;
  omp_set_num_threads(1);
  auto check = [](auto model) {
    using Model = decltype(model);
    const ModelInfo m = Model::info();
    SCOPED_TRACE(m.name);
    EngineSettings es;
    es.ensemble = m.default_ensemble == "npt" ? Ensemble::kNPT : Ensemble::kNVT;
    const double rho = m.default_density;
    const BatchState start = lattice_batch<Model>({rho, 1.05 * rho, 0.95 * rho}, 200, 1.2, 5);
    auto g = device_engine<Model>(es, true);
    auto p = device_engine<Model>(es, false);
    for (Engine* e : {static_cast<Engine*>(g.get()), static_cast<Engine*>(p.get())}) {
      e->set_targets({1.2, 1.2, 1.2}, {0.8, 0.9, 1.0},
                     {m.default_pressure, m.default_pressure, m.default_pressure});
      e->set_state(start);
      e->run(620, 0.0, 1.0);  // blocks of 500 and 120 steps
      e->run(30);
    }
    expect_identical(*g, *p, "after two runs");
    EXPECT_EQ(g->graph_captures(), 3);

    // Drop the middle replica: a new batch, new arrays.
    BatchState sg, sp;
    g->get_state(sg);
    p->get_state(sp);
    ASSERT_EQ(sg.x, sp.x);
    BatchState two;
    two.resize(2, sg.n, sg.dim);
    for (int k = 0; k < 2; ++k) copy_replica(sg, k == 0 ? 0 : 2, two, k);
    for (Engine* e : {static_cast<Engine*>(g.get()), static_cast<Engine*>(p.get())}) {
      e->set_targets({1.0, 1.0}, {0.7, 0.8}, {m.default_pressure, m.default_pressure});
      e->set_state(two);
      e->run(620, 0.0, 1.0);  // the first run's blocks again, now on the new arrays
      e->run(500, 0.5, 1.0);
    }
    expect_identical(*g, *p, "after the batch change");
    EXPECT_EQ(g->graph_captures(), 6);
  };
  check(Hump2d{});
  check(Binary3d{});
}

// A capacity overflow inside a replayed block: the block is restored, the lists grown and the
// block replayed from a new capture (the old one holds the old list array); bitwise the
// launches', stochastic components included.
TEST(DeviceGraphs, OverflowRerunRecapturesAndIsBitwiseTheLaunches) {
  using Model = Binary3d;
  const ThreadsGuard guard;
  omp_set_num_threads(1);
  const double rho = Model::info().default_density;
  const BatchState dilute = lattice_batch<Model>({0.4 * rho, 0.47 * rho}, 400, 1.0, 77);
  EngineSettings es;
  es.ensemble = Ensemble::kNPT;
  es.barostat_tau = 0.5;
  es.thermostat = ThermostatKind::kCsvr;
  es.barostat = BarostatKind::kCRescale;
  auto g = device_engine<Model>(es, true);
  auto p = device_engine<Model>(es, false);
  for (Engine* e : {static_cast<Engine*>(g.get()), static_cast<Engine*>(p.get())}) {
    e->set_targets({1.0, 1.0}, {1.0, 1.0}, {40.0, 40.0});
    e->set_state(dilute);
  }
  const int capacity = g->neighbor_stats().max_neighbors;
  run(*g, 500);
  run(*p, 500);
  ASSERT_GT(g->neighbor_stats().max_neighbors, capacity) << "the lists should have grown";
  EXPECT_GE(g->graph_captures(), 2) << "a grown list is a new array: the block is recaptured";
  expect_identical(*g, *p, "after an overflow");
}
