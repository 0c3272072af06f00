// The CPU backend: ReplicaEngine instantiated with the OpenMP execution policy, and the
// backend/model registry behind make_engine().
#include <spdlog/spdlog.h>

#include <functional>
#include <map>

#include "vitrify/core/error.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/engine_registry.hpp"
#include "vitrify/engine/exec_cpu.hpp"
#if defined(VITRIFY_HAVE_CUDA)
#include "vitrify/engine/cuda_backend.hpp"
#endif

namespace vitrify {

namespace {

const std::map<std::string, EngineFactory>& cpu_registry() {
  static const std::map<std::string, EngineFactory> reg = engine_registry<CpuExec>();
  return reg;
}

}  // namespace

#if !defined(VITRIFY_HAVE_CUDA)
bool cuda_device_available(std::string* description) {
  if (description) *description = "this build has no CUDA backend";
  return false;
}
#endif

std::unique_ptr<Engine> make_engine(const std::string& backend, const std::string& model,
                                    const EngineSettings& settings) {
  const auto& reg = cpu_registry();
  auto it = reg.find(model);
  if (it == reg.end()) (void)model_info(model);  // throws, naming the known models
  if (backend == "cuda") {
    std::string why;
    if (!cuda_device_available(&why))
      throw InputError("backend \"cuda\" requested but unavailable: " + why +
                       " (use backend \"cpu\" or \"auto\")");
#if defined(VITRIFY_HAVE_CUDA)
    spdlog::info("backend cuda: {}", why);
    return make_cuda_engine(model, settings);
#endif
  }
  if (backend == "auto") {
    std::string why;
    if (cuda_device_available(&why)) {  // always false in a build without CUDA
#if defined(VITRIFY_HAVE_CUDA)
      spdlog::info("backend auto: running on the CUDA device {}", why);
      return make_cuda_engine(model, settings);
#endif
    }
    spdlog::info("backend auto: running on the CPU ({})", why);
  } else if (backend != "cpu") {
    throw InputError("unknown backend \"" + backend + "\" (cpu, cuda, auto)");
  }
  return it->second(settings);
}

}  // namespace vitrify
