#pragma once
// The backend interface: a replica batch that can be stepped, read and written. One
// implementation per execution policy (CPU now, CUDA later), all built from the same
// kernel bodies through ReplicaEngine<Exec, Model>.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vitrify/core/batch_state.hpp"
#include "vitrify/core/ensemble.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/core/real.hpp"

namespace vitrify {

// The step kernels ("kernel" in the configuration): per-particle kernels over the whole batch
// (about 15 launches a step), or the block kernel, one team (thread block) per replica running
// a whole block of steps (kernels/block_step.hpp). make_engine resolves kAuto.
enum class KernelKind { kPerParticle, kBlock, kAuto };

struct EngineSettings {
  double dt = 0.005;
  double skin = 0.3;
  Ensemble ensemble = Ensemble::kNVT;
  ThermostatKind thermostat = ThermostatKind::kBerendsen;  // used unless NVE
  BarostatKind barostat = BarostatKind::kBerendsen;        // used under NPT
  double thermostat_tau = 0.5;
  double barostat_tau = 5.0;
  double bulk_modulus = 10.0;
  // Key of the stochastic components' random numbers (kernels/random.hpp): the configuration's
  // "seed"; with each replica's id (set_replica_ids) and step it fixes every draw.
  std::uint64_t seed = 1;
  KernelKind kernel = KernelKind::kPerParticle;
  // Device path, per-particle kernel: replay a captured block of steps (a CUDA graph; an
  // emulated one on the CPU) instead of launching every kernel. Results are bitwise the same.
  bool graphs = true;
};

// Quasi-species summary of a batch's current configuration, per replica and (type, n) bin,
// bin = type * max_n + min(n, max_n - 1) (n: quasi-species neighbours): what a production
// sample takes from the species counts and the per-particle energies.
struct SpeciesSummary {
  int replicas = 0, bins = 0;
  std::vector<int> count;     // R * bins: particles in the bin
  std::vector<double> sums;   // R * bins * 4: sums of u_i, u_i^2, bound, bound^2
  std::vector<int> overflow;  // R: particles with n >= max_n (counted in the last bin)
  static constexpr int kSums = 4;
  static constexpr int kU = 0, kU2 = 1, kBound = 2, kBound2 = 3;
};

// Diagnostics of the neighbour lists.
struct NeighborStats {
  long builds = 0;        // summed over replicas
  int max_neighbors = 0;  // current capacity per particle
  int cell_capacity = 0;  // current capacity per cell
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string backend_name() const = 0;
  virtual std::string model_name() const = 0;
  // The step kernels the engine runs: "per-particle" or "block".
  virtual std::string kernel_name() const { return "per-particle"; }
  // The hardware the engine runs on, for logs and benchmarks (CUDA: the GPU's name).
  virtual std::string device_name() const { return backend_name(); }
  // Replaces the batch (allocates, builds every neighbour list, computes forces).
  virtual void set_state(const BatchState& state) = 0;
  virtual void get_state(BatchState& state) = 0;
  // Per-replica targets: the thermostat temperature moves linearly from t_start to t_end
  // as the ramp fraction goes from 0 to 1 (see run()); p_target is used under NPT.
  virtual void set_targets(const std::vector<double>& t_start, const std::vector<double>& t_end,
                           const std::vector<double>& p_target) = 0;
  // The scan-wide index of each replica of the batch (R values, >= 0), which keys its random
  // numbers: a replica draws the same numbers whatever batch it is in. Like the targets it is
  // not part of the state; set_state and load_state of a batch of a new size reset it to
  // 0..R-1.
  virtual void set_replica_ids(const std::vector<int>& ids) = 0;
  // Advances every replica by `steps` steps; the ramp fraction goes linearly from ramp_begin
  // (first step) to ramp_end (last step).
  virtual void run(long steps, double ramp_begin = 1.0, double ramp_end = 1.0) = 0;
  // Per-replica observables of the last step, R * kObsCount doubles (see
  // include/vitrify/core/observables.hpp).
  virtual void observables(std::vector<double>& out) = 0;
  // Number of quasi-species neighbours of every particle (R*N), current configuration.
  virtual void species_neighbor_counts(std::vector<int>& out) = 0;
  // Per-particle energies (full neighbour sum, so the total is half their sum), virials,
  // forces of the current configuration.
  virtual void particle_energies(std::vector<real>& u_i) = 0;
  // Per-particle bound energies (R*N), current configuration: the sum of U(r_ij) over the
  // quasi-species neighbours j only (Model::is_species_neighbor), not halved: the paper's
  // per-species energy. Equal to particle_energies where the species radius is the cutoff.
  virtual void bound_energies(std::vector<real>& u_bound) = 0;
  // The species summary of the current configuration for `n_types` types and bins of
  // n = 0..max_n-1. Engines whose memory is not host memory compute it where the particles
  // are, so that only the summary is copied; this default builds it on the host from
  // get_state, species_neighbor_counts, particle_energies and bound_energies (the oracle).
  virtual void species_summary(int n_types, int max_n, SpeciesSummary& out);
  // Self-ISF frames kept where the particles are (kernels/isf.hpp), for engines whose memory is
  // not host memory (isf_frames_here() true): the production sampler then keeps the frames of
  // analysis::SelfIsfAccumulator here and receives per sample one sum per replica and origin.
  //   isf_select: M particles per replica (`selected`, R * M replica-local indices), the
  //     dimension and k (1/sigma); empties the store.
  //   isf_frame: one frame as analysis::SelfIsfAccumulator::plan_frame says: the store grows
  //     to `slots` slots, slot copy_from is copied into copy_to (if >= 0), the current frame
  //     (unwrapped positions of the selected particles, centre of mass removed) is correlated
  //     with each origin slot and then written into each store slot. sums: R * origins.size(),
  //     replica-major, each the sum over the M particles of the direction average.
  //   isf_slots: slots held (0 after isf_select, set_state and load_state: a changed batch
  //     loses its frames; the sampler brings them back with isf_write_slots).
  //   isf_read_slots / isf_write_slots: every slot (slot-major, then replica, then dim * M).
  virtual bool isf_frames_here() const { return false; }
  virtual void isf_select(int /*dim*/, double /*k*/, int /*m*/,
                          const std::vector<int>& /*selected*/) {
    throw SimulationError("the " + backend_name() + " backend keeps no ISF frames");
  }
  virtual int isf_slots() const { return 0; }
  virtual void isf_frame(int /*slots*/, int /*copy_from*/, int /*copy_to*/,
                         const std::vector<int>& /*origins*/, const std::vector<int>& /*stores*/,
                         std::vector<double>& /*sums*/) {
    throw SimulationError("the " + backend_name() + " backend keeps no ISF frames");
  }
  virtual void isf_read_slots(std::vector<double>& /*out*/) {
    throw SimulationError("the " + backend_name() + " backend keeps no ISF frames");
  }
  virtual void isf_write_slots(int /*slots*/, const std::vector<double>& /*in*/) {
    throw SimulationError("the " + backend_name() + " backend keeps no ISF frames");
  }
  virtual void forces(std::vector<real>& fx, std::vector<real>& fy, std::vector<real>& fz) = 0;
  // Neighbour list of one particle (global indices), for tests and diagnostics.
  virtual std::vector<int> neighbors_of(long gid) = 0;
  virtual NeighborStats neighbor_stats() = 0;
  // Bytes of the arrays set_state() would allocate for `replicas` replicas of `n` particles in
  // cubic (square) boxes of edge `box_edge` (sigma), by the same sizing rules; for policies
  // whose memory is not host memory, with the block-start copies and the growth margin of the
  // device-memory check. Allocates nothing. 0 when the engine cannot tell.
  virtual std::size_t batch_bytes(int /*replicas*/, int /*n*/, double /*box_edge*/) const {
    return 0;
  }
  // Exports the full state of the batch (for checkpoints).
  virtual void save_state(EngineCheckpoint&) {
    throw SimulationError("the " + backend_name() + " backend cannot save its state");
  }
  // Restores a state exported by save_state: the next run() continues exactly as the engine
  // that saved it would have (bitwise on the same backend and build). Targets are not part
  // of the state: call set_targets() as well.
  virtual void load_state(const EngineCheckpoint&) {
    throw SimulationError("the " + backend_name() + " backend cannot load a saved state");
  }
};

inline void Engine::species_summary(int n_types, int max_n, SpeciesSummary& out) {
  BatchState state;
  std::vector<int> nn;
  std::vector<real> u_i, u_bound;
  get_state(state);
  species_neighbor_counts(nn);
  particle_energies(u_i);
  bound_energies(u_bound);
  const int R = state.n_replicas, n = state.n, bins = n_types * max_n;
  out.replicas = R;
  out.bins = bins;
  out.count.assign(static_cast<std::size_t>(R) * bins, 0);
  out.sums.assign(static_cast<std::size_t>(R) * bins * SpeciesSummary::kSums, 0.0);
  out.overflow.assign(R, 0);
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < n; ++i) {
      const std::size_t g = static_cast<std::size_t>(r) * n + i;
      int k = nn[g];
      if (k >= max_n) {
        k = max_n - 1;
        ++out.overflow[r];
      }
      const std::size_t bin = static_cast<std::size_t>(r) * bins + state.type[g] * max_n + k;
      ++out.count[bin];
      double* s = &out.sums[bin * SpeciesSummary::kSums];
      const double u = u_i[g], ub = u_bound[g];
      s[SpeciesSummary::kU] += u;
      s[SpeciesSummary::kU2] += u * u;
      s[SpeciesSummary::kBound] += ub;
      s[SpeciesSummary::kBound2] += ub * ub;
    }
}

// Creates an engine for `model` ("binary3d", "hump2d") on `backend` ("cpu", "cuda", "auto").
// Throws InputError for an unknown model, or when "cuda" is requested but unavailable.
std::unique_ptr<Engine> make_engine(const std::string& backend, const std::string& model,
                                    const EngineSettings& settings);

// Whether this build has a CUDA backend and a device answers.
bool cuda_device_available(std::string* description = nullptr);

}  // namespace vitrify
