#pragma once
// measurements.json as read by the analysis: parsed, checked and sorted by temperature. Every
// problem throws vitrify::InputError with a message "measurements.json: <field path>: <reason>".
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vitrify::analysis {

// A measured mean with its standard error (error >= 0).
struct MeasuredValue {
  double mean = 0.0;
  double error = 0.0;
};

// One tracked quasi-species: name, central-particle type index, neighbour count.
struct SpeciesDefinition {
  std::string name;
  int type = 0;
  int neighbors = 0;
};

// The "other" bin of one particle type.
struct OtherBinDefinition {
  std::string name;
  int type = 0;
};

// tau_alpha of one state point (tau). value is set only when reached; error when given.
struct TauAlphaMeasurement {
  bool reached = false;
  std::optional<double> value;
  std::optional<double> lower_bound;
  std::optional<double> error;
};

// One state point (temperature) of the scan.
struct StatePointMeasurement {
  int index = 0;  // position in the input's state_points array (for messages)
  double temperature = 0.0;
  MeasuredValue density;
  std::map<std::string, MeasuredValue> concentrations;  // species and other bins
  MeasuredValue potential_energy;                       // u per particle
  std::optional<MeasuredValue> enthalpy;                // h = u + p v per particle (NPT)
  std::map<std::string, MeasuredValue> species_energy;  // species seen at this T only
  // Measured heat capacity per particle from fluctuations (canonical runs only; optional).
  std::optional<MeasuredValue> heat_capacity;
  TauAlphaMeasurement tau_alpha;
  bool equilibrated = true;
  std::vector<std::string> flags;
  // Values written without an error bar (null: too short a production for blocks), by path;
  // their error is NaN and the state point stays out of the fits.
  std::vector<std::string> missing_errors;
};

// The whole document.
struct Measurements {
  std::string model;     // "binary3d" or "hump2d"
  int dimension = 3;     // 2 or 3
  std::string ensemble;  // "npt", "nvt" or "nve"
  long long n_particles = 0;
  std::optional<double> pressure;
  std::vector<std::string> particle_types;
  std::vector<SpeciesDefinition> species;
  std::vector<OtherBinDefinition> other_bins;
  std::vector<StatePointMeasurement> state_points;  // ascending temperature
  bool is_npt() const { return ensemble == "npt"; }
};

// Parses and checks a measurements document. concentration_tolerance: concentrations must be
// >= -tolerance and sum to 1 within it at every state point.
Measurements parse_measurements(const nlohmann::json& document, double concentration_tolerance);

}  // namespace vitrify::analysis
