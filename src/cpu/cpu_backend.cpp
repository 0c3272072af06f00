// The CPU backend: ReplicaEngine instantiated with the OpenMP execution policy, and the
// backend/model registry behind make_engine().
#include <spdlog/spdlog.h>

#include <functional>
#include <map>

#include "vitrify/core/error.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/engine_registry.hpp"
#include "vitrify/engine/exec_cpu.hpp"
#include "vitrify/engine/exec_team_cpu.hpp"
#if defined(VITRIFY_HAVE_CUDA)
#include "vitrify/engine/cuda_backend.hpp"
#endif

namespace vitrify {

namespace {

const std::map<std::string, EngineFactory>& cpu_registry() {
  static const std::map<std::string, EngineFactory> reg = engine_registry<CpuExec>();
  return reg;
}

// The block kernel emulated on the CPU (--backend cpu --kernel block).
const std::map<std::string, EngineFactory>& cpu_team_registry() {
  static const std::map<std::string, EngineFactory> reg = engine_registry<CpuTeamExec>();
  return reg;
}

// "auto": the per-particle kernels, on every backend. On the CPU the block kernel is an
// emulation for verification (slower than the half-list kernels); on a GPU it has not been
// measured yet, so nothing chooses it unasked.
EngineSettings resolve_kernel(const EngineSettings& settings) {
  EngineSettings s = settings;
  if (s.kernel == KernelKind::kAuto) {
    s.kernel = KernelKind::kPerParticle;
    static bool logged = false;  // once per process (the memory estimate makes an engine too)
    if (!logged)
      spdlog::info("kernel auto: per-particle (the block kernel runs only when asked for)");
    logged = true;
  }
  return s;
}

}  // namespace

#if !defined(VITRIFY_HAVE_CUDA)
bool cuda_device_available(std::string* description) {
  if (description) *description = "this build has no CUDA backend";
  return false;
}
#endif

std::unique_ptr<Engine> make_engine(const std::string& backend, const std::string& model,
                                    const EngineSettings& requested) {
  const EngineSettings settings = resolve_kernel(requested);
  const auto& reg = settings.kernel == KernelKind::kBlock ? cpu_team_registry() : cpu_registry();
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
