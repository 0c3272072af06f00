// Multiple-tau self-ISF accumulator against analytic results (static configuration, ideal gas)
// and brute-force oracles, and tau_alpha extraction on synthetic curves.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "vitrify/analysis/measure_isf.hpp"

namespace va = vitrify::analysis;

namespace {

// A trajectory of M particles: frames[f] holds x (M), y (M), z (M).
struct Trajectory {
  int m = 0;
  std::vector<std::vector<double>> frames;
  const double* x(size_t f) const { return frames[f].data(); }
  const double* y(size_t f) const { return frames[f].data() + m; }
  const double* z(size_t f) const { return frames[f].data() + 2 * m; }
};

void feed(va::SelfIsfAccumulator& acc, const Trajectory& tr) {
  for (size_t f = 0; f < tr.frames.size(); ++f) acc.add_frame(tr.x(f), tr.y(f), tr.z(f));
}

// Gaussian random walk (step std `step` per component per frame) from uniform random starts.
Trajectory random_walk(int m, int n_frames, double step, unsigned long seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(0.0, 10.0);
  std::normal_distribution<double> normal(0.0, step);
  Trajectory tr;
  tr.m = m;
  std::vector<double> pos(3 * static_cast<size_t>(m));
  for (double& p : pos) p = uni(rng);
  for (int f = 0; f < n_frames; ++f) {
    tr.frames.push_back(pos);
    for (double& p : pos) p += normal(rng);
  }
  return tr;
}

// Brute-force oracle, independent of the kernel header: the direction average through the
// standard library (std::cyl_bessel_j in 2D, std::sin in 3D), centre of mass removed per pair.
double frame_pair_isf(const Trajectory& tr, int dim, double k, size_t f0, size_t f1) {
  const int m = tr.m;
  double com[3] = {0, 0, 0};
  for (int d = 0; d < dim; ++d)
    for (int i = 0; i < m; ++i) com[d] += (tr.frames[f1][d * m + i] - tr.frames[f0][d * m + i]) / m;
  double sum = 0.0;
  for (int i = 0; i < m; ++i) {
    double r2 = 0.0;
    for (int d = 0; d < dim; ++d) {
      const double dd = tr.frames[f1][d * m + i] - tr.frames[f0][d * m + i] - com[d];
      r2 += dd * dd;
    }
    const double kd = k * std::sqrt(r2);
    sum += dim == 2 ? std::cyl_bessel_j(0.0, kd) : (kd == 0.0 ? 1.0 : std::sin(kd) / kd);
  }
  return sum / m;
}

// Origin stride of a lag on the documented grid: level 0 holds lags 1..p-1, level l >= 1
// holds j m^l for j = p/m..p-1; origins are the multiples of m^l.
long documented_stride(long lag, int p, int m) {
  long stride = 1;
  while (lag > long(p - 1) * stride) stride *= m;
  return stride;
}

// The documented lag grid for a run of n_frames frames (lags with at least one origin).
std::vector<long> documented_lags(long n_frames, int p, int m) {
  std::vector<long> lags;
  const long last = n_frames - 1;
  for (long stride = 1, level = 0; stride <= last; stride *= m, ++level) {
    const long j0 = level == 0 ? 1 : p / m;
    const long last_origin_end = (last / stride) * stride;  // last frame on this level
    for (long j = j0; j < p; ++j)
      if (j * stride <= last_origin_end) lags.push_back(j * stride);
  }
  return lags;
}

}  // namespace

TEST(SelfIsf, StaticConfigurationGivesOne) {
  for (int dim : {2, 3}) {
    Trajectory tr = random_walk(100, 1, 0.0, 5);
    const auto frame = tr.frames[0];
    tr.frames.assign(300, frame);
    va::SelfIsfAccumulator acc(dim, 5.1, 100, 0.01);
    feed(acc, tr);
    const auto v = acc.values();
    ASSERT_FALSE(v.empty());
    for (double f : v) EXPECT_NEAR(f, 1.0, 1e-15);
    // Level-0 lags use every origin: n_frames - lag of them.
    const auto lags = acc.lag_frames();
    const auto counts = acc.counts();
    for (size_t i = 0; i < lags.size() && lags[i] < 16; ++i) {
      EXPECT_EQ(counts[i], 300 - lags[i]);
    }
  }
}

