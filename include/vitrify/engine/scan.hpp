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

// Receives the engine at every production sample (every sample_interval steps).
class ProductionSampler {
 public:
  virtual ~ProductionSampler() = default;
  // Called once before production starts.
  virtual void begin(Engine& engine) = 0;
  // production_step counts from 1 at the first production step.
  virtual void sample(long production_step, Engine& engine) = 0;
  // Called once after production; writes the sampler's outputs into the run directory.
  virtual void finish(Engine& engine, const std::string& output_dir) = 0;
  // The accumulated state, exact, for checkpoints; null means the sampler cannot be resumed
  // (a checkpoint taken during its production then cannot be resumed either).
  virtual nlohmann::json save_state() const { return nullptr; }
  // Restores save_state()'s output; called after begin() when a run resumes in production.
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
};

// Runs the whole scan; throws InputError / SimulationError on failure.
void run_scan(const RunConfig& config, const ScanOptions& options = {});

// Builds the initial batch (lattice + melt velocities) of a configuration.
BatchState initial_batch(const RunConfig& config);

// EngineSettings from a configuration.
EngineSettings engine_settings(const RunConfig& config);

// The standard measurement sampler (concentrations, thermodynamics, ISF): defined in
// src/engine/measurements.cpp.
std::unique_ptr<ProductionSampler> make_standard_sampler(const RunConfig& config);

}  // namespace vitrify
