// Part of step 4 of the analysis: the model's enthalpy (NPT) or energy (NVT) and heat capacity
// against the measured ones (docs/PHYSICS.md, section "Statistical mechanics"; methods:
// docs/ANALYSIS.md).
#include <cmath>
#include <functional>

#include "statmech_steps.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify::analysis::steps {

namespace {

using AverageError = std::function<double(const std::vector<double>&)>;

// Comparison of a model curve with a measured one. model_average_error(w): the error of
// sum_k w_k model_k for normalised weights w, which must account for the correlation of the
// model values across temperatures (shared parameters).
ThermoComparison compare_thermo(const std::vector<double>& temps, const std::vector<double>& model,
                                const std::vector<double>& model_error,
                                const std::vector<double>& measured,
                                const std::vector<double>& measured_error, bool with_constant,
                                const AverageError& model_average_error) {
  const size_t n = temps.size();
  ThermoComparison c;
  c.with_constant = with_constant;
  for (size_t i = 0; i < n; ++i)
    if (!(model_error[i] * model_error[i] + measured_error[i] * measured_error[i] > 0))
      c.all_errors = false;
  std::vector<double> w(n, 1.0);
  double sw = 0.0, swd = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double var = model_error[i] * model_error[i] + measured_error[i] * measured_error[i];
    if (c.all_errors) w[i] = 1.0 / var;
    sw += w[i];
    swd += w[i] * (measured[i] - model[i]);
  }
  c.constant = with_constant ? swd / sw : 0.0;
  if (with_constant && c.all_errors) {
    double var_measured = 0.0;
    for (size_t i = 0; i < n; ++i) {
      w[i] /= sw;
      var_measured += w[i] * w[i] * measured_error[i] * measured_error[i];
    }
    const double model_part = model_average_error ? model_average_error(w) : 0.0;
    c.constant_error = std::sqrt(var_measured + model_part * model_part);
  }
  c.ratio.resize(n);
  c.pull.resize(n);
  std::vector<double> deviation(n);
  for (size_t i = 0; i < n; ++i) {
    const double shifted = model[i] + c.constant;
    c.ratio[i] = measured[i] != 0.0 ? shifted / measured[i] : kNaN;
    deviation[i] = shifted - measured[i];
    const double var = model_error[i] * model_error[i] + measured_error[i] * measured_error[i];
    c.pull[i] = var > 0 ? deviation[i] / std::sqrt(var) : kNaN;
    if (std::isfinite(c.pull[i])) c.chi2 += c.pull[i] * c.pull[i];
    if (std::isfinite(c.ratio[i]) && std::abs(c.ratio[i] - 1.0) >= std::abs(c.worst)) {
      c.worst = c.ratio[i] - 1.0;
      c.worst_t = temps[i];
    }
  }
  c.dof = static_cast<int>(n) - (with_constant ? 1 : 0);
  c.temperature = temps;
  c.model_plus_constant.resize(n);
  for (size_t i = 0; i < n; ++i) c.model_plus_constant[i] = model[i] + c.constant;
  c.model_error = model_error;
  c.measured = measured;
  c.measured_error = measured_error;
  return c;
}

// Error of sum_i w_i model_i(T_i) at the fitted temperatures, through theta.
AverageError model_average_error(const Fits& fits, const Derived& d,
                                 const std::vector<double>& temps, int quantity) {
  return [&fits, &d, temps, quantity](const std::vector<double>& w) {
    return propagate_errors(
               [&](const std::vector<double>& th) {
                 const std::vector<double> v = evaluate_model(d.layout, th, temps, 0.0);
                 double sum = 0.0;
                 for (size_t i = 0; i < w.size(); ++i) sum += w[i] * v[quantity * temps.size() + i];
                 return std::vector<double>{sum};
               },
               fits.params.theta, fits.params.covariance)
        .error[0];
  };
}

// NPT: h = sum_s C_s H_s with the measured concentrations and the fitted H, compared with the
// measured enthalpy.
ThermoComparison compare_measured_concentrations(const Measurements& m,
                                                 const StatePointSelection& sel, const Fits& fits,
                                                 const Thermodynamics& th) {
  const std::vector<double>& theta = fits.params.theta;
  const Matrix& cov = fits.params.covariance;
  const std::vector<int>& fit_points = sel.fit_points;
  auto conc = [&](size_t i, size_t s) {
    return m.state_points[fit_points[i]].concentrations.at(m.species[s].name);
  };
  std::vector<double> hm(th.temperature.size(), 0.0), hm_e(th.temperature.size(), 0.0);
  for (size_t i = 0; i < fit_points.size(); ++i) {
    double var = 0.0;
    for (size_t s = 0; s < fits.species.size(); ++s) {
      const SpeciesFit& sf = fits.species[s];
      if (!sf.fitted) continue;
      const MeasuredValue c = conc(i, s);
      const double h = theta[sf.parameter_index],
                   he = std::sqrt(cov(sf.parameter_index, sf.parameter_index));
      hm[i] += c.mean * h;
      var += h * h * c.error * c.error + c.mean * c.mean * he * he;
    }
    hm_e[i] = std::sqrt(var);
  }
  auto measured_average = [&](const std::vector<double>& w) {
    double var_c = 0.0;  // concentration errors, independent between temperatures
    for (size_t i = 0; i < w.size(); ++i)
      for (size_t s = 0; s < fits.species.size(); ++s) {
        const SpeciesFit& sf = fits.species[s];
        if (!sf.fitted) continue;
        const double c_err = conc(i, s).error;
        var_c +=
            w[i] * w[i] * theta[sf.parameter_index] * theta[sf.parameter_index] * c_err * c_err;
      }
    const double h_part =
        propagate_errors(
            [&](const std::vector<double>& th_) {
              double sum = 0.0;
              for (size_t i = 0; i < w.size(); ++i)
                for (size_t s = 0; s < fits.species.size(); ++s)
                  if (fits.species[s].fitted)
                    sum += w[i] * conc(i, s).mean * th_[fits.species[s].parameter_index];
              return std::vector<double>{sum};
            },
            theta, cov)
            .error[0];
    return std::sqrt(var_c + h_part * h_part);
  };
  return compare_thermo(th.temperature, hm, hm_e, th.measured, th.measured_error, true,
                        measured_average);
}

