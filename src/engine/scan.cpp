#include "vitrify/engine/scan.hpp"

#include <omp.h>

#include <numeric>

#include "src/engine/scan_driver.hpp"
#include "vitrify/core/build_info.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/ensemble.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify {

nlohmann::json run_provenance(const RunConfig& c, const Engine& engine) {
  const int threads = omp_get_max_threads();
  const std::string backend = engine.backend_name();
  const std::string device =
      backend == "cpu" ? "cpu, " + std::to_string(threads) + (threads == 1 ? " thread" : " threads")
                       : engine.device_name();
  return {{"vitrify_version", vitrify_version()},
          {"git_commit", vitrify_git_commit()},
          {"backend", backend},
          {"kernel", engine.kernel_name()},
          {"device", device},
          {"seed", c.seed},
          {"threads", threads}};
}

EngineSettings engine_settings(const RunConfig& c) {
  EngineSettings s;
  s.dt = c.dt;
  s.skin = c.skin;
  s.ensemble = c.ensemble == "npt"   ? Ensemble::kNPT
               : c.ensemble == "nvt" ? Ensemble::kNVT
                                     : Ensemble::kNVE;
  for (const auto& t : thermostats())
    if (c.thermostat == t.name) s.thermostat = t.kind;
  for (const auto& b : barostats())
    if (c.barostat == b.name) s.barostat = b.kind;
  s.thermostat_tau = c.thermostat_tau;
  s.barostat_tau = c.barostat_tau;
  s.bulk_modulus = c.bulk_modulus;
  s.seed = c.seed;
  s.kernel = c.kernel == "block"  ? KernelKind::kBlock
             : c.kernel == "auto" ? KernelKind::kAuto
                                  : KernelKind::kPerParticle;
  s.graphs = c.graphs;
  return s;
}

BatchState initial_batch(const RunConfig& c) {
  std::vector<int> all(c.n_replicas());
  std::iota(all.begin(), all.end(), 0);
  return initial_batch(c, all);
}

BatchState initial_batch(const RunConfig& c, const std::vector<int>& replicas) {
  const ModelInfo& m = model_info(c.model);
  BatchState s;
  s.resize(static_cast<int>(replicas.size()), c.n_particles, m.dimension);
  const double rho = c.ensemble == "npt" ? c.initial_density : c.density;
  for (int b = 0; b < s.n_replicas; ++b)
    make_lattice_replica(s, b, m, rho, c.melt_temperature, replica_seed(c.seed, replicas[b]));
  return s;
}

nlohmann::json DroppedReplica::to_json() const {
  return {{"replica", replica},
          {"temperature", temperature},
          {"stage", stage},
          {"step", step},
          {"reason", reason}};
}

DroppedReplica DroppedReplica::from_json(const nlohmann::json& j, const std::string& source) {
  auto bad = [&](const std::string& why) -> InputError {
    return InputError(source + ": dropped replica record " + j.dump() + ": " + why);
  };
  if (!j.is_object()) throw bad("not an object");
  for (const char* key : {"replica", "temperature", "stage", "step", "reason"})
    if (!j.contains(key)) throw bad(std::string("\"") + key + "\" is missing");
  if (!j.at("replica").is_number_integer() || !j.at("step").is_number_integer() ||
      !j.at("temperature").is_number() || !j.at("stage").is_string() || !j.at("reason").is_string())
    throw bad("a field has the wrong type");
  DroppedReplica d;
  d.replica = j.at("replica").get<int>();
  d.temperature = j.at("temperature").get<double>();
  d.stage = j.at("stage").get<std::string>();
  d.step = j.at("step").get<long>();
  d.reason = j.at("reason").get<std::string>();
  return d;
}

void require_backend_available(const std::string& backend) {
  if (backend != "cpu" && backend != "cuda" && backend != "auto")
    throw InputError("unknown backend \"" + backend + "\" (cpu, cuda, auto)");
  std::string why;
  if (backend == "cuda" && !cuda_device_available(&why))
    throw InputError("backend \"cuda\" requested but unavailable: " + why +
                     " (use backend \"cpu\" or \"auto\")");
}

// The scan itself is src/engine/scan_driver.cpp.
ScanReport run_scan(const RunConfig& c, const ScanOptions& opt) {
  scan_detail::ScanDriver driver(c, opt);
  return driver.run();
}

}  // namespace vitrify
