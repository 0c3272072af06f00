// The device-memory code path of ReplicaEngine (what the CUDA backend runs: lazy overflow
// checks once per block, block-start copy and rerun, transposed neighbour lists, memory check
// before allocating), exercised on the CPU through a host policy that declares its memory
// "not host memory". Runs on every machine; the CUDA policy differs only in where buffers live.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "kernels/integrate.hpp"
#include "tests/common/execution_paths.hpp"
#include "tests/common/test_util.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/engine/replica_engine.hpp"
#include "vitrify/models/all.hpp"
#include "vitrify/models/model_info.hpp"

using namespace vitrify;
using test_paths::HostDevicePathExec;
using test_paths::lattice_batch;
using test_util::FullListCpuExec;

namespace {

// The reference the device path must match bit for bit: the same full lists on the host path.
template <class Model>
std::unique_ptr<Engine> full_list_cpu_engine(const EngineSettings& es) {
  return test_paths::make_replica_engine<FullListCpuExec, Model>(es);
}

template <class Model>
std::unique_ptr<Engine> device_path_engine(const EngineSettings& es) {
  return test_paths::make_replica_engine<HostDevicePathExec, Model>(es);
}

void expect_identical(const BatchState& a, const BatchState& b, const std::string& what) {
  EXPECT_EQ(a.x, b.x) << what;
  EXPECT_EQ(a.y, b.y) << what;
  EXPECT_EQ(a.z, b.z) << what;
  EXPECT_EQ(a.vx, b.vx) << what;
  EXPECT_EQ(a.vy, b.vy) << what;
  EXPECT_EQ(a.vz, b.vz) << what;
  EXPECT_EQ(a.img_x, b.img_x) << what;
  EXPECT_EQ(a.img_y, b.img_y) << what;
  EXPECT_EQ(a.img_z, b.img_z) << what;
  EXPECT_EQ(a.box, b.box) << what;
}

}  // namespace

class DevicePathOnCpu : public test_paths::ModelTest {};
INSTANTIATE_TEST_SUITE_P(Models, DevicePathOnCpu, test_paths::model_cases(),
                         test_paths::CaseName{});

// Without an overflow the lazy path launches the same kernels on the same data (the builds
// just return early for valid lists), and the transposed lists keep each particle's neighbour
// order, so the trajectory must equal the CPU path's bit for bit, across check blocks. Each
// model in its default ensemble, from lattices at two densities near its default.
TEST_P(DevicePathOnCpu, TrajectoryIsBitwiseTheFullListPathsWhenNothingOverflows) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const ModelInfo m = Model::info();
    const double rho = m.default_density;
    const BatchState start = lattice_batch<Model>({rho, 1.05 * rho}, 300, 1.2, 5);
    EngineSettings es;
    es.ensemble = m.default_ensemble == "npt" ? Ensemble::kNPT : Ensemble::kNVT;
    auto cpu = full_list_cpu_engine<Model>(es);
    auto dev = device_path_engine<Model>(es);
    EXPECT_EQ(dev->device_name(), "host, device code path");
    for (Engine* e : {cpu.get(), dev.get()}) {
      e->set_targets({1.2, 1.0}, {0.9, 0.7}, {m.default_pressure, m.default_pressure});
      e->set_state(start);
      e->run(1100, 0.0, 1.0);  // two full check blocks and a partial one, with a ramp
    }
    EXPECT_EQ(cpu->neighbor_stats().max_neighbors, dev->neighbor_stats().max_neighbors)
        << "no overflow expected in this test";
    BatchState a, b;
    cpu->get_state(a);
    dev->get_state(b);
    expect_identical(a, b, m.name);
    std::vector<double> oa, ob;
    cpu->observables(oa);
    dev->observables(ob);
    EXPECT_EQ(oa, ob);
    EXPECT_EQ(cpu->neighbor_stats().builds, dev->neighbor_stats().builds);
    std::vector<int> na, nb;
    cpu->species_neighbor_counts(na);
    dev->species_neighbor_counts(nb);
    EXPECT_EQ(na, nb);
    for (long g : {0L, 77L, 599L}) {
      std::vector<int> la = cpu->neighbors_of(g), lb = dev->neighbors_of(g);
      EXPECT_EQ(la, lb) << "particle " << g;
    }
  });
}

