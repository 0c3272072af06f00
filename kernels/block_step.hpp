#pragma once
// BlockStep<Model>: the block kernel ("kernel": "block"). One team per replica advances its
// replica by a whole block of velocity-Verlet steps, phase by phase with a barrier after each
// (the team model of kernels/team.hpp). Every phase calls the per-particle kernel bodies of
// kernels/*.hpp for the team's own particles, cells or chunks (thread `rank` of `size` takes
// indices rank, rank + size, ...), so the physics is written once:
//
//   ScaleBoxes (NPT; thread 0) -> KickDrift -> largest displacement since the build (per
//   thread, then a fixed tree over the scratch array) -> rebuild flag (thread 0) -> SetupCells
//   (thread 0) -> ResetCells -> AssignCells -> SortCells -> BuildNeighbors (full lists) ->
//   SaveBuildState -> FinishRebuild (thread 0) -> ComputeForces (full lists, no atomics) ->
//   Kick -> ReplicaPartialSums (fixed 256-particle chunks, double) -> FinishStep (thread 0:
//   T, p, thermostat, barostat) -> ScaleVelocities (NVT, NPT).
//
// Positions and types (shared_positions): where they fit in the team's shared memory beside
// the tree (the engine decides from Exec::max_team_scratch: N = 4096 in 3D in single
// precision takes 64 KiB), LoadPositions copies the replica's x, y, z and types into the
// scratch array before the first step, every phase reads and writes them there (the list
// build's and the forces' gathers of neighbour positions become shared-memory reads), and
// StorePositions writes the positions back after the last step.
//
// The per-particle device step (ReplicaEngine::device_step) runs one step as three launches:
// this kernel for the phases ScaleBoxes..FinishRebuild, ForcesKick over every particle of the
// batch, and this kernel again for PartialSums..ScaleVelocities (phase_begin, phase_end).
//
// The neighbour-build phases return at once when the replica's list is still valid. Cells are
// filled through integer atomics and then sorted by particle index (SortCells), so the lists,
// hence every sum, are the same for any thread order and any team size: the block kernel
// reproduces the per-particle kernels of the device path bit for bit. A capacity overflow
// raises the replica's flag as there, and the engine reruns the block (run_device).
#include <stddef.h>

#include "kernels/batch.hpp"
#include "kernels/forces.hpp"
#include "kernels/integrate.hpp"
#include "kernels/neighbor.hpp"
#include "kernels/team.hpp"

namespace vitrify::kernels {

// ComputeForces and the second half-kick of the same particle in one launch (the forces of
// the per-particle device step, ReplicaEngine::device_step): the kick reads only the
// particle's own new force, so the result is bitwise that of the two launches.
// (The force body is a member, not a temporary: a temporary copy of the model's parameter
// tables, indexed by type, would live in the device's local memory.)
template <class Model>
struct ForcesKick {
  ComputeForces<Model> forces;
  real dt;
  VT_HD void operator()(int gid) const {
    forces(gid);
    Kick{forces.b, dt}(gid);
  }
};

// The phases of one step, in program order.
enum BlockPhase : int {
  kBlockLoadPositions,  // first step only, with shared_positions
  kBlockScaleBoxes,
  kBlockKickDrift,
  kBlockDisplacement,
  kBlockDisplacementTree,  // one phase per tree level
  kBlockRebuildFlag,
  kBlockSetupCells,
  kBlockResetCells,
  kBlockAssignCells,
  kBlockSortCells,
  kBlockBuildNeighbors,
  kBlockSaveBuildState,
  kBlockFinishRebuild,
  kBlockForces,
  kBlockKick,
  kBlockPartialSums,
  kBlockFinishStep,
  kBlockScaleVelocities,
  kBlockStorePositions,  // last step only, with shared_positions
  kBlockPhaseCount
};

// The program counter: step, phase and, in the displacement tree, the level's stride.
struct BlockControl {
  long step;
  int phase;
  int stride;
};

template <class Model>
struct BlockStep {
  using Control = BlockControl;

