// The error of tau_alpha: time windows of the self-ISF accumulator against accumulators fed the
// same frames (oracle), the spread estimator on exact numbers, and the coverage of the error
// bar on synthetic exponential decays with noise (known true tau).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "vitrify/analysis/measure_isf.hpp"

namespace va = vitrify::analysis;

namespace {

// Gaussian random walk of m particles in 3D: frames[f] = x (m), y (m), z (m).
std::vector<std::vector<double>> walk(int m, int n_frames, double step, unsigned long seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(0.0, 10.0);
  std::normal_distribution<double> normal(0.0, step);
  std::vector<std::vector<double>> frames;
  std::vector<double> pos(3 * static_cast<size_t>(m));
  for (double& p : pos) p = uni(rng);
  for (int f = 0; f < n_frames; ++f) {
    frames.push_back(pos);
    for (double& p : pos) p += normal(rng);
  }
  return frames;
}

void feed(va::SelfIsfAccumulator& acc, const std::vector<std::vector<double>>& frames, int m,
          int first, int last) {
  for (int f = first; f < last; ++f) {
    const double* x = frames[f].data();
    acc.add_frame(x, x + m, x + 2 * m);
  }
}

// Per-lag sums (value * count) keyed by lag time.
std::vector<std::pair<double, std::pair<double, long>>> sums_by_lag(
    const va::SelfIsfAccumulator& acc) {
  std::vector<std::pair<double, std::pair<double, long>>> out;
  const auto t = acc.lag_times();
  const auto v = acc.values();
  const auto c = acc.counts();
  for (size_t i = 0; i < t.size(); ++i) out.push_back({t[i], {v[i] * double(c[i]), c[i]}});
  return out;
}

}  // namespace

// Window w holds exactly the frame pairs whose later frame lies in [wW, (w+1)W): its curve is
// (sums of a run of (w+1)W frames - sums of a run of wW frames) / (the same for the counts).
TEST(TauAlphaError, WindowsHoldThePairsOfTheirFrames) {
  const int m = 20, W = 40, n_frames = 4 * W + 13;
  const auto frames = walk(m, n_frames, 0.15, 7);
  va::IsfOptions opt;
  opt.window_frames = W;
  va::SelfIsfAccumulator acc(3, 4.0, m, 0.1, opt);
  feed(acc, frames, m, 0, n_frames);
  EXPECT_EQ(acc.complete_windows(), 4);
  for (int w = 0; w < 4; ++w) {
    va::SelfIsfAccumulator upto(3, 4.0, m, 0.1), before(3, 4.0, m, 0.1);
    feed(upto, frames, m, 0, (w + 1) * W);
    feed(before, frames, m, 0, w * W);
    const auto a = sums_by_lag(upto), b = sums_by_lag(before);
    const va::IsfCurve curve = acc.window_curve(w);
    // Every lag of the longer run with new pairs appears in the window's curve.
    size_t k = 0;
    int compared = 0;
    for (const auto& [t, sc] : a) {
      double s = sc.first;
      long c = sc.second;
      for (const auto& [tb, scb] : b)
        if (tb == t) {
          s -= scb.first;
          c -= scb.second;
        }
      if (c == 0) continue;
      ASSERT_LT(k, curve.t.size());
      EXPECT_DOUBLE_EQ(curve.t[k], t);
      EXPECT_NEAR(curve.F[k], s / double(c), 1e-12) << "window " << w << " lag " << t;
      ++k;
      ++compared;
    }
    EXPECT_EQ(k, curve.t.size());
    EXPECT_GT(compared, 10);
  }
  // The partial fifth window exists but is not complete; no sixth.
  EXPECT_FALSE(acc.window_curve(4).t.empty());
  EXPECT_TRUE(acc.window_curve(5).t.empty());
}

// Consecutive windows taken together (windows_curve) are the window of twice the length.
TEST(TauAlphaError, JoinedWindowsAreOneLongerWindow) {
  const int m = 15, W = 30, n_frames = 6 * W + 5;
  const auto frames = walk(m, n_frames, 0.15, 9);
  va::IsfOptions opt, twice;
  opt.window_frames = W;
  twice.window_frames = 2 * W;
  va::SelfIsfAccumulator acc(3, 4.0, m, 0.1, opt), ref(3, 4.0, m, 0.1, twice);
  feed(acc, frames, m, 0, n_frames);
  feed(ref, frames, m, 0, n_frames);
  for (int w = 0; w < 3; ++w) {
    const va::IsfCurve joined = acc.windows_curve(2 * w, 2), one = ref.window_curve(w);
    ASSERT_EQ(joined.t, one.t) << "window " << w;
    for (size_t i = 0; i < one.F.size(); ++i) EXPECT_NEAR(joined.F[i], one.F[i], 1e-12);
  }
  EXPECT_EQ(acc.windows_curve(1, 1).F, acc.window_curve(1).F);
  EXPECT_TRUE(acc.windows_curve(6, 2).t.empty());  // beyond the windows there are
  EXPECT_TRUE(acc.windows_curve(0, 0).t.empty());
}