TEST(SelfIsf, LagGridIsTheDocumentedOne) {
  for (int n_frames : {1, 2, 15, 16, 17, 100, 777}) {
    const Trajectory tr = random_walk(3, n_frames, 0.1, 9);
    va::IsfOptions opt;
    opt.points_per_level = 8;
    opt.decimation = 2;
    va::SelfIsfAccumulator acc(3, 2.0, 3, 0.25, opt);
    feed(acc, tr);
    const std::vector<long> expected = documented_lags(n_frames, 8, 2);
    EXPECT_EQ(acc.lag_frames(), expected) << n_frames << " frames";
    const auto t = acc.lag_times();
    ASSERT_EQ(t.size(), expected.size());
    for (size_t i = 0; i < t.size(); ++i) EXPECT_EQ(t[i], 0.25 * double(expected[i]));
    // The longest lag reaches at least half the run.
    if (n_frames > 1) {
      EXPECT_GE(2 * expected.back(), n_frames - 1);
    }
  }
  // decimation 4: lags 1..15, 16..60 step 4, 64..240 step 16, ...
  va::IsfOptions opt4;
  opt4.points_per_level = 16;
  opt4.decimation = 4;
  const Trajectory tr = random_walk(2, 1000, 0.1, 10);
  va::SelfIsfAccumulator acc(2, 2.0, 2, 1.0, opt4);
  feed(acc, tr);
  EXPECT_EQ(acc.lag_frames(), documented_lags(1000, 16, 4));
}

TEST(SelfIsf, MaxLevelsBoundsTheLongestLag) {
  va::IsfOptions opt;
  opt.points_per_level = 8;
  opt.max_levels = 3;
  const Trajectory tr = random_walk(4, 500, 0.1, 12);
  va::SelfIsfAccumulator acc(3, 2.0, 4, 1.0, opt);
  feed(acc, tr);
  EXPECT_EQ(acc.lag_frames().back(), 7 * 4);
}

TEST(SelfIsf, MultipleTauEqualsBruteForceOnItsOriginsAndApproximatesAllOrigins) {
  const int m = 50, n_frames = 700, p = 8, dec = 2;
  for (int dim : {2, 3}) {
    const double k = dim == 2 ? 6.16 : 5.1;
    Trajectory tr = random_walk(m, n_frames, 0.02, 100 + dim);
    // A common random drift on top (removed by both sides).
    std::mt19937_64 rng(99);
    std::normal_distribution<double> normal(0.0, 0.3);
    double drift[3] = {0, 0, 0};
    for (auto& fr : tr.frames) {
      for (int d = 0; d < 3; ++d) {
        drift[d] += normal(rng);
        for (int i = 0; i < m; ++i) fr[d * m + i] += drift[d];
      }
    }
    va::IsfOptions opt;
    opt.points_per_level = p;
    opt.decimation = dec;
    va::SelfIsfAccumulator acc(dim, k, m, 0.5, opt);
    feed(acc, tr);
    const auto lags = acc.lag_frames();
    const auto vals = acc.values();
    const auto counts = acc.counts();
    ASSERT_EQ(lags, documented_lags(n_frames, p, dec));
    double max_dev_all = 0.0;
    for (size_t i = 0; i < lags.size(); ++i) {
      const long lag = lags[i];
      const long stride = documented_stride(lag, p, dec);
      // (a) exact: brute force over the origins the scheme uses (multiples of the stride).
      double subset = 0.0;
      long n_subset = 0;
      std::vector<double> per_origin;
      for (long t0 = 0; t0 + lag < n_frames; t0 += stride) {
        subset += frame_pair_isf(tr, dim, k, size_t(t0), size_t(t0 + lag));
        ++n_subset;
      }
      subset /= double(n_subset);
      EXPECT_EQ(counts[i], n_subset) << "lag " << lag;
      EXPECT_NEAR(vals[i], subset, 1e-12) << "dim " << dim << " lag " << lag;
      // (b) statistical: brute force over all origins. The reduced origin set differs by at
      // most a few standard errors of a mean over n_subset origins.
      double all = 0.0, all2 = 0.0;
      const long n_all = n_frames - lag;
      for (long t0 = 0; t0 < n_all; ++t0) {
        const double v = frame_pair_isf(tr, dim, k, size_t(t0), size_t(t0 + lag));
        all += v;
        all2 += v * v;
      }
      all /= double(n_all);
      const double sd = std::sqrt(std::max(0.0, all2 / double(n_all) - all * all));
      EXPECT_NEAR(vals[i], all, 1e-12 + 5.0 * sd / std::sqrt(double(n_subset)))
          << "dim " << dim << " lag " << lag;
      max_dev_all = std::max(max_dev_all, std::fabs(vals[i] - all));
      if (stride == 1) {
        EXPECT_NEAR(vals[i], all, 1e-12);  // level 0: same origins
      }
    }
    // The curve spans the decay: from near 1 to well below 1/e.
    EXPECT_GT(vals.front(), 0.9);
    EXPECT_LT(*std::min_element(vals.begin(), vals.end()), 0.2);
    EXPECT_LT(max_dev_all, 0.05);
  }
}

