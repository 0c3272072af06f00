#pragma once
// The quasi-species model of the paper (Eq. 7) for one group of species sharing a central-
// particle type: C_s(T) = f · g_s exp(-H_s/T) / sum_s' g_s' exp(-H_s'/T), where f is the group's
// total fraction of all particles (binary3d: 1/2 per group, hump2d: 1). Enthalpies H in epsilon,
// temperatures in epsilon/k_B (k_B = 1); degeneracies enter as ln g. All sums use the
// log-sum-exp form, so the functions stay finite down to very low T.
#include <functional>
#include <vector>

namespace vitrify::analysis {

// One quasi-species: enthalpy H (epsilon), log-degeneracy ln g, neighbour count n.
struct QuasiSpecies {
  double enthalpy = 0.0;
  double ln_degeneracy = 0.0;
  double neighbors = 0.0;
};

// Species of one central-particle type; their concentrations sum to total_fraction.
struct QuasiSpeciesGroup {
  double total_fraction = 1.0;
  std::vector<QuasiSpecies> species;
};

// Concentrations C_s(T) (fractions of all particles), in the order of group.species. T > 0.
std::vector<double> group_concentrations(const QuasiSpeciesGroup& group, double temperature);

// Mean enthalpy of the group per particle of the system, sum_s C_s(T) H_s (epsilon).
double group_enthalpy(const QuasiSpeciesGroup& group, double temperature);

// Analytic d/dT sum_s C_s H_s = f Var_p(H)/T^2 (k_B), p_s = C_s/f: the group's heat capacity.
double group_heat_capacity(const QuasiSpeciesGroup& group, double temperature);

// sum_s C_s(T) n_s: mean neighbour count weighted by concentration (per particle of the system).
double group_neighbor_sum(const QuasiSpeciesGroup& group, double temperature);

// Analytic d/dT sum_s C_s n_s = f Cov_p(n, H)/T^2 (1/epsilon).
double group_neighbor_sum_derivative(const QuasiSpeciesGroup& group, double temperature);

// Configurational entropy of the group per particle of the system, f sum_s p_s (ln g_s - ln p_s)
// (k_B). It satisfies dS/dT = group_heat_capacity/T.
double group_entropy(const QuasiSpeciesGroup& group, double temperature);

// Integral of heat_capacity(T)/T from t_from to t_to (composite Simpson rule on `intervals`
// intervals of ln T, exact for C(T) polynomial in ln T up to degree 3); negative when t_to <
// t_from.
double integrate_heat_capacity_over_t(const std::function<double(double)>& heat_capacity,
                                      double t_from, double t_to, int intervals = 256);

}  // namespace vitrify::analysis
