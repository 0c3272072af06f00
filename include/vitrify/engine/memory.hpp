#pragma once
// The memory a run needs, estimated from its configuration before anything is allocated, and
// the memory this machine has: `vitrify validate` prints both, and `vitrify validate` and
// `vitrify run` refuse a job that does not fit (docs/CONFIG.md, "Memory").
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "vitrify/io/config.hpp"

namespace vitrify {

struct MemoryEstimate {
  std::string backend;  // where the engine arrays live: "cpu" (host memory) or "cuda" (device)
  int processes = 1;    // processes sharing the replicas (MPI)
  // Host memory of the whole job, part by part (name, bytes), and their sum.
  std::vector<std::pair<std::string, std::size_t>> host_parts;
  std::size_t host_bytes = 0;
  // Device memory of one process (its share of the replicas); 0 under the CPU backend, or
  // when no CUDA device answers here (device_estimated false).
  std::size_t device_bytes = 0;
  bool device_estimated = false;
};

// The estimate for `config` on `backend` ("cpu" or "cuda", not "auto") with `processes`
// processes. Host: the engine's arrays (CPU backend), the host copies of the batch, the
// measurement state (ISF accumulators, block accumulators) and a checkpoint being written or
// read (no ISF state when exchanges run in production). Device (CUDA): the engine's arrays of
// one process's share of the replicas and their ISF frames (Engine::isf_frame).
MemoryEstimate estimate_memory(const RunConfig& config, const std::string& backend,
                               int processes = 1);

// Host memory available to this process: the smaller of MemAvailable (/proc/meminfo, else
// sysconf) and what its cgroup's memory.max leaves. `source` (optional) says where it came from.
std::size_t available_host_memory(std::string* source = nullptr);

// "1.5 GiB", "320.0 MiB".
std::string format_bytes(std::size_t bytes);

// The backend a configuration's "backend" value resolves to here ("cpu" or "cuda").
std::string resolved_backend(const std::string& backend);

// The estimate of `config` and the memory available here, as log lines (one per line).
std::vector<std::string> describe_memory(const MemoryEstimate& estimate);

// InputError, with the needed and available bytes, when the job does not fit in this
// machine's host memory or (CUDA) the current device's free memory.
void require_memory(const MemoryEstimate& estimate);

}  // namespace vitrify
