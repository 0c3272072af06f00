// tools/report on synthetic run directories (with and without an analysis): every figure is
// written as a PNG; the launcher ignores a python3 without matplotlib first on PATH.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

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

const std::string kReport = std::string(VITRIFY_SOURCE_DIR_FOR_TESTS) + "/tools/report";

// A run directory of synthetic measurements: measurements.json (one state point whose tau_alpha
// was not reached), replicas.csv and one thermo/replica_NNN.csv per state point (every stage,
// NVT or NPT columns as the model's ensemble); with `analyze`, also analysis.json.
fs::path make_run_dir(const testing::SyntheticModel& model, const std::string& tag, bool analyze) {
  const fs::path dir =
      fs::temp_directory_path() / ("vitrify_report_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "thermo");
  nlohmann::json doc = testing::make_measurements(model, 11);
  // One state point whose tau_alpha was not reached, to exercise that path.
  doc["state_points"][0]["tau_alpha"] = {
      {"value", nullptr}, {"reached", false}, {"lower_bound", 1e4}};
  std::ofstream(dir / "measurements.json") << doc.dump();
  const bool npt = doc["ensemble"] == "npt";
  std::ofstream replicas(dir / "replicas.csv");
  replicas << "replica,temperature,copy,seed\n";
  const char* stages[] = {"melt", "cool", "equilibrate", "production"};
  for (size_t r = 0; r < doc["state_points"].size(); ++r) {
    const double t = doc["state_points"][r]["temperature"].get<double>();
    replicas << r << "," << t << ",0," << 1000 + r << "\n";
    char name[32];
    std::snprintf(name, sizeof name, "replica_%03zu.csv", r);
    std::ofstream thermo(dir / "thermo" / name);
    thermo << (npt ? "stage,step,time,T,p,u,v,h\n" : "stage,step,time,T,p,u,v\n");
    int step = 0;
    for (int s = 0; s < 4; ++s)
      for (int i = 0; i < 10; ++i, step += 50) {
        const double temp = s == 0 ? 2.0 : (s == 1 ? 2.0 + (t - 2.0) * i / 9.0 : t);
        const double u = -2.0 + 0.8 * temp + 0.01 * ((i * 7) % 3);
        thermo << stages[s] << "," << step << "," << step * 0.005 << "," << temp << ","
               << 3.0 + temp << "," << u << ",1.2";
        if (npt) thermo << "," << u + 3.0 * 1.2;
        thermo << "\n";
      }
  }
  if (analyze) {
    AnalyzeOptions opt;
    opt.grid_points = 60;
    analyze_file((dir / "measurements.json").string(), dir.string(), opt);
  }
  return dir;
}

std::string read_report(const fs::path& dir) {
  std::ifstream md(dir / "report" / "report.md");
  return std::string((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
}

void expect_figures(const fs::path& dir, const std::vector<std::string>& figures) {
  const std::string text = read_report(dir);
  ASSERT_FALSE(text.empty()) << "no report.md";
  for (const std::string& name : figures) {
    const fs::path png = dir / "report" / name;
    ASSERT_TRUE(fs::exists(png)) << name;
    EXPECT_TRUE(is_png(png)) << name;
    EXPECT_NE(text.find("](" + name + ")"), std::string::npos) << name;
  }
  EXPECT_EQ(text.find("Figure skipped"), std::string::npos) << text;
  // Words, not Python's literals.
  EXPECT_EQ(text.find("True"), std::string::npos) << text;
  EXPECT_EQ(text.find("False"), std::string::npos) << text;
}

// Runs tools/report as a user would: the launcher, with VITRIFY_PYTHON naming the Python found.
void run_report_on(const testing::SyntheticModel& model, const std::string& tag,
                   const std::vector<std::string>& figures) {
  const std::string python = vitrify::test_util::find_python();
  if (python.empty()) GTEST_SKIP() << "python3 with numpy and matplotlib not available";
  const fs::path dir = make_run_dir(model, tag, true);
  const auto c = vitrify::test_util::run_shell("VITRIFY_PYTHON=" + python + " " + kReport + " " +
                                               dir.string());
  ASSERT_EQ(c.code, 0) << c.output;
  expect_figures(dir, figures);
  const std::string text = read_report(dir);
  EXPECT_NE(text.find("Up-scaling validated"), std::string::npos);
  EXPECT_NE(text.find("extrapolation"), std::string::npos) << text;
  fs::remove_all(dir);
}

const std::vector<std::string> kCommonFigures = {"thermo.png",
                                                 "concentrations.png",
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

// Without analysis.json (a run with --no-analyze, or too few temperatures) the report draws what
// was measured: the thermo time series, the concentrations, F_k(t) and tau_alpha.
TEST(Report, MeasurementsOnly) {
  const std::string python = vitrify::test_util::find_python();
  if (python.empty()) GTEST_SKIP() << "python3 with numpy and matplotlib not available";
  testing::SyntheticModel s = testing::hump2d_table2();
  s.concentration_noise = 0.01;
  s.ln_tau_noise = 0.05;
  const fs::path dir = make_run_dir(s, "measured", false);
  ASSERT_FALSE(fs::exists(dir / "analysis.json"));
  const auto c = vitrify::test_util::run_shell("VITRIFY_PYTHON=" + python + " " + kReport + " " +
                                               dir.string());
  ASSERT_EQ(c.code, 0) << c.output;
  expect_figures(dir, {"thermo.png", "concentrations.png", "isf.png", "tau_arrhenius.png"});
  EXPECT_NE(read_report(dir).find("analysis.json"), std::string::npos);
  fs::remove_all(dir);
}

// The interpreter the launcher picks without VITRIFY_PYTHON (tools/lib/python.sh): the project's
// .venv when it exists, else /usr/bin/python3.
std::string launcher_default_python() {
  const std::string venv = std::string(VITRIFY_SOURCE_DIR_FOR_TESTS) + "/.venv/bin/python";
  return fs::exists(venv) ? venv : "/usr/bin/python3";
}

// A bare python3 first on PATH (a conda or pyenv one without matplotlib) does not break
// tools/report: the launcher does not use PATH's python3. And an interpreter without the modules
// gives a message that names what to install.
TEST(Report, IgnoresPython3FirstOnPath) {
  const std::string python = launcher_default_python();
  if (vitrify::test_util::run_shell(python + " -c 'import numpy, matplotlib' > /dev/null 2>&1")
          .code != 0)
    GTEST_SKIP() << python << " lacks numpy or matplotlib (run tools/setup)";
  testing::SyntheticModel s = testing::hump2d_table2();
  s.concentration_noise = 0.01;
  const fs::path dir = make_run_dir(s, "path", false);
  const fs::path bin = dir / "fake-bin";
  fs::create_directories(bin);
  {
    std::ofstream fake(bin / "python3");
    fake << "#!/bin/sh\necho \"ModuleNotFoundError: No module named matplotlib\" >&2\nexit 1\n";
  }
  fs::permissions(bin / "python3", fs::perms::owner_all | fs::perms::group_read |
                                       fs::perms::group_exec | fs::perms::others_read |
                                       fs::perms::others_exec);
  const std::string path = "PATH=" + bin.string() + ":\"$PATH\" ";
  // The fake is what a plain `python3` runs now.
  ASSERT_EQ(vitrify::test_util::run_shell(path + "python3 -c 'import matplotlib'").code, 1);

  const auto c =
      vitrify::test_util::run_shell("env -u VITRIFY_PYTHON " + path + kReport + " " + dir.string());
  ASSERT_EQ(c.code, 0) << c.output;
  EXPECT_EQ(c.output.find("No module named"), std::string::npos) << c.output;
  expect_figures(dir, {"thermo.png", "concentrations.png", "isf.png", "tau_arrhenius.png"});

  // VITRIFY_PYTHON naming an interpreter without matplotlib: exit 1, and the message says what
  // to install.
  const auto bad = vitrify::test_util::run_shell("VITRIFY_PYTHON=" + (bin / "python3").string() +
                                                 " " + kReport + " " + dir.string());
  EXPECT_EQ(bad.code, 1) << bad.output;
  EXPECT_NE(bad.output.find("python3-matplotlib"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("VITRIFY_PYTHON"), std::string::npos) << bad.output;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vitrify::analysis