  BatchView b;
  Model model;
  real dt;
  int npt;               // ScaleBoxes and positions scaled by mu in KickDrift
  int scale_velocities;  // c-rescale: v /= mu in KickDrift
  real rc_max, skin, list_radius;
  int cell_dims_cap;
  BuildNeighbors<Model::n_types> build;  // full lists (half == false), list_cut2 set
  int chunks;                            // ReplicaPartialSums chunks per replica
  double* partial;
  int* rebuild_count;
  FinishStep finish;  // its ramp is set per step
  long first, last;   // the steps [first, last) of a run of `total` steps
  long total;
  double ramp_begin, ramp_end;
  // Only the phases [phase_begin, phase_end) of every step (the device step runs a step as
  // two such launches around ForcesKick). step_base (device memory, may be null): added to
  // the step number of the ramp, so that one captured launch serves every block of a run.
  int phase_begin = 0;
  int phase_end = kBlockPhaseCount;
  const long* step_base = nullptr;
  // Positions and types of the team's replica in the scratch array (shared memory on the
  // device) from the first step of the launch to its last: loaded before the first step,
  // stored after the last (types are never written), and every phase in between reads and
  // writes them there (shared_view). Only for a whole-step program (phase_begin 0).
  int shared_positions = 0;

  // The scratch array: one real per thread (the displacement tree), then with
  // shared_positions x, y (, z) and the types of the replica's n particles.
  VT_HD size_t scratch_bytes(int size) const {
    return static_cast<size_t>(size) * sizeof(real) +
           (shared_positions ? shared_position_bytes(b.n, b.dim) : 0);
  }
  VT_HD static size_t shared_position_bytes(int n, int dim) {
    return static_cast<size_t>(n) * (static_cast<size_t>(dim) * sizeof(real) + sizeof(int));
  }

  VT_HD Control start(const TeamContext& t) const {
    Control c{first, phase_begin, 0};
    next_active(c, t.size);
    return c;
  }

  VT_HD bool advance(Control& c, const TeamContext& t) const {
    if (c.phase == kBlockDisplacementTree && c.stride > 1) {
      c.stride /= 2;
      return true;
    }
    ++c.phase;
    return next_active(c, t.size);
  }

  VT_HD void phase(const Control& c, const TeamContext& t, int rank) const {
    const int r = t.team;
    real* scratch = static_cast<real*>(t.scratch);
    const BatchView v = shared_view(t);  // where this launch keeps positions and types
    switch (c.phase) {
      case kBlockLoadPositions:
      case kBlockStorePositions:
        move_positions(v, r, rank, t.size, c.phase == kBlockLoadPositions);
        break;
      case kBlockScaleBoxes:
        if (rank == 0) ScaleBoxes{b, finish.obs}(r);
        break;
      case kBlockKickDrift:
        each_particle(r, rank, t.size, KickDrift{v, dt, finish.obs, npt, scale_velocities});
        break;
      case kBlockDisplacement:
        scratch[rank] = largest_displacement2(v, r, rank, t.size);
        break;
      case kBlockDisplacementTree:
        team_tree_max(scratch, c.stride, rank);
        break;
      case kBlockRebuildFlag:
        if (rank == 0 && !b.rebuild[r] && needs_rebuild(b, r, scratch[0], rc_max, skin))
          b.rebuild[r] = 1;
        break;
      default:
        neighbor_phase(v, c.phase, r, rank, t.size);
        step_end_phase(v, c, r, rank, t.size);
    }
  }

 private:
  VT_HD bool active(const Control& c) const {
    const int phase = c.phase;
    if (phase == kBlockLoadPositions) return shared_positions && c.step == first;
    if (phase == kBlockStorePositions) return shared_positions && c.step == last - 1;
    if (phase == kBlockScaleBoxes) return npt != 0;
    if (phase == kBlockScaleVelocities) return finish.thermostat.enabled != 0;
    return true;
  }

  // Moves c to the next active phase (wrapping to the next step); false after the last step.
  VT_HD bool next_active(Control& c, int size) const {
    for (;;) {
      if (c.phase >= phase_end) {
        c.phase = phase_begin;
        if (++c.step >= last) return false;
      }
      if (c.phase == kBlockDisplacementTree && size == 1) {
        ++c.phase;  // one thread: its value is the maximum
        continue;
      }
      if (active(c)) {
        if (c.phase == kBlockDisplacementTree) c.stride = size / 2;
        return true;
      }
      ++c.phase;
    }
  }

