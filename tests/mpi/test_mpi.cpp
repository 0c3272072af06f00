// Multi-process runs through the MPI launcher (`mpirun -np K vitrify run`): the outputs of K
// processes are byte-identical to a single process's, also when a run is interrupted and
// resumed (with the same or another number of processes) and when a replica is dropped after a
// numerical failure; errors end every process with one exit code.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/common/cli_util.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using vitrify::test_util::Cmd;
using vitrify::test_util::read_file;

namespace {

// OpenMPI in a container: more processes than cores, possibly as root. In a sanitizer build,
// LeakSanitizer would report OpenMPI's own allocations at MPI_Init as leaks of every process,
// so leak detection (only) is off for the processes started here.
void allow_mpirun_here() {
  static const bool done = [] {
    setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    const char* asan = std::getenv("ASAN_OPTIONS");
    const std::string options = asan && *asan ? std::string(asan) + ":" : std::string();
    setenv("ASAN_OPTIONS", (options + "detect_leaks=0").c_str(), 1);
    return true;
  }();
  (void)done;
}

// A work directory holding config.json; runs write into its subdirectory "run", so that
// config.resolved.json (which names the output directory) is comparable between directories.
std::string work_dir(const std::string& name, const json& config) {
  const std::string dir = vitrify::test_util::fresh_temp_dir("vitrify_mpi", name);
  fs::create_directories(dir);
  std::ofstream(dir + "/config.json") << config.dump(1);
  return dir;
}

// `vitrify run` in `dir` with `processes` processes (1: without the launcher).
Cmd run_in(const std::string& dir, int processes, const std::string& extra = "") {
  allow_mpirun_here();
  const std::string launcher =
      processes > 1 ? std::string(VITRIFY_MPIEXEC) + " -np " + std::to_string(processes) + " "
                    : std::string();
  return vitrify::test_util::run_shell("cd " + dir + " && " + launcher + VITRIFY_BINARY +
                                       " run -q --threads 1 config.json -o run " + extra);
}

// Every file of a run directory except the log, relative to it.
std::vector<std::string> run_files(const std::string& run) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(run))
    if (e.is_regular_file() && e.path().filename() != "vitrify.log")
      files.push_back(fs::relative(e.path(), run).string());
  std::sort(files.begin(), files.end());
  return files;
}

void expect_same_run(const std::string& a, const std::string& b, const std::string& what) {
  const auto fa = run_files(a + "/run"), fb = run_files(b + "/run");
  ASSERT_EQ(fa, fb) << what;
  ASSERT_GE(fa.size(), 10u) << what;
  for (const auto& f : fa)
    EXPECT_TRUE(read_file(a + "/run/" + f) == read_file(b + "/run/" + f))
        << what << ": " << f << " differs";
}

// 1200 steps of N = 256, checkpoints every 300 steps.
json small_scan(const std::string& model) {
  json j = {{"model", model},
            {"n_particles", 256},
            {"melt_steps", 200},
            {"cool_steps", 200},
            {"equilibration_steps", 200},
            {"production_steps", 600},
            {"sample_interval", 2},
            {"thermo_interval", 50},
            {"checkpoint_interval", 300},
            {"melt_temperature", 4.0},
            {"seed", 7}};
  if (model == "binary3d") {
    j["temperatures"] = {1.0, 2.0};  // 2 copies each: pooled state points
    j["copies_per_temperature"] = 2;
    j["species"] = "auto";
  } else {
    j["temperatures"] = {0.6, 1.0, 2.0};  // 3 replicas over 2 processes: blocks of 1 and 2
  }
  return j;
}

}  // namespace

TEST(Mpi, TwoProcessesWriteTheOutputsOfOne) {
  for (const std::string model : {"hump2d", "binary3d"}) {
    const json config = small_scan(model);
    const std::string one = work_dir(model + "_1", config), two = work_dir(model + "_2", config);
    const Cmd a = run_in(one, 1);
    ASSERT_EQ(a.code, 0) << a.output;
    const Cmd b = run_in(two, 2);
    ASSERT_EQ(b.code, 0) << b.output;
    EXPECT_NE(b.output.find("2 processes"), std::string::npos) << b.output;
    EXPECT_NE(b.output.find("process 1 on"), std::string::npos) << b.output;
    expect_same_run(one, two, model);
    fs::remove_all(one);
    fs::remove_all(two);
  }
}

// Under CSVR (and c-rescale) each replica's random numbers are keyed by its scan-wide index, so
// a replica draws the same numbers as the second of a process's batch as in a single batch:
// the outputs of two processes are again those of one.
TEST(Mpi, StochasticComponentsGiveTheOutputsOfOneProcess) {
  json config = small_scan("hump2d");  // replicas 1 and 2 run on process 1
  config["thermostat"] = "csvr";
  const std::string one = work_dir("csvr_1", config), two = work_dir("csvr_2", config);
  const Cmd a = run_in(one, 1);
  ASSERT_EQ(a.code, 0) << a.output;
  const Cmd b = run_in(two, 2);
  ASSERT_EQ(b.code, 0) << b.output;
  expect_same_run(one, two, "hump2d csvr");
  fs::remove_all(one);
  fs::remove_all(two);
}

