// Production "until-equilibrated": on a tiny hump2d scan with a fast (T = 2), a medium (T = 0.5)
// and a slow (T = 0.3) state point, judged every 1000 steps with a budget of 4000, production
// stops for each point at the first check it passes (the fast one at the first check, the
// medium one at the second), continues only for the points that have not passed, and ends at
// the budget with the slow point reported as not equilibrated; a run interrupted anywhere
// resumes exactly; production ends early when every point has passed; the keys' defaults and
// a checkpoint with inconsistent finished replicas. Bad key values: tests/data/broken.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/common/cli_util.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/io/checkpoint.hpp"
#include "vitrify/io/config.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using vitrify::test_util::read_file;
using vitrify::test_util::run_cli;

namespace {

std::string temp_dir(const std::string& name) {
  return vitrify::test_util::fresh_temp_dir("vitrify_adaptive", name);
}

// 600 steps before production (melt, cool, equilibrate), then production checked every 1000
// steps up to 4000; N = 64. tau_alpha_multiple 10 keeps the runs short: tau_alpha is about 0.2
// at T = 2, 0.7 at T = 0.5 and above 3 at T = 0.3 (production of 5, 10, ... 20 tau).
constexpr long kBefore = 600, kCheck = 1000, kBudget = 4000;

json scan(const std::string& dir, const json& temperatures) {
  return {{"model", "hump2d"},
          {"n_particles", 64},
          {"temperatures", temperatures},
          {"melt_steps", 200},
          {"cool_steps", 200},
          {"equilibration_steps", 200},
          {"production", "until-equilibrated"},
          {"production_steps", kCheck},
          {"production_max_steps", kBudget},
          {"tau_alpha_multiple", 10},
          {"sample_interval", 5},
          {"thermo_interval", 50},
          {"checkpoint_interval", 100000},  // checkpoints only where the tests stop a run
          {"threads", 1},
          {"analyze", false},
          {"seed", 3},
          {"output_dir", dir}};
}

void run_lib(const json& j, long stop_after = 0) {
  vitrify::ScanOptions opt;
  opt.progress = false;
  opt.stop_after_step = stop_after;
  vitrify::run_scan(vitrify::parse_config(j, "test"), opt);
}

json point(const json& m, double t) {
  for (const auto& s : m["state_points"])
    if (s["temperature"].get<double>() == t) return s;
  ADD_FAILURE() << "no state point at T = " << t;
  return json::object();
}

// The step of the last row of a thermo file.
long last_thermo_step(const std::string& path) {
  std::istringstream in(read_file(path));
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  const auto comma = last.find(',');
  return std::stol(last.substr(comma + 1, last.find(',', comma + 1) - comma - 1));
}

std::string thermo(const std::string& dir, int replica) {
  char name[32];
  std::snprintf(name, sizeof name, "/thermo/replica_%03d.csv", replica);
  return dir + name;
}

}  // namespace