  template <class F>
  VT_HD void each_particle(int r, int rank, int size, const F& f) const {
    for (int i = rank; i < b.n; i += size) f(r * b.n + i);
  }

  template <class F>
  VT_HD void each_cell(int r, int rank, int size, const F& f) const {
    for (int cell = rank; cell < b.max_cells; cell += size) f(r * b.max_cells + cell);
  }

  // The batch as this launch's phases see it: with shared_positions, x, y (, z) and type
  // point into the scratch array, offset so that index r * n + i is particle i of the
  // team's replica r (the only indices the team uses); otherwise the batch itself.
  VT_HD BatchView shared_view(const TeamContext& t) const {
    if (!shared_positions) return b;
    BatchView v = b;
    real* base = static_cast<real*>(t.scratch) + t.size;
    const long offset = static_cast<long>(t.team) * b.n;
    v.x = base - offset;
    v.y = base + b.n - offset;
    if (b.dim == 3) v.z = base + 2 * b.n - offset;
    v.type = reinterpret_cast<int*>(base + static_cast<long>(b.dim) * b.n) - offset;
    return v;
  }

  // Loads the replica's positions and types into the scratch array (load), or stores the
  // positions back into the batch.
  VT_HD void move_positions(const BatchView& v, int r, int rank, int size, bool load) const {
    for (int i = rank; i < b.n; i += size) {
      const int gid = r * b.n + i;
      if (load) {
        v.x[gid] = b.x[gid];
        v.y[gid] = b.y[gid];
        if (b.dim == 3) v.z[gid] = b.z[gid];
        v.type[gid] = b.type[gid];
      } else {
        b.x[gid] = v.x[gid];
        b.y[gid] = v.y[gid];
        if (b.dim == 3) b.z[gid] = v.z[gid];
      }
    }
  }

  // The largest squared displacement since the build among this thread's particles.
  VT_HD real largest_displacement2(const BatchView& v, int r, int rank, int size) const {
    real m = 0;
    for (int i = rank; i < b.n; i += size) {
      const real d2 = build_displacement2(v, r * b.n + i);
      if (d2 > m) m = d2;
    }
    return m;
  }

  // The neighbour-build phases (each returns at once when the list is valid).
  VT_HD void neighbor_phase(const BatchView& v, int phase, int r, int rank, int size) const {
    switch (phase) {
      case kBlockSetupCells:
        if (rank == 0) SetupCells{b, list_radius, cell_dims_cap}(r);
        break;
      case kBlockResetCells:
        each_cell(r, rank, size, ResetCells{b, false});
        break;
      case kBlockAssignCells:
        each_particle(r, rank, size, AssignCells{v, false});
        break;
      case kBlockSortCells:
        each_cell(r, rank, size, SortCells{b, false});
        break;
      case kBlockBuildNeighbors:
        for (int i = rank; i < b.n; i += size)
          BuildNeighbors<Model::n_types>::apply(v, build.list_cut2, false, r * b.n + i);
        break;
      case kBlockSaveBuildState:
        each_particle(r, rank, size, SaveBuildState{v});
        break;
      case kBlockFinishRebuild:
        if (rank == 0) FinishRebuild{b, rebuild_count}(r);
        break;
      default:
        break;
    }
  }

  // Forces, the second kick, the replica's sums and the ensemble components.
  VT_HD void step_end_phase(const BatchView& v, const Control& c, int r, int rank, int size) const {
    switch (c.phase) {
      case kBlockForces:
        for (int i = rank; i < b.n; i += size) ComputeForces<Model>::apply(v, model, r * b.n + i);
        break;
      case kBlockKick:
        each_particle(r, rank, size, Kick{b, dt});
        break;
      case kBlockPartialSums:
        for (int k = rank; k < chunks; k += size)
          ReplicaPartialSums{b, chunks, partial}(r * chunks + k);
        break;
      case kBlockFinishStep:
        if (rank == 0) {
          FinishStep f = finish;
          const long s = c.step + (step_base ? *step_base : 0);
          f.ramp = real(ramp_fraction(s, total, ramp_begin, ramp_end));
          f(r);
        }
        break;
      case kBlockScaleVelocities:
        each_particle(r, rank, size, ScaleVelocities{b, finish.obs});
        break;
      default:
        break;
    }
  }
};

}  // namespace vitrify::kernels
