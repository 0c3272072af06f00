#pragma once
// ReplicaEngine<Exec, Model>: the step loop, written once over an execution policy.
// Exec supplies memory (Buffer<T>, allocate/upload/download/fill/ptr) and launch(n, body);
// every physics operation is a kernel body from kernels/*.hpp. The CPU backend instantiates
// it with CpuExec; a CUDA backend instantiates the same template with its own policy.
// Policies whose memory is not host memory (host_memory == false, e.g. CudaExec) also supply
// copy (buffer to buffer), require_free_memory and device_name; see run_device().
// Exec::half_lists selects the neighbour-list form: full lists and one thread per particle
// (GPU), or every pair once with per-range accumulation (CPU; needs Exec::launch_coarse).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/batch.hpp"
#include "kernels/forces.hpp"
#include "kernels/integrate.hpp"
#include "kernels/neighbor.hpp"
#include "kernels/species.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/engine.hpp"

namespace vitrify {

template <class Exec, class Model>
class ReplicaEngine final : public Engine {
  template <class T>
  using Buf = typename Exec::template Buffer<T>;

 public:
  ReplicaEngine(const std::string& model_name, const EngineSettings& settings)
      : model_name_(model_name), settings_(settings), model_(Model::make()) {}

  static constexpr bool kHalf = Exec::half_lists;

  std::string backend_name() const override { return Exec::name; }
  std::string model_name() const override { return model_name_; }
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
    const std::size_t nt = static_cast<std::size_t>(R_) * N_;
    if constexpr (!Exec::host_memory) require_device_memory(s);
    upload_particles(s);
    Exec::allocate(fx_, nt);
    Exec::allocate(fy_, nt);
    Exec::allocate(fz_, nt);
    Exec::allocate(u_i_, nt);
    Exec::allocate(w_i_, nt);
    Exec::allocate(x_last_, nt);
    Exec::allocate(y_last_, nt);
    Exec::allocate(z_last_, nt);
    Exec::allocate(box_last_, 3 * static_cast<std::size_t>(R_));
    Exec::allocate(rebuild_, R_);
    Exec::allocate(overflow_, R_);
    Exec::allocate(rebuild_count_, R_);
    Exec::allocate(cell_dims_, 3 * static_cast<std::size_t>(R_));
    Exec::allocate(nbr_count_, nt);
    Exec::allocate(species_n_, nt);
    if constexpr (kHalf)
      Exec::allocate(half_acc_,
                     nt * kernels::kHalfChunks * kernels::HalfRecord<Model::dimension>::stride);
    chunks_ = (N_ + kernels::kReduceChunk - 1) / kernels::kReduceChunk;
    Exec::allocate(partial_, static_cast<std::size_t>(R_) * chunks_ * kernels::kReduceQuantities);
    Exec::allocate(obs_, static_cast<std::size_t>(R_) * kernels::kObsCount);
    if (t_start_.size() != static_cast<std::size_t>(R_)) {
      std::vector<real> one(R_, real(1));
      Exec::upload(t_start_, one);
      Exec::upload(t_end_, one);
      Exec::upload(p_target_, one);
    }
    size_cells(s);
    size_neighbors(s);
    Exec::fill(rebuild_, 1);
    update_neighbors(true);
    compute_forces();
    reduce_and_finish(1.0, /*apply=*/false);
  }

  void get_state(BatchState& s) override {
    s.n_replicas = R_;
    s.n = N_;
    s.dim = Model::dimension;
    Exec::download(s.x, x_);
    Exec::download(s.y, y_);
    Exec::download(s.z, z_);
    Exec::download(s.vx, vx_);
    Exec::download(s.vy, vy_);
    Exec::download(s.vz, vz_);
    Exec::download(s.type, type_);
    Exec::download(s.img_x, img_x_);
    Exec::download(s.img_y, img_y_);
    Exec::download(s.img_z, img_z_);
    Exec::download(s.box, box_);
  }

  void set_targets(const std::vector<double>& t_start, const std::vector<double>& t_end,
                   const std::vector<double>& p_target) override {
    auto conv = [](const std::vector<double>& v) { return std::vector<real>(v.begin(), v.end()); };
    Exec::upload(t_start_, conv(t_start));
    Exec::upload(t_end_, conv(t_end));
    Exec::upload(p_target_, conv(p_target));
  }

