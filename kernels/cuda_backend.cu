// The CUDA backend: device discovery, and ReplicaEngine instantiated with the CUDA execution
// policy for every model behind make_cuda_engine(). This is the only translation unit that
// instantiates the step loop for the GPU (nvcc compile time grows with every instantiation).
#include <functional>
#include <map>
#include <string>

#include "vitrify/core/error.hpp"
#include "vitrify/engine/cuda_backend.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/engine_registry.hpp"
#include "vitrify/engine/exec_cuda.cuh"

namespace vitrify {

bool cuda_device_available(std::string* description) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    cudaGetLastError();
    if (description) {
      *description = err != cudaSuccess
                         ? std::string("no usable CUDA device (cudaGetDeviceCount: ") +
                               cudaGetErrorString(err) + ")"
                         : std::string("no CUDA device found");
      if (err == cudaErrorInsufficientDriver)
        *description += "; no NVIDIA driver is loaded, or it is older than this build's CUDA " +
                        std::to_string(CUDART_VERSION / 1000) + " runtime";
    }
    return false;
  }
  int device = 0;
  cudaDeviceProp prop{};
  err = cudaGetDevice(&device);
  if (err == cudaSuccess) err = cudaGetDeviceProperties(&prop, device);
  if (err != cudaSuccess) {
    cudaGetLastError();
    if (description)
      *description = std::string("CUDA device does not answer: ") + cudaGetErrorString(err);
    return false;
  }
  if (description) *description = CudaExec::device_name();
  return true;
}

void require_cuda_memory(std::size_t bytes, const std::string& what) {
  CudaExec::require_free_memory(bytes, what);
}

bool cuda_memory_info(std::size_t* free_bytes, std::size_t* total_bytes) {
  if (cudaMemGetInfo(free_bytes, total_bytes) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return true;
}

int select_cuda_device(int local_rank) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    cudaGetLastError();  // make_engine reports the missing device
    return -1;
  }
  const int device = (local_rank < 0 ? 0 : local_rank) % count;
  if (cudaSetDevice(device) != cudaSuccess) {
    cudaGetLastError();
    return -1;
  }
  return device;
}

namespace {

const std::map<std::string, EngineFactory>& cuda_registry() {
  static const std::map<std::string, EngineFactory> reg = engine_registry<CudaExec>();
  return reg;
}

}  // namespace

std::unique_ptr<Engine> make_cuda_engine(const std::string& model, const EngineSettings& settings) {
  const auto& reg = cuda_registry();
  const auto it = reg.find(model);
  if (it == reg.end()) throw InputError("unknown model \"" + model + "\" for the CUDA backend");
  return it->second(settings);
}

}  // namespace vitrify
