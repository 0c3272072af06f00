#pragma once
// Helpers for tests that drive the `vitrify` binary and inspect its output files.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace vitrify::test_util {

// Whole file as bytes ("" when it cannot be read).
inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A fresh (removed if present) directory name under the system temp directory, unique per
// process: <tmp>/<prefix>_<name>_<pid>, with non-alphanumeric characters of name replaced.
inline std::string fresh_temp_dir(const std::string& prefix, const std::string& name) {
  std::string n = name;
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  const std::filesystem::path p = std::filesystem::temp_directory_path() /
                                  (prefix + "_" + n + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p.string();
}

// A Python interpreter with numpy and matplotlib ($VITRIFY_PYTHON, python3, /usr/bin/python3),
// or "" when there is none.
inline std::string find_python() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("VITRIFY_PYTHON")) candidates.push_back(env);
  candidates.push_back("python3");
  candidates.push_back("/usr/bin/python3");
  for (const std::string& py : candidates) {
    const std::string cmd = py + " -c 'import numpy, matplotlib' > /dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return py;
  }
  return "";
}

struct Cmd {
  int code;            // exit status, or -signal when killed by a signal
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, capturing its stdout and stderr.
inline Cmd run_shell(const std::string& command) {
  const std::string cmd = "{ " + command + "; } 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1000, "popen failed"};
  std::string out;
  std::array<char, 4096> buf;
  while (fgets(buf.data(), buf.size(), p)) out += buf.data();
  const int status = pclose(p);
  if (WIFSIGNALED(status)) return {-WTERMSIG(status), out};
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1000, out};
}

// Runs `vitrify ARGS` (the binary under test) through the shell.
inline Cmd run_cli(const std::string& args) {
  return run_shell(std::string(VITRIFY_BINARY) + " " + args);
}

// The outputs of a run directory that must not depend on interruptions: the measurement
// files, thermo/ and snapshots/, sorted.
inline std::vector<std::string> run_output_files(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> files = {"measurements.json", "measurements_summary.csv",
                                    "measurements_isf.csv", "measurements_concentrations.csv",
                                    "measurements_species_energy.csv"};
  for (const char* sub : {"thermo", "snapshots"})
    for (const auto& e : fs::directory_iterator(dir + "/" + sub))
      files.push_back(std::string(sub) + "/" + e.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace vitrify::test_util