  void run(long steps, double ramp_begin, double ramp_end) override {
    if constexpr (!Exec::host_memory) {
      run_device(steps, ramp_begin, ramp_end);
    } else {
      for (long s = 0; s < steps; ++s) step(ramp_at(s, steps, ramp_begin, ramp_end));
    }
  }

  void observables(std::vector<double>& out) override { Exec::download(out, obs_); }

  void species_neighbor_counts(std::vector<int>& out) override {
    update_neighbors(false);
    const long nt = static_cast<long>(R_) * N_;
    if constexpr (kHalf) {
      if (species_acc_.size() != static_cast<std::size_t>(nt) * kernels::kHalfChunks)
        Exec::allocate(species_acc_, static_cast<std::size_t>(nt) * kernels::kHalfChunks);
      exec_.launch_coarse(
          static_cast<long>(R_) * kernels::kHalfChunks, nt,
          kernels::CountSpeciesNeighborsHalf<Model>{view(), model_, Exec::ptr(species_acc_)});
      exec_.launch(nt, kernels::SumHalfSpeciesCounts{view(), Exec::ptr(species_acc_),
                                                     Exec::ptr(species_n_)});
    } else {
      exec_.launch(nt,
                   kernels::CountSpeciesNeighbors<Model>{view(), model_, Exec::ptr(species_n_)});
    }
    Exec::download(out, species_n_);
  }

