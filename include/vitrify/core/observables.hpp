#pragma once
// Per-replica observables of the last step, as the engine reports them
// (Engine::observables: R * kObsCount doubles, replica-major). Written by the FinishStep kernel
// (kernels/integrate.hpp); read by the host (thermo rows, measurements, checkpoints).
namespace vitrify {

enum ObservableIndex : int {
  kObsKinetic = 0,  // K, total kinetic energy
  kObsPotential,    // U, total potential energy
  kObsVirial,       // W = sum over pairs of r.f
  kObsTemperature,  // 2K/(d(N-1))
  kObsPressure,     // (2K + W)/(d V)
  kObsVolume,       // V
  kObsLambda,       // thermostat velocity scale applied after this step
  kObsMu,           // barostat length scale applied at the start of the next step
  kObsCount
};

}  // namespace vitrify
