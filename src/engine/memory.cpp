#include "vitrify/engine/memory.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "vitrify/core/error.hpp"
#include "vitrify/core/real.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/measurements.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/models/model_info.hpp"

#ifdef VITRIFY_HAVE_CUDA
#include "vitrify/engine/cuda_backend.hpp"
#endif

namespace vitrify {
namespace {

using Bytes = std::size_t;

// Bytes per particle of a BatchState (x, y, z, vx, vy, vz; type and three image counters).
constexpr Bytes kStateBytesPerParticle = 6 * sizeof(real) + 4 * sizeof(int);

// Levels the multiple-tau ISF accumulator creates over `frames` frames (decimation 2): level 0
// at the first frame, level l at frame 2^l (include/vitrify/analysis/measure_isf.hpp).
int isf_levels(long frames) {
  int levels = 1;
  for (long stride = 2; stride <= frames - 1; stride *= 2) ++levels;
  return levels;
}

// Particles of one replica that enter the self-ISF.
double isf_particles(const RunConfig& c, const ModelInfo& m) {
  double fraction = 0;
  for (int t : m.isf_types) fraction += m.type_fractions.at(t);
  return std::ceil(fraction * c.n_particles);
}

// MemAvailable of /proc/meminfo in bytes, 0 when unreadable.
Bytes meminfo_available() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  unsigned long long kib = 0;
  std::string unit;
  while (f >> key >> kib) {
    std::getline(f, unit);
    if (key == "MemAvailable:") return static_cast<Bytes>(kib) * 1024;
  }
  return 0;
}

// What this process's cgroup (v2) still allows: memory.max - memory.current; max() when there
// is no limit or it cannot be read.
Bytes cgroup_available() {
  const Bytes none = std::numeric_limits<Bytes>::max();
  std::ifstream self("/proc/self/cgroup");
  std::string line, path;
  while (std::getline(self, line))
    if (line.compare(0, 3, "0::") == 0) path = line.substr(3);
  if (path.empty()) return none;
  const std::string dir = "/sys/fs/cgroup" + path;
  std::ifstream max_file(dir + "/memory.max"), current_file(dir + "/memory.current");
  std::string max_text;
  unsigned long long current = 0;
  if (!(max_file >> max_text) || max_text == "max" || !(current_file >> current)) return none;
  const unsigned long long limit = std::stoull(max_text);
  return limit > current ? static_cast<Bytes>(limit - current) : 0;
}

}  // namespace

std::string format_bytes(std::size_t bytes) {
  char text[64];
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024 * 1024)
    std::snprintf(text, sizeof text, "%.1f TiB", b / (1024.0 * 1024 * 1024 * 1024));
  else if (b >= 1024.0 * 1024 * 1024)
    std::snprintf(text, sizeof text, "%.1f GiB", b / (1024.0 * 1024 * 1024));
  else
    std::snprintf(text, sizeof text, "%.1f MiB", b / (1024.0 * 1024));
  return text;
}

std::string resolved_backend(const std::string& backend) {
  if (backend == "cpu") return "cpu";
  if (backend == "cuda") return "cuda";
  return cuda_device_available() ? "cuda" : "cpu";
}

