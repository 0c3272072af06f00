#pragma once
// ReplicaEngine<Exec, Model>: the step loop, written once over an execution policy.
// Exec supplies memory (Buffer<T>, allocate/upload/download/fill/ptr) and launch(n, body);
// every physics operation is a kernel body from kernels/*.hpp. The CPU backend instantiates
// it with CpuExec; a CUDA backend instantiates the same template with its own policy.
// Policies whose memory is not host memory (host_memory == false, e.g. CudaExec) also supply
// copy (buffer to buffer), require_free_memory and device_name; see run_device().
// Exec::half_lists selects the neighbour-list form: full lists and one thread per particle
// (GPU), or every pair once with per-range accumulation (CPU; needs Exec::launch_coarse).
//
// Every engine array is declared once, in for_each_array(): its name, size, roles and where
// the kernels see it. Allocation, the kernels' BatchView, the BatchState exchange, checkpoints,
// the device path's block-start copy and the device-memory estimate are all derived from it.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "kernels/batch.hpp"
#include "kernels/block_step.hpp"
#include "kernels/ensemble.hpp"
#include "kernels/forces.hpp"
#include "kernels/integrate.hpp"
#include "kernels/isf.hpp"
#include "kernels/neighbor.hpp"
#include "kernels/species.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/ensemble.hpp"

namespace vitrify {

// Roles of an engine array (ArrayUse::roles).
enum ArrayRole : unsigned {
  kRoleState = 1,   // part of BatchState: uploaded by set_state, read by get_state
  kRoleSaved = 2,   // saved in EngineCheckpoint::arrays (with the state: a checkpoint)
  kRoleBlock = 4,   // device path: copied at a block start and restored for a rerun
  kRoleTarget = 8,  // set by set_targets or set_replica_ids, not by set_state
};

// One line of the engine's array table (see ReplicaEngine::for_each_array).
template <class T>
struct ArrayUse {
  using value_type = T;
  const char* name;
  std::size_t size;                             // elements for the current batch and capacities
  unsigned roles;                               // ArrayRole bits
  T* kernels::BatchView::*view = nullptr;       // where kernel bodies see it (if they do)
  std::vector<T> BatchState::*state = nullptr;  // its BatchState member (kRoleState)
};

// Whether a policy runs team kernels (kernels/team.hpp), hence the block kernel.
template <class Exec, class = void>
struct IsTeamPolicy : std::false_type {};
template <class Exec>
struct IsTeamPolicy<Exec, std::void_t<decltype(Exec::team_kernels)>>
    : std::bool_constant<Exec::team_kernels> {};

// Whether a policy captures and replays graphs of launches (Exec::Graph, capture, replay).
template <class Exec, class = void>
struct IsGraphPolicy : std::false_type {};
template <class Exec>
struct IsGraphPolicy<Exec, std::void_t<typename Exec::Graph>> : std::true_type {};

// The captured graphs of a policy (an empty type where it has none).
template <class Exec, class GraphKey, class = void>
struct GraphCache {
  bool empty() const { return true; }
};
template <class Exec, class GraphKey>
struct GraphCache<Exec, GraphKey, std::void_t<typename Exec::Graph>>
    : std::vector<std::pair<GraphKey, typename Exec::Graph>> {};

template <class Exec, class Model>
class ReplicaEngine final : public Engine {
  template <class T>
  using Buf = typename Exec::template Buffer<T>;

 public:
  ReplicaEngine(const std::string& model_name, const EngineSettings& settings)
      : model_name_(model_name), settings_(settings), model_(Model::make()) {
    block_kernel_ = settings.kernel == KernelKind::kBlock;
    if (block_kernel_ && !block_kernel_supported())
      throw InputError(std::string("the block kernel needs a team policy with device-path ") +
                       "memory; the \"" + Exec::name + "\" policy has none");
  }

  static constexpr bool kHalf = Exec::half_lists;

  std::string backend_name() const override { return Exec::name; }
  std::string model_name() const override { return model_name_; }
  std::string kernel_name() const override { return block_kernel_ ? "block" : "per-particle"; }
  std::string device_name() const override {
    if constexpr (Exec::host_memory) {
      return Engine::device_name();
    } else {
      return Exec::device_name();
    }
  }

  void set_state(const BatchState& s) override {
    if (s.dim != Model::dimension)
      throw InputError("batch dimension " + std::to_string(s.dim) + " does not match model " +
                       model_name_);
    R_ = s.n_replicas;
    N_ = s.n;
    isf_m_ = isf_slots_ = 0;  // a new batch: the ISF frames are the sampler's to bring back
    chunks_ = (N_ + kernels::kReduceChunk - 1) / kernels::kReduceChunk;
    plan_cells(s);
    plan_neighbors(s);
    if constexpr (!Exec::host_memory) require_device_memory();
    const bool new_targets = t_start_.size() != static_cast<std::size_t>(R_);
    const bool new_ids = replica_id_.size() != static_cast<std::size_t>(R_);
    for_each_array([&](const auto& use, auto& buf) {
      if (use.roles & kRoleState) {
        upload_or_zero(buf, s.*use.state, use.size);
      } else if (!(use.roles & kRoleTarget) || new_targets) {
        Exec::allocate(buf, use.size);
      }
    });
    if (new_targets) {
      const std::vector<real> one(R_, real(1));
      Exec::upload(t_start_, one);
      Exec::upload(t_end_, one);
      Exec::upload(p_target_, one);
    }
    if (new_ids) {  // set_replica_ids was not called for a batch of this size
      std::vector<int> ids(R_);
      for (int r = 0; r < R_; ++r) ids[r] = r;
      Exec::upload(replica_id_, ids);
    }
    Exec::allocate(step_base_, 1);
    Exec::fill(rebuild_, 1);
    update_neighbors(true);
    compute_forces();
    reduce_and_finish(1.0, /*apply=*/false);
  }

  void get_state(BatchState& s) override {
    s.n_replicas = R_;
    s.n = N_;
    s.dim = Model::dimension;
    for_each_array([&](const auto& use, auto& buf) {
      if (use.roles & kRoleState) Exec::download(s.*use.state, buf);
    });
  }

  void set_targets(const std::vector<double>& t_start, const std::vector<double>& t_end,
                   const std::vector<double>& p_target) override {
    auto conv = [](const std::vector<double>& v) { return std::vector<real>(v.begin(), v.end()); };
    Exec::upload(t_start_, conv(t_start));
    Exec::upload(t_end_, conv(t_end));
    Exec::upload(p_target_, conv(p_target));
  }

