#pragma once
// Extended XYZ snapshots (docs/PHYSICS.md, "Configuration files"): line 1 the particle count;
// line 2 Lattice="Lx 0 0 0 Ly 0 0 0 Lz" Properties=species:S:1:pos:R:3[...] pbc="T T T"; then
// one particle per line. Orthogonal boxes only; positions are wrapped into the box on reading.
#include <iosfwd>
#include <string>
#include <vector>

#include "vitrify/core/batch_state.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify {

struct XyzFrame {
  int dim = 3;
  double box[3] = {1, 1, 1};
  std::vector<std::string> species;  // per particle
  std::vector<double> x, y, z;
};

// Parses a frame; InputError names the source and the line on any problem.
XyzFrame read_xyz(std::istream& in, const std::string& source, int dimension);
XyzFrame read_xyz_file(const std::string& path, int dimension);

// Converts a frame into a one-replica BatchState of `model` (species names -> types; wraps
// positions; zero velocities).
BatchState frame_to_state(const XyzFrame& frame, const ModelInfo& model, const std::string& source);

// Writes replica r of a state (wrapped positions and velocities).
void write_xyz(std::ostream& out, const BatchState& s, int replica, const ModelInfo& model,
               const std::string& comment = "");

}  // namespace vitrify