TEST(SelfIsf, UniformDriftDoesNotChangeF) {
  for (int dim : {2, 3}) {
    const Trajectory base = random_walk(64, 400, 0.05, 7);
    Trajectory drifted = base;
    std::mt19937_64 rng(3);
    std::normal_distribution<double> normal(0.0, 1.0);
    double drift[3] = {0, 0, 0};
    for (size_t f = 0; f < drifted.frames.size(); ++f) {
      for (int d = 0; d < 3; ++d) {
        drift[d] += 0.2 * (d + 1) + normal(rng);  // constant velocity plus a random walk
        for (int i = 0; i < 64; ++i) drifted.frames[f][d * 64 + i] += drift[d];
      }
    }
    va::SelfIsfAccumulator a(dim, 6.0, 64, 0.1), b(dim, 6.0, 64, 0.1);
    feed(a, base);
    feed(b, drifted);
    const auto va_ = a.values(), vb = b.values();
    ASSERT_EQ(va_.size(), vb.size());
    double max_diff = 0.0;
    for (size_t i = 0; i < va_.size(); ++i)
      max_diff = std::max(max_diff, std::fabs(va_[i] - vb[i]));
    EXPECT_LT(max_diff, 1e-10) << "dim " << dim;
    // Without removal the drift (several sigma per lag) would have decorrelated F entirely.
    EXPECT_GT(*std::max_element(va_.begin(), va_.end()), 0.5);
  }
}