  void set_replica_ids(const std::vector<int>& ids) override {
    if (ids.size() != static_cast<std::size_t>(R_))
      throw InputError("set_replica_ids: " + std::to_string(ids.size()) + " ids for a batch of " +
                       std::to_string(R_) + " replicas");
    for (int id : ids)
      if (id < 0) throw InputError("set_replica_ids: negative replica id " + std::to_string(id));
    Exec::upload(replica_id_, ids);
  }

  void run(long steps, double ramp_begin, double ramp_end) override {
    if constexpr (!Exec::host_memory) {
      run_device(steps, ramp_begin, ramp_end);
    } else {
      for (long s = 0; s < steps; ++s) step(ramp_at(s, steps, ramp_begin, ramp_end));
    }
  }

  std::size_t batch_bytes(int replicas, int n, double box_edge) const override {
    ReplicaEngine probe(model_name_, settings_);  // holds no memory until set_state
    probe.R_ = replicas;
    probe.N_ = n;
    probe.chunks_ = (n + kernels::kReduceChunk - 1) / kernels::kReduceChunk;
    const double volume = std::pow(box_edge, Model::dimension);
    probe.plan_cell_capacity(box_edge, volume);
    probe.plan_neighbor_capacity(volume);
    return probe.array_bytes();
  }

  void observables(std::vector<double>& out) override { Exec::download(out, obs_); }

  void species_neighbor_counts(std::vector<int>& out) override {
    update_neighbors(false);
    count_species_here();
    Exec::download(out, species_n_);
  }

  // The quasi-species neighbour counts into species_n_ (lists up to date).
  void count_species_here() {
    const long nt = static_cast<long>(R_) * N_;
    if constexpr (kHalf) {
      exec_.launch_coarse(
          static_cast<long>(R_) * kernels::kHalfChunks, nt,
          kernels::CountSpeciesNeighborsHalf<Model>{view(), model_, Exec::ptr(species_acc_)});
      exec_.launch(nt, kernels::SumHalfSpeciesCounts{view(), Exec::ptr(species_acc_),
                                                     Exec::ptr(species_n_)});
    } else {
      exec_.launch(nt,
                   kernels::CountSpeciesNeighbors<Model>{view(), model_, Exec::ptr(species_n_)});
    }
  }

  void particle_energies(std::vector<real>& u_i) override { Exec::download(u_i, u_i_); }

  void bound_energies(std::vector<real>& out) override {
    update_neighbors(false);
    bound_energies_here();
    Exec::download(out, u_bound_);
  }

  // The bound energies into u_bound_ (lists up to date).
  void bound_energies_here() {
    const long nt = static_cast<long>(R_) * N_;
    if constexpr (kHalf) {
      exec_.launch_coarse(static_cast<long>(R_) * kernels::kHalfChunks, nt,
                          kernels::BoundEnergiesHalf<Model>{view(), model_, Exec::ptr(bound_acc_)});
      exec_.launch(
          nt, kernels::SumHalfBoundEnergies{view(), Exec::ptr(bound_acc_), Exec::ptr(u_bound_)});
    } else {
      exec_.launch(nt, kernels::BoundEnergies<Model>{view(), model_, Exec::ptr(u_bound_)});
    }
  }

  // The summary where the particles are (kernels/species.hpp: SpeciesBinsPartial/Combine):
  // R * (bins * (4 + 32) + 4) bytes copied instead of three per-particle arrays.
  void species_summary(int n_types, int max_n, SpeciesSummary& out) override {
    update_neighbors(false);
    count_species_here();
    bound_energies_here();
    const int bins = n_types * max_n;
    const std::size_t nr = R_, parts = nr * kernels::kSpeciesChunks;
    auto fit = [](auto& buf, std::size_t n) {
      if (buf.size() != n) Exec::allocate(buf, n);
    };
    fit(summary_count_part_, parts * bins);
    fit(summary_sums_part_, parts * bins * kernels::kSpeciesSums);
    fit(summary_overflow_part_, parts);
    fit(summary_count_, nr * bins);
    fit(summary_sums_, nr * bins * kernels::kSpeciesSums);
    fit(summary_overflow_, nr);
    const kernels::SpeciesBinsPartial partial{Exec::ptr(type_),
                                              Exec::ptr(species_n_),
                                              Exec::ptr(u_i_),
                                              Exec::ptr(u_bound_),
                                              N_,
                                              max_n,
                                              bins,
                                              Exec::ptr(summary_count_part_),
                                              Exec::ptr(summary_sums_part_),
                                              Exec::ptr(summary_overflow_part_)};
    if constexpr (Exec::host_memory)  // a few heavy items: parallel from two on
      exec_.launch_coarse(static_cast<long>(parts), static_cast<long>(nr) * N_, partial);
    else
      exec_.launch(static_cast<long>(parts), partial);
    exec_.launch(static_cast<long>(nr) * bins,
                 kernels::SpeciesBinsCombine{
                     Exec::ptr(summary_count_part_), Exec::ptr(summary_sums_part_),
                     Exec::ptr(summary_overflow_part_), bins, Exec::ptr(summary_count_),
                     Exec::ptr(summary_sums_), Exec::ptr(summary_overflow_)});
    out.replicas = R_;
    out.bins = bins;
    Exec::download(out.count, summary_count_);
    Exec::download(out.sums, summary_sums_);
    Exec::download(out.overflow, summary_overflow_);
  }

  // ---- self-ISF frames where the particles are (Engine::isf_frame, kernels/isf.hpp) --------
  bool isf_frames_here() const override { return !Exec::host_memory; }

  void isf_select(int dim, double k, int m, const std::vector<int>& selected) override {
    if constexpr (Exec::host_memory)
      throw SimulationError("the " + std::string(Exec::name) +
                            " policy keeps no ISF frames: the sampler reads the positions");
    if (dim != Model::dimension || m < 1 ||
        selected.size() != static_cast<std::size_t>(R_) * static_cast<std::size_t>(m))
      throw std::invalid_argument("isf_select: the selection does not fit the batch");
    for (int i : selected)
      if (i < 0 || i >= N_) throw std::invalid_argument("isf_select: particle index out of range");
    isf_dim_ = dim;
    isf_k_ = k;
    isf_m_ = m;
    isf_slots_ = 0;
    Exec::upload(isf_selected_, selected);
    Exec::allocate(isf_com_partial_, static_cast<std::size_t>(R_) * dim * kernels::kIsfChunks);
    Exec::allocate(isf_current_, static_cast<std::size_t>(R_) * dim * m);
    Exec::allocate(isf_store_, 0);
  }