MemoryEstimate estimate_memory(const RunConfig& c, const std::string& backend, int processes) {
  const ModelInfo& m = model_info(c.model);
  MemoryEstimate e;
  e.backend = backend;
  e.processes = std::max(1, processes);
  const Bytes replicas = static_cast<Bytes>(c.n_replicas());
  const Bytes particles = replicas * static_cast<Bytes>(c.n_particles);
  const double rho0 = c.ensemble == "npt" ? c.initial_density : c.density;
  const double box = std::pow(c.n_particles / rho0, 1.0 / m.dimension);
  const int device_share = (c.n_replicas() + e.processes - 1) / e.processes;  // per process

  // The engine's arrays, sized as set_state() sizes them for the initial boxes (no engine
  // memory is allocated here).
  if (backend == "cpu") {
    const std::unique_ptr<Engine> engine = make_engine("cpu", c.model, engine_settings(c));
    e.host_parts.push_back(
        {"engine arrays", engine->batch_bytes(c.n_replicas(), c.n_particles, box)});
  } else if (cuda_device_available()) {
    const std::unique_ptr<Engine> engine = make_engine("cuda", c.model, engine_settings(c));
    e.device_bytes = engine->batch_bytes(device_share, c.n_particles, box);
    e.device_estimated = true;
  }
  // Host copies of the batch: the initial configurations or the sampler's copy of the state,
  // and its per-sample downloads (neighbour counts, particle and bound energies).
  e.host_parts.push_back({"host copies of the batch",
                          particles * (kStateBytesPerParticle + sizeof(int) + 2 * sizeof(real))});
  // Measurement state: per replica the ISF accumulator (levels x points x d x M doubles, plus
  // its scratch frame) and the block accumulators (1024 blocks per observable and bin).
  // No ISF with exchanges in production (docs/OUTPUTS.md).
  const long frames = c.max_production_steps() / c.sample_interval;
  const double isf_doubles = c.exchanges_in("production")
                                 ? 0.0
                                 : (double(isf_levels(frames)) * c.isf_points_per_level + 1) *
                                       m.dimension * isf_particles(c, m);
  const Bytes isf = static_cast<Bytes>(isf_doubles * sizeof(double)) * replicas;
  // On a device the frames live in device memory (Engine::isf_frame; the host holds them only
  // while a checkpoint is written, counted below), the store growing by copy: twice its size.
  if (e.device_estimated) {
    e.device_bytes += 2 * static_cast<Bytes>(isf_doubles * sizeof(double)) * device_share;
  }
  const Bytes blocks =
      replicas * static_cast<Bytes>(6 + m.n_types * kMaxSpeciesNeighbors) * 1024 * sizeof(double);
  e.host_parts.push_back({"measurement state (ISF and block accumulators)", isf + blocks});
  // A checkpoint being written or read: the saved batch (state and list-build positions) twice
  // (the state and its encoding), the measurement state five times (its JSON form, whose
  // numbers take 16 bytes in arrays grown by doubling, and the encoding). Measured: a hump2d run
  // of 2 x 4096 particles with 23 MiB of ISF state peaked at 182 MiB resident, estimated 174.
  const Bytes saved = particles * (kStateBytesPerParticle + 3 * sizeof(real));
  e.host_parts.push_back({"checkpoint", 2 * saved + 5 * (isf + blocks)});
  e.host_parts.push_back({"program", Bytes(32) << 20});
  for (const auto& part : e.host_parts) e.host_bytes += part.second;
  return e;
}

std::size_t available_host_memory(std::string* source) {
  Bytes host = meminfo_available();
  std::string from = "MemAvailable in /proc/meminfo";
  if (host == 0) {
    const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    host = pages > 0 && page > 0 ? static_cast<Bytes>(pages) * static_cast<Bytes>(page) : 0;
    from = "sysconf(_SC_AVPHYS_PAGES)";
  }
  const Bytes cgroup = cgroup_available();
  if (cgroup < host || host == 0) {
    host = cgroup;
    from = "the memory.max of this process's cgroup";
  }
  if (source) *source = from;
  return host;
}

std::vector<std::string> describe_memory(const MemoryEstimate& e) {
  std::vector<std::string> lines;
  std::string parts;
  for (const auto& part : e.host_parts)
    parts += (parts.empty() ? "" : ", ") + part.first + " " + format_bytes(part.second);
  std::string source;
  const Bytes host = available_host_memory(&source);
  lines.push_back("estimated host memory: " + format_bytes(e.host_bytes) + " (" + parts +
                  "); available: " + format_bytes(host) + " (" + source + ")");
  if (e.backend == "cuda") {
    std::string line = e.device_estimated
                           ? "estimated device memory: " + format_bytes(e.device_bytes) +
                                 (e.processes > 1 ? " per process" : "")
                           : std::string(
                                 "device memory: not estimated (no CUDA device answers "
                                 "here)");
#ifdef VITRIFY_HAVE_CUDA
    std::size_t free_bytes = 0, total_bytes = 0;
    if (e.device_estimated && cuda_memory_info(&free_bytes, &total_bytes))
      line +=
          "; free on the device: " + format_bytes(free_bytes) + " of " + format_bytes(total_bytes);
#endif
    lines.push_back(line);
  }
  return lines;
}

void require_memory(const MemoryEstimate& e) {
  std::string source;
  const Bytes host = available_host_memory(&source);
  if (host > 0 && e.host_bytes > host)
    throw InputError("the job needs about " + format_bytes(e.host_bytes) + " of host memory, but " +
                     format_bytes(host) + " is available (" + source +
                     "); use fewer replicas or particles per run, or a node with more memory");
#ifdef VITRIFY_HAVE_CUDA
  if (e.backend == "cuda") {
    std::size_t free_bytes = 0, total_bytes = 0;
    if (e.device_estimated && cuda_memory_info(&free_bytes, &total_bytes) &&
        e.device_bytes > free_bytes)
      throw InputError("the job needs about " + format_bytes(e.device_bytes) + " of device memory" +
                       (e.processes > 1 ? " per process" : "") + ", but the device has " +
                       format_bytes(free_bytes) + " free (of " + format_bytes(total_bytes) +
                       "); use fewer replicas or particles per run, or more processes (GPUs)");
  }
#endif
}

}  // namespace vitrify
