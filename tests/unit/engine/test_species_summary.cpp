// Engine::species_summary: the per-(type, n) particle counts and energy sums of a production
// sample, computed where the particles are. Checked on every execution path and model against
// the host oracle (Engine's own implementation from the per-particle arrays), and on the device
// code path run on the CPU for what it copies: the summary, not the particles.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "tests/common/execution_paths.hpp"
#include "tests/common/reference_models.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/engine/measurements.hpp"
#include "vitrify/engine/replica_engine.hpp"
#include "vitrify/models/all.hpp"

using namespace vitrify;

namespace {

// Two lattice replicas of about 500 particles at the model's density and 1.02 times it, melted
// at T = 1 for 300 steps (a liquid with many species populated).
template <class Model>
BatchState melted_batch() {
  const ModelInfo m = Model::info();
  BatchState s;
  s.resize(2, test_ref::round_up_particles(m, 500), m.dimension);
  for (int r = 0; r < 2; ++r)
    make_lattice_replica(s, r, m, m.default_density * (1.0 + 0.02 * r), 1.0, replica_seed(7, r));
  return s;
}

void expect_same_summary(const SpeciesSummary& got, const SpeciesSummary& want, int n) {
  ASSERT_EQ(got.replicas, want.replicas);
  ASSERT_EQ(got.bins, want.bins);
  ASSERT_EQ(got.count.size(), want.count.size());
  ASSERT_EQ(got.sums.size(), want.sums.size());
  EXPECT_EQ(got.count, want.count);
  EXPECT_EQ(got.overflow, want.overflow);
  for (int r = 0; r < got.replicas; ++r) {
    const auto first = got.count.begin() + static_cast<long>(r) * got.bins;
    EXPECT_EQ(std::accumulate(first, first + got.bins, 0), n) << "replica " << r;
  }
  // The same sums in another order: equal to rounding of the terms' magnitudes.
  for (std::size_t k = 0; k < got.sums.size(); ++k) {
    const double count = got.count[k / SpeciesSummary::kSums];
    const double tol = 1e-12 * (std::fabs(want.sums[k]) + count);
    EXPECT_NEAR(got.sums[k], want.sums[k], tol) << "bin " << k / SpeciesSummary::kSums;
  }
}

using CountingExec = test_paths::CountingDownloadsExec;

}  // namespace

class SpeciesSummaryPaths : public test_paths::EnginePathTest {};
INSTANTIATE_TEST_SUITE_P(EnginePaths, SpeciesSummaryPaths, test_paths::engine_cases(),
                         test_paths::CaseName{});

// Counts identical and sums equal to rounding, for the production binning (48 bins per type)
// and for 4 bins per type, where most particles overflow into the last bin.
TEST_P(SpeciesSummaryPaths, MatchesTheHostOracle) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const ModelInfo m = Model::info();
    BatchState s = melted_batch<Model>();
    auto e = C::make_engine(EngineSettings{});
    e->set_targets({1.0, 1.0}, {1.0, 1.0}, {1.0, 1.0});
    e->set_state(s);
    e->run(300);
    for (int max_n : {kMaxSpeciesNeighbors, 4}) {
      SpeciesSummary device, host;
      e->species_summary(m.n_types, max_n, device);
      e->Engine::species_summary(m.n_types, max_n, host);
      SCOPED_TRACE("max_n " + std::to_string(max_n));
      expect_same_summary(device, host, s.n);
      const int overflow = std::accumulate(host.overflow.begin(), host.overflow.end(), 0);
      if (max_n == 4) EXPECT_GT(overflow, 0);
      if (max_n == kMaxSpeciesNeighbors) EXPECT_EQ(overflow, 0);
    }
  });
}

// One sample copies R * (bins * (4 + 4 * 8) + 4) bytes (3.4 KiB per replica for binary3d's 96
// bins) and the list check's flags, against 12 bytes per particle for the three per-particle
// arrays (48 KiB per replica at N = 4096).
TEST(SpeciesSummaryBytes, OneSampleCopiesTheSummaryNotTheParticles) {
  const ModelInfo m = Binary3d::info();
  BatchState s = melted_batch<Binary3d>();
  std::unique_ptr<Engine> e =
      std::make_unique<ReplicaEngine<CountingExec, Binary3d>>(m.name, EngineSettings{});
  e->set_targets({1.0, 1.0}, {1.0, 1.0}, {1.0, 1.0});
  e->set_state(s);
  e->run(20);
  SpeciesSummary summary;
  CountingExec::bytes_down = 0;
  e->species_summary(m.n_types, kMaxSpeciesNeighbors, summary);
  const std::size_t bins = static_cast<std::size_t>(m.n_types) * kMaxSpeciesNeighbors;
  const std::size_t per_replica = bins * (sizeof(int) + 4 * sizeof(double)) + sizeof(int);
  // The summary and the list check's overflow flags (one int per replica).
  EXPECT_EQ(CountingExec::bytes_down, s.n_replicas * (per_replica + sizeof(int)));
  EXPECT_LE(per_replica, 4096u);
  // What the per-particle route copies for the same sample.
  std::vector<int> nn;
  std::vector<real> u, ub;
  CountingExec::bytes_down = 0;
  e->species_neighbor_counts(nn);
  e->particle_energies(u);
  e->bound_energies(ub);
  EXPECT_EQ(CountingExec::bytes_down,
            static_cast<std::size_t>(s.n_replicas) *
                (s.n * (sizeof(int) + 2 * sizeof(real)) + 2 * sizeof(int)));
}