  int isf_slots() const override { return isf_slots_; }

  void isf_frame(int slots, int copy_from, int copy_to, const std::vector<int>& origins,
                 const std::vector<int>& stores, std::vector<double>& sums) override {
    if (isf_m_ == 0) throw std::logic_error("isf_frame before isf_select");
    const long frame = static_cast<long>(R_) * isf_dim_ * isf_m_;  // one slot, all replicas
    if (slots > isf_slots_) {  // a new level: a larger store, the old slots kept
      Buf<double> grown;
      Exec::allocate(grown, static_cast<std::size_t>(slots) * frame);
      Exec::fill(grown, 0.0);
      if (isf_slots_ > 0)
        exec_.launch(isf_slots_ * frame,
                     kernels::CopyDoubles{Exec::ptr(isf_store_), Exec::ptr(grown)});
      std::swap(isf_store_, grown);
      isf_slots_ = slots;
    }
    auto in_store = [&](int slot) {
      if (slot < 0 || slot >= isf_slots_) throw std::logic_error("isf_frame: slot out of range");
      return Exec::ptr(isf_store_) + slot * frame;
    };
    const kernels::BatchView b = view();
    exec_.launch(static_cast<long>(R_) * isf_dim_ * kernels::kIsfChunks,
                 kernels::IsfCentrePartial{b.x, b.y, b.z, b.img_x, b.img_y, b.img_z, b.box,
                                           Exec::ptr(isf_selected_), N_, isf_m_, isf_dim_,
                                           Exec::ptr(isf_com_partial_)});
    exec_.launch(frame,
                 kernels::IsfCurrentFrame{b.x, b.y, b.z, b.img_x, b.img_y, b.img_z, b.box,
                                          Exec::ptr(isf_selected_), N_, isf_m_, isf_dim_,
                                          Exec::ptr(isf_com_partial_), Exec::ptr(isf_current_)});
    if (copy_from >= 0)
      exec_.launch(frame, kernels::CopyDoubles{in_store(copy_from), in_store(copy_to)});
    const int n_origins = static_cast<int>(origins.size());
    if (n_origins > 0) {
      for (int o : origins) in_store(o);
      Exec::upload(isf_origins_, origins);
      const long parts = static_cast<long>(n_origins) * R_ * kernels::kIsfChunks;
      if (isf_sweep_partial_.size() < static_cast<std::size_t>(parts))
        Exec::allocate(isf_sweep_partial_, static_cast<std::size_t>(parts));
      if (isf_sums_.size() != static_cast<std::size_t>(n_origins) * R_)
        Exec::allocate(isf_sums_, static_cast<std::size_t>(n_origins) * R_);
      exec_.launch(parts,
                   kernels::IsfSweepPartial{isf_dim_, isf_m_, R_, isf_k_, Exec::ptr(isf_current_),
                                            Exec::ptr(isf_store_), Exec::ptr(isf_origins_),
                                            Exec::ptr(isf_sweep_partial_)});
      exec_.launch(static_cast<long>(R_) * n_origins,
                   kernels::IsfSweepCombine{R_, n_origins, Exec::ptr(isf_sweep_partial_),
                                            Exec::ptr(isf_sums_)});
      Exec::download(sums, isf_sums_);
    } else {
      sums.clear();
    }
    for (int slot : stores)
      exec_.launch(frame, kernels::CopyDoubles{Exec::ptr(isf_current_), in_store(slot)});
  }

  void isf_read_slots(std::vector<double>& out) override {
    if (isf_slots_ == 0) {
      out.clear();
      return;
    }
    Exec::download(out, isf_store_);
  }

  void isf_write_slots(int slots, const std::vector<double>& in) override {
    if (isf_m_ == 0) throw std::logic_error("isf_write_slots before isf_select");
    const std::size_t frame = static_cast<std::size_t>(R_) * isf_dim_ * isf_m_;
    if (slots < 0 || in.size() != static_cast<std::size_t>(slots) * frame)
      throw std::invalid_argument("isf_write_slots: wrong number of values");
    Exec::upload(isf_store_, in);
    isf_slots_ = slots;
  }

  void forces(std::vector<real>& fx, std::vector<real>& fy, std::vector<real>& fz) override {
    Exec::download(fx, fx_);
    Exec::download(fy, fy_);
    Exec::download(fz, fz_);
  }

  std::vector<int> neighbors_of(long gid) override {
    std::vector<int> counts, list;
    Exec::download(counts, nbr_count_);
    Exec::download(list, nbr_list_);
    const kernels::BatchView b = view();
    std::vector<int> out;
    for (int k = 0; k < counts[gid]; ++k) out.push_back(list[b.nbr_index(gid, k)]);
    if constexpr (kHalf) {  // the pairs listed from the other end
      const long base = gid / N_ * N_;
      for (long g = base; g < base + N_; ++g)
        for (int k = 0; k < counts[g]; ++k)
          if (list[b.nbr_index(g, k)] == gid) out.push_back(static_cast<int>(g));
    }
    return out;
  }

  void save_state(EngineCheckpoint& out) override {
    get_state(out.state);
    out.arrays.clear();
    for_each_array([&](const auto& use, auto& buf) {
      using T = typename std::decay_t<decltype(use)>::value_type;
      if (!(use.roles & kRoleSaved) || use.size == 0) return;
      std::vector<T> host;
      Exec::download(host, buf);
      out.arrays[use.name] = SavedArray::of(host);
    });
    out.max_neighbors = max_neighbors_;
    out.cell_capacity = cell_capacity_;
  }

