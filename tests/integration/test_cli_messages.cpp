// User-facing messages of the command line: unreadable inputs (directories, missing files),
// --threads, an unavailable backend, eval of snapshots (model and velocities from the file),
// snapshots readable by ASE, and the documented analyze flags.
#include <gtest/gtest.h>
#include <omp.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/common/cli_util.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/io/config.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using vitrify::test_util::Cmd;
using vitrify::test_util::read_file;
using vitrify::test_util::run_cli;
using vitrify::test_util::run_shell;

const std::string kSource = VITRIFY_SOURCE_DIR_FOR_TESTS;

std::string temp_dir(const std::string& name) {
  return vitrify::test_util::fresh_temp_dir("vitrify_cli", name);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A scan of a few hundred steps (seconds), no analysis.
std::string write_tiny_config(const std::string& dir, const std::string& model = "hump2d") {
  fs::create_directories(dir);
  json j = {{"model", model},
            {"n_particles", 256},
            {"melt_steps", 200},
            {"cool_steps", 200},
            {"equilibration_steps", 200},
            {"production_steps", 400},
            {"sample_interval", 2},
            {"thermo_interval", 50},
            {"seed", 11},
            {"analyze", false},
            {"temperatures", {1.0, 2.0, 3.0}}};
  const std::string path = dir + "/tiny.json";
  std::ofstream(path) << j.dump(1);
  return path;
}

}  // namespace

// A directory where a file is expected: exit 2 with the reason; analyze takes a run
// directory's measurements.json; a missing file says so.
TEST(CliMessages, DirectoriesAndMissingFilesAreClearInputErrors) {
  const std::string dir = temp_dir("dirs");
  fs::create_directories(dir + "/empty");
  fs::create_directories(dir + "/run");
  fs::copy_file(std::string(VITRIFY_TEST_DATA) + "/analysis_measurements_hump2d.json",
                dir + "/run/measurements.json");

  Cmd c = run_cli("analyze " + dir + "/empty");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, dir + "/empty: is a directory with no measurements.json in it"))
      << c.output;
  EXPECT_FALSE(contains(c.output, "internal error")) << c.output;

  c = run_cli("analyze " + dir + "/run");
  EXPECT_EQ(c.code, 0) << c.output;
  EXPECT_TRUE(contains(c.output, "reading " + dir + "/run/measurements.json")) << c.output;
  EXPECT_TRUE(fs::exists(dir + "/run/analysis.json"));

  c = run_cli("analyze " + dir + "/missing.json");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output,
                       "missing.json: cannot open the measurements file: no such file "
                       "or directory"))
      << c.output;

  c = run_cli("analyze " + dir + "/run/measurements.json --options " + dir + "/run");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, "cannot open the options file: is a directory")) << c.output;

  for (const std::string cmd : {"run", "validate", "bench"}) {
    c = run_cli(cmd + " " + dir + "/empty");
    EXPECT_EQ(c.code, 2) << cmd << ": " << c.output;
    EXPECT_TRUE(contains(c.output, "empty: cannot open the configuration file: is a directory"))
        << cmd << ": " << c.output;
    EXPECT_FALSE(contains(c.output, "invalid JSON")) << cmd << ": " << c.output;
  }
  EXPECT_FALSE(fs::exists(dir + "/empty/vitrify.log"));
  // A run directory: the resolved configuration it holds is pointed at.
  std::ofstream(dir + "/run/config.resolved.json") << "{}";
  c = run_cli("run " + dir + "/run");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, "(did you mean " + dir + "/run/config.resolved.json?)"))
      << c.output;

  c = run_cli("validate " + dir + "/nothing.json");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output,
                       "nothing.json: cannot open the configuration file: no such file "
                       "or directory"))
      << c.output;
  c = run_cli("eval --model hump2d " + dir + "/run");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, "cannot open the XYZ file: is a directory")) << c.output;

  // Permission denied (root reads every file: nothing to test then).
  if (::geteuid() != 0) {
    std::ofstream(dir + "/locked.json") << "{}";
    fs::permissions(dir + "/locked.json", fs::perms::none);
    c = run_cli("validate " + dir + "/locked.json");
    EXPECT_EQ(c.code, 2) << c.output;
    EXPECT_TRUE(contains(c.output,
                         "locked.json: cannot open the configuration file: permission "
                         "denied"))
        << c.output;
    fs::permissions(dir + "/locked.json", fs::perms::owner_all);
  }
  fs::remove_all(dir);
}

