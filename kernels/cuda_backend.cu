// CUDA translation unit: device discovery, and the shared kernel bodies instantiated for the
// GPU through the generic launch wrapper, so that every CUDA-enabled build proves that nvcc
// compiles them for sm_80/sm_90.
#include <string>

#include "kernels/forces.hpp"
#include "kernels/integrate.hpp"
#include "kernels/launch_cuda.cuh"
#include "kernels/neighbor.hpp"
#include "kernels/species.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/models/binary3d.hpp"
#include "vitrify/models/hump2d.hpp"

namespace vitrify {

bool cuda_device_available(std::string* description) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    if (description)
      *description = err != cudaSuccess ? std::string("no CUDA device: ") + cudaGetErrorString(err)
                                        : std::string("no CUDA device found");
    return false;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  if (description) *description = prop.name;
  return true;
}

namespace kernels {

// Launches every shared kernel body once on the device (used by the CUDA backend and its
// tests; here it also forces nvcc to compile each body for the GPU).
template <class Model>
cudaError_t launch_step_bodies(const BatchView& b, const Model& model, real dt, int chunks,
                               double* partial, double* obs, const real* t0, const real* t1,
                               const real* p0, int* species_n, int* rebuild_count) {
  const long nt = static_cast<long>(b.n_replicas) * b.n;
  launch_cuda(b.n_replicas, ScaleBoxes{b, obs});
  launch_cuda(nt, KickDrift{b, dt, obs, 1});
  launch_cuda(nt, DisplacementCheck{b, model.max_cutoff(), real(0.3)});
  launch_cuda(b.n_replicas, SetupCells{b, model.max_cutoff() + real(0.3), 8});
  launch_cuda(static_cast<long>(b.n_replicas) * b.max_cells, ResetCells{b});
  launch_cuda(nt, AssignCells{b});
  launch_cuda(static_cast<long>(b.n_replicas) * b.max_cells, SortCells{b});
  launch_cuda(nt, BuildNeighbors<Model::n_types>{b, {}});
  launch_cuda(nt, SaveBuildState{b});
  launch_cuda(b.n_replicas, FinishRebuild{b, rebuild_count});
  launch_cuda(nt, ComputeForces<Model>{b, model});
  launch_cuda(nt, Kick{b, dt});
  launch_cuda(static_cast<long>(b.n_replicas) * chunks, ReplicaPartialSums{b, chunks, partial});
  launch_cuda(b.n_replicas, FinishStep{b, chunks, partial, obs, t0, t1, p0, real(1), dt,
                                       ThermostatParams{1, real(0.5)},
                                       BarostatParams{1, real(5), real(10)}});
  launch_cuda(nt, ScaleVelocities{b, obs});
  launch_cuda(nt, CountSpeciesNeighbors<Model>{b, model, species_n});
  return cudaGetLastError();
}

template cudaError_t launch_step_bodies<Binary3d>(const BatchView&, const Binary3d&, real, int,
                                                  double*, double*, const real*, const real*,
                                                  const real*, int*, int*);
template cudaError_t launch_step_bodies<Hump2d>(const BatchView&, const Hump2d&, real, int,
                                                double*, double*, const real*, const real*,
                                                const real*, int*, int*);

}  // namespace kernels
}  // namespace vitrify
