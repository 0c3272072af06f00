// Block averaging, blocking analysis, replica pooling and the two-halves check.
#include "vitrify/analysis/measure_blocking.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace vitrify::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Error estimate from consecutive block sums of `base_length` samples, grouped `group` at a
// time into blocks of group * base_length samples. A trailing incomplete group is left out.
struct BlockError {
  double error = kNaN;
  long n_blocks = 0;
};

BlockError error_from_block_sums(const double* sums, long n_base_blocks, long base_length,
                                 long group) {
  BlockError out;
  out.n_blocks = n_base_blocks / group;
  if (out.n_blocks < 2) return out;
  const double inv_length = 1.0 / (static_cast<double>(base_length) * static_cast<double>(group));
  std::vector<double> means(static_cast<size_t>(out.n_blocks));
  double mean_of_means = 0.0;
  for (long b = 0; b < out.n_blocks; ++b) {
    double s = 0.0;
    for (long g = 0; g < group; ++g) s += sums[b * group + g];
    means[static_cast<size_t>(b)] = s * inv_length;
    mean_of_means += means[static_cast<size_t>(b)];
  }
  mean_of_means /= static_cast<double>(out.n_blocks);
  double ss = 0.0;
  for (double m : means) ss += (m - mean_of_means) * (m - mean_of_means);
  const double nb = static_cast<double>(out.n_blocks);
  out.error = std::sqrt(ss / (nb * (nb - 1.0)));
  return out;
}

// Picks the plateau level of a blocking analysis (criterion documented in the header).
void select_plateau(BlockingAnalysis& a, long min_blocks) {
  a.plateau_found = false;
  a.optimal_level = -1;
  int last_trusted = -1;
  const double e1 = a.naive_error;
  for (size_t i = 0; i < a.levels.size(); ++i) {
    const BlockingLevel& lv = a.levels[i];
    if (lv.n_blocks < min_blocks) break;  // block lengths only grow from here
    last_trusted = static_cast<int>(i);
    const double ratio = (e1 > 0.0) ? lv.error / e1 : 0.0;
    const double b = static_cast<double>(lv.block_length);
    if (b * b * b > 2.0 * static_cast<double>(a.n_samples) * ratio * ratio * ratio * ratio) {
      a.plateau_found = true;
      a.optimal_level = static_cast<int>(i);
      break;
    }
  }
  if (!a.plateau_found) a.optimal_level = last_trusted;
  if (a.optimal_level >= 0) {
    const BlockingLevel& lv = a.levels[static_cast<size_t>(a.optimal_level)];
    a.error = lv.error;
    a.block_length = lv.block_length;
    a.n_blocks = lv.n_blocks;
  }
}

BlockingLevel make_level(long block_length, const BlockError& e) {
  BlockingLevel lv;
  lv.block_length = block_length;
  lv.n_blocks = e.n_blocks;
  lv.error = e.error;
  if (e.n_blocks >= 2) lv.error_uncertainty = e.error / std::sqrt(2.0 * (e.n_blocks - 1.0));
  return lv;
}

long ceil_div(long a, long b) { return (a + b - 1) / b; }

}  // namespace

BlockEstimate block_average(const std::vector<double>& series, long min_block_length,
                            long min_blocks) {
  BlockEstimate out;
  const long n = static_cast<long>(series.size());
  const long length = std::max(min_block_length, 1L);
  out.n_samples = n;
  out.block_length = length;
  if (n == 0) return out;
  double total = 0.0;
  for (double v : series) total += v;
  out.mean = total / static_cast<double>(n);
  const long nb = n / length;
  std::vector<double> sums(static_cast<size_t>(nb), 0.0);
  for (long b = 0; b < nb; ++b)
    for (long i = 0; i < length; ++i) sums[static_cast<size_t>(b)] += series[b * length + i];
  const BlockError e = error_from_block_sums(sums.data(), nb, length, 1);
  out.error = e.error;
  out.n_blocks = e.n_blocks;
  out.too_few_blocks = out.n_blocks < min_blocks || !std::isfinite(out.error);
  return out;
}

BlockingAnalysis blocking_analysis(const std::vector<double>& series, long min_blocks) {
  BlockingAnalysis a;
  a.n_samples = static_cast<long>(series.size());
  if (series.empty()) return a;
  double total = 0.0;
  for (double v : series) total += v;
  a.mean = total / static_cast<double>(a.n_samples);
  // Level j works on block means of 2^j samples; each level pairs the previous one's.
  std::vector<double> means = series;
  long block_length = 1;
  while (means.size() >= 2) {
    const BlockError e = error_from_block_sums(means.data(), static_cast<long>(means.size()), 1, 1);
    a.levels.push_back(make_level(block_length, e));
    std::vector<double> paired(means.size() / 2);
    for (size_t i = 0; i < paired.size(); ++i) paired[i] = 0.5 * (means[2 * i] + means[2 * i + 1]);
    means.swap(paired);
    block_length *= 2;
  }
  if (!a.levels.empty()) a.naive_error = a.levels.front().error;
  select_plateau(a, min_blocks);
  return a;
}

