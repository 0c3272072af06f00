// Step 3 of the analysis: the fits (docs/PHYSICS.md, section "Statistical mechanics"; methods:
// docs/ANALYSIS.md) and the parameter vector theta with its full covariance.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "statmech_steps.hpp"

namespace vitrify::analysis::steps {

namespace {

// Relative error given to a concentration whose stated error is zero (exact input), so that the
// weighted fits stay defined; far below any statistical error.
constexpr double kRelativeErrorFloor = 1e-10;

// Input with every concentration error zero at the fitted state points is treated as exact.
bool is_exact_input(const Measurements& m, const StatePointSelection& sel) {
  for (int k : sel.fit_points)
    for (const auto& [name, value] : m.state_points[k].concentrations)
      if (value.error > 0.0) return false;
  return true;
}

// F_s = -T ln(C_s/C_r) at every state point, and the points that enter the species' fit. When
// errors are given elsewhere, a zero error on a nonzero concentration cannot be weighted and that
// point is left out.
void free_energies(const Measurements& m, const AnalyzeOptions& opt, const StatePointSelection& sel,
                   const std::string& name, const std::string& ref, bool is_reference,
                   bool exact_input, SpeciesFit& sf) {
  const size_t n_sp = m.state_points.size();
  sf.free_energy.assign(n_sp, kNaN);
  sf.free_energy_error.assign(n_sp, kNaN);
  sf.note.assign(n_sp, "");
  for (size_t k = 0; k < n_sp; ++k) {
    const StatePointMeasurement& p = m.state_points[k];
    const double t = p.temperature;
    const MeasuredValue c = p.concentrations.at(name);
    const MeasuredValue cr = p.concentrations.at(ref);
    if (is_reference) {
      sf.free_energy[k] = 0.0;
      sf.free_energy_error[k] = 0.0;
      sf.note[k] = "reference species (F = 0 by definition)";
      continue;
    }
    if (!(c.mean > 0.0) || !(cr.mean > 0.0)) {
      sf.note[k] = c.mean > 0.0 ? "reference species absent" : "species absent (C = 0)";
      continue;
    }
    const double rel = std::max(c.error / c.mean, kRelativeErrorFloor);
    const double rel_r = std::max(cr.error / cr.mean, kRelativeErrorFloor);
    sf.free_energy[k] = -t * std::log(c.mean / cr.mean);
    sf.free_energy_error[k] = t * std::sqrt(rel * rel + rel_r * rel_r);
    if (!sel.used[k]) {
      sf.note[k] = "state point excluded";
    } else if (c.error == 0.0 && !exact_input) {
      sf.note[k] = "zero error on a nonzero concentration (cannot be weighted)";
    } else if (c.error / c.mean > opt.max_relative_error) {
      sf.note[k] = "relative error " + fmt(c.error / c.mean, 3) + " > max_relative_error";
    } else {
      sf.fit_points.push_back(static_cast<int>(k));
    }
  }
}

// The verdict of the validation from the worst pull and the worst C_s/C_r deviation.
void set_verdict(const LinearFit& fit, const AnalyzeOptions& opt, SpeciesValidation& v) {
  std::vector<std::string> stat_reasons;
  if (!(fit.p_value >= opt.p_value_min))
    stat_reasons.push_back("chi2 p-value " + fmt(fit.p_value, 3) + " < " + fmt(opt.p_value_min));
  if (std::abs(v.worst_pull) > opt.z_max)
    stat_reasons.push_back("worst |pull| " + fmt(std::abs(v.worst_pull), 3) +
                           " at T = " + fmt(v.worst_pull_t) + " > " + fmt(opt.z_max));
  v.statistical_pass = stat_reasons.empty();
  v.practical_pass = std::abs(v.worst_ratio) <= opt.relative_tolerance;
  const std::string practical_reason = "measured C_s/C_r deviates from the fit by " +
                                       fmt(100 * std::abs(v.worst_ratio), 3) +
                                       " % at T = " + fmt(v.worst_ratio_t) + " (tolerance " +
                                       fmt(100 * opt.relative_tolerance) + " %)";
  std::string stat_reason;
  for (size_t i = 0; i < stat_reasons.size(); ++i) stat_reason += (i ? "; " : "") + stat_reasons[i];
  if (opt.validation_criterion == "statistical") {
    v.passes = v.statistical_pass;
    v.verdict = v.passes ? "statistically consistent" : stat_reason;
  } else if (opt.validation_criterion == "practical") {
    v.passes = v.practical_pass;
    v.verdict = v.passes ? "within the practical tolerance: " + practical_reason : practical_reason;
  } else {
    v.passes = v.statistical_pass || v.practical_pass;
    if (v.statistical_pass)
      v.verdict = "statistically consistent";
    else if (v.practical_pass)
      v.verdict = "statistically rejected (" + stat_reason +
                  ") but within the practical tolerance: " + practical_reason;
    else
      v.verdict = stat_reason + "; " + practical_reason;
  }
}

// Fit of one species' free energies, F = H - T ln g, and its validation.
void fit_species(SpeciesFit& sf, const std::vector<StatePointMeasurement>& sp,
                 const AnalyzeOptions& opt) {
  std::vector<double> t, y, sigma;
  for (int k : sf.fit_points) {
    t.push_back(sp[k].temperature);
    y.push_back(sf.free_energy[k]);
    sigma.push_back(sf.free_energy_error[k]);
  }
  Matrix design(static_cast<int>(t.size()), 2);
  for (size_t i = 0; i < t.size(); ++i) {
    design(static_cast<int>(i), 0) = 1.0;
    design(static_cast<int>(i), 1) = -t[i];
  }
  sf.fit = weighted_linear_fit(design, y, sigma);
  sf.fitted = true;
  if (opt.inflate_errors && sf.fit.reduced_chi2 > 1.0)
    sf.error_scale = std::sqrt(sf.fit.reduced_chi2);
  SpeciesValidation& v = sf.validation;
  v.worst_pull = 0.0;
  v.worst_ratio = 0.0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (std::abs(sf.fit.pulls[i]) >= std::abs(v.worst_pull)) {
      v.worst_pull = sf.fit.pulls[i];
      v.worst_pull_t = t[i];
    }
    // Measured C_s/C_r over the fitted one: exp(-(F_meas - F_fit)/T).
    const double ratio = std::expm1(-sf.fit.residuals[i] / t[i]);
    if (std::abs(ratio) >= std::abs(v.worst_ratio)) {
      v.worst_ratio = ratio;
      v.worst_ratio_t = t[i];
    }
  }
  set_verdict(sf.fit, opt, v);
}

std::vector<SpeciesFit> fit_all_species(const Measurements& m, const AnalyzeOptions& opt,
                                        const StatePointSelection& sel, const GroupSetup& setup) {
  const bool exact_input = is_exact_input(m, sel);
  std::vector<SpeciesFit> out(m.species.size());
  for (size_t s = 0; s < m.species.size(); ++s) {
    SpeciesFit& sf = out[s];
    const SpeciesRole& role = setup.species[s];
    const std::string& ref = m.species[setup.groups[role.group].reference].name;
    free_energies(m, opt, sel, m.species[s].name, ref, role.is_reference, exact_input, sf);
    if (role.is_reference) continue;
    if (static_cast<int>(sf.fit_points.size()) < opt.min_temperatures) {
      sf.exclusion_reason = "measured well at " + std::to_string(sf.fit_points.size()) +
                            " fitted temperatures, fewer than min_temperatures = " +
                            std::to_string(opt.min_temperatures);
      continue;
    }
    try {
      fit_species(sf, m.state_points, opt);
    } catch (const std::invalid_argument& e) {
      sf.fitted = false;
      sf.exclusion_reason = std::string("fit failed: ") + e.what();
    }
  }
  return out;
}

// Positions in theta: (H, ln g) of every fitted species, (b, q) per group, the density (a0,
// a1), the relaxation (mu, c), e per group.
void lay_out_parameters(Fits& fits, size_t n_groups) {
  int n_params = 0;
  for (SpeciesFit& sf : fits.species)
    if (sf.fitted) {
      sf.parameter_index = n_params;
      n_params += 2;
    }
  fits.gaussian.resize(n_groups);
  for (GaussianFit& g : fits.gaussian) {
    g.parameter_index = n_params;
    n_params += 2;
  }
  fits.params.density_index = n_params;
  n_params += 2;
  fits.params.tau_index = n_params;
  n_params += 2;
  fits.energy.resize(n_groups);
  for (EnergyFit& e : fits.energy) e.parameter_index = n_params++;
  fits.params.theta.assign(n_params, 0.0);
  fits.params.covariance = Matrix(n_params, n_params);
}

// Covariance of two species' (H, ln g) of one group through the shared reference species:
// Cov(F_s(T), F_s'(T)) = T^2 (err_r/C_r)^2 at the temperatures both fits use.
Matrix shared_reference_block(const Measurements& m, const std::string& ref, const SpeciesFit& a,
                              const SpeciesFit& b) {
  Matrix shared(static_cast<int>(a.fit_points.size()), static_cast<int>(b.fit_points.size()));
  for (size_t i = 0; i < a.fit_points.size(); ++i)
    for (size_t j = 0; j < b.fit_points.size(); ++j)
      if (a.fit_points[i] == b.fit_points[j]) {
        const StatePointMeasurement& p = m.state_points[a.fit_points[i]];
        const MeasuredValue cr = p.concentrations.at(ref);
        const double rel = std::max(cr.error / cr.mean, kRelativeErrorFloor);
        shared(static_cast<int>(i), static_cast<int>(j)) =
            p.temperature * p.temperature * rel * rel;
      }
  return a.fit.estimator * shared * b.fit.estimator.transpose();
}

// theta and covariance of the species fits, including the correlations within a group.
void store_species_parameters(const Measurements& m, const GroupSetup& setup, Fits& fits) {
  std::vector<double>& theta = fits.params.theta;
  Matrix& cov = fits.params.covariance;
  for (size_t sa = 0; sa < fits.species.size(); ++sa) {
    const SpeciesFit& a = fits.species[sa];
    if (!a.fitted) continue;
    const int group = setup.species[sa].group;
    theta[a.parameter_index] = a.fit.parameters[0];
    theta[a.parameter_index + 1] = a.fit.parameters[1];
    for (size_t sb = 0; sb < fits.species.size(); ++sb) {
      const SpeciesFit& b = fits.species[sb];
      if (!b.fitted || setup.species[sb].group != group) continue;
      const Matrix block =
          sa == sb ? a.fit.covariance
                   : shared_reference_block(m, m.species[setup.groups[group].reference].name, a, b);
      const double scale = a.error_scale * b.error_scale;
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
          cov(a.parameter_index + i, b.parameter_index + j) = scale * block(i, j);
    }
  }
}

// (b, q) = E·ln g: exact linear propagation into theta's covariance, including the correlation
// with every H and ln g.
void store_gaussian_parameters(const AnalyzeOptions& opt, const Matrix& select, GaussianFit& gf,
                               Parameters& params) {
  Matrix& cov = params.covariance;
  const int n_params = static_cast<int>(params.theta.size());
  params.theta[gf.parameter_index] = gf.fit.parameters[0];
  params.theta[gf.parameter_index + 1] = gf.fit.parameters[1];
  const Matrix map = gf.fit.estimator * select;  // 2 x n_params
  const Matrix cross = map * cov;                // 2 x n_params
  double scale = 1.0;
  if (opt.inflate_errors && gf.fit.reduced_chi2 > 1.0) scale = std::sqrt(gf.fit.reduced_chi2);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < n_params; ++j) {
      cov(gf.parameter_index + i, j) = scale * cross(i, j);
      cov(j, gf.parameter_index + i) = scale * cross(i, j);
    }
  const Matrix own = cross * map.transpose();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      cov(gf.parameter_index + i, gf.parameter_index + j) = scale * scale * own(i, j);
}