  // Rebuilds every list from the saved build positions and boxes (the same cells, the same
  // order), then puts the current positions back and recomputes the forces with those lists.
  void load_state(const EngineCheckpoint& in) override {
    set_state(in.state);
    for_each_array([&](const auto& use, auto&) {
      using T = typename std::decay_t<decltype(use)>::value_type;
      if (!(use.roles & kRoleSaved)) return;
      const auto it = in.arrays.find(use.name);
      const std::size_t have = it == in.arrays.end() ? 0 : it->second.bytes.size();
      if (have != use.size * sizeof(T))
        throw InputError("saved engine array \"" + std::string(use.name) + "\" holds " +
                         std::to_string(have / sizeof(T)) + " values, expected " +
                         std::to_string(use.size));
    });
    if (in.cell_capacity > cell_capacity_) {
      cell_capacity_ = in.cell_capacity;
      Exec::allocate(cell_list_, cell_list_size());
    }
    if (in.max_neighbors > max_neighbors_) {
      max_neighbors_ = in.max_neighbors;
      Exec::allocate(nbr_list_, nbr_list_size());
    }
    // The build state first: positions and boxes of the last build.
    Exec::upload(x_, in.arrays.at("x_last").as<real>());
    Exec::upload(y_, in.arrays.at("y_last").as<real>());
    Exec::upload(z_, in.arrays.at("z_last").as<real>());
    Exec::upload(box_, in.arrays.at("box_last").as<real>());
    update_neighbors(true);
    for_each_array([&](const auto& use, auto& buf) {
      if (use.roles & kRoleState) upload_or_zero(buf, in.state.*use.state, use.size);
    });
    compute_forces();
    for_each_array([&](const auto& use, auto& buf) {
      using T = typename std::decay_t<decltype(use)>::value_type;
      const auto it = in.arrays.find(use.name);
      if ((use.roles & kRoleSaved) && it != in.arrays.end())
        Exec::upload(buf, it->second.template as<T>());
    });
  }

  NeighborStats neighbor_stats() override {
    std::vector<int> counts;
    Exec::download(counts, rebuild_count_);
    NeighborStats st;
    for (int c : counts) st.builds += c;
    st.max_neighbors = max_neighbors_;
    st.cell_capacity = cell_capacity_;
    return st;
  }

 private:
  // Ramp fraction of step s of a run of `steps` steps.
  static double ramp_at(long s, long steps, double ramp_begin, double ramp_end) {
    return kernels::ramp_fraction(s, steps, ramp_begin, ramp_end);
  }

  // One velocity-Verlet step of every replica (host memory; the device path runs
  // device_step).
  void step(double ramp) {
    const kernels::BatchView b = view();
    const real dt = real(settings_.dt);
    const long nt = static_cast<long>(R_) * N_;
    const int npt = settings_.ensemble == Ensemble::kNPT;
    if (npt) exec_.launch(R_, kernels::ScaleBoxes{b, Exec::ptr(obs_)});
    const int scale_v = npt && settings_.barostat == BarostatKind::kCRescale;
    exec_.launch(nt, kernels::KickDrift{b, dt, Exec::ptr(obs_), npt, scale_v});
    update_neighbors(false);
    compute_forces();
    exec_.launch(nt, kernels::Kick{b, dt});
    reduce_and_finish(ramp, /*apply=*/true);
  }

  // ---- device memory (Exec::host_memory == false) -----------------------------------------
  // The host stays out of the step loop: every step launches the displacement check and the
  // neighbour-build kernels, which return at once for replicas whose list is still valid, and
  // nothing is read back. A build that overflowed a capacity leaves a truncated list behind,
  // so the overflow flags are read once per block of kDeviceCheckInterval steps; the state at
  // the start of the block (positions, velocities, images, boxes, observables) is kept in
  // device memory, and on overflow it is restored, the capacities grown, every list rebuilt
  // and the block run again. No result computed from a truncated list is ever kept. (The CPU
  // path reads the flags after every build, at no cost, and is unchanged.)
  static constexpr long kDeviceCheckInterval = 500;

  void run_device(long steps, double ramp_begin, double ramp_end) {
    for (long begin = 0; begin < steps; begin += kDeviceCheckInterval) {
      const long end = std::min(steps, begin + kDeviceCheckInterval);
      save_block_start();
      for (int attempt = 0;; ++attempt) {
        run_steps(begin, end, steps, ramp_begin, ramp_end);
        std::vector<int> flags;
        Exec::download(flags, overflow_);
        int all = 0;
        for (int f : flags) all |= f;
        if (all == 0) break;
        restore_block_start();
        // A capacity overflow in the same block comes first: a truncated list lowers the
        // virial, and a barostat can then shrink the box below twice the list radius. Grow and
        // rerun; the box check stands only for a block that ran with complete lists.
        const int capacity = kernels::kCellOverflow | kernels::kNeighborOverflow;
        if ((all & kernels::kBoxTooSmall) && !(all & capacity)) {
          std::string replicas;
          for (int r = 0; r < R_; ++r)
            if (flags[r] & kernels::kBoxTooSmall) replicas += " " + std::to_string(r);
          throw SimulationError("replica(s)" + replicas + ": the box became smaller than twice " +
                                "the neighbour-list radius " + std::to_string(list_radius()) +
                                " during steps " + std::to_string(begin) + ".." +
                                std::to_string(end - 1) + " of this run (state restored to step " +
                                std::to_string(begin) + ")");
        }
        if (attempt > 8) throw SimulationError("neighbour-list overflow could not be resolved");
        grow_capacities(all);
        Exec::fill(overflow_, 0);
        update_neighbors(true);
        compute_forces();
      }
    }
  }

  // Steps [begin, end) of a run of `steps` steps on the device path, lazy overflow checks:
  // one launch of the block kernel, or the per-particle device step (device_step) for every
  // step, replayed from a captured graph where the policy has graphs.
  void run_steps(long begin, long end, long steps, double ramp_begin, double ramp_end) {
    static_assert(block_kernel_supported(), "the device path runs on team policies");
    if (block_kernel_) {
      exec_.launch_teams(R_, block_step(begin, end, steps, ramp_begin, ramp_end));
      return;
    }
    Exec::fill(step_base_, begin);
    const long count = end - begin;
    if constexpr (IsGraphPolicy<Exec>::value) {
      if (settings_.graphs) {
        exec_.replay(step_graph(count, steps, ramp_begin, ramp_end));
        return;
      }
    }
    for (long s = 0; s < count; ++s) device_step(s, steps, ramp_begin, ramp_end);
  }

  static constexpr bool block_kernel_supported() {
    return IsTeamPolicy<Exec>::value && !Exec::host_memory && !Exec::half_lists;
  }

