// The self-ISF frames kept where the particles are (Engine::isf_frame, kernels/isf.hpp): on the
// device code path run on the CPU the production sampler keeps the multiple-tau frames in the
// engine and receives one sum per replica and lag per sample. Checked against a host
// accumulator fed with the positions of the same samples (the host path's algorithm), through
// a checkpoint of the sampler and a replica leaving the batch, and for what one sample copies.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/common/execution_paths.hpp"
#include "tests/common/reference_models.hpp"
#include "vitrify/analysis/measure_isf.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/engine/measurements.hpp"
#include "vitrify/engine/replica_engine.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/io/checkpoint.hpp"
#include "vitrify/io/config.hpp"
#include "vitrify/models/all.hpp"

using namespace vitrify;

namespace {

using CountingExec = test_paths::CountingDownloadsExec;

// The host path's ISF of batch replica r from the engine's positions (the oracle).
void add_host_frame(Engine& e, const ModelInfo& m, int r, analysis::SelfIsfAccumulator& acc) {
  BatchState s;
  e.get_state(s);
  std::vector<double> x, y, z;
  for (int i = 0; i < s.n; ++i) {
    const long g = static_cast<long>(r) * s.n + i;
    bool selected = false;
    for (int t : m.isf_types) selected = selected || s.type[g] == t;
    if (!selected) continue;
    x.push_back(s.x[g] + double(s.img_x[g]) * s.box[3 * r]);
    y.push_back(s.y[g] + double(s.img_y[g]) * s.box[3 * r + 1]);
    z.push_back(m.dimension == 3 ? s.z[g] + double(s.img_z[g]) * s.box[3 * r + 2] : 0.0);
  }
  acc.add_frame(x.data(), y.data(), z.data());
}

void expect_same_isf(const analysis::SelfIsfAccumulator& got,
                     const analysis::SelfIsfAccumulator& want) {
  EXPECT_EQ(got.frames_added(), want.frames_added());
  EXPECT_EQ(got.counts(), want.counts());
  EXPECT_EQ(got.lag_times(), want.lag_times());
  const std::vector<double> a = got.values(), b = want.values();
  ASSERT_EQ(a.size(), b.size());
  // The same terms summed in another order (particle chunks, the centre of mass by chunks).
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12) << "lag " << i;
  EXPECT_LT(b.back(), 0.99);  // the particles moved: the curve is not trivially 1
}

template <class Model>
void check_frames_in_engine() {
  const ModelInfo m = Model::info();
  const BatchState s = test_paths::lattice_batch<Model>(
      {m.default_density, m.default_density}, test_ref::round_up_particles(m, 500), 1.0, 5);
  const RunConfig c = parse_config({{"model", m.name},
                                    {"n_particles", s.n},
                                    {"temperatures", {1.0, 1.2}},
                                    {"equilibration_steps", 0},
                                    {"production_steps", 600},
                                    {"sample_interval", 5},
                                    {"isf_points_per_level", 8}},
                                   "test");
  std::unique_ptr<Engine> e =
      std::make_unique<ReplicaEngine<CountingExec, Model>>(m.name, EngineSettings{});
  e->set_targets({1.0, 1.2}, {1.0, 1.2}, {1.0, 1.2});
  e->set_state(s);
  e->run(100);
  ASSERT_TRUE(e->isf_frames_here());

  analysis::IsfOptions io;
  io.points_per_level = c.isf_points_per_level;
  const int m_isf = [&] {
    int k = 0;
    for (int i = 0; i < s.n; ++i)
      for (int t : m.isf_types) k += s.type[i] == t;
    return k;
  }();
  std::vector<analysis::SelfIsfAccumulator> oracle(
      2, analysis::SelfIsfAccumulator(m.dimension, m.isf_k, m_isf, c.sample_interval * c.dt, io));

  std::unique_ptr<ProductionSampler> sampler = make_standard_sampler(c);
  sampler->begin(*e, {0, 1});
  std::vector<int> alive = {0, 1};
  const std::size_t summary_bytes =  // species summary + list flags, per replica
      static_cast<std::size_t>(m.n_types) * kMaxSpeciesNeighbors * (sizeof(int) + 4 * 8) + 8;
  for (long k = 1; k <= 120; ++k) {
    e->run(c.sample_interval);
    CountingExec::bytes_down = 0;
    sampler->sample(k * c.sample_interval, *e);
    const std::size_t bytes = CountingExec::bytes_down;
    // Per replica: the species summary, the observables and at most 2p lag sums; beyond the
    // summary, less than one per-particle array (N * 4 bytes or more).
    EXPECT_LE(bytes, alive.size() * (summary_bytes + 1024)) << "sample " << k;
    EXPECT_LT(bytes, alive.size() * (summary_bytes + s.n * sizeof(real))) << "sample " << k;
    for (std::size_t b = 0; b < alive.size(); ++b) add_host_frame(*e, m, b, oracle[alive[b]]);
    if (k == 60) {  // a checkpoint: a new sampler continues from the saved state
      const nlohmann::json state = sampler->save_state();
      sampler = make_standard_sampler(c);
      sampler->begin(*e, {0, 1});
      sampler->load_state(state);
    }
    if (k == 90) {  // replica 0 leaves the batch (the driver's drop path)
      sampler->before_batch_change();
      EngineCheckpoint full;
      e->save_state(full);
      e->load_state(select_replicas(full, {1}));
      e->set_targets({1.2}, {1.2}, {1.2});
      sampler->drop(0);
      alive = {1};
    }
  }
  const nlohmann::json state = sampler->save_state();
  ASSERT_EQ(state.at("replicas").size(), 1u);
  expect_same_isf(analysis::SelfIsfAccumulator::from_json(state["replicas"][0]["isf"]), oracle[1]);
}

}  // namespace

TEST(IsfInEngine, FollowsTheHostAccumulatorThroughACheckpointAndADrop) {
  {
    SCOPED_TRACE("hump2d");
    check_frames_in_engine<Hump2d>();
  }
  {
    SCOPED_TRACE("binary3d");
    check_frames_in_engine<Binary3d>();
  }
}

// The host-memory engines keep no frames: the sampler computes the ISF from the positions.
TEST(IsfInEngine, HostMemoryEnginesKeepNoFrames) {
  const ModelInfo m = Hump2d::info();
  auto e = std::make_unique<ReplicaEngine<CpuExec, Hump2d>>(m.name, EngineSettings{});
  EXPECT_FALSE(e->isf_frames_here());
  EXPECT_THROW(e->isf_select(2, 1.0, 1, {0}), SimulationError);
}