// The Gaussian degeneracy model of one group: generalised least squares on the fitted ln g.
void fit_gaussian(const Measurements& m, const AnalyzeOptions& opt, const Group& g,
                  const std::vector<SpeciesFit>& species, GaussianFit& gf, Parameters& params) {
  const double n_ref = m.species[g.reference].neighbors;
  for (int s : g.species)
    if (species[s].fitted) gf.species.push_back(s);
  const std::vector<int>& ids = gf.species;
  if (ids.size() < 2) {
    gf.reason = "needs at least two fitted species besides the reference (" +
                std::to_string(ids.size()) + ")";
    return;
  }
  const int n = static_cast<int>(ids.size());
  Matrix design(n, 2), data_cov(n, n), select(n, static_cast<int>(params.theta.size()));
  std::vector<double> y(n);
  for (int i = 0; i < n; ++i) {
    const double ns = m.species[ids[i]].neighbors;
    const int lng_i = species[ids[i]].parameter_index + 1;
    design(i, 0) = ns - n_ref;
    design(i, 1) = ns * ns - n_ref * n_ref;
    y[i] = params.theta[lng_i];
    select(i, lng_i) = 1.0;
    for (int j = 0; j < n; ++j)
      data_cov(i, j) = params.covariance(lng_i, species[ids[j]].parameter_index + 1);
  }
  try {
    gf.fit = generalized_linear_fit(design, y, data_cov);
  } catch (const std::invalid_argument& e) {
    gf.reason = std::string("fit failed: ") + e.what();
    return;
  }
  if (!(gf.fit.parameters[1] < 0.0)) {
    gf.reason = "ln g(n) is not concave (quadratic coefficient " + fmt(gf.fit.parameters[1]) +
                " >= 0): no Gaussian maximum";
    return;
  }
  gf.ok = true;
  store_gaussian_parameters(opt, select, gf, params);
}