TEST(SelfIsf, IdealGasMatchesGaussianDecay) {
  // Non-interacting particles, m = 1, Maxwell velocities at temperature T, straight lines.
  // Exact: F_k(t) = exp(-k^2 T t^2 / 2) in 2D and 3D. After the centre-of-mass velocity V is
  // removed the velocities are v_i - V, with variance T (1 - 1/M) per component.
  const int m = 2048, n_frames = 400;
  const double temperature = 1.5, dt = 0.005;
  for (int dim : {2, 3}) {
    const double k = dim == 2 ? 6.16 : 5.1;
    std::mt19937_64 rng(2024 + dim);
    std::normal_distribution<double> maxwell(0.0, std::sqrt(temperature));
    std::uniform_real_distribution<double> uni(0.0, 30.0);
    std::vector<double> r0(3 * m), v(3 * m, 0.0);
    for (double& p : r0) p = uni(rng);
    for (int d = 0; d < dim; ++d)
      for (int i = 0; i < m; ++i) v[d * m + i] = maxwell(rng);
    double vcom[3] = {0, 0, 0};
    for (int d = 0; d < 3; ++d)
      for (int i = 0; i < m; ++i) vcom[d] += v[d * m + i] / m;
    va::SelfIsfAccumulator acc(dim, k, m, dt);
    std::vector<double> frame(3 * m);
    for (int f = 0; f < n_frames; ++f) {
      for (int j = 0; j < 3 * m; ++j) frame[j] = r0[j] + v[j] * (f * dt);
      acc.add_frame(frame.data(), frame.data() + m, frame.data() + 2 * m);
    }
    const auto t = acc.lag_times();
    const auto F = acc.values();
    const double t_eff = temperature * (1.0 - 1.0 / m);
    int checked = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      // Every origin sees the same displacements (v_i - V) t: the value is the particle
      // average of the direction-averaged term, whose spread gives the statistical error.
      double mean = 0.0, mean2 = 0.0;
      for (int p = 0; p < m; ++p) {
        double s2 = 0.0;
        for (int d = 0; d < dim; ++d) s2 += std::pow(v[d * m + p] - vcom[d], 2);
        const double kd = k * std::sqrt(s2) * t[i];
        const double term = dim == 2 ? std::cyl_bessel_j(0.0, kd) : std::sin(kd) / kd;
        mean += term / m;
        mean2 += term * term / m;
      }
      EXPECT_NEAR(F[i], mean, 1e-10) << "t = " << t[i];
      const double sem = std::sqrt((mean2 - mean * mean) / (m - 1));
      const double exact = std::exp(-k * k * t_eff * t[i] * t[i] / 2.0);
      EXPECT_NEAR(F[i], exact, 5.0 * sem + 1e-9) << "dim " << dim << " t = " << t[i];
      ++checked;
    }
    EXPECT_GT(checked, 40);
    EXPECT_GT(t.back(), 1.0);  // well into the decay: exp(-k^2 T / 2) < 1e-8
    // tau_alpha: exp(-k^2 T t^2/2) = 1/e at t = sqrt(2/(k^2 T)).
    const va::TauAlpha tau = va::extract_tau_alpha(t, F);
    ASSERT_TRUE(tau.reached);
    EXPECT_NEAR(tau.value, std::sqrt(2.0 / (k * k * t_eff)), 0.02 * tau.value);
  }
}

TEST(SelfIsf, MergeEqualsOneAccumulatorOverBothSets) {
  // Two sets of independent random walkers, each with its own centre of mass at rest (steps
  // with zero mean over the set), so the COM of each set and of the union stay put.
  const int m = 64, n_frames = 300;
  auto zero_com_walk = [&](unsigned long seed) {
    Trajectory tr = random_walk(m, 1, 0.0, seed);
    std::mt19937_64 rng(seed + 1);
    std::normal_distribution<double> normal(0.0, 0.05);
    std::vector<double> pos = tr.frames[0];
    for (int f = 1; f < n_frames; ++f) {
      for (int d = 0; d < 3; ++d) {
        std::vector<double> step(m);
        double mean = 0.0;
        for (double& s : step) mean += (s = normal(rng)) / m;
        for (int i = 0; i < m; ++i) pos[d * m + i] += step[i] - mean;
      }
      tr.frames.push_back(pos);
    }
    return tr;
  };
  for (int dim : {2, 3}) {
    const Trajectory a = zero_com_walk(31), b = zero_com_walk(57);
    Trajectory both;
    both.m = 2 * m;
    for (int f = 0; f < n_frames; ++f) {
      std::vector<double> fr(6 * m);
      for (int d = 0; d < 3; ++d)
        for (int i = 0; i < m; ++i) {
          fr[d * 2 * m + i] = a.frames[f][d * m + i];
          fr[d * 2 * m + m + i] = b.frames[f][d * m + i];
        }
      both.frames.push_back(fr);
    }
    va::SelfIsfAccumulator acc_a(dim, 5.0, m, 0.1), acc_b(dim, 5.0, m, 0.1);
    va::SelfIsfAccumulator acc_both(dim, 5.0, 2 * m, 0.1);
    feed(acc_a, a);
    feed(acc_b, b);
    feed(acc_both, both);
    const auto single_counts = acc_a.counts();
    const auto a_values = acc_a.values();
    acc_a.merge(acc_b);
    const auto merged = acc_a.values(), expected = acc_both.values();
    ASSERT_EQ(acc_a.lag_times(), acc_both.lag_times());
    ASSERT_EQ(merged.size(), expected.size());
    double max_diff = 0.0, max_change = 0.0;
    for (size_t i = 0; i < merged.size(); ++i) {
      EXPECT_NEAR(merged[i], expected[i], 1e-12);
      EXPECT_EQ(acc_a.counts()[i], 2 * single_counts[i]);
      max_diff = std::max(max_diff, std::fabs(merged[i] - expected[i]));
      max_change = std::max(max_change, std::fabs(merged[i] - a_values[i]));
    }
    EXPECT_GT(max_change, 1e-3);  // merging really changed the estimate
  }
  va::SelfIsfAccumulator x(3, 5.0, 4, 0.1), y(3, 5.1, 4, 0.1), z(2, 5.0, 4, 0.1);
  EXPECT_THROW(x.merge(y), std::invalid_argument);
  EXPECT_THROW(x.merge(z), std::invalid_argument);
}

