#pragma once
// The replica batch as host data: BatchState (positions, velocities, types, images, boxes) and
// EngineCheckpoint (a batch plus the engine arrays that continue it exactly). Plain types
// shared by the engine, the readers and writers (io) and the scan driver.
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "vitrify/core/real.hpp"

namespace vitrify {

// Host copy of the whole batch; arrays are indexed by gid = replica * n + i.
struct BatchState {
  int n_replicas = 0;
  int n = 0;
  int dim = 3;
  std::vector<real> x, y, z, vx, vy, vz;
  std::vector<int> type, img_x, img_y, img_z;
  std::vector<real> box;  // 3 per replica
  // Sizes every array for `replicas` x `particles` (zeros; boxes of edge 1).
  void resize(int replicas, int particles, int dimension) {
    n_replicas = replicas;
    n = particles;
    dim = dimension;
    const std::size_t nt = static_cast<std::size_t>(replicas) * particles;
    for (auto* v : {&x, &y, &z, &vx, &vy, &vz}) v->assign(nt, real(0));
    for (auto* v : {&type, &img_x, &img_y, &img_z}) v->assign(nt, 0);
    box.assign(3 * static_cast<std::size_t>(replicas), real(1));
  }
};

// One engine array saved beside the batch: its elements as raw bytes, replica-major (every
// replica holds the same number of elements). The element type is the engine's business
// (ReplicaEngine::for_each_array declares it); as<T>() and put() convert.
struct SavedArray {
  std::vector<std::uint8_t> bytes;
  template <class T>
  std::vector<T> as() const {
    std::vector<T> v(bytes.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
    return v;
  }
  template <class T>
  static SavedArray of(const std::vector<T>& v) {
    SavedArray a;
    a.bytes.resize(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(a.bytes.data(), v.data(), a.bytes.size());
    return a;
  }
};

// Everything an engine needs to continue a trajectory bit for bit (see save_state): the
// batch, and the engine arrays its table marks as saved (ReplicaEngine::for_each_array): the
// neighbour-list build state (positions and boxes at the last build; rebuilding from them
// reproduces the same lists and so the same force summation order), the observables of the
// last step (the barostat's scaling factor is applied at the start of the next step), the
// build counters and the ensemble components' state; plus the list capacities.
struct EngineCheckpoint {
  BatchState state;
  std::map<std::string, SavedArray> arrays;  // by name; empty arrays are not stored
  int max_neighbors = 0;                     // neighbour capacity per particle
  int cell_capacity = 0;                     // particles per cell capacity
};

}  // namespace vitrify
