#include "src/engine/sanity.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "vitrify/core/observables.hpp"

namespace vitrify::scan_detail {
namespace {

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

}  // namespace

SanityChecks::SanityChecks(const RunConfig& c, int dimension)
    : c_(c), dim_(dimension), npt_(c.ensemble == "npt"), nve_(c.ensemble == "nve") {}

double SanityChecks::target_temperature(int stage, long done, double t_final) const {
  if (stage == 0) return c_.melt_temperature;
  if (stage == 1 && c_.cool_steps > 0)
    return c_.melt_temperature +
           (t_final - c_.melt_temperature) * static_cast<double>(done) / c_.cool_steps;
  return t_final;
}

// T0 (m sqrt(2/(d N)) + floor), plus how far a first-order lag with time tau_e behind the
// target history could be: the start-up from the lattice (at most the melt temperature,
// relaxing from step 0) and the cooling ramp (rate r: lag |r| tau_e (1 - e^(-t/tau_e)) during
// the ramp, then relaxing; without a ramp, the jump from the melt temperature relaxing).
double SanityChecks::temperature_tolerance(int stage, long done, double t_final) const {
  using L = SanityLimits;
  const double t0 = target_temperature(stage, done, t_final);
  const double fluct = L::kFluctuationMultiple * std::sqrt(2.0 / (dim_ * double(c_.n_particles)));
  const double tau = L::kRelaxationFactor * c_.thermostat_tau;
  const double t_melt = c_.melt_steps * c_.dt, t_cool = c_.cool_steps * c_.dt;
  const double t_eq = c_.equilibration_steps * c_.dt, t = done * c_.dt;
  double since_start = t;  // time since step 0
  if (stage >= 1) since_start += t_melt;
  if (stage >= 2) since_start += t_cool;
  if (stage >= 3) since_start += t_eq;
  const double jump = std::abs(t_final - c_.melt_temperature);
  double lag = 0;
  if (stage == 1) {
    lag = jump / t_cool * tau * -std::expm1(-t / tau);
  } else if (stage >= 2) {
    const double at_end = t_cool > 0 ? jump / t_cool * tau * -std::expm1(-t_cool / tau) : jump;
    const double since_end = stage == 2 ? t : t_eq + t;
    lag = at_end * std::exp(-since_end / tau);
  }
  const double startup = c_.melt_temperature * std::exp(-since_start / tau);
  return t0 * (fluct + L::kTemperatureFloor) + lag + startup;
}

double SanityChecks::pressure_tolerance() const {
  const double rho = npt_ ? c_.initial_density : c_.density;
  double t_hot = c_.melt_temperature;
  for (double t : c_.temperatures) t_hot = std::max(t_hot, t);
  return SanityLimits::kPressureMultiple * (std::abs(c_.pressure) + rho * t_hot);
}

// The reference is the initial density; under NPT the lower bound also allows for a dilute
// equilibrium (rho ~ p0 / T at the hottest temperature, the ideal gas).
double SanityChecks::density_min() const {
  double rho = npt_ ? c_.initial_density : c_.density;
  if (npt_) {
    double t_hot = c_.melt_temperature;
    for (double t : c_.temperatures) t_hot = std::max(t_hot, t);
    rho = std::min(rho, c_.pressure / t_hot);
  }
  return rho / SanityLimits::kDensityFactor;
}

double SanityChecks::density_max() const {
  return (npt_ ? c_.initial_density : c_.density) * SanityLimits::kDensityFactor;
}

std::string SanityChecks::check(int replica, int stage, long done, double t_final, const double* o,
                                bool record) {
  using L = SanityLimits;
  if (stage == 0) return "";
  const double n = c_.n_particles;
  const double u = o[kObsPotential] / n;
  if (!(std::abs(u) <= L::kMaxEnergyPerParticle))
    return "potential energy per particle u = " + num(u) +
           " out of range (allowed |u| <= " + num(L::kMaxEnergyPerParticle) + ")";
  const double rho = n / o[kObsVolume];
  if (!(rho >= density_min() && rho <= density_max()))
    return "density " + num(rho) + " out of range (allowed " + num(density_min()) +
           " <= rho <= " + num(density_max()) + ")";
  const double temp = o[kObsTemperature];
  if (!nve_) {
    const double t0 = target_temperature(stage, done, t_final);
    const double tol = temperature_tolerance(stage, done, t_final);
    if (!(std::abs(temp - t0) <= tol))
      return "kinetic temperature " + num(temp) + " out of range (thermostat target " + num(t0) +
             ", allowed " + num(std::max(0.0, t0 - tol)) + " <= T <= " + num(t0 + tol) + ")";
  } else {
    const double e = (o[kObsKinetic] + o[kObsPotential]) / n;
    auto it = nve_reference_.find(replica);
    if (it == nve_reference_.end()) {
      if (record) nve_reference_[replica] = {e, temp};
    } else {
      const Reference& ref = it->second;
      const double tol = L::kDriftFraction * 0.5 * dim_ * ref.temperature +
                         L::kDriftRelative * std::abs(ref.energy);
      if (!(std::abs(e - ref.energy) <= tol))
        return "total energy per particle " + num(e) + " drifted from " + num(ref.energy) +
               " (allowed drift " + num(tol) + ")";
    }
  }
  if (npt_) {
    std::deque<double> rows = pressure_[replica];
    if (record) {
      std::deque<double>& kept = pressure_[replica];
      kept.push_back(o[kObsPressure]);
      if (static_cast<int>(kept.size()) > L::kPressureRows) kept.pop_front();
      rows = kept;
    } else {
      rows.push_back(o[kObsPressure]);
    }
    double mean = 0;
    for (double p : rows) mean += p;
    mean /= static_cast<double>(rows.size());
    const double tol = pressure_tolerance();
    if (!(std::abs(mean - c_.pressure) <= tol))
      return "mean pressure over the last " + std::to_string(rows.size()) + " thermo rows " +
             num(mean) + " out of range (imposed " + num(c_.pressure) + ", allowed " +
             num(c_.pressure - tol) + " <= p <= " + num(c_.pressure + tol) + ")";
  }
  return "";
}

void SanityChecks::forget(int replica) {
  pressure_.erase(replica);
  nve_reference_.erase(replica);
}

}  // namespace vitrify::scan_detail