  // One step of the per-particle device path, the step step_base_ + s of a run of `steps`
  // steps: three launches whatever the ensemble. The block kernel's per-replica phases from
  // ScaleBoxes to FinishRebuild (one team per replica; the list build returns at once where
  // the list is valid), the forces and second kick over every particle of the batch, and the
  // block kernel's phases from PartialSums to ScaleVelocities. The same kernel bodies as the
  // CPU's full-list step() in the same order, so the trajectory is bitwise the same.
  void device_step(long s, long steps, double ramp_begin, double ramp_end) {
    kernels::BlockStep<Model> k = block_step(s, s + 1, steps, ramp_begin, ramp_end);
    k.step_base = Exec::ptr(step_base_);
    k.shared_positions = 0;
    k.phase_begin = kernels::kBlockScaleBoxes;
    k.phase_end = kernels::kBlockForces;
    exec_.launch_teams(R_, k);
    exec_.launch(static_cast<long>(R_) * N_,
                 kernels::ForcesKick<Model>{{view(), model_}, real(settings_.dt)});
    k.phase_begin = kernels::kBlockPartialSums;
    k.phase_end = kernels::kBlockPhaseCount;
    exec_.launch_teams(R_, k);
  }

  // What a captured block of device steps depends on besides the step base: its length, the
  // run's ramp, the batch's shape and capacities, and the address of every array (a batch
  // change or a grown capacity moves them).
  struct GraphKey {
    long count = 0, steps = 0;
    double ramp_begin = 0, ramp_end = 0;
    std::vector<long> shape;
    std::vector<const void*> arrays;
    bool operator==(const GraphKey& o) const {
      return count == o.count && steps == o.steps && ramp_begin == o.ramp_begin &&
             ramp_end == o.ramp_end && shape == o.shape && arrays == o.arrays;
    }
  };

  GraphKey graph_key(long count, long steps, double ramp_begin, double ramp_end) {
    GraphKey key{count, steps, ramp_begin, ramp_end, {}, {}};
    key.shape = {R_, N_, chunks_, max_cells_, cell_capacity_, cell_dims_cap_, max_neighbors_};
    for_each_array([&](const auto&, auto& buf) { key.arrays.push_back(Exec::ptr(buf)); });
    key.arrays.push_back(Exec::ptr(step_base_));
    return key;
  }

  // The captured graph of `count` device steps for this run, captured now if none matches
  // (the last kGraphsKept are kept: a run's full blocks, its last block, the next run's).
  template <class E = Exec>
  const typename E::Graph& step_graph(long count, long steps, double ramp_begin, double ramp_end) {
    GraphKey key = graph_key(count, steps, ramp_begin, ramp_end);
    for (auto& g : graphs_)
      if (g.first == key) return g.second;
    if (graphs_.size() >= kGraphsKept) graphs_.erase(graphs_.begin());
    graphs_.emplace_back(std::move(key), typename E::Graph{});
    auto& graph = graphs_.back().second;
    exec_.capture(graph, [&] {
      for (long s = 0; s < count; ++s) device_step(s, steps, ramp_begin, ramp_end);
    });
    ++graph_captures_;
    return graph;
  }
  static constexpr std::size_t kGraphsKept = 4;

 public:
  // The device step's captured graphs (per-particle kernel, graphs on): how many were captured
  // so far, and the launches (nodes) per step of the last one; 0 without graphs.
  long graph_captures() const { return graph_captures_; }
  double graph_nodes_per_step() const {
    if constexpr (IsGraphPolicy<Exec>::value) {
      if (graphs_.empty()) return 0.0;
      return double(graphs_.back().second.nodes()) / double(graphs_.back().first.count);
    } else {
      return 0.0;
    }
  }

 private:
  // The block kernel for steps [begin, end) of a run of `steps` steps.
  kernels::BlockStep<Model> block_step(long begin, long end, long steps, double ramp_begin,
                                       double ramp_end) {
    const int npt = settings_.ensemble == Ensemble::kNPT;
    kernels::BlockStep<Model> k{view(),
                                model_,
                                real(settings_.dt),
                                npt,
                                npt && settings_.barostat == BarostatKind::kCRescale,
                                model_.max_cutoff(),
                                real(settings_.skin),
                                list_radius(),
                                cell_dims_cap_,
                                full_list_build(),
                                chunks_,
                                Exec::ptr(partial_),
                                Exec::ptr(rebuild_count_),
                                finish_step(0.0, /*apply=*/true),
                                begin,
                                end,
                                steps,
                                ramp_begin,
                                ramp_end};
    // Positions and types in shared memory where they fit beside the tree (the device step
    // runs parts of steps and keeps them in the batch).
    k.shared_positions = block_kernel_ && k.scratch_bytes(Exec::team_size()) +
                                                  k.shared_position_bytes(N_, Model::dimension) <=
                                              Exec::max_team_scratch();
    return k;
  }

  // The arrays with kRoleBlock, copied into (save) or back from (restore) their block-start
  // copies, one per array in table order.
  void save_block_start() { copy_block_start(true); }
  void restore_block_start() { copy_block_start(false); }

  void copy_block_start(bool save) {
    std::size_t next[3] = {0, 0, 0};
    for_each_array([&](const auto& use, auto& buf) {
      using T = typename std::decay_t<decltype(use)>::value_type;
      if (!(use.roles & kRoleBlock)) return;
      auto& copies = std::get<block_slot<T>()>(block_start_);
      std::size_t& k = next[block_slot<T>()];
      if (copies.size() <= k) copies.emplace_back();
      if (save) {
        Exec::copy(copies[k], buf);
      } else {
        Exec::copy(buf, copies[k]);
      }
      ++k;
    });
  }

  template <class T>
  static constexpr int block_slot() {
    return std::is_same_v<T, real> ? 0 : std::is_same_v<T, int> ? 1 : 2;
  }

  // Device memory of the whole batch from the capacities the sizing rules below chose: every
  // array of the table, plus the block-start copies; refused up front when it does not fit.
  void require_device_memory() {
    const std::size_t bytes = array_bytes();
    const std::size_t extra = bytes > device_bytes_ ? bytes - device_bytes_ : 0;
    Exec::require_free_memory(extra, "a batch of " + std::to_string(R_) + " replicas of " +
                                         std::to_string(N_) + " " + model_name_ + " particles");
    device_bytes_ = bytes;
  }

  // Bytes of every array of the table at the current sizes; device memory: with the
  // block-start copies, 5 % for capacity growth and 64 MiB for the allocation granularity.
  std::size_t array_bytes() {
    std::size_t bytes = 0;
    for_each_array([&](const auto& use, auto&) {
      using T = typename std::decay_t<decltype(use)>::value_type;
      const std::size_t copies = (!Exec::host_memory && (use.roles & kRoleBlock)) ? 2 : 1;
      bytes += copies * use.size * sizeof(T);
    });
    if constexpr (!Exec::host_memory) bytes += bytes / 20 + (std::size_t(64) << 20);
    return bytes;
  }