// --threads: negative counts are refused naming the flag, as "threads": -1 in a configuration
// is; more threads than cores get a warning; the log says "1 OpenMP thread".
TEST(CliMessages, ThreadsFlag) {
  const std::string dir = temp_dir("threads");
  const std::string config = write_tiny_config(dir);
  Cmd c = run_cli("run " + config + " -o " + dir + "/out --threads -3 -q");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, "--threads must be >= 0")) << c.output;
  EXPECT_TRUE(contains(c.output, "got -3")) << c.output;
  EXPECT_FALSE(fs::exists(dir + "/out"));
  c = run_cli("bench " + config + " --threads -1 --steps 10 --warmup 0 --blocks 1");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, "--threads must be >= 0")) << c.output;

  c = run_cli("run " + config + " -o " + dir + "/one --threads 1 -q");
  ASSERT_EQ(c.code, 0) << c.output;
  EXPECT_TRUE(contains(c.output, "1 OpenMP thread, ")) << c.output;
  EXPECT_FALSE(contains(c.output, "1 OpenMP threads")) << c.output;

  const int too_many = omp_get_num_procs() + 1;
  c = run_cli("run " + config + " -o " + dir + "/many --threads " + std::to_string(too_many) +
              " -q");
  ASSERT_EQ(c.code, 0) << c.output;
  EXPECT_TRUE(contains(c.output, "--threads " + std::to_string(too_many) + ": more threads than"))
      << c.output;
  EXPECT_TRUE(contains(c.output, "will likely be slower")) << c.output;
  EXPECT_TRUE(contains(c.output, std::to_string(too_many) + " OpenMP threads")) << c.output;
  fs::remove_all(dir);
}

// --backend cuda without a device: exit 2 before the output directory exists.
TEST(CliMessages, UnavailableBackendCreatesNothing) {
  if (vitrify::cuda_device_available()) GTEST_SKIP() << "a CUDA device is available";
  const std::string dir = temp_dir("backend");
  const std::string config = write_tiny_config(dir);
  const Cmd c = run_cli("run " + config + " -o " + dir + "/out --backend cuda -q");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, "backend \"cuda\" requested but unavailable")) << c.output;
  EXPECT_FALSE(fs::exists(dir + "/out")) << "output directory created for a run that cannot start";
  fs::remove_all(dir);
}

// eval of a snapshot: no --model needed (model= in the file), kinetic temperature and the full
// pressure from the velocities; --model still overrides; a file without model= needs --model.
TEST(CliMessages, EvalOfASnapshotUsesItsModelAndVelocities) {
  const std::string dir = temp_dir("eval_snapshot");
  const std::string config = write_tiny_config(dir);
  Cmd c = run_cli("run " + config + " -o " + dir + "/out -q");
  ASSERT_EQ(c.code, 0) << c.output;
  const std::string snap = dir + "/out/snapshots/replica_002.xyz";  // T = 3
  ASSERT_TRUE(fs::exists(snap));
  EXPECT_TRUE(contains(read_file(snap), " model=hump2d ")) << read_file(snap);

  c = run_cli("eval " + snap);
  ASSERT_EQ(c.code, 0) << c.output;
  const json j = json::parse(c.output.substr(c.output.find('{')));
  EXPECT_EQ(j["model"], "hump2d");
  EXPECT_TRUE(j["has_velocities"].get<bool>());
  const double t = j["kinetic_temperature"].get<double>();
  EXPECT_NEAR(t, 3.0, 0.6);  // one configuration of 256 particles at T = 3
  const double n = j["n_particles"].get<double>();
  EXPECT_NEAR(j["kinetic_energy_total"].get<double>(), t * 2 * (n - 1) / 2, 1e-6 * n);
  const double p_full = j["pressure"].get<double>();
  EXPECT_NEAR(p_full,
              j["virial_pressure"].get<double>() +
                  2 * j["kinetic_energy_total"].get<double>() / (2 * j["volume"].get<double>()),
              1e-9 * std::fabs(p_full));

  c = run_cli("eval --model hump2d " + snap);
  EXPECT_EQ(c.code, 0) << c.output;

  // No velocities: no kinetic fields.
  std::ofstream(dir + "/pair.xyz")
      << "2\nLattice=\"8 0 0 0 8 0 0 0 8\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\n"
      << "S 1 1 1\nS 2 1 1\n";
  c = run_cli("eval " + dir + "/pair.xyz");
  EXPECT_EQ(c.code, 2) << c.output;
  EXPECT_TRUE(contains(c.output, "pair.xyz:2: the comment line names no model")) << c.output;
  c = run_cli("eval --model binary3d " + dir + "/pair.xyz");
  ASSERT_EQ(c.code, 0) << c.output;
  const json k = json::parse(c.output.substr(c.output.find('{')));
  EXPECT_FALSE(k["has_velocities"].get<bool>());
  EXPECT_FALSE(k.contains("kinetic_temperature"));
  EXPECT_FALSE(k.contains("pressure"));
  fs::remove_all(dir);
}

