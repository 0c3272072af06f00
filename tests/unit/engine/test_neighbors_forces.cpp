// Neighbour lists, forces and quasi-species counts against brute-force N^2 oracles.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "kernels/integrate.hpp"
#include "tests/common/test_util.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/exec_cpu.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/engine/replica_engine.hpp"
#include "vitrify/models/all.hpp"
#include "vitrify/models/binary3d.hpp"
#include "vitrify/models/hump2d.hpp"
#include "vitrify/models/model_info.hpp"

using namespace vitrify;

namespace {

// Spreads particles by rejecting overlaps closer than dmin (so forces stay finite).
void spread_replica(BatchState& s, int r, double len, int n_types, double dmin,
                    std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int a = 0; a < 3; ++a) s.box[3 * r + a] = real(a < s.dim ? len : 1.0);
  for (int i = 0; i < s.n; ++i) {
    const long g = static_cast<long>(r) * s.n + i;
    for (int tries = 0;; ++tries) {
      s.x[g] = real(u(rng) * len);
      s.y[g] = real(u(rng) * len);
      s.z[g] = s.dim == 3 ? real(u(rng) * len) : real(0);
      bool ok = true;
      for (int j = 0; j < i && ok; ++j)
        ok = test_util::distance2(s, r, g, static_cast<long>(r) * s.n + j) > dmin * dmin;
      if (ok) break;
      ASSERT_LT(tries, 100000);
    }
    s.type[g] = n_types > 1 ? static_cast<int>(u(rng) * n_types) % n_types : 0;
  }
}

template <class Model>
void check_lists_and_forces(Engine& e, const BatchState& s, const Model& model, double skin,
                            bool just_built = true) {
  std::vector<real> fx, fy, fz;
  e.forces(fx, fy, fz);
  std::vector<double> obs;
  e.observables(obs);
  for (int r = 0; r < s.n_replicas; ++r) {
    std::vector<double> f;
    const double u = test_util::brute_force(s, r, model, f);
    EXPECT_NEAR(obs[r * kObsCount + kObsPotential], u,
                1e-4 * std::max(1.0, std::fabs(u)));
    double fmax = 0;
    for (double v : f) fmax = std::max(fmax, std::fabs(v));
    for (int i = 0; i < s.n; ++i) {
      const long g = static_cast<long>(r) * s.n + i;
      const double tol = 1e-4 * std::max(1.0, fmax);
      EXPECT_NEAR(fx[g], f[3 * i], tol);
      EXPECT_NEAR(fy[g], f[3 * i + 1], tol);
      if (s.dim == 3) EXPECT_NEAR(fz[g], f[3 * i + 2], tol);
    }
    // Neighbour list: every pair inside the interaction cutoff is listed, no duplicates, no
    // self; right after a build every listed pair is inside cutoff + skin (plus rounding).
    for (int i = 0; i < s.n; i += 7) {
      const long g = static_cast<long>(r) * s.n + i;
      const std::vector<int> list = e.neighbors_of(g);
      const std::set<int> listed(list.begin(), list.end());
      EXPECT_EQ(listed.size(), list.size());
      EXPECT_EQ(listed.count(static_cast<int>(g)), 0u);
      for (int j = 0; j < s.n; ++j) {
        if (j == i) continue;
        const long gj = static_cast<long>(r) * s.n + j;
        const double d2 = test_util::distance2(s, r, g, gj);
        const double rc2 = model.cutoff2(s.type[g], s.type[gj]);
        if (d2 < rc2 * (1 - 1e-5))
          EXPECT_EQ(listed.count(static_cast<int>(gj)), 1u) << i << " " << j;
        const double rl = std::sqrt(rc2) + skin;
        if (just_built && listed.count(static_cast<int>(gj))) EXPECT_LT(d2, rl * rl * (1 + 1e-4));
      }
    }
  }
}

}  // namespace

TEST(NeighborList, Binary3dRandomReplicasMatchBruteForce) {
  BatchState s;
  s.resize(3, 400, 3);
  const double lens[3] = {8.0, 8.6, 9.3};  // different boxes per replica
  for (int r = 0; r < 3; ++r) spread_replica(s, r, lens[r], 2, 0.85, 11 + r);
  EngineSettings es;
  es.skin = 0.3;
  auto e = make_engine("cpu", "binary3d", es);
  e->set_state(s);
  check_lists_and_forces(*e, s, Binary3d::make(), es.skin);
}

