#pragma once
// The temperature-scan driver behind `vitrify run`: builds the replica batch from a
// RunConfig, melts every replica at the melting temperature, cools each linearly to its own
// temperature, equilibrates, then runs production while a sampler measures; writes the
// outputs documented in docs/OUTPUTS.md.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "vitrify/core/error.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/io/config.hpp"

namespace vitrify {

// A replica removed from the run by on_failure "drop" (reported in the log and in
// measurements.json, docs/OUTPUTS.md).
struct DroppedReplica {
  int replica = 0;         // scan-wide replica index
  double temperature = 0;  // its target temperature
  std::string stage;       // stage during which it failed: melt, cool, equilibrate, production
  long step = 0;           // step of the scan at which the failure was detected
  std::string reason;      // what was found
  nlohmann::json to_json() const;
  // InputError naming `source` when `j` is not such a record.
  static DroppedReplica from_json(const nlohmann::json& j, const std::string& source);
};

// The verdict on one state point from the samples so far (ProductionSampler::check_points), by
// which production "until-equilibrated" ends a state point's production.
struct PointCheck {
  int temperature_index = 0;  // index into RunConfig::temperatures
  bool equilibrated = false;  // the equilibration verdict passed
  bool tau_reached = false;   // F_k fell below 1/e
  double tau_alpha = 0;       // tau_alpha (tau), or its lower bound when not reached
  std::vector<std::string> flags;
};

// Receives the engine at every production sample (every sample_interval steps). A sampler
// covers the replicas of one process's batch; in a multi-process run, process 0 joins the
// states of all processes (save_state) in a fresh sampler (load_state) that writes the outputs.
class ProductionSampler {
 public:
  virtual ~ProductionSampler() = default;
  // Called once before production starts. replicas[b] is the scan-wide index of the engine's
  // batch replica b (ascending); when it is empty the process holds no replica and the engine
  // must not be read.
  virtual void begin(Engine& engine, const std::vector<int>& replicas) = 0;
  // production_step counts from 1 at the first production step.
  virtual void sample(long production_step, Engine& engine) = 0;
  // Forgets batch replica b (on_failure "drop"), which has also left the engine's batch: its
  // samples enter no result.
  virtual void drop(int b) = 0;
  // Called before the engine's batch is replaced while sampling (a replica leaving): a sampler
  // that keeps data in the engine (Engine::isf_frames_here) copies it out first.
  virtual void before_batch_change() {}
  // Called once after production, on process 0: writes the sampler's outputs into the run
  // directory, `dropped` and the run's `provenance` (run_provenance) included.
  virtual void finish(const std::string& output_dir, const std::vector<DroppedReplica>& dropped,
                      const nlohmann::json& provenance) = 0;
  // Production "until-equilibrated": the equilibration verdict of every temperature whose
  // replicas the sampler holds (all the copies of each), from the samples so far, production
  // having lasted production_steps steps (ascending temperature index).
  virtual std::vector<PointCheck> check_points(long production_steps) const {
    (void)production_steps;
    throw InputError("this sampler cannot judge state points (production \"until-equilibrated\")");
  }
  // The accumulated state, exact, for checkpoints; null means the sampler cannot be resumed
  // (a checkpoint taken during its production then cannot be resumed either). Otherwise an
  // object whose array "replicas" holds one object per replica with its scan-wide index under
  // "replica"; every other member is the same on every process. The driver splits and joins
  // states by these entries when the replicas are spread over processes.
  virtual nlohmann::json save_state() const { return nullptr; }
  // Restores a save_state() output, possibly joined from several processes: the replicas it
  // holds become the sampler's. Called after begin() when a run resumes in production (with
  // the replicas given to begin()), or on a fresh sampler before finish().
  virtual void load_state(const nlohmann::json&) {
    throw InputError("this sampler cannot resume from a checkpoint");
  }
};

// Thrown by run_scan when it stopped early on request (SIGINT/SIGTERM or
// ScanOptions::stop_after_step) after writing a checkpoint; `vitrify run` exits with
// code 4. Running the same configuration again resumes the scan.
struct ScanInterrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ScanOptions {
  bool progress = true;  // progress line on a terminal, periodic log lines otherwise
  // Factory for the sampler; nullptr means the standard measurements (measurements.json).
  std::function<std::unique_ptr<ProductionSampler>(const RunConfig&)> make_sampler;
  // Overwrite a finished run (checkpoint marked finished and measurements.json present), and
  // ignore any checkpoint in the output directory (start over).
  bool force = false;
  // Catch SIGINT/SIGTERM during the scan: checkpoint at the next block boundary, then throw
  // ScanInterrupted. The former handlers are restored when run_scan returns.
  bool handle_signals = true;
  // Stop (checkpoint, then ScanInterrupted) at the first block boundary at or after this
  // step of the scan; 0 = never. For tests and job-length limits.
  long stop_after_step = 0;
  // Relative limits for job chains (`vitrify run --run-steps/--run-seconds`): stop as above at
  // the first block boundary at or after run_steps steps beyond the step where this run started
  // or resumed, or once run_seconds of wall-clock time have passed since run_scan was called
  // (0 = no limit). With several limits the first one reached stops the run.
  long run_steps = 0;
  double run_seconds = 0;
  // Test hook for the failure handling: at the first block boundary at or after step
  // inject_nan_step, the velocities of replica inject_nan_replica (scan-wide index; -1 = off)
  // become NaN, so that the replica's observables are non-finite from its next step on.
  int inject_nan_replica = -1;
  long inject_nan_step = 0;
};

// What run_scan did in this invocation (a resumed scan counts only the part it ran).
struct ScanReport {
  bool resumed = false;       // started from a checkpoint
  long first_step = 0;        // scan step at the start of this invocation
  long last_step = 0;         // scan step at its end
  double particle_steps = 0;  // sum over this invocation's steps of (replicas left) * N
  double wall_seconds = 0;    // from the start of the first step to the written outputs
};

// Runs the whole scan; throws InputError / SimulationError on failure. Nothing is written
// (not even the output directory) when the backend is unavailable.
ScanReport run_scan(const RunConfig& config, const ScanOptions& options = {});

// InputError when `backend` ("cpu", "cuda", "auto") cannot run here: "cuda" without a CUDA
// build or device, or an unknown name. Checked before a run creates its output directory.
void require_backend_available(const std::string& backend);

// Builds the initial batch (lattice + melt velocities) of a configuration.
BatchState initial_batch(const RunConfig& config);
// The same for some of its replicas (scan-wide indices, in batch order): each replica is built
// from its own seed, so it starts as in the whole batch.
BatchState initial_batch(const RunConfig& config, const std::vector<int>& replicas);

// The provenance object of a run's outputs (docs/OUTPUTS.md): vitrify version, git commit,
// backend and device of `engine` ("cpu, N threads" on the CPU), the seed and the OpenMP threads.
nlohmann::json run_provenance(const RunConfig& config, const Engine& engine);

// EngineSettings from a configuration.
EngineSettings engine_settings(const RunConfig& config);

// The standard measurement sampler (concentrations, thermodynamics, ISF): defined in
// src/engine/measurements.cpp.
std::unique_ptr<ProductionSampler> make_standard_sampler(const RunConfig& config);

}  // namespace vitrify