// Snapshots are read by ASE (when a Python with ase is installed; skipped otherwise):
// tools/check_xyz_ase reads a binary3d and a hump2d snapshot.
TEST(CliMessages, SnapshotsAreReadableByAse) {
  std::string python;
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("VITRIFY_PYTHON")) candidates.push_back(env);
  candidates.push_back("python3");
  for (const std::string& py : candidates)
    if (run_shell(py + " -c 'import ase.io' > /dev/null 2>&1").code == 0) {
      python = py;
      break;
    }
  if (python.empty()) GTEST_SKIP() << "no Python with ase (set VITRIFY_PYTHON)";
  const std::string dir = temp_dir("ase");
  for (const std::string model : {"binary3d", "hump2d"}) {
    const std::string config = write_tiny_config(dir + "/" + model, model);
    Cmd c = run_cli("run " + config + " -o " + dir + "/" + model + "/out -q");
    ASSERT_EQ(c.code, 0) << c.output;
    c = run_shell("VITRIFY_PYTHON=" + python + " " + kSource + "/tools/check_xyz_ase " + dir + "/" +
                  model + "/out/snapshots/replica_000.xyz");
    EXPECT_EQ(c.code, 0) << model << ": " << c.output;
  }
  fs::remove_all(dir);
}

// Every flag of docs/ANALYSIS.md's option table is a flag of `vitrify analyze --help`, and the
// README's usage block lists every subcommand.
TEST(CliMessages, DocumentedAnalyzeFlagsExist) {
  const std::string doc = read_file(kSource + "/docs/ANALYSIS.md");
  const auto start = doc.find("## Options");
  ASSERT_NE(start, std::string::npos);
  const auto end = doc.find("\n## ", start + 1);
  const std::string section = doc.substr(start, end == std::string::npos ? end : end - start);
  const Cmd help = run_cli("analyze --help");
  ASSERT_EQ(help.code, 0) << help.output;
  std::set<std::string> flags;
  std::istringstream lines(section);
  std::string line;
  const std::regex flag_re("`(--[a-z][a-z-]*)");
  while (std::getline(lines, line)) {
    if (line.rfind("| `", 0) != 0) continue;
    for (std::sregex_iterator it(line.begin(), line.end(), flag_re), e; it != e; ++it)
      flags.insert((*it)[1]);
  }
  EXPECT_GE(flags.size(), 17u);
  const std::regex help_flag_re("(--[a-z][a-z-]*)");
  std::set<std::string> help_flags;
  for (std::sregex_iterator it(help.output.begin(), help.output.end(), help_flag_re), e; it != e;
       ++it)
    help_flags.insert((*it)[1]);
  for (const std::string& f : flags)
    EXPECT_TRUE(help_flags.count(f)) << f << " is in docs/ANALYSIS.md but not in analyze --help";

  const std::string readme = read_file(kSource + "/README.md");
  const auto usage = readme.find("## Usage");
  ASSERT_NE(usage, std::string::npos);
  const std::string block = readme.substr(usage, readme.find("```\n\n", usage) - usage);
  for (const char* cmd :
       {"vitrify run", "vitrify validate", "vitrify eval", "vitrify bench", "vitrify analyze"})
    EXPECT_TRUE(contains(block, cmd)) << cmd << " missing from README's usage block";
}