  // Uploads a BatchState array, or zeros when the state leaves it empty (z and vz in 2D,
  // images of a fresh configuration).
  template <class T>
  static void upload_or_zero(Buf<T>& buf, const std::vector<T>& values, std::size_t size) {
    if (values.empty()) {
      Exec::upload(buf, std::vector<T>(size, T{}));
    } else {
      Exec::upload(buf, values);
    }
  }

  real list_radius() const { return model_.max_cutoff() + real(settings_.skin); }

  // Cell grid capacity: enough cells for a box 30 % larger than the largest initial one,
  // and a per-cell capacity from the densest replica (grown on overflow).
  kernels::SortedCells sorted_cells() {
    return {Exec::ptr(sorted_start_), Exec::ptr(sorted_rank_), Exec::ptr(sorted_x_),
            Exec::ptr(sorted_y_),     Exec::ptr(sorted_z_),    Exec::ptr(sorted_type_),
            Exec::ptr(sorted_gid_)};
  }

  void plan_cells(const BatchState& s) {
    double max_len = 0, min_vol = 1e300;
    for (int r = 0; r < R_; ++r) {
      double vol = 1;
      for (int a = 0; a < Model::dimension; ++a) {
        max_len = std::max(max_len, double(s.box[3 * r + a]));
        vol *= s.box[3 * r + a];
      }
      min_vol = std::min(min_vol, vol);
    }
    plan_cell_capacity(max_len, min_vol);
  }

  // max_len: the longest box edge of the batch; min_vol: the smallest box volume.
  void plan_cell_capacity(double max_len, double min_vol) {
    const real cmin = list_radius() / real(kernels::kCellReach);
    cell_dims_cap_ = std::max(1, static_cast<int>(1.3 * max_len / cmin));
    max_cells_ = 1;
    for (int a = 0; a < Model::dimension; ++a) max_cells_ *= cell_dims_cap_;
    const double density = N_ / min_vol;
    const double per_cell = density * std::pow(double(cmin), Model::dimension);
    cell_capacity_ = std::max(8, static_cast<int>(2.0 * per_cell + 8));
  }

  void plan_neighbors(const BatchState& s) {
    double min_vol = 1e300;
    for (int r = 0; r < R_; ++r) {
      double vol = 1;
      for (int a = 0; a < Model::dimension; ++a) vol *= s.box[3 * r + a];
      min_vol = std::min(min_vol, vol);
    }
    plan_neighbor_capacity(min_vol);
  }

  // min_vol: the smallest box volume of the batch (the densest replica).
  void plan_neighbor_capacity(double min_vol) {
    const double density = N_ / min_vol;
    const double rl = list_radius();
    const double sphere = Model::dimension == 3 ? 4.0 / 3.0 * M_PI * rl * rl * rl : M_PI * rl * rl;
    // Half lists hold half the pairs on average; the margin covers fluctuations (and a list
    // that overflows is grown and rebuilt).
    const double fill = kHalf ? 0.8 : 1.6;
    max_neighbors_ = std::max(16, static_cast<int>(fill * density * sphere + 16));
  }

  std::size_t cell_list_size() const {
    return static_cast<std::size_t>(R_) * max_cells_ * cell_capacity_;
  }
  std::size_t nbr_list_size() const { return static_cast<std::size_t>(R_) * N_ * max_neighbors_; }

