// Block averaging, blocking analysis, replica pooling and halves check against the exact
// statistics of a stationary AR(1) process x_{t+1} = phi x_t + eps, eps ~ N(0, 1).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "vitrify/analysis/measure_blocking.hpp"

namespace va = vitrify::analysis;

namespace {

// Stationary AR(1) series of n samples (x_0 drawn from the stationary law N(0, 1/(1-phi^2))).
std::vector<double> ar1_series(long n, double phi, unsigned long seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> x(static_cast<size_t>(n));
  x[0] = normal(rng) / std::sqrt(1.0 - phi * phi);
  for (long t = 1; t < n; ++t) x[t] = phi * x[t - 1] + normal(rng);
  return x;
}

// Exact variance of the mean of n consecutive samples of the stationary AR(1) process:
// V(n) = (s2/n) [1 + 2 sum_{k=1}^{n-1} (1 - k/n) phi^k],  s2 = 1/(1 - phi^2).
double ar1_variance_of_mean(long n, double phi) {
  const double s2 = 1.0 / (1.0 - phi * phi);
  double sum = 1.0;
  double phik = 1.0;
  for (long k = 1; k < n; ++k) {
    phik *= phi;
    if (phik < 1e-300) break;
    sum += 2.0 * (1.0 - double(k) / double(n)) * phik;
  }
  return s2 * sum / double(n);
}

// Exact expectation of the block estimator error^2 = sum_i (b_i - b)^2 / (nb (nb - 1)) for nb
// blocks of L samples: E = (V(L) - V(nb L)) / (nb - 1).
double ar1_expected_block_error2(long block_length, long n_blocks, double phi) {
  return (ar1_variance_of_mean(block_length, phi) -
          ar1_variance_of_mean(block_length * n_blocks, phi)) /
         double(n_blocks - 1);
}

struct SampleStats {
  double mean = 0.0;
  double sem = 0.0;  // standard error of that mean over the sample
};
SampleStats stats_of(const std::vector<double>& v) {
  SampleStats s;
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  double ss = 0.0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.sem = std::sqrt(ss / double(v.size() - 1) / double(v.size()));
  return s;
}

constexpr double kPhi = 0.9;  // integrated correlation time (1+phi)/(1-phi) = 19 samples
constexpr long kN = 1L << 16;
constexpr int kSeeds = 200;

}  // namespace

TEST(BlockAverage, Ar1ErrorMatchesExactVarianceOfMeanOverSeeds) {
  const long block = 200;  // ~10 integrated correlation times
  const double v_true = ar1_variance_of_mean(kN, kPhi);
  // Asymptotic formula of the brief: sigma_eps^2 / (1 - phi)^2 / n.
  EXPECT_NEAR(v_true, 100.0 / double(kN), 0.01 * v_true);
  const long nb = kN / block;
  const double e_expected = ar1_expected_block_error2(block, nb, kPhi);
  // The block estimator is close to, not exactly, unbiased at this block length.
  EXPECT_NEAR(e_expected / v_true, 1.0, 0.06);

  std::vector<double> err2, naive2, means;
  int covered = 0;
  for (int s = 0; s < kSeeds; ++s) {
    const std::vector<double> x = ar1_series(kN, kPhi, 1000 + s);
    const va::BlockEstimate est = va::block_average(x, block);
    ASSERT_EQ(est.block_length, block);
    ASSERT_EQ(est.n_blocks, nb);
    ASSERT_EQ(est.n_samples, kN);
    ASSERT_FALSE(est.too_few_blocks);
    err2.push_back(est.error * est.error);
    means.push_back(est.mean);
    const va::BlockEstimate naive = va::block_average(x, 1);
    naive2.push_back(naive.error * naive.error);
    if (std::fabs(est.mean) < 2.0 * est.error) ++covered;
  }
  const SampleStats e = stats_of(err2);
  // The average estimated variance equals its exact expectation within 4 standard errors.
  EXPECT_NEAR(e.mean, e_expected, 4.0 * e.sem);
  // The scatter of the means over seeds is the true variance of the mean (chi^2 with 199 dof:
  // relative standard deviation 10 %).
  double var_means = 0.0;
  for (double m : means) var_means += m * m;  // true mean is 0
  var_means /= double(kSeeds);
  EXPECT_NEAR(var_means / v_true, 1.0, 0.4);
  // Mean +- 2 errors covers the true mean 0 about 95 % of the time.
  EXPECT_GE(covered, int(0.88 * kSeeds));
  // The naive error underestimates by about the correlation time (factor ~19 in variance).
  const SampleStats nv = stats_of(naive2);
  EXPECT_LT(nv.mean, v_true / 10.0);
  EXPECT_GT(nv.mean, v_true / 30.0);
}

