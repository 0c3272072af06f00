#pragma once
// The end-of-run summary (docs/OUTPUTS.md, "summary.txt"): plain aligned text that tells the
// result of a scan — the measured state points, and when an analysis exists its verdict, the
// fitted H and g, the Gaussian degeneracy, mu with the hold-out test, the energy/enthalpy check
// and the model's heat-capacity peak — and, after a run, the wall time and throughput.
#include <nlohmann/json.hpp>
#include <string>

namespace vitrify::analysis {

// What one invocation of `vitrify run` did (not the whole scan when it resumed).
struct RunPerformance {
  double wall_seconds = 0.0;    // from the start of the scan to its end, this invocation
  double particle_steps = 0.0;  // sum over the steps of (replicas in the batch) * N
  bool resumed = false;         // the invocation resumed a checkpoint
};

// The energy or enthalpy check agrees when the model reproduces every measured value within
// this relative deviation.
inline constexpr double kEnergyCheckTolerance = 0.02;

// measurements: a measurements.json document; analysis: its analysis.json (absent when the
// analysis was skipped or failed: `analysis_note` says why, if known).
std::string science_summary(const nlohmann::json& measurements, const nlohmann::json* analysis,
                            const std::string& analysis_note = "");

// "Wall time ... s, ... particle-steps, ... particle-steps/s" and a newline.
std::string performance_line(const RunPerformance& performance);

}  // namespace vitrify::analysis
