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

}  // namespace vitrify