TEST(BlockAverage, FlagsTooFewBlocks) {
  std::vector<double> x(100);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37 * double(i));
  const va::BlockEstimate five = va::block_average(x, 20);
  EXPECT_EQ(five.n_blocks, 5);
  EXPECT_TRUE(five.too_few_blocks);
  EXPECT_TRUE(std::isfinite(five.error));
  const va::BlockEstimate eight = va::block_average(x, 12);
  EXPECT_EQ(eight.n_blocks, 8);
  EXPECT_FALSE(eight.too_few_blocks);
  const va::BlockEstimate one = va::block_average(x, 60);
  EXPECT_EQ(one.n_blocks, 1);
  EXPECT_TRUE(one.too_few_blocks);
  EXPECT_TRUE(std::isnan(one.error));
  // The mean always uses every sample.
  double m = 0.0;
  for (double v : x) m += v;
  EXPECT_NEAR(one.mean, m / 100.0, 1e-15);
}

TEST(BlockingAnalysis, Ar1PlateauMatchesTrueError) {
  const double v_true = ar1_variance_of_mean(kN, kPhi);
  std::vector<double> ratio_to_expected, ratio_to_true;
  int found = 0;
  for (int s = 0; s < kSeeds; ++s) {
    const std::vector<double> x = ar1_series(kN, kPhi, 5000 + s);
    const va::BlockingAnalysis a = va::blocking_analysis(x);
    ASSERT_FALSE(a.levels.empty());
    EXPECT_EQ(a.levels[0].block_length, 1);
    EXPECT_EQ(a.levels[0].n_blocks, kN);
    if (!a.plateau_found) continue;
    ++found;
    // The plateau lies well beyond the correlation time and keeps enough blocks.
    EXPECT_GE(a.block_length, 64);
    EXPECT_GE(a.n_blocks, va::kMinBlocksForError);
    ratio_to_expected.push_back(a.error * a.error /
                                ar1_expected_block_error2(a.block_length, a.n_blocks, kPhi));
    ratio_to_true.push_back(a.error * a.error / v_true);
  }
  EXPECT_GE(found, int(0.95 * kSeeds));
  const SampleStats r = stats_of(ratio_to_expected);
  EXPECT_NEAR(r.mean, 1.0, 4.0 * r.sem);
  const SampleStats t = stats_of(ratio_to_true);
  EXPECT_NEAR(t.mean, 1.0, 0.08);  // plateau bias below a few per cent
}

TEST(BlockingAnalysis, UncorrelatedDataPlateauAtShortBlocks) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 2.0);
  std::vector<double> x(1 << 14);
  for (double& v : x) v = normal(rng);
  const va::BlockingAnalysis a = va::blocking_analysis(x);
  ASSERT_TRUE(a.plateau_found);
  // B^3 > 2n (~1) gives B = 32 for n = 2^14: still thousands of blocks.
  EXPECT_LE(a.block_length, 64);
  const va::BlockingLevel& plateau = a.levels[size_t(a.optimal_level)];
  EXPECT_NEAR(a.error, 2.0 / std::sqrt(double(x.size())), 4.0 * plateau.error_uncertainty);
  EXPECT_NEAR(a.naive_error, 2.0 / std::sqrt(double(x.size())), 0.03 * a.naive_error);
}

