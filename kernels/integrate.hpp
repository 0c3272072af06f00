#pragma once
// Velocity-Verlet integration with the run's thermostat and barostat (kernels/ensemble.hpp),
// as kernel bodies. All masses are 1.
//
// One step:  ScaleBoxes (NPT: L *= mu of the previous step) -> KickDrift (c-rescale: v /= mu;
//            v += dt/2 f; x = mu x + dt v; wrap) -> neighbour update -> forces -> Kick (v += dt/2
//            f)
//            -> per-replica sums (ReplicaPartialSums, FinishStep: T, p, lambda, mu)
//            -> ScaleVelocities (v *= lambda).
// The barostat's scaling is applied at the start of the next step, before the forces are
// computed, so that at the end of every step positions, box, forces, energies and the
// pressure all describe the same configuration.
// T = 2K/(d(N-1)), p = (2K + W)/(d V) with W = sum_pairs r.f; the thermostat gives the
// velocity scale lambda, the barostat the length scale mu (box and positions scaled by mu).
#include <math.h>

#include "kernels/batch.hpp"
#include "kernels/ensemble.hpp"
#include "vitrify/core/observables.hpp"

namespace vitrify::kernels {

// Ramp fraction of step s of a run of `steps` steps whose fraction goes linearly from
// ramp_begin (first step) to ramp_end (last step).
VT_HD inline double ramp_fraction(long s, long steps, double ramp_begin, double ramp_end) {
  return steps > 1 ? ramp_begin + (ramp_end - ramp_begin) * double(s) / double(steps - 1)
                   : ramp_end;
}

struct KickDrift {
  BatchView b;
  real dt;
  const double* obs;     // per-replica observables of the previous step
  int scale_positions;   // NPT: positions scaled by that step's mu (box already scaled)
  int scale_velocities;  // c-rescale: velocities scaled by 1/mu at the same time
  VT_HD void operator()(int gid) const {
    const int r = gid / b.n;
    const real h = real(0.5) * dt;
    const real mu =
        scale_positions ? real(obs[static_cast<long>(r) * kObsCount + kObsMu]) : real(1);
    if (scale_velocities) {
      const real inv_mu = real(1.0 / obs[static_cast<long>(r) * kObsCount + kObsMu]);
      b.vx[gid] *= inv_mu;
      b.vy[gid] *= inv_mu;
      if (b.dim == 3) b.vz[gid] *= inv_mu;
    }
    real vx = b.vx[gid] + h * b.fx[gid];
    real vy = b.vy[gid] + h * b.fy[gid];
    b.vx[gid] = vx;
    b.vy[gid] = vy;
    real x = mu * b.x[gid] + dt * vx;
    real y = mu * b.y[gid] + dt * vy;
    b.img_x[gid] += Box::wrap_1d(x, b.box[3 * r]);
    b.img_y[gid] += Box::wrap_1d(y, b.box[3 * r + 1]);
    b.x[gid] = x;
    b.y[gid] = y;
    if (b.dim == 3) {
      const real vz = b.vz[gid] + h * b.fz[gid];
      b.vz[gid] = vz;
      real z = mu * b.z[gid] + dt * vz;
      b.img_z[gid] += Box::wrap_1d(z, b.box[3 * r + 2]);
      b.z[gid] = z;
    }
  }
};

struct Kick {
  BatchView b;
  real dt;
  VT_HD void operator()(int gid) const {
    const real h = real(0.5) * dt;
    b.vx[gid] += h * b.fx[gid];
    b.vy[gid] += h * b.fy[gid];
    if (b.dim == 3) b.vz[gid] += h * b.fz[gid];
  }
};

// Number of particles whose sums one ReplicaPartialSums call adds (in a fixed order, so the
// replica totals do not depend on the number of threads).
constexpr int kReduceChunk = 256;
constexpr int kReduceQuantities = 3;  // kinetic energy, potential energy (x2), virial

// partial[(r*chunks + c)*3 + q]: sums over one chunk of a replica's particles.
struct ReplicaPartialSums {
  BatchView b;
  int chunks;  // per replica
  double* partial;
  VT_HD void operator()(int idx) const {
    const int r = idx / chunks;
    const int c = idx - r * chunks;
    const int begin = r * b.n + c * kReduceChunk;
    int end = begin + kReduceChunk;
    if (end > (r + 1) * b.n) end = (r + 1) * b.n;
    double k = 0, u = 0, w = 0;
    for (int g = begin; g < end; ++g) {
      double v2 = double(b.vx[g]) * b.vx[g] + double(b.vy[g]) * b.vy[g];
      if (b.dim == 3) v2 += double(b.vz[g]) * b.vz[g];
      k += v2;
      u += b.u_i[g];
      w += b.w_i[g];
    }
    double* out = &partial[static_cast<long>(idx) * kReduceQuantities];
    out[0] = 0.5 * k;
    out[1] = u;
    out[2] = w;
  }
};

// Sums the chunk partials of each replica, computes T and p and asks the ensemble components
// for their scale factors (applied by ScaleVelocities now and by ScaleBoxes/KickDrift at the
// next step). Target temperature: t_start + ramp * (t_end - t_start).
struct FinishStep {
  BatchView b;
  int chunks;
  const double* partial;
  double* obs;
  const real* t_start;
  const real* t_end;
  const real* p_target;
  real ramp;
  real dt;
  Thermostat thermostat;
  Barostat barostat;
  VT_HD void operator()(int r) const {
    double k = 0, u = 0, w = 0;
    for (int c = 0; c < chunks; ++c) {
      const double* p = &partial[(static_cast<long>(r) * chunks + c) * kReduceQuantities];
      k += p[0];
      u += p[1];
      w += p[2];
    }
    const int d = b.dim;
    double vol = b.box[3 * r] * double(b.box[3 * r + 1]);
    if (d == 3) vol *= b.box[3 * r + 2];
    StepTotals totals;
    totals.kinetic = k;
    totals.temperature = 2.0 * k / (double(d) * (b.n - 1));
    totals.pressure = (2.0 * k + w) / (double(d) * vol);
    totals.volume = vol;
    totals.dof = double(d) * (b.n - 1);
    totals.dim = d;
    totals.replica = r;
    const double target = t_start[r] + double(ramp) * (t_end[r] - t_start[r]);
    const double lambda = thermostat.velocity_scale(totals, target, dt);
    const double mu = barostat.length_scale(totals, p_target[r], target, dt);
    double* o = &obs[static_cast<long>(r) * kObsCount];
    o[kObsKinetic] = k;
    o[kObsPotential] = 0.5 * u;
    o[kObsVirial] = w;
    o[kObsTemperature] = totals.temperature;
    o[kObsPressure] = totals.pressure;
    o[kObsVolume] = vol;
    o[kObsLambda] = lambda;
    o[kObsMu] = mu;
  }
};

// Thermostat: v *= lambda of this step.
struct ScaleVelocities {
  BatchView b;
  const double* obs;
  VT_HD void operator()(int gid) const {
    const int r = gid / b.n;
    const real lambda = real(obs[static_cast<long>(r) * kObsCount + kObsLambda]);
    b.vx[gid] *= lambda;
    b.vy[gid] *= lambda;
    if (b.dim == 3) b.vz[gid] *= lambda;
  }
};

// Barostat: L *= mu of the previous step (per replica), before KickDrift scales positions.
struct ScaleBoxes {
  BatchView b;
  const double* obs;
  VT_HD void operator()(int r) const {
    const double mu = obs[static_cast<long>(r) * kObsCount + kObsMu];
    for (int a = 0; a < b.dim; ++a) b.box[3 * r + a] = real(b.box[3 * r + a] * mu);
  }
};

}  // namespace vitrify::kernels
