// The host-memory estimate's measurement state: the ISF frames that the accumulator really
// creates over the production (an accumulator fed as many frames is the oracle), and none when
// exchanges run in production (no ISF there).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vitrify/analysis/measure_isf.hpp"
#include "vitrify/engine/memory.hpp"
#include "vitrify/io/config.hpp"
#include "vitrify/models/model_info.hpp"

using namespace vitrify;

namespace {

std::size_t measurement_state(const MemoryEstimate& e) {
  for (const auto& part : e.host_parts)
    if (part.first.rfind("measurement state", 0) == 0) return part.second;
  ADD_FAILURE() << "no measurement-state part";
  return 0;
}

nlohmann::json pt_config(const std::vector<std::string>& stages) {
  return {{"model", "hump2d"},
          {"n_particles", 256},
          {"temperatures", {0.3, 0.33, 0.36}},
          {"thermostat", "csvr"},
          {"production_steps", 20000},
          {"sample_interval", 10},
          {"replica_exchange_interval", 100},
          {"replica_exchange_stages", stages}};
}

}  // namespace

TEST(MemoryEstimate, IsfFramesAsTheAccumulatorCreatesThemAndNoneWithExchangesInProduction) {
  const RunConfig with_isf = parse_config(pt_config({"equilibrate"}), "test");
  const RunConfig without = parse_config(pt_config({"equilibrate", "production"}), "test");
  const std::size_t a = measurement_state(estimate_memory(with_isf, "cpu"));
  const std::size_t b = measurement_state(estimate_memory(without, "cpu"));
  // The oracle: the slots an accumulator holds after the production's 2000 frames, each
  // d * M doubles (M = 256: both hump2d types enter the ISF), plus its scratch frame.
  const ModelInfo m = model_info("hump2d");
  int selected = 0;
  for (int t : m.isf_types) selected += static_cast<int>(m.type_fractions.at(t) * 256 + 0.5);
  analysis::IsfOptions io;
  io.points_per_level = with_isf.isf_points_per_level;
  analysis::SelfIsfAccumulator acc(2, 1.0, 1, 1.0, io);
  const double zero = 0.0;
  for (long f = 0; f < 20000 / 10; ++f) acc.add_frame(&zero, &zero, nullptr);
  const std::size_t frames_bytes = static_cast<std::size_t>(acc.slots_in_use() + 1) * 2 * selected *
                                   sizeof(double) * 3;  // d = 2, 3 replicas
  EXPECT_EQ(a - b, frames_bytes);
}