// Finite differences of the measured curve against the model heat capacity at the midpoints.
void finite_differences(const Derived& d, size_t n_sp, Thermodynamics& th) {
  const size_t n = d.mid_t.size();
  th.fd.resize(n);
  th.fd_error.resize(n);
  th.c_model.resize(n);
  th.c_model_error.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double dt = th.temperature[i + 1] - th.temperature[i];
    th.fd[i] = (th.measured[i + 1] - th.measured[i]) / dt;
    th.fd_error[i] = std::hypot(th.measured_error[i], th.measured_error[i + 1]) / dt;
    th.c_model[i] = d.points.value(d.qi.heat_capacity, n_sp + i);
    th.c_model_error[i] = d.points.error(d.qi.heat_capacity, n_sp + i);
  }
}

// Peak of the model heat capacity on the grid and the highest grid temperature below the fitted
// range where it is negative.
void heat_capacity_shape(const Derived& d, const StatePointSelection& sel, Thermodynamics& th) {
  const std::vector<double> cv = d.grid.column(d.qi.heat_capacity).first;
  const std::vector<double>& grid_t = d.grid.temperature;
  int peak = -1;
  for (size_t i = 0; i < grid_t.size(); ++i)
    if (std::isfinite(cv[i]) && (peak < 0 || cv[i] > cv[peak])) peak = static_cast<int>(i);
  th.peak.found = peak >= 0;
  th.peak.index = peak;
  for (size_t i = 0; i < grid_t.size(); ++i)
    if (grid_t[i] < sel.t_lo && std::isfinite(cv[i]) && cv[i] < 0.0) th.negative_below = grid_t[i];
}

}  // namespace

Thermodynamics derive_thermodynamics(const Measurements& m, const StatePointSelection& sel,
                                     const Fits& fits, const Derived& d) {
  const bool npt = m.is_npt();
  const int quantity = npt ? d.qi.enthalpy : d.qi.energy;
  Thermodynamics th;
  for (int k : sel.fit_points) {
    const StatePointMeasurement& p = m.state_points[k];
    th.temperature.push_back(p.temperature);
    const MeasuredValue v = npt ? *p.enthalpy : p.potential_energy;
    th.measured.push_back(v.mean);
    th.measured_error.push_back(v.error);
    th.model.push_back(d.points.value(quantity, k));
    th.model_error.push_back(d.points.error(quantity, k));
  }
  finite_differences(d, m.state_points.size(), th);
  heat_capacity_shape(d, sel, th);
  const AverageError model_average = model_average_error(fits, d, th.temperature, quantity);
  if (npt) {
    th.comparison = compare_thermo(th.temperature, th.model, th.model_error, th.measured,
                                   th.measured_error, true, model_average);
    th.comparison_measured_concentrations = compare_measured_concentrations(m, sel, fits, th);
    return th;
  }
  for (const EnergyFit& e : fits.energy) th.any_energy = th.any_energy || e.ok;
  if (th.any_energy) {
    th.comparison = compare_thermo(th.temperature, th.model, th.model_error, th.measured,
                                   th.measured_error, false, nullptr);
    th.comparison_with_constant =
        compare_thermo(th.temperature, th.model, th.model_error, th.measured, th.measured_error,
                       true, model_average);
    const double paper_e = model_info(m.model).paper_energy_per_neighbor;
    if (std::isfinite(paper_e)) {
      // The fitted e of every group replaced by the published value (no error); the other
      // parameters and their errors as fitted.
      std::vector<double> theta = fits.params.theta;
      Matrix cov = fits.params.covariance;
      for (const EnergyFit& e : fits.energy) {
        if (!e.ok) continue;
        theta[e.parameter_index] = paper_e;
        for (int k = 0; k < cov.rows(); ++k)
          cov(k, e.parameter_index) = cov(e.parameter_index, k) = 0.0;
      }
      const std::vector<double>& temps = th.temperature;
      const PropagatedValues u = propagate_errors(
          [&](const std::vector<double>& th_) {
            const std::vector<double> v = evaluate_model(d.layout, th_, temps, 0.0);
            return std::vector<double>(v.begin() + quantity * temps.size(),
                                       v.begin() + (quantity + 1) * temps.size());
          },
          theta, cov);
      th.paper_e = paper_e;
      th.comparison_paper_e =
          compare_thermo(temps, u.value, u.error, th.measured, th.measured_error, false, nullptr);
    }
  }
  return th;
}

}  // namespace vitrify::analysis::steps
