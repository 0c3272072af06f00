#pragma once
// Trajectories in H5MD 1.1 (HDF5; docs/OUTPUTS.md, "trajectory/replica_NNN.h5"): one file per
// replica, frames appended during production every `trajectory_interval` steps, flushed after
// each frame, and truncated on resume to the frames at or before the checkpoint's step.
//
//   /h5md                      version = [1, 1]; author/name, creator/name + version
//   /particles/all/box         dimension, boundary = "periodic" x d
//   /particles/all/box/edges   step [n], time [n], value [n][d]         (the box per frame)
//   /particles/all/position    step [n], time [n], value [n][N][d] float (wrapped into the box)
//   /particles/all/image       step [n], time [n], value [n][N][d] int   (periodic images)
//   /particles/all/species     [N] int (the particle types, time-independent)
//   /parameters/vitrify        model, replica, temperature, type_names (attributes)
//
// Unwrapped positions are position + image * edges. Time is in tau, step is the scan step.
#include <memory>
#include <string>
#include <vector>

#include "vitrify/core/real.hpp"

namespace vitrify {

// True in builds with HDF5 (trajectories available).
bool h5md_available();

// One frame of one replica.
struct TrajectoryFrame {
  long step = 0;
  double time = 0.0;
  const double* box = nullptr;  // d edges
  // N entries each; z ignored in 2D. Positions are stored as float.
  const real *x = nullptr, *y = nullptr, *z = nullptr;
  const int *img_x = nullptr, *img_y = nullptr, *img_z = nullptr;
};

// The per-replica file. Opening a path that exists (a resume) keeps the frames whose step is
// <= keep_until_step and drops later ones (written after the checkpoint the run resumes from);
// a new file is created otherwise (keep_until_step < 0: always a new file).
class H5mdWriter {
 public:
  struct Info {
    std::string model;
    int replica = 0;
    double temperature = 0.0;
    int dimension = 3;
    std::vector<std::string> type_names;
    std::vector<int> types;  // N particle types
  };
  H5mdWriter(const std::string& path, const Info& info, long keep_until_step);
  ~H5mdWriter();
  H5mdWriter(const H5mdWriter&) = delete;
  H5mdWriter& operator=(const H5mdWriter&) = delete;

  void append(const TrajectoryFrame& frame);  // writes and flushes
  long frames() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads a whole trajectory back (tests, tools): positions and images [frame][particle][d].
struct TrajectoryData {
  int dimension = 0;
  int n = 0;
  std::vector<long> step;
  std::vector<double> time;
  std::vector<double> edges;    // [frame][d]
  std::vector<float> position;  // [frame][n][d]
  std::vector<int> image;       // [frame][n][d]
  std::vector<int> species;     // [n]
  std::string model;
};
TrajectoryData read_h5md(const std::string& path);

}  // namespace vitrify