// rho(T) = a0 + a1 T (NPT, linear fit) or constant (NVT), weighted when every error is given.
DensityFit fit_density(const Measurements& m, const StatePointSelection& sel, Parameters& params) {
  std::vector<double> t, rho, err;
  bool all_errors = true;
  for (int k : sel.fit_points) {
    const StatePointMeasurement& p = m.state_points[k];
    t.push_back(p.temperature);
    rho.push_back(p.density.mean);
    err.push_back(p.density.error);
    if (!(p.density.error > 0.0)) all_errors = false;
  }
  DensityFit d;
  const int di = params.density_index;
  if (m.is_npt()) {
    d.form = "linear: rho(T) = a0 + a1 T";
    const Matrix design = straight_line_design(t);
    d.fit = all_errors ? weighted_linear_fit(design, rho, err) : unweighted_linear_fit(design, rho);
    d.weighting =
        all_errors ? "weighted by the density errors"
                   : "unweighted (density errors absent or zero); errors from the residual scatter";
    params.theta[di] = d.fit.parameters[0];
    params.theta[di + 1] = d.fit.parameters[1];
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) params.covariance(di + i, di + j) = d.fit.covariance(i, j);
  } else {
    d.form = "constant: rho(T) = a0 (fixed volume), a1 = 0";
    const Matrix design(static_cast<int>(t.size()), 1, 1.0);
    d.fit = all_errors ? weighted_linear_fit(design, rho, err) : unweighted_linear_fit(design, rho);
    d.weighting = all_errors ? "weighted mean of the measured densities"
                             : "mean of the measured densities (errors absent or zero)";
    params.theta[di] = d.fit.parameters[0];
    params.theta[di + 1] = 0.0;
    params.covariance(di, di) = d.fit.covariance(0, 0);
  }
  return d;
}

