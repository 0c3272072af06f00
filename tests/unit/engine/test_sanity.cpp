// The physical sanity checks of the scan driver (src/engine/sanity.hpp): the tolerances of
// docs/CONFIG.md ("Numerical failures") and the messages naming the quantity, its value and the
// allowed range.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "src/engine/sanity.hpp"
#include "vitrify/core/observables.hpp"
#include "vitrify/io/config.hpp"

using vitrify::scan_detail::SanityChecks;
using vitrify::scan_detail::SanityLimits;
using json = nlohmann::json;

namespace {

vitrify::RunConfig npt_config() {
  return vitrify::parse_config({{"model", "binary3d"},
                                {"n_particles", 1024},
                                {"pressure", 10.0},
                                {"temperatures", {0.6, 2.0}},
                                {"melt_temperature", 3.0},
                                {"melt_steps", 3000},
                                {"cool_steps", 4000},
                                {"equilibration_steps", 6000},
                                {"production_steps", 30000}},
                               "test");
}

// Observables of a replica of N particles at temperature t, pressure p, density rho and
// potential energy u per particle (3D).
std::vector<double> observables(double n, double t, double p, double rho, double u) {
  std::vector<double> o(vitrify::kObsCount, 0.0);
  o[vitrify::kObsKinetic] = 1.5 * (n - 1) * t;
  o[vitrify::kObsPotential] = u * n;
  o[vitrify::kObsTemperature] = t;
  o[vitrify::kObsPressure] = p;
  o[vitrify::kObsVolume] = n / rho;
  o[vitrify::kObsLambda] = o[vitrify::kObsMu] = 1.0;
  return o;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

// Long after the cooling ramp only the statistical part is left: T0 (6 sqrt(2/(3N)) + 0.2).
TEST(Sanity, TemperatureToleranceFormula) {
  const vitrify::RunConfig c = npt_config();
  const SanityChecks s(c, 3);
  const double fluct = 6.0 * std::sqrt(2.0 / (3.0 * 1024));
  EXPECT_NEAR(s.temperature_tolerance(3, 30000, 0.6), 0.6 * (fluct + 0.2), 1e-12);
  // During the ramp the target moves linearly from the melt temperature ...
  EXPECT_DOUBLE_EQ(s.target_temperature(1, 2000, 0.6), 1.8);
  EXPECT_DOUBLE_EQ(s.target_temperature(2, 10, 0.6), 0.6);
  // ... and the lag of a first-order system with tau_e = 10 tau_T is allowed on top: at the end
  // of the ramp (rate 2.4 / 20 tau) r tau_e (1 - e^(-20/5)) plus the start-up 3 e^(-35/5).
  const double tau = 10 * 0.5, rate = 2.4 / 20.0;
  EXPECT_NEAR(
      s.temperature_tolerance(1, 4000, 0.6),
      0.6 * (fluct + 0.2) + rate * tau * (1 - std::exp(-20 / tau)) + 3.0 * std::exp(-35 / tau),
      1e-12);
  // It relaxes afterwards.
  EXPECT_LT(s.temperature_tolerance(2, 6000, 0.6), s.temperature_tolerance(2, 0, 0.6));
}

TEST(Sanity, InRangeReplicaPasses) {
  const vitrify::RunConfig c = npt_config();
  SanityChecks s(c, 3);
  EXPECT_EQ(s.check(0, 3, 100, 0.6, observables(1024, 0.62, 9.1, 0.87, 2.5).data(), true), "");
  EXPECT_EQ(s.check(1, 2, 100, 2.0, observables(1024, 1.9, 11.0, 0.75, 3.1).data(), true), "");
  // The melt stage is not checked.
  EXPECT_EQ(s.check(0, 0, 100, 0.6, observables(1024, 1e6, 1e5, 1e-6, 1e4).data(), true), "");
}

TEST(Sanity, MessagesNameTheQuantityValueAndRange) {
  const vitrify::RunConfig c = npt_config();
  SanityChecks s(c, 3);
  const std::string t = s.check(2, 3, 100, 2.0, observables(1024, 6e8, 10, 0.7, 3).data(), true);
  EXPECT_TRUE(contains(t, "kinetic temperature 6e+08 out of range (thermostat target 2, allowed "))
      << t;
  const std::string rho = s.check(0, 3, 100, 0.6, observables(1024, 0.6, 10, 1e-5, 3).data(), true);
  EXPECT_TRUE(contains(rho, "density 1e-05 out of range (allowed 0.006 <= rho <= 60)")) << rho;
  const std::string u = s.check(0, 3, 100, 0.6, observables(1024, 0.6, 10, 0.8, 2e3).data(), true);
  EXPECT_TRUE(
      contains(u, "potential energy per particle u = 2000 out of range (allowed |u| <= 1000)"))
      << u;
  // Pressure: the mean over the last rows of the stage against p0 +- 10 (|p0| + rho_i T_hot).
  EXPECT_DOUBLE_EQ(s.pressure_tolerance(), 10 * (10 + 0.6 * 3.0));
  SanityChecks q(c, 3);
  EXPECT_EQ(q.check(0, 3, 100, 0.6, observables(1024, 0.6, 120, 0.8, 3).data(), true), "");
  const std::string p = q.check(0, 3, 200, 0.6, observables(1024, 0.6, 300, 0.8, 3).data(), true);
  EXPECT_TRUE(contains(p,
                       "mean pressure over the last 2 thermo rows 210 out of range (imposed 10, "
                       "allowed -108 <= p <= 128)"))
      << p;
  q.new_stage();  // a new stage starts a new mean
  EXPECT_EQ(q.check(0, 2, 100, 0.6, observables(1024, 0.6, 12, 0.8, 3).data(), true), "");
}

TEST(Sanity, NveEnergyDrift) {
  vitrify::RunConfig c = vitrify::parse_config({{"model", "kob-andersen"},
                                                {"n_particles", 1000},
                                                {"ensemble", "nve"},
                                                {"temperatures", {0.8}}},
                                               "test");
  SanityChecks s(c, 3);
  // The first recorded row is the reference; T is not checked (no thermostat).
  EXPECT_EQ(s.check(0, 1, 100, 0.8, observables(1000, 0.8, 5, 1.2, -6.0).data(), true), "");
  EXPECT_EQ(s.check(0, 2, 100, 0.8, observables(1000, 0.85, 5, 1.2, -6.07).data(), true), "");
  const std::string d = s.check(0, 3, 100, 0.8, observables(1000, 2.0, 5, 1.2, -6.0).data(), true);
  EXPECT_TRUE(contains(d, "total energy per particle")) << d;
  EXPECT_TRUE(contains(d, "(allowed drift ")) << d;
}
