// Placeholder until the measurement layer lands in this file.
#include "vitrify/engine/scan.hpp"

namespace vitrify {
namespace {
class NoMeasurements : public ProductionSampler {
 public:
  void begin(Engine&) override {}
  void sample(long, Engine&) override {}
  void finish(Engine&, const std::string&) override {}
};
}  // namespace
std::unique_ptr<ProductionSampler> make_standard_sampler(const RunConfig&) {
  return std::make_unique<NoMeasurements>();
}
}  // namespace vitrify
