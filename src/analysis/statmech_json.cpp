// Step 5 of the analysis: analysis.json from the results of the earlier steps (fields:
// docs/OUTPUTS.md, section "analysis.json"). Nothing here fits or propagates errors.
#include <algorithm>
#include <cmath>

#include "statmech_steps.hpp"

namespace vitrify::analysis::steps {

namespace {

using nlohmann::json;

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

json column_pair(const std::pair<std::vector<double>, std::vector<double>>& ve) {
  return column_pair(ve.first, ve.second);
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

json range_json(double lo, double hi) { return json::array({num(lo), num(hi)}); }

json optional_json(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

// The covariance block of two parameters at p and p + 1.
json covariance_2x2(const Matrix& c, int p) {
  return json::array({json::array({num(c(p, p)), num(c(p, p + 1))}),
                      json::array({num(c(p + 1, p)), num(c(p + 1, p + 1))})});
}

std::vector<double> state_point_temperatures(const Measurements& m) {
  std::vector<double> t;
  for (const StatePointMeasurement& p : m.state_points) t.push_back(p.temperature);
  return t;
}

json used_in_fits_json(const StatePointSelection& sel) {
  json out = json::array();
  for (char u : sel.used) out.push_back(static_cast<bool>(u));
  return out;
}

json options_json(const AnalyzeOptions& o) {
  json ref = json::object();
  for (const auto& [k, v] : o.reference) ref[k] = v;
  return json{{"reference", ref},
              {"liquid_species", o.liquid_species},
              {"t_min", optional_json(o.t_min)},
              {"t_max", optional_json(o.t_max)},
              {"grid_t_min", optional_json(o.grid_t_min)},
              {"grid_t_max", optional_json(o.grid_t_max)},
              {"grid_points", o.grid_points},
              {"normalization", o.normalization},
              {"min_temperatures", o.min_temperatures},
              {"max_relative_error", o.max_relative_error},
              {"validation_criterion", o.validation_criterion},
              {"p_value_min", o.p_value_min},
              {"z_max", o.z_max},
              {"relative_tolerance", o.relative_tolerance},
              {"inflate_errors", o.inflate_errors},
              {"entropy_reference_temperature", optional_json(o.entropy_reference_temperature)},
              {"concentration_tolerance", o.concentration_tolerance},
              {"accept", o.accept}};
}

json units_json() {
  return {{"temperature", "epsilon/k_B"},
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
}

// "state_points" (all), "excluded_state_points" and "accepted_flagged_state_points".
void put_state_points(const Measurements& m, const StatePointSelection& sel, json& out) {
  json all = json::array(), excluded = json::array(), accepted = json::array();
  for (size_t k = 0; k < m.state_points.size(); ++k) {
    const StatePointMeasurement& p = m.state_points[k];
    json entry = {{"temperature", p.temperature},
                  {"input_index", p.index},
                  {"used_in_fits", static_cast<bool>(sel.used[k])},
                  {"reasons", sel.reasons[k]}};
    if (!sel.accepted_by[k].empty()) {
      entry["accepted_despite_flags"] = p.flags;
      entry["accepted_by"] = sel.accepted_by[k];
      accepted.push_back({{"temperature", p.temperature},
                          {"input_index", p.index},
                          {"used_in_fits", static_cast<bool>(sel.used[k])},
                          {"flags", p.flags},
                          {"accepted_by", sel.accepted_by[k]}});
    }
    all.push_back(entry);
    if (!sel.used[k]) excluded.push_back(entry);
  }
  out["state_points"] = all;
  out["excluded_state_points"] = excluded;
  out["accepted_flagged_state_points"] = accepted;
}

json free_energy_json(const Measurements& m, const SpeciesFit& sf) {
  const size_t n_sp = m.state_points.size();
  json fe;
  fe["temperature"] = column(state_point_temperatures(m));
  fe["value"] = column(sf.free_energy);
  fe["error"] = column(sf.free_energy_error);
  std::vector<double> fitted(n_sp, kNaN), pull(n_sp, kNaN);
  json in_fit = json::array();
  for (size_t k = 0; k < n_sp; ++k) {
    const bool in = std::find(sf.fit_points.begin(), sf.fit_points.end(), static_cast<int>(k)) !=
                    sf.fit_points.end();
    in_fit.push_back(in && sf.fitted);
    if (sf.fitted) {
      fitted[k] = sf.fit.parameters[0] - m.state_points[k].temperature * sf.fit.parameters[1];
      if (std::isfinite(sf.free_energy[k]))
        pull[k] = (sf.free_energy[k] - fitted[k]) / sf.free_energy_error[k];
    }
  }
  fe["fit_value"] = column(fitted);
  fe["pull"] = column(pull);
  fe["in_fit"] = in_fit;
  fe["note"] = sf.note;
  return fe;
}

json fitted_species_json(const Measurements& m, const SpeciesFit& sf, const Parameters& params) {
  const std::vector<double>& theta = params.theta;
  const Matrix& cov = params.covariance;
  const int p = sf.parameter_index;
  const double h_err = std::sqrt(cov(p, p)), lng_err = std::sqrt(cov(p + 1, p + 1));
  const SpeciesValidation& v = sf.validation;
  json fit;
  fit["status"] = "fitted";
  fit["reason"] = v.verdict;
  fit["H"] = value_error(theta[p], h_err);
  fit["ln_g"] = value_error(theta[p + 1], lng_err);
  fit["g"] = value_error(std::exp(theta[p + 1]), std::exp(theta[p + 1]) * lng_err);
  fit["covariance_H_ln_g"] = covariance_2x2(cov, p);
  fit["errors_inflated_by"] = sf.error_scale;
  fit["temperature_range"] = range_json(m.state_points[sf.fit_points.front()].temperature,
                                        m.state_points[sf.fit_points.back()].temperature);
  fit["n_points"] = static_cast<int>(sf.fit_points.size());
  fit["chi2"] = num(sf.fit.chi2);
  fit["dof"] = sf.fit.dof;
  fit["reduced_chi2"] = num(sf.fit.reduced_chi2);
  fit["p_value"] = num(sf.fit.p_value);
  fit["worst_pull"] = {{"value", num(v.worst_pull)}, {"temperature", num(v.worst_pull_t)}};
  fit["worst_ratio_deviation"] = {{"value", num(v.worst_ratio)},
                                  {"temperature", num(v.worst_ratio_t)}};
  fit["statistical_pass"] = v.statistical_pass;
  fit["practical_pass"] = v.practical_pass;
  fit["passes"] = v.passes;
  return fit;
}

json species_fit_json(const Measurements& m, const SpeciesRole& role, const SpeciesFit& sf,
                      const Parameters& params) {
  if (sf.fitted && !role.is_reference) return fitted_species_json(m, sf, params);
  json fit;
  if (role.is_reference) {
    fit["status"] = "reference";
    fit["reason"] = "F = 0 by definition: H = 0, ln g = 0, g = 1 exactly";
    fit["H"] = value_error(0.0, 0.0);
    fit["ln_g"] = value_error(0.0, 0.0);
    fit["g"] = value_error(1.0, 0.0);
  } else {
    fit["status"] = "excluded";
    fit["reason"] = sf.exclusion_reason;
    fit["H"] = nullptr;
    fit["ln_g"] = nullptr;
    fit["g"] = nullptr;
  }
  return fit;
}

json species_json(const Measurements& m, const GroupSetup& setup, const Fits& fits) {
  json out = json::array();
  for (size_t i = 0; i < m.species.size(); ++i) {
    const SpeciesRole& role = setup.species[i];
    json s;
    s["name"] = m.species[i].name;
    s["group"] = setup.groups[role.group].name;
    s["neighbors"] = m.species[i].neighbors;
    s["reference"] = role.is_reference;
    s["liquid"] = role.liquid;
    s["free_energy"] = free_energy_json(m, fits.species[i]);
    s["fit"] = species_fit_json(m, role, fits.species[i], fits.params);
    out.push_back(s);
  }
  return out;
}

json gaussian_json(const Measurements& m, const GaussianFit& gf, const GaussianDerived& d) {
  json gauss;
  if (!gf.ok) {
    gauss["status"] = "not fitted";
    gauss["reason"] = gf.reason;
    for (const char* k : {"n_mp", "sigma2", "c"}) gauss[k] = nullptr;
    return gauss;
  }
  const PropagatedValues& derived = d.n_mp_sigma2_c;
  gauss["status"] = "fitted";
  gauss["reason"] =
      "ln g(n) = c - (n - n_mp)^2 / (2 sigma2), generalised least squares on the "
      "fitted ln g (full covariance), c fixed by ln g(reference) = 0";
  gauss["n_mp"] = value_error(derived.value[0], derived.error[0]);
  gauss["sigma2"] = value_error(derived.value[1], derived.error[1]);
  gauss["c"] = value_error(derived.value[2], derived.error[2]);
  gauss["linear_coefficient_b"] = value_error(d.b, d.b_error);
  gauss["quadratic_coefficient_q"] = value_error(d.q, d.q_error);
  gauss["chi2"] = num(gf.fit.chi2);
  gauss["dof"] = gf.fit.dof;
  gauss["reduced_chi2"] = num(gf.fit.reduced_chi2);
  gauss["p_value"] = num(gf.fit.p_value);
  json used_species = json::array();
  for (int s : gf.species) used_species.push_back(m.species[s].name);
  gauss["species"] = used_species;
  gauss["curve"] = {{"neighbors", column(d.curve_neighbors)}, {"ln_g", column(d.curve_ln_g)}};
  return gauss;
}

json groups_json(const Measurements& m, const AnalyzeOptions& opt, const GroupSetup& setup,
                 const Fits& fits, const Derived& d) {
  json out = json::array();
  for (size_t i = 0; i < setup.groups.size(); ++i) {
    const Group& g = setup.groups[i];
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
    gj["gaussian_degeneracy"] = gaussian_json(m, fits.gaussian[i], d.gaussian[i]);
    out.push_back(gj);
  }
  return out;
}

json validation_json(const AnalyzeOptions& opt, const StatePointSelection& sel,
                     const ValidationSummary& v) {
  json passed = json::array(), failed = json::array(), untested = json::array();
  for (const std::string& name : v.passed) passed.push_back(name);
  for (const auto& [name, reason] : v.failed)
    failed.push_back({{"species", name}, {"reason", reason}});
  for (const auto& [name, reason] : v.untested)
    untested.push_back({{"species", name}, {"reason", reason}});
  return {{"validated", v.validated},
          {"reason", v.reason},
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
          {"temperature_range", range_json(sel.t_lo, sel.t_hi)}};
}

// Measured against predicted concentrations of one species at every state point.
json species_concentrations_json(const Measurements& m, const Derived& d, size_t species) {
  const size_t n_sp = m.state_points.size();
  const std::string& name = m.species[species].name;
  std::vector<double> mv(n_sp), me(n_sp), pv(n_sp, kNaN), pe(n_sp, kNaN), gv(n_sp, kNaN),
      ge(n_sp, kNaN), residual(n_sp, kNaN), pull(n_sp, kNaN);
  const std::vector<int>& model_species = d.layout.model_species;
  const auto it = std::find(model_species.begin(), model_species.end(), static_cast<int>(species));
  const int slot = it == model_species.end() ? -1 : static_cast<int>(it - model_species.begin());
  for (size_t k = 0; k < n_sp; ++k) {
    const MeasuredValue c = m.state_points[k].concentrations.at(name);
    mv[k] = c.mean;
    me[k] = c.error;
    if (slot < 0) continue;
    pv[k] = d.points.value(d.qi.concentrations + slot, k);
    pe[k] = d.points.error(d.qi.concentrations + slot, k);
    gv[k] = d.points.value(d.qi.concentrations_gaussian + slot, k);
    ge[k] = d.points.error(d.qi.concentrations_gaussian + slot, k);
    residual[k] = mv[k] - pv[k];
    if (me[k] > 0) pull[k] = residual[k] / me[k];
  }
  return {{"measured", column_pair(mv, me)},
          {"predicted", column_pair(pv, pe)},
          {"predicted_gaussian", column_pair(gv, ge)},
          {"residual", column(residual)},
          {"pull", column(pull)},
          {"in_model", slot >= 0}};
}

json concentrations_json(const Measurements& m, const StatePointSelection& sel, const Derived& d) {
  json conc;
  conc["temperature"] = column(state_point_temperatures(m));
  conc["used_in_fits"] = used_in_fits_json(sel);
  json by_species = json::object();
  for (size_t s = 0; s < m.species.size(); ++s)
    by_species[m.species[s].name] = species_concentrations_json(m, d, s);
  conc["species"] = by_species;
  conc["note"] =
      "predicted: Eq. 7 with the fitted H and g, normalised to the group's total_fraction; "
      "predicted_gaussian: the same with g from the Gaussian model; null for species without "
      "a fit; residual = measured - predicted, pull = residual / measured error";
  return conc;
}

// The tau_alpha columns of the per-temperature table.
void put_tau_columns(const Measurements& m, const Fits& fits, json& pt) {
  const size_t n_sp = m.state_points.size();
  const TauFit& tau = fits.relaxation.fit;
  std::vector<double> t(n_sp, kNaN), t_e(n_sp, kNaN), lower(n_sp, kNaN), line(n_sp, kNaN),
      line_e(n_sp, kNaN);
  json reached = json::array();
  for (size_t k = 0; k < n_sp; ++k) {
    const TauAlphaMeasurement& ta = m.state_points[k].tau_alpha;
    reached.push_back(ta.reached);
    if (ta.value) t[k] = *ta.value;
    if (ta.error) t_e[k] = *ta.error;
    if (ta.lower_bound) lower[k] = *ta.lower_bound;
    if (tau.ok && std::isfinite(fits.liquid.xi[k])) {
      const double x = fits.liquid.xi[k] / m.state_points[k].temperature;
      const Matrix& c = tau.fit.covariance;
      line[k] = tau.fit.parameters[0] + tau.fit.parameters[1] * x;
      line_e[k] = std::sqrt(std::max(0.0, c(0, 0) + 2 * x * c(0, 1) + x * x * c(1, 1)));
    }
  }
  pt["tau_alpha_measured"] = column_pair(t, t_e);
  pt["tau_alpha_reached"] = reached;
  pt["tau_alpha_lower_bound"] = column(lower);
  pt["ln_tau_alpha_fit_at_measured_xi"] = column_pair(line, line_e);
}

// Measured value and error of every state point.
template <typename Get>
json measured_column(const Measurements& m, Get get) {
  std::vector<double> v, e;
  for (const StatePointMeasurement& p : m.state_points) {
    const MeasuredValue x = get(p);
    v.push_back(x.mean);
    e.push_back(x.error);
  }
  return column_pair(v, e);
}

json other_fraction_json(const Measurements& m, const GroupSetup& setup) {
  json other = json::object();
  for (const Group& g : setup.groups) {
    if (g.other_bin.empty()) continue;
    std::vector<double> v, e;
    for (const StatePointMeasurement& p : m.state_points) {
      const auto it = p.concentrations.find(g.other_bin);
      v.push_back(it == p.concentrations.end() ? kNaN : it->second.mean);
      e.push_back(it == p.concentrations.end() ? kNaN : it->second.error);
    }
    other[g.name] = column_pair(v, e);
  }
  return other;
}

json per_temperature_json(const Measurements& m, const StatePointSelection& sel,
                          const GroupSetup& setup, const Fits& fits, const Derived& d) {
  const size_t n_sp = m.state_points.size();
  const QuantityIndex& qi = d.qi;
  json pt;
  auto put = [&](const char* key, int quantity) {
    pt[key] = column_pair(d.points.column(quantity, 0, n_sp));
  };
  pt["temperature"] = column(state_point_temperatures(m));
  pt["used_in_fits"] = used_in_fits_json(sel);
  pt["equilibrated"] = json::array();
  for (const StatePointMeasurement& p : m.state_points)
    pt["equilibrated"].push_back(p.equilibrated);
  pt["c_liq_measured"] = column_pair(fits.liquid.c_liq, fits.liquid.c_liq_error);
  put("c_liq_predicted", qi.c_liq);
  put("c_liq_predicted_gaussian", qi.c_liq_gaussian);
  pt["density_measured"] =
      measured_column(m, [](const StatePointMeasurement& p) { return p.density; });
  put("density_fit", qi.density);
  pt["xi_measured"] = column_pair(fits.liquid.xi, fits.liquid.xi_error);
  put("xi_predicted", qi.xi);
  put("xi_predicted_gaussian", qi.xi_gaussian);
  put_tau_columns(m, fits, pt);
  put("ln_tau_alpha_predicted", qi.ln_tau);
  put("ln_tau_alpha_predicted_gaussian", qi.ln_tau_gaussian);
  pt["potential_energy_measured"] =
      measured_column(m, [](const StatePointMeasurement& p) { return p.potential_energy; });
  if (m.is_npt()) {
    pt["enthalpy_measured"] =
        measured_column(m, [](const StatePointMeasurement& p) { return *p.enthalpy; });
    put("enthalpy_model", qi.enthalpy);
  } else {
    put("energy_model", qi.energy);
  }
  put("heat_capacity_model", qi.heat_capacity);
  pt["other_fraction"] = other_fraction_json(m, setup);
  return pt;
}

// The relaxation fit's left-out state points, with the predicted tau_alpha where it was not
// reached: consistency with the measured lower bound.
json relaxation_excluded_json(const Measurements& m, const Fits& fits, const Derived& d) {
  json out = json::array();
  for (const RelaxationExclusion& x : fits.relaxation.excluded) {
    const StatePointMeasurement& p = m.state_points[x.point];
    json e = {{"temperature", p.temperature}, {"input_index", p.index}, {"reasons", x.reasons}};
    e["lower_bound"] = optional_json(p.tau_alpha.lower_bound);
    e["tau_alpha_measured"] = optional_json(p.tau_alpha.value);
    const double ln_pred = d.points.value(d.qi.ln_tau, x.point);
    e["ln_tau_alpha_predicted"] = value_error(ln_pred, d.points.error(d.qi.ln_tau, x.point));
    if (!e["lower_bound"].is_null() && std::isfinite(ln_pred))
      e["prediction_above_lower_bound"] = ln_pred >= std::log(e["lower_bound"].get<double>());
    out.push_back(e);
  }
  return out;
}

json hold_out_json(const Measurements& m, const HoldOut& h) {
  if (!h.done) return {{"status", "not done"}, {"reason", h.reason}};
  return {{"status", "done"},
          {"temperature", m.state_points[h.point].temperature},
          {"n_points_refit", h.n_points_refit},
          {"mu_refit", value_error(h.mu, h.mu_error)},
          {"c_refit", value_error(h.c, h.c_error)},
          {"ln_tau_alpha_measured", value_error(h.measured, h.measured_error)},
          {"ln_tau_alpha_predicted", value_error(h.predicted, h.predicted_error)},
          {"tau_alpha_measured", num(std::exp(h.measured))},
          {"tau_alpha_predicted", num(std::exp(h.predicted))},
          {"ratio_predicted_over_measured", num(std::exp(h.predicted - h.measured))},
          {"pull", num(h.pull)},
          {"note",
           "prediction from the measured xi at that temperature and the refit "
           "(mu, c); pull = (measured - predicted)/sqrt(var_pred + var_meas)"}};
}

// The parameters and points of a successful relaxation fit.
void put_tau_fit(const Measurements& m, const TauFit& tau, json& rel) {
  const Matrix& c = tau.fit.covariance;
  const double mu = tau.fit.parameters[1], intercept = tau.fit.parameters[0];
  rel["mu"] = value_error(mu, std::sqrt(c(1, 1)));
  rel["c"] = value_error(intercept, std::sqrt(c(0, 0)));
  rel["exp_c"] = value_error(std::exp(intercept), std::exp(intercept) * std::sqrt(c(0, 0)));
  rel["covariance_mu_c"] = json::array(
      {json::array({num(c(1, 1)), num(c(0, 1))}), json::array({num(c(0, 1)), num(c(0, 0))})});
  rel["chi2"] = num(tau.fit.chi2);
  rel["dof"] = tau.fit.dof;
  rel["reduced_chi2"] = num(tau.fit.reduced_chi2);
  rel["p_value"] = num(tau.fit.p_value);
  std::vector<double> ts;
  for (int k : tau.points) ts.push_back(m.state_points[k].temperature);
  rel["temperature_range"] = range_json(ts.front(), ts.back());
  rel["n_points"] = static_cast<int>(ts.size());
  rel["points"] = {{"temperature", column(ts)},
                   {"xi_over_t", column_pair(tau.x, tau.x_error)},
                   {"ln_tau_alpha", column_pair(tau.y, tau.y_error)},
                   {"pull", column(tau.fit.pulls)}};
}

json relaxation_json(const Measurements& m, const GroupSetup& setup, const Fits& fits,
                     const Derived& d) {
  const TauFit& tau = fits.relaxation.fit;
  json rel;
  rel["liquid_species"] = setup.liquid_names;
  rel["liquid_species_missing_from_model"] = d.liquid_missing;
  rel["status"] = tau.ok ? "fitted" : "not fitted";
  rel["reason"] = tau.ok ? "ln tau_alpha = mu xi/T + c over the listed state points" : tau.reason;
  rel["weighting"] = tau.weighting;
  rel["excluded"] = relaxation_excluded_json(m, fits, d);
  if (tau.ok) {
    put_tau_fit(m, tau, rel);
    rel["hold_out"] = hold_out_json(m, d.hold_out);
  } else {
    for (const char* key : {"mu", "c", "exp_c", "hold_out"}) rel[key] = nullptr;
  }
  return rel;
}

json density_json(const StatePointSelection& sel, const Fits& fits) {
  const std::vector<double>& theta = fits.params.theta;
  const Matrix& cov = fits.params.covariance;
  const int di = fits.params.density_index;
  return {{"form", fits.density.form},
          {"weighting", fits.density.weighting},
          {"a0", value_error(theta[di], std::sqrt(cov(di, di)))},
          {"a1", value_error(theta[di + 1], std::sqrt(cov(di + 1, di + 1)))},
          {"covariance", matrix_json(fits.density.fit.covariance)},
          {"reduced_chi2", num(fits.density.fit.reduced_chi2)},
          {"temperature_range", range_json(sel.t_lo, sel.t_hi)},
          {"units", "a0: sigma^-d, a1: sigma^-d per unit T"}};
}

// tau_alpha on the grid; null beyond e^700.
json grid_tau_json(const Derived& d) {
  const auto [v, e] = d.grid.column(d.qi.ln_tau);
  std::vector<double> tv(v.size(), kNaN), te(v.size(), kNaN);
  for (size_t i = 0; i < v.size(); ++i)
    if (std::isfinite(v[i]) && v[i] < 700.0) {
      tv[i] = std::exp(v[i]);
      te[i] = tv[i] * e[i];
    }
  return column_pair(tv, te);
}

json grid_json(const Measurements& m, const Derived& d) {
  const QuantityIndex& qi = d.qi;
  json grid;
  auto put = [&](const char* key, int quantity) {
    grid[key] = column_pair(d.grid.column(quantity));
  };
  grid["temperature"] = column(d.grid.temperature);
  json cm = json::object(), cg = json::object();
  for (size_t i = 0; i < d.layout.model_species.size(); ++i) {
    const std::string& name = m.species[d.layout.model_species[i]].name;
    cm[name] = column_pair(d.grid.column(qi.concentrations + static_cast<int>(i)));
    cg[name] = column_pair(d.grid.column(qi.concentrations_gaussian + static_cast<int>(i)));
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
  grid["tau_alpha"] = grid_tau_json(d);
  if (m.is_npt())
    put("enthalpy_model", qi.enthalpy);
  else
    put("energy_model", qi.energy);
  put("heat_capacity_model", qi.heat_capacity);
  put("entropy", qi.entropy);
  grid["entropy_reference_temperature"] = d.t_ref;
  grid["note"] =
      "model quantities on a uniform temperature grid; null where undefined (no fit of that "
      "piece, overflow of tau_alpha beyond e^700, C_liq = 0)";
  return grid;
}

json comparison_json(const ThermoComparison& c) {
  const size_t n = c.temperature.size();
  json out;
  out["additive_constant"] =
      c.with_constant ? value_error(c.constant, c.constant_error) : json(nullptr);
  out["temperature"] = column(c.temperature);
  out["model_plus_constant"] = column_pair(c.model_plus_constant, c.model_error);
  out["measured"] = column_pair(c.measured, c.measured_error);
  out["ratio"] = column(c.ratio);
  out["pull"] = column(c.pull);
  out["worst_relative_deviation"] = {{"value", num(c.worst)}, {"temperature", num(c.worst_t)}};
  out["chi2"] = c.all_errors ? num(c.chi2) : json(nullptr);
  out["dof"] = c.dof;
  out["reduced_chi2"] = c.all_errors && c.dof > 0 ? num(c.chi2 / c.dof) : json(nullptr);
  out["temperature_range"] =
      range_json(n ? c.temperature.front() : kNaN, n ? c.temperature.back() : kNaN);
  return out;
}

// The heat-capacity part of "thermodynamics", common to NPT and NVT.
void put_heat_capacity(const StatePointSelection& sel, const Derived& d, json& th) {
  const Thermodynamics& t = d.thermo;
  const bool npt = d.layout.npt;
  th["heat_capacity_finite_difference"] = {
      {"temperature", column(d.mid_t)},
      {"finite_difference", column_pair(t.fd, t.fd_error)},
      {"model", column_pair(t.c_model, t.c_model_error)},
      {"note", std::string("finite differences of the measured ") + (npt ? "h = u + p v" : "u") +
                   " between neighbouring fitted temperatures, at the midpoints"}};
  json peak = nullptr;
  if (t.peak.found) {
    const int i = t.peak.index;
    const double ti = d.grid.temperature[i];
    peak = {{"temperature", ti},
            {"heat_capacity",
             value_error(d.grid.value(d.qi.heat_capacity, i), d.grid.error(d.qi.heat_capacity, i))},
            {"at_grid_edge", i == 0 || i == static_cast<int>(d.grid.temperature.size()) - 1},
            {"inside_fitted_range", ti >= sel.t_lo && ti <= sel.t_hi}};
  }
  th["heat_capacity_peak"] = peak;
  th["heat_capacity_negative_below"] = num(t.negative_below);
  th["heat_capacity_negative_note"] =
      "highest grid temperature below the fitted range where the model heat capacity is "
      "negative (the extrapolation is not trustworthy there); null if none";
  th["entropy_reference_temperature"] = d.t_ref;
  th["entropy_note"] = "S(T) - S(T_ref) = int_{T_ref}^{T} C_model(T')/T' dT' (grid.entropy)";
}

json energy_fits_json(const GroupSetup& setup, const Fits& fits) {
  json out = json::array();
  for (size_t i = 0; i < setup.groups.size(); ++i) {
    const EnergyFit& f = fits.energy[i];
    json e = {{"group", setup.groups[i].name}, {"status", f.ok ? "fitted" : "not fitted"}};
    if (f.ok) {
      e["e"] = value_error(f.fit.parameters[0], std::sqrt(f.fit.covariance(0, 0)));
      e["chi2"] = num(f.fit.chi2);
      e["dof"] = f.fit.dof;
      e["reduced_chi2"] = num(f.fit.reduced_chi2);
      e["n_points"] = f.points;
      e["temperature_range"] = range_json(f.t_lo, f.t_hi);
      e["units"] = "epsilon per neighbour";
      e["note"] =
          "E_s = e n_s through the origin, every species_energy value of the fitted "
          "state points (weighted when all errors are given)";
    } else {
      e["e"] = nullptr;
      e["reason"] = f.reason;
    }
    out.push_back(e);
  }
  return out;
}

// The measured heat capacities (fluctuations of canonical runs) against the model's at every state
// point that has one. The measured C is that of the total energy (NVT) or enthalpy (NPT), kinetic
// part (d/2)(N - 1)/N included; the models are of the potential energy (NVT: d u/dT from Eq. 15,
// whose (d/2) T is the vibrational potential energy, not the kinetic) and of u + p v (NPT), so the
// kinetic d/2 is added to both.
json measured_heat_capacity_json(const Measurements& m, const Derived& d) {
  json rows = json::array();
  const double kinetic = 0.5 * m.dimension;
  for (std::size_t k = 0; k < m.state_points.size(); ++k) {
    const StatePointMeasurement& p = m.state_points[k];
    if (!p.heat_capacity) continue;
    const double model = d.points.value(d.qi.heat_capacity, k) + kinetic;
    const double model_error = d.points.error(d.qi.heat_capacity, k);
    const double sigma = std::hypot(p.heat_capacity->error, model_error);
    rows.push_back({{"temperature", p.temperature},
                    {"measured", value_error(p.heat_capacity->mean, p.heat_capacity->error)},
                    {"model", value_error(model, model_error)},
                    {"pull", num((p.heat_capacity->mean - model) / sigma)}});
  }
  return rows;
}

json thermodynamics_json(const StatePointSelection& sel, const GroupSetup& setup, const Fits& fits,
                         const Derived& d) {
  const Thermodynamics& t = d.thermo;
  json th;
  put_heat_capacity(sel, d, th);
  if (d.layout.npt) {
    th["kind"] = "enthalpy (NPT, paper's Eq. 14)";
    th["heat_capacity_kind"] = "C_p";
    th["model_definition"] =
        "h_qs(T) = sum_s C_s(T) H_s (Eq. 7 concentrations, fitted H and g); C_p,model = d "
        "h_qs/dT "
        "(analytic); compared with h_sys = u + p v plus the best additive constant C";
    th["comparison"] = comparison_json(t.comparison);
    th["comparison_measured_concentrations"] =
        comparison_json(t.comparison_measured_concentrations);
    return th;
  }
  th["kind"] = "energy (NVT, paper's Eq. 15)";
  th["heat_capacity_kind"] = "C_v";
  th["model_definition"] =
      "u_model(T) = sum_groups (e/2) sum_s C_s(T) n_s + (d/2) T with E_s = e n_s fitted to "
      "species_energy; C_v,model = d u_model/dT (analytic)";
  th["energy_per_neighbor"] = energy_fits_json(setup, fits);
  if (t.any_energy) {
    th["comparison"] = comparison_json(t.comparison);
    th["comparison_with_constant"] = comparison_json(t.comparison_with_constant);
    // The fitted e the comparisons use, per group, with its error and temperature range.
    json used = json::array();
    for (size_t i = 0; i < setup.groups.size(); ++i) {
      const EnergyFit& f = fits.energy[i];
      if (!f.ok) continue;
      used.push_back({{"group", setup.groups[i].name},
                      {"e", value_error(f.fit.parameters[0], std::sqrt(f.fit.covariance(0, 0)))},
                      {"temperature_range", range_json(f.t_lo, f.t_hi)}});
    }
    th["comparison_energy_per_neighbor"] = used;
    if (std::isfinite(t.paper_e)) {
      json c = comparison_json(t.comparison_paper_e);
      c["e"] = t.paper_e;
      c["note"] =
          "Eq. 15 with the paper's energy per neighbour in place of the fitted e (every "
          "group; no additive constant); the other parameters as fitted";
      th["comparison_paper_e"] = c;
    } else {
      th["comparison_paper_e"] = nullptr;
    }
  } else {
    th["comparison"] = nullptr;
    th["comparison_reason"] = "no energy-per-neighbour fit (species_energy missing)";
  }
  return th;
}

json warnings_json(const StatePointSelection& sel, const GroupSetup& setup, const Derived& d) {
  json warnings = json::array();
  int accepted = 0;
  for (const std::string& a : sel.accepted_by) accepted += !a.empty();
  if (accepted > 0)
    warnings.push_back(
        std::to_string(accepted) +
        " state point(s) flagged as not equilibrated are used by option accept "
        "(accepted_flagged_state_points): their errors may be optimistic or their means "
        "biased, see their flags");
  for (const Group& g : setup.groups)
    if (g.max_other_fraction > 0.005)
      warnings.push_back("group " + g.name + ": up to " + fmt(100 * g.max_other_fraction, 3) +
                         " % of its particles are in the other bin (untracked species)");
  if (!d.liquid_missing.empty())
    warnings.push_back("liquid species without a fit are missing from the predicted C_liq: " +
                       json(d.liquid_missing).dump());
  return warnings;
}

json notes_json() {
  return json::array(
      {"values with errors are {\"value\", \"error\"} (one standard deviation); null marks a "
       "quantity that is not defined, with the reason in a neighbouring field",
       "errors of fitted parameters are formal (from the input errors) unless "
       "options.inflate_errors; derived quantities carry linearly propagated errors from the full "
       "parameter covariance (species correlated through the reference species)",
       "the relaxation fit is treated as independent of the concentration fits in the error "
       "propagation"});
}

}  // namespace

json analysis_json(const Measurements& m, const AnalyzeOptions& opt, const StatePointSelection& sel,
                   const GroupSetup& setup, const Fits& fits, const Derived& d) {
  json out;
  out["format"] = "vitrify-analysis";
  out["version"] = 1;
  out["source"] = {{"model", m.model},
                   {"dimension", m.dimension},
                   {"ensemble", m.ensemble},
                   {"n_particles", m.n_particles},
                   {"pressure", optional_json(m.pressure)}};
  out["units"] = units_json();
  out["options"] = options_json(opt);
  out["temperature_range"] = {{"measured", range_json(m.state_points.front().temperature,
                                                      m.state_points.back().temperature)},
                              {"fitted", range_json(sel.t_lo, sel.t_hi)},
                              {"grid", range_json(d.grid_lo, d.grid_hi)}};
  put_state_points(m, sel, out);
  out["species"] = species_json(m, setup, fits);
  out["groups"] = groups_json(m, opt, setup, fits, d);
  out["validation"] = validation_json(opt, sel, d.validation);
  out["concentrations"] = concentrations_json(m, sel, d);
  out["per_temperature"] = per_temperature_json(m, sel, setup, fits, d);
  out["relaxation"] = relaxation_json(m, setup, fits, d);
  out["density_fit"] = density_json(sel, fits);
  out["grid"] = grid_json(m, d);
  out["thermodynamics"] = thermodynamics_json(sel, setup, fits, d);
  out["thermodynamics"]["heat_capacity_measured"] = measured_heat_capacity_json(m, d);
  out["warnings"] = warnings_json(sel, setup, d);
  out["notes"] = notes_json();
  return out;
}

}  // namespace vitrify::analysis::steps
