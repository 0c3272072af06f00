#pragma once
// Host-side facts about each model that the driver, the measurements and the analysis need
// (names, defaults, species lists). The physics itself is in include/vitrify/models/*.hpp.
// Adding a model: a new evaluator header, one entry in src/engine/model_info.cpp and one in
// the backend registries (src/cpu/cpu_backend.cpp, kernels/*.cu).
#include <string>
#include <vector>

namespace vitrify {

// One quasi-species: central-particle type and neighbour count.
struct SpeciesDef {
  std::string name;  // e.g. "s5", "l9", "c3"
  int type;
  int neighbors;
};

struct ModelInfo {
  std::string name;
  int dimension;
  int n_types;
  std::vector<std::string> type_names;    // extended-XYZ species names by type
  std::vector<double> type_fractions;     // composition
  std::string default_ensemble;           // "npt" or "nvt"
  double default_density;                 // NVT/NVE default (sigma^-d)
  double default_pressure;                // NPT default
  double default_initial_density;         // lattice density of the initial configuration (NPT)
  double max_cutoff;                      // largest interaction cutoff (sigma)
  double min_init_distance;               // smallest pair distance allowed in an initial lattice
  double isf_k;                           // wave number of the self-ISF (1/sigma)
  std::vector<int> isf_types;             // particle types entering the self-ISF
  std::vector<SpeciesDef> paper_species;  // the paper's tracked list
  std::string species_prefix(int type) const;  // "s"/"l" or "c"
};

// Throws InputError naming the known models when `name` is not one of them.
const ModelInfo& model_info(const std::string& name);
std::vector<std::string> model_names();

}  // namespace vitrify
