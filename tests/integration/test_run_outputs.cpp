// What `vitrify run` leaves in its output directory: --force removes the files of an earlier
// run and nothing else; chains of --run-steps / --run-seconds commands finish a scan as one
// run does; provenance records; checkpoints removed at the end unless keep_checkpoints; jobs
// that do not fit in memory refused by validate and run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/common/cli_util.hpp"
#include "vitrify/io/config.hpp"
#include "vitrify/io/run_files.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using vitrify::test_util::Cmd;
using vitrify::test_util::read_file;
using vitrify::test_util::run_cli;

std::string temp_dir(const std::string& name) {
  const std::string dir = vitrify::test_util::fresh_temp_dir("vitrify_outputs", name);
  fs::create_directories(dir);
  return dir;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// 1000 steps of 3 replicas of N = 256 (about a second), checkpoints every 100 steps.
json tiny_config() {
  return {{"model", "hump2d"},
          {"n_particles", 256},
          {"melt_steps", 200},
          {"cool_steps", 200},
          {"equilibration_steps", 200},
          {"production_steps", 400},
          {"sample_interval", 2},
          {"thermo_interval", 50},
          {"checkpoint_interval", 100},
          {"seed", 11},
          {"threads", 1},
          {"analyze", false},
          {"temperatures", {1.0, 2.0, 3.0}}};
}

std::string write_config(const std::string& dir, const json& j,
                         const std::string& name = "config.json") {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << j.dump(1);
  return path;
}

void write_file(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

// The outputs that must not depend on how the run was cut into pieces.
void expect_same_outputs(const std::string& a, const std::string& b) {
  std::vector<std::string> files = {"measurements.json", "measurements_summary.csv",
                                    "measurements_isf.csv", "measurements_concentrations.csv",
                                    "measurements_species_energy.csv"};
  for (int r = 0; r < 3; ++r)
    for (const std::string& f : {"thermo/replica_00" + std::to_string(r) + ".csv",
                                 "snapshots/replica_00" + std::to_string(r) + ".xyz"})
      files.push_back(f);
  for (const auto& f : files) {
    ASSERT_TRUE(fs::exists(a + "/" + f)) << f;
    EXPECT_TRUE(read_file(a + "/" + f) == read_file(b + "/" + f)) << f << " differs";
  }
}

}  // namespace

// A directory holding the outputs of a bigger run (a fourth replica, an analysis, a report,
// checkpoints) and files of the user: --force leaves only the new run's files and the user's.
TEST(RunOutputs, ForceRemovesTheFilesOfAnEarlierRunAndNothingElse) {
  const std::string dir = temp_dir("force");
  const std::string config = write_config(dir, tiny_config(), "tiny.json");
  const std::vector<std::string> stale = {"snapshots/replica_003.xyz",
                                          "thermo/replica_003.csv",
                                          "analysis.json",
                                          "analysis_grid.csv",
                                          "analysis_species.csv",
                                          "checkpoint.bin",
                                          "checkpoint.prev.bin",
                                          "checkpoint.bin.tmp",
                                          "report/report.md",
                                          "report/isf.png",
                                          "measurements.json.tmp",
                                          "measurements_isf.csv"};
  for (const auto& f : stale) write_file(dir + "/" + f, "stale\n");
  write_file(dir + "/vitrify.log", "OLD LOG\n");
  const std::vector<std::string> foreign = {"notes.txt", "snapshots/picked.xyz", "report/mine.md",
                                            "thermo/replica_003.csv.bak"};
  for (const auto& f : foreign) write_file(dir + "/" + f, "mine\n");

  const Cmd c = run_cli("run -q --force " + config + " -o " + dir);
  ASSERT_EQ(c.code, 0) << c.output;
  EXPECT_TRUE(contains(c.output, "--force: removed")) << c.output;
  for (const auto& f :
       {"snapshots/replica_003.xyz", "thermo/replica_003.csv", "analysis.json", "analysis_grid.csv",
        "analysis_species.csv", "checkpoint.bin", "checkpoint.prev.bin", "checkpoint.bin.tmp",
        "report/report.md", "report/isf.png", "measurements.json.tmp"})
    EXPECT_FALSE(fs::exists(dir + "/" + f)) << f << " stayed";
  for (const auto& f : foreign) EXPECT_EQ(read_file(dir + "/" + f), "mine\n") << f;
  EXPECT_FALSE(contains(read_file(dir + "/vitrify.log"), "OLD LOG"));
  EXPECT_NE(read_file(dir + "/measurements_isf.csv"), "stale\n");
  EXPECT_TRUE(fs::exists(dir + "/snapshots/replica_002.xyz"));
  // Every file the run wrote is one that --force knows.
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), dir).string();
    if (rel == "tiny.json" || std::find(foreign.begin(), foreign.end(), rel) != foreign.end())
      continue;
    EXPECT_TRUE(vitrify::is_run_output(rel)) << rel;
  }
  EXPECT_FALSE(vitrify::is_run_output("snapshots/replica_003.xyz.bak"));
  EXPECT_FALSE(vitrify::is_run_output("notes.txt"));
  fs::remove_all(dir);
}

