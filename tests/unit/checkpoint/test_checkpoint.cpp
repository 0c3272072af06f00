// Checkpoints and resume: a scan stopped after a checkpoint (step limit, SIGTERM, SIGKILL at
// random moments) and resumed gives byte-identical outputs to an uninterrupted run; corrupt
// checkpoints fall back to the previous one; a changed configuration or a finished run is
// refused.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "tests/common/cli_util.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/io/checkpoint.hpp"
#include "vitrify/io/config.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using vitrify::test_util::Cmd;
using vitrify::test_util::read_file;
using vitrify::test_util::run_cli;
using vitrify::test_util::run_output_files;
std::string temp_dir(const std::string& name) {
  const std::string dir = vitrify::test_util::fresh_temp_dir("vitrify_ckpt", name);
  fs::create_directories(dir);
  return dir;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

// A short scan: 1500 steps, checkpoints every 200 steps.
json short_scan(const std::string& model, const std::string& dir) {
  json j = {{"model", model},       {"n_particles", 256},         {"melt_steps", 300},
            {"cool_steps", 300},    {"equilibration_steps", 300}, {"production_steps", 600},
            {"sample_interval", 5}, {"thermo_interval", 50},      {"checkpoint_interval", 200},
            {"seed", 11},           {"analyze", false},           {"output_dir", dir}};
  j["temperatures"] = model == "binary3d" ? json{1.0, 2.0} : json{0.8, 1.5};
  return j;
}

void run_lib(const json& j, long stop_after = 0, bool force = false) {
  vitrify::ScanOptions opt;
  opt.progress = false;
  opt.stop_after_step = stop_after;
  opt.force = force;
  vitrify::run_scan(vitrify::parse_config(j, "test"), opt);
}

void expect_same_outputs(const std::string& a, const std::string& b, const std::string& what) {
  const auto fa = run_output_files(a), fb = run_output_files(b);
  ASSERT_EQ(fa, fb) << what;
  ASSERT_GE(fa.size(), 9u);
  for (const auto& f : fa)
    EXPECT_TRUE(read_file(a + "/" + f) == read_file(b + "/" + f))
        << what << ": " << f << " differs";
}

// Starts `vitrify run -q CONFIG` as a child process (output to DIR/child.log).
pid_t spawn_run(const std::string& config, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "a", stderr);
    (void)f;
    execl(VITRIFY_BINARY, VITRIFY_BINARY, "run", "-q", config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

int wait_code(pid_t pid, int* signal_out = nullptr) {
  int status = 0;
  waitpid(pid, &status, 0);
  if (signal_out) *signal_out = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST(Checkpoint, FormatRoundTripsAndDetectsDamage) {
  vitrify::RunCheckpoint c;
  c.config = {{"model", "hump2d"}};
  c.stage = 2;
  c.stage_done = 150;
  c.step = 750;
  c.thermo_bytes = {10, 20};
  c.sampler = {{"a", 0.1}};
  c.engine.state.resize(2, 3, 2);
  c.engine.state.x = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
  c.engine.arrays["observables"] = vitrify::SavedArray::of(std::vector<double>{1.0 / 3.0, 2.0});
  c.engine.arrays["thermostat_state"] = vitrify::SavedArray::of(std::vector<double>{0.25, -1.0});
  c.engine.max_neighbors = 40;
  const std::string bytes = vitrify::encode_checkpoint(c);
  const vitrify::RunCheckpoint d = vitrify::decode_checkpoint(bytes, "mem");
  EXPECT_EQ(d.config, c.config);
  EXPECT_EQ(d.stage, 2);
  EXPECT_EQ(d.stage_done, 150);
  EXPECT_EQ(d.step, 750);
  EXPECT_EQ(d.thermo_bytes, c.thermo_bytes);
  EXPECT_EQ(d.sampler, c.sampler);
  EXPECT_EQ(d.engine.state.x, c.engine.state.x);
  ASSERT_EQ(d.engine.arrays.size(), 2u);
  EXPECT_EQ(d.engine.arrays.at("observables").as<double>(),
            c.engine.arrays.at("observables").as<double>());
  EXPECT_EQ(d.engine.arrays.at("thermostat_state").as<double>(), (std::vector<double>{0.25, -1.0}));
  EXPECT_EQ(d.engine.max_neighbors, 40);
  // Every single-byte change and every truncation is refused.
  for (std::size_t at : {std::size_t(0), std::size_t(9), std::size_t(20), std::size_t(40),
                         bytes.size() / 2, bytes.size() - 1}) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    EXPECT_THROW(vitrify::decode_checkpoint(bad, "mem"), vitrify::InputError) << at;
  }
  for (std::size_t len : {std::size_t(0), std::size_t(20), bytes.size() - 1})
    EXPECT_THROW(vitrify::decode_checkpoint(bytes.substr(0, len), "mem"), vitrify::InputError);
}

// Stopped at several points (every stage, inside and at the end of stages, once twice in a
// row) and resumed: outputs byte-identical to an uninterrupted run, for both models.
TEST(Checkpoint, ResumeIsExactForBothModels) {
  for (const std::string model : {"hump2d", "binary3d"}) {
    const std::string ref = temp_dir(model + "_ref");
    run_lib(short_scan(model, ref));
    // A finished scan removes its checkpoints (keep_checkpoints false).
    ASSERT_FALSE(fs::exists(ref + "/checkpoint.bin"));
    // Inside melt; cool then equilibrate (twice in a row); production; last block.
    const std::vector<std::vector<long>> plans =
        model == "hump2d" ? std::vector<std::vector<long>>{{250}, {600, 900}, {1150}, {1450}}
                          : std::vector<std::vector<long>>{{450, 1000}, {1300}};
    for (const auto& plan : plans) {
      std::string name = model;
      for (long s : plan) name += "_" + std::to_string(s);
      const std::string dir = temp_dir(name);
      const json j = short_scan(model, dir);
      for (long stop : plan) EXPECT_THROW(run_lib(j, stop), vitrify::ScanInterrupted) << name;
      run_lib(j);
      expect_same_outputs(ref, dir, name);
      fs::remove_all(dir);
    }
    fs::remove_all(ref);
  }
}

// The stochastic components (CSVR, c-rescale) keep no generator state: their random numbers
// are keyed by seed, replica and the step saved with the engine, so a resumed scan is
// byte-identical to the uninterrupted one (binary3d NPT under both, hump2d NVT under CSVR).
TEST(Checkpoint, ResumeIsExactWithStochasticComponents) {
  for (const std::string model : {"binary3d", "hump2d"}) {
    auto scan = [&](const std::string& dir) {
      json j = short_scan(model, dir);
      j["thermostat"] = "csvr";
      if (model == "binary3d") j["barostat"] = "c-rescale";
      j["keep_checkpoints"] = true;  // the final checkpoint is read below
      return j;
    };
    const std::string ref = temp_dir(model + "_stochastic_ref");
    run_lib(scan(ref));
    const std::string dir = temp_dir(model + "_stochastic_resumed");
    EXPECT_THROW(run_lib(scan(dir), model == "binary3d" ? 700 : 1150), vitrify::ScanInterrupted);
    run_lib(scan(dir));
    expect_same_outputs(ref, dir, model + " stochastic");
    // The components' step counters are in the checkpoint, one per replica.
    const vitrify::RunCheckpoint k =
        vitrify::decode_checkpoint(read_file(dir + "/checkpoint.bin"), "checkpoint");
    EXPECT_EQ(k.engine.arrays.at("thermostat_state").as<double>(),
              (std::vector<double>{1500, 1500}));
    EXPECT_EQ(k.engine.arrays.count("barostat_state"), model == "binary3d" ? 1u : 0u);
    for (const auto& p : {ref, dir}) fs::remove_all(p);
  }
}

TEST(Checkpoint, SigtermWritesCheckpointAndExitsWithCode4) {
  const std::string ref = temp_dir("term_ref"), dir = temp_dir("term");
  json j = short_scan("hump2d", ref);
  j["production_steps"] = 3000;
  run_lib(j);
  j["output_dir"] = dir;
  const std::string config = dir + "/config.json";
  write_file(config, j.dump());
  const pid_t pid = spawn_run(config, dir + "/child.log");
  // Wait until the run has started stepping (first checkpoint), then ask it to stop.
  for (int i = 0; i < 400 && !fs::exists(dir + "/checkpoint.bin"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  kill(pid, SIGTERM);
  const int code = wait_code(pid);
  const std::string log = read_file(dir + "/child.log");
  if (fs::exists(dir + "/measurements.json")) {
    GTEST_SKIP() << "the run finished before the signal arrived";
  }
  EXPECT_EQ(code, 4) << log;
  EXPECT_NE(log.find("SIGTERM"), std::string::npos) << log;
  const Cmd resumed = run_cli("run -q " + config);
  EXPECT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming"), std::string::npos) << resumed.output;
  expect_same_outputs(ref, dir, "SIGTERM");
}

// SIGKILL at random moments, with a checkpoint every 50 steps so that many kills land during
// a checkpoint write: every restart resumes from a valid checkpoint and the outputs equal the
// uninterrupted run's.
TEST(Checkpoint, SigkillAtRandomMomentsAlwaysResumes) {
  const std::string ref = temp_dir("kill_ref"), dir = temp_dir("kill");
  json j = short_scan("hump2d", ref);
  j["checkpoint_interval"] = 50;
  j["production_steps"] = 3000;
  run_lib(j);
  j["output_dir"] = dir;
  const std::string config = dir + "/config.json";
  write_file(config, j.dump());
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> delay_ms(20, 300);
  int kills = 0, attempts = 0, during_write = 0;
  while (!fs::exists(dir + "/measurements.json") && attempts < 40) {
    ++attempts;
    const pid_t pid = spawn_run(config, dir + "/child.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    kill(pid, SIGKILL);
    int signal = 0;
    const int code = wait_code(pid, &signal);
    if (signal == SIGKILL) {
      ++kills;
      if (fs::exists(dir + "/checkpoint.bin.tmp")) ++during_write;
    } else {
      ASSERT_EQ(code, 0) << read_file(dir + "/child.log");
    }
  }
  EXPECT_GE(kills, 3);
  std::printf("SIGKILL trials: %d kills (%d left a partial checkpoint write) in %d starts\n", kills,
              during_write, attempts);
  if (!fs::exists(dir + "/measurements.json")) {
    const Cmd last = run_cli("run -q " + config);
    ASSERT_EQ(last.code, 0) << last.output;
  }
  const std::string log = read_file(dir + "/child.log");
  EXPECT_EQ(log.find("[error]"), std::string::npos) << log;
  expect_same_outputs(ref, dir, "SIGKILL");
}

TEST(Checkpoint, CorruptCheckpointFallsBackToThePreviousOne) {
  const std::string ref = temp_dir("corrupt_ref"), dir = temp_dir("corrupt");
  run_lib(short_scan("hump2d", ref));
  const json j = short_scan("hump2d", dir);
  EXPECT_THROW(run_lib(j, 1000), vitrify::ScanInterrupted);
  ASSERT_TRUE(fs::exists(dir + "/checkpoint.prev.bin"));
  // Truncated newest checkpoint.
  const std::string good = read_file(dir + "/checkpoint.bin");
  write_file(dir + "/checkpoint.bin", good.substr(0, good.size() / 2));
  std::string used;
  auto loaded = vitrify::load_latest_checkpoint(dir, &used);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(used, dir + "/checkpoint.prev.bin");
  EXPECT_EQ(loaded->step, 800);
  // Flipped byte in the middle.
  std::string flipped = good;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 1);
  write_file(dir + "/checkpoint.bin", flipped);
  loaded = vitrify::load_latest_checkpoint(dir, &used);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(used, dir + "/checkpoint.prev.bin");
  // The resumed run (from step 800) still ends with identical outputs.
  const Cmd c = run_cli("run -q " + [&] {
    write_file(dir + "/config.json", j.dump());
    return dir + "/config.json";
  }());
  EXPECT_EQ(c.code, 0) << c.output;
  EXPECT_NE(c.output.find("checksum mismatch"), std::string::npos) << c.output;
  expect_same_outputs(ref, dir, "corrupt");
  // Both damaged: refused, naming the problem.
  write_file(dir + "/checkpoint.bin", "garbage");
  write_file(dir + "/checkpoint.prev.bin", good.substr(0, 100));
  EXPECT_THROW(vitrify::load_latest_checkpoint(dir), vitrify::InputError);
}

// A checkpoint with a valid checksum whose sampler state has the wrong shape (written by a
// foreign tool, or by a bug) is bad input: exit code 2 naming the file, not a crash.
TEST(Checkpoint, MalformedSamplerStateIsRefusedNamingTheFile) {
  const std::string dir = temp_dir("malformed_sampler");
  const json j = short_scan("hump2d", dir);
  EXPECT_THROW(run_lib(j, 1200), vitrify::ScanInterrupted);  // inside production
  auto ckpt = vitrify::load_latest_checkpoint(dir);
  ASSERT_TRUE(ckpt.has_value());
  ASSERT_TRUE(ckpt->sampler.is_object());
  ckpt->sampler["samples"] = "many";  // a string where a count belongs
  vitrify::write_checkpoint(dir, *ckpt);
  const std::string config = dir + "/config.json";
  write_file(config, j.dump());
  const Cmd c = run_cli("run -q " + config);
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_NE(c.output.find("checkpoint.bin"), std::string::npos) << c.output;
  EXPECT_NE(c.output.find("sampler state"), std::string::npos) << c.output;
}

TEST(Checkpoint, ChangedConfigurationIsRefusedNamingTheKey) {
  const std::string dir = temp_dir("changed");
  json j = short_scan("hump2d", dir);
  EXPECT_THROW(run_lib(j, 400), vitrify::ScanInterrupted);
  json changed = j;
  changed["dt"] = 0.004;
  try {
    run_lib(changed);
    FAIL() << "a changed dt was accepted";
  } catch (const vitrify::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("\"dt\""), std::string::npos) << e.what();
  }
  // Keys that may change (threads, checkpoint_interval, analyze) are accepted.
  json allowed = j;
  allowed["threads"] = 1;
  allowed["checkpoint_interval"] = 300;
  EXPECT_NO_THROW(run_lib(allowed));
  EXPECT_TRUE(fs::exists(dir + "/measurements.json"));
}

TEST(Checkpoint, FinishedRunIsNotOverwrittenWithoutForce) {
  const std::string dir = temp_dir("finished");
  json j = short_scan("hump2d", dir);
  j["production_steps"] = 300;
  const std::string config = dir + "/config.json";
  write_file(config, j.dump());
  Cmd c = run_cli("run -q " + config);
  ASSERT_EQ(c.code, 0) << c.output;
  const auto stamp = fs::last_write_time(dir + "/measurements.json");
  c = run_cli("run -q " + config);
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_NE(c.output.find("--force"), std::string::npos) << c.output;
  EXPECT_EQ(fs::last_write_time(dir + "/measurements.json"), stamp);
  c = run_cli("run -q --force " + config);
  EXPECT_EQ(c.code, 0) << c.output;
}

TEST(Checkpoint, CheckpointsOffLeaveNoFiles) {
  const std::string dir = temp_dir("off");
  json j = short_scan("hump2d", dir);
  j["production_steps"] = 300;
  j["checkpoint_interval"] = 0;
  j["checkpoint_wall_seconds"] = 0;
  run_lib(j);
  EXPECT_FALSE(fs::exists(dir + "/checkpoint.bin"));
  EXPECT_FALSE(fs::exists(dir + "/checkpoint.prev.bin"));
  // A run stopped on request still leaves a checkpoint to resume from.
  run_lib(j, 0, true);
  const std::string d2 = temp_dir("off2");
  j["output_dir"] = d2;
  EXPECT_THROW(run_lib(j, 500), vitrify::ScanInterrupted);
  EXPECT_TRUE(fs::exists(d2 + "/checkpoint.bin"));
  run_lib(j);
  EXPECT_FALSE(fs::exists(d2 + "/checkpoint.bin"));
  expect_same_outputs(dir, d2, "checkpoints off");
}
