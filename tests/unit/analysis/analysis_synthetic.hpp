#pragma once
// Synthetic measurements.json documents generated from a known quasi-species model (H, ln g per
// species, group fractions), a known density law, a known tau_alpha law ln tau = mu xi/T + c and
// known thermodynamics, with Gaussian noise of known size. Used by the analysis tests.
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "vitrify/analysis/statmech_model.hpp"

namespace vitrify::analysis::testing {

struct SyntheticSpecies {
  std::string name;
  int type = 0;
  int neighbors = 0;
  double enthalpy = 0.0;
  double ln_degeneracy = 0.0;
  // Violation of the linear free energy: the true enthalpy is H + curvature T^2.
  double curvature = 0.0;
};

struct SyntheticModel {
  std::string model = "hump2d";
  int dimension = 2;
  std::string ensemble = "nvt";
  std::vector<std::string> particle_types = {"A"};
  std::vector<SyntheticSpecies> species;
  std::vector<double> group_fraction = {1.0};  // per type
  std::vector<double> temperatures;
  double rho0 = 0.825, rho1 = 0.0;  // rho(T) = rho0 + rho1 T
  double pressure = 10.0;
  std::vector<std::string> liquid;  // names
  double mu = 0.34, tau_c = 0.2;    // ln tau = mu xi/T + c
  double energy_per_neighbor = 0.83;
  double enthalpy_constant = 2.8;  // h_sys = sum C H + constant (NPT)
  // Noise (one sigma). Concentrations: relative; tau: on ln tau; others absolute.
  double concentration_noise = 0.0;
  double ln_tau_noise = 0.0;
  double density_noise = 0.0;
  double energy_noise = 0.0;
  bool tau_errors = true;
  // True concentrations below this are reported as 0 (species not seen).
  double detection_threshold = 0.0;
};

// Per type, the model group of that type at temperature t.
inline QuasiSpeciesGroup synthetic_group(const SyntheticModel& s, int type, double t) {
  QuasiSpeciesGroup g;
  g.total_fraction = s.group_fraction[type];
  for (const SyntheticSpecies& sp : s.species)
    if (sp.type == type)
      g.species.push_back(
          {sp.enthalpy + sp.curvature * t * t, sp.ln_degeneracy, double(sp.neighbors)});
  return g;
}

// True concentrations of every species at T, in the order of s.species.
inline std::vector<double> true_concentrations(const SyntheticModel& s, double t) {
  std::vector<double> out(s.species.size());
  for (size_t type = 0; type < s.group_fraction.size(); ++type) {
    const std::vector<double> c = group_concentrations(synthetic_group(s, int(type), t), t);
    size_t j = 0;
    for (size_t i = 0; i < s.species.size(); ++i)
      if (s.species[i].type == int(type)) out[i] = c[j++];
  }
  return out;
}

inline double true_c_liq(const SyntheticModel& s, double t) {
  const std::vector<double> c = true_concentrations(s, t);
  double sum = 0.0;
  for (size_t i = 0; i < s.species.size(); ++i)
    for (const std::string& l : s.liquid)
      if (l == s.species[i].name) sum += c[i];
  return sum;
}

inline double true_ln_tau(const SyntheticModel& s, double t) {
  const double rho = s.rho0 + s.rho1 * t;
  const double xi = std::pow(rho * true_c_liq(s, t), -1.0 / s.dimension);
  return s.mu * xi / t + s.tau_c;
}

inline nlohmann::json make_measurements(const SyntheticModel& s, unsigned seed) {
  using nlohmann::json;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  json doc;
  doc["format"] = "vitrify-measurements";
  doc["version"] = 1;
  doc["model"] = s.model;
  doc["dimension"] = s.dimension;
  doc["ensemble"] = s.ensemble;
  doc["n_particles"] = 4096;
  doc["pressure"] = s.ensemble == "npt" ? json(s.pressure) : json(nullptr);
  doc["particle_types"] = s.particle_types;
  json species = json::array();
  for (const SyntheticSpecies& sp : s.species)
    species.push_back({{"name", sp.name}, {"type", sp.type}, {"neighbors", sp.neighbors}});
  doc["species"] = species;
  json bins = json::array();
  for (size_t t = 0; t < s.particle_types.size(); ++t)
    bins.push_back({{"name", "other_" + s.particle_types[t]}, {"type", int(t)}});
  doc["other_bins"] = bins;
  doc["isf"] = {{"k", 6.16}, {"particles", s.particle_types[0]}};
  json points = json::array();
  for (double t : s.temperatures) {
    json p;
    p["temperature"] = t;
    p["temperature_measured"] = {{"mean", t}, {"error", 0.0}};
    p["replicas"] = 1;
    const double rho_true = s.rho0 + s.rho1 * t;
    const double rho = rho_true + s.density_noise * normal(rng);
    p["density"] = {{"mean", rho}, {"error", s.density_noise}};
    // Concentrations: relative noise, then renormalised per group (the ratios keep the noise).
    const std::vector<double> c_true = true_concentrations(s, t);
    std::vector<double> c(c_true.size()), c_err(c_true.size());
    for (size_t i = 0; i < c.size(); ++i) {
      if (c_true[i] < s.detection_threshold) {
        c[i] = 0.0;
        c_err[i] = 0.0;
        continue;
      }
      c[i] = c_true[i] * (1.0 + s.concentration_noise * normal(rng));
      c_err[i] = s.concentration_noise * c_true[i];
    }
    for (size_t type = 0; type < s.group_fraction.size(); ++type) {
      double sum = 0.0;
      for (size_t i = 0; i < c.size(); ++i)
        if (s.species[i].type == int(type)) sum += c[i];
      for (size_t i = 0; i < c.size(); ++i)
        if (s.species[i].type == int(type)) c[i] *= s.group_fraction[type] / sum;
    }
    json conc;
    for (size_t i = 0; i < c.size(); ++i)
      conc[s.species[i].name] = {{"mean", c[i]}, {"error", c_err[i]}};
    for (size_t type = 0; type < s.particle_types.size(); ++type)
      conc["other_" + s.particle_types[type]] = {{"mean", 0.0}, {"error", 0.0}};
    p["concentrations"] = conc;
    // Thermodynamics.
    double sum_ch = 0.0, sum_cn = 0.0;
    for (size_t i = 0; i < c.size(); ++i) {
      sum_ch += c_true[i] * s.species[i].enthalpy;
      sum_cn += c_true[i] * s.species[i].neighbors;
    }
    json species_energy;
    for (size_t i = 0; i < c.size(); ++i) {
      if (c[i] > 0)
        species_energy[s.species[i].name] = {
            {"mean", s.energy_per_neighbor * s.species[i].neighbors + s.energy_noise * normal(rng)},
            {"error", s.energy_noise}};
      else
        species_energy[s.species[i].name] = {{"mean", nullptr}, {"error", nullptr}};
    }
    p["species_energy"] = species_energy;
    const double v = 1.0 / rho;
    if (s.ensemble == "npt") {
      const double h = sum_ch + s.enthalpy_constant + s.energy_noise * normal(rng);
      p["h"] = {{"mean", h}, {"error", s.energy_noise}};
      p["u"] = {{"mean", h - s.pressure * v}, {"error", s.energy_noise}};
    } else {
      const double u = 0.5 * s.energy_per_neighbor * sum_cn + 0.5 * s.dimension * t +
                       s.energy_noise * normal(rng);
      p["u"] = {{"mean", u}, {"error", s.energy_noise}};
      p["h"] = nullptr;
    }
    p["p"] = {{"mean", s.pressure}, {"error", 0.0}};
    p["v"] = {{"mean", v}, {"error", 0.0}};
    // Dynamics.
    const double ln_tau = true_ln_tau(s, t) + s.ln_tau_noise * normal(rng);
    const double tau = std::exp(ln_tau);
    json tau_json = {{"value", tau}, {"reached", true}, {"lower_bound", nullptr}};
    if (s.tau_errors && s.ln_tau_noise > 0) tau_json["error"] = s.ln_tau_noise * tau;
    p["tau_alpha"] = tau_json;
    json isf_t = json::array(), isf_f = json::array();
    for (double lag = 0.005; lag < 200.0 * tau; lag *= 1.3) {
      isf_t.push_back(lag);
      isf_f.push_back(std::exp(-std::pow(lag / tau, 0.8)));
    }
    p["isf_curve"] = {{"t", isf_t}, {"F", isf_f}};
    p["equilibrated"] = true;
    p["flags"] = json::array();
    points.push_back(p);
  }
  doc["state_points"] = points;
  return doc;
}

// The paper's Table II hump2d model (docs/PHYSICS.md, "Statistical mechanics"), NVT,
// 0.1 <= T <= 0.5.
inline SyntheticModel hump2d_table2() {
  SyntheticModel s;
  const double h[5] = {0.0, -0.545053, -0.564547, -0.411079, -0.217412};
  const double g[5] = {1.0, 2.830972, 7.289318, 6.862693, 1.552314};
  for (int i = 0; i < 5; ++i)
    s.species.push_back({"c" + std::to_string(i + 2), 0, i + 2, h[i], std::log(g[i])});
  s.temperatures = {0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5};
  s.liquid = {"c2", "c5", "c6"};
  return s;
}

// A binary3d-like NPT model with Gaussian degeneracies (the paper's n_mp, sigma^2) and
// enthalpies linear in n.
inline SyntheticModel binary3d_gaussian() {
  SyntheticModel s;
  s.model = "binary3d";
  s.dimension = 3;
  s.ensemble = "npt";
  s.particle_types = {"S", "L"};
  s.group_fraction = {0.5, 0.5};
  for (int n = 3; n <= 10; ++n)
    s.species.push_back({"s" + std::to_string(n), 0, n, -0.30 * n + 0.02 * (n - 6) * (n - 6),
                         -(n - 4.65) * (n - 4.65) / (2 * 1.55)});
  for (int n = 6; n <= 14; ++n)
    s.species.push_back({"l" + std::to_string(n), 1, n, -0.25 * n + 0.015 * (n - 10) * (n - 10),
                         -(n - 7.5) * (n - 7.5) / (2 * 2.0)});
  s.temperatures = {0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2};
  s.rho0 = 0.95;
  s.rho1 = -0.12;
  s.mu = 0.37;
  s.tau_c = 0.3;
  for (int n = 3; n <= 7; ++n) s.liquid.push_back("s" + std::to_string(n));
  for (int n = 6; n <= 11; ++n) s.liquid.push_back("l" + std::to_string(n));
  return s;
}

}  // namespace vitrify::analysis::testing