TEST(SelfIsf, JsonRoundTripIsExactAndContinues) {
  for (int dim : {2, 3}) {
    const Trajectory tr = random_walk(20, 400, 0.07, 21);
    va::IsfOptions opt;
    opt.points_per_level = 8;
    va::SelfIsfAccumulator acc(dim, 6.16, 20, 0.05, opt);
    for (size_t f = 0; f < 137; ++f) acc.add_frame(tr.x(f), tr.y(f), tr.z(f));
    const std::string text = acc.to_json().dump();
    va::SelfIsfAccumulator restored =
        va::SelfIsfAccumulator::from_json(nlohmann::json::parse(text));
    va::SelfIsfAccumulator from_cbor = va::SelfIsfAccumulator::from_json(
        nlohmann::json::from_cbor(nlohmann::json::to_cbor(acc.to_json())));
    EXPECT_EQ(restored.to_json(), acc.to_json());
    for (size_t f = 137; f < tr.frames.size(); ++f) {
      acc.add_frame(tr.x(f), tr.y(f), tr.z(f));
      restored.add_frame(tr.x(f), tr.y(f), tr.z(f));
      from_cbor.add_frame(tr.x(f), tr.y(f), tr.z(f));
    }
    EXPECT_EQ(restored.values(), acc.values());  // bitwise
    EXPECT_EQ(from_cbor.values(), acc.values());
    EXPECT_EQ(restored.counts(), acc.counts());
    EXPECT_EQ(restored.lag_times(), acc.lag_times());
    EXPECT_EQ(restored.frames_added(), 400);
  }
  nlohmann::json bad = va::SelfIsfAccumulator(3, 1.0, 2, 1.0).to_json();
  bad["version"] = 7;
  EXPECT_THROW(va::SelfIsfAccumulator::from_json(bad), std::invalid_argument);
}

