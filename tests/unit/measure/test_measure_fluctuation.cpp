// The fluctuation accumulator of the heat capacity: its variance equals the batch variance of
// the series (also across coarsening), its jackknife error covers the scatter of independent
// estimates, and its state round-trips exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "vitrify/analysis/measure_fluctuation.hpp"

namespace va = vitrify::analysis;

namespace {

std::vector<double> gaussian_series(long n, double mean, double sd, unsigned long seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(mean, sd);
  std::vector<double> x(n);
  for (double& v : x) v = normal(rng);
  return x;
}

double batch_variance(const std::vector<double>& x, std::size_t n) {
  double m = 0, q = 0;
  for (std::size_t k = 0; k < n; ++k) m += x[k] / n;
  for (std::size_t k = 0; k < n; ++k) q += (x[k] - m) * (x[k] - m) / n;
  return q;
}

}  // namespace

TEST(Fluctuation, VarianceEqualsTheBatchVariance) {
  // An offset far from zero: the shift by the first sample keeps the precision.
  const std::vector<double> x = gaussian_series(10000, 1e4, 2.0, 3);
  va::FluctuationAccumulator a(64);
  for (double v : x) a.add(v);
  const va::BlockEstimate e = a.variance(1);
  EXPECT_EQ(e.n_samples % e.block_length, 0);
  EXPECT_NEAR(e.mean, batch_variance(x, e.n_samples), 1e-9);
  EXPECT_NEAR(e.mean, 4.0, 0.2);
  // Longer blocks: fewer of them, same samples (multiples of the stored block length).
  const va::BlockEstimate f = a.variance(4 * e.block_length);
  EXPECT_EQ(f.block_length, 4 * e.block_length);
  EXPECT_NEAR(f.mean, batch_variance(x, f.n_samples), 1e-9);
}

TEST(Fluctuation, JackknifeErrorMatchesTheScatter) {
  // Var of the sample variance of n Gaussian samples: 2 sd^4 / n.
  const long n = 4096;
  double sum = 0, sum2 = 0, err = 0;
  const int trials = 200;
  for (int t = 0; t < trials; ++t) {
    va::FluctuationAccumulator a;
    for (double v : gaussian_series(n, 0.0, 1.0, 100 + t)) a.add(v);
    const va::BlockEstimate e = a.variance(16);
    sum += e.mean;
    sum2 += e.mean * e.mean;
    err += e.error / trials;
    EXPECT_FALSE(e.too_few_blocks);
  }
  const double scatter = std::sqrt(sum2 / trials - (sum / trials) * (sum / trials));
  EXPECT_NEAR(scatter, std::sqrt(2.0 / n), 0.15 * std::sqrt(2.0 / n));
  EXPECT_NEAR(err, scatter, 0.15 * scatter);
}

TEST(Fluctuation, StateRoundTrips) {
  va::FluctuationAccumulator a(8), b(8);
  const std::vector<double> x = gaussian_series(1001, 1.0, 1.0, 9);
  for (std::size_t k = 0; k < 500; ++k) a.add(x[k]);
  va::FluctuationAccumulator c = va::FluctuationAccumulator::from_json(a.to_json());
  for (std::size_t k = 500; k < x.size(); ++k) {
    a.add(x[k]);
    c.add(x[k]);
  }
  EXPECT_EQ(a.to_json(), c.to_json());
  EXPECT_EQ(a.variance(3).mean, c.variance(3).mean);
}
