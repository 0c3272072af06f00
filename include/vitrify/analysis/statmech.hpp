#pragma once
// `vitrify analyze`: the statistical mechanics of quasi-species (docs/PHYSICS.md, sections
// "Quasi-species" and "Statistical mechanics") turning a measurements.json (docs/OUTPUTS.md)
// into analysis.json and analysis_*.csv (documented at the end of docs/OUTPUTS.md; methods in
// docs/ANALYSIS.md).
//
// Command-line flags wanted for `vitrify analyze MEASUREMENTS.json [-o OUT_DIR]` (each maps to
// the AnalyzeOptions field of the same name; --options FILE reads the JSON form accepted by
// parse_analyze_options, flags given on the command line override it):
//   --reference S=s5,L=l9       reference species per group (group = particle type name)
//   --liquid s3,s4,...,l11      liquid species (replaces the model default)
//   --tmin T --tmax T           temperature window of the fits
//   --grid-tmin T --grid-tmax T --grid-points N   prediction grid
//   --normalization group|tracked
//   --min-temperatures N --max-relative-error X
//   --criterion statistical|practical|either --p-min P --z-max Z --rel-tol X
//   --inflate-errors            scale parameter errors by sqrt(reduced chi2) when it exceeds 1
//   --entropy-tref T            reference temperature of S(T) - S(T_ref)
//   --concentration-tolerance X
//   --accept all|T=0.4|too_few_blocks|halves|tau_alpha[,...]   use flagged state points anyway
//   --options FILE.json
//
// Units: reduced Lennard-Jones units throughout (energies epsilon, temperatures epsilon/k_B,
// k_B = 1, lengths sigma, times tau).
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vitrify::analysis {

// Options of the analysis. Empty / unset members take the per-model defaults listed here.
struct AnalyzeOptions {
  // Reference species per group, group name (particle type name, e.g. "S", "L", "A") -> species
  // name. Default: hump2d "c2" (the paper's choice); binary3d (and any group without an entry)
  // the species with the largest minimum concentration over the fitted state points.
  std::map<std::string, std::string> reference;
  // Species summed into C_liq. Default: binary3d s3..s7 and l6..l11, hump2d c2, c5, c6.
  std::vector<std::string> liquid_species;
  // Temperature window of every fit (inclusive); state points outside are listed and skipped.
  std::optional<double> t_min, t_max;
  // Prediction grid. Defaults: 0.1 x lowest and 1.5 x highest fitted temperature, 200 points.
  std::optional<double> grid_t_min, grid_t_max;
  int grid_points = 200;
  // Group normalisation of predicted concentrations: "group" (the group's total fraction,
  // tracked + other, mean over the fitted state points: 1/2 per group in binary3d, as Eq. 7 of
  // the paper) or "tracked" (mean measured sum of the group's tracked species).
  std::string normalization = "group";
  // A species enters its free-energy fit at a temperature where C > 0 and error/C <=
  // max_relative_error; it is fitted when that holds at >= min_temperatures temperatures (>= 3).
  int min_temperatures = 3;
  double max_relative_error = 0.5;
  // Validation of the up-scaling (docs/ANALYSIS.md): "statistical" (chi2 p-value >= p_value_min
  // and every |pull| <= z_max), "practical" (every measured C_s/C_r reproduced within
  // relative_tolerance) or "either" (default).
  std::string validation_criterion = "either";
  double p_value_min = 1e-3;
  double z_max = 4.0;
  double relative_tolerance = 0.05;
  // Multiply each species' parameter covariance by its reduced chi2 when that exceeds 1.
  bool inflate_errors = false;
  // T_ref of the entropy differences S(T) - S(T_ref). Default: the highest fitted temperature.
  std::optional<double> entropy_reference_temperature;
  // Tolerance of the input checks: concentrations >= -tol and |sum - 1| <= tol.
  double concentration_tolerance = 1e-3;
  // State points flagged as not equilibrated that the fits use anyway (docs/ANALYSIS.md,
  // "Accepting flagged state points"); analysis.json lists them with their flags. Each entry:
  // "all" (every flagged point), "T=<temperature>" (the point at that temperature), or a kind
  // of flag, "too_few_blocks", "halves" or "tau_alpha" (a point whose every flag is of an
  // accepted kind).
  std::vector<std::string> accept;
};

// The kind of an equilibration flag of measurements.json: "tau_alpha" (tau_alpha not reached,
// production shorter than the required multiple of tau_alpha), "halves" (the halves of
// production differ or cannot be compared), "too_few_blocks", or "other" (any other text).
std::string equilibration_flag_kind(const std::string& flag);

// Options from their JSON form: an object whose keys are the member names above ("reference"
// an object, "liquid_species" an array, numbers or null for the optional ones). Unknown keys and
// wrong types throw vitrify::InputError naming the key.
AnalyzeOptions parse_analyze_options(const nlohmann::json& options);

// The full analysis of one measurements.json document (schema in docs/OUTPUTS.md). Throws
// vitrify::InputError, naming the field, for unusable input: unknown format/model, missing
// fields, fewer than three (usable) temperatures, a reference species absent at a fitted
// temperature, negative or non-normalised concentrations, bad options.
nlohmann::json analyze(const nlohmann::json& measurements, const AnalyzeOptions& options);

// Reads measurements_path, writes out_dir/analysis.json and the analysis_*.csv tables (out_dir
// is created if needed) and returns the analysis. Throws vitrify::InputError for unreadable or
// unusable input and for an unwritable out_dir.
nlohmann::json analyze_file(const std::string& measurements_path, const std::string& out_dir,
                            const AnalyzeOptions& options);

// Writes the analysis_*.csv tables of an analysis (as returned by analyze) into out_dir;
// returns the file names written. Null values are empty fields.
std::vector<std::string> write_analysis_tables(const nlohmann::json& analysis,
                                               const std::string& out_dir);

}  // namespace vitrify::analysis
