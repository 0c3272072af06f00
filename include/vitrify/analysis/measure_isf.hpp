#pragma once
// Self-intermediate scattering function with a multiple-tau (block-logarithmic) scheme in
// bounded memory, and the alpha-relaxation time (docs/PHYSICS.md, "Measurements").
//
//   F_k(t) = < (1/M) sum_p <cos(k . d_p(t0, t0 + t))>_directions >_origins t0
//   d_p = [r_p(t0 + t) - r_p(t0)] - [R(t0 + t) - R(t0)],  R = centre of mass of the M particles
//
// The direction average is exact (kernels/isf.hpp: J0(kd) in 2D, sin(kd)/(kd) in 3D).
//
// Multiple-tau scheme, p = points_per_level, m = decimation (p a multiple of m, p >= 2m).
// Frames are numbered f = 0, 1, 2, ... in the order add_frame is called, frame_interval_time
// apart. Level l holds the last p frames whose number is a multiple of m^l (a ring buffer);
// when such a frame arrives it is correlated with the frames stored j places back, i.e. at
// lags j m^l frames, for
//   level 0:      j = 1 .. p-1
//   level l >= 1: j = p/m .. p-1      (smaller j would repeat lags of level l-1)
// So the lag grid is 1..p-1, then p/m*m .. (p-1)*m in steps of m, and so on: (p - p/m) points
// per factor m in lag, up to the run length. Lag j m^l uses the origins t0 = multiples of m^l
// (all origins at level 0) with t0 + lag <= last frame; counts() gives their number. Levels
// are created when the run first reaches them, so memory is p * dim * M doubles per level,
// i.e. O(p M log_m(frames / p)). Per frame the work is (p - 1) particle sweeps at level 0 plus
// (p - p/m) sweeps at every level l with f a multiple of m^l: about p + (p - p/m)/(m - 1)
// sweeps of M particles on average (23 for p = 16, m = 2).
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vitrify::analysis {

// Settings of the multiple-tau scheme.
struct IsfOptions {
  int points_per_level = 16;  // p: frames kept per level (a multiple of decimation, >= 2m)
  int decimation = 2;         // m: ratio of frame spacing between consecutive levels (>= 2)
  int max_levels = 0;         // most levels ever created (0 = as many as the run needs); the
                              // longest lag is then (p - 1) m^(max_levels - 1) frames
  long window_frames = 0;     // W > 0: besides the totals, keep the sums of each time window
                              // of W frames (a frame pair belongs to the window of its later
                              // frame), for the error of tau_alpha; 0 = no windows
};

// What one frame does to the frame buffers (SelfIsfAccumulator::plan_frame): a pure function of
// the number of frames added, the same for every replica sampled in step. Slots are numbered
// level * points_per_level + ring slot. An accumulator that keeps its frames elsewhere (where
// the particles are: Engine::isf_frame) is given the sums of the correlations instead of the
// frame.
struct IsfFramePlan {
  int new_level = -1;  // the level this frame creates (-1: none); its slot 0 receives copy_from
  int copy_from = -1;  // slot copied into the new level's slot 0 (-1: none, level 0 starts empty)
  std::vector<int> origin_slots;  // slots the current frame is correlated with, in this order
  std::vector<int> origin_level, origin_j;  // their level and place back (lag j m^level)
  std::vector<int> store_slots;             // slots that receive the current frame
  int slots = 0;  // slots in use after the frame (levels * points_per_level)
};

// A measured F_k(t): ascending lags (tau) and values.
struct IsfCurve {
  std::vector<double> t;
  std::vector<double> F;
};

// Accumulates the self-ISF of M particles of one replica (or, after merge, of several
// replicas at the same state point).
class SelfIsfAccumulator {
 public:
  // dim: 2 or 3; k: wave number (1/sigma); n_particles: M selected particles;
  // frame_interval_time: time between consecutive add_frame calls (tau).
  SelfIsfAccumulator(int dim, double k, int n_particles, double frame_interval_time,
                     const IsfOptions& options = IsfOptions());

  // Adds the next frame: unwrapped positions (sigma) of the M selected particles, always in the
  // same order; z is ignored (may be null) in 2D. The centre-of-mass displacement of the M
  // particles is removed.
  void add_frame(const double* x, const double* y, const double* z);

  // Frames kept elsewhere (the device path: the engine holds the buffers, slot by slot in the
  // layout of frame_slots()). plan_frame says what the next frame does; apply_frame then adds
  // it from the sums over the M particles of the direction average for each plan.origin_slots
  // entry (same order, centre of mass removed from both frames, not divided by M). Exactly
  // what add_frame does with the same sums. After release_frames the accumulator keeps no
  // frames; set_frame_slots gives them back (for to_json, which needs them).
  IsfFramePlan plan_frame() const;
  void apply_frame(const IsfFramePlan& plan, const double* origin_sums);
  void release_frames();
  bool holds_frames() const { return !frames_released_; }
  // The frames of every slot in use, slot after slot, each dim * M doubles (x block, y block
  // [, z block]); set_frame_slots takes the same layout (slots_in_use() slots).
  std::vector<double> frame_slots() const;
  void set_frame_slots(const std::vector<double>& slots);
  int slots_in_use() const { return static_cast<int>(levels_.size()) * options_.points_per_level; }

  // Measured lags (tau), ascending; only lags with at least one origin. Same length and order
  // as values() and counts().
  std::vector<double> lag_times() const;
  // Measured lags in frames.
  std::vector<long> lag_frames() const;
  // F_k at each measured lag: mean over the origin pairs of (1/M) sum_p (direction average).
  std::vector<double> values() const;
  // Number of origin pairs behind each value.
  std::vector<long> counts() const;

  // Time windows (options().window_frames > 0): the number of complete windows so far, and the
  // F_k(t) of the frame pairs whose later frame lies in window w (frames w W .. (w+1) W - 1).
  // Lags longer than W use origins of earlier windows. The windows' sums add up to the totals.
  int complete_windows() const;
  IsfCurve window_curve(int w) const;
  // The F_k(t) of the consecutive windows first .. first + count - 1 taken together (their
  // sums added): one longer window. Empty when they are not all there.
  IsfCurve windows_curve(int first, int count) const;

  // Pools another accumulator of the same state point (independent replica): the per-lag sums
  // and counts are added, so every origin pair weighs the same (window by window as well).
  // Requires the same dim, k, frame interval, points_per_level, decimation and window_frames
  // (throws std::invalid_argument otherwise).
  // The frame buffers stay this accumulator's: further add_frame calls continue its own
  // trajectory.
  void merge(const SelfIsfAccumulator& other);

  int dimension() const { return dim_; }
  double wave_number() const { return k_; }
  int n_particles() const { return n_particles_; }
  double frame_interval_time() const { return frame_interval_time_; }
  const IsfOptions& options() const { return options_; }
  long frames_added() const { return frames_added_; }

  // Exact, restorable state (settings, buffers, sums and counts). The position buffers make it
  // large (p * dim * M doubles per level); a frame that a level shares with the level below (half
  // of every level above 0 once it has filled) is written once, as a reference. For checkpoints
  // prefer a binary encoding of this object (nlohmann::json::to_cbor stores doubles exactly).
  // from_json also reads states written without the references.
  nlohmann::json to_json() const;
  static SelfIsfAccumulator from_json(const nlohmann::json& state);

 private:
  struct Level {
    std::vector<double> frames;  // p slots, each dim * M doubles (x block, y block[, z block])
    int n_stored = 0;            // frames stored (<= p)
    int newest = -1;             // slot of the most recent frame
  };
  long level_stride(int level) const;  // m^level frames
  int first_j(int level) const {
    return level == 0 ? 1 : options_.points_per_level / options_.decimation;
  }
  void ensure_result_levels(size_t n_levels);
  // Adds the plan's sums and counts and advances the ring buffers; with `current`, also
  // copies and stores the frames (frames held here).
  void advance(const IsfFramePlan& plan, const double* origin_sums, const double* current);
  bool frames_released_ = false;

  int dim_;
  double k_;
  int n_particles_;
  double frame_interval_time_;
  IsfOptions options_;
  long frames_added_ = 0;
  std::vector<Level> levels_;
  std::vector<std::vector<double>> sums_;  // [level][j]: sum over origins of the frame-pair F
  std::vector<std::vector<long>> counts_;  // [level][j]: origins
  // [window][level][j]: the same per time window (window_frames > 0)
  std::vector<std::vector<std::vector<double>>> window_sums_;
  std::vector<std::vector<std::vector<long>>> window_counts_;
  std::vector<double> scratch_;  // current frame with the centre of mass removed
};

// The alpha-relaxation time from a measured F_k(t).
struct TauAlpha {
  bool reached = false;  // F fell to the threshold within the measured lags
  double value = std::numeric_limits<double>::quiet_NaN();  // tau_alpha (tau); NaN if not reached
  double lower_bound = std::numeric_limits<double>::quiet_NaN();  // not reached: longest lag
  bool below_first_lag = false;  // F <= threshold already at the first lag: value is that lag,
                                 // an upper bound (no interpolation towards t = 0)
};

// tau_alpha = the first lag where F <= threshold, interpolated linearly in ln t between that
// lag and the previous one: ln tau = ln t_{i-1} + (F_{i-1} - c)/(F_{i-1} - F_i) ln(t_i/t_{i-1}).
// If F stays above the threshold: reached = false, lower_bound = the longest lag. Never
// extrapolates. t: ascending positive lags (tau); F same length.
TauAlpha extract_tau_alpha(const std::vector<double>& t, const std::vector<double>& F,
                           double threshold = 0.36787944117144233 /* 1/e */);

// The statistical error of tau_alpha from n independent estimates of it (one per copy of the
// state point, or one per time window of a single trajectory): error = s / sqrt(n), s the
// sample standard deviation, the standard error of their mean (which the pooled tau_alpha
// estimates). NaN, with the reason in `note`, when n < 2 or an estimate did not reach 1/e.
struct TauAlphaSpread {
  double error = std::numeric_limits<double>::quiet_NaN();
  double mean = std::numeric_limits<double>::quiet_NaN();  // mean of the estimates
  int n_estimates = 0;
  std::string note;  // why error is NaN; empty otherwise
};
TauAlphaSpread tau_alpha_spread(const std::vector<TauAlpha>& estimates);

}  // namespace vitrify::analysis
