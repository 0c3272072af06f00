// tools/report on an analysis of synthetic measurements: every figure is written as a PNG.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "analysis_synthetic.hpp"
#include "tests/common/cli_util.hpp"
#include "vitrify/analysis/statmech.hpp"

namespace vitrify::analysis {
namespace {

namespace fs = std::filesystem;

bool is_png(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char header[8] = {};
  in.read(header, 8);
  const unsigned char expected[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return in.gcount() == 8 &&
         std::equal(header, header + 8, reinterpret_cast<const char*>(expected));
}

void run_report_on(const testing::SyntheticModel& model, const std::string& tag,
                   const std::vector<std::string>& figures) {
  const std::string python = vitrify::test_util::find_python();
  if (python.empty()) GTEST_SKIP() << "python3 with numpy and matplotlib not available";
  const fs::path dir =
      fs::temp_directory_path() / ("vitrify_report_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  nlohmann::json doc = testing::make_measurements(model, 11);
  // One state point whose tau_alpha was not reached, to exercise that path.
  doc["state_points"][0]["tau_alpha"] = {
      {"value", nullptr}, {"reached", false}, {"lower_bound", 1e4}};
  std::ofstream(dir / "measurements.json") << doc.dump();
  AnalyzeOptions opt;
  opt.grid_points = 60;
  analyze_file((dir / "measurements.json").string(), dir.string(), opt);
  const std::string cmd = python + " " + VITRIFY_SOURCE_DIR_FOR_TESTS + "/tools/report " +
                          dir.string() + " > " + (dir / "report.log").string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "tools/report failed, see " << (dir / "report.log");
  for (const std::string& name : figures) {
    const fs::path png = dir / "report" / name;
    ASSERT_TRUE(fs::exists(png)) << name;
    EXPECT_TRUE(is_png(png)) << name;
  }
  std::ifstream md(dir / "report" / "report.md");
  ASSERT_TRUE(md.good());
  const std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  for (const std::string& name : figures)
    EXPECT_NE(text.find("](" + name + ")"), std::string::npos) << name;
  EXPECT_NE(text.find("Up-scaling validated"), std::string::npos);
  EXPECT_EQ(text.find("Figure skipped"), std::string::npos) << text;
  fs::remove_all(dir);
}

const std::vector<std::string> kCommonFigures = {"concentrations.png",
                                                 "free_energies.png",
                                                 "degeneracies.png",
                                                 "predicted_vs_measured.png",
                                                 "isf.png",
                                                 "tau_arrhenius.png",
                                                 "tau_xi.png",
                                                 "c_liq.png",
                                                 "heat_capacity.png",
                                                 "entropy.png"};

TEST(Report, Hump2dNvtFigures) {
  testing::SyntheticModel s = testing::hump2d_table2();
  s.concentration_noise = 0.01;
  s.ln_tau_noise = 0.05;
  s.energy_noise = 0.002;
  std::vector<std::string> figures = kCommonFigures;
  figures.push_back("energy.png");
  run_report_on(s, "hump2d", figures);
}

TEST(Report, Binary3dNptFigures) {
  testing::SyntheticModel s = testing::binary3d_gaussian();
  s.concentration_noise = 0.01;
  s.ln_tau_noise = 0.05;
  s.density_noise = 0.001;
  s.energy_noise = 0.002;
  std::vector<std::string> figures = kCommonFigures;
  figures.push_back("enthalpy.png");
  run_report_on(s, "binary3d", figures);
}

}  // namespace
}  // namespace vitrify::analysis
