#pragma once
// The run configuration: a flat JSON object whose keys are all documented in docs/CONFIG.md
// (a test checks that every key below appears there). Unknown keys, wrong types and
// out-of-range values are rejected with an InputError naming the key and the reason.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vitrify {

struct RunConfig {
  std::string model;                     // a name of the model list (model_names())
  int n_particles = 4096;                // N per replica
  std::string ensemble;                  // "npt" | "nvt" | "nve" (default per model)
  double density = 0;                    // NVT/NVE number density N/V (sigma^-d)
  double pressure = 0;                   // NPT imposed pressure (eps/sigma^d)
  std::vector<double> temperatures;      // one replica group per temperature (eps/k_B)
  int copies_per_temperature = 1;        // independent replicas per temperature
  double dt = 0.005;                     // time step (tau)
  std::string thermostat = "berendsen";  // thermostat component (nvt, npt)
  std::string barostat = "berendsen";    // barostat component (npt)
  double thermostat_tau = 0.5;           // thermostat coupling time (tau)
  double barostat_tau = 5.0;             // barostat coupling time (tau)
  double bulk_modulus = 10.0;            // barostat bulk modulus B (eps/sigma^d)
  double skin = 0.3;                     // Verlet skin (sigma)
  double initial_density = 0;            // density of the initial lattice (NPT; NVT uses density)
  double melt_temperature = 0;           // melting temperature (0 in JSON = automatic)
  long melt_steps = 2000;
  long cool_steps = 2000;
  long equilibration_steps = 10000;
  long production_steps = 10000;  // fixed: production; until-equilibrated: the check interval
  // "fixed" (production_steps) or "until-equilibrated" (each state point until it passes the
  // equilibration verdict, checked every production_steps, or production_max_steps)
  std::string production = "fixed";
  long production_max_steps = 0;  // until-equilibrated: the budget per state point (fixed: 0)
  long thermo_interval = 100;     // steps between rows of thermo.csv
  long trajectory_interval = 0;   // production steps between H5MD trajectory frames (0 = off)
  long sample_interval = 10;      // steps between measurement samples (production)
  long progress_interval = 0;     // steps between log progress lines (0 = automatic)
  std::uint64_t seed = 1;
  std::string output_dir;               // default "runs/<model>"
  std::string backend = "auto";         // "auto" | "cpu" | "cuda"
  std::string kernel = "per-particle";  // "per-particle" | "block" | "auto"
  bool graphs = true;                   // device path: replay captured blocks of steps
  int threads = 0;                      // OpenMP threads (0 = OpenMP's default)
  nlohmann::json species = "paper";     // "paper" | "auto" | array of names
  double species_auto_threshold = 0.005;
  double tau_alpha_multiple = 100;  // production must last this many tau_alpha
  int isf_points_per_level = 16;
  bool analyze = true;                   // run the analysis at the end of the scan
  long checkpoint_interval = 10000;      // steps between checkpoints (0 = off)
  double checkpoint_wall_seconds = 600;  // wall-clock seconds between checkpoints (0 = off)
  std::string on_failure = "stop";       // non-finite replica: "stop" the run or "drop" it
  bool keep_checkpoints = false;         // keep the checkpoints of a finished scan
  // Parallel tempering: steps between exchange attempts (0 = off) and the stages that run them.
  long replica_exchange_interval = 0;
  std::vector<std::string> replica_exchange_stages = {"equilibrate", "production"};

  bool adaptive_production() const { return production == "until-equilibrated"; }
  // The longest production a replica can run (steps).
  long max_production_steps() const {
    return adaptive_production() ? production_max_steps : production_steps;
  }
  int n_replicas() const { return static_cast<int>(temperatures.size()) * copies_per_temperature; }
  // Target temperature of replica r (replicas of one temperature are consecutive).
  double replica_temperature(int r) const { return temperatures[r / copies_per_temperature]; }
  // Whether replica exchanges run in the stage named `stage` ("equilibrate", "production").
  bool exchanges_in(const std::string& stage) const {
    if (replica_exchange_interval <= 0) return false;
    for (const auto& s : replica_exchange_stages)
      if (s == stage) return true;
    return false;
  }
};

// Validates and fills defaults. `source` names the file in messages.
RunConfig parse_config(const nlohmann::json& j, const std::string& source);
// Reads a file (InputError if unreadable or not JSON, with line/column).
RunConfig load_config(const std::string& path);
// The built-in default configuration (inputs/default.json, embedded at build time).
RunConfig default_config();
// The resolved configuration, every key with its value.
nlohmann::json to_json(const RunConfig& c);
// Every key the configuration accepts (for the documentation test).
std::vector<std::string> config_keys();
// Parses JSON text, rejecting duplicate keys; InputError names the source, line and column.
nlohmann::json parse_json_strict(const std::string& text, const std::string& source);

}  // namespace vitrify