TEST(NeighborList, Hump2dRandomReplicasMatchBruteForce) {
  BatchState s;
  s.resize(2, 600, 2);
  const double lens[2] = {27.0, 30.0};
  for (int r = 0; r < 2; ++r) spread_replica(s, r, lens[r], 1, 0.9, 5 + r);
  EngineSettings es;
  es.skin = 0.4;
  auto e = make_engine("cpu", "hump2d", es);
  e->set_state(s);
  check_lists_and_forces(*e, s, Hump2d::make(), es.skin);
}

TEST(NeighborList, SmallBoxesWithFewerThanThreeCellsPerAxis) {
  // Box of 4.2 sigma: one cell per axis for binary3d (list radius 1.92), every pair scanned once.
  BatchState s;
  s.resize(1, 40, 3);
  spread_replica(s, 0, 4.2, 2, 0.85, 3);
  EngineSettings es;
  auto e = make_engine("cpu", "binary3d", es);
  e->set_state(s);
  check_lists_and_forces(*e, s, Binary3d::make(), es.skin);
}

TEST(NeighborList, StaysValidUnderNptBoxScaling) {
  // A strongly compressing barostat scales the box every step; after every block the forces
  // from the (possibly stale) lists must equal brute force on the current configuration.
  const ModelInfo& m = model_info("binary3d");
  BatchState s;
  s.resize(2, 500, 3);
  for (int r = 0; r < 2; ++r) make_lattice_replica(s, r, m, 0.5 + 0.1 * r, 1.0, 99 + r);
  EngineSettings es;
  es.ensemble = Ensemble::kNPT;
  es.barostat_tau = 0.5;  // fast, to move the box a lot
  es.bulk_modulus = 10.0;
  auto e = make_engine("cpu", "binary3d", es);
  e->set_targets({1.0, 1.0}, {1.0, 1.0}, {40.0, 40.0});
  e->set_state(s);
  std::vector<double> obs;
  e->observables(obs);
  const double v0 = obs[kObsVolume];
  const long builds0 = e->neighbor_stats().builds;
  for (int block = 0; block < 10; ++block) {
    e->run(20);
    e->get_state(s);
    check_lists_and_forces(*e, s, Binary3d::make(), es.skin, false);
  }
  e->observables(obs);
  EXPECT_LT(obs[kObsVolume], 0.9 * v0);  // the box really shrank
  EXPECT_GT(e->neighbor_stats().builds, builds0);
}

// The CPU backend's half lists (every pair once, per-range accumulation) against the full
// lists and per-particle kernel the GPU runs, on the same configurations: both list forms
// (cell-sorted stencil build and the small-box parity rule), both models, several replicas.
// Forces, energies and virials may differ by rounding only; species counts are integers
// and must be equal; each particle's neighbours are the same set.
using test_util::FullListCpuExec;

template <class Model>
void expect_half_equals_full(const BatchState& s, const char* name) {
  static_assert(CpuExec::half_lists);
  EngineSettings es;
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
    ASSERT_NEAR(hx[g], gx[g], 2e-5 * fmax) << name << " particle " << g;
    ASSERT_NEAR(hy[g], gy[g], 2e-5 * fmax) << name << " particle " << g;
    ASSERT_NEAR(hz[g], gz[g], 2e-5 * fmax) << name << " particle " << g;
    ASSERT_NEAR(hu[g], gu[g], 2e-5 * std::max(1.0, double(std::fabs(gu[g])))) << name << " " << g;
  }
  std::vector<double> ho, go;
  half.observables(ho);
  full.observables(go);
  for (int r = 0; r < s.n_replicas; ++r)
    for (int q : {kObsPotential, kObsVirial}) {
      const double v = go[r * kObsCount + q];
      EXPECT_NEAR(ho[r * kObsCount + q], v, 1e-5 * std::max(1.0, std::fabs(v)))
          << name << " replica " << r << " observable " << q;
    }
  std::vector<int> hn, gn;
  half.species_neighbor_counts(hn);
  full.species_neighbor_counts(gn);
  EXPECT_EQ(hn, gn) << name;
  for (long g = 0; g < static_cast<long>(hx.size()); g += 37) {
    std::vector<int> a = half.neighbors_of(g), b = full.neighbors_of(g);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b) << name << " particle " << g;
  }
}

