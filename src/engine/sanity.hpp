#pragma once
// Physical sanity checks of the replicas at every thermo row after the melt stage (internal to
// src/engine/, used by the scan driver). A replica whose observables leave the physical range
// (kinetic temperature far from the thermostat target, mean pressure far from the imposed
// one, density collapsed or exploded, potential energy per particle beyond any physical value,
// NVE energy drift) has failed numerically, like a non-finite one: the run stops with exit
// code 3, or with on_failure "drop" the replica is removed. The tolerances and their
// derivation are in docs/CONFIG.md ("Numerical failures"); they are generous on purpose:
// they catch blow-ups (orders of magnitude), not statistical noise or thermostat lag.
#include <deque>
#include <map>
#include <string>

#include "vitrify/io/config.hpp"

namespace vitrify::scan_detail {

// Constants of the tolerances (docs/CONFIG.md).
struct SanityLimits {
  // Temperature: |T - T0| <= T0 (m sqrt(2/(d N)) + floor) + lag(t).
  static constexpr double kFluctuationMultiple = 6.0;  // m: canonical relative fluctuations
  static constexpr double kTemperatureFloor = 0.2;     // relative floor (Berendsen, small N)
  // The lag of T behind a moving target relaxes with tau_e = kRelaxationFactor * tau_T (the
  // thermostat drains the potential energy too, so the kinetic temperature relaxes slower
  // than tau_T).
  static constexpr double kRelaxationFactor = 10.0;
  // NPT pressure: |mean p - p0| <= kPressureMultiple (|p0| + rho_ref T_hot), the mean over the
  // last kPressureRows thermo rows of the stage.
  static constexpr double kPressureMultiple = 10.0;
  static constexpr int kPressureRows = 10;
  // Density: rho_low / kDensityFactor <= rho <= kDensityFactor rho_ref.
  static constexpr double kDensityFactor = 100.0;
  // |u| per particle, in epsilon.
  static constexpr double kMaxEnergyPerParticle = 1e3;
  // NVE: |e - e_ref| <= kDriftFraction (d/2) T_ref + kDriftRelative |e_ref|.
  static constexpr double kDriftFraction = 0.2;
  static constexpr double kDriftRelative = 1e-3;
};

// Stage indices as in ScanDriver (0 melt, 1 cool, 2 equilibrate, 3 production).
class SanityChecks {
 public:
  SanityChecks(const RunConfig& config, int dimension);

  // The thermostat target of a replica whose own temperature is `t_final`, `done` steps into
  // `stage`.
  double target_temperature(int stage, long done, double t_final) const;
  // The allowed |T - T0| there.
  double temperature_tolerance(int stage, long done, double t_final) const;
  // The allowed |mean p - p0| (NPT) and the density range.
  double pressure_tolerance() const;
  double density_min() const;
  double density_max() const;

  // Checks replica `replica` (scan-wide index, final target t_final) from its observables
  // (kObsCount values). Returns "" when it is in range, otherwise what is out of range, with
  // the value and the allowed range. With `record` the row enters the pressure mean and may
  // become the NVE reference (thermo rows); without it (checkpoints) nothing is remembered.
  // Nothing is checked during the melt stage.
  std::string check(int replica, int stage, long done, double t_final, const double* obs,
                    bool record);

  // A new stage: the pressure means restart.
  void new_stage() { pressure_.clear(); }
  // The replica has left the batch.
  void forget(int replica);

 private:
  const RunConfig& c_;
  const int dim_;
  const bool npt_, nve_;
  std::map<int, std::deque<double>> pressure_;  // the last pressures of each replica
  struct Reference {
    double energy;       // (K + U)/N
    double temperature;  // T there
  };
  std::map<int, Reference> nve_reference_;
};

}  // namespace vitrify::scan_detail