// Identical --run-steps commands (the legs of a job chain) finish the scan with the outputs of
// one uninterrupted run; the leg that reaches the end exits 0, the others 4; a further one is
// refused as a finished run. --run-seconds stops at a block boundary in the same way.
TEST(RunOutputs, ChainsOfRelativeStopsFinishTheScanLikeOneRun) {
  const std::string dir = temp_dir("chain");
  const std::string config = write_config(dir, tiny_config());
  Cmd c = run_cli("run -q " + config + " -o " + dir + "/ref");
  ASSERT_EQ(c.code, 0) << c.output;

  std::vector<int> codes;
  for (int leg = 0; leg < 6 && (codes.empty() || codes.back() == 4); ++leg) {
    c = run_cli("run -q " + config + " -o " + dir + "/chain --run-steps 350");
    codes.push_back(c.code);
    if (leg == 1) EXPECT_TRUE(contains(c.output, "resuming")) << c.output;
  }
  // 350, 700 (stopped), then 1000: the end of the scan.
  EXPECT_EQ(codes, (std::vector<int>{4, 4, 0})) << c.output;
  expect_same_outputs(dir + "/ref", dir + "/chain");
  c = run_cli("run -q " + config + " -o " + dir + "/chain --run-steps 350");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, "finished run")) << c.output;

  // A wall-time limit shorter than one block: every leg advances one block (50 steps) and stops.
  c = run_cli("run -q " + config + " -o " + dir + "/timed --run-seconds 0.001");
  EXPECT_EQ(c.code, 4) << c.output;
  EXPECT_TRUE(contains(c.output, "stopped by the wall-time limit at step 50")) << c.output;
  c = run_cli("run -q " + config + " -o " + dir + "/timed --run-steps 900 --stop-after-step 600");
  EXPECT_EQ(c.code, 4) << c.output;
  EXPECT_TRUE(contains(c.output, "at step 600")) << c.output;
  c = run_cli("run -q " + config + " -o " + dir + "/timed --run-seconds 3600");
  EXPECT_EQ(c.code, 0) << c.output;
  expect_same_outputs(dir + "/ref", dir + "/timed");

  c = run_cli("run -q " + config + " -o " + dir + "/bad --run-steps 0");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, "--run-steps must be >= 1")) << c.output;
  fs::remove_all(dir);
}

// measurements.json and analysis.json say what made them.
TEST(RunOutputs, ProvenanceIsRecorded) {
  const std::string dir = temp_dir("provenance");
  const std::string config = write_config(dir, tiny_config());
  Cmd c = run_cli("run -q " + config + " -o " + dir + "/run");
  ASSERT_EQ(c.code, 0) << c.output;
  const json m = json::parse(read_file(dir + "/run/measurements.json"));
  ASSERT_TRUE(m.contains("provenance")) << m.dump();
  const json& p = m["provenance"];
  for (const char* key : {"vitrify_version", "git_commit", "backend", "device"}) {
    ASSERT_TRUE(p.contains(key) && p[key].is_string()) << key << ": " << p.dump();
    EXPECT_FALSE(p[key].get<std::string>().empty()) << key;
  }
  EXPECT_EQ(p["backend"], "cpu");
  EXPECT_EQ(p["device"], "cpu, 1 thread");
  EXPECT_EQ(p["seed"], 11);
  EXPECT_EQ(p["threads"], 1);

  // analysis.json: this program's version and revision, the run's backend, device, seed and
  // threads (a measurements file with enough state points, given the provenance above).
  json doc =
      json::parse(read_file(std::string(VITRIFY_TEST_DATA) + "/analysis_measurements_hump2d.json"));
  doc["provenance"] = p;
  write_file(dir + "/analyze/measurements.json", doc.dump());
  c = run_cli("analyze " + dir + "/analyze/measurements.json");
  ASSERT_EQ(c.code, 0) << c.output;
  const json a = json::parse(read_file(dir + "/analyze/analysis.json"));
  ASSERT_TRUE(a.contains("provenance"));
  for (const char* key : {"vitrify_version", "git_commit", "measurements_vitrify_version",
                          "measurements_git_commit", "backend", "device"}) {
    ASSERT_TRUE(a["provenance"].contains(key) && a["provenance"][key].is_string()) << key;
    EXPECT_FALSE(a["provenance"][key].get<std::string>().empty()) << key;
  }
  EXPECT_EQ(a["provenance"]["seed"], 11);
  EXPECT_EQ(a["provenance"]["threads"], 1);
  fs::remove_all(dir);
}

