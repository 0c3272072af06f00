// Numerical failures of one replica (ScanOptions::inject_nan_replica makes its velocities NaN):
// on_failure "stop" ends the run naming the replica and keeps the last good checkpoint;
// "drop" removes the replica and leaves every other one exactly as in a run without it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/common/cli_util.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/io/config.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using vitrify::test_util::read_file;

namespace {

std::string temp_dir(const std::string& name) {
  return vitrify::test_util::fresh_temp_dir("vitrify_failure", name);
}

// 1200 steps of N = 256; the melting temperature is fixed, so that removing a temperature
// from the list changes nothing else.
json scan(const std::string& dir, const json& temperatures) {
  return {{"model", "hump2d"},
          {"n_particles", 256},
          {"temperatures", temperatures},
          {"melt_temperature", 4.0},
          {"melt_steps", 200},
          {"cool_steps", 200},
          {"equilibration_steps", 200},
          {"production_steps", 600},
          {"sample_interval", 2},
          {"thermo_interval", 50},
          {"checkpoint_interval", 300},
          {"analyze", false},
          {"seed", 5},
          {"output_dir", dir}};
}

void run(const json& j, int nan_replica = -1, long nan_step = 0, long stop_after = 0) {
  vitrify::ScanOptions opt;
  opt.progress = false;
  opt.inject_nan_replica = nan_replica;
  opt.inject_nan_step = nan_step;
  opt.stop_after_step = stop_after;
  vitrify::run_scan(vitrify::parse_config(j, "test"), opt);
}

json measurements(const std::string& dir) {
  return json::parse(read_file(dir + "/measurements.json"));
}

const std::vector<std::string> kTables = {"measurements_summary.csv",
                                          "measurements_concentrations.csv", "measurements_isf.csv",
                                          "measurements_species_energy.csv"};

}  // namespace

TEST(Failure, StopNamesTheReplicaAndKeepsTheLastGoodCheckpoint) {
  const std::string dir = temp_dir("stop");
  try {
    run(scan(dir, {0.6, 1.0}), 1, 420);  // poisoned at step 450, detected at 500
    FAIL() << "the failure went unnoticed";
  } catch (const vitrify::SimulationError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("replica 1 (T = 1.000000) became non-finite during equilibrate at step 500"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("the last good checkpoint (step 300)"), std::string::npos) << msg;
  }
  EXPECT_TRUE(fs::exists(dir + "/checkpoint.bin"));
  EXPECT_FALSE(fs::exists(dir + "/measurements.json"));
  fs::remove_all(dir);
}

// The failing replica is the last one, so the others keep their indices (and seeds): their
// thermo files, snapshots and measurements equal those of a run of only their temperatures.
TEST(Failure, DroppedReplicaLeavesTheOthersAsWithoutIt) {
  const std::string ref = temp_dir("drop_ref"), dir = temp_dir("drop");
  run(scan(ref, {0.6, 1.0}));
  json j = scan(dir, {0.6, 1.0, 2.0});
  j["on_failure"] = "drop";
  // Poisoned at the block boundary of step 350, non-finite from step 351: detected at the
  // thermo row of step 400 (the end of the cool stage).
  run(j, 2, 320);

  json m = measurements(dir), expected = measurements(ref);
  ASSERT_EQ(m["dropped_replicas"].size(), 1u);
  const json& d = m["dropped_replicas"][0];
  EXPECT_EQ(d["replica"], 2);
  EXPECT_EQ(d["temperature"], 2.0);
  EXPECT_EQ(d["stage"], "cool");
  EXPECT_EQ(d["step"], 400);
  EXPECT_EQ(expected["dropped_replicas"], json::array());
  m.erase("dropped_replicas");
  expected.erase("dropped_replicas");
  EXPECT_EQ(m, expected);
  for (const auto& f : kTables)
    EXPECT_TRUE(read_file(dir + "/" + f) == read_file(ref + "/" + f)) << f;
  for (const char* f : {"thermo/replica_000.csv", "thermo/replica_001.csv",
                        "snapshots/replica_000.xyz", "snapshots/replica_001.xyz"})
    EXPECT_TRUE(read_file(dir + "/" + f) == read_file(ref + "/" + f)) << f;
  // The dropped replica's thermo file ends with its last finite row; it has no snapshot.
  const std::string thermo = read_file(dir + "/thermo/replica_002.csv");
  EXPECT_NE(thermo.find("\ncool,350,"), std::string::npos);
  EXPECT_EQ(thermo.find("\ncool,400,"), std::string::npos);
  EXPECT_EQ(thermo.find("nan"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir + "/snapshots/replica_002.xyz"));

  // Stopped after the drop and resumed: the checkpoint carries the dropped replica.
  const std::string resumed = temp_dir("drop_resumed");
  j["output_dir"] = resumed;
  EXPECT_THROW(run(j, 2, 320, 1000), vitrify::ScanInterrupted);
  run(j);
  for (const auto& f : kTables)
    EXPECT_TRUE(read_file(dir + "/" + f) == read_file(resumed + "/" + f)) << "resumed: " << f;
  EXPECT_EQ(measurements(resumed), measurements(dir));
  for (const auto& p : {ref, dir, resumed}) fs::remove_all(p);
}

