// End-to-end: short scans of both models through the library and the command line.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/common/cli_util.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/io/config.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using vitrify::test_util::Cmd;
using vitrify::test_util::read_file;
using vitrify::test_util::run_cli;
std::string temp_dir(const std::string& name) {
  return vitrify::test_util::fresh_temp_dir("vitrify_test", name);
}

json short_scan(const std::string& model) {
  json j = {{"model", model},       {"n_particles", 256},          {"melt_steps", 500},
            {"cool_steps", 500},    {"equilibration_steps", 1000}, {"production_steps", 4000},
            {"sample_interval", 2}, {"thermo_interval", 50},       {"seed", 7}};
  if (model == "binary3d") {
    j["temperatures"] = {0.8, 1.5, 3.0};
    j["species"] = "auto";
  } else {
    j["temperatures"] = {0.6, 1.0, 2.0};
  }
  return j;
}

json run_short(const std::string& model, const std::string& dir) {
  json j = short_scan(model);
  j["output_dir"] = dir;
  vitrify::ScanOptions opt;
  opt.progress = false;
  vitrify::run_scan(vitrify::parse_config(j, "test"), opt);
  return json::parse(read_file(dir + "/measurements.json"));
}

// A smaller hump2d scan without the analysis, through the given step kernels.
json run_small(const std::string& dir, const std::string& kernel) {
  json j = {{"model", "hump2d"},
            {"n_particles", 256},
            {"temperatures", {1.0, 2.0}},
            {"melt_steps", 300},
            {"cool_steps", 300},
            {"equilibration_steps", 600},
            {"production_steps", 3000},
            {"sample_interval", 10},
            {"thermo_interval", 100},
            {"seed", 7},
            {"analyze", false},
            {"output_dir", dir},
            {"backend", "cpu"},
            {"kernel", kernel},
            {"threads", 1}};
  vitrify::ScanOptions opt;
  opt.progress = false;
  vitrify::run_scan(vitrify::parse_config(j, "test"), opt);
  return json::parse(read_file(dir + "/measurements.json"));
}

}  // namespace

TEST(Scan, BothModelsProduceDocumentedMeasurements) {
  for (const std::string model : {"hump2d", "binary3d"}) {
    const std::string dir = temp_dir(model);
    const json m = run_short(model, dir);
    // Top-level schema (docs/OUTPUTS.md).
    for (const char* key :
         {"format", "version", "model", "dimension", "ensemble", "n_particles", "pressure",
          "particle_types", "species", "other_bins", "isf", "state_points"})
      EXPECT_TRUE(m.contains(key)) << model << ": " << key;
    EXPECT_EQ(m["format"], "vitrify-measurements");
    EXPECT_EQ(m["model"], model);
    ASSERT_EQ(m["state_points"].size(), 3u);
    double previous_tau = 1e300;
    for (const auto& s : m["state_points"]) {
      for (const char* key : {"temperature", "temperature_measured", "replicas", "density",
                              "concentrations", "u", "p", "v", "h", "species_energy", "isf_curve",
                              "tau_alpha", "equilibrated", "flags", "run"})
        EXPECT_TRUE(s.contains(key)) << model << ": state point " << key;
      // Concentrations are fractions of all particles: they sum to 1 (binary3d: 1/2 per type).
      double total = 0, small = 0;
      for (auto it = s["concentrations"].begin(); it != s["concentrations"].end(); ++it) {
        const double c = (*it)["mean"].get<double>();
        EXPECT_GE(c, 0.0);
        total += c;
        if (it.key()[0] == 's' || it.key() == "other_S") small += c;
      }
      EXPECT_NEAR(total, 1.0, 1e-9) << model;
      if (model == "binary3d") EXPECT_NEAR(small, 0.5, 1e-9);
      // F_k(t) starts near 1 and tau_alpha is reached in these liquids, faster when hotter.
      EXPECT_GT(s["isf_curve"]["F"][0].get<double>(), 0.9);
      ASSERT_TRUE(s["tau_alpha"]["reached"].get<bool>()) << model << " T=" << s["temperature"];
      const double tau = s["tau_alpha"]["value"].get<double>();
      EXPECT_LT(tau, previous_tau) << model << " T=" << s["temperature"];
      previous_tau = tau;
      EXPECT_NEAR(s["temperature_measured"]["mean"].get<double>(), s["temperature"].get<double>(),
                  0.03 * s["temperature"].get<double>());
      if (model == "binary3d") {
        EXPECT_FALSE(s["h"].is_null());
        EXPECT_NEAR(s["p"]["mean"].get<double>(), 10.0, 1.0);
      } else {
        EXPECT_TRUE(s["h"].is_null());
        EXPECT_NEAR(s["density"]["mean"].get<double>(), 0.825, 1e-6);
      }
    }
    for (const char* f : {"config.resolved.json", "replicas.csv", "thermo/replica_000.csv",
                          "snapshots/replica_002.xyz", "measurements_summary.csv",
                          "measurements_concentrations.csv", "measurements_isf.csv",
                          "measurements_species_energy.csv"})
      EXPECT_TRUE(fs::exists(dir + "/" + f)) << model << ": " << f;
    fs::remove_all(dir);
  }
}