MeasuredLiquid measure_liquid(const Measurements& m, const GroupSetup& setup) {
  const size_t n_sp = m.state_points.size();
  MeasuredLiquid l;
  l.c_liq.assign(n_sp, 0.0);
  l.c_liq_error.assign(n_sp, 0.0);
  l.xi.assign(n_sp, kNaN);
  l.xi_error.assign(n_sp, kNaN);
  const double inv_d = 1.0 / m.dimension;
  for (size_t k = 0; k < n_sp; ++k) {
    const StatePointMeasurement& p = m.state_points[k];
    double var = 0.0;
    for (size_t s = 0; s < m.species.size(); ++s)
      if (setup.species[s].liquid) {
        const MeasuredValue c = p.concentrations.at(m.species[s].name);
        l.c_liq[k] += c.mean;
        var += c.error * c.error;
      }
    l.c_liq_error[k] = std::sqrt(var);
    if (l.c_liq[k] > 0.0) {
      l.xi[k] = std::pow(p.density.mean * l.c_liq[k], -inv_d);
      const double rel_rho = p.density.error / p.density.mean;
      const double rel_c = l.c_liq_error[k] / l.c_liq[k];
      l.xi_error[k] = l.xi[k] * inv_d * std::sqrt(rel_rho * rel_rho + rel_c * rel_c);
    }
  }
  return l;
}

