// Multiple-tau self-ISF accumulator and tau_alpha extraction.
#include "vitrify/analysis/measure_isf.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/isf.hpp"

namespace vitrify::analysis {
namespace {

// Sum over particles of the direction-averaged cos(k . d), d = current - origin (both with the
// centre of mass removed). DIM is a compile-time constant so each loop is specialised.
template <int DIM>
double sweep_particles(double k, int n, const double* current, const double* origin) {
  const double* cx = current;
  const double* cy = current + n;
  const double* ox = origin;
  const double* oy = origin + n;
  double sum = 0.0;
  if constexpr (DIM == 3) {
    const double* cz = current + 2 * n;
    const double* oz = origin + 2 * n;
    for (int i = 0; i < n; ++i)
      sum += kernels::self_isf_term(3, k, cx[i] - ox[i], cy[i] - oy[i], cz[i] - oz[i]);
  } else {
    for (int i = 0; i < n; ++i)
      sum += kernels::self_isf_term(2, k, cx[i] - ox[i], cy[i] - oy[i], 0.0);
  }
  return sum;
}

void check_options(const IsfOptions& o) {
  if (o.decimation < 2) throw std::invalid_argument("IsfOptions: decimation must be >= 2");
  if (o.points_per_level % o.decimation != 0 || o.points_per_level < 2 * o.decimation)
    throw std::invalid_argument(
        "IsfOptions: points_per_level must be a multiple of decimation and >= 2 * decimation");
  if (o.max_levels < 0) throw std::invalid_argument("IsfOptions: max_levels must be >= 0");
  if (o.window_frames < 0) throw std::invalid_argument("IsfOptions: window_frames must be >= 0");
}

// F = sums / counts over the lags with at least one pair, in lag order.
IsfCurve curve_of(const std::vector<std::vector<double>>& sums,
                  const std::vector<std::vector<long>>& counts, int p, int m,
                  double frame_interval_time) {
  IsfCurve out;
  long stride = 1;
  for (size_t l = 0; l < counts.size(); ++l, stride *= m) {
    for (int j = l == 0 ? 1 : p / m; j < p; ++j) {
      const long c = counts[l][static_cast<size_t>(j)];
      if (c <= 0) continue;
      out.t.push_back(static_cast<double>(stride * j) * frame_interval_time);
      out.F.push_back(sums[l][static_cast<size_t>(j)] / static_cast<double>(c));
    }
  }
  return out;
}

}  // namespace

SelfIsfAccumulator::SelfIsfAccumulator(int dim, double k, int n_particles,
                                       double frame_interval_time, const IsfOptions& options)
    : dim_(dim),
      k_(k),
      n_particles_(n_particles),
      frame_interval_time_(frame_interval_time),
      options_(options) {
  if (dim != 2 && dim != 3) throw std::invalid_argument("SelfIsfAccumulator: dim must be 2 or 3");
  if (!(k > 0.0) || !std::isfinite(k))
    throw std::invalid_argument("SelfIsfAccumulator: k must be positive");
  if (n_particles < 1) throw std::invalid_argument("SelfIsfAccumulator: no particles selected");
  if (!(frame_interval_time > 0.0) || !std::isfinite(frame_interval_time))
    throw std::invalid_argument("SelfIsfAccumulator: frame_interval_time must be positive");
  check_options(options);
  scratch_.assign(static_cast<size_t>(dim_) * static_cast<size_t>(n_particles_), 0.0);
}

long SelfIsfAccumulator::level_stride(int level) const {
  long s = 1;
  for (int l = 0; l < level; ++l) s *= options_.decimation;
  return s;
}

void SelfIsfAccumulator::ensure_result_levels(size_t n_levels) {
  const size_t p = static_cast<size_t>(options_.points_per_level);
  while (sums_.size() < n_levels) {
    sums_.emplace_back(p, 0.0);
    counts_.emplace_back(p, 0L);
  }
}

IsfFramePlan SelfIsfAccumulator::plan_frame() const {
  IsfFramePlan plan;
  const int p = options_.points_per_level;
  const int m = options_.decimation;
  const long f = frames_added_;
  int levels = static_cast<int>(levels_.size());
  int below_store = -1;  // ring slot the level below stores this frame in
  for (int level = 0;; ++level) {
    if (f % level_stride(level) != 0) break;
    int n_stored, newest;
    if (level >= levels) {
      // Level `level` starts when frame m^level arrives (frame 0 is its first frame, copied
      // from the level below, where it is m places back); never at frame 0.
      if (f == 0 && level > 0) break;
      if (options_.max_levels > 0 && level >= options_.max_levels) break;
      plan.new_level = level;
      levels = level + 1;
      if (level > 0) {
        plan.copy_from = (level - 1) * p + ((below_store - m) % p + p) % p;
        n_stored = 1;
        newest = 0;
      } else {
        n_stored = 0;
        newest = -1;
      }
    } else {
      n_stored = levels_[static_cast<size_t>(level)].n_stored;
      newest = levels_[static_cast<size_t>(level)].newest;
    }
    // Before the store the newest frame is 1 place back, the one j places back sits at ring
    // slot newest - (j - 1).
    const int j_max = std::min(p - 1, n_stored);
    for (int j = first_j(level); j <= j_max; ++j) {
      plan.origin_slots.push_back(level * p + ((newest - (j - 1)) % p + p) % p);
      plan.origin_level.push_back(level);
      plan.origin_j.push_back(j);
    }
    below_store = (newest + 1) % p;
    plan.store_slots.push_back(level * p + below_store);
  }
  plan.slots = levels * p;
  return plan;
}

void SelfIsfAccumulator::advance(const IsfFramePlan& plan, const double* origin_sums,
                                 const double* current) {
  const int p = options_.points_per_level;
  const size_t frame_size = static_cast<size_t>(dim_) * static_cast<size_t>(n_particles_);
  auto slot_data = [&](int slot) {
    return levels_[static_cast<size_t>(slot / p)].frames.data() +
           static_cast<size_t>(slot % p) * frame_size;
  };
  if (plan.new_level >= 0) {
    Level fresh;
    if (plan.new_level > 0) {
      fresh.n_stored = 1;
      fresh.newest = 0;
    }
    if (current) {
      fresh.frames.assign(static_cast<size_t>(p) * frame_size, 0.0);
      if (plan.copy_from >= 0) {
        const double* src = slot_data(plan.copy_from);
        std::copy(src, src + frame_size, fresh.frames.begin());
      }
    }
    levels_.push_back(std::move(fresh));
    ensure_result_levels(levels_.size());
  }
  std::vector<std::vector<double>>* wsums = nullptr;
  std::vector<std::vector<long>>* wcounts = nullptr;
  if (options_.window_frames > 0) {
    const size_t w = static_cast<size_t>(frames_added_ / options_.window_frames);
    while (window_sums_.size() <= w) {
      window_sums_.emplace_back();
      window_counts_.emplace_back();
    }
    wsums = &window_sums_[w];
    wcounts = &window_counts_[w];
    // The levels this frame reaches (the window's levels grow as its frames reach them).
    const size_t reached =
        plan.store_slots.empty() ? 0 : static_cast<size_t>(plan.store_slots.back() / p + 1);
    while (wsums->size() < reached) {
      wsums->emplace_back(static_cast<size_t>(p), 0.0);
      wcounts->emplace_back(static_cast<size_t>(p), 0L);
    }
  }
  const double inv_m = 1.0 / static_cast<double>(n_particles_);
  for (size_t o = 0; o < plan.origin_slots.size(); ++o) {
    double s;
    if (current) {
      const double* origin = slot_data(plan.origin_slots[o]);
      s = dim_ == 3 ? sweep_particles<3>(k_, n_particles_, current, origin)
                    : sweep_particles<2>(k_, n_particles_, current, origin);
    } else {
      s = origin_sums[o];
    }
    const size_t l = static_cast<size_t>(plan.origin_level[o]);
    const size_t j = static_cast<size_t>(plan.origin_j[o]);
    sums_[l][j] += s * inv_m;
    counts_[l][j] += 1;
    if (wsums) {
      (*wsums)[l][j] += s * inv_m;
      (*wcounts)[l][j] += 1;
    }
  }
  for (int slot : plan.store_slots) {
    Level& lv = levels_[static_cast<size_t>(slot / p)];
    lv.newest = slot % p;
    lv.n_stored = std::min(lv.n_stored + 1, p);
    if (current) std::copy(current, current + frame_size, slot_data(slot));
  }
  ++frames_added_;
}

void SelfIsfAccumulator::apply_frame(const IsfFramePlan& plan, const double* origin_sums) {
  if (!plan.origin_slots.empty() && origin_sums == nullptr)
    throw std::invalid_argument("SelfIsfAccumulator::apply_frame: no sums");
  if (!frames_released_)
    throw std::logic_error(
        "SelfIsfAccumulator::apply_frame: the frames are held here (add_frame, or "
        "release_frames first)");
  advance(plan, origin_sums, nullptr);
}

void SelfIsfAccumulator::release_frames() {
  for (Level& lv : levels_) std::vector<double>().swap(lv.frames);
  frames_released_ = true;
}

std::vector<double> SelfIsfAccumulator::frame_slots() const {
  if (frames_released_)
    throw std::logic_error("SelfIsfAccumulator::frame_slots: the frames are kept elsewhere");
  std::vector<double> out;
  for (const Level& lv : levels_) out.insert(out.end(), lv.frames.begin(), lv.frames.end());
  return out;
}

void SelfIsfAccumulator::set_frame_slots(const std::vector<double>& slots) {
  const size_t level_size = static_cast<size_t>(options_.points_per_level) *
                            static_cast<size_t>(dim_) * static_cast<size_t>(n_particles_);
  if (slots.size() != level_size * levels_.size())
    throw std::invalid_argument("SelfIsfAccumulator::set_frame_slots: wrong number of values");
  for (size_t l = 0; l < levels_.size(); ++l)
    levels_[l].frames.assign(slots.begin() + static_cast<long>(l * level_size),
                             slots.begin() + static_cast<long>((l + 1) * level_size));
  frames_released_ = false;
}

void SelfIsfAccumulator::add_frame(const double* x, const double* y, const double* z) {
  if (x == nullptr || y == nullptr || (dim_ == 3 && z == nullptr))
    throw std::invalid_argument("SelfIsfAccumulator::add_frame: missing coordinate array");
  if (frames_released_)
    throw std::logic_error("SelfIsfAccumulator::add_frame: the frames are kept elsewhere");
  const int n = n_particles_;
  const double* coords[3] = {x, y, z};
  for (int d = 0; d < dim_; ++d) {
    const double* c = coords[d];
    double com = 0.0;
    for (int i = 0; i < n; ++i) com += c[i];
    com /= static_cast<double>(n);
    double* out = scratch_.data() + static_cast<size_t>(d) * static_cast<size_t>(n);
    for (int i = 0; i < n; ++i) out[i] = c[i] - com;
  }
  advance(plan_frame(), nullptr, scratch_.data());
}

std::vector<long> SelfIsfAccumulator::lag_frames() const {
  std::vector<long> out;
  for (size_t l = 0; l < counts_.size(); ++l) {
    const long stride = level_stride(static_cast<int>(l));
    for (int j = first_j(static_cast<int>(l)); j < options_.points_per_level; ++j)
      if (counts_[l][static_cast<size_t>(j)] > 0) out.push_back(stride * j);
  }
  return out;
}

std::vector<double> SelfIsfAccumulator::lag_times() const {
  std::vector<double> out;
  for (long lag : lag_frames()) out.push_back(static_cast<double>(lag) * frame_interval_time_);
  return out;
}

std::vector<double> SelfIsfAccumulator::values() const {
  std::vector<double> out;
  for (size_t l = 0; l < counts_.size(); ++l)
    for (int j = first_j(static_cast<int>(l)); j < options_.points_per_level; ++j) {
      const long c = counts_[l][static_cast<size_t>(j)];
      if (c > 0) out.push_back(sums_[l][static_cast<size_t>(j)] / static_cast<double>(c));
    }
  return out;
}

std::vector<long> SelfIsfAccumulator::counts() const {
  std::vector<long> out;
  for (size_t l = 0; l < counts_.size(); ++l)
    for (int j = first_j(static_cast<int>(l)); j < options_.points_per_level; ++j) {
      const long c = counts_[l][static_cast<size_t>(j)];
      if (c > 0) out.push_back(c);
    }
  return out;
}

int SelfIsfAccumulator::complete_windows() const {
  if (options_.window_frames <= 0) return 0;
  return static_cast<int>(frames_added_ / options_.window_frames);
}

IsfCurve SelfIsfAccumulator::window_curve(int w) const {
  if (w < 0 || static_cast<size_t>(w) >= window_sums_.size()) return {};
  return curve_of(window_sums_[static_cast<size_t>(w)], window_counts_[static_cast<size_t>(w)],
                  options_.points_per_level, options_.decimation, frame_interval_time_);
}

IsfCurve SelfIsfAccumulator::windows_curve(int first, int count) const {
  if (first < 0 || count < 1 || static_cast<size_t>(first) + count > window_sums_.size()) return {};
  const size_t p = static_cast<size_t>(options_.points_per_level);
  std::vector<std::vector<double>> sums;
  std::vector<std::vector<long>> counts;
  for (size_t w = first; w < static_cast<size_t>(first) + count; ++w)
    for (size_t l = 0; l < window_sums_[w].size(); ++l) {
      if (sums.size() <= l) {
        sums.emplace_back(p, 0.0);
        counts.emplace_back(p, 0L);
      }
      for (size_t j = 0; j < p; ++j) {
        sums[l][j] += window_sums_[w][l][j];
        counts[l][j] += window_counts_[w][l][j];
      }
    }
  return curve_of(sums, counts, options_.points_per_level, options_.decimation,
                  frame_interval_time_);
}

void SelfIsfAccumulator::merge(const SelfIsfAccumulator& other) {
  if (other.dim_ != dim_ || other.k_ != k_ || other.frame_interval_time_ != frame_interval_time_ ||
      other.options_.points_per_level != options_.points_per_level ||
      other.options_.decimation != options_.decimation ||
      other.options_.window_frames != options_.window_frames)
    throw std::invalid_argument(
        "SelfIsfAccumulator::merge: different dimension, k, frame interval, lag grid or time "
        "windows");
  ensure_result_levels(other.sums_.size());
  for (size_t l = 0; l < other.sums_.size(); ++l)
    for (size_t j = 0; j < other.sums_[l].size(); ++j) {
      sums_[l][j] += other.sums_[l][j];
      counts_[l][j] += other.counts_[l][j];
    }
  const size_t p = static_cast<size_t>(options_.points_per_level);
  if (window_sums_.size() < other.window_sums_.size()) {
    window_sums_.resize(other.window_sums_.size());
    window_counts_.resize(other.window_sums_.size());
  }
  for (size_t w = 0; w < other.window_sums_.size(); ++w) {
    while (window_sums_[w].size() < other.window_sums_[w].size()) {
      window_sums_[w].emplace_back(p, 0.0);
      window_counts_[w].emplace_back(p, 0L);
    }
    for (size_t l = 0; l < other.window_sums_[w].size(); ++l)
      for (size_t j = 0; j < p; ++j) {
        window_sums_[w][l][j] += other.window_sums_[w][l][j];
        window_counts_[w][l][j] += other.window_counts_[w][l][j];
      }
  }
}

nlohmann::json SelfIsfAccumulator::to_json() const {
  if (frames_released_)
    throw std::logic_error("SelfIsfAccumulator::to_json: the frames are kept elsewhere");
  // Compact: a level l >= 1 keeps half of its frames also in level l - 1 (the newest p/m of its
  // frames, numbers that are multiples of m^l, are among the last p multiples of m^(l-1)). Such a
  // slot is stored as the index of the identical slot below ("same_as"), -1 otherwise; only the
  // other slots' frames are written ("frames", in slot order). Exact: bitwise comparison.
  const size_t frame_size = scratch_.size();
  const int p = options_.points_per_level;
  nlohmann::json levels = nlohmann::json::array();
  for (size_t l = 0; l < levels_.size(); ++l) {
    const Level& lv = levels_[l];
    std::vector<int> same_as(static_cast<size_t>(p), -1);
    std::vector<double> own;
    own.reserve(lv.frames.size());
    for (int slot = 0; slot < p; ++slot) {
      const double* f = lv.frames.data() + static_cast<size_t>(slot) * frame_size;
      if (l > 0) {
        const Level& below = levels_[l - 1];
        for (int b = 0; b < p && same_as[static_cast<size_t>(slot)] < 0; ++b)
          if (std::memcmp(f, below.frames.data() + static_cast<size_t>(b) * frame_size,
                          frame_size * sizeof(double)) == 0)
            same_as[static_cast<size_t>(slot)] = b;
      }
      if (same_as[static_cast<size_t>(slot)] < 0) own.insert(own.end(), f, f + frame_size);
    }
    levels.push_back(
        {{"n_stored", lv.n_stored}, {"newest", lv.newest}, {"same_as", same_as}, {"frames", own}});
  }
  return nlohmann::json{{"format", "vitrify-self-isf-accumulator"},
                        {"version", 1},
                        {"dimension", dim_},
                        {"k", k_},
                        {"n_particles", n_particles_},
                        {"frame_interval_time", frame_interval_time_},
                        {"points_per_level", options_.points_per_level},
                        {"decimation", options_.decimation},
                        {"max_levels", options_.max_levels},
                        {"window_frames", options_.window_frames},
                        {"window_sums", window_sums_},
                        {"window_counts", window_counts_},
                        {"frames_added", frames_added_},
                        {"levels", levels},
                        {"sums", sums_},
                        {"counts", counts_}};
}

SelfIsfAccumulator SelfIsfAccumulator::from_json(const nlohmann::json& state) {
  if (state.value("format", std::string()) != "vitrify-self-isf-accumulator" ||
      state.value("version", 0) != 1)
    throw std::invalid_argument("SelfIsfAccumulator::from_json: not a version-1 ISF state");
  IsfOptions opt;
  opt.points_per_level = state.at("points_per_level").get<int>();
  opt.decimation = state.at("decimation").get<int>();
  opt.max_levels = state.at("max_levels").get<int>();
  // Absent from states written before time windows existed.
  opt.window_frames = state.value("window_frames", 0L);
  SelfIsfAccumulator acc(state.at("dimension").get<int>(), state.at("k").get<double>(),
                         state.at("n_particles").get<int>(),
                         state.at("frame_interval_time").get<double>(), opt);
  acc.frames_added_ = state.at("frames_added").get<long>();
  const size_t frame_size = acc.scratch_.size();
  const int p = opt.points_per_level;
  for (const auto& jl : state.at("levels")) {
    Level lv;
    lv.n_stored = jl.at("n_stored").get<int>();
    lv.newest = jl.at("newest").get<int>();
    std::vector<double> own = jl.at("frames").get<std::vector<double>>();
    if (jl.contains("same_as")) {  // compact form (see to_json)
      const std::vector<int> same_as = jl.at("same_as").get<std::vector<int>>();
      const bool refers_below =
          std::any_of(same_as.begin(), same_as.end(), [](int b) { return b >= 0; });
      if (same_as.size() != static_cast<size_t>(p) || (acc.levels_.empty() && refers_below))
        throw std::invalid_argument("SelfIsfAccumulator::from_json: inconsistent level buffer");
      lv.frames.assign(static_cast<size_t>(p) * frame_size, 0.0);
      size_t next = 0;
      for (int slot = 0; slot < p; ++slot) {
        double* dst = lv.frames.data() + static_cast<size_t>(slot) * frame_size;
        const int b = same_as[static_cast<size_t>(slot)];
        if (b >= p)
          throw std::invalid_argument("SelfIsfAccumulator::from_json: inconsistent level buffer");
        if (b >= 0) {
          const double* src =
              acc.levels_.back().frames.data() + static_cast<size_t>(b) * frame_size;
          std::copy(src, src + frame_size, dst);
        } else {
          if (next + frame_size > own.size())
            throw std::invalid_argument("SelfIsfAccumulator::from_json: inconsistent level buffer");
          std::copy(own.begin() + static_cast<long>(next),
                    own.begin() + static_cast<long>(next + frame_size), dst);
          next += frame_size;
        }
      }
      if (next != own.size())
        throw std::invalid_argument("SelfIsfAccumulator::from_json: inconsistent level buffer");
    } else {  // states written before the compact form
      lv.frames = std::move(own);
    }
    if (lv.frames.size() != static_cast<size_t>(p) * frame_size || lv.n_stored < 0 ||
        lv.n_stored > p || lv.newest < -1 || lv.newest >= p)
      throw std::invalid_argument("SelfIsfAccumulator::from_json: inconsistent level buffer");
    acc.levels_.push_back(std::move(lv));
  }
  acc.sums_ = state.at("sums").get<std::vector<std::vector<double>>>();
  acc.counts_ = state.at("counts").get<std::vector<std::vector<long>>>();
  if (acc.sums_.size() != acc.counts_.size() || acc.sums_.size() < acc.levels_.size())
    throw std::invalid_argument("SelfIsfAccumulator::from_json: inconsistent sums/counts");
  for (size_t l = 0; l < acc.sums_.size(); ++l)
    if (acc.sums_[l].size() != static_cast<size_t>(p) ||
        acc.counts_[l].size() != static_cast<size_t>(p))
      throw std::invalid_argument("SelfIsfAccumulator::from_json: inconsistent sums/counts");
  if (state.contains("window_sums")) {
    acc.window_sums_ = state.at("window_sums").get<std::vector<std::vector<std::vector<double>>>>();
    acc.window_counts_ =
        state.at("window_counts").get<std::vector<std::vector<std::vector<long>>>>();
    bool ok = acc.window_sums_.size() == acc.window_counts_.size();
    for (size_t w = 0; ok && w < acc.window_sums_.size(); ++w) {
      ok = acc.window_sums_[w].size() == acc.window_counts_[w].size();
      for (size_t l = 0; ok && l < acc.window_sums_[w].size(); ++l)
        ok = acc.window_sums_[w][l].size() == static_cast<size_t>(p) &&
             acc.window_counts_[w][l].size() == static_cast<size_t>(p);
    }
    if (!ok) throw std::invalid_argument("SelfIsfAccumulator::from_json: inconsistent windows");
  }
  return acc;
}

TauAlpha extract_tau_alpha(const std::vector<double>& t, const std::vector<double>& F,
                           double threshold) {
  if (t.size() != F.size())
    throw std::invalid_argument("extract_tau_alpha: t and F differ in length");
  for (size_t i = 0; i < t.size(); ++i) {
    if (!(t[i] > 0.0) || !std::isfinite(t[i]) || (i > 0 && !(t[i] > t[i - 1])))
      throw std::invalid_argument("extract_tau_alpha: lags must be positive and ascending");
    if (!std::isfinite(F[i])) throw std::invalid_argument("extract_tau_alpha: non-finite F");
  }
  TauAlpha out;
  for (size_t i = 0; i < F.size(); ++i) {
    if (F[i] > threshold) continue;
    out.reached = true;
    if (i == 0) {
      out.value = t[0];
      out.below_first_lag = true;
      return out;
    }
    const double fraction = (F[i - 1] - threshold) / (F[i - 1] - F[i]);
    out.value = std::exp(std::log(t[i - 1]) + fraction * std::log(t[i] / t[i - 1]));
    return out;
  }
  if (!t.empty()) out.lower_bound = t.back();
  return out;
}

TauAlphaSpread tau_alpha_spread(const std::vector<TauAlpha>& estimates) {
  TauAlphaSpread out;
  out.n_estimates = static_cast<int>(estimates.size());
  if (estimates.size() < 2) {
    out.note = "fewer than two estimates";
    return out;
  }
  double sum = 0.0;
  for (const TauAlpha& e : estimates) {
    if (!e.reached) {
      out.note = "an estimate did not reach 1/e";
      return out;
    }
    sum += e.value;
  }
  const double n = static_cast<double>(estimates.size());
  out.mean = sum / n;
  double ss = 0.0;
  for (const TauAlpha& e : estimates) ss += (e.value - out.mean) * (e.value - out.mean);
  out.error = std::sqrt(ss / (n - 1.0) / n);
  return out;
}

}  // namespace vitrify::analysis
