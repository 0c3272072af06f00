#pragma once
// Measurement helpers shared by the scan sampler and its tests.
#include <vector>

#include "vitrify/io/config.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify {

// Neighbour counts 0..kMaxSpeciesNeighbors-1 are histogrammed per particle type; larger
// counts land in the last bin (and a warning is logged).
inline constexpr int kMaxSpeciesNeighbors = 48;

// The tracked species of a run: the model's paper list ("paper"), every (type, n) bin whose
// concentration exceeds species_auto_threshold at some temperature ("auto"; bin_means[t][b],
// b = type*kMaxSpeciesNeighbors + n), or the configured names.
std::vector<SpeciesDef> resolve_species(const RunConfig& config, const ModelInfo& model,
                                        const std::vector<std::vector<double>>& bin_means);

}  // namespace vitrify