// A scan through the block kernel's CPU emulation (backend cpu, kernel block) measures what
// the CPU's per-particle path measures: the trajectories part after some steps (other
// rounding), so the state points agree within their errors.
TEST(Scan, BlockKernelMeasuresWhatThePerParticleKernelsMeasure) {
  const std::string a = temp_dir("kernel_pp"), b = temp_dir("kernel_block");
  const json pp = run_small(a, "per-particle");
  const json blk = run_small(b, "block");
  ASSERT_EQ(pp["state_points"].size(), blk["state_points"].size());
  for (std::size_t k = 0; k < pp["state_points"].size(); ++k) {
    for (const char* q : {"u", "p"}) {
      const json& x = pp["state_points"][k][q];
      const json& y = blk["state_points"][k][q];
      const double ex = x["error"].get<double>(), ey = y["error"].get<double>();
      EXPECT_NEAR(x["mean"].get<double>(), y["mean"].get<double>(),
                  4 * std::sqrt(ex * ex + ey * ey) + 1e-3)
          << q << " at state point " << k;
    }
  }
  EXPECT_EQ(pp["provenance"]["kernel"], "per-particle");
  EXPECT_EQ(blk["provenance"]["kernel"], "block");
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(Scan, SameSeedGivesIdenticalOutputs) {
  const std::string a = temp_dir("det_a"), b = temp_dir("det_b");
  run_short("binary3d", a);
  run_short("binary3d", b);
  EXPECT_EQ(read_file(a + "/measurements.json"), read_file(b + "/measurements.json"));
  EXPECT_EQ(read_file(a + "/thermo/replica_001.csv"), read_file(b + "/thermo/replica_001.csv"));
  EXPECT_EQ(read_file(a + "/snapshots/replica_000.xyz"),
            read_file(b + "/snapshots/replica_000.xyz"));
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(Cli, RejectedConfigurationsExitWithCode2AndNameTheKey) {
  const std::string dir = temp_dir("cli");
  fs::create_directories(dir);
  const std::string bad = dir + "/bad.json";
  std::ofstream(bad) << R"({"model": "hump2d", "temperatures": [0.5, -1]})";
  Cmd c = run_cli("validate " + bad);
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_NE(c.output.find("temperatures[1]"), std::string::npos) << c.output;
  c = run_cli("run " + bad);
  EXPECT_EQ(c.code, 2);
  std::ofstream(bad) << R"({"model": "binary3d", "n_particles": 101, "temperatures": [1]})";
  c = run_cli("validate " + bad);
  EXPECT_EQ(c.code, 2);
  EXPECT_NE(c.output.find("n_particles"), std::string::npos) << c.output;
  c = run_cli("validate " + dir + "/missing.json");
  EXPECT_EQ(c.code, 2);
  EXPECT_NE(c.output.find("cannot open"), std::string::npos);
  c = run_cli("validate " + std::string(VITRIFY_SOURCE_DIR_FOR_TESTS) + "/inputs/default.json");
  EXPECT_EQ(c.code, 0) << c.output;
  fs::remove_all(dir);
}

TEST(Cli, EvalPrintsEnergyPressureAndSpecies) {
  const std::string dir = temp_dir("eval");
  fs::create_directories(dir);
  // Two small particles at r = 1: U = a0 per pair; virial r.f = 2; 1 neighbour each.
  std::ofstream(dir + "/pair.xyz")
      << "2\nLattice=\"8 0 0 0 8 0 0 0 8\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\n"
      << "S 1 1 1\nS 2 1 1\n";
  Cmd c = run_cli("eval --model binary3d --forces " + dir + "/pair.xyz");
  ASSERT_EQ(c.code, 0) << c.output;
  const json j = json::parse(c.output.substr(c.output.find('{')));
  EXPECT_NEAR(j["potential_energy_per_particle"].get<double>(), 27.0 / 256.0 / 2, 1e-6);
  EXPECT_NEAR(j["virial_pressure"].get<double>(), 2.0 / (3 * 512.0), 1e-6);
  EXPECT_EQ(j["species_histogram"]["S"]["1"], 2);
  EXPECT_NEAR(j["forces"][0][0].get<double>(), -2.0, 1e-4);
  c = run_cli("eval --model hump2d " + dir + "/pair.xyz");
  EXPECT_EQ(c.code, 2);
  EXPECT_NE(c.output.find("pair.xyz"), std::string::npos);
  fs::remove_all(dir);
}

// A box between 2 rc and 2 (rc + skin) is evaluated (one frame needs no skin); a box edge
// below 2 rc is refused as bad input naming the file. binary3d: rc_max = 1.6166.
TEST(Cli, EvalOnSmallBoxes) {
  const std::string dir = temp_dir("eval_small");
  fs::create_directories(dir);
  auto pair_in_box = [&](const std::string& name, double len) {
    std::ofstream(dir + "/" + name) << "2\nLattice=\"" << len << " 0 0 0 " << len << " 0 0 0 "
                                    << len << "\" Properties=species:S:1:pos:R:3\n"
                                    << "S 0.5 0.5 0.5\nS 1.5 0.5 0.5\n";
    return dir + "/" + name;
  };
  Cmd c = run_cli("eval --model binary3d " + pair_in_box("fits.xyz", 3.4));  // 2 rc < 3.4 < 3.83
  ASSERT_EQ(c.code, 0) << c.output;
  const json j = json::parse(c.output.substr(c.output.find('{')));
  // One pair at r = 1 (the image at 2.4 is beyond rc_ss = 1.155): U = a0, per particle a0 / 2.
  EXPECT_NEAR(j["potential_energy_per_particle"].get<double>(), 27.0 / 256.0 / 2, 1e-6);
  c = run_cli("eval --model binary3d " + pair_in_box("tiny.xyz", 3.0));
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_NE(c.output.find("tiny.xyz"), std::string::npos) << c.output;
  EXPECT_NE(c.output.find("twice the binary3d cutoff"), std::string::npos) << c.output;
  fs::remove_all(dir);
}
