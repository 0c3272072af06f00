// The statistical mechanics of quasi-species (SPEC.md section 3). Methods: docs/ANALYSIS.md;
// output fields: docs/OUTPUTS.md, section "analysis.json".
#include "vitrify/analysis/statmech.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

#include "statmech_model_facts.hpp"
#include "vitrify/analysis/fit_linear.hpp"
#include "vitrify/analysis/statmech_input.hpp"
#include "vitrify/analysis/statmech_model.hpp"
#include "vitrify/analysis/statmech_propagate.hpp"
#include "vitrify/core/error.hpp"

namespace vitrify::analysis {

namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Relative error given to a concentration whose stated error is zero (exact input), so that the
// weighted fits stay defined; far below any statistical error.
constexpr double kRelativeErrorFloor = 1e-10;
// Simpson intervals (in ln T) between neighbouring grid temperatures of the entropy integral.
constexpr int kEntropyIntervalsPerSegment = 8;

// ---------------------------------------------------------------------------------------------
// Small helpers.

json num(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

json value_error(double value, double error) {
  return json{{"value", num(value)}, {"error", num(std::isfinite(value) ? error : kNaN)}};
}

json column(const std::vector<double>& v) {
  json out = json::array();
  for (double x : v) out.push_back(num(x));
  return out;
}

json column_pair(const std::vector<double>& value, const std::vector<double>& error) {
  json v = json::array(), e = json::array();
  for (size_t i = 0; i < value.size(); ++i) {
    v.push_back(num(value[i]));
    e.push_back(std::isfinite(value[i]) ? num(error[i]) : json(nullptr));
  }
  return json{{"value", v}, {"error", e}};
}

json matrix_json(const Matrix& m) {
  json out = json::array();
  for (int i = 0; i < m.rows(); ++i) {
    json row = json::array();
    for (int j = 0; j < m.cols(); ++j) row.push_back(num(m(i, j)));
    out.push_back(row);
  }
  return out;
}

std::string fmt(double x, int precision = 4) {
  std::ostringstream out;
  out.precision(precision);
  out << x;
  return out.str();
}

[[noreturn]] void options_error(const std::string& key, const std::string& reason) {
  throw InputError("analysis options: " + key + ": " + reason);
}

json range_json(double lo, double hi) { return json::array({num(lo), num(hi)}); }

// ---------------------------------------------------------------------------------------------
// Working data.

struct SpeciesWork {
  const SpeciesDefinition* def = nullptr;
  int group = 0;
  bool is_reference = false;
  bool liquid = false;
  // Free energies at every state point (NaN where undefined).
  std::vector<double> free_energy, free_energy_error;
  std::vector<std::string> note;  // why a state point is not in the fit ("" when it is)
  std::vector<int> fit_points;    // state-point indices in the fit
  bool fitted = false;
  std::string exclusion_reason;
  LinearFit fit;             // F = H - T ln g: parameters (H, ln g)
  double error_scale = 1.0;  // sqrt(reduced chi2) when errors are inflated, else 1
  int parameter_index = -1;  // H at this index of theta, ln g at +1
  // Validation.
  double worst_pull = 0.0, worst_pull_t = kNaN;
  double worst_ratio = 0.0, worst_ratio_t = kNaN;
  bool statistical_pass = false, practical_pass = false, passes = false;
  std::string verdict;
};

struct GroupWork {
  std::string name;
  int type = 0;
  std::vector<int> species;  // indices into species work, input order
  int reference = -1;        // index into species work
  std::string reference_choice;
  std::string other_bin;
  double total_fraction = 0.0;
  double max_other_fraction = 0.0;
  // Gaussian degeneracy model ln g(n) = c - (n - n_mp)^2 / (2 sigma^2), fitted as
  // ln g_s = b (n_s - n_r) + q (n_s^2 - n_r^2).
  bool gaussian_ok = false;
  std::string gaussian_reason;
  LinearFit gaussian_fit;
  std::vector<int> gaussian_species;
  int gaussian_index = -1;  // b at this index of theta, q at +1
  // NVT energy per neighbour, E_s = e n_s.
  bool energy_ok = false;
  std::string energy_reason;
  LinearFit energy_fit;
  int energy_points = 0;
  double energy_t_lo = kNaN, energy_t_hi = kNaN;
  int energy_index = -1;
};

// Everything the model evaluation needs, with the parameter vector theta.
struct ModelLayout {
  int dimension = 3;
  bool npt = true;
  std::vector<GroupWork>* groups = nullptr;
  std::vector<SpeciesWork>* species = nullptr;
  std::vector<int> model_species;  // species in the model (fitted + references), output order
  std::vector<int> liquid_in_model;
  int density_index = -1;  // rho = a0 + a1 T
  int tau_index = -1;      // ln tau = mu x + c  (mu, c); -1 when not fitted
  int n_params = 0;
};

// The quasi-species groups of theta, with the measured (fitted) or the Gaussian degeneracies.
std::vector<QuasiSpeciesGroup> build_model_groups(const ModelLayout& layout,
                                                  const std::vector<double>& theta, bool gaussian,
                                                  std::vector<std::vector<int>>* members) {
  std::vector<QuasiSpeciesGroup> out;
  if (members) members->clear();
  for (const GroupWork& g : *layout.groups) {
    QuasiSpeciesGroup qg;
    qg.total_fraction = g.total_fraction;
    std::vector<int> ids;
    const double n_ref = (*layout.species)[g.reference].def->neighbors;
    for (int s : g.species) {
      const SpeciesWork& sw = (*layout.species)[s];
      if (!sw.is_reference && !sw.fitted) continue;
      QuasiSpecies q;
      q.neighbors = sw.def->neighbors;
      if (!sw.is_reference) {
        q.enthalpy = theta[sw.parameter_index];
        q.ln_degeneracy = theta[sw.parameter_index + 1];
      }
      if (gaussian) {
        if (!g.gaussian_ok) {
          q.ln_degeneracy = kNaN;
        } else {
          const double b = theta[g.gaussian_index], qq = theta[g.gaussian_index + 1];
          const double n = q.neighbors;
          q.ln_degeneracy = b * (n - n_ref) + qq * (n * n - n_ref * n_ref);
        }
      }
      qg.species.push_back(q);
      ids.push_back(s);
    }
    out.push_back(qg);
    if (members) members->push_back(ids);
  }
  return out;
}

// Names of the per-temperature model quantities, in the order of evaluate_model's output.
struct QuantityIndex {
  int n_species = 0;
  // offsets (times the number of temperatures)
  int concentrations = 0, concentrations_gaussian = 0, c_liq = 0, c_liq_gaussian = 0, density = 0,
      xi = 0, xi_gaussian = 0, ln_tau = 0, ln_tau_gaussian = 0, enthalpy = 0, energy = 0,
      heat_capacity = 0, entropy = 0, count = 0;
};

QuantityIndex quantity_index(const ModelLayout& layout) {
  QuantityIndex q;
  q.n_species = static_cast<int>(layout.model_species.size());
  int k = 0;
  q.concentrations = k;
  k += q.n_species;
  q.concentrations_gaussian = k;
  k += q.n_species;
  q.c_liq = k++;
  q.c_liq_gaussian = k++;
  q.density = k++;
  q.xi = k++;
  q.xi_gaussian = k++;
  q.ln_tau = k++;
  q.ln_tau_gaussian = k++;
  q.enthalpy = k++;
  q.energy = k++;
  q.heat_capacity = k++;
  q.entropy = k++;
  q.count = k;
  return q;
}

// Model heat capacity per particle (k_B): NPT d/dT sum C_s H_s; NVT
// d/dT [sum_g (e_g/2) sum_s C_s n_s + (d/2) T].
double model_heat_capacity(const ModelLayout& layout, const std::vector<QuasiSpeciesGroup>& groups,
                           const std::vector<double>& theta, double t) {
  double c = 0.0;
  if (layout.npt) {
    for (const QuasiSpeciesGroup& g : groups) c += group_heat_capacity(g, t);
    return c;
  }
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const GroupWork& gw = (*layout.groups)[gi];
    if (!gw.energy_ok) return kNaN;
    c += 0.5 * theta[gw.energy_index] * group_neighbor_sum_derivative(groups[gi], t);
  }
  return c + 0.5 * layout.dimension;
}

// All model quantities at the temperatures, flattened as [quantity][temperature]. With
// entropy_reference > 0 the entropy S(T) - S(T_ref) = int_{T_ref}^{T} C/T dT is included (the
// temperatures must then be ascending).
std::vector<double> evaluate_model(const ModelLayout& layout, const std::vector<double>& theta,
                                   const std::vector<double>& temps, double entropy_reference) {
  const QuantityIndex q = quantity_index(layout);
  const size_t nt = temps.size();
  std::vector<double> out(static_cast<size_t>(q.count) * nt, kNaN);
  auto at = [&](int quantity, size_t k) -> double& { return out[quantity * nt + k]; };
  std::vector<std::vector<int>> members;
  const std::vector<QuasiSpeciesGroup> groups = build_model_groups(layout, theta, false, &members);
  const std::vector<QuasiSpeciesGroup> gauss = build_model_groups(layout, theta, true, nullptr);
  // Position of each species of the model in the output.
  std::vector<int> slot(layout.species->size(), -1);
  for (size_t i = 0; i < layout.model_species.size(); ++i) slot[layout.model_species[i]] = i;
  std::vector<char> liquid(layout.species->size(), 0);
  for (int s : layout.liquid_in_model) liquid[s] = 1;
  const double inv_d = 1.0 / layout.dimension;
  for (size_t k = 0; k < nt; ++k) {
    const double t = temps[k];
    double c_liq = 0.0, c_liq_g = 0.0;
    // ln C_liq also kept in log form so that xi stays finite when C_liq underflows.
    double enthalpy = 0.0, energy = 0.0;
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const std::vector<double> c = group_concentrations(groups[gi], t);
      const std::vector<double> cg = group_concentrations(gauss[gi], t);
      for (size_t j = 0; j < c.size(); ++j) {
        const int s = members[gi][j];
        at(q.concentrations + slot[s], k) = c[j];
        at(q.concentrations_gaussian + slot[s], k) = cg[j];
        if (liquid[s]) {
          c_liq += c[j];
          c_liq_g += cg[j];
        }
      }
      enthalpy += group_enthalpy(groups[gi], t);
      const GroupWork& gw = (*layout.groups)[gi];
      if (!layout.npt)
        energy +=
            gw.energy_ok ? 0.5 * theta[gw.energy_index] * group_neighbor_sum(groups[gi], t) : kNaN;
    }
    const double rho = theta[layout.density_index] + theta[layout.density_index + 1] * t;
    at(q.c_liq, k) = c_liq;
    at(q.c_liq_gaussian, k) = c_liq_g;
    at(q.density, k) = rho;
    const double xi = (rho > 0 && c_liq > 0) ? std::pow(rho * c_liq, -inv_d) : kNaN;
    const double xi_g = (rho > 0 && c_liq_g > 0) ? std::pow(rho * c_liq_g, -inv_d) : kNaN;
    at(q.xi, k) = xi;
    at(q.xi_gaussian, k) = xi_g;
    if (layout.tau_index >= 0) {
      at(q.ln_tau, k) = theta[layout.tau_index] * xi / t + theta[layout.tau_index + 1];
      at(q.ln_tau_gaussian, k) = theta[layout.tau_index] * xi_g / t + theta[layout.tau_index + 1];
    }
    at(q.enthalpy, k) = enthalpy;
    at(q.energy, k) = layout.npt ? kNaN : energy + 0.5 * layout.dimension * t;
    at(q.heat_capacity, k) = model_heat_capacity(layout, groups, theta, t);
  }
  if (entropy_reference > 0.0 && nt > 0) {
    auto heat_capacity = [&](double t) { return model_heat_capacity(layout, groups, theta, t); };
    // Cumulative integral from temps[0], then shift so that S(T_ref) = 0.
    std::vector<double> cumulative(nt, 0.0);
    for (size_t k = 1; k < nt; ++k)
      cumulative[k] =
          cumulative[k - 1] + integrate_heat_capacity_over_t(heat_capacity, temps[k - 1], temps[k],
                                                             kEntropyIntervalsPerSegment);
    // Integral from temps[0] to T_ref, through the grid segment that holds T_ref.
    size_t seg = 0;
    while (seg + 1 < nt && temps[seg + 1] <= entropy_reference) ++seg;
    const double at_ref = cumulative[seg] + integrate_heat_capacity_over_t(
                                                heat_capacity, temps[seg], entropy_reference,
                                                4 * kEntropyIntervalsPerSegment);
    for (size_t k = 0; k < nt; ++k) at(q.entropy, k) = cumulative[k] - at_ref;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Options.

void check_options(const AnalyzeOptions& o) {
  if (o.grid_points < 2) options_error("grid_points", "must be >= 2");
  if (o.grid_points > 100000) options_error("grid_points", "must be <= 100000");
  if (o.normalization != "group" && o.normalization != "tracked")
    options_error("normalization",
                  "expected \"group\" or \"tracked\", got \"" + o.normalization + "\"");
  if (o.min_temperatures < 3) options_error("min_temperatures", "must be >= 3");
  if (!(o.max_relative_error > 0.0)) options_error("max_relative_error", "must be > 0");
  if (o.validation_criterion != "statistical" && o.validation_criterion != "practical" &&
      o.validation_criterion != "either")
    options_error("validation_criterion", "expected statistical, practical or either");
  if (!(o.p_value_min >= 0.0 && o.p_value_min < 1.0))
    options_error("p_value_min", "must be in [0, 1)");
  if (!(o.z_max > 0.0)) options_error("z_max", "must be > 0");
  if (!(o.relative_tolerance > 0.0)) options_error("relative_tolerance", "must be > 0");
  if (!(o.concentration_tolerance >= 0.0)) options_error("concentration_tolerance", "must be >= 0");
  for (auto [key, v] : {std::pair<const char*, std::optional<double>>{"t_min", o.t_min},
                        {"t_max", o.t_max},
                        {"grid_t_min", o.grid_t_min},
                        {"grid_t_max", o.grid_t_max},
                        {"entropy_reference_temperature", o.entropy_reference_temperature}})
    if (v && !(*v > 0.0 && std::isfinite(*v))) options_error(key, "must be a positive number");
  if (o.t_min && o.t_max && *o.t_min > *o.t_max) options_error("t_min", "greater than t_max");
  if (o.grid_t_min && o.grid_t_max && *o.grid_t_min >= *o.grid_t_max)
    options_error("grid_t_min", "must be below grid_t_max");
}

json options_json(const AnalyzeOptions& o) {
  json ref = json::object();
  for (const auto& [k, v] : o.reference) ref[k] = v;
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  return json{{"reference", ref},
              {"liquid_species", o.liquid_species},
              {"t_min", opt(o.t_min)},
              {"t_max", opt(o.t_max)},
              {"grid_t_min", opt(o.grid_t_min)},
              {"grid_t_max", opt(o.grid_t_max)},
              {"grid_points", o.grid_points},
              {"normalization", o.normalization},
              {"min_temperatures", o.min_temperatures},
              {"max_relative_error", o.max_relative_error},
              {"validation_criterion", o.validation_criterion},
              {"p_value_min", o.p_value_min},
              {"z_max", o.z_max},
              {"relative_tolerance", o.relative_tolerance},
              {"inflate_errors", o.inflate_errors},
              {"entropy_reference_temperature", opt(o.entropy_reference_temperature)},
              {"concentration_tolerance", o.concentration_tolerance}};
}

// ---------------------------------------------------------------------------------------------
// Fit of one species' free energies and its validation.

void fit_species(SpeciesWork& sw, const std::vector<StatePointMeasurement>& sp,
                 const AnalyzeOptions& opt) {
  std::vector<double> t, y, sigma;
  for (int k : sw.fit_points) {
    t.push_back(sp[k].temperature);
    y.push_back(sw.free_energy[k]);
    sigma.push_back(sw.free_energy_error[k]);
  }
  Matrix design(static_cast<int>(t.size()), 2);
  for (size_t i = 0; i < t.size(); ++i) {
    design(static_cast<int>(i), 0) = 1.0;
    design(static_cast<int>(i), 1) = -t[i];
  }
  sw.fit = weighted_linear_fit(design, y, sigma);
  sw.fitted = true;
  if (opt.inflate_errors && sw.fit.reduced_chi2 > 1.0)
    sw.error_scale = std::sqrt(sw.fit.reduced_chi2);
  // Validation.
  sw.worst_pull = 0.0;
  sw.worst_ratio = 0.0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (std::abs(sw.fit.pulls[i]) >= std::abs(sw.worst_pull)) {
      sw.worst_pull = sw.fit.pulls[i];
      sw.worst_pull_t = t[i];
    }
    // Measured C_s/C_r over the fitted one: exp(-(F_meas - F_fit)/T).
    const double ratio = std::expm1(-sw.fit.residuals[i] / t[i]);
    if (std::abs(ratio) >= std::abs(sw.worst_ratio)) {
      sw.worst_ratio = ratio;
      sw.worst_ratio_t = t[i];
    }
  }
  std::vector<std::string> stat_reasons;
  if (!(sw.fit.p_value >= opt.p_value_min))
    stat_reasons.push_back("chi2 p-value " + fmt(sw.fit.p_value, 3) + " < " + fmt(opt.p_value_min));
  if (std::abs(sw.worst_pull) > opt.z_max)
    stat_reasons.push_back("worst |pull| " + fmt(std::abs(sw.worst_pull), 3) +
                           " at T = " + fmt(sw.worst_pull_t) + " > " + fmt(opt.z_max));
  sw.statistical_pass = stat_reasons.empty();
  sw.practical_pass = std::abs(sw.worst_ratio) <= opt.relative_tolerance;
  const std::string practical_reason = "measured C_s/C_r deviates from the fit by " +
                                       fmt(100 * std::abs(sw.worst_ratio), 3) +
                                       " % at T = " + fmt(sw.worst_ratio_t) + " (tolerance " +
                                       fmt(100 * opt.relative_tolerance) + " %)";
  std::string stat_reason;
  for (size_t i = 0; i < stat_reasons.size(); ++i) stat_reason += (i ? "; " : "") + stat_reasons[i];
  if (opt.validation_criterion == "statistical") {
    sw.passes = sw.statistical_pass;
    sw.verdict = sw.passes ? "statistically consistent" : stat_reason;
  } else if (opt.validation_criterion == "practical") {
    sw.passes = sw.practical_pass;
    sw.verdict =
        sw.passes ? "within the practical tolerance: " + practical_reason : practical_reason;
  } else {
    sw.passes = sw.statistical_pass || sw.practical_pass;
    if (sw.statistical_pass)
      sw.verdict = "statistically consistent";
    else if (sw.practical_pass)
      sw.verdict = "statistically rejected (" + stat_reason +
                   ") but within the practical tolerance: " + practical_reason;
    else
      sw.verdict = stat_reason + "; " + practical_reason;
  }
}

// ---------------------------------------------------------------------------------------------
// Relaxation fit ln tau = mu x + c, x = xi/T.

struct TauFit {
  bool ok = false;
  std::string reason;
  std::string weighting;
  LinearFit fit;
  std::vector<int> points;
  std::vector<double> x, x_error, y, y_error;
};

TauFit fit_relaxation(const std::vector<int>& points, const std::vector<double>& x,
                      const std::vector<double>& x_error, const std::vector<double>& y,
                      const std::vector<double>& y_error, bool weighted) {
  TauFit tf;
  tf.points = points;
  tf.x = x;
  tf.x_error = x_error;
  tf.y = y;
  tf.y_error = y_error;
  if (points.size() < 3) {
    tf.reason =
        "fewer than three state points with tau_alpha reached, equilibrated and C_liq > 0 (" +
        std::to_string(points.size()) + ")";
    return tf;
  }
  const Matrix design = straight_line_design(x);
  try {
    if (weighted) {
      // Effective variance: sigma^2 = sigma_lnTau^2 + mu^2 sigma_x^2, iterated on mu.
      double mu = unweighted_linear_fit(design, y).parameters[1];
      for (int iteration = 0; iteration < 20; ++iteration) {
        std::vector<double> sigma(y.size());
        for (size_t i = 0; i < y.size(); ++i)
          sigma[i] = std::sqrt(y_error[i] * y_error[i] + mu * mu * x_error[i] * x_error[i]);
        tf.fit = weighted_linear_fit(design, y, sigma);
        const double new_mu = tf.fit.parameters[1];
        const bool converged = std::abs(new_mu - mu) <= 1e-12 * std::max(1.0, std::abs(mu));
        mu = new_mu;
        if (converged) break;
      }
      tf.weighting =
          "weighted: 1/sigma^2 with sigma^2 = (err_tau/tau)^2 + mu^2 err_x^2 (effective variance, "
          "x = xi/T)";
    } else {
      tf.fit = unweighted_linear_fit(design, y);
      tf.weighting =
          "unweighted (tau_alpha errors absent): parameter errors from the residual scatter, "
          "s^2 = RSS/(n-2)";
    }
    tf.ok = true;
  } catch (const std::invalid_argument& e) {
    tf.reason = std::string("fit failed: ") + e.what();
  }
  return tf;
}

// ---------------------------------------------------------------------------------------------
// Comparison of a model curve with a measured one (enthalpy or energy).

// model_average_error(w): the error of sum_k w_k model_k for normalised weights w, which must
// account for the correlation of the model values across temperatures (shared parameters).
json compare_thermo(const std::vector<double>& temps, const std::vector<double>& model,
                    const std::vector<double>& model_error, const std::vector<double>& measured,
                    const std::vector<double>& measured_error, bool with_constant,
                    const std::function<double(const std::vector<double>&)>& model_average_error) {
  const size_t n = temps.size();
  bool all_errors = true;
  for (size_t i = 0; i < n; ++i)
    if (!(model_error[i] * model_error[i] + measured_error[i] * measured_error[i] > 0))
      all_errors = false;
  std::vector<double> w(n, 1.0);
  double sw = 0.0, swd = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double var = model_error[i] * model_error[i] + measured_error[i] * measured_error[i];
    if (all_errors) w[i] = 1.0 / var;
    sw += w[i];
    swd += w[i] * (measured[i] - model[i]);
  }
  const double constant = with_constant ? swd / sw : 0.0;
  double constant_error = kNaN;
  if (with_constant && all_errors) {
    double var_measured = 0.0;
    for (size_t i = 0; i < n; ++i) {
      w[i] /= sw;
      var_measured += w[i] * w[i] * measured_error[i] * measured_error[i];
    }
    const double model_part = model_average_error ? model_average_error(w) : 0.0;
    constant_error = std::sqrt(var_measured + model_part * model_part);
  }
  std::vector<double> ratio(n), deviation(n), pull(n);
  double worst = 0.0, worst_t = kNaN, chi2 = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double shifted = model[i] + constant;
    ratio[i] = measured[i] != 0.0 ? shifted / measured[i] : kNaN;
    deviation[i] = shifted - measured[i];
    const double var = model_error[i] * model_error[i] + measured_error[i] * measured_error[i];
    pull[i] = var > 0 ? deviation[i] / std::sqrt(var) : kNaN;
    if (std::isfinite(pull[i])) chi2 += pull[i] * pull[i];
    if (std::isfinite(ratio[i]) && std::abs(ratio[i] - 1.0) >= std::abs(worst)) {
      worst = ratio[i] - 1.0;
      worst_t = temps[i];
    }
  }
  const int dof = static_cast<int>(n) - (with_constant ? 1 : 0);
  json out;
  out["additive_constant"] = with_constant ? value_error(constant, constant_error) : json(nullptr);
  out["temperature"] = column(temps);
  out["model_plus_constant"] = column_pair(
      [&] {
        std::vector<double> v(n);
        for (size_t i = 0; i < n; ++i) v[i] = model[i] + constant;
        return v;
      }(),
      model_error);
  out["measured"] = column_pair(measured, measured_error);
  out["ratio"] = column(ratio);
  out["pull"] = column(pull);
  out["worst_relative_deviation"] = {{"value", num(worst)}, {"temperature", num(worst_t)}};
  out["chi2"] = all_errors ? num(chi2) : json(nullptr);
  out["dof"] = dof;
  out["reduced_chi2"] = all_errors && dof > 0 ? num(chi2 / dof) : json(nullptr);
  out["temperature_range"] = range_json(n ? temps.front() : kNaN, n ? temps.back() : kNaN);
  return out;
}

}  // namespace

