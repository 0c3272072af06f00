#pragma once
// The temperature-scan driver behind `vitrify run`: builds the replica batch from a
// RunConfig, melts every replica at the melting temperature, cools each linearly to its own
// temperature, equilibrates, then runs production while a sampler measures; writes the
// outputs documented in docs/OUTPUTS.md.
#include <functional>
#include <memory>
#include <string>
#include <vector>

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
};

struct ScanOptions {
  bool progress = true;  // progress line on a terminal, periodic log lines otherwise
  // Factory for the sampler; nullptr means the standard measurements (measurements.json).
  std::function<std::unique_ptr<ProductionSampler>(const RunConfig&)> make_sampler;
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
