// The statistical mechanics of quasi-species on synthetic measurements with known answers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "analysis_synthetic.hpp"
#include "vitrify/analysis/statmech.hpp"
#include "vitrify/analysis/statmech_model.hpp"
#include "vitrify/core/error.hpp"

namespace vitrify::analysis {
namespace {

using nlohmann::json;
using testing::SyntheticModel;

const json& species_entry(const json& analysis, const std::string& name) {
  for (const json& s : analysis.at("species"))
    if (s.at("name") == name) return s;
  throw std::runtime_error("species not in analysis: " + name);
}

const json& group_entry(const json& analysis, const std::string& name) {
  for (const json& g : analysis.at("groups"))
    if (g.at("name") == name) return g;
  throw std::runtime_error("group not in analysis: " + name);
}

double truth_of(const SyntheticModel& s, const std::string& name, bool enthalpy) {
  for (const auto& sp : s.species)
    if (sp.name == name) return enthalpy ? sp.enthalpy : sp.ln_degeneracy;
  throw std::runtime_error("no species " + name);
}

// Every number in the document is finite (no NaN/Inf sneaked in as a number).
void expect_all_finite(const json& j, const std::string& path = "") {
  if (j.is_number_float()) {
    EXPECT_TRUE(std::isfinite(j.get<double>())) << path;
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      expect_all_finite(it.value(), path + "." + it.key());
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      expect_all_finite(j[i], path + "[" + std::to_string(i) + "]");
  }
}

struct PullStats {
  std::vector<double> values;
  void add(double x) { values.push_back(x); }
  double mean() const {
    double s = 0;
    for (double v : values) s += v;
    return s / values.size();
  }
  double sd() const {
    const double m = mean();
    double s = 0;
    for (double v : values) s += (v - m) * (v - m);
    return std::sqrt(s / (values.size() - 1));
  }
};

void add_pull(std::map<std::string, PullStats>& pulls, const std::string& key, const json& value,
              double truth) {
  ASSERT_FALSE(value.is_null()) << key;
  const double err = value.at("error").get<double>();
  ASSERT_GT(err, 0.0) << key;
  pulls[key].add((value.at("value").get<double>() - truth) / err);
}

// H and ln g pulls of every fitted species, relative to the group's reference.
void add_species_pulls(std::map<std::string, PullStats>& pulls, const json& a,
                       const SyntheticModel& s) {
  for (const json& sp : a.at("species")) {
    if (sp.at("fit").at("status") != "fitted") continue;
    const std::string name = sp.at("name");
    const std::string ref = group_entry(a, sp.at("group")).at("reference");
    add_pull(pulls, "H " + name, sp["fit"]["H"], truth_of(s, name, true) - truth_of(s, ref, true));
    add_pull(pulls, "ln_g " + name, sp["fit"]["ln_g"],
             truth_of(s, name, false) - truth_of(s, ref, false));
  }
}

void expect_unit_pulls(const std::map<std::string, PullStats>& pulls, size_t min_samples) {
  for (const auto& [key, p] : pulls) {
    ASSERT_GE(p.values.size(), min_samples) << key;
    std::printf("  pulls %-20s n=%zu mean=%+.3f sd=%.3f\n", key.c_str(), p.values.size(), p.mean(),
                p.sd());
    // With n ~ 200 samples the mean has sd 0.07 and the sd about 0.05.
    EXPECT_LT(std::abs(p.mean()), 0.3) << key << " mean pull " << p.mean();
    EXPECT_GT(p.sd(), 0.8) << key << " pull width " << p.sd();
    EXPECT_LT(p.sd(), 1.2) << key << " pull width " << p.sd();
  }
}

// ---------------------------------------------------------------------------------------------

TEST(Statmech, Table2ExactConcentrationsGiveBackHAndG) {
  const SyntheticModel s = testing::hump2d_table2();
  AnalyzeOptions opt;
  opt.grid_points = 20;
  const json a = analyze(testing::make_measurements(s, 1), opt);
  EXPECT_EQ(group_entry(a, "A").at("reference"), "c2");
  for (int i = 3; i <= 6; ++i) {
    const std::string name = "c" + std::to_string(i);
    const json& fit = species_entry(a, name).at("fit");
    ASSERT_EQ(fit.at("status"), "fitted") << name;
    const double h_true = truth_of(s, name, true), g_true = std::exp(truth_of(s, name, false));
    EXPECT_NEAR(fit["H"]["value"].get<double>(), h_true, 1e-6 * std::abs(h_true)) << name;
    EXPECT_NEAR(fit["g"]["value"].get<double>(), g_true, 1e-6 * g_true) << name;
    EXPECT_TRUE(fit["passes"].get<bool>()) << name;
  }
  EXPECT_TRUE(a["validation"]["validated"].get<bool>());
  // Predictions reproduce the exact concentrations.
  for (const auto& [name, c] : a["concentrations"]["species"].items())
    for (size_t k = 0; k < c["residual"].size(); ++k)
      EXPECT_NEAR(c["residual"][k].get<double>(), 0.0, 1e-9) << name;
  // tau: exact ln tau = mu xi/T + c.
  EXPECT_NEAR(a["relaxation"]["mu"]["value"].get<double>(), s.mu, 1e-9);
  EXPECT_NEAR(a["relaxation"]["c"]["value"].get<double>(), s.tau_c, 1e-9);
  // Energy per neighbour and the Eq. 15 energy check are exact here.
  EXPECT_NEAR(a["thermodynamics"]["energy_per_neighbor"][0]["e"]["value"].get<double>(),
              s.energy_per_neighbor, 1e-9);
  EXPECT_NEAR(a["thermodynamics"]["comparison"]["worst_relative_deviation"]["value"].get<double>(),
              0.0, 1e-9);
  expect_all_finite(a);
}

TEST(Statmech, Hump2dPullsHaveUnitWidth) {
  SyntheticModel s = testing::hump2d_table2();
  s.concentration_noise = 0.01;
  s.ln_tau_noise = 0.05;
  s.energy_noise = 0.002;
  AnalyzeOptions opt;
  opt.grid_points = 5;
  std::map<std::string, PullStats> pulls;
  int validated = 0;
  const int seeds = 200;
  for (int seed = 0; seed < seeds; ++seed) {
    const json a = analyze(testing::make_measurements(s, 100 + seed), opt);
    add_species_pulls(pulls, a, s);
    add_pull(pulls, "mu", a["relaxation"]["mu"], s.mu);
    add_pull(pulls, "c", a["relaxation"]["c"], s.tau_c);
    add_pull(pulls, "e", a["thermodynamics"]["energy_per_neighbor"][0]["e"], s.energy_per_neighbor);
    validated += a["validation"]["validated"].get<bool>();
  }
  expect_unit_pulls(pulls, seeds);
  // With the statistical p-value at 1e-3 and 4 species, nearly every seed validates.
  EXPECT_GE(validated, seeds * 0.95);
}

TEST(Statmech, Binary3dPullsHaveUnitWidthIncludingGaussianAndEnthalpyConstant) {
  SyntheticModel s = testing::binary3d_gaussian();
  s.concentration_noise = 0.01;
  s.ln_tau_noise = 0.05;
  s.density_noise = 0.001;
  s.energy_noise = 0.002;
  AnalyzeOptions opt;
  opt.grid_points = 5;
  opt.reference = {{"S", "s5"}, {"L", "l8"}};
  std::map<std::string, PullStats> pulls;
  const int seeds = 200;
  for (int seed = 0; seed < seeds; ++seed) {
    const json a = analyze(testing::make_measurements(s, 5000 + seed), opt);
    add_species_pulls(pulls, a, s);
    const json& gs = group_entry(a, "S")["gaussian_degeneracy"];
    const json& gl = group_entry(a, "L")["gaussian_degeneracy"];
    add_pull(pulls, "n_mp S", gs["n_mp"], 4.65);
    add_pull(pulls, "sigma2 S", gs["sigma2"], 1.55);
    add_pull(pulls, "n_mp L", gl["n_mp"], 7.5);
    add_pull(pulls, "sigma2 L", gl["sigma2"], 2.0);
    add_pull(pulls, "mu", a["relaxation"]["mu"], s.mu);
    // h_qs uses H relative to each group's reference: C = C0 + sum_g f_g H_ref,g.
    const double c_true =
        s.enthalpy_constant + 0.5 * truth_of(s, "s5", true) + 0.5 * truth_of(s, "l8", true);
    add_pull(pulls, "enthalpy constant", a["thermodynamics"]["comparison"]["additive_constant"],
             c_true);
  }
  expect_unit_pulls(pulls, seeds);
}

TEST(Statmech, SingleNoisyBinaryRunRecoversTruthAndReportsRanges) {
  SyntheticModel s = testing::binary3d_gaussian();
  s.concentration_noise = 0.01;
  s.ln_tau_noise = 0.05;
  s.density_noise = 0.001;
  s.energy_noise = 0.002;
  const json a = analyze(testing::make_measurements(s, 42), AnalyzeOptions{});
  // Default references: largest minimum concentration per group.
  const std::string ref_s = group_entry(a, "S")["reference"],
                    ref_l = group_entry(a, "L")["reference"];
  EXPECT_NE(group_entry(a, "S")["reference_choice"].get<std::string>().find("automatic"),
            std::string::npos);
  for (const json& sp : a["species"]) {
    if (sp["fit"]["status"] != "fitted") continue;
    const std::string ref = sp["group"] == "S" ? ref_s : ref_l;
    const double h = sp["fit"]["H"]["value"], he = sp["fit"]["H"]["error"];
    EXPECT_LT(std::abs(h - (truth_of(s, sp["name"], true) - truth_of(s, ref, true))), 5 * he)
        << sp["name"];
    EXPECT_EQ(sp["fit"]["temperature_range"].size(), 2u);
  }
  const double mu = a["relaxation"]["mu"]["value"], mu_err = a["relaxation"]["mu"]["error"];
  EXPECT_LT(std::abs(mu - s.mu), 5 * mu_err);
  // Hold-out prediction agrees with the measured tau at the lowest temperature.
  const json& hold = a["relaxation"]["hold_out"];
  ASSERT_EQ(hold["status"], "done");
  EXPECT_DOUBLE_EQ(hold["temperature"].get<double>(), s.temperatures.front());
  EXPECT_LT(std::abs(hold["pull"].get<double>()), 5.0);
  // Enthalpy check: ratio (h_qs + C)/h_sys within noise of 1.
  EXPECT_LT(
      std::abs(
          a["thermodynamics"]["comparison"]["worst_relative_deviation"]["value"].get<double>()),
      0.01);
  // Gaussian predictions exist and are close to the measured concentrations.
  const json& c = a["concentrations"]["species"]["l10"];
  for (size_t k = 0; k < c["measured"]["value"].size(); ++k) {
    const double m = c["measured"]["value"][k], g = c["predicted_gaussian"]["value"][k];
    EXPECT_NEAR(g / m, 1.0, 0.1);
  }
  expect_all_finite(a);
}

TEST(Statmech, UnweightedTauFitWhenTauErrorsAbsent) {
  SyntheticModel s = testing::hump2d_table2();
  s.concentration_noise = 0.005;
  s.ln_tau_noise = 0.05;
  s.tau_errors = false;
  PullStats mu_pulls;
  for (int seed = 0; seed < 100; ++seed) {
    AnalyzeOptions opt;
    opt.grid_points = 5;
    const json a = analyze(testing::make_measurements(s, 300 + seed), opt);
    ASSERT_NE(a["relaxation"]["weighting"].get<std::string>().find("unweighted"),
              std::string::npos);
    mu_pulls.add((a["relaxation"]["mu"]["value"].get<double>() - s.mu) /
                 a["relaxation"]["mu"]["error"].get<double>());
  }
  // Student-t with 7 dof: sd = sqrt(7/5) = 1.18.
  EXPECT_LT(std::abs(mu_pulls.mean()), 0.35);
  EXPECT_GT(mu_pulls.sd(), 0.9);
  EXPECT_LT(mu_pulls.sd(), 1.5);
}

TEST(Statmech, NonLinearFreeEnergyFailsValidationWithReason) {
  SyntheticModel s = testing::hump2d_table2();
  s.concentration_noise = 0.002;
  s.species[3].curvature = 2.0;  // c5: H_eff = H + 2 T^2, F no longer linear in T
  AnalyzeOptions opt;
  opt.grid_points = 10;
  const json a = analyze(testing::make_measurements(s, 3), opt);
  EXPECT_FALSE(a["validation"]["validated"].get<bool>());
  const json& fit = species_entry(a, "c5")["fit"];
  EXPECT_FALSE(fit["passes"].get<bool>());
  EXPECT_FALSE(fit["statistical_pass"].get<bool>());
  EXPECT_NE(fit["reason"].get<std::string>().find("p-value"), std::string::npos);
  bool listed = false;
  for (const json& f : a["validation"]["failed_species"]) listed = listed || f["species"] == "c5";
  EXPECT_TRUE(listed);
  EXPECT_TRUE(species_entry(a, "c3")["fit"]["passes"].get<bool>());
}

// Option accept (`vitrify analyze --accept`): flagged state points used anyway, by kind of
// flag, by temperature or all, and listed with their flags.
TEST(Statmech, AcceptFlaggedStatePoints) {
  SyntheticModel s = testing::binary3d_gaussian();
  json doc = testing::make_measurements(s, 9);
  doc["state_points"][2]["equilibrated"] = false;
  doc["state_points"][2]["flags"] = {"v: too few blocks for the error (5 and 5 in the halves)"};
  doc["state_points"][4]["equilibrated"] = false;
  doc["state_points"][4]["flags"] = {"u: too few blocks for the error (4 and 4 in the halves)",
                                     "u: halves differ by 4.2 sigma (limit 3.0)"};
  AnalyzeOptions opt;
  opt.grid_points = 30;
  EXPECT_EQ(analyze(doc, opt)["excluded_state_points"].size(), 2u);
  EXPECT_EQ(analyze(doc, opt)["accepted_flagged_state_points"].size(), 0u);

  opt.accept = {"too_few_blocks"};  // the point with a halves flag stays out
  json a = analyze(doc, opt);
  ASSERT_EQ(a["excluded_state_points"].size(), 1u);
  EXPECT_EQ(a["excluded_state_points"][0]["input_index"], 4);
  ASSERT_EQ(a["accepted_flagged_state_points"].size(), 1u);
  const json& acc = a["accepted_flagged_state_points"][0];
  EXPECT_EQ(acc["input_index"], 2);
  EXPECT_EQ(acc["accepted_by"], "too_few_blocks");
  EXPECT_EQ(acc["flags"], doc["state_points"][2]["flags"]);
  EXPECT_TRUE(a["state_points"][2]["used_in_fits"].get<bool>());
  EXPECT_EQ(a["state_points"][2]["accepted_despite_flags"], doc["state_points"][2]["flags"]);
  EXPECT_EQ(a["options"]["accept"], json({"too_few_blocks"}));
  bool warned = false;
  for (const json& w : a["warnings"])
    warned =
        warned || w.get<std::string>().find("accepted_flagged_state_points") != std::string::npos;
  EXPECT_TRUE(warned);

  char t[32];
  std::snprintf(t, sizeof t, "T=%.17g", s.temperatures[4]);
  opt.accept = {t};
  a = analyze(doc, opt);
  ASSERT_EQ(a["accepted_flagged_state_points"].size(), 1u);
  EXPECT_EQ(a["accepted_flagged_state_points"][0]["input_index"], 4);

  opt.accept = {"all"};
  a = analyze(doc, opt);
  EXPECT_EQ(a["excluded_state_points"].size(), 0u);
  EXPECT_EQ(a["accepted_flagged_state_points"].size(), 2u);

  // The JSON form, and bad entries named.
  EXPECT_EQ(parse_analyze_options({{"accept", {"halves", "T=0.5"}}}).accept.size(), 2u);
  for (const char* bad : {"T=abc", "T=-1", "blocks"}) {
    try {
      parse_analyze_options({{"accept", {bad}}});
      ADD_FAILURE() << bad << " accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("analysis options: accept: \"" + std::string(bad)),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(equilibration_flag_kind("tau_alpha not reached (F_k > 1/e up to the longest lag 2e3)"),
            "tau_alpha");
  EXPECT_EQ(equilibration_flag_kind("production 2.0e3 < 100 tau_alpha = 5.1e3"), "tau_alpha");
}

TEST(Statmech, ExclusionsAreListedAndNeverNaN) {
  SyntheticModel s = testing::binary3d_gaussian();
  s.concentration_noise = 0.01;
  s.detection_threshold = 2e-4;  // rare species vanish at some temperatures
  json doc = testing::make_measurements(s, 9);
  // One state point not equilibrated, one with tau not reached.
  doc["state_points"][3]["equilibrated"] = false;
  doc["state_points"][3]["flags"] = {"halves disagree"};
  doc["state_points"][5]["tau_alpha"] = {
      {"value", nullptr}, {"reached", false}, {"lower_bound", 1e3}};
  AnalyzeOptions opt;
  opt.grid_points = 30;
  const json a = analyze(doc, opt);
  ASSERT_EQ(a["excluded_state_points"].size(), 1u);
  EXPECT_DOUBLE_EQ(a["excluded_state_points"][0]["temperature"].get<double>(), s.temperatures[3]);
  EXPECT_NE(a["excluded_state_points"][0]["reasons"][0].get<std::string>().find("halves disagree"),
            std::string::npos);
  bool not_reached_listed = false;
  for (const json& e : a["relaxation"]["excluded"])
    if (e["temperature"].get<double>() == s.temperatures[5]) {
      not_reached_listed = true;
      EXPECT_DOUBLE_EQ(e["lower_bound"].get<double>(), 1e3);
    }
  EXPECT_TRUE(not_reached_listed);
  // Some species vanish: their free energy is null there with a note, some have no fit at all.
  int null_free_energies = 0, excluded = 0;
  for (const json& sp : a["species"]) {
    const json& fe = sp["free_energy"];
    for (size_t k = 0; k < fe["value"].size(); ++k)
      if (fe["value"][k].is_null()) {
        ++null_free_energies;
        EXPECT_FALSE(fe["note"][k].get<std::string>().empty());
      }
    if (sp["fit"]["status"] == "excluded") {
      ++excluded;
      EXPECT_TRUE(sp["fit"]["H"].is_null());
      EXPECT_FALSE(sp["fit"]["reason"].get<std::string>().empty());
    }
  }
  EXPECT_GT(null_free_energies, 0);
  // A zero error on a nonzero concentration (errors given elsewhere) keeps the point out of the
  // fit.
  json doc2 = doc;
  doc2["state_points"][6]["concentrations"]["s6"]["error"] = 0.0;
  const json a2 = analyze(doc2, opt);
  const json& fe6 = species_entry(a2, "s6")["free_energy"];
  EXPECT_FALSE(fe6["in_fit"][6].get<bool>());
  EXPECT_NE(fe6["note"][6].get<std::string>().find("zero error"), std::string::npos);
  EXPECT_GT(excluded, 0);
  EXPECT_EQ(a["validation"]["untested_species"].size(), static_cast<size_t>(excluded));
  expect_all_finite(a);
}

TEST(Statmech, ModelHeatCapacityAndEntropyIdentities) {
  // Analytic derivatives of the quasi-species model against finite differences.
  const SyntheticModel s = testing::binary3d_gaussian();
  const QuasiSpeciesGroup g = testing::synthetic_group(s, 0, 0.0);
  for (double t : {0.05, 0.2, 0.5, 1.3}) {
    const double h = 1e-5 * t;
    const double fd_h = (group_enthalpy(g, t + h) - group_enthalpy(g, t - h)) / (2 * h);
    EXPECT_NEAR(group_heat_capacity(g, t), fd_h, 1e-6 * std::max(1.0, std::abs(fd_h))) << t;
    const double fd_n = (group_neighbor_sum(g, t + h) - group_neighbor_sum(g, t - h)) / (2 * h);
    EXPECT_NEAR(group_neighbor_sum_derivative(g, t), fd_n, 1e-6 * std::max(1.0, std::abs(fd_n)))
        << t;
    // Entropy integral of the model heat capacity equals the analytic entropy difference.
    const double integral = integrate_heat_capacity_over_t(
        [&](double x) { return group_heat_capacity(g, x); }, 0.7, t, 2000);
    EXPECT_NEAR(integral, group_entropy(g, t) - group_entropy(g, 0.7), 1e-8) << t;
  }
  // A known heat capacity C(T) = a + b T: S(T) - S(T0) = a ln(T/T0) + b (T - T0).
  const double a = 1.5, b = 0.3;
  EXPECT_NEAR(integrate_heat_capacity_over_t([&](double t) { return a + b * t; }, 0.2, 1.1, 400),
              a * std::log(1.1 / 0.2) + b * 0.9, 1e-10);
  EXPECT_NEAR(integrate_heat_capacity_over_t([&](double) { return 2.0; }, 1.0, 0.5, 10),
              2.0 * std::log(0.5), 1e-12);
}

TEST(Statmech, GridHeatCapacityAndEntropyAreConsistentWithTheModel) {
  for (const SyntheticModel& s : {testing::hump2d_table2(), testing::binary3d_gaussian()}) {
    AnalyzeOptions opt;
    opt.grid_points = 400;
    const json a = analyze(testing::make_measurements(s, 1), opt);
    const json& grid = a["grid"];
    const bool npt = s.ensemble == "npt";
    const json& model = npt ? grid["enthalpy_model"]["value"] : grid["energy_model"]["value"];
    const json& c = grid["heat_capacity_model"]["value"];
    const json& entropy = grid["entropy"]["value"];
    const json& t = grid["temperature"];
    for (size_t i = 1; i + 1 < t.size(); i += 7) {
      if (t[i].get<double>() < 0.08) continue;  // the grid is too coarse for differences there
      const double dt = t[i + 1].get<double>() - t[i - 1].get<double>();
      const double fd = (model[i + 1].get<double>() - model[i - 1].get<double>()) / dt;
      EXPECT_NEAR(c[i].get<double>(), fd, 2e-3 * std::max(1.0, std::abs(fd)))
          << s.model << " T=" << t[i];
      const double ds = (entropy[i + 1].get<double>() - entropy[i - 1].get<double>()) / dt;
      EXPECT_NEAR(ds * t[i].get<double>(), c[i].get<double>(), 2e-3 * std::max(1.0, std::abs(fd)))
          << s.model << " T=" << t[i];
    }
    if (npt) {
      // Exact data: the entropy equals the analytic configurational entropy difference.
      const double t_ref = grid["entropy_reference_temperature"];
      for (size_t i = 0; i < t.size(); i += 50) {
        double expected = 0;
        for (int type = 0; type < 2; ++type) {
          const QuasiSpeciesGroup g = testing::synthetic_group(s, type, 0.0);
          expected += group_entropy(g, t[i].get<double>()) - group_entropy(g, t_ref);
        }
        EXPECT_NEAR(entropy[i].get<double>(), expected, 1e-6) << t[i];
      }
    } else {
      // NVT with the paper's Table II: a C_v peak near T = 0.1 below the simulated range and a
      // negative C_v (failed extrapolation) below about T = 0.05 (paper, Section V.B).
      const json& peak = a["thermodynamics"]["heat_capacity_peak"];
      ASSERT_FALSE(peak.is_null());
      EXPECT_GT(peak["temperature"].get<double>(), 0.06);
      EXPECT_LT(peak["temperature"].get<double>(), 0.12);
      EXPECT_FALSE(peak["at_grid_edge"].get<bool>());
      const json& negative = a["thermodynamics"]["heat_capacity_negative_below"];
      ASSERT_FALSE(negative.is_null());
      EXPECT_LT(negative.get<double>(), 0.05);
    }
  }
}

TEST(Statmech, NptEnthalpyConstantRecoveredExactly) {
  const SyntheticModel s = testing::binary3d_gaussian();
  AnalyzeOptions opt;
  opt.grid_points = 10;
  opt.reference = {{"S", "s4"}, {"L", "l9"}};
  const json a = analyze(testing::make_measurements(s, 1), opt);
  const double c_true =
      s.enthalpy_constant + 0.5 * truth_of(s, "s4", true) + 0.5 * truth_of(s, "l9", true);
  EXPECT_NEAR(a["thermodynamics"]["comparison"]["additive_constant"]["value"].get<double>(), c_true,
              1e-8);
  EXPECT_NEAR(a["thermodynamics"]["comparison"]["worst_relative_deviation"]["value"].get<double>(),
              0.0, 1e-8);
  // Gaussian parameters exact.
  EXPECT_NEAR(group_entry(a, "S")["gaussian_degeneracy"]["n_mp"]["value"].get<double>(), 4.65,
              1e-6);
  EXPECT_NEAR(group_entry(a, "S")["gaussian_degeneracy"]["sigma2"]["value"].get<double>(), 1.55,
              1e-6);
  EXPECT_NEAR(group_entry(a, "L")["gaussian_degeneracy"]["n_mp"]["value"].get<double>(), 7.5, 1e-6);
  EXPECT_NEAR(group_entry(a, "L")["gaussian_degeneracy"]["sigma2"]["value"].get<double>(), 2.0,
              1e-6);
  // Density fit: rho = rho0 + rho1 T exactly.
  EXPECT_NEAR(a["density_fit"]["a0"]["value"].get<double>(), s.rho0, 1e-9);
  EXPECT_NEAR(a["density_fit"]["a1"]["value"].get<double>(), s.rho1, 1e-9);
  // Predicted tau below the simulated range follows the true law.
  const json& grid = a["grid"];
  for (size_t i = 0; i < grid["temperature"].size(); ++i) {
    const double t = grid["temperature"][i];
    if (t >= s.temperatures.front()) continue;
    EXPECT_NEAR(grid["ln_tau_alpha"]["value"][i].get<double>(), testing::true_ln_tau(s, t),
                1e-6 * std::abs(testing::true_ln_tau(s, t)));
  }
}

// ---------------------------------------------------------------------------------------------
// Unusable input.

json valid_doc() { return testing::make_measurements(testing::hump2d_table2(), 1); }

void expect_input_error(const json& doc, const std::string& fragment,
                        const AnalyzeOptions& opt = AnalyzeOptions{}) {
  try {
    analyze(doc, opt);
    ADD_FAILURE() << "no InputError, expected one mentioning " << fragment;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "message: " << e.what() << "\nexpected to contain: " << fragment;
  }
}

TEST(StatmechInput, FewerThanThreeTemperatures) {
  json doc = valid_doc();
  doc["state_points"] = json::array({doc["state_points"][0], doc["state_points"][1]});
  expect_input_error(doc, "measurements.json: state_points: fewer than three temperatures");
}

TEST(StatmechInput, FewerThanThreeUsableTemperatures) {
  json doc = valid_doc();
  for (size_t k = 2; k < doc["state_points"].size(); ++k)
    doc["state_points"][k]["equilibrated"] = false;
  expect_input_error(doc, "measurements.json: state_points: only 2 usable temperatures");
}

TEST(StatmechInput, MissingFields) {
  for (const char* key : {"format", "version", "model", "dimension", "ensemble", "n_particles",
                          "species", "state_points"}) {
    json doc = valid_doc();
    doc.erase(key);
    expect_input_error(doc, std::string("measurements.json: ") + key + ": missing field");
  }
  for (const char* key : {"temperature", "density", "concentrations", "u", "tau_alpha"}) {
    json doc = valid_doc();
    doc["state_points"][1].erase(key);
    expect_input_error(
        doc, std::string("measurements.json: state_points[1].") + key + ": missing field");
  }
  json doc = valid_doc();
  doc["state_points"][2]["concentrations"].erase("c3");
  expect_input_error(doc, "measurements.json: state_points[2].concentrations.c3: missing field");
  doc = valid_doc();
  doc["state_points"][0]["density"].erase("error");
  expect_input_error(doc, "measurements.json: state_points[0].density.error: missing field");
}

TEST(StatmechInput, NptNeedsEnthalpyAndPressure) {
  json doc = testing::make_measurements(testing::binary3d_gaussian(), 1);
  doc["state_points"][4]["h"] = nullptr;
  expect_input_error(doc, "measurements.json: state_points[4].h: null");
  doc = testing::make_measurements(testing::binary3d_gaussian(), 1);
  doc.erase("pressure");
  expect_input_error(doc, "measurements.json: pressure: missing field");
}

TEST(StatmechInput, ReferenceAbsent) {
  json doc = valid_doc();
  json& c = doc["state_points"][1]["concentrations"];
  const double moved = c["c2"]["mean"];
  c["c2"]["mean"] = 0.0;
  c["c3"]["mean"] = c["c3"]["mean"].get<double>() + moved;
  expect_input_error(doc,
                     "measurements.json: state_points[1].concentrations.c2: reference species");
  // A reference chosen by option that is absent.
  AnalyzeOptions opt;
  opt.reference = {{"A", "c6"}};
  json doc2 = valid_doc();
  json& c2 = doc2["state_points"][0]["concentrations"];
  const double moved2 = c2["c6"]["mean"];
  c2["c6"]["mean"] = 0.0;
  c2["c4"]["mean"] = c2["c4"]["mean"].get<double>() + moved2;
  expect_input_error(doc2, "state_points[0].concentrations.c6: reference species", opt);
}

TEST(StatmechInput, NegativeAndNonNormalisedConcentrations) {
  json doc = valid_doc();
  doc["state_points"][2]["concentrations"]["c3"]["mean"] = -0.01;
  expect_input_error(
      doc, "measurements.json: state_points[2].concentrations.c3: negative concentration -0.01");
  doc = valid_doc();
  for (auto& [name, v] : doc["state_points"][0]["concentrations"].items())
    v["mean"] = v["mean"].get<double>() * 1.1;
  expect_input_error(doc, "measurements.json: state_points[0].concentrations: not normalised");
  // Within the tolerance it is accepted.
  doc = valid_doc();
  doc["state_points"][0]["concentrations"]["c3"]["mean"] =
      doc["state_points"][0]["concentrations"]["c3"]["mean"].get<double>() + 1e-4;
  EXPECT_NO_THROW(analyze(doc, AnalyzeOptions{}));
  doc = valid_doc();
  doc["state_points"][0]["concentrations"]["c9"] = {{"mean", 0.0}, {"error", 0.0}};
  expect_input_error(doc, "state_points[0].concentrations.c9: not a tracked species");
}

TEST(StatmechInput, UnknownModelFormatAndBadValues) {
  json doc = valid_doc();
  doc["model"] = "lj3d";
  expect_input_error(doc, "measurements.json: model: unknown model \"lj3d\"");
  doc = valid_doc();
  doc["format"] = "something";
  expect_input_error(doc, "measurements.json: format:");
  doc = valid_doc();
  doc["dimension"] = 3;
  expect_input_error(doc, "measurements.json: dimension:");
  doc = valid_doc();
  doc["state_points"][3]["temperature"] = doc["state_points"][2]["temperature"];
  expect_input_error(doc, "measurements.json: state_points[3].temperature: duplicate temperature");
  doc = valid_doc();
  doc["state_points"][1]["tau_alpha"]["value"] = -1.0;
  expect_input_error(doc, "measurements.json: state_points[1].tau_alpha.value: must be > 0");
  doc = valid_doc();
  doc["state_points"][1]["density"]["mean"] = "dense";
  expect_input_error(doc, "measurements.json: state_points[1].density.mean: expected a number");
}

TEST(StatmechInput, OptionsAreChecked) {
  EXPECT_THROW(parse_analyze_options(json{{"refrence", {{"A", "c2"}}}}), InputError);
  try {
    parse_analyze_options(json{{"grid_points", "many"}});
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("grid_points"), std::string::npos);
  }
  const AnalyzeOptions o = parse_analyze_options(json{{"reference", {{"S", "s5"}, {"L", "l9"}}},
                                                      {"t_min", 0.3},
                                                      {"t_max", nullptr},
                                                      {"liquid_species", {"s3", "l6"}},
                                                      {"validation_criterion", "statistical"}});
  EXPECT_EQ(o.reference.at("L"), "l9");
  EXPECT_DOUBLE_EQ(*o.t_min, 0.3);
  EXPECT_FALSE(o.t_max.has_value());
  EXPECT_EQ(o.liquid_species.size(), 2u);
  EXPECT_THROW(parse_analyze_options(json{{"validation_criterion", "vibes"}}), InputError);
  // Options naming things the measurements lack.
  AnalyzeOptions bad_group;
  bad_group.reference = {{"X", "c2"}};
  expect_input_error(valid_doc(), "reference.X: no group", bad_group);
  AnalyzeOptions bad_species;
  bad_species.reference = {{"A", "s5"}};
  expect_input_error(valid_doc(), "reference.A: \"s5\" is not a species of group A", bad_species);
  AnalyzeOptions bad_liquid;
  bad_liquid.liquid_species = {"c7"};
  expect_input_error(valid_doc(), "liquid_species: unknown species \"c7\"", bad_liquid);
}

TEST(StatmechInput, TemperatureWindowRestrictsFits) {
  AnalyzeOptions opt;
  opt.t_min = 0.2;
  opt.grid_points = 10;
  const json a = analyze(valid_doc(), opt);
  EXPECT_DOUBLE_EQ(a["temperature_range"]["fitted"][0].get<double>(), 0.2);
  EXPECT_EQ(a["excluded_state_points"].size(), 2u);  // 0.1 and 0.15
  EXPECT_DOUBLE_EQ(species_entry(a, "c4")["fit"]["temperature_range"][0].get<double>(), 0.2);
}

// ---------------------------------------------------------------------------------------------

TEST(StatmechFiles, AnalyzeFileWritesJsonAndTables) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("vitrify_analysis_files_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::filesystem::path input = dir / "measurements.json";
  SyntheticModel s = testing::binary3d_gaussian();
  s.concentration_noise = 0.01;
  std::ofstream(input) << testing::make_measurements(s, 4).dump(1);
  AnalyzeOptions opt;
  opt.grid_points = 25;
  const json a = analyze_file(input.string(), (dir / "out").string(), opt);
  ASSERT_TRUE(std::filesystem::exists(dir / "out" / "analysis.json"));
  std::ifstream in(dir / "out" / "analysis.json");
  const json reread = json::parse(in);
  EXPECT_EQ(reread["format"], "vitrify-analysis");
  for (const char* name :
       {"analysis_species.csv", "analysis_free_energies.csv", "analysis_concentrations.csv",
        "analysis_temperatures.csv", "analysis_grid.csv", "analysis_heat_capacity.csv"}) {
    std::ifstream csv(dir / "out" / name);
    ASSERT_TRUE(csv.good()) << name;
    std::string header;
    std::getline(csv, header);
    int lines = 0;
    for (std::string line; std::getline(csv, line);) {
      ++lines;
      EXPECT_EQ(line.find("nan"), std::string::npos) << name;
    }
    EXPECT_GT(lines, 0) << name;
    EXPECT_EQ(header.find(name == std::string("analysis_species.csv") ? "species" : "temperature"),
              0u)
        << name << ": " << header;
  }
  std::ifstream grid(dir / "out" / "analysis_grid.csv");
  std::string header;
  std::getline(grid, header);
  EXPECT_NE(header.find("c_liq_error"), std::string::npos);
  int rows = 0;
  for (std::string line; std::getline(grid, line);) ++rows;
  EXPECT_EQ(rows, 25);
  EXPECT_THROW(analyze_file((dir / "missing.json").string(), (dir / "out2").string(), opt),
               InputError);
  std::filesystem::remove_all(dir);
}

TEST(StatmechFiles, ReferenceInputsInTestData) {
  // tests/data/analysis_measurements_*.json: synthetic scans (1 % concentration noise) of the
  // Table II hump2d model and the Gaussian binary3d model, lowest state point not equilibrated.
  for (const std::string name : {"hump2d", "binary3d"}) {
    const std::string path =
        std::string(VITRIFY_TEST_DATA) + "/analysis_measurements_" + name + ".json";
    std::ifstream in(path);
    ASSERT_TRUE(in.good()) << path;
    AnalyzeOptions opt;
    opt.grid_points = 20;
    const json a = analyze(json::parse(in), opt);
    EXPECT_TRUE(a["validation"]["validated"].get<bool>())
        << name << ": " << a["validation"]["reason"];
    ASSERT_EQ(a["excluded_state_points"].size(), 1u) << name;
    const SyntheticModel truth =
        name == "hump2d" ? testing::hump2d_table2() : testing::binary3d_gaussian();
    const json& mu = a["relaxation"]["mu"];
    EXPECT_LT(std::abs(mu["value"].get<double>() - truth.mu), 4 * mu["error"].get<double>())
        << name;
    expect_all_finite(a);
  }
}

// Measured heat capacities (canonical runs) are compared with the model's at their state points:
// both models (of the potential energy, NVT, and of u + p v, NPT) plus the kinetic d/2, which
// the measured fluctuation C includes.
TEST(Statmech, MeasuredHeatCapacityAgainstTheModel) {
  for (const SyntheticModel& s : {testing::hump2d_table2(), testing::binary3d_gaussian()}) {
    json m = testing::make_measurements(s, 1);
    EXPECT_TRUE(analyze(m, AnalyzeOptions{})["thermodynamics"]["heat_capacity_measured"].empty());
    m["state_points"][1]["heat_capacity"] = {{"mean", 2.5}, {"error", 0.1}};
    m["state_points"][2]["heat_capacity"] = {{"mean", nullptr}, {"error", nullptr}};
    const json a = analyze(m, AnalyzeOptions{});
    const json& rows = a["thermodynamics"]["heat_capacity_measured"];
    ASSERT_EQ(rows.size(), 1u) << s.model;
    EXPECT_EQ(rows[0]["temperature"], m["state_points"][1]["temperature"]);
    EXPECT_EQ(rows[0]["measured"]["value"].get<double>(), 2.5);
    const json& c = a["per_temperature"]["heat_capacity_model"];
    const double kinetic = 0.5 * m["dimension"].get<double>();
    const double model = c["value"][1].get<double>() + kinetic;
    EXPECT_NEAR(rows[0]["model"]["value"].get<double>(), model, 1e-12) << s.model;
    const double sigma = std::hypot(0.1, c["error"][1].get<double>());
    EXPECT_NEAR(rows[0]["pull"].get<double>(), (2.5 - model) / sigma, 1e-9) << s.model;
  }
}

}  // namespace

// A value written without an error bar (null: a production too short for blocks) keeps its state
// point out of the fits, with the reason, instead of refusing the file: the fits equal those of
// the same input whose point lies outside t_min anyway.
TEST(Statmech, NullErrorBarsKeepAStatePointOutOfTheFits) {
  const SyntheticModel s = testing::hump2d_table2();
  json m = testing::make_measurements(s, 1);
  AnalyzeOptions opt;
  opt.t_min = m["state_points"][1]["temperature"].get<double>();
  const json reference = analyze(m, opt);
  json nulls = m;
  nulls["state_points"][0]["u"]["error"] = nullptr;
  const std::string species = nulls["state_points"][0]["concentrations"].begin().key();
  nulls["state_points"][0]["concentrations"][species]["error"] = nullptr;
  const json a = analyze(nulls, opt);
  auto fits_equal = [&](const json& x) {  // every species' fit (not the excluded point's rows)
    ASSERT_EQ(x["species"].size(), reference["species"].size());
    for (std::size_t k = 0; k < x["species"].size(); ++k)
      EXPECT_EQ(x["species"][k]["fit"], reference["species"][k]["fit"]) << k;
  };
  fits_equal(a);
  const std::string reasons = a["excluded_state_points"][0]["reasons"].dump();
  EXPECT_NE(reasons.find("no error bar (state_points[0].u and 1 more)"), std::string::npos)
      << reasons;
  // Without t_min the point is still left out, for its missing error bars alone.
  const json all = analyze(nulls, AnalyzeOptions{});
  ASSERT_EQ(all["excluded_state_points"].size(), 1u);
  fits_equal(all);
  // A null mean is still refused.
  nulls["state_points"][0]["u"]["mean"] = nullptr;
  EXPECT_THROW(analyze(nulls, AnalyzeOptions{}), std::exception);
}

}  // namespace vitrify::analysis