// Frames kept elsewhere (the device path): a store that only follows plan_frame's slots, with
// sums from the standard library, gives add_frame's curve (to rounding: the per-particle terms
// are summed by other code), windows included; the frames move out and back for a checkpoint
// and the run continues exactly.
TEST(SelfIsf, FramesKeptElsewhereFollowThePlan) {
  for (int dim : {2, 3}) {
    const int m = 12, p = 8;
    const Trajectory tr = random_walk(m, 300, 0.07, 33);
    va::IsfOptions opt;
    opt.points_per_level = p;
    opt.window_frames = 40;
    va::SelfIsfAccumulator held(dim, 6.16, m, 0.05, opt), elsewhere(dim, 6.16, m, 0.05, opt);
    elsewhere.release_frames();
    const size_t fs = static_cast<size_t>(dim) * m;
    std::vector<double> store;  // slot after slot, as Engine::isf_frame keeps them
    for (size_t f = 0; f < tr.frames.size(); ++f) {
      held.add_frame(tr.x(f), tr.y(f), tr.z(f));
      std::vector<double> cur(fs);
      for (int d = 0; d < dim; ++d) {
        double com = 0.0;
        for (int i = 0; i < m; ++i) com += tr.frames[f][d * m + i];
        com /= m;  // as add_frame: the same frames, bitwise
        for (int i = 0; i < m; ++i) cur[d * m + i] = tr.frames[f][d * m + i] - com;
      }
      const va::IsfFramePlan plan = elsewhere.plan_frame();
      store.resize(static_cast<size_t>(plan.slots) * fs, 0.0);
      if (plan.copy_from >= 0)
        std::copy_n(store.begin() + plan.copy_from * fs, fs,
                    store.begin() + plan.new_level * p * fs);
      std::vector<double> sums;
      for (int slot : plan.origin_slots) {
        double sum = 0.0;
        for (int i = 0; i < m; ++i) {
          double r2 = 0.0;
          for (int d = 0; d < dim; ++d) {
            const double dd = cur[d * m + i] - store[slot * fs + d * m + i];
            r2 += dd * dd;
          }
          const double kd = 6.16 * std::sqrt(r2);
          sum += dim == 2 ? std::cyl_bessel_j(0.0, kd) : (kd == 0.0 ? 1.0 : std::sin(kd) / kd);
        }
        sums.push_back(sum);
      }
      for (int slot : plan.store_slots)
        std::copy(cur.begin(), cur.end(), store.begin() + slot * fs);
      elsewhere.apply_frame(plan, sums.data());
      if (f == 150) {  // a checkpoint: the frames come back, round-trip, and leave again
        ASSERT_EQ(static_cast<size_t>(elsewhere.slots_in_use()) * fs, store.size());
        elsewhere.set_frame_slots(store);
        EXPECT_EQ(elsewhere.frame_slots(), held.frame_slots());  // the same frames, bitwise
        va::SelfIsfAccumulator back = va::SelfIsfAccumulator::from_json(elsewhere.to_json());
        store = back.frame_slots();
        back.release_frames();
        elsewhere = back;
      }
    }
    EXPECT_EQ(elsewhere.counts(), held.counts());
    EXPECT_EQ(elsewhere.lag_times(), held.lag_times());
    const std::vector<double> a = elsewhere.values(), b = held.values();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-13) << i;
    ASSERT_EQ(elsewhere.complete_windows(), held.complete_windows());
    for (int w = 0; w < held.complete_windows(); ++w) {
      const va::IsfCurve cw = elsewhere.window_curve(w), hw = held.window_curve(w);
      ASSERT_EQ(cw.t, hw.t);
      for (size_t i = 0; i < cw.F.size(); ++i) EXPECT_NEAR(cw.F[i], hw.F[i], 1e-13);
    }
    EXPECT_THROW(elsewhere.to_json(), std::logic_error);
    EXPECT_THROW(elsewhere.add_frame(tr.x(0), tr.y(0), tr.z(0)), std::logic_error);
    EXPECT_THROW(held.apply_frame(held.plan_frame(), nullptr), std::invalid_argument);
  }
}

