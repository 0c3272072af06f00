// The NVT energy check (paper's Eq. 15) on synthetic data with a known energy per neighbour:
// the fitted e is recovered and used, reported with its error and temperature range, and the
// check is also shown with the paper's e = 0.83 (hump2d).
#include <gtest/gtest.h>

#include <cmath>

#include "analysis_synthetic.hpp"
#include "vitrify/analysis/statmech.hpp"
#include "vitrify/analysis/statmech_model.hpp"

namespace vitrify::analysis {
namespace {

using nlohmann::json;

TEST(EnergyCheck, FittedEUsedAndPaperEShownBeside) {
  testing::SyntheticModel s = testing::hump2d_table2();
  s.energy_per_neighbor = 0.95;
  AnalyzeOptions opt;
  opt.grid_points = 5;
  const json a = analyze(testing::make_measurements(s, 1), opt);
  const json& th = a.at("thermodynamics");
  // The fit gives back e, with an error and the fitted temperature range.
  const json& fit = th.at("energy_per_neighbor").at(0);
  EXPECT_NEAR(fit["e"]["value"].get<double>(), 0.95, 1e-9);
  ASSERT_TRUE(fit["e"].contains("error"));
  const double t_lo = s.temperatures.front(), t_hi = s.temperatures.back();
  const json& used = th.at("comparison_energy_per_neighbor").at(0);
  EXPECT_NEAR(used["e"]["value"].get<double>(), 0.95, 1e-9);
  EXPECT_NEAR(used["temperature_range"][0].get<double>(), t_lo, 1e-12);
  EXPECT_NEAR(used["temperature_range"][1].get<double>(), t_hi, 1e-12);
  // With the fitted e the check is exact.
  EXPECT_NEAR(th["comparison"]["worst_relative_deviation"]["value"].get<double>(), 0.0, 1e-9);
  // With e = 0.83: u_model = (0.83/2) sum C_i i + T against u = (0.95/2) sum C_i i + T.
  const json& paper = th.at("comparison_paper_e");
  ASSERT_TRUE(paper.is_object());
  EXPECT_EQ(paper["e"].get<double>(), 0.83);
  const json& temps = paper["temperature"];
  ASSERT_EQ(temps.size(), s.temperatures.size());
  for (size_t k = 0; k < temps.size(); ++k) {
    const double t = temps[k].get<double>();
    const auto c = testing::true_concentrations(s, t);
    double sum_cn = 0;
    for (size_t i = 0; i < c.size(); ++i) sum_cn += c[i] * s.species[i].neighbors;
    const double expected = (0.5 * 0.83 * sum_cn + t) / (0.5 * 0.95 * sum_cn + t);
    EXPECT_NEAR(paper["ratio"][k].get<double>(), expected, 1e-9) << "T = " << t;
  }
  EXPECT_LT(paper["worst_relative_deviation"]["value"].get<double>(), -0.03);
}

// A model without a published e (binary3d is NPT; kob-andersen NVT has none): no paper check.
TEST(EnergyCheck, NoPaperEForOtherModels) {
  testing::SyntheticModel s = testing::hump2d_table2();
  s.model = "kob-andersen";
  s.dimension = 3;
  AnalyzeOptions opt;
  opt.grid_points = 5;
  const json a = analyze(testing::make_measurements(s, 1), opt);
  EXPECT_TRUE(a.at("thermodynamics").at("comparison_paper_e").is_null());
}

}  // namespace
}  // namespace vitrify::analysis
