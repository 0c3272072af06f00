#pragma once
// Ensemble components as kernel bodies: thermostats and barostats. Each component is a
// small VT_HD function of the replica's step totals; FinishStep (kernels/integrate.hpp) calls
// the one the run selected (EngineSettings::thermostat / barostat) once per replica. A
// component may keep per-replica state (`state`, state_size doubles per replica, saved in
// checkpoints and restored with a rerun block; none of the Berendsen ones needs any).
//
// Adding a component: a kind in include/vitrify/core/ensemble.hpp, its function here, a case
// in the dispatcher below and an entry in the host registry (include/vitrify/engine/ensemble.hpp).
#include <math.h>

#include "vitrify/core/ensemble.hpp"
#include "vitrify/core/hostdevice.hpp"
#include "vitrify/core/real.hpp"

namespace vitrify::kernels {

// One replica's totals at the end of a step (double precision).
struct StepTotals {
  double kinetic;      // K
  double temperature;  // 2K/(d(N-1))
  double pressure;     // (2K + W)/(d V)
  double volume;       // V
  int dim;             // d
  int replica;         // r
};

// Berendsen thermostat: lambda = sqrt(1 + dt/tau_T (T0/T - 1)), clamped at 0.
VT_HD inline double berendsen_velocity_scale(const StepTotals& s, double target, real dt,
                                             real tau) {
  if (!(s.temperature > 0)) return 1.0;
  double f = 1.0 + double(dt) / tau * (target / s.temperature - 1.0);
  if (f < 0.0) f = 0.0;
  return sqrt(f);
}

// Isotropic Berendsen barostat: mu = [1 - dt/tau_p (p0 - p)/B]^(1/d); the bracket is clamped at
// 0.5 so that a blown-up replica cannot reach a negative volume.
VT_HD inline double berendsen_length_scale(const StepTotals& s, double p_target, real dt, real tau,
                                           real bulk_modulus) {
  double f = 1.0 - double(dt) / tau * (p_target - s.pressure) / bulk_modulus;
  if (f < 0.5) f = 0.5;
  return pow(f, 1.0 / s.dim);
}

struct Thermostat {
  int enabled;  // 0: NVE (lambda = 1)
  ThermostatKind kind;
  real tau;       // coupling time
  double* state;  // state_size doubles per replica (unused by Berendsen)
  int state_size;
  // Velocity scale factor of this step for a replica at target temperature `target`.
  VT_HD double velocity_scale(const StepTotals& s, double target, real dt) const {
    if (!enabled) return 1.0;
    switch (kind) {
      case ThermostatKind::kBerendsen:
        return berendsen_velocity_scale(s, target, dt, tau);
    }
    return 1.0;
  }
};

struct Barostat {
  int enabled;  // 0: constant volume (mu = 1)
  BarostatKind kind;
  real tau;           // coupling time
  real bulk_modulus;  // B
  double* state;      // state_size doubles per replica (unused by Berendsen)
  int state_size;
  // Length scale factor (applied to the box and positions at the start of the next step).
  VT_HD double length_scale(const StepTotals& s, double p_target, real dt) const {
    if (!enabled) return 1.0;
    switch (kind) {
      case BarostatKind::kBerendsen:
        return berendsen_length_scale(s, p_target, dt, tau, bulk_modulus);
    }
    return 1.0;
  }
};

}  // namespace vitrify::kernels