// The state writes a frame that a level shares with the level below once: after 1000 frames
// (p = 8, m = 2: 8 levels) it holds little more than half of the level frames; a state written
// without the references (every frame in full) still restores the same accumulator.
TEST(SelfIsf, CompactStateWritesSharedFramesOnce) {
  const Trajectory tr = random_walk(20, 1000, 0.07, 22);
  va::IsfOptions opt;
  opt.points_per_level = 8;
  va::SelfIsfAccumulator acc(3, 6.16, 20, 0.05, opt);
  for (size_t f = 0; f < tr.frames.size(); ++f) acc.add_frame(tr.x(f), tr.y(f), tr.z(f));
  const nlohmann::json state = acc.to_json();
  const size_t frame = 3 * 20;
  size_t stored = 0, full = 0;
  const va::SelfIsfAccumulator restored = va::SelfIsfAccumulator::from_json(state);
  const nlohmann::json again = restored.to_json();
  EXPECT_EQ(again, state);
  for (size_t l = 0; l < state["levels"].size(); ++l) {
    stored += state["levels"][l]["frames"].size();
    full += 8 * frame;
  }
  ASSERT_GE(state["levels"].size(), 7u);
  EXPECT_LT(double(stored) / double(full), 0.6) << stored << " of " << full;
  // The same state in the older, expanded form: every level's frames in full.
  nlohmann::json old = state;
  {
    // Rebuild each level's full buffer from the compact form.
    std::vector<std::vector<double>> levels;
    for (size_t l = 0; l < state["levels"].size(); ++l) {
      const auto same = state["levels"][l]["same_as"].get<std::vector<int>>();
      const auto own = state["levels"][l]["frames"].get<std::vector<double>>();
      std::vector<double> buf(8 * frame);
      size_t next = 0;
      for (int slot = 0; slot < 8; ++slot) {
        const double* src = same[slot] >= 0 ? levels[l - 1].data() + same[slot] * frame
                                            : own.data() + (next++) * frame;
        std::copy(src, src + frame, buf.begin() + slot * frame);
      }
      levels.push_back(buf);
      old["levels"][l].erase("same_as");
      old["levels"][l]["frames"] = buf;
    }
  }
  va::SelfIsfAccumulator from_old = va::SelfIsfAccumulator::from_json(old);
  va::SelfIsfAccumulator from_new = va::SelfIsfAccumulator::from_json(state);
  EXPECT_EQ(from_old.to_json(), state);
  const Trajectory more = random_walk(20, 300, 0.07, 23);
  for (size_t f = 0; f < more.frames.size(); ++f) {
    acc.add_frame(more.x(f), more.y(f), more.z(f));
    from_old.add_frame(more.x(f), more.y(f), more.z(f));
    from_new.add_frame(more.x(f), more.y(f), more.z(f));
  }
  EXPECT_EQ(from_old.values(), acc.values());  // bitwise
  EXPECT_EQ(from_new.values(), acc.values());
  // A reference to a slot that does not exist is refused.
  nlohmann::json bad = state;
  bad["levels"][1]["same_as"][0] = 99;
  EXPECT_THROW(va::SelfIsfAccumulator::from_json(bad), std::invalid_argument);
}

TEST(SelfIsf, RejectsBadSettings) {
  EXPECT_THROW(va::SelfIsfAccumulator(1, 1.0, 2, 1.0), std::invalid_argument);
  EXPECT_THROW(va::SelfIsfAccumulator(3, 0.0, 2, 1.0), std::invalid_argument);
  EXPECT_THROW(va::SelfIsfAccumulator(3, 1.0, 0, 1.0), std::invalid_argument);
  EXPECT_THROW(va::SelfIsfAccumulator(3, 1.0, 2, -1.0), std::invalid_argument);
  va::IsfOptions odd;
  odd.points_per_level = 15;
  EXPECT_THROW(va::SelfIsfAccumulator(3, 1.0, 2, 1.0, odd), std::invalid_argument);
}

// ---- tau_alpha ----------------------------------------------------------------------------

namespace {

// Stretched exponential f(s) = exp(-exp(beta (s - ln tau))) in s = ln t, and derivatives.
struct Stretched {
  double tau, beta;
  double f(double s) const { return std::exp(-std::exp(beta * (s - std::log(tau)))); }
  double df(double s) const {
    const double u = std::exp(beta * (s - std::log(tau)));
    return -beta * u * f(s);
  }
  double d2f(double s) const {
    const double u = std::exp(beta * (s - std::log(tau)));
    return beta * beta * u * f(s) * (u - 1.0);
  }
};

}  // namespace

TEST(TauAlpha, StretchedExponentialsOnTheLagGrid) {
  const double dt = 0.1;
  const std::vector<long> lags = documented_lags(1L << 15, 16, 2);
  std::vector<double> t;
  for (long l : lags) t.push_back(dt * double(l));
  int tested = 0;
  for (double tau : {0.37, 3.7, 50.0, 420.0, 1234.5}) {
    for (double beta : {0.4, 0.6, 0.8, 1.0}) {
      const Stretched g{tau, beta};
      std::vector<double> F;
      for (double ti : t) F.push_back(g.f(std::log(ti)));
      const va::TauAlpha r = va::extract_tau_alpha(t, F);
      ASSERT_TRUE(r.reached);
      ASSERT_FALSE(r.below_first_lag);
      // Bracket and the interpolation bound: linear interpolation of f in s = ln t over
      // [s_a, s_b] errs by <= h^2/8 max|f''|; the root moves by that over min|f'|.
      size_t i = 0;
      while (F[i] > std::exp(-1.0)) ++i;
      const double sa = std::log(t[i - 1]), sb = std::log(t[i]), h = sb - sa;
      double max_d2 = 0.0, min_d1 = 1e300;
      for (int q = 0; q <= 200; ++q) {
        const double s = sa + h * q / 200.0;
        max_d2 = std::max(max_d2, std::fabs(g.d2f(s)));
        min_d1 = std::min(min_d1, std::fabs(g.df(s)));
      }
      const double bound = h * h / 8.0 * max_d2 / min_d1 + 1e-12;
      EXPECT_GE(r.value, t[i - 1]);
      EXPECT_LE(r.value, t[i]);
      EXPECT_NEAR(std::log(r.value), std::log(tau), bound) << "tau " << tau << " beta " << beta;
      ++tested;
    }
  }
  EXPECT_EQ(tested, 20);
}