// The stochastic components (CSVR; c-rescale under NPT) on the device path draw the same
// numbers as on the host path (the same VT_HD code, keyed by seed, replica id and step, the
// step restored with a rerun block): the trajectory is again bitwise the full-list path's,
// across a check block, with replica ids that are not the batch positions.
TEST_P(DevicePathOnCpu, StochasticComponentsDrawTheSameNumbers) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const ModelInfo m = Model::info();
    const double rho = m.default_density;
    const BatchState start = lattice_batch<Model>({rho, 1.05 * rho}, 300, 1.2, 6);
    EngineSettings es;
    es.ensemble = m.default_ensemble == "npt" ? Ensemble::kNPT : Ensemble::kNVT;
    es.thermostat = ThermostatKind::kCsvr;
    es.barostat = BarostatKind::kCRescale;
    es.thermostat_tau = 0.1;
    es.barostat_tau = 1.0;
    es.seed = 99;
    auto cpu = full_list_cpu_engine<Model>(es);
    auto dev = device_path_engine<Model>(es);
    for (Engine* e : {cpu.get(), dev.get()}) {
      e->set_targets({1.2, 1.0}, {1.0, 0.8}, {m.default_pressure, m.default_pressure});
      e->set_state(start);
      e->set_replica_ids({5, 2});
      e->run(520, 0.0, 1.0);
    }
    BatchState a, b;
    cpu->get_state(a);
    dev->get_state(b);
    expect_identical(a, b, m.name);
    std::vector<double> oa, ob;
    cpu->observables(oa);
    dev->observables(ob);
    EXPECT_EQ(oa, ob);
    EngineCheckpoint ka, kb;
    cpu->save_state(ka);
    dev->save_state(kb);
    EXPECT_EQ(ka.arrays.at("thermostat_state").as<double>(), (std::vector<double>{520, 520}));
    EXPECT_EQ(kb.arrays.at("thermostat_state").as<double>(), (std::vector<double>{520, 520}));
  });
}

// Compressing from a dilute lattice makes the lists outgrow their capacity inside a block.
// The lazy path notices only at the block's end; it must restore the block's start, grow the
// capacity, rebuild every list and rerun. Then the result is bit for bit that of a batch whose
// capacity never overflowed: the same replicas next to a dense one that sizes the lists large
// enough from the start (replicas are independent, and a list's contents do not depend on its
// capacity unless it is truncated). Results kept from a truncated list would differ. (A model
// whose lists the compression cannot overflow, hump2d, skips.)
TEST_P(DevicePathOnCpu, OverflowInsideABlockIsRerunNotKept) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const ModelInfo m = Model::info();
    const int n = 400;
    const double rho = m.default_density;
    // Berendsen, then (binary3d: the kernels are the same for every model) CSVR with
    // c-rescale: a rerun block replays the same random numbers (the components' step counters
    // are restored with the block).
    for (const bool stochastic : {false, true}) {
      if (stochastic && m.name != "binary3d") break;
      SCOPED_TRACE(stochastic ? "csvr, c-rescale" : "berendsen");
      EngineSettings es;
      es.ensemble = Ensemble::kNPT;
      es.barostat_tau = 0.5;
      if (stochastic) {
        es.thermostat = ThermostatKind::kCsvr;
        es.barostat = BarostatKind::kCRescale;
      }
      const BatchState small = lattice_batch<Model>({0.4 * rho, 0.47 * rho}, n, 1.0, 77);
      auto e = device_path_engine<Model>(es);
      e->set_targets({1.0, 1.0}, {1.0, 1.0}, {40.0, 40.0});
      e->set_state(small);
      const NeighborStats before = e->neighbor_stats();
      e->run(500);  // exactly one check block: every rerun restarts from step 0
      if (e->neighbor_stats().max_neighbors == before.max_neighbors)
        GTEST_SKIP() << "the " << m.name << " lists did not outgrow their capacity "
                     << before.max_neighbors << " (its margin is more than the compression fills)";

      const BatchState sized = lattice_batch<Model>({0.4 * rho, 0.47 * rho, 1.2 * rho}, n, 1.0, 77);
      auto ref = full_list_cpu_engine<Model>(es);
      ref->set_targets({1.0, 1.0, 1.0}, {1.0, 1.0, 1.0}, {40.0, 40.0, 1.0});
      ref->set_state(sized);
      const int capacity = ref->neighbor_stats().max_neighbors;
      ref->run(500);
      ASSERT_EQ(ref->neighbor_stats().max_neighbors, capacity) << "the reference must not overflow";

      BatchState a, b;
      e->get_state(a);
      ref->get_state(b);
      const std::size_t n2 = 2 * n;
      auto head = [n2](const auto& v) { return std::vector(v.begin(), v.begin() + n2); };
      EXPECT_EQ(a.x, head(b.x));
      EXPECT_EQ(a.y, head(b.y));
      EXPECT_EQ(a.z, head(b.z));
      EXPECT_EQ(a.vx, head(b.vx));
      EXPECT_EQ(a.vy, head(b.vy));
      EXPECT_EQ(a.img_x, head(b.img_x));
      EXPECT_EQ(a.box, std::vector(b.box.begin(), b.box.begin() + 6));
      std::vector<double> obs;
      e->observables(obs);
      for (int r = 0; r < 2; ++r)
        EXPECT_GT(n / obs[r * kObsCount + kObsVolume], 0.8 * rho) << "compressed";

      // And the forces of the end state are those of complete lists.
      auto fresh = test_paths::CpuPath::make<Model>(es);
      fresh->set_state(a);
      std::vector<real> fx, fy, fz, rx, ry, rz;
      e->forces(fx, fy, fz);
      fresh->forces(rx, ry, rz);
      double fmax = 0, worst = 0;
      for (std::size_t g = 0; g < fx.size(); ++g) {
        fmax = std::max(
            {fmax, std::fabs(double(rx[g])), std::fabs(double(ry[g])), std::fabs(double(rz[g]))});
        worst = std::max({worst, std::fabs(double(fx[g]) - rx[g]), std::fabs(double(fy[g]) - ry[g]),
                          std::fabs(double(fz[g]) - rz[g])});
      }
      EXPECT_LT(worst, 1e-5 * std::max(1.0, fmax));  // same arithmetic, order may differ
    }
  });
}

