// The end-of-run summary text: what it must say for a validated and a failing analysis, for a run
// without analysis, and the throughput line.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "vitrify/analysis/statmech.hpp"
#include "vitrify/analysis/summary.hpp"

namespace va = vitrify::analysis;
using json = nlohmann::json;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

json measurements() {
  std::ifstream f(std::string(VITRIFY_TEST_DATA) + "/analysis_measurements_hump2d.json");
  return json::parse(f);
}

}  // namespace

TEST(Summary, ValidatedAnalysisOfTheTestData) {
  const json m = measurements();
  const json a = va::analyze(m, va::AnalyzeOptions());
  const std::string s = va::science_summary(m, &a);
  // Every state point's row, the flagged one named with its reason.
  for (const auto& p : m["state_points"])
    EXPECT_TRUE(contains(s, "\n  " + json(p["temperature"]).dump())) << p["temperature"];
  EXPECT_TRUE(contains(s, "T = 0.1: production shorter than 100 tau_alpha")) << s;
  EXPECT_TRUE(contains(s, "Verdict: VALIDATED over T = 0.15 to 0.5")) << s;
  EXPECT_TRUE(contains(s, "c3       -0.5487 ± 0.0033")) << s;
  EXPECT_TRUE(contains(s, "n_mp = ")) << s;
  EXPECT_TRUE(contains(s, "mu = 0.3309 ± 0.0048")) << s;
  EXPECT_TRUE(contains(s, "weighted by the tau_alpha errors")) << s;
  EXPECT_TRUE(contains(s, "hold-out at T = 0.15")) << s;
  EXPECT_TRUE(contains(s, "paper's e = 0.83                       agrees")) << s;
  EXPECT_TRUE(contains(s, "an EXTRAPOLATION outside the fitted T = 0.15 to 0.5")) << s;
  EXPECT_FALSE(contains(s, "Wall time"));  // no run timing given
}

TEST(Summary, NamesFailingSpeciesAndDifferingEnergies) {
  const json m = measurements();
  json a = va::analyze(m, va::AnalyzeOptions());
  a["validation"]["validated"] = false;
  a["validation"]["reason"] = "1 of 4 fitted species fails the criterion";
  a["validation"]["failed_species"] =
      json::array({{{"species", "c6"}, {"reason", "p = 1e-9 and a measured ratio off by 7 %"}}});
  for (auto& sp : a["species"])
    if (sp["name"] == "c6") {
      sp["fit"]["passes"] = false;
      sp["fit"]["statistical_pass"] = false;
      sp["fit"]["practical_pass"] = false;
    }
  a["thermodynamics"]["comparison"]["worst_relative_deviation"] = {{"temperature", 0.4},
                                                                   {"value", 0.25}};
  const std::string s = va::science_summary(m, &a);
  EXPECT_TRUE(contains(s, "Verdict: NOT VALIDATED")) << s;
  EXPECT_TRUE(contains(s, "failing species c6: p = 1e-9 and a measured ratio off by 7 %")) << s;
  EXPECT_TRUE(contains(s, "FAILS")) << s;
  EXPECT_TRUE(contains(s, "DIFFERS: worst deviation +25.0 % at T = 0.4")) << s;
}

TEST(Summary, WithoutAnalysisAndWithTiming) {
  const json m = measurements();
  va::RunPerformance perf{12.5, 2.5e8, true};
  const std::string s = va::science_summary(m, nullptr, "skipped: two temperatures");
  EXPECT_TRUE(contains(s, "Analysis: none — skipped: two temperatures")) << s;
  EXPECT_FALSE(contains(s, "Wall time")) << s;
  EXPECT_EQ(va::performance_line(perf),
            "Wall time 12.5 s (this resumed part), 2.5e+08 particle-steps, 2e+07 "
            "particle-steps/s\n");
  // A document with fields missing or null does not throw.
  json bare = {
      {"model", "hump2d"}, {"ensemble", "nvt"}, {"state_points", json::array({json::object()})}};
  json broken_analysis = {{"species", json::array({nullptr})}, {"relaxation", nullptr}};
  EXPECT_NO_THROW(va::science_summary(bare, &broken_analysis));
}
