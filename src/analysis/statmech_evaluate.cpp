// The fitted quasi-species model as a function of theta (docs/PHYSICS.md, section "Statistical
// mechanics"): concentrations, C_liq, xi, tau_alpha, enthalpy or energy, heat capacity and
// entropy at a list of temperatures. Errors follow from propagate_errors over theta.
#include <cmath>

#include "statmech_steps.hpp"
#include "vitrify/analysis/statmech_model.hpp"

namespace vitrify::analysis::steps {

namespace {

// Simpson intervals (in ln T) between neighbouring grid temperatures of the entropy integral.
constexpr int kEntropyIntervalsPerSegment = 8;

// One quasi-species of the model from theta, with the measured (fitted) or the Gaussian
// degeneracy.
QuasiSpecies model_species(const ModelLayout& layout, const std::vector<double>& theta, int s,
                           const GaussianFit& gf, double n_ref, bool gaussian) {
  QuasiSpecies q;
  q.neighbors = layout.m->species[s].neighbors;
  if (!layout.setup->species[s].is_reference) {
    const int p = layout.fits->species[s].parameter_index;
    q.enthalpy = theta[p];
    q.ln_degeneracy = theta[p + 1];
  }
  if (gaussian) {
    if (!gf.ok) {
      q.ln_degeneracy = kNaN;
    } else {
      const double b = theta[gf.parameter_index], qq = theta[gf.parameter_index + 1];
      const double n = q.neighbors;
      q.ln_degeneracy = b * (n - n_ref) + qq * (n * n - n_ref * n_ref);
    }
  }
  return q;
}

// The quasi-species groups of theta; members: the species index of each entry.
std::vector<QuasiSpeciesGroup> build_model_groups(const ModelLayout& layout,
                                                  const std::vector<double>& theta, bool gaussian,
                                                  std::vector<std::vector<int>>* members) {
  std::vector<QuasiSpeciesGroup> out;
  if (members) members->clear();
  const std::vector<Group>& groups = layout.setup->groups;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const Group& g = groups[gi];
    QuasiSpeciesGroup qg;
    qg.total_fraction = g.total_fraction;
    std::vector<int> ids;
    const double n_ref = layout.m->species[g.reference].neighbors;
    for (int s : g.species) {
      if (!layout.setup->species[s].is_reference && !layout.fits->species[s].fitted) continue;
      qg.species.push_back(
          model_species(layout, theta, s, layout.fits->gaussian[gi], n_ref, gaussian));
      ids.push_back(s);
    }
    out.push_back(qg);
    if (members) members->push_back(ids);
  }
  return out;
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
    const EnergyFit& ef = layout.fits->energy[gi];
    if (!ef.ok) return kNaN;
    c += 0.5 * theta[ef.parameter_index] * group_neighbor_sum_derivative(groups[gi], t);
  }
  return c + 0.5 * layout.dimension;
}

// S(T) - S(T_ref) = int_{T_ref}^{T} C/T dT at the (ascending) temperatures.
std::vector<double> model_entropy(const ModelLayout& layout,
                                  const std::vector<QuasiSpeciesGroup>& groups,
                                  const std::vector<double>& theta,
                                  const std::vector<double>& temps, double entropy_reference) {
  const size_t nt = temps.size();
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
  const double at_ref =
      cumulative[seg] + integrate_heat_capacity_over_t(heat_capacity, temps[seg], entropy_reference,
                                                       4 * kEntropyIntervalsPerSegment);
  std::vector<double> out(nt);
  for (size_t k = 0; k < nt; ++k) out[k] = cumulative[k] - at_ref;
  return out;
}

}  // namespace

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
  const size_t n_species = layout.m->species.size();
  std::vector<int> slot(n_species, -1);
  for (size_t i = 0; i < layout.model_species.size(); ++i) slot[layout.model_species[i]] = i;
  std::vector<char> liquid(n_species, 0);
  for (int s : layout.liquid_in_model) liquid[s] = 1;
  const double inv_d = 1.0 / layout.dimension;
  for (size_t k = 0; k < nt; ++k) {
    const double t = temps[k];
    double c_liq = 0.0, c_liq_g = 0.0;
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
      const EnergyFit& ef = layout.fits->energy[gi];
      if (!layout.npt)
        energy +=
            ef.ok ? 0.5 * theta[ef.parameter_index] * group_neighbor_sum(groups[gi], t) : kNaN;
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
    const std::vector<double> s = model_entropy(layout, groups, theta, temps, entropy_reference);
    for (size_t k = 0; k < nt; ++k) at(q.entropy, k) = s[k];
  }
  return out;
}

std::pair<std::vector<double>, std::vector<double>> Predictions::column(int quantity, size_t from,
                                                                        size_t count) const {
  std::vector<double> v(count), e(count);
  for (size_t i = 0; i < count; ++i) {
    v[i] = value(quantity, from + i);
    e[i] = error(quantity, from + i);
  }
  return {v, e};
}

}  // namespace vitrify::analysis::steps
