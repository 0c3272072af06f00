#pragma once
// Library side of `vitrify eval` and `vitrify bench`.
#include <nlohmann/json.hpp>
#include <string>

#include "vitrify/io/config.hpp"

namespace vitrify {

// Energy, virial pressure, quasi-species histogram (and forces) of one extended-XYZ
// configuration of `model` ("": the model named by model= in the file's comment line); with a
// vel column also the kinetic temperature and the full pressure. Output fields are documented
// in docs/OUTPUTS.md.
nlohmann::json evaluate_configuration(const std::string& model, const std::string& xyz_path,
                                      bool with_forces, double skin = 0.3);

struct BenchOptions {
  long warmup_steps = 3000;
  long steps = 3000;  // timed steps per block
  int blocks = 3;     // timed blocks; the median block is reported
  std::string backend = "auto";
  int threads = 0;
};

// Equilibrates nothing: builds the configuration's initial batch, melts it for the warm-up at
// the replica temperatures, then times blocks of steps. Returns particle-steps/s and details.
nlohmann::json run_bench(const RunConfig& config, const BenchOptions& options);

}  // namespace vitrify