// Checkpoints go when the scan has finished, unless keep_checkpoints; either way the finished
// directory is not run again without --force.
TEST(RunOutputs, FinishedScansRemoveTheirCheckpointsUnlessKept) {
  const std::string dir = temp_dir("keep");
  json j = tiny_config();
  const std::string plain = write_config(dir, j, "plain.json");
  j["keep_checkpoints"] = true;
  const std::string keep = write_config(dir, j, "keep.json");

  Cmd c = run_cli("run -q " + plain + " -o " + dir + "/plain");
  ASSERT_EQ(c.code, 0) << c.output;
  EXPECT_FALSE(fs::exists(dir + "/plain/checkpoint.bin"));
  EXPECT_FALSE(fs::exists(dir + "/plain/checkpoint.prev.bin"));
  const auto stamp = fs::last_write_time(dir + "/plain/measurements.json");
  c = run_cli("run -q " + plain + " -o " + dir + "/plain");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, "holds a finished run")) << c.output;
  EXPECT_TRUE(contains(c.output, "--force")) << c.output;
  EXPECT_EQ(fs::last_write_time(dir + "/plain/measurements.json"), stamp);

  c = run_cli("run -q " + keep + " -o " + dir + "/keep");
  ASSERT_EQ(c.code, 0) << c.output;
  EXPECT_TRUE(fs::exists(dir + "/keep/checkpoint.bin"));
  c = run_cli("run -q " + keep + " -o " + dir + "/keep");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, "is marked finished")) << c.output;
  // keep_checkpoints may change on resume: a run stopped with it resumes without it.
  c = run_cli("run -q " + keep + " -o " + dir + "/switch --stop-after-step 500");
  EXPECT_EQ(c.code, 4) << c.output;
  c = run_cli("run -q " + plain + " -o " + dir + "/switch");
  EXPECT_EQ(c.code, 0) << c.output;
  EXPECT_FALSE(fs::exists(dir + "/switch/checkpoint.bin"));
  c = run_cli("run -q --force " + plain + " -o " + dir + "/keep");
  EXPECT_EQ(c.code, 0) << c.output;
  EXPECT_FALSE(fs::exists(dir + "/keep/checkpoint.bin"));
  fs::remove_all(dir);
}

// 100 replicas of 5e7 particles need terabytes: validate and run refuse them (exit 2, naming
// the memory needed and available) at once, before allocating or creating anything.
TEST(RunOutputs, JobsThatDoNotFitInMemoryAreRefused) {
  const std::string dir = temp_dir("memory");
  json j = tiny_config();
  j["n_particles"] = 50000000;
  j["temperatures"] = json::array();
  for (int r = 0; r < 100; ++r) j["temperatures"].push_back(1.0 + 0.01 * r);
  const std::string huge = write_config(dir, j, "huge.json");
  Cmd c = run_cli("validate " + huge);
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, "estimated host memory")) << c.output;
  EXPECT_TRUE(contains(c.output, "of host memory, but")) << c.output;
  EXPECT_TRUE(contains(c.output, "is available")) << c.output;
  c = run_cli("run " + huge + " -o " + dir + "/out");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, "TiB of host memory")) << c.output;
  EXPECT_FALSE(fs::exists(dir + "/out"));
  // A small job: the estimate is printed and the job accepted.
  c = run_cli("validate " + write_config(dir, tiny_config()));
  EXPECT_EQ(c.code, 0) << c.output;
  EXPECT_TRUE(contains(c.output, "estimated host memory")) << c.output;
  fs::remove_all(dir);
}