TEST(TauAlphaError, WindowsSurviveMergeAndJson) {
  const int m = 12, W = 25, n_frames = 3 * W;
  va::IsfOptions opt;
  opt.window_frames = W;
  const auto fa = walk(m, n_frames, 0.2, 11), fb = walk(m, n_frames, 0.2, 12);
  va::SelfIsfAccumulator a(3, 4.0, m, 0.1, opt), b(3, 4.0, m, 0.1, opt);
  feed(a, fa, m, 0, n_frames);
  feed(b, fb, m, 0, n_frames);
  // Merged window curve = pairs of both: the mean of the two (same counts per lag).
  va::SelfIsfAccumulator merged = a;
  merged.merge(b);
  for (int w = 0; w < 3; ++w) {
    const auto ca = a.window_curve(w), cb = b.window_curve(w), cm = merged.window_curve(w);
    ASSERT_EQ(cm.F.size(), ca.F.size());
    for (size_t i = 0; i < cm.F.size(); ++i) EXPECT_NEAR(cm.F[i], 0.5 * (ca.F[i] + cb.F[i]), 1e-12);
  }
  // JSON round trip mid-run, then continue: identical windows to an uninterrupted run.
  va::SelfIsfAccumulator half(3, 4.0, m, 0.1, opt);
  feed(half, fa, m, 0, W + 7);
  auto resumed = va::SelfIsfAccumulator::from_json(half.to_json());
  feed(resumed, fa, m, W + 7, n_frames);
  EXPECT_EQ(resumed.complete_windows(), a.complete_windows());
  for (int w = 0; w < 3; ++w) {
    EXPECT_EQ(resumed.window_curve(w).F, a.window_curve(w).F);
    EXPECT_EQ(resumed.window_curve(w).t, a.window_curve(w).t);
  }
  // Different windows cannot be pooled.
  va::SelfIsfAccumulator plain(3, 4.0, m, 0.1);
  EXPECT_THROW(plain.merge(a), std::invalid_argument);
  // A state without windows (older checkpoints) reads as one without windows.
  auto j = plain.to_json();
  j.erase("window_frames");
  j.erase("window_sums");
  j.erase("window_counts");
  EXPECT_EQ(va::SelfIsfAccumulator::from_json(j).complete_windows(), 0);
}

TEST(TauAlphaError, SpreadOfEstimates) {
  auto est = [](double v) {
    va::TauAlpha t;
    t.reached = true;
    t.value = v;
    return t;
  };
  const auto s = va::tau_alpha_spread({est(1.0), est(2.0), est(3.0)});
  EXPECT_DOUBLE_EQ(s.mean, 2.0);
  EXPECT_NEAR(s.error, 1.0 / std::sqrt(3.0), 1e-15);
  EXPECT_EQ(s.n_estimates, 3);
  EXPECT_TRUE(s.note.empty());
  EXPECT_TRUE(std::isnan(va::tau_alpha_spread({est(1.0)}).error));
  va::TauAlpha missed;
  const auto m = va::tau_alpha_spread({est(1.0), missed});
  EXPECT_TRUE(std::isnan(m.error));
  EXPECT_FALSE(m.note.empty());
}

// Coverage: K = 8 windows, each a stretched exponential exp(-(t/tau)^0.8) on the multiple-tau lag
// grid plus independent Gaussian noise; tau_alpha from the pooled (mean) curve, error from the
// windows' spread. The interval value +- error must contain the true tau with the probability of
// Student's t with K - 1 = 7 degrees of freedom: 0.649 at 1 error, 0.914 at 2 errors.
TEST(TauAlphaError, ErrorBarCoverageOnNoisyDecays) {
  const double tau = 1.7, beta = 0.8, noise = 0.02;
  const int K = 8, trials = 2000;
  std::vector<double> t;
  for (int l = 0; l < 14; ++l)
    for (int j = l == 0 ? 1 : 8; j < 16; ++j) t.push_back(0.01 * j * std::pow(2.0, l));
  std::mt19937_64 rng(2026);
  std::normal_distribution<double> normal(0.0, noise);
  int within1 = 0, within2 = 0;
  for (int trial = 0; trial < trials; ++trial) {
    std::vector<va::TauAlpha> windows;
    std::vector<double> pooled(t.size(), 0.0);
    for (int w = 0; w < K; ++w) {
      std::vector<double> F(t.size());
      for (size_t i = 0; i < t.size(); ++i) {
        F[i] = std::exp(-std::pow(t[i] / tau, beta)) + normal(rng);
        pooled[i] += F[i] / K;
      }
      windows.push_back(va::extract_tau_alpha(t, F));
    }
    const va::TauAlpha value = va::extract_tau_alpha(t, pooled);
    const va::TauAlphaSpread s = va::tau_alpha_spread(windows);
    ASSERT_TRUE(value.reached);
    ASSERT_TRUE(std::isfinite(s.error));
    const double miss = std::fabs(value.value - tau);
    within1 += miss <= s.error;
    within2 += miss <= 2.0 * s.error;
  }
  const double c1 = double(within1) / trials, c2 = double(within2) / trials;
  std::printf("coverage of the tau_alpha error bar: %.3f at 1 error, %.3f at 2 errors\n", c1, c2);
  // Binomial standard deviation of a coverage near 0.65 over 2000 trials: 0.011.
  EXPECT_NEAR(c1, 0.649, 0.045) << "coverage at 1 error";
  EXPECT_NEAR(c2, 0.914, 0.035) << "coverage at 2 errors";
}
