// Equilibration verdict: production length against tau_alpha and the two-halves checks.
#include <gtest/gtest.h>

#include <cmath>

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