TEST(PoolReplicas, Ar1ReplicasOfUnequalLengths) {
  // Replica A: 2^14 samples, B: 2^15; weights 1/3 and 2/3.
  const long na = 1L << 14, nb_len = 1L << 15, block = 256;
  const double v_true =
      ar1_variance_of_mean(na, kPhi) / 9.0 + 4.0 * ar1_variance_of_mean(nb_len, kPhi) / 9.0;
  const double e_expected = ar1_expected_block_error2(block, na / block, kPhi) / 9.0 +
                            4.0 * ar1_expected_block_error2(block, nb_len / block, kPhi) / 9.0;
  std::vector<double> err2, means;
  for (int s = 0; s < kSeeds; ++s) {
    const auto xa = ar1_series(na, kPhi, 20000 + 2 * s);
    const auto xb = ar1_series(nb_len, kPhi, 20001 + 2 * s);
    const va::BlockEstimate ea = va::block_average(xa, block);
    const va::BlockEstimate eb = va::block_average(xb, block);
    const va::BlockEstimate pooled = va::pool_replicas({ea, eb});
    ASSERT_EQ(pooled.n_samples, na + nb_len);
    ASSERT_EQ(pooled.n_blocks, ea.n_blocks + eb.n_blocks);
    ASSERT_FALSE(pooled.too_few_blocks);
    // The count-weighted mean is the mean of the concatenated samples.
    double total = 0.0;
    for (double v : xa) total += v;
    for (double v : xb) total += v;
    ASSERT_NEAR(pooled.mean, total / double(na + nb_len), 1e-12);
    err2.push_back(pooled.error * pooled.error);
    means.push_back(pooled.mean);
  }
  const SampleStats e = stats_of(err2);
  EXPECT_NEAR(e.mean, e_expected, 4.0 * e.sem);
  double var_means = 0.0;
  for (double m : means) var_means += m * m;
  var_means /= double(kSeeds);
  EXPECT_NEAR(var_means / v_true, 1.0, 0.4);
}

TEST(PoolReplicas, TooFewBlocksAndMissingErrors) {
  va::BlockEstimate a;
  a.mean = 1.0;
  a.error = 0.1;
  a.n_samples = 100;
  a.n_blocks = 3;
  va::BlockEstimate b = a;
  b.mean = 2.0;
  b.n_samples = 300;
  const va::BlockEstimate p = va::pool_replicas({a, b});
  EXPECT_DOUBLE_EQ(p.mean, 0.25 * 1.0 + 0.75 * 2.0);
  EXPECT_DOUBLE_EQ(p.error, std::sqrt(0.0625 * 0.01 + 0.5625 * 0.01));
  EXPECT_EQ(p.n_blocks, 6);
  EXPECT_TRUE(p.too_few_blocks);
  b.n_blocks = 5;
  EXPECT_FALSE(va::pool_replicas({a, b}).too_few_blocks);
  b.error = std::nan("");
  EXPECT_TRUE(std::isnan(va::pool_replicas({a, b}).error));
  EXPECT_TRUE(va::pool_replicas({a, b}).too_few_blocks);
  EXPECT_THROW(va::pool_replicas({}), std::invalid_argument);
}

TEST(Halves, StationaryAgreesAndDriftDisagrees) {
  const long block = 200;
  int false_alarms = 0, detected = 0;
  for (int s = 0; s < kSeeds; ++s) {
    std::vector<double> x = ar1_series(kN, kPhi, 40000 + s);
    const va::HalvesComparison c = va::compare_halves(x, block);
    ASSERT_FALSE(c.too_few_blocks);
    ASSERT_EQ(c.first.n_samples, kN / 2);
    ASSERT_EQ(c.second.n_samples, kN / 2);
    ASSERT_NEAR(c.difference, c.second.mean - c.first.mean, 0.0);
    ASSERT_NEAR(c.z, std::fabs(c.difference) / std::hypot(c.first.error, c.second.error), 1e-12);
    if (!c.agree) ++false_alarms;
    // A slow drift of the observable by 1.0 over the run (mean shift 0.5 between halves,
    // about 6 combined errors): not in equilibrium.
    for (long t = 0; t < kN; ++t) x[t] += double(t) / double(kN);
    if (!va::compare_halves(x, block).agree) ++detected;
  }
  // Expected false-alarm rate for |z| >= 3: about 0.3 %, i.e. ~0.6 of 200.
  EXPECT_LE(false_alarms, 4);
  EXPECT_GE(detected, int(0.95 * kSeeds));
}

TEST(Halves, ConstantSeriesAndZeroSigma) {
  const std::vector<double> x(64, 3.5);
  const va::HalvesComparison c = va::compare_halves(x, 2);
  EXPECT_EQ(c.sigma, 0.0);
  EXPECT_EQ(c.z, 0.0);
  EXPECT_TRUE(c.agree);
  va::BlockEstimate a, b;
  a.mean = 1.0;
  a.error = 0.0;
  b.mean = 1.5;
  b.error = 0.0;
  a.too_few_blocks = b.too_few_blocks = false;
  const va::HalvesComparison d = va::compare_halves(a, b);
  EXPECT_TRUE(std::isinf(d.z));
  EXPECT_FALSE(d.agree);
}