BlockEstimate pool_replicas(const std::vector<BlockEstimate>& replicas, long min_blocks) {
  if (replicas.empty()) throw std::invalid_argument("pool_replicas: no replicas given");
  BlockEstimate out;
  long total_samples = 0;
  for (const BlockEstimate& r : replicas) total_samples += r.n_samples;
  if (total_samples <= 0) throw std::invalid_argument("pool_replicas: replicas have no samples");
  double mean = 0.0;
  double variance = 0.0;
  bool error_missing = false;
  for (const BlockEstimate& r : replicas) {
    if (r.n_samples == 0) continue;
    const double w = static_cast<double>(r.n_samples) / static_cast<double>(total_samples);
    mean += w * r.mean;
    variance += w * w * r.error * r.error;
    if (!std::isfinite(r.error)) error_missing = true;
    out.n_blocks += r.n_blocks;
    out.block_length = std::max(out.block_length, r.block_length);
  }
  out.mean = mean;
  out.error = error_missing ? kNaN : std::sqrt(variance);
  out.n_samples = total_samples;
  out.too_few_blocks = error_missing || out.n_blocks < min_blocks;
  return out;
}

HalvesComparison compare_halves(const BlockEstimate& first, const BlockEstimate& second,
                                double z_threshold) {
  HalvesComparison c;
  c.first = first;
  c.second = second;
  c.z_threshold = z_threshold;
  c.difference = second.mean - first.mean;
  c.sigma = std::sqrt(first.error * first.error + second.error * second.error);
  c.too_few_blocks = first.too_few_blocks || second.too_few_blocks;
  if (!std::isfinite(c.sigma) || !std::isfinite(c.difference)) {
    c.z = kNaN;
  } else if (c.sigma == 0.0) {
    c.z = (c.difference == 0.0) ? 0.0 : std::numeric_limits<double>::infinity();
  } else {
    c.z = std::fabs(c.difference) / c.sigma;
  }
  c.agree = std::isfinite(c.z) && c.z < z_threshold;
  return c;
}

BlockEstimate half_with_whole_error(const BlockEstimate& half, const BlockEstimate& whole,
                                    long min_blocks) {
  if (!half.too_few_blocks || whole.too_few_blocks || whole.n_blocks < min_blocks ||
      half.n_samples <= 0 || !std::isfinite(whole.error))
    return half;
  BlockEstimate out = half;
  out.error = whole.error *
              std::sqrt(static_cast<double>(whole.n_samples) / static_cast<double>(half.n_samples));
  out.n_blocks = whole.n_blocks;
  out.too_few_blocks = false;
  return out;
}

HalvesComparison compare_halves(const std::vector<double>& series, long min_block_length,
                                double z_threshold, long min_blocks) {
  const size_t half = series.size() / 2;
  const std::vector<double> first(series.begin(), series.begin() + static_cast<long>(half));
  const std::vector<double> second(series.begin() + static_cast<long>(half), series.end());
  return compare_halves(block_average(first, min_block_length, min_blocks),
                        block_average(second, min_block_length, min_blocks), z_threshold);
}

// ---- BlockAccumulator ------------------------------------------------------------------------

BlockAccumulator::BlockAccumulator(long base_block_length, long max_blocks)
    : max_blocks_(max_blocks), block_length_(base_block_length) {
  if (base_block_length < 1)
    throw std::invalid_argument("BlockAccumulator: base_block_length must be >= 1");
  if (max_blocks < 4 || max_blocks % 2 != 0)
    throw std::invalid_argument("BlockAccumulator: max_blocks must be even and >= 4");
  block_sums_.reserve(static_cast<size_t>(max_blocks));
}

void BlockAccumulator::add(double value) {
  ++n_samples_;
  total_sum_ += value;
  const double delta = value - welford_mean_;
  welford_mean_ += delta / static_cast<double>(n_samples_);
  welford_m2_ += delta * (value - welford_mean_);
  partial_sum_ += value;
  ++partial_count_;
  if (partial_count_ < block_length_) return;
  block_sums_.push_back(partial_sum_);
  partial_sum_ = 0.0;
  partial_count_ = 0;
  if (static_cast<long>(block_sums_.size()) < max_blocks_) return;
  // Coarsen: pair neighbouring blocks (the count is even, max_blocks_).
  const size_t half = block_sums_.size() / 2;
  for (size_t i = 0; i < half; ++i) block_sums_[i] = block_sums_[2 * i] + block_sums_[2 * i + 1];
  block_sums_.resize(half);
  block_length_ *= 2;
}

double BlockAccumulator::mean() const {
  return n_samples_ > 0 ? total_sum_ / static_cast<double>(n_samples_) : kNaN;
}

