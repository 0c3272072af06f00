// The per-particle self-ISF term: exact direction averages J0 (2D) and sin(x)/x (3D).
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/isf.hpp"

namespace vk = vitrify::kernels;

TEST(IsfKernel, BesselJ0MatchesStandardLibrary) {
  double worst = 0.0;
  for (double x = 0.0; x <= 150.0; x += 0.0037) {
    worst = std::max(worst, std::fabs(vk::bessel_j0(x) - std::cyl_bessel_j(0.0, x)));
    EXPECT_EQ(vk::bessel_j0(-x), vk::bessel_j0(x));
  }
  EXPECT_LT(worst, 1e-13);
  EXPECT_EQ(vk::bessel_j0(0.0), 1.0);
  // Either side of every switch: small-argument series / first polynomial, between the
  // table's polynomials, last polynomial / asymptotic expansion.
  EXPECT_NEAR(vk::bessel_j0(std::nextafter(1e-3, 0.0)), vk::bessel_j0(1e-3), 1e-14);
  for (int i = 1; i <= vk::kIsfTableIntervals; ++i) {
    const double x = i;
    EXPECT_NEAR(vk::bessel_j0(std::nextafter(x, 0.0)), vk::bessel_j0(x), 1e-14) << "x = " << x;
    EXPECT_NEAR(vk::bessel_j0(x), std::cyl_bessel_j(0.0, x), 1e-14) << "x = " << x;
  }
}

TEST(IsfKernel, SincMatchesStandardLibrary) {
  double worst = 0.0;
  for (double x = 1e-3; x <= 150.0; x += 0.0037) {
    worst = std::max(worst, std::fabs(vk::sinc(x) - std::sin(x) / x));
    EXPECT_EQ(vk::sinc(-x), vk::sinc(x));
  }
  EXPECT_LT(worst, 1e-14);
  for (int i = 1; i <= vk::kIsfTableIntervals; ++i) {
    const double x = i;
    EXPECT_NEAR(vk::sinc(std::nextafter(x, 0.0)), vk::sinc(x), 1e-14) << "x = " << x;
    EXPECT_NEAR(vk::sinc(x), std::sin(x) / x, 1e-14) << "x = " << x;
  }
  EXPECT_NEAR(vk::sinc(std::nextafter(1e-3, 0.0)), vk::sinc(1e-3), 1e-15);
}

TEST(IsfKernel, TwoDimensionalDirectionAverageIsJ0) {
  // Average of cos(k . d) over n evenly spaced directions of k (|k| d = kd): converges to the
  // exact isotropic average super-exponentially once n exceeds kd.
  const int n = 96;
  for (double kd = 0.0; kd <= 40.0; kd += 0.173) {
    double avg = 0.0;
    for (int a = 0; a < n; ++a) avg += std::cos(kd * std::cos(2.0 * M_PI * (a + 0.5) / n));
    avg /= n;
    EXPECT_NEAR(vk::isotropic_cos_average(2, kd), avg, 1e-11) << "kd = " << kd;
  }
}

TEST(IsfKernel, ThreeDimensionalDirectionAverageIsSinc) {
  // Over the sphere, cos(k . d) depends on u = cos(angle), uniform on [-1, 1]: midpoint rule.
  const int n = 20000;
  for (double kd = 0.0; kd <= 40.0; kd += 0.173) {
    double avg = 0.0;
    for (int a = 0; a < n; ++a) avg += std::cos(kd * (-1.0 + 2.0 * (a + 0.5) / n));
    avg /= n;
    // Midpoint error <= (2/n)^2 kd^2 / 24.
    EXPECT_NEAR(vk::isotropic_cos_average(3, kd), avg, 1e-12 + kd * kd / (6.0 * n * n))
        << "kd = " << kd;
  }
  EXPECT_EQ(vk::sinc(0.0), 1.0);
  EXPECT_NEAR(vk::sinc(0.999e-3), std::sin(0.999e-3) / 0.999e-3, 1e-16);
}

TEST(IsfKernel, TermUsesDisplacementLengthAndIgnoresZIn2D) {
  const double k = 6.16;
  EXPECT_NEAR(vk::self_isf_term(2, k, 0.3, -0.4, 99.0), std::cyl_bessel_j(0.0, k * 0.5), 1e-12);
  const double d = std::sqrt(0.01 + 0.04 + 0.09);
  EXPECT_NEAR(vk::self_isf_term(3, k, 0.1, 0.2, -0.3), std::sin(k * d) / (k * d), 1e-15);
  EXPECT_EQ(vk::self_isf_term(3, k, 0.0, 0.0, 0.0), 1.0);
  EXPECT_EQ(vk::self_isf_term(2, k, 0.0, 0.0, 0.0), 1.0);
}
