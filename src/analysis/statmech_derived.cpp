// Step 4 of the analysis: quantities derived from the fits (docs/PHYSICS.md, section "Statistical
// mechanics"; methods: docs/ANALYSIS.md): model predictions with propagated errors at the state
// points and on the grid, the Gaussian degeneracy parameters, the relaxation hold-out test, the
// thermodynamic comparisons and the validation verdict.
#include <algorithm>
#include <cmath>

#include "statmech_steps.hpp"

namespace vitrify::analysis::steps {

namespace {

ModelLayout make_layout(const Measurements& m, const GroupSetup& setup, const Fits& fits) {
  ModelLayout layout;
  layout.dimension = m.dimension;
  layout.npt = m.is_npt();
  layout.m = &m;
  layout.setup = &setup;
  layout.fits = &fits;
  for (const Group& g : setup.groups)
    for (int s : g.species)
      if (fits.species[s].fitted || setup.species[s].is_reference) {
        layout.model_species.push_back(s);
        if (setup.species[s].liquid) layout.liquid_in_model.push_back(s);
      }
  layout.density_index = fits.params.density_index;
  layout.tau_index = fits.relaxation.fit.ok ? fits.params.tau_index : -1;
  return layout;
}

Predictions predict(const ModelLayout& layout, const Parameters& params,
                    const std::vector<double>& temps, double entropy_reference) {
  Predictions p;
  p.temperature = temps;
  p.values = propagate_errors(
      [&](const std::vector<double>& th) {
        return evaluate_model(layout, th, p.temperature, entropy_reference);
      },
      params.theta, params.covariance);
  return p;
}

// n_mp = -b/(2q), sigma^2 = -1/(2q), c = -q (n_r - n_mp)^2 and the curve ln g(n) over the
// group's neighbour counts.
GaussianDerived derive_gaussian(const Measurements& m, const Group& g, const GaussianFit& gf,
                                const Parameters& params) {
  GaussianDerived d;
  const int p = gf.parameter_index;
  d.b = params.theta[p];
  d.q = params.theta[p + 1];
  const double n_ref = m.species[g.reference].neighbors;
  Matrix bq(2, 2);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) bq(i, j) = params.covariance(p + i, p + j);
  d.n_mp_sigma2_c = propagate_errors(
      [&](const std::vector<double>& v) {
        const double n_mp = -v[0] / (2 * v[1]);
        return std::vector<double>{n_mp, -1.0 / (2 * v[1]),
                                   -v[1] * (n_ref - n_mp) * (n_ref - n_mp)};
      },
      {d.b, d.q}, bq);
  d.b_error = std::sqrt(bq(0, 0));
  d.q_error = std::sqrt(bq(1, 1));
  int n_min = 1 << 30, n_max = -(1 << 30);
  for (int s : g.species) {
    n_min = std::min(n_min, m.species[s].neighbors);
    n_max = std::max(n_max, m.species[s].neighbors);
  }
  for (int n = n_min; n <= n_max; ++n) {
    d.curve_neighbors.push_back(n);
    d.curve_ln_g.push_back(d.b * (n - n_ref) + d.q * (double(n) * n - n_ref * n_ref));
  }
  return d;
}

// Sum of squares, each square rounded before it is added (no fused multiply-add), so that the
// sum does not depend on how the compiler vectorises the loop.
double sum_of_squares(const std::vector<double>& v) {
  std::vector<double> squares(v.size());
  for (size_t i = 0; i < v.size(); ++i) squares[i] = v[i] * v[i];
  double sum = 0.0;
  for (double s : squares) sum += s;
  return sum;
}

// Refit of the relaxation without its lowest temperature, predicting that temperature.
HoldOut hold_out_test(const Measurements& m, const Fits& fits) {
  const TauFit& tau = fits.relaxation.fit;
  HoldOut h;
  if (tau.points.size() < 4) {
    h.reason = "needs at least four fitted state points (three remain for the refit)";
    return h;
  }
  const std::vector<int> rest(tau.points.begin() + 1, tau.points.end());
  const TauFit refit = fit_tau(m, fits.liquid, rest, fits.relaxation.tau_errors);
  if (!refit.ok) {
    h.reason = "refit failed: " + refit.reason;
    return h;
  }
  const Matrix& rc = refit.fit.covariance;
  const double x = tau.x.front(), xe = tau.x_error.front();
  const double mu2 = refit.fit.parameters[1];
  const double pred = refit.fit.parameters[0] + mu2 * x;
  const double var_pred =
      std::max(0.0, rc(0, 0) + 2 * x * rc(0, 1) + x * x * rc(1, 1)) + mu2 * mu2 * xe * xe;
  double var_meas = tau.y_error.front() * tau.y_error.front();
  if (!fits.relaxation.tau_errors) {
    const double rss = sum_of_squares(refit.fit.residuals);
    var_meas = refit.fit.dof > 0 ? rss / refit.fit.dof : kNaN;
  }
  const double y = tau.y.front();
  h.done = true;
  h.point = tau.points.front();
  h.n_points_refit = static_cast<int>(rest.size());
  h.mu = mu2;
  h.mu_error = std::sqrt(rc(1, 1));
  h.c = refit.fit.parameters[0];
  h.c_error = std::sqrt(rc(0, 0));
  h.measured = y;
  h.measured_error = std::sqrt(var_meas);
  h.predicted = pred;
  h.predicted_error = std::sqrt(var_pred);
  h.pull = (y - pred) / std::sqrt(var_pred + var_meas);
  return h;
}

ValidationSummary summarize_validation(const Measurements& m, const GroupSetup& setup,
                                       const Fits& fits) {
  ValidationSummary v;
  for (size_t s = 0; s < m.species.size(); ++s) {
    const SpeciesFit& sf = fits.species[s];
    if (setup.species[s].is_reference) continue;
    if (!sf.fitted)
      v.untested.push_back({m.species[s].name, sf.exclusion_reason});
    else if (sf.validation.passes)
      v.passed.push_back(m.species[s].name);
    else
      v.failed.push_back({m.species[s].name, sf.validation.verdict});
  }
  bool every_group_tested = true;
  for (const Group& g : setup.groups) {
    bool any = false;
    for (int s : g.species) any = any || fits.species[s].fitted;
    every_group_tested = every_group_tested && any;
  }
  v.validated = v.failed.empty() && every_group_tested;
  if (!every_group_tested)
    v.reason = "a group has no fitted species";
  else if (!v.failed.empty())
    v.reason = std::to_string(v.failed.size()) +
               " species fail the criterion: " + v.failed[0].first + " (" + v.failed[0].second +
               ")" + (v.failed.size() > 1 ? " and others" : "");
  else
    v.reason = "all " + std::to_string(v.passed.size()) + " fitted species pass the criterion" +
               (v.untested.empty() ? ""
                                   : "; " + std::to_string(v.untested.size()) +
                                         " species have too few data to be tested (listed)");
  return v;
}

}  // namespace

