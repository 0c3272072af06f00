#pragma once
// Every fact about the simulated models that the analysis uses, in one place (the models
// themselves: docs/PHYSICS.md, section "Models"; their quasi-species: section "Quasi-species").
// The rest of the analysis asks model_facts() and never compares model names.
#include <functional>
#include <optional>
#include <string>

namespace vitrify::analysis {

struct ModelFacts {
  int dimension = 3;
  // Default reference species of a group (a species name, used for the group whose central
  // type it belongs to); empty: chosen automatically from the measured concentrations.
  std::string default_reference;
  // How analysis.json describes that default choice.
  std::string default_reference_choice;
  // Default liquid species (summed into C_liq): decided by central-particle type and
  // neighbour count.
  std::function<bool(int type, int neighbors)> is_liquid;
};

// The facts of a model named in measurements.json; nullopt for a model the analysis does not
// know.
std::optional<ModelFacts> model_facts(const std::string& model);

// The known model names for messages, e.g. "binary3d or hump2d".
std::string known_models_text();

}  // namespace vitrify::analysis