// Stopped twice with two processes (equilibration, production) and finished with one; stopped
// with one and finished with two: the checkpoint is one file whatever the number of processes.
TEST(Mpi, InterruptedRunsResumeExactlyWithAnyNumberOfProcesses) {
  const json config = small_scan("hump2d");
  const std::string ref = work_dir("resume_ref", config);
  Cmd r = run_in(ref, 1);
  ASSERT_EQ(r.code, 0) << r.output;

  const std::string a = work_dir("resume_2_2_1", config);
  r = run_in(a, 2, "--stop-after-step 450");
  ASSERT_EQ(r.code, 4) << r.output;
  EXPECT_NE(r.output.find("stopped by the step limit at step 450"), std::string::npos) << r.output;
  r = run_in(a, 2, "--stop-after-step 1000");
  ASSERT_EQ(r.code, 4) << r.output;
  EXPECT_NE(r.output.find("resuming from run/checkpoint.bin at step 450"), std::string::npos)
      << r.output;
  r = run_in(a, 1);
  ASSERT_EQ(r.code, 0) << r.output;
  expect_same_run(ref, a, "2, 2, then 1 process");

  const std::string b = work_dir("resume_1_2", config);
  r = run_in(b, 1, "--stop-after-step 700");
  ASSERT_EQ(r.code, 4) << r.output;
  r = run_in(b, 2);
  ASSERT_EQ(r.code, 0) << r.output;
  expect_same_run(ref, b, "1 then 2 processes");
  for (const auto& d : {ref, a, b}) fs::remove_all(d);
}

// The failing replica lives on process 0 (which is left without replicas) or on process 1:
// every file equals the single-process run with the same failure.
TEST(Mpi, DroppedReplicaGivesTheOutputsOfOneProcess) {
  json config = small_scan("hump2d");
  config["on_failure"] = "drop";
  for (int replica : {0, 2}) {
    const std::string inject = "--inject-nan " + std::to_string(replica) + " 620";
    const std::string one = work_dir("drop1_" + std::to_string(replica), config);
    const std::string two = work_dir("drop2_" + std::to_string(replica), config);
    const Cmd a = run_in(one, 1, inject);
    ASSERT_EQ(a.code, 0) << a.output;
    const Cmd b = run_in(two, 2, inject);
    ASSERT_EQ(b.code, 0) << b.output;
    const std::string expected = "replica " + std::to_string(replica);
    EXPECT_NE(b.output.find(expected), std::string::npos) << b.output;
    EXPECT_NE(b.output.find("dropped (on_failure \"drop\")"), std::string::npos) << b.output;
    const json m = json::parse(read_file(two + "/run/measurements.json"));
    ASSERT_EQ(m["dropped_replicas"].size(), 1u);
    EXPECT_EQ(m["dropped_replicas"][0]["replica"], replica);
    EXPECT_EQ(m["state_points"].size(), 2u);
    expect_same_run(one, two, "replica " + std::to_string(replica) + " dropped");
    fs::remove_all(one);
    fs::remove_all(two);
  }
}

TEST(Mpi, FailuresEndEveryProcessWithOneExitCode) {
  // on_failure "stop": code 3, the replica named once, the last good checkpoint kept.
  const std::string dir = work_dir("stop", small_scan("hump2d"));
  const Cmd r = run_in(dir, 2, "--inject-nan 2 620");
  EXPECT_EQ(r.code, 3) << r.output;
  const std::string message = "replica 2 (T = 2.000000) became non-finite during production";
  const auto at = r.output.find(message);
  ASSERT_NE(at, std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(message, at + 1), std::string::npos) << "reported twice: " << r.output;
  EXPECT_NE(r.output.find("the last good checkpoint (step 600)"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir + "/run/checkpoint.bin"));
  EXPECT_FALSE(fs::exists(dir + "/run/measurements.json"));

  // More processes than replicas: refused, code 2.
  json one = small_scan("hump2d");
  one["temperatures"] = {1.0};
  const std::string small = work_dir("too_many", one);
  const Cmd t = run_in(small, 2);
  EXPECT_EQ(t.code, 2) << t.output;
  EXPECT_NE(t.output.find("2 processes for 1 replicas"), std::string::npos) << t.output;
  fs::remove_all(dir);
  fs::remove_all(small);
}

// Production "until-equilibrated" empties the processes' batches unevenly: refused with several
// processes, code 2, before anything is written.
TEST(Mpi, AdaptiveProductionIsRefused) {
  json j = small_scan("hump2d");
  j["production"] = "until-equilibrated";
  const std::string dir = work_dir("adaptive", j);
  const Cmd r = run_in(dir, 2);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("\"production\": \"until-equilibrated\" runs in one process"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(dir + "/run/measurements.json"));
  fs::remove_all(dir);
}
