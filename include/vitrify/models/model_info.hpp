#pragma once
// Host-side description of a model: what the driver, the configuration checks, the
// measurements and the analysis need to know about it (names, composition, defaults, species,
// ISF). Each model fills it in its own header (`static ModelInfo info()`, next to the
// evaluator), and the registry (src/models/model_info.cpp) is built from the one list of
// models in include/vitrify/models/all.hpp. Physics: docs/PHYSICS.md, "Models".
#include <limits>
#include <string>
#include <vector>

namespace vitrify {

// One quasi-species: central-particle type and neighbour count.
struct SpeciesDef {
  std::string name;  // e.g. "s5", "l9", "c3", "a12"
  int type;
  int neighbors;
};

struct ModelInfo {
  std::string name;                           // the configuration's "model" value
  std::string summary;                        // one line for listings and error messages
  int dimension;                              // 2 or 3
  int n_types;                                // particle types 0 .. n_types-1
  std::vector<std::string> type_names;        // extended-XYZ species names by type
  std::vector<double> type_fractions;         // composition (exact for N a multiple below)
  int particle_multiple;                      // N must be a multiple of this (composition)
  std::vector<std::string> species_prefixes;  // quasi-species name prefix by type ("s", "l")
  std::string default_ensemble;               // "npt" or "nvt"
  int default_particles;                      // default N
  double default_density;                     // NVT/NVE default (sigma^-d)
  double default_pressure;                    // NPT default
  double default_initial_density;             // lattice density of the initial configuration (NPT)
  std::string default_species;                // "paper" or "auto"
  double max_cutoff;                          // largest interaction cutoff (sigma)
  double min_init_distance;                   // smallest lattice spacing of an initial lattice
  // Largest time step (tau) that the configuration accepts: velocity Verlet is stable while
  // omega dt < 2 for the stiffest pair vibration; the reason (shown when a configuration asks
  // for more) says which pair, at what temperature and distance, sets it.
  double max_stable_dt;
  std::string max_dt_reason;
  double isf_k;                           // wave number of the self-ISF (1/sigma)
  std::vector<int> isf_types;             // particle types entering the self-ISF
  std::vector<SpeciesDef> paper_species;  // the paper's tracked list (may be empty)
  // Species summed into C_liq for the length scale xi (analysis default; empty: the model
  // has no published choice and the analysis takes the species whose concentration rises
  // with temperature, docs/ANALYSIS.md).
  std::vector<std::string> liquid_species;
  // Reference species per type for the free energies (analysis default; "" = the species
  // with the largest minimum concentration).
  std::vector<std::string> reference_species;
  std::string reference_reason;  // why, for analysis.json (when any is given)
  // The paper's energy per bound neighbour e in E_i = e i (NVT energy check, Eq. 15), shown
  // beside the fitted e in analysis.json; NaN when the paper gives none.
  double paper_energy_per_neighbor = std::numeric_limits<double>::quiet_NaN();

  // "s5" for (type 0, 5 neighbours) in binary3d.
  std::string species_name(int type, int neighbors) const {
    return species_prefixes[type] + std::to_string(neighbors);
  }
};

// Adds the species prefix+n for n in [n_min, n_max] of one type to `list`.
inline void add_species_range(std::vector<SpeciesDef>& list, const std::string& prefix, int type,
                              int n_min, int n_max) {
  for (int n = n_min; n <= n_max; ++n) list.push_back({prefix + std::to_string(n), type, n});
}

// Throws InputError naming the known models when `name` is not one of them.
const ModelInfo& model_info(const std::string& name);
// The names of every model, in the order of the model list.
std::vector<std::string> model_names();

}  // namespace vitrify
