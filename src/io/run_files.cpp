#include "vitrify/io/run_files.hpp"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "vitrify/core/error.hpp"

namespace vitrify {
namespace {

namespace fs = std::filesystem;

// Files at the top of a run directory.
const std::set<std::string>& top_level_files() {
  static const std::set<std::string> names = {"config.resolved.json",
                                              "replicas.csv",
                                              "vitrify.log",
                                              "measurements.json",
                                              "measurements_summary.csv",
                                              "measurements_concentrations.csv",
                                              "measurements_isf.csv",
                                              "measurements_species_energy.csv",
                                              "analysis.json",
                                              "analysis_species.csv",
                                              "analysis_free_energies.csv",
                                              "analysis_concentrations.csv",
                                              "analysis_temperatures.csv",
                                              "analysis_grid.csv",
                                              "analysis_heat_capacity.csv",
                                              "summary.txt",
                                              "replica_exchange.csv",
                                              "checkpoint.bin",
                                              "checkpoint.prev.bin"};
  return names;
}

// tools/report's files in report/.
const std::set<std::string>& report_files() {
  static const std::set<std::string> names = {"report.md",
                                              "concentrations.png",
                                              "free_energies.png",
                                              "degeneracies.png",
                                              "predicted_vs_measured.png",
                                              "isf.png",
                                              "thermo.png",
                                              "tau_arrhenius.png",
                                              "tau_xi.png",
                                              "c_liq.png",
                                              "enthalpy.png",
                                              "energy.png",
                                              "heat_capacity.png",
                                              "entropy.png"};
  return names;
}

bool is_named_output(const std::string& relative) {
  static const std::regex thermo(R"(thermo/replica_[0-9]+\.csv)");
  static const std::regex snapshot(R"(snapshots/replica_[0-9]+\.xyz)");
  static const std::regex trajectory(R"(trajectory/replica_[0-9]+\.h5(\.unreadable)?)");
  if (top_level_files().count(relative)) return true;
  if (std::regex_match(relative, thermo) || std::regex_match(relative, snapshot) ||
      std::regex_match(relative, trajectory))
    return true;
  const std::string report = "report/";
  return relative.compare(0, report.size(), report) == 0 &&
         report_files().count(relative.substr(report.size())) > 0;
}

}  // namespace

bool is_run_output(const std::string& relative) {
  const std::string tmp = ".tmp";
  if (relative.size() > tmp.size() &&
      relative.compare(relative.size() - tmp.size(), tmp.size(), tmp) == 0)
    return is_named_output(relative.substr(0, relative.size() - tmp.size()));
  return is_named_output(relative);
}

std::vector<std::string> remove_run_outputs(const std::string& dir, bool include_log) {
  std::vector<std::string> removed;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return removed;
  auto consider = [&](const fs::path& folder, const std::string& prefix) {
    std::error_code e;
    if (!fs::is_directory(folder, e)) return;
    for (const auto& entry : fs::directory_iterator(folder, e)) {
      std::error_code fe;
      if (!entry.is_regular_file(fe) && !entry.is_symlink(fe)) continue;
      const std::string rel = prefix + entry.path().filename().string();
      if (!is_run_output(rel) || (!include_log && rel == "vitrify.log")) continue;
      if (!fs::remove(entry.path(), fe) && fe)
        throw InputError("cannot remove " + entry.path().string() + ": " + fe.message());
      removed.push_back(rel);
    }
  };
  consider(dir, "");
  for (const char* sub : {"thermo", "snapshots", "trajectory", "report"}) {
    const fs::path folder = fs::path(dir) / sub;
    consider(folder, std::string(sub) + "/");
    std::error_code e;
    if (fs::is_directory(folder, e) && fs::is_empty(folder, e)) fs::remove(folder, e);
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

}  // namespace vitrify
