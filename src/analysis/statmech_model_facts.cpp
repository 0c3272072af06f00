#include "statmech_model_facts.hpp"

namespace vitrify::analysis {

std::optional<ModelFacts> model_facts(const std::string& model) {
  ModelFacts f;
  if (model == "binary3d") {
    f.dimension = 3;
    // Small particles (type 0) with 3..7 neighbours, large ones with 6..11.
    f.is_liquid = [](int type, int neighbors) {
      return type == 0 ? (neighbors >= 3 && neighbors <= 7) : (neighbors >= 6 && neighbors <= 11);
    };
    return f;
  }
  if (model == "hump2d") {
    f.dimension = 2;
    f.default_reference = "c2";
    f.default_reference_choice = "default (the paper's reference species i = 2)";
    f.is_liquid = [](int, int neighbors) {
      return neighbors == 2 || neighbors == 5 || neighbors == 6;
    };
    return f;
  }
  return std::nullopt;
}

std::string known_models_text() { return "binary3d or hump2d"; }

}  // namespace vitrify::analysis
