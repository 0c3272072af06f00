#pragma once
// The one list of models. Adding a model: write include/vitrify/models/<model>.hpp (an
// evaluator with make(), max_cutoff(), cutoff2(), evaluate(), is_species_neighbor() and a
// host-side `static ModelInfo info()`), include it here and add it to AllModels. The CPU and
// CUDA registries, the configuration checks, the analysis's model facts and the typed tests
// are all driven from this list (docs/ARCHITECTURE.md, "Adding a model").
#include "vitrify/models/binary3d.hpp"
#include "vitrify/models/hump2d.hpp"
#include "vitrify/models/kob_andersen.hpp"

namespace vitrify {

template <class... Models>
struct ModelList {};

using AllModels = ModelList<Binary3d, Hump2d, KobAndersen>;

// Calls f(Model{}) for every model of the list, in order (Model{} only carries the type).
template <class F, class... Models>
void for_each_model(ModelList<Models...>, F&& f) {
  (f(Models{}), ...);
}
template <class F>
void for_each_model(F&& f) {
  for_each_model(AllModels{}, static_cast<F&&>(f));
}

}  // namespace vitrify