// Under CSVR each replica draws its random numbers by its scan-wide index: when the first
// replica is dropped, the others (now first and second in the batch) continue exactly as in a
// run where nothing failed.
TEST(Failure, DroppedReplicaLeavesStochasticReplicasAsWithoutTheFailure) {
  const std::string ref = temp_dir("csvr_ref"), dir = temp_dir("csvr_drop");
  json j = scan(ref, {0.6, 1.0, 2.0});
  j["thermostat"] = "csvr";
  run(j);
  j["output_dir"] = dir;
  j["on_failure"] = "drop";
  run(j, 0, 320);
  EXPECT_EQ(measurements(dir)["dropped_replicas"].size(), 1u);
  for (const char* f : {"thermo/replica_001.csv", "thermo/replica_002.csv",
                        "snapshots/replica_001.xyz", "snapshots/replica_002.xyz"})
    EXPECT_TRUE(read_file(dir + "/" + f) == read_file(ref + "/" + f)) << f;
  EXPECT_FALSE(read_file(dir + "/thermo/replica_000.csv") ==
               read_file(ref + "/thermo/replica_000.csv"));
  for (const auto& p : {ref, dir}) fs::remove_all(p);
}

// A temperature keeps a state point while one of its copies is left, and loses it with the
// last; when every replica has failed the run stops (SimulationError, exit code 3).
TEST(Failure, DroppedCopiesAndEveryReplicaFailing) {
  const std::string dir = temp_dir("copies");
  json j = scan(dir, {0.6, 1.0});
  j["copies_per_temperature"] = 2;
  j["on_failure"] = "drop";
  run(j, 1, 700);  // temperature 0.6, copy 1, during production
  const json m = measurements(dir);
  ASSERT_EQ(m["state_points"].size(), 2u);
  EXPECT_EQ(m["state_points"][0]["replicas"], 1);
  EXPECT_EQ(m["state_points"][1]["replicas"], 2);
  EXPECT_EQ(m["dropped_replicas"][0]["stage"], "production");

  const std::string lone = temp_dir("lone");
  json k = scan(lone, {1.0});
  k["on_failure"] = "drop";
  try {
    run(k, 0, 100);
    FAIL() << "a run without replicas went on";
  } catch (const vitrify::SimulationError& e) {
    EXPECT_NE(std::string(e.what()).find("every replica has failed"), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
  fs::remove_all(lone);
}

namespace {

// binary3d at T = 0.5, 1, 3 (N = 256, 800 steps): the blow-up case.
json blow_up_case(const std::string& dir, double dt) {
  return {{"model", "binary3d"},
          {"n_particles", 256},
          {"temperatures", {0.5, 1.0, 3.0}},
          {"dt", dt},
          {"melt_steps", 200},
          {"cool_steps", 200},
          {"equilibration_steps", 200},
          {"production_steps", 200},
          {"thermo_interval", 50},
          {"checkpoint_interval", 0},
          {"checkpoint_wall_seconds", 0},
          {"analyze", false},
          {"output_dir", dir}};
}

vitrify::test_util::Cmd run_cli_config(const std::string& dir, const json& j) {
  fs::create_directories(dir);
  const std::string path = dir + "/config.json";
  std::ofstream(path) << j.dump(1);
  return vitrify::test_util::run_cli("run " + path + " -q --threads 1");
}

}  // namespace

// dt = 0.02 blew the binary3d scan up (T ~ 1e8-1e11 after the melt at T = 6, the density
// collapsing by ten orders of magnitude) and the run ended with exit code 0. It is now refused
// before anything runs, with the model's stable-step bound and its reason (exit code 2).
TEST(Failure, TimeStepAboveTheModelBoundIsRefused) {
  const std::string dir = temp_dir("dt_bound");
  const auto r = run_cli_config(dir, blow_up_case(dir + "/out", 0.02));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("key \"dt\": is too large for binary3d (at most 0.01): velocity "
                          "Verlet needs omega dt < 2"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(dir + "/out/thermo"));
  fs::remove_all(dir);
}

// A blow-up at an accepted step: dt = 0.01 with a melt at T = 20 (dt = 0.01 is stable up to
// T ~ 10) heats the replicas to T ~ 1e5-1e11 and expands the boxes a thousandfold. The observables
// stay finite, so only the physical checks see it: exit code 3, naming the replica, its
// temperature, the step and the quantity out of range with its allowed range; with
// on_failure "drop" every replica is dropped, which stops the run as well.
TEST(Failure, BlowUpAtAnAcceptedStepExitsWithCode3) {
  const std::string dir = temp_dir("blow_up");
  json j = blow_up_case(dir + "/out", 0.01);
  j["melt_temperature"] = 20.0;
  auto r = run_cli_config(dir, j);
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("replica 0 (T = 0.500000) became unphysical during cool at step 250: "),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("out of range (allowed "), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/out/measurements.json"));

  j["on_failure"] = "drop";
  j["output_dir"] = dir + "/drop";
  r = run_cli_config(dir, j);
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("every replica has failed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dropped (on_failure \"drop\")"), std::string::npos) << r.output;
  fs::remove_all(dir);
}
