// The device path's block check (ReplicaEngine::run_device): a capacity overflow reported in the
// same block as a too-small box is handled first (restore, grow, rerun), because a truncated list
// lowers the virial and a barostat can then shrink the box; the box error stands only for a block
// that ran with complete lists. The flags are injected by an execution policy that otherwise is
// the device path on the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/batch.hpp"
#include "tests/common/execution_paths.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/models/binary3d.hpp"

using namespace vitrify;

namespace {

// The device path on the CPU; while `inject` is non-zero, the first download of the overflow
// flags during run() (the only int array run() reads back) gets `inject` ORed into replica 0.
struct InjectingExec : test_paths::HostDevicePathExec {
  static inline int inject = 0;
  static inline int injected = 0;
  template <class T>
  static void download(std::vector<T>& dst, const Buffer<T>& src) {
    test_paths::HostDevicePathExec::download(dst, src);
    if constexpr (std::is_same_v<T, int>) {
      if (inject != 0 && !dst.empty()) {
        dst[0] |= inject;
        inject = 0;
        ++injected;
      }
    }
  }
};

BatchState liquid(int replicas) {
  const ModelInfo m = Binary3d::info();
  BatchState s;
  s.resize(replicas, 500, m.dimension);
  for (int r = 0; r < replicas; ++r) make_lattice_replica(s, r, m, 1.0, 1.0, replica_seed(5, r));
  return s;
}

std::unique_ptr<Engine> engine() {
  EngineSettings es;
  es.ensemble = Ensemble::kNPT;
  auto e = test_paths::make_replica_engine<InjectingExec, Binary3d>(es);
  e->set_state(liquid(2));
  e->set_targets({1.0, 1.0}, {1.0, 1.0}, {10.0, 10.0});
  return e;
}

}  // namespace

TEST(DeviceOverflowOrder, OverflowWithSmallBoxIsGrownAndRerun) {
  auto e = engine();
  const int before = e->neighbor_stats().max_neighbors;
  InjectingExec::injected = 0;
  InjectingExec::inject = kernels::kNeighborOverflow | kernels::kBoxTooSmall;
  EXPECT_NO_THROW(e->run(50, 1.0, 1.0));
  EXPECT_EQ(InjectingExec::injected, 1);
  EXPECT_GT(e->neighbor_stats().max_neighbors, before);  // grown, then the block ran again
  std::vector<double> obs;
  e->observables(obs);
  for (double x : obs) EXPECT_TRUE(std::isfinite(x));
}

TEST(DeviceOverflowOrder, SmallBoxWithCompleteListsStillFails) {
  auto e = engine();
  InjectingExec::inject = kernels::kBoxTooSmall;
  EXPECT_THROW(e->run(50, 1.0, 1.0), SimulationError);
  InjectingExec::inject = 0;
}
