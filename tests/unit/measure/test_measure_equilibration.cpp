// Equilibration verdict: production length against tau_alpha and the two-halves checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "vitrify/analysis/measure_equilibration.hpp"

namespace va = vitrify::analysis;

namespace {

va::HalvesComparison halves(double m1, double m2, double e, long blocks = 16) {
  va::BlockEstimate a, b;
  a.mean = m1;
  b.mean = m2;
  a.error = b.error = e;
  a.n_blocks = b.n_blocks = blocks;
  a.too_few_blocks = b.too_few_blocks = blocks < va::kMinBlocksForError;
  return va::compare_halves(a, b);
}

va::TauAlpha reached(double value) {
  va::TauAlpha t;
  t.reached = true;
  t.value = value;
  return t;
}

}  // namespace

TEST(Equilibration, AllChecksPass) {
  const va::EquilibrationVerdict v = va::equilibration_verdict(
      reached(10.0), 1500.0, {{"u", halves(1.0, 1.01, 0.01)}, {"density", halves(0.9, 0.9, 0.0)}});
  EXPECT_TRUE(v.equilibrated);
  EXPECT_TRUE(v.flags.empty());
}

TEST(Equilibration, ProductionTooShort) {
  const va::EquilibrationVerdict v =
      va::equilibration_verdict(reached(51.0), 2000.0, {{"u", halves(1.0, 1.0, 0.1)}});
  EXPECT_FALSE(v.equilibrated);
  ASSERT_EQ(v.flags.size(), 1u);
  EXPECT_EQ(v.flags[0], "production 2.0e3 < 100 tau_alpha = 5.1e3");
  // Exactly 100 tau_alpha passes; a custom multiple is honoured.
  EXPECT_TRUE(va::equilibration_verdict(reached(20.0), 2000.0, {}).equilibrated);
  EXPECT_FALSE(va::equilibration_verdict(reached(20.0), 2000.0, {}, 200.0).equilibrated);
}

TEST(Equilibration, HalvesDisagreeTooFewBlocksAndNotReached) {
  // u: difference 4.2 sigma; c_s3: 2.1 sigma (agrees) but 4 blocks per half; p: no error.
  va::TauAlpha not_reached;
  not_reached.reached = false;
  not_reached.lower_bound = 2000.0;
  const va::EquilibrationVerdict v =
      va::equilibration_verdict(not_reached, 2000.0,
                                {{"u", halves(1.0, 1.0 + 4.2 * 0.01 * std::sqrt(2.0), 0.01)},
                                 {"c_s3", halves(0.1, 0.1 + 0.042, 0.01 * std::sqrt(2.0), 4)},
                                 {"p", halves(1.0, 1.0, std::nan(""))}});
  EXPECT_FALSE(v.equilibrated);
  ASSERT_EQ(v.flags.size(), 4u);
  EXPECT_EQ(v.flags[0],
            "tau_alpha not reached (F_k > 1/e up to the longest lag 2.0e3); production 2.0e3 < "
            "100 tau_alpha");
  EXPECT_EQ(v.flags[1], "u: halves differ by 4.2 sigma (limit 3.0)");
  EXPECT_EQ(v.flags[2], "c_s3: too few blocks for the error (4 and 4 in the halves)");
  EXPECT_EQ(v.flags[3], "p: halves cannot be compared (no error estimate)");
}

TEST(Equilibration, FormatShort) {
  EXPECT_EQ(va::format_short(5100.0), "5.1e3");
  EXPECT_EQ(va::format_short(2.0e-5), "2.0e-5");
  EXPECT_EQ(va::format_short(0.37), "3.7e-1");
}

// The binary3d demo at T = 1.5 (inputs/demo-binary3d.json): production 150 tau = 3000 samples
// of 0.05 tau against tau_alpha = 0.41 (370 tau_alpha), but the volume under the Berendsen
// barostat decorrelates over ~ 25 samples, so the plateau of its blocking analysis is a block
// of about 256 samples: fewer than 8 blocks per half. The halves then take the whole
// run's error (half_with_whole_error), and the run is not flagged for too few blocks.
TEST(Equilibration, LongRunInTauAlphaIsNotFlaggedForTooFewBlocks) {
  const long n = 3000, tau_alpha_block = 9;  // ceil(0.41 / 0.05)
  va::BlockAccumulator v(1, 1024);
  unsigned long long state = 12345;
  auto gauss = [&]() {  // Box-Muller from a 64-bit LCG
    auto uniform = [&]() {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      return (static_cast<double>(state >> 11) + 0.5) / 9007199254740992.0;
    };
    return std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform());
  };
  const double phi = std::exp(-1.0 / 25.0);  // AR(1), correlation time 25 samples
  double x = 0;
  for (long i = 0; i < n; ++i) {
    x = phi * x + std::sqrt(1 - phi * phi) * gauss();
    v.add(1.3 + 0.01 * x);
  }
  // The block length of the measurements: >= tau_alpha, and the plateau when one is found.
  const va::BlockingAnalysis ba = v.blocking_analysis();
  ASSERT_TRUE(ba.plateau_found);
  const long block = std::max(tau_alpha_block, ba.block_length);
  ASSERT_GT(block, n / 2 / va::kMinBlocksForError);  // the situation of the issue

  const auto own = v.halves(block);
  EXPECT_TRUE(own.first.too_few_blocks);  // the former rule: "too few blocks (5 and 5)"
  EXPECT_EQ(own.first.n_blocks, 5);
  const va::BlockEstimate whole = v.estimate(block);
  ASSERT_FALSE(whole.too_few_blocks);
  const va::BlockEstimate a = va::half_with_whole_error(own.first, whole);
  const va::BlockEstimate b = va::half_with_whole_error(own.second, whole);
  EXPECT_FALSE(a.too_few_blocks);
  EXPECT_FALSE(b.too_few_blocks);
  EXPECT_NEAR(a.error, whole.error * std::sqrt(double(whole.n_samples) / a.n_samples), 1e-15);
  const va::HalvesComparison c = va::compare_halves(a, b);
  EXPECT_FALSE(c.too_few_blocks);

  va::TauAlpha tau;
  tau.reached = true;
  tau.value = 0.41;
  const va::EquilibrationVerdict verdict = va::equilibration_verdict(tau, 150.0, {{"v", c}});
  for (const std::string& f : verdict.flags)
    EXPECT_EQ(f.find("too few blocks"), std::string::npos) << f;

  // A whole run that has too few blocks itself stays flagged.
  va::BlockEstimate short_whole = whole;
  short_whole.n_blocks = 5;
  short_whole.too_few_blocks = true;
  EXPECT_TRUE(va::half_with_whole_error(own.first, short_whole).too_few_blocks);
}