// The end-of-run summary: on the terminal after `run` and `analyze`, in summary.txt and (run) in
// vitrify.log; --quiet keeps it off the terminal only.
TEST(CliMessages, EndOfRunSummary) {
  const std::string dir = temp_dir("summary");
  const std::string cfg = write_tiny_config(dir);
  const std::string out = dir + "/run";
  Cmd r = run_cli("run " + cfg + " -o " + out + " 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "vitrify summary")) << r.output;
  EXPECT_TRUE(contains(r.output, "State points (hump2d, N = 256, nvt)")) << r.output;
  EXPECT_TRUE(contains(r.output, "Analysis: none — disabled")) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex("Wall time [0-9.]+ s, 7.68e\\+05 particle-"
                                                     "steps, [0-9.e+]+ particle-steps/s")))
      << r.output;  // (200 + 200 + 200 + 400) steps x 3 replicas x 256 particles
  // summary.txt is reproducible: no timing in it; the log has the timing as well.
  EXPECT_TRUE(contains(read_file(out + "/summary.txt"), "State points"));
  EXPECT_FALSE(contains(read_file(out + "/summary.txt"), "Wall time"));
  EXPECT_TRUE(contains(read_file(out + "/vitrify.log"), "vitrify summary"));
  EXPECT_TRUE(contains(read_file(out + "/vitrify.log"), "particle-steps/s\n"));

  Cmd q = run_cli("run " + cfg + " -o " + out + " --force --quiet 2>/dev/null");
  ASSERT_EQ(q.code, 0) << q.output;
  EXPECT_FALSE(contains(q.output, "vitrify summary")) << q.output;
  EXPECT_TRUE(contains(read_file(out + "/summary.txt"), "vitrify summary"));

  const std::string data = std::string(VITRIFY_TEST_DATA) + "/analysis_measurements_hump2d.json";
  Cmd a = run_cli("analyze " + data + " -o " + dir + "/an 2>/dev/null");
  ASSERT_EQ(a.code, 0) << a.output;
  EXPECT_TRUE(contains(a.output, "Verdict: VALIDATED")) << a.output;
  EXPECT_TRUE(contains(a.output, "mu = ")) << a.output;
  EXPECT_FALSE(contains(a.output, "Wall time")) << a.output;
  EXPECT_TRUE(contains(read_file(dir + "/an/summary.txt"), "Verdict: VALIDATED"));
  Cmd aq = run_cli("analyze " + data + " -o " + dir + "/an --quiet 2>/dev/null");
  ASSERT_EQ(aq.code, 0) << aq.output;
  EXPECT_FALSE(contains(aq.output, "Verdict")) << aq.output;
  fs::remove_all(dir);
}

// `cmake --install` puts the binary, the inputs, the tools and the docs under the prefix, and the
// installed binary runs.
TEST(CliMessages, InstallPutsEverythingUnderThePrefix) {
  const std::string prefix = temp_dir("install");
  Cmd r = run_shell("cmake --install " + std::string(VITRIFY_BINARY_DIR_FOR_TESTS) + " --prefix " +
                    prefix);
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f :
       {"bin/vitrify", "share/vitrify/inputs/default.json", "share/vitrify/tools/report",
        "share/vitrify/tools/report.py", "share/vitrify/tools/lib/python.sh",
        "share/vitrify/tools/setup", "share/doc/vitrify/README.md", "share/doc/vitrify/CONFIG.md",
        "share/doc/vitrify/OUTPUTS.md"})
    EXPECT_TRUE(fs::exists(prefix + "/" + f)) << f << "\n" << r.output;
  Cmd v = run_shell(prefix + "/bin/vitrify --version");
  EXPECT_EQ(v.code, 0) << v.output;
  Cmd val =
      run_shell(prefix + "/bin/vitrify validate " + prefix + "/share/vitrify/inputs/default.json");
  EXPECT_EQ(val.code, 0) << val.output;
  EXPECT_EQ(
      fs::status(prefix + "/share/vitrify/tools/report").permissions() & fs::perms::owner_exec,
      fs::perms::owner_exec);
  fs::remove_all(prefix);
}
