#pragma once
// The CUDA backend's entry points, as plain C++ (no CUDA types), so that host code compiled
// by g++ can create CUDA engines. Defined in kernels/cuda_backend.cu; present only in builds
// with VITRIFY_HAVE_CUDA. Prefer make_engine("cuda" or "auto", ...) from engine.hpp.
#include <cstddef>
#include <memory>
#include <string>

#include "vitrify/engine/engine.hpp"

namespace vitrify {

// Creates a CUDA engine for `model` ("binary3d", "hump2d") on the current device. Throws
// InputError for an unknown model. The caller checks cuda_device_available() first.
std::unique_ptr<Engine> make_cuda_engine(const std::string& model, const EngineSettings& settings);

// Throws InputError (naming the request and the device's free and total memory) when `bytes`
// more than the current device has free are requested; SimulationError when no device answers.
void require_cuda_memory(std::size_t bytes, const std::string& what);

// Free and total memory of the current device (cudaMemGetInfo); false when no device answers.
bool cuda_memory_info(std::size_t* free_bytes, std::size_t* total_bytes);

// Makes device (local_rank mod the number of devices) current for this process, so that the
// processes of a multi-process run on one node use different GPUs while there are enough (or
// the single device that CUDA_VISIBLE_DEVICES leaves each of them). Call it before anything
// else touches CUDA. Returns the device index, or -1 (changing nothing) when no device answers.
int select_cuda_device(int local_rank);

}  // namespace vitrify
