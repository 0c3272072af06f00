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
#include "tests/common/test_util.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/exec_cpu.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/models/model_info.hpp"
#include "vitrify/engine/replica_engine.hpp"
#include "vitrify/models/binary3d.hpp"
#include "vitrify/models/hump2d.hpp"

using namespace vitrify;

namespace {

// CpuExec with the device path switched on: the engine may not read flags through pointers,
// lists are stored entry-major as on the GPU, and memory requests are recorded.
struct HostDevicePathExec : CpuExec {
  static constexpr bool host_memory = false;
  static constexpr const char* name = "cpu-device-path";
  static constexpr bool neighbors_particle_major = false;
  static constexpr bool half_lists = false;

  template <class T>
  static void copy(Buffer<T>& dst, const Buffer<T>& src) {
    dst = src;
  }
  static inline std::size_t last_request = 0;
  static inline std::size_t free_bytes = std::numeric_limits<std::size_t>::max();
  static void require_free_memory(std::size_t bytes, const std::string& what) {
    last_request = bytes;
    if (bytes > free_bytes)
      throw InputError(what + " needs about " + std::to_string(bytes) + " bytes");
  }
  static std::string device_name() { return "host, device code path"; }
};

using test_util::FullListCpuExec;

// The reference the device path must match bit for bit.
std::unique_ptr<Engine> full_list_cpu_engine(const std::string& model, const EngineSettings& es) {
  if (model == "binary3d")
    return std::make_unique<ReplicaEngine<FullListCpuExec, Binary3d>>(model, es);
  return std::make_unique<ReplicaEngine<FullListCpuExec, Hump2d>>(model, es);
}

template <class Model>
std::unique_ptr<Engine> device_path_engine(const char* model, const EngineSettings& es) {
  return std::make_unique<ReplicaEngine<HostDevicePathExec, Model>>(model, es);
}

BatchState lattice_batch(const std::string& model, const std::vector<double>& densities, int n,
                         double t, std::uint64_t seed) {
  const ModelInfo& m = model_info(model);
  BatchState s;
  s.resize(static_cast<int>(densities.size()), n, m.dimension);
  for (int r = 0; r < s.n_replicas; ++r)
    make_lattice_replica(s, r, m, densities[r], t, replica_seed(seed, r));
  return s;
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

// Without an overflow the lazy path launches the same kernels on the same data (the builds
// just return early for valid lists), and the transposed lists keep each particle's neighbour
// order, so the trajectory must equal the CPU path's bit for bit, across check blocks.
TEST(DevicePathOnCpu, TrajectoryIsBitwiseTheCpuPathsWhenNothingOverflows) {
  struct Case {
    const char* model;
    Ensemble ensemble;
    std::vector<double> densities;
  };
  for (const Case& c : {Case{"binary3d", Ensemble::kNPT, {0.85, 0.9}},
                        Case{"hump2d", Ensemble::kNVT, {0.8, 0.85}}}) {
    const BatchState start = lattice_batch(c.model, c.densities, 300, 1.2, 5);
    EngineSettings es;
    es.ensemble = c.ensemble;
    auto cpu = full_list_cpu_engine(c.model, es);
    auto dev = std::string(c.model) == "binary3d" ? device_path_engine<Binary3d>(c.model, es)
                                                  : device_path_engine<Hump2d>(c.model, es);
    EXPECT_EQ(dev->device_name(), "host, device code path");
    for (Engine* e : {cpu.get(), dev.get()}) {
      e->set_targets({1.2, 1.0}, {0.9, 0.7}, {10.0, 10.0});
      e->set_state(start);
      e->run(1100, 0.0, 1.0);  // two full check blocks and a partial one, with a ramp
    }
    EXPECT_EQ(cpu->neighbor_stats().max_neighbors, dev->neighbor_stats().max_neighbors)
        << c.model << ": no overflow expected in this test";
    BatchState a, b;
    cpu->get_state(a);
    dev->get_state(b);
    expect_identical(a, b, c.model);
    std::vector<double> oa, ob;
    cpu->observables(oa);
    dev->observables(ob);
    EXPECT_EQ(oa, ob) << c.model;
    EXPECT_EQ(cpu->neighbor_stats().builds, dev->neighbor_stats().builds) << c.model;
    std::vector<int> na, nb;
    cpu->species_neighbor_counts(na);
    dev->species_neighbor_counts(nb);
    EXPECT_EQ(na, nb) << c.model;
    for (long g : {0L, 77L, 599L}) {
      std::vector<int> la = cpu->neighbors_of(g), lb = dev->neighbors_of(g);
      EXPECT_EQ(la, lb) << c.model << " particle " << g;
    }
  }
}

// Compressing from a dilute lattice makes the lists outgrow their capacity inside a block.
// The lazy path notices only at the block's end; it must restore the block's start, grow the
// capacity, rebuild every list and rerun. Then the result is bit for bit that of a batch whose
// capacity never overflowed: the same replicas next to a dense one that sizes the lists large
// enough from the start (replicas are independent, and a list's contents do not depend on its
// capacity unless it is truncated). Results kept from a truncated list would differ.
TEST(DevicePathOnCpu, OverflowInsideABlockIsRerunNotKept) {
  EngineSettings es;
  es.ensemble = Ensemble::kNPT;
  es.barostat_tau = 0.5;
  const BatchState small = lattice_batch("binary3d", {0.3, 0.35}, 400, 1.0, 77);
  auto e = device_path_engine<Binary3d>("binary3d", es);
  e->set_targets({1.0, 1.0}, {1.0, 1.0}, {40.0, 40.0});
  e->set_state(small);
  const NeighborStats before = e->neighbor_stats();
  e->run(500);  // exactly one check block: every rerun restarts from step 0
  EXPECT_GT(e->neighbor_stats().max_neighbors, before.max_neighbors);  // it had to grow

  const BatchState sized = lattice_batch("binary3d", {0.3, 0.35, 1.3}, 400, 1.0, 77);
  auto ref = full_list_cpu_engine("binary3d", es);
  ref->set_targets({1.0, 1.0, 1.0}, {1.0, 1.0, 1.0}, {40.0, 40.0, 1.0});
  ref->set_state(sized);
  const int capacity = ref->neighbor_stats().max_neighbors;
  ref->run(500);
  ASSERT_EQ(ref->neighbor_stats().max_neighbors, capacity) << "the reference must not overflow";

  BatchState a, b;
  e->get_state(a);
  ref->get_state(b);
  const std::size_t n2 = 2 * 400;
  auto head = [n2](const auto& v) { return std::vector(v.begin(), v.begin() + n2); };
  EXPECT_EQ(a.x, head(b.x));
  EXPECT_EQ(a.y, head(b.y));
  EXPECT_EQ(a.z, head(b.z));
  EXPECT_EQ(a.vx, head(b.vx));
  EXPECT_EQ(a.vz, head(b.vz));
  EXPECT_EQ(a.img_x, head(b.img_x));
  EXPECT_EQ(a.box, std::vector(b.box.begin(), b.box.begin() + 6));
  std::vector<double> obs;
  e->observables(obs);
  for (int r = 0; r < 2; ++r)
    EXPECT_GT(400 / obs[r * kObsCount + kObsVolume], 0.8) << "compressed";

  // And the forces of the end state are those of complete lists.
  auto fresh = make_engine("cpu", "binary3d", es);
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

// A box that collapses below twice the list radius is a simulation error naming the replica;
// the engine is left at the start of the block in which it happened.
TEST(DevicePathOnCpu, CollapsedBoxThrowsAndRestoresTheBlockStart) {
  const BatchState start = lattice_batch("binary3d", {0.6, 0.3}, 40, 1.0, 3);
  EngineSettings es;
  es.ensemble = Ensemble::kNPT;
  es.barostat_tau = 0.5;
  auto e = device_path_engine<Binary3d>("binary3d", es);
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
TEST(DevicePathOnCpu, MemoryIsCheckedBeforeAllocating) {
  const BatchState s = lattice_batch("hump2d", {0.8, 0.825, 0.85}, 1000, 0.6, 9);
  auto e = device_path_engine<Hump2d>("hump2d", {});
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

  auto f = device_path_engine<Hump2d>("hump2d", {});
  HostDevicePathExec::free_bytes = estimate / 2;
  try {
    f->set_state(s);
    ADD_FAILURE() << "a batch larger than the free memory must be refused";
  } catch (const InputError& err) {
    const std::string msg = err.what();
    EXPECT_NE(msg.find("a batch of 3 replicas of 1000 hump2d particles needs about"),
              std::string::npos)
        << msg;
  }
  HostDevicePathExec::free_bytes = std::numeric_limits<std::size_t>::max();
}