TEST(NeighborList, HalfListsGiveTheFullListResults) {
  {
    BatchState s;
    s.resize(2, 400, 3);
    const double lens[2] = {8.0, 8.6};
    for (int r = 0; r < 2; ++r) spread_replica(s, r, lens[r], 2, 0.85, 41 + r);
    expect_half_equals_full<Binary3d>(s, "binary3d");
  }
  {
    BatchState s;  // 4.2 sigma: fewer than five cells per axis
    s.resize(2, 40, 3);
    for (int r = 0; r < 2; ++r) spread_replica(s, r, 4.2, 2, 0.85, 3 + r);
    expect_half_equals_full<Binary3d>(s, "binary3d small box");
  }
  {
    BatchState s;
    s.resize(2, 500, 2);
    const double lens[2] = {26.0, 29.0};
    for (int r = 0; r < 2; ++r) spread_replica(s, r, lens[r], 1, 0.9, 7 + r);
    expect_half_equals_full<Hump2d>(s, "hump2d");
  }
  {
    BatchState s;  // 4.6 sigma: four cells per axis for hump2d (list radius 1.95)
    s.resize(1, 16, 2);
    spread_replica(s, 0, 4.6, 1, 0.9, 3);
    expect_half_equals_full<Hump2d>(s, "hump2d small box");
  }
}

TEST(Forces, ThreeParticleAnalytic) {
  // Three particles on a line in a big box: energies and forces from the pair formulas.
  BatchState s;
  s.resize(1, 3, 3);
  for (int a = 0; a < 3; ++a) s.box[a] = 10;
  const double xs[3] = {2.0, 3.1, 4.3};
  const int types[3] = {0, 1, 1};
  for (int i = 0; i < 3; ++i) {
    s.x[i] = real(xs[i]);
    s.y[i] = s.z[i] = 5;
    s.type[i] = types[i];
  }
  auto e = make_engine("cpu", "binary3d", {});
  e->set_state(s);
  auto pair_u = [](double r, double sg) {
    return r > std::sqrt(8.0 / 6.0) * sg ? 0.0
                                         : std::pow(sg / r, 8) - std::pow(sg / r, 6) + 27.0 / 256.0;
  };
  auto pair_f = [](double r, double sg) {  // -dU/dr
    return r > std::sqrt(8.0 / 6.0) * sg
               ? 0.0
               : 8 * std::pow(sg, 8) / std::pow(r, 9) - 6 * std::pow(sg, 6) / std::pow(r, 7);
  };
  const double u01 = pair_u(1.1, 1.2), u12 = pair_u(1.2, 1.4), u02 = pair_u(2.3, 1.2);
  EXPECT_EQ(u02, 0.0);
  std::vector<double> obs;
  e->observables(obs);
  EXPECT_NEAR(obs[kObsPotential], u01 + u12, 1e-5);
  std::vector<real> fx, fy, fz;
  e->forces(fx, fy, fz);
  const double f01 = pair_f(1.1, 1.2), f12 = pair_f(1.2, 1.4);
  EXPECT_NEAR(fx[0], -f01, 1e-4);
  EXPECT_NEAR(fx[1], f01 - f12, 1e-4);
  EXPECT_NEAR(fx[2], f12, 1e-4);
  EXPECT_NEAR(fy[1], 0.0, 1e-6);
  // Virial sum of r.f over pairs.
  EXPECT_NEAR(obs[kObsVirial], 1.1 * f01 + 1.2 * f12, 1e-4);
}

TEST(Forces, TwoParticleHumpAcrossPeriodicBoundary) {
  BatchState s;
  s.resize(1, 2, 2);
  s.box[0] = s.box[1] = 8;
  s.x[0] = 0.2;
  s.x[1] = real(8 - 1.05);  // distance 1.25 through the boundary
  s.y[0] = s.y[1] = 4;
  auto e = make_engine("cpu", "hump2d", {});
  e->set_state(s);
  std::vector<double> obs;
  e->observables(obs);
  const auto m = Hump2d::make();
  real f, u;
  m.evaluate(real(1.25 * 1.25), 0, 0, f, u);
  EXPECT_NEAR(obs[kObsPotential], u, 1e-6);
  std::vector<real> fx, fy, fz;
  e->forces(fx, fy, fz);
  EXPECT_NEAR(fx[0], f * 1.25, 1e-4);  // i - j = +1.25 along x through the boundary
  EXPECT_NEAR(fx[1], -f * 1.25, 1e-4);
}

