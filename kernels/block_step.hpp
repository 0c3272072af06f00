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
template <class Model>
struct ForcesKick {
  BatchView b;
  Model model;
  real dt;
  VT_HD void operator()(int gid) const {
    ComputeForces<Model>{b, model}(gid);
    Kick{b, dt}(gid);
  }
};

// The phases of one step, in program order.
enum BlockPhase : int {
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

  // The scratch array: one real per thread (the displacement tree).
  VT_HD static size_t scratch_bytes(int size) { return static_cast<size_t>(size) * sizeof(real); }

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
    switch (c.phase) {
      case kBlockScaleBoxes:
        if (rank == 0) ScaleBoxes{b, finish.obs}(r);
        break;
      case kBlockKickDrift:
        each_particle(r, rank, t.size, KickDrift{b, dt, finish.obs, npt, scale_velocities});
        break;
      case kBlockDisplacement:
        scratch[rank] = largest_displacement2(r, rank, t.size);
        break;
      case kBlockDisplacementTree:
        team_tree_max(scratch, c.stride, rank);
        break;
      case kBlockRebuildFlag:
        if (rank == 0 && !b.rebuild[r] && needs_rebuild(b, r, scratch[0], rc_max, skin))
          b.rebuild[r] = 1;
        break;
      default:
        neighbor_phase(c.phase, r, rank, t.size);
        step_end_phase(c, r, rank, t.size);
    }
  }

 private:
  VT_HD bool active(int phase) const {
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
      if (active(c.phase)) {
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

  // The largest squared displacement since the build among this thread's particles.
  VT_HD real largest_displacement2(int r, int rank, int size) const {
    real m = 0;
    for (int i = rank; i < b.n; i += size) {
      const real d2 = build_displacement2(b, r * b.n + i);
      if (d2 > m) m = d2;
    }
    return m;
  }

  // The neighbour-build phases (each returns at once when the list is valid).
  VT_HD void neighbor_phase(int phase, int r, int rank, int size) const {
    switch (phase) {
      case kBlockSetupCells:
        if (rank == 0) SetupCells{b, list_radius, cell_dims_cap}(r);
        break;
      case kBlockResetCells:
        each_cell(r, rank, size, ResetCells{b, false});
        break;
      case kBlockAssignCells:
        each_particle(r, rank, size, AssignCells{b, false});
        break;
      case kBlockSortCells:
        each_cell(r, rank, size, SortCells{b, false});
        break;
      case kBlockBuildNeighbors:
        each_particle(r, rank, size, build);
        break;
      case kBlockSaveBuildState:
        each_particle(r, rank, size, SaveBuildState{b});
        break;
      case kBlockFinishRebuild:
        if (rank == 0) FinishRebuild{b, rebuild_count}(r);
        break;
      default:
        break;
    }
  }

  // Forces, the second kick, the replica's sums and the ensemble components.
  VT_HD void step_end_phase(const Control& c, int r, int rank, int size) const {
    switch (c.phase) {
      case kBlockForces:
        each_particle(r, rank, size, ComputeForces<Model>{b, model});
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