  // The engine's arrays, one line each: f(ArrayUse<T>{name, size, roles, view, state}, buffer).
  // Sizes follow the batch (R_, N_) and the current capacities; arrays a policy does not use
  // have size 0.
  template <class F>
  void for_each_array(F&& f) {
    using V = kernels::BatchView;
    using S = BatchState;
    const std::size_t nt = static_cast<std::size_t>(R_) * N_, nr = R_;
    const std::size_t half_nt = kHalf ? nt : 0;
    const unsigned kState = kRoleState | kRoleBlock;
    // Particles: the batch state (also restored when a device block is rerun).
    f(ArrayUse<real>{"x", nt, kState, &V::x, &S::x}, x_);
    f(ArrayUse<real>{"y", nt, kState, &V::y, &S::y}, y_);
    f(ArrayUse<real>{"z", nt, kState, &V::z, &S::z}, z_);
    f(ArrayUse<real>{"vx", nt, kState, &V::vx, &S::vx}, vx_);
    f(ArrayUse<real>{"vy", nt, kState, &V::vy, &S::vy}, vy_);
    f(ArrayUse<real>{"vz", nt, kState, &V::vz, &S::vz}, vz_);
    f(ArrayUse<int>{"type", nt, kRoleState, &V::type, &S::type}, type_);
    f(ArrayUse<int>{"img_x", nt, kState, &V::img_x, &S::img_x}, img_x_);
    f(ArrayUse<int>{"img_y", nt, kState, &V::img_y, &S::img_y}, img_y_);
    f(ArrayUse<int>{"img_z", nt, kState, &V::img_z, &S::img_z}, img_z_);
    f(ArrayUse<real>{"box", 3 * nr, kState, &V::box, &S::box}, box_);
    // Forces and per-particle energies and virials of the current configuration.
    f(ArrayUse<real>{"fx", nt, 0, &V::fx}, fx_);
    f(ArrayUse<real>{"fy", nt, 0, &V::fy}, fy_);
    f(ArrayUse<real>{"fz", nt, 0, &V::fz}, fz_);
    f(ArrayUse<real>{"u_i", nt, 0, &V::u_i}, u_i_);
    f(ArrayUse<real>{"w_i", nt, 0, &V::w_i}, w_i_);
    // Neighbour-list build state (saved: rebuilding from it reproduces the lists).
    f(ArrayUse<real>{"x_last", nt, kRoleSaved, &V::x_last}, x_last_);
    f(ArrayUse<real>{"y_last", nt, kRoleSaved, &V::y_last}, y_last_);
    f(ArrayUse<real>{"z_last", nt, kRoleSaved, &V::z_last}, z_last_);
    f(ArrayUse<real>{"box_last", 3 * nr, kRoleSaved, &V::box_last}, box_last_);
    f(ArrayUse<int>{"rebuild_count", nr, kRoleSaved | kRoleBlock}, rebuild_count_);
    // Cells and lists.
    f(ArrayUse<int>{"rebuild", nr, 0, &V::rebuild}, rebuild_);
    f(ArrayUse<int>{"overflow", nr, 0, &V::overflow}, overflow_);
    f(ArrayUse<int>{"cell_dims", 3 * nr, 0, &V::cell_dims}, cell_dims_);
    f(ArrayUse<int>{"cell_count", nr * max_cells_, 0, &V::cell_count}, cell_count_);
    f(ArrayUse<int>{"cell_list", cell_list_size(), 0, &V::cell_list}, cell_list_);
    f(ArrayUse<int>{"nbr_count", nt, 0, &V::nbr_count}, nbr_count_);
    f(ArrayUse<int>{"nbr_list", nbr_list_size(), 0, &V::nbr_list}, nbr_list_);
    f(ArrayUse<int>{"species_n", nt, 0}, species_n_);
    f(ArrayUse<real>{"u_bound", nt, 0}, u_bound_);
    // Half lists only: per-range accumulators and the cell-sorted copies.
    const std::size_t half_acc =
        half_nt * kernels::kHalfChunks * kernels::HalfRecord<Model::dimension>::stride;
    f(ArrayUse<real>{"half_acc", half_acc, 0}, half_acc_);
    f(ArrayUse<int>{"species_acc", half_nt * kernels::kHalfChunks, 0}, species_acc_);
    f(ArrayUse<real>{"bound_acc", half_nt * kernels::kHalfChunks, 0}, bound_acc_);
    f(ArrayUse<int>{"sorted_start", kHalf ? nr * (max_cells_ + 1) : 0, 0}, sorted_start_);
    f(ArrayUse<int>{"sorted_rank", half_nt, 0}, sorted_rank_);
    f(ArrayUse<real>{"sorted_x", half_nt, 0}, sorted_x_);
    f(ArrayUse<real>{"sorted_y", half_nt, 0}, sorted_y_);
    f(ArrayUse<real>{"sorted_z", half_nt, 0}, sorted_z_);
    f(ArrayUse<int>{"sorted_type", half_nt, 0}, sorted_type_);
    f(ArrayUse<int>{"sorted_gid", half_nt, 0}, sorted_gid_);
    // Per-replica sums, observables, targets and the ensemble components' state.
    const std::size_t partials = nr * chunks_ * kernels::kReduceQuantities;
    f(ArrayUse<double>{"partial", partials, 0}, partial_);
    f(ArrayUse<double>{"observables", nr * kObsCount, kRoleSaved | kRoleBlock}, obs_);
    f(ArrayUse<real>{"t_start", nr, kRoleTarget}, t_start_);
    f(ArrayUse<real>{"t_end", nr, kRoleTarget}, t_end_);
    f(ArrayUse<real>{"p_target", nr, kRoleTarget}, p_target_);
    f(ArrayUse<int>{"replica_id", nr, kRoleTarget}, replica_id_);  // set_replica_ids
    const unsigned kComponent = kRoleSaved | kRoleBlock;
    const std::size_t th_state = nr * thermostat_info(settings_.thermostat).state_size;
    const std::size_t ba_state = nr * barostat_info(settings_.barostat).state_size;
    f(ArrayUse<double>{"thermostat_state", th_state, kComponent}, thermostat_state_);
    f(ArrayUse<double>{"barostat_state", ba_state, kComponent}, barostat_state_);
  }

  kernels::BatchView view() {
    kernels::BatchView b{};
    b.n_replicas = R_;
    b.n = N_;
    b.dim = Model::dimension;
    for_each_array([&](const auto& use, auto& buf) {
      if (use.view) b.*use.view = Exec::ptr(buf);
    });
    b.max_cells = max_cells_;
    b.cell_capacity = cell_capacity_;
    b.max_neighbors = max_neighbors_;
    if constexpr (Exec::neighbors_particle_major) {
      b.nbr_stride_i = max_neighbors_;
      b.nbr_stride_k = 1;
    } else {
      b.nbr_stride_i = 1;
      b.nbr_stride_k = static_cast<long>(R_) * N_;
    }
    return b;
  }

  // Checks displacements, rebuilds the lists of the replicas that need it, and grows the
  // cell or neighbour capacity (then rebuilds again) when a build overflowed.
  void update_neighbors(bool force_all) {
    const long nt = static_cast<long>(R_) * N_;
    kernels::BatchView b = view();
    const real rc_max = model_.max_cutoff();
    const real skin = real(settings_.skin);
    if (force_all) Exec::fill(rebuild_, 1);
    exec_.launch(nt, kernels::DisplacementCheck{b, rc_max, skin});
    if constexpr (Exec::host_memory) {
      bool any = false;
      for (int r = 0; r < R_; ++r) any = any || Exec::ptr(rebuild_)[r];
      if (!any) return;
    }
    for (int attempt = 0;; ++attempt) {
      b = view();
      exec_.launch(R_, kernels::SetupCells{b, list_radius(), cell_dims_cap_});
      exec_.launch(static_cast<long>(R_) * max_cells_, kernels::ResetCells{b, kHalf});
      exec_.launch(nt, kernels::AssignCells{b, kHalf});
      exec_.launch(static_cast<long>(R_) * max_cells_, kernels::SortCells{b, kHalf});
      kernels::BuildNeighbors<Model::n_types> build = full_list_build();
      build.half = kHalf;
      exec_.launch(nt, build);
      if constexpr (kHalf) {
        const kernels::SortedCells sc = sorted_cells();
        exec_.launch(R_, kernels::SortIntoCells{b, sc});
        kernels::BuildHalfNeighborsSorted<Model::n_types> sorted{b, sc, {}};
        for (int a = 0; a < Model::n_types; ++a)
          for (int c = 0; c < Model::n_types; ++c) sorted.list_cut2[a][c] = build.list_cut2[a][c];
        exec_.launch(nt, sorted);
      }
      std::vector<int> flags;
      Exec::download(flags, overflow_);
      int all = 0;
      for (int f : flags) all |= f;
      if (all == 0) break;
      if (all & kernels::kBoxTooSmall)
        throw SimulationError(
            "a replica's box became smaller than twice the neighbour-list radius " +
            std::to_string(list_radius()) +
            " (N too small for this density, or the box collapsed)");
      if (attempt > 8) throw SimulationError("neighbour-list overflow could not be resolved");
      grow_capacities(all);
      // A grown neighbour list is a new, empty array: every replica's list is rebuilt, not
      // only those whose displacement asked for it.
      if (all & kernels::kNeighborOverflow) Exec::fill(rebuild_, 1);
      Exec::fill(overflow_, 0);
    }
    exec_.launch(nt, kernels::SaveBuildState{view()});
    exec_.launch(R_, kernels::FinishRebuild{view(), Exec::ptr(rebuild_count_)});
  }