TEST(Species, CountsMatchBruteForceOnRandomConfigurations) {
  for_each_model([](auto model_tag) {
    using Model = decltype(model_tag);
    const ModelInfo m = Model::info();
    const Model model = Model::make();
    BatchState s;
    s.resize(2, 500, m.dimension);
    for (int r = 0; r < 2; ++r)
      spread_replica(s, r, m.dimension == 3 ? 8.5 + r : 25.0 + r, m.n_types, 0.85, 7 + r);
    auto e = make_engine("cpu", m.name, {});
    e->set_state(s);
    std::vector<int> nn;
    e->species_neighbor_counts(nn);
    for (int r = 0; r < 2; ++r)
      for (int i = 0; i < s.n; ++i) {
        const long g = static_cast<long>(r) * s.n + i;
        int count = 0, near_edge = 0;
        for (int j = 0; j < s.n; ++j) {
          if (j == i) continue;
          const long gj = static_cast<long>(r) * s.n + j;
          const double d2 = test_util::distance2(s, r, g, gj);
          const int ti = s.type[g], tj = s.type[gj];
          // Pairs within 1e-5 of the species radius may fall either way in float.
          if (model.is_species_neighbor(real(d2 * (1 - 1e-5)), ti, tj) !=
              model.is_species_neighbor(real(d2 * (1 + 1e-5)), ti, tj))
            ++near_edge;
          if (model.is_species_neighbor(real(d2), ti, tj)) ++count;
        }
        if (near_edge == 0) EXPECT_EQ(nn[g], count) << m.name << " particle " << i;
      }
  });
}

TEST(Species, LatticeNeighborNumbers) {
  // Square lattice, spacing 1.1: 4 neighbours inside r_hump = 1.32 (next shell at 1.556).
  // Triangular lattice, spacing 1.1: 6. fcc of small particles, nearest 1.05: 12 inside 1.1547.
  {
    BatchState s;
    const int side = 20;
    s.resize(1, side * side, 2);
    s.box[0] = s.box[1] = real(side * 1.1);
    for (int i = 0; i < side * side; ++i) {
      s.x[i] = real((i % side + 0.5) * 1.1);
      s.y[i] = real((i / side + 0.5) * 1.1);
    }
    auto e = make_engine("cpu", "hump2d", {});
    e->set_state(s);
    std::vector<int> nn;
    e->species_neighbor_counts(nn);
    for (int v : nn) EXPECT_EQ(v, 4);
  }
  {
    BatchState s;
    const int nx = 20, ny = 20;  // ny even for periodicity
    s.resize(1, nx * ny, 2);
    const double a = 1.1, h = a * std::sqrt(3.0) / 2;
    s.box[0] = real(nx * a);
    s.box[1] = real(ny * h);
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) {
        s.x[j * nx + i] = real((i + 0.5 * (j % 2) + 0.25) * a);
        s.y[j * nx + i] = real((j + 0.5) * h);
      }
    auto e = make_engine("cpu", "hump2d", {});
    e->set_state(s);
    std::vector<int> nn;
    e->species_neighbor_counts(nn);
    for (int v : nn) EXPECT_EQ(v, 6);
  }
  {
    BatchState s;
    const int cells = 5;
    s.resize(1, 4 * cells * cells * cells, 3);
    const double a = 1.05 * std::sqrt(2.0);
    for (int k = 0; k < 3; ++k) s.box[k] = real(cells * a);
    const double basis[4][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
    int p = 0;
    for (int i = 0; i < cells; ++i)
      for (int j = 0; j < cells; ++j)
        for (int k = 0; k < cells; ++k)
          for (const auto& bvec : basis) {
            s.x[p] = real((i + bvec[0] + 0.1) * a);
            s.y[p] = real((j + bvec[1] + 0.1) * a);
            s.z[p] = real((k + bvec[2] + 0.1) * a);
            s.type[p++] = 0;
          }
    auto e = make_engine("cpu", "binary3d", {});
    e->set_state(s);
    std::vector<int> nn;
    e->species_neighbor_counts(nn);
    for (int v : nn) EXPECT_EQ(v, 12);
  }
}
