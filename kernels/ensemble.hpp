#pragma once
// Ensemble components as kernel bodies: thermostats and barostats. Each component is a
// small VT_HD function of the replica's step totals; FinishStep (kernels/integrate.hpp) calls
// the one the run selected (EngineSettings::thermostat / barostat) once per replica. A
// component may keep per-replica state (`state`, state_size doubles per replica, saved in
// checkpoints and restored with a rerun block; none of the Berendsen ones needs any). The
// stochastic components (CSVR, c-rescale) draw from a counter-based generator
// (kernels/random.hpp) keyed by the run's seed, the replica's scan-wide index and the step; the
// step is their state: the number of steps they have applied to the replica.
//
// Adding a component: a kind in include/vitrify/core/ensemble.hpp, its function here, a case
// in the dispatcher below and an entry in the host registry (include/vitrify/engine/ensemble.hpp).
#include <math.h>

#include "kernels/random.hpp"
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
  double dof;          // N_f = d(N - 1), the degrees of freedom of T
  int dim;             // d
  int replica;         // r (the position in the batch)
};

// What keys a stochastic component's random numbers, besides its stream id and the step: the
// run's seed and each replica's scan-wide index (per batch position).
struct RandomKeys {
  unsigned long long seed;
  const int* replica_id;  // R values
};

// The step counter a stochastic component keeps as its per-replica state (a double holds
// every integer up to 2^53); read, then advanced by one.
VT_HD inline unsigned long long take_step(double* counter) {
  double c = *counter;
  if (!(c >= 0.0 && c < 9007199254740992.0)) c = 0.0;
  *counter = c + 1.0;
  return static_cast<unsigned long long>(c);
}

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

// CSVR, canonical sampling through velocity rescaling (Bussi, Donadio & Parrinello, J. Chem.
// Phys. 126, 014101 (2007), appendix): the kinetic energy K is replaced by a draw K' from the
// exact propagator of its stochastic equation over one step,
//   K' = (sqrt(c K) + R_1 sqrt((1 - c) Kbar/N_f))^2 + (1 - c) (Kbar/N_f) S,
// c = exp(-dt/tau_T), Kbar = N_f T0/2, R_1 standard normal, S a sum of N_f - 1 squared standard
// normal numbers (a chi-squared variate, 2 Gamma((N_f - 1)/2)); lambda = sqrt(K'/K). The first
// term is the paper's c K + (1 - c) Kbar R_1^2/N_f + 2 R_1 sqrt(c (1 - c) K Kbar/N_f) written
// as a square, so K' >= 0.
VT_HD inline double csvr_velocity_scale(const StepTotals& s, double target, real dt, real tau,
                                        double* counter, const RandomKeys& keys) {
  const unsigned long long step = take_step(counter);
  if (!(s.kinetic > 0) || !(s.dof > 0) || !(target > 0)) return 1.0;
  PhiloxStream rng(keys.seed, static_cast<uint32_t>(keys.replica_id[s.replica]), step,
                   kStreamCsvrThermostat);
  const double c = exp(-double(dt) / double(tau));
  const double kbar_per_dof = 0.5 * target;  // Kbar/N_f
  const double r1 = rng.normal();
  double sum = rng.chi_squared(s.dof - 1.0);
  if (sum < 0) sum = 0;
  const double a = sqrt(c * s.kinetic) + r1 * sqrt((1.0 - c) * kbar_per_dof);
  const double k_new = a * a + (1.0 - c) * kbar_per_dof * sum;
  return sqrt(k_new / s.kinetic);
}

// Isotropic stochastic cell rescaling (Bernetti & Bussi, J. Chem. Phys. 153, 114107 (2020)),
// integrated in lambda = sqrt(V), where the noise is additive:
//   dlambda = -(lambda/(2 B tau_p)) (p0 - p - T0/(2V)) dt + sqrt(T0 dt/(2 B tau_p)) R,
// p the instantaneous pressure (kinetic part included), T0 the thermostat's target, B the
// bulk modulus (beta_T = 1/B), R standard normal. Box and positions are scaled by
// mu = (lambda'/lambda)^(2/d) and velocities by 1/mu at the start of the next step; the volume
// ratio is clamped at 0.5 like Berendsen's.
VT_HD inline double crescale_length_scale(const StepTotals& s, double p_target, double t_target,
                                          real dt, real tau, real bulk_modulus, double* counter,
                                          const RandomKeys& keys) {
  const unsigned long long step = take_step(counter);
  if (!(s.volume > 0)) return 1.0;
  PhiloxStream rng(keys.seed, static_cast<uint32_t>(keys.replica_id[s.replica]), step,
                   kStreamCRescaleBarostat);
  const double t0 = t_target > 0 ? t_target : 0.0;
  const double rate = double(dt) / (double(bulk_modulus) * double(tau));  // beta_T dt/tau_p
  const double drift = -0.5 * rate * (p_target - s.pressure - 0.5 * t0 / s.volume);
  const double noise = sqrt(0.5 * t0 * rate / s.volume) * rng.normal();
  double ratio = 1.0 + drift + noise;  // lambda'/lambda
  if (ratio * ratio < 0.5) ratio = sqrt(0.5);
  return pow(ratio, 2.0 / s.dim);
}

struct Thermostat {
  int enabled;  // 0: NVE (lambda = 1)
  ThermostatKind kind;
  real tau;       // coupling time
  double* state;  // state_size doubles per replica (CSVR: its step counter)
  int state_size;
  RandomKeys keys;  // stochastic kinds
  // Velocity scale factor of this step for a replica at target temperature `target`.
  VT_HD double velocity_scale(const StepTotals& s, double target, real dt) const {
    if (!enabled) return 1.0;
    switch (kind) {
      case ThermostatKind::kBerendsen:
        return berendsen_velocity_scale(s, target, dt, tau);
      case ThermostatKind::kCsvr:
        return csvr_velocity_scale(s, target, dt, tau, &state[s.replica * state_size], keys);
    }
    return 1.0;
  }
};

struct Barostat {
  int enabled;  // 0: constant volume (mu = 1)
  BarostatKind kind;
  real tau;           // coupling time
  real bulk_modulus;  // B
  double* state;      // state_size doubles per replica (c-rescale: its step counter)
  int state_size;
  RandomKeys keys;  // stochastic kinds
  // Length scale factor (applied to the box and positions at the start of the next step) for
  // a replica at pressure target `p_target` and thermostat target `t_target`.
  VT_HD double length_scale(const StepTotals& s, double p_target, double t_target, real dt) const {
    if (!enabled) return 1.0;
    switch (kind) {
      case BarostatKind::kBerendsen:
        return berendsen_length_scale(s, p_target, dt, tau, bulk_modulus);
      case BarostatKind::kCRescale:
        return crescale_length_scale(s, p_target, t_target, dt, tau, bulk_modulus,
                                     &state[s.replica * state_size], keys);
    }
    return 1.0;
  }
  // Whether velocities are scaled by 1/mu together with the positions (c-rescale).
  VT_HD bool scales_velocities() const { return enabled && kind == BarostatKind::kCRescale; }
};

}  // namespace vitrify::kernels