// ln tau = mu x + c by least squares; weighted: effective variance iterated on mu.
void fit_tau_line(bool weighted, TauFit& tf) {
  const Matrix design = straight_line_design(tf.x);
  if (!weighted) {
    tf.fit = unweighted_linear_fit(design, tf.y);
    tf.weighting =
        "unweighted (tau_alpha errors absent): parameter errors from the residual scatter, "
        "s^2 = RSS/(n-2)";
    return;
  }
  // Effective variance: sigma^2 = sigma_lnTau^2 + mu^2 sigma_x^2, iterated on mu.
  double mu = unweighted_linear_fit(design, tf.y).parameters[1];
  for (int iteration = 0; iteration < 20; ++iteration) {
    std::vector<double> sigma(tf.y.size());
    for (size_t i = 0; i < tf.y.size(); ++i)
      sigma[i] = std::sqrt(tf.y_error[i] * tf.y_error[i] + mu * mu * tf.x_error[i] * tf.x_error[i]);
    tf.fit = weighted_linear_fit(design, tf.y, sigma);
    const double new_mu = tf.fit.parameters[1];
    const bool converged = std::abs(new_mu - mu) <= 1e-12 * std::max(1.0, std::abs(mu));
    mu = new_mu;
    if (converged) break;
  }
  tf.weighting =
      "weighted: 1/sigma^2 with sigma^2 = (err_tau/tau)^2 + mu^2 err_x^2 (effective variance, "
      "x = xi/T)";
}

// The state points of the relaxation fit: used in the fits, tau_alpha reached, C_liq > 0.
RelaxationFit select_tau_points(const Measurements& m, const StatePointSelection& sel,
                                const MeasuredLiquid& liquid, std::vector<int>& points) {
  RelaxationFit r;
  for (size_t k = 0; k < m.state_points.size(); ++k) {
    const StatePointMeasurement& p = m.state_points[k];
    std::vector<std::string> reasons;
    if (!sel.used[k]) reasons.push_back("state point excluded");
    if (!p.tau_alpha.reached) reasons.push_back("tau_alpha not reached");
    if (!(liquid.c_liq[k] > 0.0)) reasons.push_back("C_liq = 0");
    if (!reasons.empty()) {
      r.excluded.push_back({static_cast<int>(k), reasons});
      continue;
    }
    points.push_back(static_cast<int>(k));
    if (!p.tau_alpha.error) r.tau_errors = false;
  }
  return r;
}

RelaxationFit fit_relaxation(const Measurements& m, const StatePointSelection& sel,
                             const MeasuredLiquid& liquid, Parameters& params) {
  std::vector<int> points;
  RelaxationFit r = select_tau_points(m, sel, liquid, points);
  r.fit = fit_tau(m, liquid, points, r.tau_errors);
  if (r.fit.ok) {
    const int ti = params.tau_index;
    const Matrix& c = r.fit.fit.covariance;
    params.theta[ti] = r.fit.fit.parameters[1];
    params.theta[ti + 1] = r.fit.fit.parameters[0];
    params.covariance(ti, ti) = c(1, 1);
    params.covariance(ti + 1, ti + 1) = c(0, 0);
    params.covariance(ti, ti + 1) = params.covariance(ti + 1, ti) = c(0, 1);
  }
  return r;
}