TEST(TauAlpha, CoarseGridStaysWithinInterpolationBound) {
  // Lags a factor 4 apart: the interpolation error is visible but bounded.
  std::vector<double> t;
  for (double x = 0.01; x < 1e5; x *= 4.0) t.push_back(x);
  const Stretched g{7.3, 0.5};
  std::vector<double> F;
  for (double ti : t) F.push_back(g.f(std::log(ti)));
  const va::TauAlpha r = va::extract_tau_alpha(t, F);
  ASSERT_TRUE(r.reached);
  EXPECT_NEAR(std::log(r.value), std::log(7.3), 0.05);
  // A curve that is exactly linear in ln t is recovered exactly (interpolation in ln t, not t).
  std::vector<double> lin;
  for (double ti : t) lin.push_back(0.6 - 0.05 * std::log(ti));
  const va::TauAlpha rl = va::extract_tau_alpha(t, lin);
  ASSERT_TRUE(rl.reached);
  EXPECT_NEAR(std::log(rl.value), (0.6 - std::exp(-1.0)) / 0.05, 1e-12);
}

TEST(TauAlpha, NotReachedGivesLongestLagAsLowerBound) {
  const std::vector<long> lags = documented_lags(5000, 16, 2);
  std::vector<double> t, F;
  const Stretched g{1e6, 0.7};
  for (long l : lags) {
    t.push_back(0.01 * double(l));
    F.push_back(g.f(std::log(t.back())));
  }
  const va::TauAlpha r = va::extract_tau_alpha(t, F);
  EXPECT_FALSE(r.reached);
  EXPECT_TRUE(std::isnan(r.value));
  EXPECT_EQ(r.lower_bound, t.back());
}

TEST(TauAlpha, FirstCrossingAndEdgeCases) {
  // Noisy, non-monotonic: the first crossing counts.
  const std::vector<double> t = {1.0, 2.0, 4.0, 8.0};
  const va::TauAlpha r = va::extract_tau_alpha(t, {0.9, 0.3, 0.5, 0.2});
  ASSERT_TRUE(r.reached);
  const double frac = (0.9 - std::exp(-1.0)) / (0.9 - 0.3);
  EXPECT_NEAR(r.value, std::exp(frac * std::log(2.0)), 1e-14);
  // Already below at the first lag: that lag, flagged as an upper bound.
  const va::TauAlpha early = va::extract_tau_alpha(t, {0.2, 0.1, 0.05, 0.0});
  EXPECT_TRUE(early.reached);
  EXPECT_TRUE(early.below_first_lag);
  EXPECT_EQ(early.value, 1.0);
  // Exactly at the threshold counts as reached, at that lag.
  const va::TauAlpha exact = va::extract_tau_alpha(t, {0.9, 0.7, std::exp(-1.0), 0.1});
  EXPECT_NEAR(exact.value, 4.0, 1e-12);
  EXPECT_THROW(va::extract_tau_alpha({1.0, 1.0}, {0.5, 0.2}), std::invalid_argument);
  EXPECT_THROW(va::extract_tau_alpha({1.0, 2.0}, {0.5}), std::invalid_argument);
  const va::TauAlpha empty = va::extract_tau_alpha({}, {});
  EXPECT_FALSE(empty.reached);
}