// A box that collapses below twice the list radius is a simulation error naming the replica;
// the engine is left at the start of the block in which it happened.
// (binary3d: 40 particles squeezed at p = 80 reach the limit within a block.)
TEST(DevicePathOnCpuBinary3d, CollapsedBoxThrowsAndRestoresTheBlockStart) {
  const BatchState start = lattice_batch<Binary3d>({0.6, 0.3}, 40, 1.0, 3);
  EngineSettings es;
  es.ensemble = Ensemble::kNPT;
  es.barostat_tau = 0.5;
  auto e = device_path_engine<Binary3d>(es);
  e->set_targets({1.0, 1.0}, {1.0, 1.0}, {1.0, 80.0});  // only replica 1 is squeezed
  e->set_state(start);
  try {
    e->run(400);
    ADD_FAILURE() << "a collapsed box must throw";
  } catch (const SimulationError& err) {
    const std::string msg = err.what();
    EXPECT_NE(msg.find("replica(s) 1:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("restored to step 0"), std::string::npos) << msg;
  }
  BatchState now;
  e->get_state(now);
  expect_identical(now, start, "restored block start");
}

// The batch's memory is estimated before anything is allocated; a request larger than the
// free memory is refused with an InputError naming the batch.
TEST_P(DevicePathOnCpu, MemoryIsCheckedBeforeAllocating) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const ModelInfo m = Model::info();
    const double rho = m.default_density;
    const BatchState s = lattice_batch<Model>({0.97 * rho, rho, 1.03 * rho}, 1000, 0.6, 9);
    auto e = device_path_engine<Model>({});
    HostDevicePathExec::free_bytes = std::numeric_limits<std::size_t>::max();
    e->set_state(s);
    const std::size_t estimate = HostDevicePathExec::last_request;
    const std::size_t particles = 3 * 1000;
    const int capacity = e->neighbor_stats().max_neighbors;
    // At least the particle arrays, their block-start copy and the neighbour list.
    EXPECT_GT(estimate, particles * (29 + capacity) * sizeof(int));
    EXPECT_LT(estimate, 2 * particles * (29 + capacity) * sizeof(int) + (std::size_t(128) << 20));
    e->set_state(s);  // same batch again: nothing more is needed
    EXPECT_EQ(HostDevicePathExec::last_request, 0u);

    auto f = device_path_engine<Model>({});
    HostDevicePathExec::free_bytes = estimate / 2;
    try {
      f->set_state(s);
      ADD_FAILURE() << "a batch larger than the free memory must be refused";
    } catch (const InputError& err) {
      const std::string msg = err.what();
      EXPECT_NE(msg.find("a batch of 3 replicas of 1000 " + m.name + " particles needs about"),
                std::string::npos)
          << msg;
    }
    HostDevicePathExec::free_bytes = std::numeric_limits<std::size_t>::max();
  });
}