// NVT: E_s = e n_s through the origin, every species_energy value of the fitted state points.
void fit_energy(const Measurements& m, const StatePointSelection& sel, const Group& g,
                EnergyFit& ef, Parameters& params) {
  std::vector<double> n_col, y, err;
  bool all_errors = true;
  for (int k : sel.fit_points) {
    const StatePointMeasurement& p = m.state_points[k];
    for (int s : g.species) {
      auto it = p.species_energy.find(m.species[s].name);
      if (it == p.species_energy.end()) continue;
      if (p.concentrations.at(m.species[s].name).mean <= 0.0) continue;
      n_col.push_back(m.species[s].neighbors);
      y.push_back(it->second.mean);
      err.push_back(it->second.error);
      if (!(it->second.error > 0.0)) all_errors = false;
      ef.t_lo = std::isfinite(ef.t_lo) ? std::min(ef.t_lo, p.temperature) : p.temperature;
      ef.t_hi = std::isfinite(ef.t_hi) ? std::max(ef.t_hi, p.temperature) : p.temperature;
    }
  }
  ef.points = static_cast<int>(y.size());
  if (y.size() < 2) {
    ef.reason = "species_energy missing (fewer than two values at fitted state points)";
    return;
  }
  Matrix design(static_cast<int>(y.size()), 1);
  for (size_t i = 0; i < y.size(); ++i) design(static_cast<int>(i), 0) = n_col[i];
  try {
    ef.fit = all_errors ? weighted_linear_fit(design, y, err) : unweighted_linear_fit(design, y);
    ef.ok = true;
    params.theta[ef.parameter_index] = ef.fit.parameters[0];
    params.covariance(ef.parameter_index, ef.parameter_index) = ef.fit.covariance(0, 0);
  } catch (const std::invalid_argument& e) {
    ef.reason = std::string("fit failed: ") + e.what();
  }
}

}  // namespace

TauFit fit_tau(const Measurements& m, const MeasuredLiquid& liquid, const std::vector<int>& points,
               bool weighted) {
  TauFit tf;
  tf.points = points;
  for (int k : points) {
    const StatePointMeasurement& p = m.state_points[k];
    const double t = p.temperature;
    tf.x.push_back(liquid.xi[k] / t);
    tf.x_error.push_back(liquid.xi_error[k] / t);
    tf.y.push_back(std::log(*p.tau_alpha.value));
    tf.y_error.push_back(p.tau_alpha.error ? *p.tau_alpha.error / *p.tau_alpha.value : 0.0);
  }
  if (points.size() < 3) {
    tf.reason =
        "fewer than three state points with tau_alpha reached, equilibrated and C_liq > 0 (" +
        std::to_string(points.size()) + ")";
    return tf;
  }
  try {
    fit_tau_line(weighted, tf);
    tf.ok = true;
  } catch (const std::invalid_argument& e) {
    tf.reason = std::string("fit failed: ") + e.what();
  }
  return tf;
}

Fits run_fits(const Measurements& m, const AnalyzeOptions& opt, const StatePointSelection& sel,
              const GroupSetup& setup) {
  Fits fits;
  fits.species = fit_all_species(m, opt, sel, setup);
  lay_out_parameters(fits, setup.groups.size());
  store_species_parameters(m, setup, fits);
  for (size_t g = 0; g < setup.groups.size(); ++g)
    fit_gaussian(m, opt, setup.groups[g], fits.species, fits.gaussian[g], fits.params);
  fits.density = fit_density(m, sel, fits.params);
  fits.liquid = measure_liquid(m, setup);
  fits.relaxation = fit_relaxation(m, sel, fits.liquid, fits.params);
  if (!m.is_npt())
    for (size_t g = 0; g < setup.groups.size(); ++g)
      fit_energy(m, sel, setup.groups[g], fits.energy[g], fits.params);
  return fits;
}

}  // namespace vitrify::analysis::steps