  void particle_energies(std::vector<real>& u_i) override { Exec::download(u_i, u_i_); }

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
    Exec::download(out.x_last, x_last_);
    Exec::download(out.y_last, y_last_);
    Exec::download(out.z_last, z_last_);
    Exec::download(out.box_last, box_last_);
    Exec::download(out.observables, obs_);
    Exec::download(out.rebuild_count, rebuild_count_);
    out.max_neighbors = max_neighbors_;
    out.cell_capacity = cell_capacity_;
  }

  // Rebuilds every list from the saved build positions and boxes (the same cells, the same
  // order), then puts the current positions back and recomputes the forces with those lists.
  void load_state(const EngineCheckpoint& in) override {
    const std::size_t nt = static_cast<std::size_t>(in.state.n_replicas) * in.state.n;
    if (in.x_last.size() != nt || in.y_last.size() != nt || in.z_last.size() != nt ||
        in.box_last.size() != 3 * static_cast<std::size_t>(in.state.n_replicas) ||
        in.observables.size() !=
            static_cast<std::size_t>(in.state.n_replicas) * kernels::kObsCount ||
        in.rebuild_count.size() != static_cast<std::size_t>(in.state.n_replicas))
      throw InputError("saved engine state has inconsistent array sizes");
    set_state(in.state);
    if (in.cell_capacity > cell_capacity_) {
      cell_capacity_ = in.cell_capacity;
      Exec::allocate(cell_list_, static_cast<std::size_t>(R_) * max_cells_ * cell_capacity_);
    }
    if (in.max_neighbors > max_neighbors_) {
      max_neighbors_ = in.max_neighbors;
      allocate_neighbors();
    }
    Exec::upload(x_, in.x_last);
    Exec::upload(y_, in.y_last);
    Exec::upload(z_, in.z_last);
    Exec::upload(box_, in.box_last);
    update_neighbors(true);
    upload_particles(in.state);
    compute_forces();
    Exec::upload(obs_, in.observables);
    Exec::upload(rebuild_count_, in.rebuild_count);
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
    return steps > 1 ? ramp_begin + (ramp_end - ramp_begin) * double(s) / double(steps - 1)
                     : ramp_end;
  }

  // One velocity-Verlet step of every replica. lazy_overflow (device memory only): the
  // neighbour-list overflow flags stay on the device (see run_device).
  void step(double ramp, bool lazy_overflow = false) {
    const kernels::BatchView b = view();
    const real dt = real(settings_.dt);
    const long nt = static_cast<long>(R_) * N_;
    const int npt = settings_.ensemble == Ensemble::kNPT;
    if (npt) exec_.launch(R_, kernels::ScaleBoxes{b, Exec::ptr(obs_)});
    exec_.launch(nt, kernels::KickDrift{b, dt, Exec::ptr(obs_), npt});
    update_neighbors(false, lazy_overflow);
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
        for (long s = begin; s < end; ++s)
          step(ramp_at(s, steps, ramp_begin, ramp_end), /*lazy_overflow=*/true);
        std::vector<int> flags;
        Exec::download(flags, overflow_);
        int all = 0;
        for (int f : flags) all |= f;
        if (all == 0) break;
        restore_block_start();
        if (all & kernels::kBoxTooSmall) {
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

  void save_block_start() {
    Exec::copy(start_x_, x_);
    Exec::copy(start_y_, y_);
    Exec::copy(start_z_, z_);
    Exec::copy(start_vx_, vx_);
    Exec::copy(start_vy_, vy_);
    Exec::copy(start_vz_, vz_);
    Exec::copy(start_img_x_, img_x_);
    Exec::copy(start_img_y_, img_y_);
    Exec::copy(start_img_z_, img_z_);
    Exec::copy(start_box_, box_);
    Exec::copy(start_obs_, obs_);
  }

  void restore_block_start() {
    Exec::copy(x_, start_x_);
    Exec::copy(y_, start_y_);
    Exec::copy(z_, start_z_);
    Exec::copy(vx_, start_vx_);
    Exec::copy(vy_, start_vy_);
    Exec::copy(vz_, start_vz_);
    Exec::copy(img_x_, start_img_x_);
    Exec::copy(img_y_, start_img_y_);
    Exec::copy(img_z_, start_img_z_);
    Exec::copy(box_, start_box_);
    Exec::copy(obs_, start_obs_);
  }

  // Device memory of the whole batch (every buffer, the block-start copy included) from the
  // capacities the sizing rules below choose; refused up front when it does not fit.
  void require_device_memory(const BatchState& s) {
    plan_cells(s);
    plan_neighbors(s);
    const std::size_t nt = static_cast<std::size_t>(R_) * N_, nr = R_;
    const std::size_t chunks = (N_ + kernels::kReduceChunk - 1) / kernels::kReduceChunk;
    const std::size_t particle_reals = 14 + 6, particle_ints = 6 + 3;
    std::size_t bytes = nt * (particle_reals * sizeof(real) + particle_ints * sizeof(int));
    bytes += nt * static_cast<std::size_t>(max_neighbors_) * sizeof(int);
    bytes += nr * max_cells_ * (1 + static_cast<std::size_t>(cell_capacity_)) * sizeof(int);
    bytes += nr * (12 * sizeof(real) + 6 * sizeof(int));
    bytes += nr * (2 * kernels::kObsCount + chunks * kernels::kReduceQuantities) * sizeof(double);
    bytes += bytes / 20 + (std::size_t(64) << 20);  // capacity growth, allocation granularity
    const std::size_t extra = bytes > device_bytes_ ? bytes - device_bytes_ : 0;
    Exec::require_free_memory(extra, "a batch of " + std::to_string(R_) + " replicas of " +
                                         std::to_string(N_) + " " + model_name_ + " particles");
    device_bytes_ = bytes;
  }

  void upload_particles(const BatchState& s) {
    Exec::upload(x_, s.x);
    Exec::upload(y_, s.y);
    Exec::upload(z_, s.z.empty() ? std::vector<real>(s.x.size(), real(0)) : s.z);
    Exec::upload(vx_, s.vx);
    Exec::upload(vy_, s.vy);
    Exec::upload(vz_, s.vz.empty() ? std::vector<real>(s.x.size(), real(0)) : s.vz);
    Exec::upload(type_, s.type);
    auto zeros = std::vector<int>(s.x.size(), 0);
    Exec::upload(img_x_, s.img_x.empty() ? zeros : s.img_x);
    Exec::upload(img_y_, s.img_y.empty() ? zeros : s.img_y);
    Exec::upload(img_z_, s.img_z.empty() ? zeros : s.img_z);
    Exec::upload(box_, s.box);
  }

  real list_radius() const { return model_.max_cutoff() + real(settings_.skin); }

  // Cell grid capacity: enough cells for a box 30 % larger than the largest initial one,
  // and a per-cell capacity from the densest replica (grown on overflow).
  void size_cells(const BatchState& s) {
    plan_cells(s);
    Exec::allocate(cell_count_, static_cast<std::size_t>(R_) * max_cells_);
    Exec::allocate(cell_list_, static_cast<std::size_t>(R_) * max_cells_ * cell_capacity_);
    if constexpr (kHalf) {
      const std::size_t nt = static_cast<std::size_t>(R_) * N_;
      Exec::allocate(sorted_start_, static_cast<std::size_t>(R_) * (max_cells_ + 1));
      Exec::allocate(sorted_rank_, nt);
      Exec::allocate(sorted_x_, nt);
      Exec::allocate(sorted_y_, nt);
      Exec::allocate(sorted_z_, nt);
      Exec::allocate(sorted_type_, nt);
      Exec::allocate(sorted_gid_, nt);
    }
  }

  kernels::SortedCells sorted_cells() {
    return {Exec::ptr(sorted_start_), Exec::ptr(sorted_rank_), Exec::ptr(sorted_x_),
            Exec::ptr(sorted_y_),     Exec::ptr(sorted_z_),    Exec::ptr(sorted_type_),
            Exec::ptr(sorted_gid_)};
  }

  void plan_cells(const BatchState& s) {
    const real cmin = list_radius() / real(kernels::kCellReach);
    double max_len = 0, min_vol = 1e300;
    for (int r = 0; r < R_; ++r) {
      double vol = 1;
      for (int a = 0; a < Model::dimension; ++a) {
        max_len = std::max(max_len, double(s.box[3 * r + a]));
        vol *= s.box[3 * r + a];
      }
      min_vol = std::min(min_vol, vol);
    }
    cell_dims_cap_ = std::max(1, static_cast<int>(1.3 * max_len / cmin));
    max_cells_ = 1;
    for (int a = 0; a < Model::dimension; ++a) max_cells_ *= cell_dims_cap_;
    const double density = N_ / min_vol;
    const double per_cell = density * std::pow(double(cmin), Model::dimension);
    cell_capacity_ = std::max(8, static_cast<int>(2.0 * per_cell + 8));
  }

  void size_neighbors(const BatchState& s) {
    plan_neighbors(s);
    allocate_neighbors();
  }

  void plan_neighbors(const BatchState& s) {
    double min_vol = 1e300;
    for (int r = 0; r < R_; ++r) {
      double vol = 1;
      for (int a = 0; a < Model::dimension; ++a) vol *= s.box[3 * r + a];
      min_vol = std::min(min_vol, vol);
    }
    const double density = N_ / min_vol;
    const double rl = list_radius();
    const double sphere = Model::dimension == 3 ? 4.0 / 3.0 * M_PI * rl * rl * rl : M_PI * rl * rl;
    // Half lists hold half the pairs on average; the margin covers fluctuations (and a list
    // that overflows is grown and rebuilt).
    const double fill = kHalf ? 0.8 : 1.6;
    max_neighbors_ = std::max(16, static_cast<int>(fill * density * sphere + 16));
  }

  void allocate_neighbors() {
    Exec::allocate(nbr_list_, static_cast<std::size_t>(R_) * N_ * max_neighbors_);
  }

  kernels::BatchView view() {
    kernels::BatchView b{};
    b.n_replicas = R_;
    b.n = N_;
    b.dim = Model::dimension;
    b.x = Exec::ptr(x_);
    b.y = Exec::ptr(y_);
    b.z = Exec::ptr(z_);
    b.vx = Exec::ptr(vx_);
    b.vy = Exec::ptr(vy_);
    b.vz = Exec::ptr(vz_);
    b.fx = Exec::ptr(fx_);
    b.fy = Exec::ptr(fy_);
    b.fz = Exec::ptr(fz_);
    b.type = Exec::ptr(type_);
    b.img_x = Exec::ptr(img_x_);
    b.img_y = Exec::ptr(img_y_);
    b.img_z = Exec::ptr(img_z_);
    b.u_i = Exec::ptr(u_i_);
    b.w_i = Exec::ptr(w_i_);
    b.box = Exec::ptr(box_);
    b.x_last = Exec::ptr(x_last_);
    b.y_last = Exec::ptr(y_last_);
    b.z_last = Exec::ptr(z_last_);
    b.box_last = Exec::ptr(box_last_);
    b.rebuild = Exec::ptr(rebuild_);
    b.overflow = Exec::ptr(overflow_);
    b.cell_dims = Exec::ptr(cell_dims_);
    b.cell_count = Exec::ptr(cell_count_);
    b.cell_list = Exec::ptr(cell_list_);
    b.max_cells = max_cells_;
    b.cell_capacity = cell_capacity_;
    b.nbr_count = Exec::ptr(nbr_count_);
    b.nbr_list = Exec::ptr(nbr_list_);
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
  // cell or neighbour capacity (then rebuilds again) when a build overflowed. `lazy` (device
  // memory only): build once and leave the overflow flags for run_device() to read.
  void update_neighbors(bool force_all, bool lazy = false) {
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
      kernels::BuildNeighbors<Model::n_types> build{b, {}, kHalf};
      for (int a = 0; a < Model::n_types; ++a)
        for (int c = 0; c < Model::n_types; ++c) {
          const real rc = std::sqrt(model_.cutoff2(a, c)) + skin;
          build.list_cut2[a][c] = rc * rc;
        }
      exec_.launch(nt, build);
      if constexpr (kHalf) {
        const kernels::SortedCells sc = sorted_cells();
        exec_.launch(R_, kernels::SortIntoCells{b, sc});
        kernels::BuildHalfNeighborsSorted<Model::n_types> sorted{b, sc, {}};
        for (int a = 0; a < Model::n_types; ++a)
          for (int c = 0; c < Model::n_types; ++c) sorted.list_cut2[a][c] = build.list_cut2[a][c];
        exec_.launch(nt, sorted);
      }
      if (lazy) break;
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
      Exec::fill(overflow_, 0);
    }
    exec_.launch(nt, kernels::SaveBuildState{view()});
    exec_.launch(R_, kernels::FinishRebuild{view(), Exec::ptr(rebuild_count_)});
  }

  // Grows the capacities named by the overflow bits `flags`.
  void grow_capacities(int flags) {
    if (flags & kernels::kCellOverflow) {
      cell_capacity_ *= 2;
      Exec::allocate(cell_list_, static_cast<std::size_t>(R_) * max_cells_ * cell_capacity_);
    }
    if (flags & kernels::kNeighborOverflow) {
      max_neighbors_ = max_neighbors_ * 3 / 2 + 8;
      allocate_neighbors();
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
    kernels::ThermostatParams th{apply && settings_.ensemble != Ensemble::kNVE,
                                 real(settings_.thermostat_tau)};
    kernels::BarostatParams ba{apply && settings_.ensemble == Ensemble::kNPT,
                               real(settings_.barostat_tau), real(settings_.bulk_modulus)};
    exec_.launch(R_,
                 kernels::FinishStep{b, chunks_, Exec::ptr(partial_), Exec::ptr(obs_),
                                     Exec::ptr(t_start_), Exec::ptr(t_end_), Exec::ptr(p_target_),
                                     real(ramp), real(settings_.dt), th, ba});
    if (apply && th.enabled)
      exec_.launch(static_cast<long>(R_) * N_, kernels::ScaleVelocities{b, Exec::ptr(obs_)});
  }

  std::string model_name_;
  EngineSettings settings_;
  Model model_;
  Exec exec_;
  int R_ = 0, N_ = 0, chunks_ = 1;
  int max_cells_ = 1, cell_capacity_ = 8, cell_dims_cap_ = 1, max_neighbors_ = 16;
  Buf<real> x_, y_, z_, vx_, vy_, vz_, fx_, fy_, fz_, u_i_, w_i_, box_;
  Buf<real> x_last_, y_last_, z_last_, box_last_, t_start_, t_end_, p_target_;
  Buf<int> type_, img_x_, img_y_, img_z_, rebuild_, overflow_, rebuild_count_, cell_dims_;
  Buf<int> cell_count_, cell_list_, nbr_count_, nbr_list_, species_n_;
  Buf<double> partial_, obs_;
  Buf<real> half_acc_;    // half lists: per-range force/energy/virial accumulators
  Buf<int> species_acc_;  // half lists: per-range species counters (allocated on first use)
  // Half lists: cell-sorted copies for BuildHalfNeighborsSorted.
  Buf<int> sorted_start_, sorted_rank_, sorted_type_, sorted_gid_;
  Buf<real> sorted_x_, sorted_y_, sorted_z_;
  // Device memory only: the state at the start of the current block (see run_device).
  Buf<real> start_x_, start_y_, start_z_, start_vx_, start_vy_, start_vz_, start_box_;
  Buf<int> start_img_x_, start_img_y_, start_img_z_;
  Buf<double> start_obs_;
  std::size_t device_bytes_ = 0;  // estimate of the device memory held (require_device_memory)
};

}  // namespace vitrify
