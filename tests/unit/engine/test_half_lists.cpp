// The CPU backend's half lists (every pair once, per-range accumulation) against the full
// lists and per-particle kernel the GPU runs, on the same configurations, for every model:
// both list forms (the cell-sorted stencil build, and the parity rule of boxes with fewer than
// five cells per axis), several replicas. Forces, energies and virials may differ by rounding
// only; species counts are integers and must be equal; each particle's neighbours are the
// same set. (Each path against brute force: test_reference_paths.cpp.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/integrate.hpp"
#include "tests/common/execution_paths.hpp"
#include "tests/common/reference_models.hpp"
#include "tests/common/test_util.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/exec_cpu.hpp"
#include "vitrify/engine/replica_engine.hpp"
#include "vitrify/models/all.hpp"

using namespace vitrify;
using test_util::FullListCpuExec;

namespace {

template <class Model>
void expect_half_equals_full(const BatchState& s, const std::string& what) {
  static_assert(CpuExec::half_lists && !FullListCpuExec::half_lists);
  const EngineSettings es;
  const std::string name = Model::info().name;
  ReplicaEngine<CpuExec, Model> half(name, es);
  ReplicaEngine<FullListCpuExec, Model> full(name, es);
  half.set_state(s);
  full.set_state(s);
  std::vector<real> hx, hy, hz, gx, gy, gz, hu, gu;
  half.forces(hx, hy, hz);
  full.forces(gx, gy, gz);
  half.particle_energies(hu);
  full.particle_energies(gu);
  double fmax = 0;
  for (real v : gx) fmax = std::max(fmax, double(std::fabs(v)));
  ASSERT_GT(fmax, 0.0);
  for (std::size_t g = 0; g < hx.size(); ++g) {
    ASSERT_NEAR(hx[g], gx[g], 2e-5 * fmax) << what << " particle " << g;
    ASSERT_NEAR(hy[g], gy[g], 2e-5 * fmax) << what << " particle " << g;
    ASSERT_NEAR(hz[g], gz[g], 2e-5 * fmax) << what << " particle " << g;
    ASSERT_NEAR(hu[g], gu[g], 2e-5 * std::max(1.0, double(std::fabs(gu[g])))) << what << " " << g;
  }
  std::vector<double> ho, go;
  half.observables(ho);
  full.observables(go);
  for (int r = 0; r < s.n_replicas; ++r)
    for (int q : {kObsPotential, kObsVirial}) {
      const double v = go[r * kObsCount + q];
      EXPECT_NEAR(ho[r * kObsCount + q], v, 1e-5 * std::max(1.0, std::fabs(v)))
          << what << " replica " << r << " observable " << q;
    }
  std::vector<int> hn, gn;
  half.species_neighbor_counts(hn);
  full.species_neighbor_counts(gn);
  EXPECT_EQ(hn, gn) << what;
  for (long g = 0; g < static_cast<long>(hx.size()); g += 37) {
    std::vector<int> a = half.neighbors_of(g), b = full.neighbors_of(g);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b) << what << " particle " << g;
  }
}

}  // namespace

class HalfLists : public test_paths::ModelTest {};
INSTANTIATE_TEST_SUITE_P(Models, HalfLists, test_paths::model_cases(), test_paths::CaseName{});

TEST_P(HalfLists, GiveTheFullListResults) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = typename C::Model;
    const ModelInfo m = Model::info();
    const int d = m.dimension;
    const double rl = test_ref::list_radius<Model>(EngineSettings{}.skin);
    {
      BatchState s;  // two replicas, different boxes, five or more cells per axis
      s.resize(2, 400, d);
      const double rho[2] = {0.9 * m.default_density, 0.75 * m.default_density};
      for (int r = 0; r < 2; ++r)
        test_ref::random_replica(s, r, m, test_ref::box_edge(400, rho[r], d), m.min_init_distance,
                                 41 + r);
      expect_half_equals_full<Model>(s, m.name);
    }
    {
      BatchState s;  // 2.3 list radii: fewer than five cells per axis
      const double len = 2.3 * rl;
      s.resize(2, test_ref::round_up_particles(m, 0.5 * m.default_density * std::pow(len, d)), d);
      for (int r = 0; r < 2; ++r)
        test_ref::random_replica(s, r, m, len, m.min_init_distance, 3 + r);
      expect_half_equals_full<Model>(s, m.name + " small box");
    }
  });
}