TEST(BlockAccumulator, MatchesBatchFunctionsAfterCoarsening) {
  const std::vector<double> x = ar1_series(kN + 37, kPhi, 77);  // + an incomplete block
  va::BlockAccumulator acc(1, 1024);
  for (double v : x) acc.add(v);
  EXPECT_EQ(acc.n_samples(), kN + 37);
  // Stored blocks stay below the cap: 2^16 samples -> 512 blocks of 128.
  EXPECT_EQ(acc.block_length(), 128);
  EXPECT_EQ(acc.n_stored_blocks(), 512);
  const va::BlockEstimate online = acc.estimate(200);
  EXPECT_EQ(online.block_length, 256);
  const va::BlockEstimate batch = va::block_average(x, 256);
  EXPECT_EQ(online.n_blocks, batch.n_blocks);
  EXPECT_EQ(online.n_samples, batch.n_samples);
  EXPECT_NEAR(online.mean, batch.mean, 1e-13);
  EXPECT_NEAR(online.error, batch.error, 1e-12 * batch.error);
  // Requests shorter than the stored block length use the stored length.
  EXPECT_EQ(acc.estimate(5).block_length, 128);

  // Halves: exactly the first and second 2^15 samples.
  const std::vector<double> x_even(x.begin(), x.begin() + kN);
  const va::HalvesComparison hb = va::compare_halves(x_even, 256);
  const va::HalvesComparison ho = acc.compare_halves(256);
  EXPECT_EQ(ho.first.n_samples, kN / 2);
  EXPECT_EQ(ho.second.n_blocks, hb.second.n_blocks);
  EXPECT_NEAR(ho.first.mean, hb.first.mean, 1e-13);
  EXPECT_NEAR(ho.second.mean, hb.second.mean, 1e-13);
  EXPECT_NEAR(ho.z, hb.z, 1e-9);
}

TEST(BlockAccumulator, Ar1ErrorMatchesExpectationThroughOnlinePath) {
  std::vector<double> ratio;
  for (int s = 0; s < 100; ++s) {
    const std::vector<double> x = ar1_series(kN, kPhi, 60000 + s);
    va::BlockAccumulator acc(4, 64);  // heavy coarsening: 32..63 blocks kept
    for (double v : x) acc.add(v);
    const va::BlockEstimate e = acc.estimate(200);
    ASSERT_GE(e.block_length, 200);
    ASSERT_FALSE(e.too_few_blocks);
    ratio.push_back(e.error * e.error /
                    ar1_expected_block_error2(e.block_length, e.n_blocks, kPhi));
  }
  const SampleStats r = stats_of(ratio);
  EXPECT_NEAR(r.mean, 1.0, 4.0 * r.sem);
}

TEST(BlockAccumulator, BlockingAnalysisEqualsBatchWithoutCoarsening) {
  const std::vector<double> x = ar1_series(5000, 0.7, 3);
  va::BlockAccumulator acc(1, 8192);
  for (double v : x) acc.add(v);
  const va::BlockingAnalysis online = acc.blocking_analysis();
  const va::BlockingAnalysis batch = va::blocking_analysis(x);
  ASSERT_EQ(online.levels.size(), batch.levels.size());
  for (size_t i = 0; i < batch.levels.size(); ++i) {
    EXPECT_EQ(online.levels[i].block_length, batch.levels[i].block_length);
    EXPECT_EQ(online.levels[i].n_blocks, batch.levels[i].n_blocks);
    EXPECT_NEAR(online.levels[i].error, batch.levels[i].error, 1e-10 * batch.levels[i].error);
  }
  EXPECT_EQ(online.optimal_level, batch.optimal_level);
  EXPECT_EQ(online.plateau_found, batch.plateau_found);
}

TEST(BlockAccumulator, JsonRoundTripIsExact) {
  const std::vector<double> x = ar1_series(9000, kPhi, 11);
  va::BlockAccumulator acc(3, 16);
  for (size_t i = 0; i < 5003; ++i) acc.add(x[i]);
  const std::string text = acc.to_json().dump();
  va::BlockAccumulator restored = va::BlockAccumulator::from_json(nlohmann::json::parse(text));
  EXPECT_EQ(restored.to_json(), acc.to_json());
  for (size_t i = 5003; i < x.size(); ++i) {
    acc.add(x[i]);
    restored.add(x[i]);
  }
  const va::BlockEstimate a = acc.estimate(40), b = restored.estimate(40);
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.n_blocks, b.n_blocks);
  EXPECT_EQ(restored.to_json(), acc.to_json());
  nlohmann::json bad = acc.to_json();
  bad["partial_count"] = 999999;
  EXPECT_THROW(va::BlockAccumulator::from_json(bad), std::invalid_argument);
}
