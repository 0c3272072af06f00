// The calibration and pressure-study tools of docs/VALIDATION.md, in their --quick form (tiny
// systems, seconds): they run vitrify, write their summaries and figures, and the summaries
// hold what the documentation says (every scanned density / pressure, with verdict fields).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/common/cli_util.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using vitrify::test_util::read_file;

namespace {

// Runs tools/NAME --quick into a fresh directory, as a user would (the launcher, with
// VITRIFY_PYTHON naming the Python found); returns it ("" when Python is missing).
std::string run_quick(const std::string& tool) {
  const std::string python = vitrify::test_util::find_python();
  if (python.empty()) return "";
  const std::string dir = vitrify::test_util::fresh_temp_dir("vitrify_tool", tool);
  const auto c = vitrify::test_util::run_shell(
      "VITRIFY_PYTHON=" + python + " " + VITRIFY_SOURCE_DIR_FOR_TESTS + "/tools/" + tool +
      " --quick --vitrify " + VITRIFY_BINARY + " --out " + dir);
  EXPECT_EQ(c.code, 0) << c.output;
  return dir;
}

bool nonempty(const fs::path& p) { return fs::exists(p) && fs::file_size(p) > 0; }

}  // namespace

TEST(StudyTools, Hump2dDensityCalibrationQuick) {
  const std::string dir = run_quick("calibrate_hump2d");
  if (dir.empty()) GTEST_SKIP() << "python3 with numpy and matplotlib not available";
  const json s = json::parse(read_file(dir + "/summary.json"));
  ASSERT_TRUE(s.contains("densities"));
  EXPECT_GE(s["densities"].size(), 2u);
  EXPECT_TRUE(s.contains("best_density"));
  EXPECT_TRUE(s.contains("table_ii"));
  for (const char* f :
       {"summary.md", "summary.csv", "calibration-concentrations.png", "calibration-psi6.png"})
    EXPECT_TRUE(nonempty(dir + "/" + f)) << f;
  // Every row has psi6 and the deviation from Table II's prediction.
  const std::string csv = read_file(dir + "/summary.csv");
  EXPECT_NE(csv.find("psi6_global"), std::string::npos);
  EXPECT_NE(csv.find("max_abs_dev"), std::string::npos);
  fs::remove_all(dir);
}

TEST(StudyTools, Binary3dPressureStudyQuick) {
  const std::string dir = run_quick("study_binary3d_pressure");
  if (dir.empty()) GTEST_SKIP() << "python3 with numpy and matplotlib not available";
  const json s = json::parse(read_file(dir + "/summary.json"));
  ASSERT_TRUE(s.contains("pressures"));
  EXPECT_GE(s["pressures"].size(), 2u);
  for (const char* f : {"summary.md", "summary.csv", "populations.csv", "study-binary3d-tau.png",
                        "study-binary3d-populations.png", "study-binary3d-coverage.png"})
    EXPECT_TRUE(nonempty(dir + "/" + f)) << f;
  const std::string csv = read_file(dir + "/summary.csv");
  EXPECT_NE(csv.find("coverage_paper"), std::string::npos);
  EXPECT_NE(csv.find("tau_alpha"), std::string::npos);
  fs::remove_all(dir);
}

// tools/below_md_range on the stored outputs of docs/VALIDATION.md section 6
// (results/below-md-range): it reads the PT and plain-MD measurements and a fit, and writes the
// tables and the three figures.
TEST(StudyTools, BelowMdRangeOnStoredResults) {
  const std::string python = vitrify::test_util::find_python();
  if (python.empty()) GTEST_SKIP() << "python3 with numpy and matplotlib not available";
  const std::string src = VITRIFY_SOURCE_DIR_FOR_TESTS;
  const std::string res = src + "/results/below-md-range";
  const std::string dir = vitrify::test_util::fresh_temp_dir("vitrify_tool", "below_md_range");
  const auto c = vitrify::test_util::run_shell(
      "VITRIFY_PYTHON=" + python + " " + src + "/tools/below_md_range --pt " + res +
      "/pt-hump2d --md " + res + "/md-hump2d --pt-repeat " + res +
      "/pt-hump2d-seed2 --fit 'plain MD=" + res + "/fit-md-tmin0.25/analysis.json' --figures " +
      dir + "/f --table " + dir + "/t.md --csv " + dir + "/t.csv");
  ASSERT_EQ(c.code, 0) << c.output;
  for (const char* f : {"f-cv.png", "f-concentrations.png", "f-md-vs-pt.png", "t.md", "t.csv"})
    EXPECT_TRUE(nonempty(dir + "/" + f)) << f;
  const std::string md = read_file(dir + "/t.md");
  EXPECT_NE(md.find("Model C_v peak"), std::string::npos);
  EXPECT_NE(md.find("Plain MD against PT"), std::string::npos);
  EXPECT_NE(md.find("Two parallel-tempering runs"), std::string::npos);
  EXPECT_NE(read_file(dir + "/t.csv").find("cv_model"), std::string::npos);
  fs::remove_all(dir);
}
