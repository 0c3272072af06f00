#pragma once
// CPU emulation of the team (block-kernel) execution model (kernels/team.hpp): the execution
// policy of `--backend cpu --kernel block`. Memory and per-index launches are CpuExec's; the
// engine takes the device code path (host_memory == false: lazy overflow checks, block-start
// copies and reruns, entry-major full lists, as CudaExec), and runs its step loop as one team
// kernel per block of steps (ReplicaEngine::run_steps).
//
// launch_teams runs the teams in parallel (OpenMP, one team per work item) and each team
// sequentially: every phase for every thread rank in `order`, then the next phase, so a
// barrier separates every phase as __syncthreads() does on the device. The scratch array
// starts filled with NaN bytes, as uninitialised shared memory would be. A kernel that obeys
// the rules of kernels/team.hpp gives bitwise the same result for every thread order; the
// tests run the reverse and a strided order to catch a phase that reads what another thread
// writes in the same phase (a missing barrier).
//
// Graphs, emulated: capture(graph, record) calls record() with every launch stored in `graph`
// (the kernel object by value, as a CUDA stream capture stores its parameters) instead of
// run; replay(graph) runs the stored launches in order. A captured launch therefore sees the
// pointers and parameters of its capture, not those of its replay, exactly as on the device.
#include <cstddef>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernels/team.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/exec_cpu.hpp"

namespace vitrify {

// The order in which the emulation runs a team's threads within a phase.
enum class TeamThreadOrder { kForward, kReverse, kStrided };

struct CpuTeamExec : CpuExec {
  static constexpr bool host_memory = false;
  static constexpr const char* name = "cpu";
  static constexpr bool neighbors_particle_major = false;
  static constexpr bool half_lists = false;
  static constexpr bool team_kernels = true;

  // Threads per emulated team (a power of two; results do not depend on it) and their order
  // within a phase: settings for tests.
  static inline int threads_per_team = 64;
  static inline TeamThreadOrder thread_order = TeamThreadOrder::kForward;

  static int team_size() { return threads_per_team; }

  // The most scratch bytes a team may have: Hopper's shared memory per block (opt-in), so that
  // the emulation takes the same decisions as the device; a setting for tests.
  static inline std::size_t team_scratch_limit = 227 * 1024;
  static std::size_t max_team_scratch() { return team_scratch_limit; }
  // The scratch bytes per team of the last team launch (for tests).
  static inline std::size_t last_scratch_bytes = 0;

  template <class F>
  void launch(long n, const F& f) const {
    if (recording_) {
      recording_->nodes_.push_back([this, n, f] { CpuExec::launch(n, f); });
      return;
    }
    CpuExec::launch(n, f);
  }

  template <class K>
  void launch_teams(int teams, const K& kernel) const {
    if (recording_) {
      recording_->nodes_.push_back([this, teams, kernel] { launch_teams(teams, kernel); });
      return;
    }
    const int size = team_size();
    if (!kernels::valid_team_size(size))
      throw SimulationError("team size " + std::to_string(size) + " is not a power of two");
    last_scratch_bytes = kernel.scratch_bytes(size);
    if (last_scratch_bytes > max_team_scratch())
      throw SimulationError("a team kernel needs " + std::to_string(last_scratch_bytes) +
                            " bytes of scratch, more than the " +
                            std::to_string(max_team_scratch()) + " a team may have");
#pragma omp parallel for schedule(static, 1) if (teams >= 2)
    for (int t = 0; t < teams; ++t) run_team(t, size, kernel);
  }

  // A captured sequence of launches (see the header).
  class Graph {
   public:
    std::size_t nodes() const { return nodes_.size(); }

   private:
    friend struct CpuTeamExec;
    std::vector<std::function<void()>> nodes_;
  };

  template <class F>
  void capture(Graph& graph, const F& record) const {
    graph.nodes_.clear();
    recording_ = &graph;
    try {
      record();
    } catch (...) {
      recording_ = nullptr;
      graph.nodes_.clear();
      throw;
    }
    recording_ = nullptr;
  }

  void replay(const Graph& graph) const {
    for (const auto& node : graph.nodes_) node();
  }

  template <class T>
  static void copy(Buffer<T>& dst, const Buffer<T>& src) {
    dst = src;
  }
  // Host memory: the run's memory estimate checks it (src/engine/memory.cpp).
  static void require_free_memory(std::size_t, const std::string&) {}
  static std::string device_name() { return "host, block-kernel emulation"; }

 private:
  // Thread rank of the k-th thread run in a phase.
  static int rank_at(int k, int size) {
    switch (thread_order) {
      case TeamThreadOrder::kReverse:
        return size - 1 - k;
      case TeamThreadOrder::kStrided:  // an odd multiplier permutes a power-of-two range
        return static_cast<int>((static_cast<long>(k) * 5 + 3) % size);
      default:
        return k;
    }
  }

  mutable Graph* recording_ = nullptr;  // capture(): where launches go instead

  template <class K>
  static void run_team(int team, int size, const K& kernel) {
    const std::size_t bytes = kernel.scratch_bytes(size);
    std::vector<double> scratch((bytes + sizeof(double) - 1) / sizeof(double) + 1);
    std::memset(scratch.data(), 0xff, scratch.size() * sizeof(double));
    const kernels::TeamContext ctx{team, size, scratch.data()};
    auto control = kernel.start(ctx);
    do {
      for (int k = 0; k < size; ++k) kernel.phase(control, ctx, rank_at(k, size));
    } while (kernel.advance(control, ctx));
  }
};

}  // namespace vitrify