  // The list build over full lists, with list_cut2[a][c] = (rc_ac + skin)^2.
  kernels::BuildNeighbors<Model::n_types> full_list_build() {
    kernels::BuildNeighbors<Model::n_types> build{view(), {}, false};
    const real skin = real(settings_.skin);
    for (int a = 0; a < Model::n_types; ++a)
      for (int c = 0; c < Model::n_types; ++c) {
        const real rc = std::sqrt(model_.cutoff2(a, c)) + skin;
        build.list_cut2[a][c] = rc * rc;
      }
    return build;
  }

  // Grows the capacities named by the overflow bits `flags`.
  void grow_capacities(int flags) {
    if (flags & kernels::kCellOverflow) {
      cell_capacity_ *= 2;
      Exec::allocate(cell_list_, cell_list_size());
    }
    if (flags & kernels::kNeighborOverflow) {
      max_neighbors_ = max_neighbors_ * 3 / 2 + 8;
      Exec::allocate(nbr_list_, nbr_list_size());
    }
  }

  void compute_forces() {
    const long nt = static_cast<long>(R_) * N_;
    if constexpr (kHalf) {
      exec_.launch_coarse(static_cast<long>(R_) * kernels::kHalfChunks, nt,
                          kernels::ComputeForcesHalf<Model>{view(), model_, Exec::ptr(half_acc_)});
      exec_.launch(nt, kernels::ReduceHalfForces<Model::dimension>{view(), Exec::ptr(half_acc_)});
    } else {
      exec_.launch(nt, kernels::ComputeForces<Model>{view(), model_});
    }
  }

  void reduce_and_finish(double ramp, bool apply) {
    const kernels::BatchView b = view();
    exec_.launch(static_cast<long>(R_) * chunks_,
                 kernels::ReplicaPartialSums{b, chunks_, Exec::ptr(partial_)});
    const kernels::FinishStep finish = finish_step(ramp, apply);
    exec_.launch(R_, finish);
    if (apply && finish.thermostat.enabled)
      exec_.launch(static_cast<long>(R_) * N_, kernels::ScaleVelocities{b, Exec::ptr(obs_)});
  }

  // The per-replica end of a step: T, p and the ensemble components' scale factors (applied
  // when `apply`).
  kernels::FinishStep finish_step(double ramp, bool apply) {
    const kernels::RandomKeys keys{settings_.seed, Exec::ptr(replica_id_)};
    const kernels::Thermostat th{apply && settings_.ensemble != Ensemble::kNVE,
                                 settings_.thermostat,
                                 real(settings_.thermostat_tau),
                                 Exec::ptr(thermostat_state_),
                                 thermostat_info(settings_.thermostat).state_size,
                                 keys};
    const kernels::Barostat ba{apply && settings_.ensemble == Ensemble::kNPT,
                               settings_.barostat,
                               real(settings_.barostat_tau),
                               real(settings_.bulk_modulus),
                               Exec::ptr(barostat_state_),
                               barostat_info(settings_.barostat).state_size,
                               keys};
    return kernels::FinishStep{view(),
                               chunks_,
                               Exec::ptr(partial_),
                               Exec::ptr(obs_),
                               Exec::ptr(t_start_),
                               Exec::ptr(t_end_),
                               Exec::ptr(p_target_),
                               real(ramp),
                               real(settings_.dt),
                               th,
                               ba};
  }

  std::string model_name_;
  EngineSettings settings_;
  Model model_;
  Exec exec_;
  bool block_kernel_ = false;  // run_steps: the block kernel (settings' kernel == kBlock)
  // Device path: the first step of the current block (the device step's ramp), and the
  // captured graphs of device steps (step_graph).
  Buf<long> step_base_;
  GraphCache<Exec, GraphKey> graphs_;
  long graph_captures_ = 0;
  int R_ = 0, N_ = 0, chunks_ = 1;
  int max_cells_ = 1, cell_capacity_ = 8, cell_dims_cap_ = 1, max_neighbors_ = 16;
  Buf<real> x_, y_, z_, vx_, vy_, vz_, fx_, fy_, fz_, u_i_, w_i_, box_;
  Buf<real> x_last_, y_last_, z_last_, box_last_, t_start_, t_end_, p_target_;
  Buf<int> type_, img_x_, img_y_, img_z_, rebuild_, overflow_, rebuild_count_, cell_dims_;
  Buf<int> cell_count_, cell_list_, nbr_count_, nbr_list_, species_n_;
  Buf<int> replica_id_;  // scan-wide replica indices (keys of the random numbers)
  Buf<double> partial_, obs_;
  Buf<real> half_acc_;    // half lists: per-range force/energy/virial accumulators
  Buf<int> species_acc_;  // half lists: per-range species counters
  Buf<real> u_bound_;     // bound energies (bound_energies)
  Buf<real> bound_acc_;   // half lists: per-range bound-energy sums
  // species_summary's scratch and result, sized at its first call (not in the array table:
  // R * bins * 36 bytes per chunk, small beside the lists).
  Buf<int> summary_count_part_, summary_overflow_part_, summary_count_, summary_overflow_;
  Buf<double> summary_sums_part_, summary_sums_;
  // Self-ISF frames (isf_select/isf_frame): not in the array table (their size follows the
  // run's length; the sampler's memory estimate counts them).
  int isf_dim_ = 0, isf_m_ = 0, isf_slots_ = 0;
  double isf_k_ = 0.0;
  Buf<int> isf_selected_, isf_origins_;
  Buf<double> isf_com_partial_, isf_current_, isf_store_, isf_sweep_partial_, isf_sums_;
  // Half lists: cell-sorted copies for BuildHalfNeighborsSorted.
  Buf<int> sorted_start_, sorted_rank_, sorted_type_, sorted_gid_;
  Buf<real> sorted_x_, sorted_y_, sorted_z_;
  Buf<double> thermostat_state_, barostat_state_;  // ensemble components (per replica)
  // Device memory only: the kRoleBlock arrays at the start of the current block, by type.
  std::tuple<std::vector<Buf<real>>, std::vector<Buf<int>>, std::vector<Buf<double>>> block_start_;
  std::size_t device_bytes_ = 0;  // estimate of the device memory held (require_device_memory)
};

}  // namespace vitrify
