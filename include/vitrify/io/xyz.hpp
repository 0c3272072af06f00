#pragma once
// Extended XYZ snapshots (docs/PHYSICS.md, "Configuration files"): line 1 the particle count;
// line 2 Lattice="Lx 0 0 0 Ly 0 0 0 Lz" Properties=species:S:1:pos:R:3[...] model=NAME
// pbc="T T T"; then one particle per line. The writer puts element symbols (by type: H, He, ...)
// in species, so that ASE and other readers accept the files, and the model's type names in a
// type_name:S:1 column; the reader takes the type names from type_name when present, else from
// species (older files). Orthogonal boxes only; positions are wrapped into the box on reading.
#include <iosfwd>
#include <string>
#include <vector>

#include "vitrify/core/batch_state.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify {

struct XyzFrame {
  int dim = 3;
  double box[3] = {1, 1, 1};
  std::string model;                 // model=NAME of the comment line ("" when absent)
  std::vector<std::string> species;  // per particle: the model's type name
  std::vector<double> x, y, z;
  bool has_velocities = false;  // a vel:R:3 column was read into vx, vy, vz
  std::vector<double> vx, vy, vz;
};

// Parses a frame; InputError names the source and the line on any problem. `dimension` 0: the
// dimension of the model named by model= in the comment line (InputError when there is none).
XyzFrame read_xyz(std::istream& in, const std::string& source, int dimension);
XyzFrame read_xyz_file(const std::string& path, int dimension);

// Converts a frame into a one-replica BatchState of `model` (species names -> types; wraps
// positions; velocities from the frame when it has them, else zero).
BatchState frame_to_state(const XyzFrame& frame, const ModelInfo& model, const std::string& source);

// The element symbol written in the species column for particle type `type` (H, He, Li, ...
// by type index; "X" beyond the list).
std::string xyz_element(int type);

// Writes replica r of a state (wrapped positions and velocities; model=NAME in the comment).
void write_xyz(std::ostream& out, const BatchState& s, int replica, const ModelInfo& model,
               const std::string& comment = "");

}  // namespace vitrify