// =============================================================================================

AnalyzeOptions parse_analyze_options(const json& j) {
  if (!j.is_object()) options_error("(top level)", "expected a JSON object");
  AnalyzeOptions o;
  auto number = [&](const std::string& key) -> double {
    if (!j[key].is_number()) options_error(key, "expected a number");
    return j[key].get<double>();
  };
  auto optional_number = [&](const std::string& key) -> std::optional<double> {
    if (j[key].is_null()) return std::nullopt;
    return number(key);
  };
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    if (key == "reference") {
      if (!it->is_object()) options_error(key, "expected an object group -> species");
      for (auto r = it->begin(); r != it->end(); ++r) {
        if (!r->is_string()) options_error("reference." + r.key(), "expected a species name");
        o.reference[r.key()] = r->get<std::string>();
      }
    } else if (key == "liquid_species") {
      if (!it->is_array()) options_error(key, "expected an array of species names");
      for (const json& s : *it) {
        if (!s.is_string()) options_error(key, "expected species names");
        o.liquid_species.push_back(s.get<std::string>());
      }
    } else if (key == "t_min") {
      o.t_min = optional_number(key);
    } else if (key == "t_max") {
      o.t_max = optional_number(key);
    } else if (key == "grid_t_min") {
      o.grid_t_min = optional_number(key);
    } else if (key == "grid_t_max") {
      o.grid_t_max = optional_number(key);
    } else if (key == "grid_points") {
      if (!it->is_number_integer()) options_error(key, "expected an integer");
      o.grid_points = it->get<int>();
    } else if (key == "normalization") {
      if (!it->is_string()) options_error(key, "expected a string");
      o.normalization = it->get<std::string>();
    } else if (key == "min_temperatures") {
      if (!it->is_number_integer()) options_error(key, "expected an integer");
      o.min_temperatures = it->get<int>();
    } else if (key == "max_relative_error") {
      o.max_relative_error = number(key);
    } else if (key == "validation_criterion") {
      if (!it->is_string()) options_error(key, "expected a string");
      o.validation_criterion = it->get<std::string>();
    } else if (key == "p_value_min") {
      o.p_value_min = number(key);
    } else if (key == "z_max") {
      o.z_max = number(key);
    } else if (key == "relative_tolerance") {
      o.relative_tolerance = number(key);
    } else if (key == "inflate_errors") {
      if (!it->is_boolean()) options_error(key, "expected true or false");
      o.inflate_errors = it->get<bool>();
    } else if (key == "entropy_reference_temperature") {
      o.entropy_reference_temperature = optional_number(key);
    } else if (key == "concentration_tolerance") {
      o.concentration_tolerance = number(key);
    } else {
      options_error(key, "unknown option");
    }
  }
  check_options(o);
  return o;
}

