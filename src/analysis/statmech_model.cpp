#include "vitrify/analysis/statmech_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace vitrify::analysis {

namespace {

// Probabilities p_s = g_s e^{-H_s/T} / Z within the group (they sum to 1).
std::vector<double> group_probabilities(const QuasiSpeciesGroup& group, double temperature) {
  if (!(temperature > 0.0)) throw std::invalid_argument("quasi-species model: T must be > 0");
  std::vector<double> log_weight(group.species.size());
  double max_log = -INFINITY;
  for (size_t s = 0; s < group.species.size(); ++s) {
    log_weight[s] = group.species[s].ln_degeneracy - group.species[s].enthalpy / temperature;
    max_log = std::max(max_log, log_weight[s]);
  }
  double sum = 0.0;
  for (double& w : log_weight) {
    w = std::exp(w - max_log);
    sum += w;
  }
  for (double& w : log_weight) w /= sum;
  return log_weight;
}

}  // namespace

std::vector<double> group_concentrations(const QuasiSpeciesGroup& group, double temperature) {
  std::vector<double> c = group_probabilities(group, temperature);
  for (double& x : c) x *= group.total_fraction;
  return c;
}

double group_enthalpy(const QuasiSpeciesGroup& group, double temperature) {
  const std::vector<double> p = group_probabilities(group, temperature);
  double mean = 0.0;
  for (size_t s = 0; s < p.size(); ++s) mean += p[s] * group.species[s].enthalpy;
  return group.total_fraction * mean;
}

double group_heat_capacity(const QuasiSpeciesGroup& group, double temperature) {
  const std::vector<double> p = group_probabilities(group, temperature);
  double mean = 0.0;
  for (size_t s = 0; s < p.size(); ++s) mean += p[s] * group.species[s].enthalpy;
  double variance = 0.0;
  for (size_t s = 0; s < p.size(); ++s) {
    const double d = group.species[s].enthalpy - mean;
    variance += p[s] * d * d;
  }
  return group.total_fraction * variance / (temperature * temperature);
}

double group_neighbor_sum(const QuasiSpeciesGroup& group, double temperature) {
  const std::vector<double> p = group_probabilities(group, temperature);
  double mean = 0.0;
  for (size_t s = 0; s < p.size(); ++s) mean += p[s] * group.species[s].neighbors;
  return group.total_fraction * mean;
}

double group_neighbor_sum_derivative(const QuasiSpeciesGroup& group, double temperature) {
  const std::vector<double> p = group_probabilities(group, temperature);
  double mean_h = 0.0, mean_n = 0.0;
  for (size_t s = 0; s < p.size(); ++s) {
    mean_h += p[s] * group.species[s].enthalpy;
    mean_n += p[s] * group.species[s].neighbors;
  }
  double covariance = 0.0;
  for (size_t s = 0; s < p.size(); ++s)
    covariance +=
        p[s] * (group.species[s].enthalpy - mean_h) * (group.species[s].neighbors - mean_n);
  return group.total_fraction * covariance / (temperature * temperature);
}

double group_entropy(const QuasiSpeciesGroup& group, double temperature) {
  const std::vector<double> p = group_probabilities(group, temperature);
  double s = 0.0;
  for (size_t k = 0; k < p.size(); ++k)
    if (p[k] > 0.0) s += p[k] * (group.species[k].ln_degeneracy - std::log(p[k]));
  return group.total_fraction * s;
}

double integrate_heat_capacity_over_t(const std::function<double(double)>& heat_capacity,
                                      double t_from, double t_to, int intervals) {
  if (!(t_from > 0.0) || !(t_to > 0.0))
    throw std::invalid_argument("entropy integral: temperatures must be > 0");
  if (intervals < 2) intervals = 2;
  if (intervals % 2 != 0) ++intervals;
  // With x = ln T, dS = C(T) dx: integrate C(e^x) over x.
  const double x0 = std::log(t_from);
  const double step = (std::log(t_to) - x0) / intervals;
  if (step == 0.0) return 0.0;
  double sum = heat_capacity(t_from) + heat_capacity(t_to);
  for (int i = 1; i < intervals; ++i)
    sum += (i % 2 == 1 ? 4.0 : 2.0) * heat_capacity(std::exp(x0 + i * step));
  return sum * step / 3.0;
}

}  // namespace vitrify::analysis