Derived derive(const Measurements& m, const AnalyzeOptions& opt, const StatePointSelection& sel,
               const GroupSetup& setup, const Fits& fits) {
  Derived d;
  d.layout = make_layout(m, setup, fits);
  d.qi = quantity_index(d.layout);
  for (size_t s = 0; s < m.species.size(); ++s)
    if (setup.species[s].liquid && !fits.species[s].fitted && !setup.species[s].is_reference)
      d.liquid_missing.push_back(m.species[s].name);
  // Every state point, then the midpoints of the fitted ones (for the finite-difference heat
  // capacity comparison).
  std::vector<double> eval_t;
  for (const StatePointMeasurement& p : m.state_points) eval_t.push_back(p.temperature);
  for (size_t i = 1; i < sel.fit_points.size(); ++i)
    d.mid_t.push_back(0.5 * (m.state_points[sel.fit_points[i - 1]].temperature +
                             m.state_points[sel.fit_points[i]].temperature));
  eval_t.insert(eval_t.end(), d.mid_t.begin(), d.mid_t.end());
  d.points = predict(d.layout, fits.params, eval_t, 0.0);
  d.grid_lo = opt.grid_t_min ? *opt.grid_t_min : 0.1 * sel.t_lo;
  d.grid_hi = opt.grid_t_max ? *opt.grid_t_max : 1.5 * sel.t_hi;
  if (!(d.grid_hi > d.grid_lo)) options_error("grid_t_min", "must be below grid_t_max");
  std::vector<double> grid_t(opt.grid_points);
  for (int i = 0; i < opt.grid_points; ++i)
    grid_t[i] = d.grid_lo + (d.grid_hi - d.grid_lo) * i / (opt.grid_points - 1);
  d.t_ref = opt.entropy_reference_temperature ? *opt.entropy_reference_temperature : sel.t_hi;
  d.grid = predict(d.layout, fits.params, grid_t, d.t_ref);
  d.gaussian.resize(setup.groups.size());
  for (size_t g = 0; g < setup.groups.size(); ++g)
    if (fits.gaussian[g].ok)
      d.gaussian[g] = derive_gaussian(m, setup.groups[g], fits.gaussian[g], fits.params);
  if (fits.relaxation.fit.ok) d.hold_out = hold_out_test(m, fits);
  d.thermo = derive_thermodynamics(m, sel, fits, d);
  d.validation = summarize_validation(m, setup, fits);
  return d;
}

}  // namespace vitrify::analysis::steps