json analyze(const json& document, const AnalyzeOptions& opt) {
  check_options(opt);
  const Measurements m = parse_measurements(document, opt.concentration_tolerance);
  const std::vector<StatePointMeasurement>& sp = m.state_points;
  const size_t n_sp = sp.size();
  const bool npt = m.is_npt();
  json warnings = json::array();

  // ---- state points used by the fits --------------------------------------------------------
  std::vector<int> fit_points;
  json state_points_json = json::array(), excluded_json = json::array();
  std::vector<char> used(n_sp, 0);
  for (size_t k = 0; k < n_sp; ++k) {
    std::vector<std::string> reasons;
    if (!sp[k].equilibrated) {
      std::string r = "not equilibrated";
      for (const std::string& f : sp[k].flags) r += "; " + f;
      reasons.push_back(r);
    }
    if (opt.t_min && sp[k].temperature < *opt.t_min) reasons.push_back("below t_min");
    if (opt.t_max && sp[k].temperature > *opt.t_max) reasons.push_back("above t_max");
    used[k] = reasons.empty();
    if (used[k]) fit_points.push_back(static_cast<int>(k));
    json entry = {{"temperature", sp[k].temperature},
                  {"input_index", sp[k].index},
                  {"used_in_fits", static_cast<bool>(used[k])},
                  {"reasons", reasons}};
    state_points_json.push_back(entry);
    if (!used[k]) excluded_json.push_back(entry);
  }
  if (fit_points.size() < 3)
    throw InputError("measurements.json: state_points: only " + std::to_string(fit_points.size()) +
                     " usable temperatures (equilibrated and inside t_min..t_max); the fits need "
                     "at least three");
  const double t_lo = sp[fit_points.front()].temperature;
  const double t_hi = sp[fit_points.back()].temperature;

  // ---- groups and species ---------------------------------------------------------------------
  std::vector<SpeciesWork> species(m.species.size());
  std::vector<GroupWork> groups;
  std::map<int, int> group_of_type;
  for (size_t s = 0; s < m.species.size(); ++s) {
    const int type = m.species[s].type;
    if (!group_of_type.count(type)) {
      GroupWork g;
      g.type = type;
      g.name = type < static_cast<int>(m.particle_types.size()) ? m.particle_types[type]
                                                                : "type" + std::to_string(type);
      group_of_type[type] = 0;
      groups.push_back(g);
    }
  }
  std::sort(groups.begin(), groups.end(),
            [](const GroupWork& a, const GroupWork& b) { return a.type < b.type; });
  for (size_t g = 0; g < groups.size(); ++g) group_of_type[groups[g].type] = static_cast<int>(g);
  for (size_t s = 0; s < m.species.size(); ++s) {
    species[s].def = &m.species[s];
    species[s].group = group_of_type[m.species[s].type];
    groups[species[s].group].species.push_back(static_cast<int>(s));
  }
  for (const OtherBinDefinition& b : m.other_bins)
    if (group_of_type.count(b.type)) groups[group_of_type[b.type]].other_bin = b.name;
  std::map<std::string, int> species_by_name;
  for (size_t s = 0; s < m.species.size(); ++s) species_by_name[m.species[s].name] = s;

  // Liquid species.
  std::vector<std::string> liquid_names = opt.liquid_species;
  const ModelFacts facts = *model_facts(m.model);  // parse_measurements rejects unknown models
  if (liquid_names.empty())
    for (const SpeciesDefinition& s : m.species)
      if (facts.is_liquid(s.type, s.neighbors)) liquid_names.push_back(s.name);
  for (const std::string& name : liquid_names) {
    if (!species_by_name.count(name))
      options_error("liquid_species", "unknown species \"" + name + "\"");
    species[species_by_name[name]].liquid = true;
  }

  // References.
  for (const auto& [group_name, species_name] : opt.reference) {
    bool found = false;
    for (const GroupWork& g : groups) found = found || g.name == group_name;
    if (!found) {
      std::string names;
      for (const GroupWork& g : groups) names += (names.empty() ? "" : ", ") + g.name;
      options_error("reference." + group_name,
                    "no group \"" + group_name + "\" (groups: " + names + ")");
    }
  }
  for (GroupWork& g : groups) {
    auto it = opt.reference.find(g.name);
    std::string ref_name;
    if (it != opt.reference.end()) {
      ref_name = it->second;
      g.reference_choice = "option";
      if (!species_by_name.count(ref_name) || m.species[species_by_name[ref_name]].type != g.type)
        options_error("reference." + g.name,
                      "\"" + ref_name + "\" is not a species of group " + g.name);
    } else if (!facts.default_reference.empty() && species_by_name.count(facts.default_reference) &&
               m.species[species_by_name[facts.default_reference]].type == g.type) {
      ref_name = facts.default_reference;
      g.reference_choice = facts.default_reference_choice;
    } else {
      // The species with the largest minimum concentration over the fitted state points.
      double best = -1.0;
      for (int s : g.species) {
        double min_c = INFINITY;
        for (int k : fit_points)
          min_c = std::min(min_c, sp[k].concentrations.at(m.species[s].name).mean);
        if (min_c > best) {
          best = min_c;
          ref_name = m.species[s].name;
        }
      }
      g.reference_choice = "automatic (largest minimum concentration over the fitted temperatures)";
    }
    g.reference = species_by_name[ref_name];
    species[g.reference].is_reference = true;
    for (int k : fit_points) {
      const MeasuredValue c = sp[k].concentrations.at(ref_name);
      if (!(c.mean > 0.0))
        throw InputError("measurements.json: state_points[" + std::to_string(sp[k].index) +
                         "].concentrations." + ref_name + ": reference species of group " + g.name +
                         " is absent (concentration " + fmt(c.mean) +
                         ") at T = " + fmt(sp[k].temperature) + "; choose another reference");
    }
    // Group fractions.
    double sum_total = 0.0, sum_tracked = 0.0;
    for (int k : fit_points) {
      double tracked = 0.0;
      for (int s : g.species) tracked += sp[k].concentrations.at(m.species[s].name).mean;
      double other = 0.0;
      if (!g.other_bin.empty() && sp[k].concentrations.count(g.other_bin))
        other = sp[k].concentrations.at(g.other_bin).mean;
      sum_total += tracked + other;
      sum_tracked += tracked;
      g.max_other_fraction = std::max(g.max_other_fraction, other / (tracked + other));
    }
    g.total_fraction = (opt.normalization == "group" ? sum_total : sum_tracked) / fit_points.size();
    if (g.max_other_fraction > 0.005)
      warnings.push_back("group " + g.name + ": up to " + fmt(100 * g.max_other_fraction, 3) +
                         " % of its particles are in the other bin (untracked species)");
  }

  // ---- free energies ----------------------------------------------------------------------------
  // Input with every concentration error zero is treated as exact (relative error floor); when
  // errors are given elsewhere, a zero error on a nonzero concentration cannot be weighted and
  // that point is left out of the species' fit.
  bool exact_input = true;
  for (int k : fit_points)
    for (const auto& [name, value] : sp[k].concentrations)
      if (value.error > 0.0) exact_input = false;
  for (SpeciesWork& sw : species) {
    sw.free_energy.assign(n_sp, kNaN);
    sw.free_energy_error.assign(n_sp, kNaN);
    sw.note.assign(n_sp, "");
    const std::string& ref = m.species[groups[sw.group].reference].name;
    for (size_t k = 0; k < n_sp; ++k) {
      const double t = sp[k].temperature;
      const MeasuredValue c = sp[k].concentrations.at(sw.def->name);
      const MeasuredValue cr = sp[k].concentrations.at(ref);
      if (sw.is_reference) {
        sw.free_energy[k] = 0.0;
        sw.free_energy_error[k] = 0.0;
        sw.note[k] = "reference species (F = 0 by definition)";
        continue;
      }
      if (!(c.mean > 0.0) || !(cr.mean > 0.0)) {
        sw.note[k] = c.mean > 0.0 ? "reference species absent" : "species absent (C = 0)";
        continue;
      }
      const double rel = std::max(c.error / c.mean, kRelativeErrorFloor);
      const double rel_r = std::max(cr.error / cr.mean, kRelativeErrorFloor);
      sw.free_energy[k] = -t * std::log(c.mean / cr.mean);
      sw.free_energy_error[k] = t * std::sqrt(rel * rel + rel_r * rel_r);
      if (!used[k]) {
        sw.note[k] = "state point excluded";
      } else if (c.error == 0.0 && !exact_input) {
        sw.note[k] = "zero error on a nonzero concentration (cannot be weighted)";
      } else if (c.error / c.mean > opt.max_relative_error) {
        sw.note[k] = "relative error " + fmt(c.error / c.mean, 3) + " > max_relative_error";
      } else {
        sw.fit_points.push_back(static_cast<int>(k));
      }
    }
    if (sw.is_reference) continue;
    if (static_cast<int>(sw.fit_points.size()) < opt.min_temperatures) {
      sw.exclusion_reason = "measured well at " + std::to_string(sw.fit_points.size()) +
                            " fitted temperatures, fewer than min_temperatures = " +
                            std::to_string(opt.min_temperatures);
      continue;
    }
    try {
      fit_species(sw, sp, opt);
    } catch (const std::invalid_argument& e) {
      sw.fitted = false;
      sw.exclusion_reason = std::string("fit failed: ") + e.what();
    }
  }

  // ---- parameter vector: (H, ln g) of every fitted species --------------------------------------
  int n_params = 0;
  for (SpeciesWork& sw : species)
    if (sw.fitted) {
      sw.parameter_index = n_params;
      n_params += 2;
    }
  for (GroupWork& g : groups) {
    g.gaussian_index = n_params;
    n_params += 2;
  }
  const int density_index = n_params;
  n_params += 2;
  const int tau_index = n_params;
  n_params += 2;
  for (GroupWork& g : groups) g.energy_index = n_params++;
  std::vector<double> theta(n_params, 0.0);
  Matrix cov(n_params, n_params);

  // Covariance of the species fits, including the correlation through the shared reference
  // species: Cov(F_s(T), F_s'(T)) = T^2 (err_r/C_r)^2.
  for (SpeciesWork& a : species) {
    if (!a.fitted) continue;
    theta[a.parameter_index] = a.fit.parameters[0];
    theta[a.parameter_index + 1] = a.fit.parameters[1];
    for (SpeciesWork& b : species) {
      if (!b.fitted || b.group != a.group) continue;
      Matrix block(2, 2);
      if (&a == &b) {
        block = a.fit.covariance;
      } else {
        const std::string& ref = m.species[groups[a.group].reference].name;
        Matrix shared(static_cast<int>(a.fit_points.size()), static_cast<int>(b.fit_points.size()));
        for (size_t i = 0; i < a.fit_points.size(); ++i)
          for (size_t j = 0; j < b.fit_points.size(); ++j)
            if (a.fit_points[i] == b.fit_points[j]) {
              const StatePointMeasurement& p = sp[a.fit_points[i]];
              const MeasuredValue cr = p.concentrations.at(ref);
              const double rel = std::max(cr.error / cr.mean, kRelativeErrorFloor);
              shared(static_cast<int>(i), static_cast<int>(j)) =
                  p.temperature * p.temperature * rel * rel;
            }
        block = a.fit.estimator * shared * b.fit.estimator.transpose();
      }
      const double scale = a.error_scale * b.error_scale;
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
          cov(a.parameter_index + i, b.parameter_index + j) = scale * block(i, j);
    }
  }

  // ---- Gaussian degeneracy model per group ------------------------------------------------------
  for (GroupWork& g : groups) {
    const double n_ref = m.species[g.reference].neighbors;
    std::vector<int> ids;
    for (int s : g.species)
      if (species[s].fitted) ids.push_back(s);
    g.gaussian_species = ids;
    if (ids.size() < 2) {
      g.gaussian_reason = "needs at least two fitted species besides the reference (" +
                          std::to_string(ids.size()) + ")";
      continue;
    }
    const int n = static_cast<int>(ids.size());
    Matrix design(n, 2), data_cov(n, n), select(n, n_params);
    std::vector<double> y(n);
    for (int i = 0; i < n; ++i) {
      const double ns = m.species[ids[i]].neighbors;
      design(i, 0) = ns - n_ref;
      design(i, 1) = ns * ns - n_ref * n_ref;
      y[i] = theta[species[ids[i]].parameter_index + 1];
      select(i, species[ids[i]].parameter_index + 1) = 1.0;
      for (int j = 0; j < n; ++j)
        data_cov(i, j) =
            cov(species[ids[i]].parameter_index + 1, species[ids[j]].parameter_index + 1);
    }
    try {
      g.gaussian_fit = generalized_linear_fit(design, y, data_cov);
    } catch (const std::invalid_argument& e) {
      g.gaussian_reason = std::string("fit failed: ") + e.what();
      continue;
    }
    if (!(g.gaussian_fit.parameters[1] < 0.0)) {
      g.gaussian_reason = "ln g(n) is not concave (quadratic coefficient " +
                          fmt(g.gaussian_fit.parameters[1]) + " >= 0): no Gaussian maximum";
      continue;
    }
    g.gaussian_ok = true;
    theta[g.gaussian_index] = g.gaussian_fit.parameters[0];
    theta[g.gaussian_index + 1] = g.gaussian_fit.parameters[1];
    // (b, q) = E·ln g: exact linear propagation, including the correlation with every H and ln g.
    const Matrix map = g.gaussian_fit.estimator * select;  // 2 x n_params
    const Matrix cross = map * cov;                        // 2 x n_params
    double scale = 1.0;
    if (opt.inflate_errors && g.gaussian_fit.reduced_chi2 > 1.0)
      scale = std::sqrt(g.gaussian_fit.reduced_chi2);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < n_params; ++j) {
        cov(g.gaussian_index + i, j) = scale * cross(i, j);
        cov(j, g.gaussian_index + i) = scale * cross(i, j);
      }
    const Matrix own = cross * map.transpose();
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j)
        cov(g.gaussian_index + i, g.gaussian_index + j) = scale * scale * own(i, j);
  }

  // ---- density: rho(T) = a0 + a1 T (NPT, weighted linear fit) or constant (NVT) ---------------
  json density_json;
  {
    std::vector<double> t, rho, err;
    bool all_errors = true;
    for (int k : fit_points) {
      t.push_back(sp[k].temperature);
      rho.push_back(sp[k].density.mean);
      err.push_back(sp[k].density.error);
      if (!(sp[k].density.error > 0.0)) all_errors = false;
    }
    LinearFit fit;
    std::string form, weighting;
    if (npt) {
      form = "linear: rho(T) = a0 + a1 T";
      if (all_errors) {
        fit = weighted_linear_fit(straight_line_design(t), rho, err);
        weighting = "weighted by the density errors";
      } else {
        fit = unweighted_linear_fit(straight_line_design(t), rho);
        weighting = "unweighted (density errors absent or zero); errors from the residual scatter";
      }
      theta[density_index] = fit.parameters[0];
      theta[density_index + 1] = fit.parameters[1];
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
          cov(density_index + i, density_index + j) = fit.covariance(i, j);
    } else {
      form = "constant: rho(T) = a0 (fixed volume), a1 = 0";
      Matrix design(static_cast<int>(t.size()), 1, 1.0);
      if (all_errors) {
        fit = weighted_linear_fit(design, rho, err);
        weighting = "weighted mean of the measured densities";
      } else {
        fit = unweighted_linear_fit(design, rho);
        weighting = "mean of the measured densities (errors absent or zero)";
      }
      theta[density_index] = fit.parameters[0];
      theta[density_index + 1] = 0.0;
      cov(density_index, density_index) = fit.covariance(0, 0);
    }
    density_json = {
        {"form", form},
        {"weighting", weighting},
        {"a0", value_error(theta[density_index], std::sqrt(cov(density_index, density_index)))},
        {"a1", value_error(theta[density_index + 1],
                           std::sqrt(cov(density_index + 1, density_index + 1)))},
        {"covariance", matrix_json(fit.covariance)},
        {"reduced_chi2", num(fit.reduced_chi2)},
        {"temperature_range", range_json(t_lo, t_hi)},
        {"units", "a0: sigma^-d, a1: sigma^-d per unit T"}};
  }

  // ---- measured C_liq, xi at every state point
  // ---------------------------------------------------
  std::vector<double> c_liq_meas(n_sp, 0.0), c_liq_meas_err(n_sp, 0.0), xi_meas(n_sp, kNaN),
      xi_meas_err(n_sp, kNaN);
  const double inv_d = 1.0 / m.dimension;
  for (size_t k = 0; k < n_sp; ++k) {
    double var = 0.0;
    for (const SpeciesWork& sw : species)
      if (sw.liquid) {
        const MeasuredValue c = sp[k].concentrations.at(sw.def->name);
        c_liq_meas[k] += c.mean;
        var += c.error * c.error;
      }
    c_liq_meas_err[k] = std::sqrt(var);
    if (c_liq_meas[k] > 0.0) {
      xi_meas[k] = std::pow(sp[k].density.mean * c_liq_meas[k], -inv_d);
      const double rel_rho = sp[k].density.error / sp[k].density.mean;
      const double rel_c = c_liq_meas_err[k] / c_liq_meas[k];
      xi_meas_err[k] = xi_meas[k] * inv_d * std::sqrt(rel_rho * rel_rho + rel_c * rel_c);
    }
  }

  // ---- relaxation: ln tau = mu xi/T + c
  // -----------------------------------------------------------
  json relaxation_excluded = json::array();
  std::vector<int> tau_points;
  bool tau_errors = true;
  for (size_t k = 0; k < n_sp; ++k) {
    std::vector<std::string> reasons;
    if (!used[k]) reasons.push_back("state point excluded");
    if (!sp[k].tau_alpha.reached) reasons.push_back("tau_alpha not reached");
    if (!(c_liq_meas[k] > 0.0)) reasons.push_back("C_liq = 0");
    if (!reasons.empty()) {
      json e = {
          {"temperature", sp[k].temperature}, {"input_index", sp[k].index}, {"reasons", reasons}};
      e["lower_bound"] =
          sp[k].tau_alpha.lower_bound ? json(*sp[k].tau_alpha.lower_bound) : json(nullptr);
      e["tau_alpha_measured"] =
          sp[k].tau_alpha.value ? json(*sp[k].tau_alpha.value) : json(nullptr);
      relaxation_excluded.push_back(e);
      continue;
    }
    tau_points.push_back(static_cast<int>(k));
    if (!sp[k].tau_alpha.error) tau_errors = false;
  }
  auto tau_data = [&](const std::vector<int>& pts) {
    std::vector<double> x, xe, y, ye;
    for (int k : pts) {
      const double t = sp[k].temperature;
      x.push_back(xi_meas[k] / t);
      xe.push_back(xi_meas_err[k] / t);
      y.push_back(std::log(*sp[k].tau_alpha.value));
      ye.push_back(sp[k].tau_alpha.error ? *sp[k].tau_alpha.error / *sp[k].tau_alpha.value : 0.0);
    }
    return fit_relaxation(pts, x, xe, y, ye, tau_errors);
  };
  const TauFit tau_fit = tau_data(tau_points);
  if (tau_fit.ok) {
    theta[tau_index] = tau_fit.fit.parameters[1];
    theta[tau_index + 1] = tau_fit.fit.parameters[0];
    cov(tau_index, tau_index) = tau_fit.fit.covariance(1, 1);
    cov(tau_index + 1, tau_index + 1) = tau_fit.fit.covariance(0, 0);
    cov(tau_index, tau_index + 1) = cov(tau_index + 1, tau_index) = tau_fit.fit.covariance(0, 1);
  }

  // ---- NVT: energy per neighbour E_s = e n_s per group ------------------------------------------
  if (!npt) {
    for (GroupWork& g : groups) {
      std::vector<double> n_col, y, err;
      bool all_errors = true;
      for (int k : fit_points)
        for (int s : g.species) {
          auto it = sp[k].species_energy.find(m.species[s].name);
          if (it == sp[k].species_energy.end()) continue;
          if (sp[k].concentrations.at(m.species[s].name).mean <= 0.0) continue;
          n_col.push_back(m.species[s].neighbors);
          y.push_back(it->second.mean);
          err.push_back(it->second.error);
          if (!(it->second.error > 0.0)) all_errors = false;
          g.energy_t_lo = std::isfinite(g.energy_t_lo) ? std::min(g.energy_t_lo, sp[k].temperature)
                                                       : sp[k].temperature;
          g.energy_t_hi = std::isfinite(g.energy_t_hi) ? std::max(g.energy_t_hi, sp[k].temperature)
                                                       : sp[k].temperature;
        }
      g.energy_points = static_cast<int>(y.size());
      if (y.size() < 2) {
        g.energy_reason = "species_energy missing (fewer than two values at fitted state points)";
        continue;
      }
      Matrix design(static_cast<int>(y.size()), 1);
      for (size_t i = 0; i < y.size(); ++i) design(static_cast<int>(i), 0) = n_col[i];
      try {
        g.energy_fit =
            all_errors ? weighted_linear_fit(design, y, err) : unweighted_linear_fit(design, y);
        g.energy_ok = true;
        theta[g.energy_index] = g.energy_fit.parameters[0];
        cov(g.energy_index, g.energy_index) = g.energy_fit.covariance(0, 0);
      } catch (const std::invalid_argument& e) {
        g.energy_reason = std::string("fit failed: ") + e.what();
      }
    }
  }

  // ---- the model
  // ---------------------------------------------------------------------------------
  ModelLayout layout;
  layout.dimension = m.dimension;
  layout.npt = npt;
  layout.groups = &groups;
  layout.species = &species;
  for (const GroupWork& g : groups)
    for (int s : g.species)
      if (species[s].fitted || species[s].is_reference) {
        layout.model_species.push_back(s);
        if (species[s].liquid) layout.liquid_in_model.push_back(s);
      }
  layout.density_index = density_index;
  layout.tau_index = tau_fit.ok ? tau_index : -1;
  layout.n_params = n_params;
  json liquid_missing = json::array();
  for (const SpeciesWork& sw : species)
    if (sw.liquid && !sw.fitted && !sw.is_reference) liquid_missing.push_back(sw.def->name);
  if (!liquid_missing.empty())
    warnings.push_back("liquid species without a fit are missing from the predicted C_liq: " +
                       liquid_missing.dump());
  const QuantityIndex qi = quantity_index(layout);

  // Evaluation temperatures: every state point, then the midpoints of the fitted ones (for the
  // finite-difference heat capacity comparison).
  std::vector<double> eval_t;
  for (const StatePointMeasurement& p : sp) eval_t.push_back(p.temperature);
  std::vector<double> mid_t;
  for (size_t i = 1; i < fit_points.size(); ++i)
    mid_t.push_back(0.5 * (sp[fit_points[i - 1]].temperature + sp[fit_points[i]].temperature));
  eval_t.insert(eval_t.end(), mid_t.begin(), mid_t.end());
  const PropagatedValues at_points = propagate_errors(
      [&](const std::vector<double>& th) { return evaluate_model(layout, th, eval_t, 0.0); }, theta,
      cov);
  const size_t n_eval = eval_t.size();
  auto point_value = [&](int quantity, size_t k) { return at_points.value[quantity * n_eval + k]; };
  auto point_error = [&](int quantity, size_t k) { return at_points.error[quantity * n_eval + k]; };
  auto point_column = [&](int quantity, size_t from, size_t count) {
    std::vector<double> v(count), e(count);
    for (size_t i = 0; i < count; ++i) {
      v[i] = point_value(quantity, from + i);
      e[i] = point_error(quantity, from + i);
    }
    return std::make_pair(v, e);
  };

  // Grid.
  const double grid_lo = opt.grid_t_min ? *opt.grid_t_min : 0.1 * t_lo;
  const double grid_hi = opt.grid_t_max ? *opt.grid_t_max : 1.5 * t_hi;
  if (!(grid_hi > grid_lo)) options_error("grid_t_min", "must be below grid_t_max");
  std::vector<double> grid_t(opt.grid_points);
  for (int i = 0; i < opt.grid_points; ++i)
    grid_t[i] = grid_lo + (grid_hi - grid_lo) * i / (opt.grid_points - 1);
  const double t_ref =
      opt.entropy_reference_temperature ? *opt.entropy_reference_temperature : t_hi;
  const PropagatedValues on_grid = propagate_errors(
      [&](const std::vector<double>& th) { return evaluate_model(layout, th, grid_t, t_ref); },
      theta, cov);
  const size_t n_grid = grid_t.size();
  auto grid_column = [&](int quantity) {
    std::vector<double> v(n_grid), e(n_grid);
    for (size_t i = 0; i < n_grid; ++i) {
      v[i] = on_grid.value[quantity * n_grid + i];
      e[i] = on_grid.error[quantity * n_grid + i];
    }
    return std::make_pair(v, e);
  };

  // =============================================================================================
  // Output.
  json out;
  out["format"] = "vitrify-analysis";
  out["version"] = 1;
  out["source"] = {{"model", m.model},
                   {"dimension", m.dimension},
                   {"ensemble", m.ensemble},
                   {"n_particles", m.n_particles},
                   {"pressure", m.pressure ? json(*m.pressure) : json(nullptr)}};
  out["units"] = {{"temperature", "epsilon/k_B"},
                  {"energy", "epsilon (per particle unless stated)"},
                  {"free_energy", "epsilon"},
                  {"enthalpy", "epsilon"},
                  {"ln_g", "dimensionless"},
                  {"concentration", "fraction of all N particles"},
                  {"density", "sigma^-d"},
                  {"length", "sigma"},
                  {"time", "tau = sigma sqrt(m/epsilon)"},
                  {"heat_capacity", "k_B per particle"},
                  {"entropy", "k_B per particle"},
                  {"mu", "epsilon/sigma"}};
  out["options"] = options_json(opt);
  out["temperature_range"] = {
      {"measured", range_json(sp.front().temperature, sp.back().temperature)},
      {"fitted", range_json(t_lo, t_hi)},
      {"grid", range_json(grid_lo, grid_hi)}};
  out["state_points"] = state_points_json;
  out["excluded_state_points"] = excluded_json;

  // Species.
  json species_json = json::array();
  for (const SpeciesWork& sw : species) {
    json s;
    s["name"] = sw.def->name;
    s["group"] = groups[sw.group].name;
    s["neighbors"] = sw.def->neighbors;
    s["reference"] = sw.is_reference;
    s["liquid"] = sw.liquid;
    json fe;
    fe["temperature"] =
        column(eval_t.size() ? std::vector<double>(eval_t.begin(), eval_t.begin() + n_sp)
                             : std::vector<double>());
    fe["value"] = column(sw.free_energy);
    fe["error"] = column(sw.free_energy_error);
    std::vector<double> fitted(n_sp, kNaN), pull(n_sp, kNaN);
    json in_fit = json::array();
    for (size_t k = 0; k < n_sp; ++k) {
      const bool in = std::find(sw.fit_points.begin(), sw.fit_points.end(), static_cast<int>(k)) !=
                      sw.fit_points.end();
      in_fit.push_back(in && sw.fitted);
      if (sw.fitted) {
        fitted[k] = sw.fit.parameters[0] - sp[k].temperature * sw.fit.parameters[1];
        if (std::isfinite(sw.free_energy[k]))
          pull[k] = (sw.free_energy[k] - fitted[k]) / sw.free_energy_error[k];
      }
    }
    fe["fit_value"] = column(fitted);
    fe["pull"] = column(pull);
    fe["in_fit"] = in_fit;
    fe["note"] = sw.note;
    s["free_energy"] = fe;
    json fit;
    if (sw.is_reference) {
      fit["status"] = "reference";
      fit["reason"] = "F = 0 by definition: H = 0, ln g = 0, g = 1 exactly";
      fit["H"] = value_error(0.0, 0.0);
      fit["ln_g"] = value_error(0.0, 0.0);
      fit["g"] = value_error(1.0, 0.0);
    } else if (!sw.fitted) {
      fit["status"] = "excluded";
      fit["reason"] = sw.exclusion_reason;
      fit["H"] = nullptr;
      fit["ln_g"] = nullptr;
      fit["g"] = nullptr;
    } else {
      const int p = sw.parameter_index;
      const double h_err = std::sqrt(cov(p, p)), lng_err = std::sqrt(cov(p + 1, p + 1));
      fit["status"] = "fitted";
      fit["reason"] = sw.verdict;
      fit["H"] = value_error(theta[p], h_err);
      fit["ln_g"] = value_error(theta[p + 1], lng_err);
      fit["g"] = value_error(std::exp(theta[p + 1]), std::exp(theta[p + 1]) * lng_err);
      fit["covariance_H_ln_g"] =
          json::array({json::array({num(cov(p, p)), num(cov(p, p + 1))}),
                       json::array({num(cov(p + 1, p)), num(cov(p + 1, p + 1))})});
      fit["errors_inflated_by"] = sw.error_scale;
      std::vector<double> ts;
      for (int k : sw.fit_points) ts.push_back(sp[k].temperature);
      fit["temperature_range"] = range_json(ts.front(), ts.back());
      fit["n_points"] = static_cast<int>(ts.size());
      fit["chi2"] = num(sw.fit.chi2);
      fit["dof"] = sw.fit.dof;
      fit["reduced_chi2"] = num(sw.fit.reduced_chi2);
      fit["p_value"] = num(sw.fit.p_value);
      fit["worst_pull"] = {{"value", num(sw.worst_pull)}, {"temperature", num(sw.worst_pull_t)}};
      fit["worst_ratio_deviation"] = {{"value", num(sw.worst_ratio)},
                                      {"temperature", num(sw.worst_ratio_t)}};
      fit["statistical_pass"] = sw.statistical_pass;
      fit["practical_pass"] = sw.practical_pass;
      fit["passes"] = sw.passes;
    }
    s["fit"] = fit;
    species_json.push_back(s);
  }
  out["species"] = species_json;

  // Groups and the Gaussian model.
  json groups_json = json::array();
  for (const GroupWork& g : groups) {
    json gj;
    gj["name"] = g.name;
    gj["type"] = g.type;
    gj["reference"] = m.species[g.reference].name;
    gj["reference_choice"] = g.reference_choice;
    json names = json::array();
    for (int s : g.species) names.push_back(m.species[s].name);
    gj["species"] = names;
    gj["other_bin"] = g.other_bin.empty() ? json(nullptr) : json(g.other_bin);
    gj["total_fraction"] = g.total_fraction;
    gj["normalization"] = opt.normalization;
    gj["max_other_fraction"] = g.max_other_fraction;
    json gauss;
    if (!g.gaussian_ok) {
      gauss["status"] = "not fitted";
      gauss["reason"] = g.gaussian_reason;
      for (const char* k : {"n_mp", "sigma2", "c"}) gauss[k] = nullptr;
    } else {
      const double b = theta[g.gaussian_index], q = theta[g.gaussian_index + 1];
      const double n_ref = m.species[g.reference].neighbors;
      Matrix bq(2, 2);
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) bq(i, j) = cov(g.gaussian_index + i, g.gaussian_index + j);
      // n_mp = -b/(2q), sigma^2 = -1/(2q), c = -q (n_r - n_mp)^2.
      const PropagatedValues derived = propagate_errors(
          [&](const std::vector<double>& v) {
            const double n_mp = -v[0] / (2 * v[1]);
            return std::vector<double>{n_mp, -1.0 / (2 * v[1]),
                                       -v[1] * (n_ref - n_mp) * (n_ref - n_mp)};
          },
          {b, q}, bq);
      gauss["status"] = "fitted";
      gauss["reason"] =
          "ln g(n) = c - (n - n_mp)^2 / (2 sigma2), generalised least squares on the "
          "fitted ln g (full covariance), c fixed by ln g(reference) = 0";
      gauss["n_mp"] = value_error(derived.value[0], derived.error[0]);
      gauss["sigma2"] = value_error(derived.value[1], derived.error[1]);
      gauss["c"] = value_error(derived.value[2], derived.error[2]);
      gauss["linear_coefficient_b"] = value_error(b, std::sqrt(bq(0, 0)));
      gauss["quadratic_coefficient_q"] = value_error(q, std::sqrt(bq(1, 1)));
      gauss["chi2"] = num(g.gaussian_fit.chi2);
      gauss["dof"] = g.gaussian_fit.dof;
      gauss["reduced_chi2"] = num(g.gaussian_fit.reduced_chi2);
      gauss["p_value"] = num(g.gaussian_fit.p_value);
      json used_species = json::array(), ln_g_gauss = json::array();
      for (int s : g.gaussian_species) used_species.push_back(m.species[s].name);
      gauss["species"] = used_species;
      std::vector<double> n_curve, lng_curve;
      int n_min = 1 << 30, n_max = -(1 << 30);
      for (int s : g.species) {
        n_min = std::min(n_min, m.species[s].neighbors);
        n_max = std::max(n_max, m.species[s].neighbors);
      }
      for (int n = n_min; n <= n_max; ++n) {
        n_curve.push_back(n);
        lng_curve.push_back(b * (n - n_ref) + q * (double(n) * n - n_ref * n_ref));
      }
      gauss["curve"] = {{"neighbors", column(n_curve)}, {"ln_g", column(lng_curve)}};
    }
    gj["gaussian_degeneracy"] = gauss;
    groups_json.push_back(gj);
  }
  out["groups"] = groups_json;

  // Validation verdict.
  {
    json passed = json::array(), failed = json::array(), untested = json::array();
    for (const SpeciesWork& sw : species) {
      if (sw.is_reference) continue;
      if (!sw.fitted)
        untested.push_back({{"species", sw.def->name}, {"reason", sw.exclusion_reason}});
      else if (sw.passes)
        passed.push_back(sw.def->name);
      else
        failed.push_back({{"species", sw.def->name}, {"reason", sw.verdict}});
    }
    bool every_group_tested = true;
    for (const GroupWork& g : groups) {
      bool any = false;
      for (int s : g.species) any = any || species[s].fitted;
      every_group_tested = every_group_tested && any;
    }
    const bool validated = failed.empty() && every_group_tested;
    std::string reason;
    if (!every_group_tested)
      reason = "a group has no fitted species";
    else if (!failed.empty())
      reason = std::to_string(failed.size()) +
               " species fail the criterion: " + failed[0]["species"].get<std::string>() + " (" +
               failed[0]["reason"].get<std::string>() + ")" +
               (failed.size() > 1 ? " and others" : "");
    else
      reason = "all " + std::to_string(passed.size()) + " fitted species pass the criterion" +
               (untested.empty() ? ""
                                 : "; " + std::to_string(untested.size()) +
                                       " species have too few data to be tested (listed)");
    out["validation"] = {
        {"validated", validated},
        {"reason", reason},
        {"criterion",
         {{"name", opt.validation_criterion},
          {"statistical",
           "chi2 p-value >= " + fmt(opt.p_value_min) + " and every |pull| <= " + fmt(opt.z_max)},
          {"practical", "every measured C_s/C_r reproduced by exp(-(H - T ln g)/T) within " +
                            fmt(100 * opt.relative_tolerance) + " %"},
          {"either", "a species passes when it meets the statistical or the practical test"},
          {"p_value_min", opt.p_value_min},
          {"z_max", opt.z_max},
          {"relative_tolerance", opt.relative_tolerance}}},
        {"passed_species", passed},
        {"failed_species", failed},
        {"untested_species", untested},
        {"temperature_range", range_json(t_lo, t_hi)}};
  }

  // Concentrations: measured vs predicted at every state point.
  {
    json conc;
    conc["temperature"] = column(std::vector<double>(eval_t.begin(), eval_t.begin() + n_sp));
    conc["used_in_fits"] = json::array();
    for (size_t k = 0; k < n_sp; ++k) conc["used_in_fits"].push_back(static_cast<bool>(used[k]));
    json by_species = json::object();
    for (const SpeciesWork& sw : species) {
      std::vector<double> mv(n_sp), me(n_sp), pv(n_sp, kNaN), pe(n_sp, kNaN), gv(n_sp, kNaN),
          ge(n_sp, kNaN), residual(n_sp, kNaN), pull(n_sp, kNaN);
      int slot = -1;
      for (size_t i = 0; i < layout.model_species.size(); ++i)
        if (&species[layout.model_species[i]] == &sw) slot = static_cast<int>(i);
      for (size_t k = 0; k < n_sp; ++k) {
        const MeasuredValue c = sp[k].concentrations.at(sw.def->name);
        mv[k] = c.mean;
        me[k] = c.error;
        if (slot < 0) continue;
        pv[k] = point_value(qi.concentrations + slot, k);
        pe[k] = point_error(qi.concentrations + slot, k);
        gv[k] = point_value(qi.concentrations_gaussian + slot, k);
        ge[k] = point_error(qi.concentrations_gaussian + slot, k);
        residual[k] = mv[k] - pv[k];
        if (me[k] > 0) pull[k] = residual[k] / me[k];
      }
      by_species[sw.def->name] = {{"measured", column_pair(mv, me)},
                                  {"predicted", column_pair(pv, pe)},
                                  {"predicted_gaussian", column_pair(gv, ge)},
                                  {"residual", column(residual)},
                                  {"pull", column(pull)},
                                  {"in_model", slot >= 0}};
    }
    conc["species"] = by_species;
    conc["note"] =
        "predicted: Eq. 7 with the fitted H and g, normalised to the group's total_fraction; "
        "predicted_gaussian: the same with g from the Gaussian model; null for species without "
        "a fit; residual = measured - predicted, pull = residual / measured error";
    out["concentrations"] = conc;
  }

  const std::vector<double> sp_t(eval_t.begin(), eval_t.begin() + n_sp);

  // Per-temperature table (every state point).
  json pt;
  {
    pt["temperature"] = column(sp_t);
    pt["used_in_fits"] = json::array();
    for (size_t k = 0; k < n_sp; ++k) pt["used_in_fits"].push_back(static_cast<bool>(used[k]));
    pt["equilibrated"] = json::array();
    for (size_t k = 0; k < n_sp; ++k) pt["equilibrated"].push_back(sp[k].equilibrated);
    auto put = [&](const char* key, int quantity) {
      auto [v, e] = point_column(quantity, 0, n_sp);
      pt[key] = column_pair(v, e);
    };
    pt["c_liq_measured"] = column_pair(c_liq_meas, c_liq_meas_err);
    put("c_liq_predicted", qi.c_liq);
    put("c_liq_predicted_gaussian", qi.c_liq_gaussian);
    std::vector<double> rho(n_sp), rho_e(n_sp), u(n_sp), u_e(n_sp);
    for (size_t k = 0; k < n_sp; ++k) {
      rho[k] = sp[k].density.mean;
      rho_e[k] = sp[k].density.error;
      u[k] = sp[k].potential_energy.mean;
      u_e[k] = sp[k].potential_energy.error;
    }
    pt["density_measured"] = column_pair(rho, rho_e);
    put("density_fit", qi.density);
    pt["xi_measured"] = column_pair(xi_meas, xi_meas_err);
    put("xi_predicted", qi.xi);
    put("xi_predicted_gaussian", qi.xi_gaussian);
    std::vector<double> tau(n_sp, kNaN), tau_e(n_sp, kNaN), lower(n_sp, kNaN), fit_line(n_sp, kNaN),
        fit_line_e(n_sp, kNaN);
    json reached = json::array();
    for (size_t k = 0; k < n_sp; ++k) {
      reached.push_back(sp[k].tau_alpha.reached);
      if (sp[k].tau_alpha.value) tau[k] = *sp[k].tau_alpha.value;
      if (sp[k].tau_alpha.error) tau_e[k] = *sp[k].tau_alpha.error;
      if (sp[k].tau_alpha.lower_bound) lower[k] = *sp[k].tau_alpha.lower_bound;
      if (tau_fit.ok && std::isfinite(xi_meas[k])) {
        const double x = xi_meas[k] / sp[k].temperature;
        const Matrix& c = tau_fit.fit.covariance;
        fit_line[k] = tau_fit.fit.parameters[0] + tau_fit.fit.parameters[1] * x;
        fit_line_e[k] = std::sqrt(std::max(0.0, c(0, 0) + 2 * x * c(0, 1) + x * x * c(1, 1)));
      }
    }
    pt["tau_alpha_measured"] = column_pair(tau, tau_e);
    pt["tau_alpha_reached"] = reached;
    pt["tau_alpha_lower_bound"] = column(lower);
    pt["ln_tau_alpha_fit_at_measured_xi"] = column_pair(fit_line, fit_line_e);
    put("ln_tau_alpha_predicted", qi.ln_tau);
    put("ln_tau_alpha_predicted_gaussian", qi.ln_tau_gaussian);
    pt["potential_energy_measured"] = column_pair(u, u_e);
    if (npt) {
      std::vector<double> h(n_sp), h_e(n_sp);
      for (size_t k = 0; k < n_sp; ++k) {
        h[k] = sp[k].enthalpy->mean;
        h_e[k] = sp[k].enthalpy->error;
      }
      pt["enthalpy_measured"] = column_pair(h, h_e);
      put("enthalpy_model", qi.enthalpy);
    } else {
      put("energy_model", qi.energy);
    }
    put("heat_capacity_model", qi.heat_capacity);
    json other = json::object();
    for (const GroupWork& g : groups) {
      if (g.other_bin.empty()) continue;
      std::vector<double> v(n_sp), e(n_sp);
      for (size_t k = 0; k < n_sp; ++k) {
        const auto it = sp[k].concentrations.find(g.other_bin);
        v[k] = it == sp[k].concentrations.end() ? kNaN : it->second.mean;
        e[k] = it == sp[k].concentrations.end() ? kNaN : it->second.error;
      }
      other[g.name] = column_pair(v, e);
    }
    pt["other_fraction"] = other;
  }
  out["per_temperature"] = pt;

  // Relaxation.
  {
    json rel;
    rel["liquid_species"] = liquid_names;
    rel["liquid_species_missing_from_model"] = liquid_missing;
    rel["status"] = tau_fit.ok ? "fitted" : "not fitted";
    rel["reason"] =
        tau_fit.ok ? "ln tau_alpha = mu xi/T + c over the listed state points" : tau_fit.reason;
    rel["weighting"] = tau_fit.weighting;
    rel["excluded"] = relaxation_excluded;
    // Predicted tau_alpha where it was not reached: consistency with the measured lower bound.
    for (json& e : rel["excluded"]) {
      const double t = e["temperature"].get<double>();
      size_t k = 0;
      while (k < n_sp && sp[k].temperature != t) ++k;
      const double ln_pred = point_value(qi.ln_tau, k), err = point_error(qi.ln_tau, k);
      e["ln_tau_alpha_predicted"] = value_error(ln_pred, err);
      if (!e["lower_bound"].is_null() && std::isfinite(ln_pred))
        e["prediction_above_lower_bound"] = ln_pred >= std::log(e["lower_bound"].get<double>());
    }
    if (tau_fit.ok) {
      const Matrix& c = tau_fit.fit.covariance;
      const double mu = tau_fit.fit.parameters[1], intercept = tau_fit.fit.parameters[0];
      rel["mu"] = value_error(mu, std::sqrt(c(1, 1)));
      rel["c"] = value_error(intercept, std::sqrt(c(0, 0)));
      rel["exp_c"] = value_error(std::exp(intercept), std::exp(intercept) * std::sqrt(c(0, 0)));
      rel["covariance_mu_c"] = json::array(
          {json::array({num(c(1, 1)), num(c(0, 1))}), json::array({num(c(0, 1)), num(c(0, 0))})});
      rel["chi2"] = num(tau_fit.fit.chi2);
      rel["dof"] = tau_fit.fit.dof;
      rel["reduced_chi2"] = num(tau_fit.fit.reduced_chi2);
      rel["p_value"] = num(tau_fit.fit.p_value);
      std::vector<double> ts;
      for (int k : tau_fit.points) ts.push_back(sp[k].temperature);
      rel["temperature_range"] = range_json(ts.front(), ts.back());
      rel["n_points"] = static_cast<int>(ts.size());
      rel["points"] = {{"temperature", column(ts)},
                       {"xi_over_t", column_pair(tau_fit.x, tau_fit.x_error)},
                       {"ln_tau_alpha", column_pair(tau_fit.y, tau_fit.y_error)},
                       {"pull", column(tau_fit.fit.pulls)}};
      // Hold-out: refit without the lowest temperature, predict it.
      json hold;
      if (tau_fit.points.size() >= 4) {
        const std::vector<int> rest(tau_fit.points.begin() + 1, tau_fit.points.end());
        const TauFit refit = tau_data(rest);
        const int k = tau_fit.points.front();
        if (refit.ok) {
          const Matrix& rc = refit.fit.covariance;
          const double x = tau_fit.x.front(), xe = tau_fit.x_error.front();
          const double mu2 = refit.fit.parameters[1];
          const double pred = refit.fit.parameters[0] + mu2 * x;
          const double var_pred =
              std::max(0.0, rc(0, 0) + 2 * x * rc(0, 1) + x * x * rc(1, 1)) + mu2 * mu2 * xe * xe;
          double var_meas = tau_fit.y_error.front() * tau_fit.y_error.front();
          if (!tau_errors) {
            double rss = 0.0;
            for (double r : refit.fit.residuals) rss += r * r;
            var_meas = refit.fit.dof > 0 ? rss / refit.fit.dof : kNaN;
          }
          const double y = tau_fit.y.front();
          hold = {{"status", "done"},
                  {"temperature", sp[k].temperature},
                  {"n_points_refit", static_cast<int>(rest.size())},
                  {"mu_refit", value_error(mu2, std::sqrt(rc(1, 1)))},
                  {"c_refit", value_error(refit.fit.parameters[0], std::sqrt(rc(0, 0)))},
                  {"ln_tau_alpha_measured", value_error(y, std::sqrt(var_meas))},
                  {"ln_tau_alpha_predicted", value_error(pred, std::sqrt(var_pred))},
                  {"tau_alpha_measured", num(std::exp(y))},
                  {"tau_alpha_predicted", num(std::exp(pred))},
                  {"ratio_predicted_over_measured", num(std::exp(pred - y))},
                  {"pull", num((y - pred) / std::sqrt(var_pred + var_meas))},
                  {"note",
                   "prediction from the measured xi at that temperature and the refit "
                   "(mu, c); pull = (measured - predicted)/sqrt(var_pred + var_meas)"}};
        } else {
          hold = {{"status", "not done"}, {"reason", "refit failed: " + refit.reason}};
        }
      } else {
        hold = {{"status", "not done"},
                {"reason", "needs at least four fitted state points (three remain for the refit)"}};
      }
      rel["hold_out"] = hold;
    } else {
      for (const char* key : {"mu", "c", "exp_c", "hold_out"}) rel[key] = nullptr;
    }
    out["relaxation"] = rel;
  }

  // Density fit.
  out["density_fit"] = density_json;

  // Grid.
  json grid;
  {
    grid["temperature"] = column(grid_t);
    auto put = [&](const char* key, int quantity) {
      auto [v, e] = grid_column(quantity);
      grid[key] = column_pair(v, e);
    };
    json cm = json::object(), cg = json::object();
    for (size_t i = 0; i < layout.model_species.size(); ++i) {
      const std::string& name = m.species[layout.model_species[i]].name;
      auto [v, e] = grid_column(qi.concentrations + static_cast<int>(i));
      cm[name] = column_pair(v, e);
      auto [gv, ge] = grid_column(qi.concentrations_gaussian + static_cast<int>(i));
      cg[name] = column_pair(gv, ge);
    }
    grid["concentrations"] = cm;
    grid["concentrations_gaussian"] = cg;
    put("c_liq", qi.c_liq);
    put("c_liq_gaussian", qi.c_liq_gaussian);
    put("density", qi.density);
    put("xi", qi.xi);
    put("xi_gaussian", qi.xi_gaussian);
    put("ln_tau_alpha", qi.ln_tau);
    put("ln_tau_alpha_gaussian", qi.ln_tau_gaussian);
    {
      auto [v, e] = grid_column(qi.ln_tau);
      std::vector<double> tv(n_grid, kNaN), te(n_grid, kNaN);
      for (size_t i = 0; i < n_grid; ++i)
        if (std::isfinite(v[i]) && v[i] < 700.0) {
          tv[i] = std::exp(v[i]);
          te[i] = tv[i] * e[i];
        }
      grid["tau_alpha"] = column_pair(tv, te);
    }
    if (npt)
      put("enthalpy_model", qi.enthalpy);
    else
      put("energy_model", qi.energy);
    put("heat_capacity_model", qi.heat_capacity);
    put("entropy", qi.entropy);
    grid["entropy_reference_temperature"] = t_ref;
    grid["note"] =
        "model quantities on a uniform temperature grid; null where undefined (no fit of that "
        "piece, overflow of tau_alpha beyond e^700, C_liq = 0)";
  }
  out["grid"] = grid;

  // Thermodynamics.
  {
    json th;
    std::vector<double> ft, meas, meas_e, model, model_e;
    for (int k : fit_points) {
      ft.push_back(sp[k].temperature);
      const MeasuredValue v = npt ? *sp[k].enthalpy : sp[k].potential_energy;
      meas.push_back(v.mean);
      meas_e.push_back(v.error);
      const int quantity = npt ? qi.enthalpy : qi.energy;
      model.push_back(point_value(quantity, k));
      model_e.push_back(point_error(quantity, k));
    }
    // Finite differences of the measured curve vs the model heat capacity at the midpoints.
    std::vector<double> fd(mid_t.size()), fd_e(mid_t.size()), cm(mid_t.size()), cm_e(mid_t.size());
    for (size_t i = 0; i < mid_t.size(); ++i) {
      const double dt = ft[i + 1] - ft[i];
      fd[i] = (meas[i + 1] - meas[i]) / dt;
      fd_e[i] = std::hypot(meas_e[i], meas_e[i + 1]) / dt;
      cm[i] = point_value(qi.heat_capacity, n_sp + i);
      cm_e[i] = point_error(qi.heat_capacity, n_sp + i);
    }
    json fd_json = {
        {"temperature", column(mid_t)},
        {"finite_difference", column_pair(fd, fd_e)},
        {"model", column_pair(cm, cm_e)},
        {"note", std::string("finite differences of the measured ") + (npt ? "h = u + p v" : "u") +
                     " between neighbouring fitted temperatures, at the midpoints"}};
    // Peak and breakdown of the model heat capacity on the grid.
    auto [cv, ce] = grid_column(qi.heat_capacity);
    int peak = -1;
    for (size_t i = 0; i < n_grid; ++i)
      if (std::isfinite(cv[i]) && (peak < 0 || cv[i] > cv[peak])) peak = static_cast<int>(i);
    json peak_json = nullptr;
    if (peak >= 0)
      peak_json = {{"temperature", grid_t[peak]},
                   {"heat_capacity", value_error(cv[peak], ce[peak])},
                   {"at_grid_edge", peak == 0 || peak == static_cast<int>(n_grid) - 1},
                   {"inside_fitted_range", grid_t[peak] >= t_lo && grid_t[peak] <= t_hi}};
    double negative_below = kNaN;
    for (size_t i = 0; i < n_grid; ++i)
      if (grid_t[i] < t_lo && std::isfinite(cv[i]) && cv[i] < 0.0) negative_below = grid_t[i];
    th["heat_capacity_peak"] = peak_json;
    th["heat_capacity_negative_below"] = num(negative_below);
    th["heat_capacity_negative_note"] =
        "highest grid temperature below the fitted range where the model heat capacity is "
        "negative (the extrapolation is not trustworthy there); null if none";
    th["heat_capacity_finite_difference"] = fd_json;
    th["entropy_reference_temperature"] = t_ref;
    th["entropy_note"] = "S(T) - S(T_ref) = int_{T_ref}^{T} C_model(T')/T' dT' (grid.entropy)";
    if (npt) {
      th["kind"] = "enthalpy (NPT, paper's Eq. 14)";
      th["heat_capacity_kind"] = "C_p";
      th["model_definition"] =
          "h_qs(T) = sum_s C_s(T) H_s (Eq. 7 concentrations, fitted H and g); C_p,model = d "
          "h_qs/dT "
          "(analytic); compared with h_sys = u + p v plus the best additive constant C";
      auto model_average = [&](const std::vector<double>& w) {
        return propagate_errors(
                   [&](const std::vector<double>& th_) {
                     const std::vector<double> v = evaluate_model(layout, th_, ft, 0.0);
                     double sum = 0.0;
                     for (size_t i = 0; i < w.size(); ++i)
                       sum += w[i] * v[qi.enthalpy * ft.size() + i];
                     return std::vector<double>{sum};
                   },
                   theta, cov)
            .error[0];
      };
      th["comparison"] = compare_thermo(ft, model, model_e, meas, meas_e, true, model_average);
      // The same with the measured concentrations.
      std::vector<double> hm(ft.size(), 0.0), hm_e(ft.size(), 0.0);
      for (size_t i = 0; i < fit_points.size(); ++i) {
        double var = 0.0;
        for (const SpeciesWork& sw : species) {
          if (!sw.fitted) continue;
          const MeasuredValue c = sp[fit_points[i]].concentrations.at(sw.def->name);
          const double h = theta[sw.parameter_index],
                       he = std::sqrt(cov(sw.parameter_index, sw.parameter_index));
          hm[i] += c.mean * h;
          var += h * h * c.error * c.error + c.mean * c.mean * he * he;
        }
        hm_e[i] = std::sqrt(var);
      }
      auto measured_average = [&](const std::vector<double>& w) {
        double var_c = 0.0;  // concentration errors, independent between temperatures
        for (size_t i = 0; i < w.size(); ++i)
          for (const SpeciesWork& sw : species) {
            if (!sw.fitted) continue;
            const double c_err = sp[fit_points[i]].concentrations.at(sw.def->name).error;
            var_c +=
                w[i] * w[i] * theta[sw.parameter_index] * theta[sw.parameter_index] * c_err * c_err;
          }
        const double h_part =
            propagate_errors(
                [&](const std::vector<double>& th_) {
                  double sum = 0.0;
                  for (size_t i = 0; i < w.size(); ++i)
                    for (const SpeciesWork& sw : species)
                      if (sw.fitted)
                        sum += w[i] * sp[fit_points[i]].concentrations.at(sw.def->name).mean *
                               th_[sw.parameter_index];
                  return std::vector<double>{sum};
                },
                theta, cov)
                .error[0];
        return std::sqrt(var_c + h_part * h_part);
      };
      th["comparison_measured_concentrations"] =
          compare_thermo(ft, hm, hm_e, meas, meas_e, true, measured_average);
    } else {
      th["kind"] = "energy (NVT, paper's Eq. 15)";
      th["heat_capacity_kind"] = "C_v";
      th["model_definition"] =
          "u_model(T) = sum_groups (e/2) sum_s C_s(T) n_s + (d/2) T with E_s = e n_s fitted to "
          "species_energy; C_v,model = d u_model/dT (analytic)";
      json fits = json::array();
      for (const GroupWork& g : groups) {
        json e = {{"group", g.name}, {"status", g.energy_ok ? "fitted" : "not fitted"}};
        if (g.energy_ok) {
          e["e"] =
              value_error(g.energy_fit.parameters[0], std::sqrt(g.energy_fit.covariance(0, 0)));
          e["chi2"] = num(g.energy_fit.chi2);
          e["dof"] = g.energy_fit.dof;
          e["reduced_chi2"] = num(g.energy_fit.reduced_chi2);
          e["n_points"] = g.energy_points;
          e["temperature_range"] = range_json(g.energy_t_lo, g.energy_t_hi);
          e["units"] = "epsilon per neighbour";
          e["note"] =
              "E_s = e n_s through the origin, every species_energy value of the fitted "
              "state points (weighted when all errors are given)";
        } else {
          e["e"] = nullptr;
          e["reason"] = g.energy_reason;
        }
        fits.push_back(e);
      }
      th["energy_per_neighbor"] = fits;
      bool any_energy = false;
      for (const GroupWork& g : groups) any_energy = any_energy || g.energy_ok;
      if (any_energy) {
        auto model_average = [&](const std::vector<double>& w) {
          return propagate_errors(
                     [&](const std::vector<double>& th_) {
                       const std::vector<double> v = evaluate_model(layout, th_, ft, 0.0);
                       double sum = 0.0;
                       for (size_t i = 0; i < w.size(); ++i)
                         sum += w[i] * v[qi.energy * ft.size() + i];
                       return std::vector<double>{sum};
                     },
                     theta, cov)
              .error[0];
        };
        th["comparison"] = compare_thermo(ft, model, model_e, meas, meas_e, false, nullptr);
        th["comparison_with_constant"] =
            compare_thermo(ft, model, model_e, meas, meas_e, true, model_average);
      } else {
        th["comparison"] = nullptr;
        th["comparison_reason"] = "no energy-per-neighbour fit (species_energy missing)";
      }
    }
    out["thermodynamics"] = th;
  }

  out["warnings"] = warnings;
  out["notes"] = json::array(
      {"values with errors are {\"value\", \"error\"} (one standard deviation); null marks a "
       "quantity that is not defined, with the reason in a neighbouring field",
       "errors of fitted parameters are formal (from the input errors) unless "
       "options.inflate_errors; derived quantities carry linearly propagated errors from the full "
       "parameter covariance (species correlated through the reference species)",
       "the relaxation fit is treated as independent of the concentration fits in the error "
       "propagation"});
  return out;
}

}  // namespace vitrify::analysis