BlockEstimate BlockAccumulator::estimate(long min_block_length, long min_blocks) const {
  BlockEstimate out;
  const long group = std::max(1L, ceil_div(std::max(min_block_length, 1L), block_length_));
  out.mean = mean();
  out.n_samples = n_samples_;
  out.block_length = group * block_length_;
  const BlockError e =
      error_from_block_sums(block_sums_.data(), n_stored_blocks(), block_length_, group);
  out.error = e.error;
  out.n_blocks = e.n_blocks;
  out.too_few_blocks = out.n_blocks < min_blocks || !std::isfinite(out.error);
  return out;
}

std::pair<BlockEstimate, BlockEstimate> BlockAccumulator::halves(long min_block_length,
                                                                 long min_blocks) const {
  const long h = n_stored_blocks() / 2;
  const long group = std::max(1L, ceil_div(std::max(min_block_length, 1L), block_length_));
  auto half_estimate = [&](const double* sums) {
    BlockEstimate out;
    out.n_samples = h * block_length_;
    out.block_length = group * block_length_;
    if (h > 0) {
      double s = 0.0;
      for (long i = 0; i < h; ++i) s += sums[i];
      out.mean = s / static_cast<double>(out.n_samples);
    }
    const BlockError e = error_from_block_sums(sums, h, block_length_, group);
    out.error = e.error;
    out.n_blocks = e.n_blocks;
    out.too_few_blocks = out.n_blocks < min_blocks || !std::isfinite(out.error);
    return out;
  };
  return {half_estimate(block_sums_.data()), half_estimate(block_sums_.data() + h)};
}

HalvesComparison BlockAccumulator::compare_halves(long min_block_length, double z_threshold,
                                                  long min_blocks) const {
  const auto h = halves(min_block_length, min_blocks);
  return analysis::compare_halves(h.first, h.second, z_threshold);
}

BlockingAnalysis BlockAccumulator::blocking_analysis(long min_blocks) const {
  BlockingAnalysis a;
  a.n_samples = n_samples_;
  a.mean = mean();
  if (n_samples_ == 0) return a;
  // Level 0: the naive estimate over every sample (Welford variance, n - 1 denominator).
  BlockError naive;
  naive.n_blocks = n_samples_;
  if (n_samples_ >= 2) {
    const double n = static_cast<double>(n_samples_);
    naive.error = std::sqrt(welford_m2_ / ((n - 1.0) * n));
  }
  a.levels.push_back(make_level(1, naive));
  a.naive_error = naive.error;
  // Then the stored blocks, grouped 1, 2, 4, ... (block length 1 is already level 0).
  for (long group = 1; n_stored_blocks() / group >= 2; group *= 2) {
    if (block_length_ * group == 1) continue;
    const BlockError e =
        error_from_block_sums(block_sums_.data(), n_stored_blocks(), block_length_, group);
    a.levels.push_back(make_level(block_length_ * group, e));
  }
  select_plateau(a, min_blocks);
  return a;
}

nlohmann::json BlockAccumulator::to_json() const {
  return nlohmann::json{{"format", "vitrify-block-accumulator"},
                        {"version", 1},
                        {"max_blocks", max_blocks_},
                        {"block_length", block_length_},
                        {"block_sums", block_sums_},
                        {"partial_sum", partial_sum_},
                        {"partial_count", partial_count_},
                        {"total_sum", total_sum_},
                        {"n_samples", n_samples_},
                        {"welford_mean", welford_mean_},
                        {"welford_m2", welford_m2_}};
}

BlockAccumulator BlockAccumulator::from_json(const nlohmann::json& state) {
  if (state.value("format", std::string()) != "vitrify-block-accumulator" ||
      state.value("version", 0) != 1)
    throw std::invalid_argument("BlockAccumulator::from_json: not a version-1 accumulator state");
  BlockAccumulator acc(state.at("block_length").get<long>(), state.at("max_blocks").get<long>());
  acc.block_sums_ = state.at("block_sums").get<std::vector<double>>();
  acc.partial_sum_ = state.at("partial_sum").get<double>();
  acc.partial_count_ = state.at("partial_count").get<long>();
  acc.total_sum_ = state.at("total_sum").get<double>();
  acc.n_samples_ = state.at("n_samples").get<long>();
  acc.welford_mean_ = state.at("welford_mean").get<double>();
  acc.welford_m2_ = state.at("welford_m2").get<double>();
  if (static_cast<long>(acc.block_sums_.size()) >= acc.max_blocks_ || acc.partial_count_ < 0 ||
      acc.partial_count_ >= acc.block_length_ ||
      acc.n_samples_ !=
          static_cast<long>(acc.block_sums_.size()) * acc.block_length_ + acc.partial_count_)
    throw std::invalid_argument("BlockAccumulator::from_json: inconsistent state");
  return acc;
}

}  // namespace vitrify::analysis
