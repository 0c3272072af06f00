#pragma once
// The steps of `vitrify::analysis::analyze` and the plain structs they hand on, in the order
// they run: select the state points -> groups and reference species -> fits -> derived
// quantities -> output (analysis.json, built only from these structs). The physics:
// docs/PHYSICS.md, section "Statistical mechanics"; methods: docs/ANALYSIS.md; output fields:
// docs/OUTPUTS.md, section "analysis.json".
#include <cstddef>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "vitrify/analysis/fit_linear.hpp"
#include "vitrify/analysis/statmech.hpp"
#include "vitrify/analysis/statmech_input.hpp"
#include "vitrify/analysis/statmech_propagate.hpp"

namespace vitrify::analysis::steps {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// x in the shortest form with `precision` significant digits (messages and verdicts).
std::string fmt(double x, int precision = 4);

// Throws vitrify::InputError "analysis options: <key>: <reason>".
[[noreturn]] void options_error(const std::string& key, const std::string& reason);

// Step 1: the state points used by the fits

struct StatePointSelection {
  std::vector<int> fit_points;                    // indices into state_points, ascending T
  std::vector<char> used;                         // per state point: in the fits
  std::vector<std::vector<std::string>> reasons;  // per state point: why it is left out
  std::vector<std::string> accepted_by;           // per state point: the accept option entries
                                                  // that let a flagged point in ("" if none)
  double t_lo = 0.0, t_hi = 0.0;                  // fitted temperature range
};

// Throws InputError when fewer than three state points remain.
StatePointSelection select_state_points(const Measurements& m, const AnalyzeOptions& opt);

// Step 2: groups (one per central-particle type), reference and liquid species

struct SpeciesRole {
  int group = 0;
  bool is_reference = false;
  bool liquid = false;
};

struct Group {
  std::string name;
  int type = 0;
  std::vector<int> species;  // indices into Measurements::species, input order
  int reference = -1;        // index into Measurements::species
  std::string reference_choice;
  std::string other_bin;
  double total_fraction = 0.0;
  double max_other_fraction = 0.0;
};

struct GroupSetup {
  std::vector<Group> groups;         // ascending type
  std::vector<SpeciesRole> species;  // per species of Measurements::species
  std::vector<std::string> liquid_names;
};

// Throws InputError for unknown liquid species, bad reference options and a reference species
// absent at a fitted temperature.
GroupSetup set_up_groups(const Measurements& m, const AnalyzeOptions& opt,
                         const StatePointSelection& sel);

// Step 3: the fits and the parameter vector theta with its covariance

struct SpeciesValidation {
  double worst_pull = 0.0, worst_pull_t = kNaN;
  double worst_ratio = 0.0, worst_ratio_t = kNaN;
  bool statistical_pass = false, practical_pass = false, passes = false;
  std::string verdict;
};

// Free energies F = H - T ln g of one species relative to its group's reference.
struct SpeciesFit {
  // At every state point (NaN where undefined).
  std::vector<double> free_energy, free_energy_error;
  std::vector<std::string> note;  // why a state point is not in the fit ("" when it is)
  std::vector<int> fit_points;    // state-point indices in the fit
  bool fitted = false;
  std::string exclusion_reason;
  LinearFit fit;             // parameters (H, ln g)
  double error_scale = 1.0;  // sqrt(reduced chi2) when errors are inflated, else 1
  int parameter_index = -1;  // H at this index of theta, ln g at +1
  SpeciesValidation validation;
};

// Gaussian degeneracy model of a group, ln g(n) = c - (n - n_mp)^2 / (2 sigma^2), fitted as
// ln g_s = b (n_s - n_r) + q (n_s^2 - n_r^2).
struct GaussianFit {
  bool ok = false;
  std::string reason;
  LinearFit fit;
  std::vector<int> species;  // the fitted species it uses
  int parameter_index = -1;  // b at this index of theta, q at +1
};

// NVT energy per neighbour of a group, E_s = e n_s.
struct EnergyFit {
  bool ok = false;
  std::string reason;
  LinearFit fit;
  int points = 0;
  double t_lo = kNaN, t_hi = kNaN;
  int parameter_index = -1;
};

// rho(T) = a0 + a1 T (NPT) or a0 (NVT).
struct DensityFit {
  LinearFit fit;
  std::string form, weighting;
};

// C_liq and xi = (rho C_liq)^(-1/d) from the measured concentrations, at every state point.
struct MeasuredLiquid {
  std::vector<double> c_liq, c_liq_error, xi, xi_error;
};

// ln tau_alpha = mu x + c with x = xi/T (parameters[0] = c, parameters[1] = mu).
struct TauFit {
  bool ok = false;
  std::string reason;
  std::string weighting;
  LinearFit fit;
  std::vector<int> points;
  std::vector<double> x, x_error, y, y_error;
};

struct RelaxationExclusion {
  int point = 0;  // state-point index
  std::vector<std::string> reasons;
};

struct RelaxationFit {
  std::vector<RelaxationExclusion> excluded;
  bool tau_errors = true;  // every fitted point has a tau_alpha error (weighted fit)
  TauFit fit;
};

// Every parameter of the model with its covariance.
struct Parameters {
  std::vector<double> theta;
  Matrix covariance;
  int density_index = -1;  // a0, a1
  int tau_index = -1;      // mu, c (set even when the relaxation fit failed)
};

struct Fits {
  std::vector<SpeciesFit> species;    // per species of Measurements::species
  std::vector<GaussianFit> gaussian;  // per group
  std::vector<EnergyFit> energy;      // per group (NVT only)
  DensityFit density;
  MeasuredLiquid liquid;
  RelaxationFit relaxation;
  Parameters params;
};

Fits run_fits(const Measurements& m, const AnalyzeOptions& opt, const StatePointSelection& sel,
              const GroupSetup& setup);

// The relaxation fit of the given state points (also the hold-out refit).
TauFit fit_tau(const Measurements& m, const MeasuredLiquid& liquid, const std::vector<int>& points,
               bool weighted);

// Step 4: derived quantities

// Everything the model evaluation needs besides theta; points into the results of the earlier
// steps, which must outlive it.
struct ModelLayout {
  int dimension = 3;
  bool npt = true;
  const Measurements* m = nullptr;
  const GroupSetup* setup = nullptr;
  const Fits* fits = nullptr;
  std::vector<int> model_species;  // species in the model (fitted + references), output order
  std::vector<int> liquid_in_model;
  int density_index = -1;  // rho = a0 + a1 T
  int tau_index = -1;      // ln tau = mu x + c  (mu, c); -1 when not fitted
};

// Offsets of the per-temperature model quantities in evaluate_model's output (times the
// number of temperatures).
struct QuantityIndex {
  int n_species = 0;
  int concentrations = 0, concentrations_gaussian = 0, c_liq = 0, c_liq_gaussian = 0, density = 0,
      xi = 0, xi_gaussian = 0, ln_tau = 0, ln_tau_gaussian = 0, enthalpy = 0, energy = 0,
      heat_capacity = 0, entropy = 0, count = 0;
};

QuantityIndex quantity_index(const ModelLayout& layout);

// All model quantities at the temperatures, flattened as [quantity][temperature]. With
// entropy_reference > 0 the entropy S(T) - S(T_ref) is included (ascending temperatures).
std::vector<double> evaluate_model(const ModelLayout& layout, const std::vector<double>& theta,
                                   const std::vector<double>& temps, double entropy_reference);

// Model quantities with propagated errors at a list of temperatures.
struct Predictions {
  std::vector<double> temperature;
  PropagatedValues values;
  double value(int quantity, size_t k) const {
    return values.value[quantity * temperature.size() + k];
  }
  double error(int quantity, size_t k) const {
    return values.error[quantity * temperature.size() + k];
  }
  // Values and errors of one quantity at `count` temperatures from `from`.
  std::pair<std::vector<double>, std::vector<double>> column(int quantity, size_t from,
                                                             size_t count) const;
  std::pair<std::vector<double>, std::vector<double>> column(int quantity) const {
    return column(quantity, 0, temperature.size());
  }
};

struct GaussianDerived {
  PropagatedValues n_mp_sigma2_c;  // n_mp, sigma^2, c with errors
  double b = 0.0, q = 0.0, b_error = 0.0, q_error = 0.0;
  std::vector<double> curve_neighbors, curve_ln_g;
};

struct HoldOut {
  bool done = false;
  std::string reason;
  int point = 0;
  int n_points_refit = 0;
  double mu = 0.0, mu_error = 0.0, c = 0.0, c_error = 0.0;
  double measured = 0.0, measured_error = 0.0, predicted = 0.0, predicted_error = 0.0;
  double pull = 0.0;
};

// A model curve (enthalpy or energy) against the measured one, optionally shifted by the best
// additive constant.
struct ThermoComparison {
  bool with_constant = false, all_errors = true;
  double constant = 0.0, constant_error = kNaN;
  std::vector<double> temperature, model_plus_constant, model_error, measured, measured_error,
      ratio, pull;
  double worst = 0.0, worst_t = kNaN, chi2 = 0.0;
  int dof = 0;
};

struct HeatCapacityPeak {
  bool found = false;
  int index = 0;  // grid index
};

struct Thermodynamics {
  std::vector<double> temperature;  // the fitted state points
  std::vector<double> measured, measured_error, model, model_error;
  // Finite differences of the measured curve and the model heat capacity at the midpoints.
  std::vector<double> fd, fd_error, c_model, c_model_error;
  HeatCapacityPeak peak;
  double negative_below = kNaN;
  bool any_energy = false;      // NVT: some group has an energy-per-neighbour fit
  ThermoComparison comparison;  // NPT: with the additive constant; NVT: without
  ThermoComparison comparison_measured_concentrations;  // NPT only
  ThermoComparison comparison_with_constant;            // NVT only
  // NVT, models with a published energy per neighbour (hump2d: 0.83): Eq. 15 with that e in
  // place of the fitted one in every group, without a constant.
  double paper_e = kNaN;
  ThermoComparison comparison_paper_e;
};

struct ValidationSummary {
  std::vector<std::string> passed;
  std::vector<std::pair<std::string, std::string>> failed, untested;  // species, reason
  bool validated = false;
  std::string reason;
};

struct Derived {
  ModelLayout layout;
  QuantityIndex qi;
  std::vector<std::string> liquid_missing;  // liquid species without a fit
  std::vector<double> mid_t;                // midpoints of neighbouring fitted temperatures
  Predictions points;                       // every state point, then the midpoints
  double grid_lo = 0.0, grid_hi = 0.0, t_ref = 0.0;
  Predictions grid;
  std::vector<GaussianDerived> gaussian;  // per group (when fitted)
  HoldOut hold_out;
  Thermodynamics thermo;
  ValidationSummary validation;
};

Derived derive(const Measurements& m, const AnalyzeOptions& opt, const StatePointSelection& sel,
               const GroupSetup& setup, const Fits& fits);

// The thermodynamics part of derive(), from the predictions already in d (layout, qi, mid_t,
// points, grid).
Thermodynamics derive_thermodynamics(const Measurements& m, const StatePointSelection& sel,
                                     const Fits& fits, const Derived& d);

// Step 5: output

nlohmann::json analysis_json(const Measurements& m, const AnalyzeOptions& opt,
                             const StatePointSelection& sel, const GroupSetup& setup,
                             const Fits& fits, const Derived& derived);

}  // namespace vitrify::analysis::steps
