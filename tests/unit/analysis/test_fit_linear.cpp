#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "vitrify/analysis/fit_linear.hpp"
#include "vitrify/analysis/statmech_propagate.hpp"

namespace vitrify::analysis {
namespace {

TEST(FitLinear, Chi2SurvivalMatchesTabulatedQuantiles) {
  // Upper 5 % and 1 % points of the chi-square distribution (standard tables).
  EXPECT_NEAR(chi2_survival(3.841459, 1), 0.05, 1e-6);
  EXPECT_NEAR(chi2_survival(18.307038, 10), 0.05, 1e-6);
  EXPECT_NEAR(chi2_survival(6.634897, 1), 0.01, 1e-6);
  EXPECT_NEAR(chi2_survival(63.690740, 40), 0.01, 1e-6);
  // dof = 2: exact Q = exp(-chi2/2).
  EXPECT_NEAR(chi2_survival(5.0, 2), std::exp(-2.5), 1e-12);
  EXPECT_DOUBLE_EQ(chi2_survival(0.0, 3), 1.0);
  EXPECT_TRUE(std::isnan(chi2_survival(1.0, 0)));
}

TEST(FitLinear, WeightedLineRecoversExactData) {
  const std::vector<double> x = {0.1, 0.2, 0.4, 0.7, 1.0};
  std::vector<double> y, sigma;
  for (double xi : x) {
    y.push_back(2.0 - 3.0 * xi);
    sigma.push_back(0.1 + xi);
  }
  const LinearFit fit = weighted_linear_fit(straight_line_design(x), y, sigma);
  EXPECT_NEAR(fit.parameters[0], 2.0, 1e-12);
  EXPECT_NEAR(fit.parameters[1], -3.0, 1e-12);
  EXPECT_NEAR(fit.chi2, 0.0, 1e-20);
  EXPECT_EQ(fit.dof, 3);
  // Covariance of a weighted line: (X^T W X)^-1, check against the closed form.
  double s = 0, sx = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double w = 1.0 / (sigma[i] * sigma[i]);
    s += w;
    sx += w * x[i];
    sxx += w * x[i] * x[i];
  }
  const double det = s * sxx - sx * sx;
  EXPECT_NEAR(fit.covariance(0, 0), sxx / det, 1e-12 * sxx / det);
  EXPECT_NEAR(fit.covariance(1, 1), s / det, 1e-12 * s / det);
  EXPECT_NEAR(fit.covariance(0, 1), -sx / det, 1e-12 * std::abs(sx / det));
}

TEST(FitLinear, GeneralizedEqualsWeightedForDiagonalCovariance) {
  const std::vector<double> x = {1, 2, 3, 4, 5, 6};
  const std::vector<double> y = {1.1, 1.9, 3.2, 3.9, 5.3, 5.8};
  const std::vector<double> sigma = {0.1, 0.2, 0.1, 0.3, 0.2, 0.1};
  Matrix v(6, 6);
  for (int i = 0; i < 6; ++i) v(i, i) = sigma[i] * sigma[i];
  const LinearFit a = weighted_linear_fit(straight_line_design(x), y, sigma);
  const LinearFit b = generalized_linear_fit(straight_line_design(x), y, v);
  for (int i = 0; i < 2; ++i) {
    EXPECT_NEAR(a.parameters[i], b.parameters[i], 1e-12);
    for (int j = 0; j < 2; ++j) EXPECT_NEAR(a.covariance(i, j), b.covariance(i, j), 1e-12);
  }
  EXPECT_NEAR(a.chi2, b.chi2, 1e-10);
}

TEST(FitLinear, WeightedErrorsAreHonestOverManySamples) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  const std::vector<double> x = {0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0};
  const std::vector<double> sigma = {0.2, 0.1, 0.3, 0.2, 0.1, 0.2, 0.4};
  double sum2_slope = 0, sum_chi2 = 0;
  const int n = 2000;
  for (int trial = 0; trial < n; ++trial) {
    std::vector<double> y;
    for (size_t i = 0; i < x.size(); ++i) y.push_back(1.0 + 0.5 * x[i] + sigma[i] * normal(rng));
    const LinearFit fit = weighted_linear_fit(straight_line_design(x), y, sigma);
    const double pull = (fit.parameters[1] - 0.5) / std::sqrt(fit.covariance(1, 1));
    sum2_slope += pull * pull;
    sum_chi2 += fit.chi2;
  }
  EXPECT_NEAR(std::sqrt(sum2_slope / n), 1.0, 0.05);
  EXPECT_NEAR(sum_chi2 / n, 5.0, 0.25);  // <chi2> = dof
}

TEST(FitLinear, UnweightedScalesByResidualVariance) {
  const std::vector<double> x = {0, 1, 2, 3};
  const std::vector<double> y = {0.1, 0.9, 2.1, 2.9};
  const LinearFit fit = unweighted_linear_fit(straight_line_design(x), y);
  double rss = 0;
  for (double r : fit.residuals) rss += r * r;
  // Var(slope) = s^2 / Sxx, s^2 = RSS/2, Sxx = 5.
  EXPECT_NEAR(fit.covariance(1, 1), rss / 2 / 5.0, 1e-12);
  EXPECT_TRUE(std::isnan(fit.p_value));
}

TEST(FitLinear, RejectsUnderdeterminedAndBadErrors) {
  EXPECT_THROW(weighted_linear_fit(straight_line_design({1.0}), {1.0}, {1.0}),
               std::invalid_argument);
  EXPECT_THROW(weighted_linear_fit(straight_line_design({1.0, 2.0}), {1.0, 2.0}, {1.0, 0.0}),
               std::invalid_argument);
  EXPECT_THROW(weighted_linear_fit(straight_line_design({1.0, 1.0}), {1.0, 2.0}, {1.0, 1.0}),
               std::invalid_argument);
}

TEST(FitLinear, PropagationMatchesAnalyticForProductAndRatio) {
  const std::vector<double> theta = {2.0, 5.0};
  Matrix cov(2, 2);
  cov(0, 0) = 0.01;
  cov(1, 1) = 0.04;
  cov(0, 1) = cov(1, 0) = 0.006;
  const PropagatedValues p = propagate_errors(
      [](const std::vector<double>& v) {
        return std::vector<double>{v[0] * v[1], v[0] / v[1]};
      },
      theta, cov);
  // var(ab) = b^2 va + a^2 vb + 2ab cab ; var(a/b) = va/b^2 + a^2 vb / b^4 - 2 a cab / b^3.
  const double var_prod = 25 * 0.01 + 4 * 0.04 + 2 * 10 * 0.006;
  const double var_ratio = 0.01 / 25 + 4 * 0.04 / 625 - 2 * 2 * 0.006 / 125;
  EXPECT_NEAR(p.error[0], std::sqrt(var_prod), 1e-8);
  EXPECT_NEAR(p.error[1], std::sqrt(var_ratio), 1e-8);
}

}  // namespace
}  // namespace vitrify::analysis