TEST(AdaptiveProduction, ExtendsOnlyTheSlowPointsAndStopsAtTheBudget) {
  const std::string dir = temp_dir("three_points");
  const std::string config = dir + "/scan.json";
  fs::create_directories(dir);
  { std::ofstream(config) << scan(dir, {0.3, 0.5, 2.0}).dump(); }
  const auto cmd = run_cli("run -q " + config);
  ASSERT_EQ(cmd.code, 0) << cmd.output;
  const json m = json::parse(read_file(dir + "/measurements.json"));

  // Each point stopped at the first check it passed; the slow one spent the budget.
  const json fast = point(m, 2.0), medium = point(m, 0.5), slow = point(m, 0.3);
  EXPECT_EQ(fast["production"]["steps"], kCheck);
  EXPECT_EQ(medium["production"]["steps"], 2 * kCheck);
  EXPECT_EQ(slow["production"]["steps"], kBudget);
  for (const json* p : {&fast, &medium}) {
    EXPECT_TRUE((*p)["equilibrated"].get<bool>()) << (*p)["flags"].dump();
    EXPECT_EQ((*p)["production"]["stopped"], "equilibrated");
  }
  EXPECT_EQ(fast["run"]["production_steps"], kCheck);
  EXPECT_EQ(fast["run"]["samples"], kCheck / 5);
  EXPECT_EQ(medium["production"]["checks"], 2);
  EXPECT_FALSE(slow["equilibrated"].get<bool>());
  EXPECT_EQ(slow["production"]["stopped"], "budget");
  ASSERT_FALSE(slow["flags"].empty());
  EXPECT_NE(slow["flags"].back().get<std::string>().find(
                "production budget spent: production_max_steps = 4000 steps"),
            std::string::npos);
  const std::string summary = read_file(dir + "/summary.txt");
  EXPECT_NE(summary.find("production budget spent"), std::string::npos) << summary;
  EXPECT_NE(summary.find("4000 (budget)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("1000 (equilibrated)"), std::string::npos) << summary;

  // Production was extended only for the points still running: replica r has temperature
  // index r; each thermo file ends at its point's last check.
  EXPECT_EQ(last_thermo_step(thermo(dir, 2)), kBefore + kCheck);
  EXPECT_EQ(last_thermo_step(thermo(dir, 1)), kBefore + 2 * kCheck);
  EXPECT_EQ(last_thermo_step(thermo(dir, 0)), kBefore + kBudget);
  for (int r = 0; r < 3; ++r) {
    char name[32];
    std::snprintf(name, sizeof name, "/snapshots/replica_%03d.xyz", r);
    EXPECT_TRUE(fs::exists(dir + name)) << name;
  }

  // The log says at every check which points passed and which still run.
  const std::string log = read_file(dir + "/vitrify.log");
  EXPECT_NE(log.find("production check at 1000 steps (5.0e0 tau): passed: T = 2 ("),
            std::string::npos);
  EXPECT_NE(log.find("still running: T = 0.3 ("), std::string::npos);
  EXPECT_NE(log.find("production check at 2000 steps (1.0e1 tau): passed: T = 0.5 ("),
            std::string::npos);
  EXPECT_NE(log.find("production check at 4000 steps (2.0e1 tau): budget spent: T = 0.3 ("),
            std::string::npos);
  fs::remove_all(dir);
}

// Interrupted before the first check and at the first (the checkpoint follows the check), or at
// the second check and after it, and resumed each time: the outputs are those of the uninterrupted
// run, byte for byte.
TEST(AdaptiveProduction, ResumeIsExact) {
  const json temperatures = {0.3, 0.5, 2.0};
  const std::string ref = temp_dir("resume_ref");
  json r = scan(ref, temperatures);
  r["keep_checkpoints"] = true;
  run_lib(r);
  const vitrify::RunCheckpoint final_ref =
      vitrify::decode_checkpoint(read_file(ref + "/checkpoint.bin"), "checkpoint");
  EXPECT_EQ(final_ref.retired, (std::vector<int>{1, 2}));
  EXPECT_EQ(final_ref.replicas, (std::vector<int>{0}));
  EXPECT_EQ(final_ref.stage_done, kBudget);
  for (const std::vector<long>& plan :
       std::vector<std::vector<long>>{{1400, kBefore + kCheck}, {2600, 4200}}) {
    std::string name = "resume";
    for (long s : plan) name += "_" + std::to_string(s);
    const std::string dir = temp_dir(name);
    json j = scan(dir, temperatures);
    j["keep_checkpoints"] = true;
    for (long stop : plan) EXPECT_THROW(run_lib(j, stop), vitrify::ScanInterrupted) << name;
    run_lib(j);
    const auto files = vitrify::test_util::run_output_files(ref);
    ASSERT_EQ(files, vitrify::test_util::run_output_files(dir)) << name;
    for (const auto& f : files)
      EXPECT_TRUE(read_file(ref + "/" + f) == read_file(dir + "/" + f)) << name << ": " << f;
    fs::remove_all(dir);
  }
  fs::remove_all(ref);
}

// When every point has passed, production ends there (with the last batch), and the run is
// finished.
TEST(AdaptiveProduction, EndsWhenEveryPointHasPassed) {
  const std::string dir = temp_dir("all_pass");
  json j = scan(dir, {0.5, 2.0});
  j["keep_checkpoints"] = true;
  run_lib(j);
  const json m = json::parse(read_file(dir + "/measurements.json"));
  EXPECT_EQ(point(m, 2.0)["production"]["steps"], kCheck);
  EXPECT_EQ(point(m, 0.5)["production"]["steps"], 2 * kCheck);
  for (const auto& s : m["state_points"]) EXPECT_TRUE(s["equilibrated"].get<bool>());
  EXPECT_EQ(last_thermo_step(thermo(dir, 0)), kBefore + 2 * kCheck);
  const vitrify::RunCheckpoint k =
      vitrify::decode_checkpoint(read_file(dir + "/checkpoint.bin"), "checkpoint");
  EXPECT_TRUE(k.finished);
  EXPECT_EQ(k.step, kBefore + 2 * kCheck);
  EXPECT_EQ(k.retired, (std::vector<int>{1}));
  EXPECT_THROW(run_lib(j), vitrify::InputError);  // a finished run
  fs::remove_all(dir);
}

// Fixed production is the default, the budget defaults to 10 checks, and the resolved
// configuration records both.
TEST(AdaptiveProduction, FixedProductionIsTheDefault) {
  const vitrify::RunConfig c = vitrify::parse_config(
      json{{"model", "binary3d"}, {"temperatures", {1.0}}, {"production_steps", 500}}, "test");
  EXPECT_EQ(c.production, "fixed");
  EXPECT_EQ(c.max_production_steps(), 500);
  const json resolved = vitrify::to_json(c);
  EXPECT_EQ(resolved["production"], "fixed");
  EXPECT_EQ(resolved["production_max_steps"], 0);
  const vitrify::RunConfig a = vitrify::parse_config(json{{"model", "binary3d"},
                                                          {"temperatures", {1.0}},
                                                          {"production_steps", 500},
                                                          {"production", "until-equilibrated"}},
                                                     "test");
  EXPECT_EQ(a.production_max_steps, 5000);  // 10 checks by default
  // Both resolved configurations (NPT: those of NVT hold a barostat, which is refused) are accepted
  // as input and resolve to themselves.
  for (const vitrify::RunConfig* r : {&c, &a})
    EXPECT_EQ(vitrify::to_json(vitrify::parse_config(vitrify::to_json(*r), "resolved")),
              vitrify::to_json(*r));
}

// A checkpoint whose finished (retired) replicas overlap the batch is refused, naming the field.
TEST(AdaptiveProduction, InconsistentRetiredReplicasAreRefused) {
  const std::string dir = temp_dir("bad_retired");
  const json j = scan(dir, {0.3, 0.5, 2.0});
  EXPECT_THROW(run_lib(j, kBefore + 2 * kCheck), vitrify::ScanInterrupted);
  vitrify::RunCheckpoint k =
      vitrify::decode_checkpoint(read_file(dir + "/checkpoint.bin"), "checkpoint");
  ASSERT_EQ(k.retired, (std::vector<int>{1, 2}));
  ASSERT_EQ(k.replicas, (std::vector<int>{0}));
  k.retired = {0, 1, 2};
  vitrify::write_checkpoint(dir, k);
  fs::remove(vitrify::previous_checkpoint_path(dir));
  try {
    run_lib(j);
    ADD_FAILURE() << "resumed from an inconsistent checkpoint";
  } catch (const vitrify::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("\"retired\""), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}
