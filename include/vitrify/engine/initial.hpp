#pragma once
// Initial configurations: particles on the sites of a simple-cubic (3D) or square (2D)
// lattice at the requested density, sites and types chosen at random from the seed, and
// Maxwell-Boltzmann velocities at a temperature with zero total momentum. The driver then
// melts the lattice at the melting temperature. Same seed -> same configuration.
#include <cstdint>

#include "vitrify/engine/engine.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify {

// Seed of replica r derived from the run seed (splitmix64), so replicas are independent.
std::uint64_t replica_seed(std::uint64_t seed, int replica);

// Fills replica r of `state` (already sized) with a lattice configuration.
void make_lattice_replica(BatchState& state, int replica, const ModelInfo& model, double density,
                          double temperature, std::uint64_t seed);

// Draws velocities at temperature T (zero momentum, kinetic temperature exactly T).
void assign_velocities(BatchState& state, int replica, double temperature, std::uint64_t seed);

}  // namespace vitrify
