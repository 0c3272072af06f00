#include "vitrify/analysis/measure_fluctuation.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace vitrify::analysis {

FluctuationAccumulator::FluctuationAccumulator(long max_blocks) : max_blocks_(max_blocks) {
  if (max_blocks < 4 || max_blocks % 2 != 0)
    throw std::invalid_argument("FluctuationAccumulator: max_blocks must be even and >= 4");
}

void FluctuationAccumulator::add(double x) {
  if (n_samples_ == 0) x0_ = x;
  const double d = x - x0_;
  ++n_samples_;
  p1_ += d;
  p2_ += d * d;
  if (++partial_count_ < block_length_) return;
  s1_.push_back(p1_);
  s2_.push_back(p2_);
  p1_ = p2_ = 0;
  partial_count_ = 0;
  if (static_cast<long>(s1_.size()) >= max_blocks_) coarsen();
}

// Pairs neighbouring blocks: half as many blocks, twice as long.
void FluctuationAccumulator::coarsen() {
  const std::size_t half = s1_.size() / 2;
  for (std::size_t k = 0; k < half; ++k) {
    s1_[k] = s1_[2 * k] + s1_[2 * k + 1];
    s2_[k] = s2_[2 * k] + s2_[2 * k + 1];
  }
  s1_.resize(half);
  s2_.resize(half);
  block_length_ *= 2;
}

BlockEstimate FluctuationAccumulator::variance(long min_block_length, long min_blocks) const {
  const long g = std::max(1L, (std::max(1L, min_block_length) + block_length_ - 1) / block_length_);
  const long nb = static_cast<long>(s1_.size()) / g;
  BlockEstimate e;
  e.block_length = g * block_length_;
  e.n_blocks = nb;
  e.too_few_blocks = nb < min_blocks;
  if (nb < 1) return e;
  std::vector<double> a1(nb, 0.0), a2(nb, 0.0);
  double t1 = 0, t2 = 0;
  for (long k = 0; k < nb * g; ++k) {
    a1[k / g] += s1_[k];
    a2[k / g] += s2_[k];
    t1 += s1_[k];
    t2 += s2_[k];
  }
  const double n = double(nb) * double(e.block_length);
  auto var = [](double s1, double s2, double m) { return s2 / m - (s1 / m) * (s1 / m); };
  e.mean = var(t1, t2, n);
  e.n_samples = static_cast<long>(n);
  if (nb < 2) return e;
  std::vector<double> leave(nb);
  double mean_leave = 0;
  for (long k = 0; k < nb; ++k) {
    leave[k] = var(t1 - a1[k], t2 - a2[k], n - double(e.block_length));
    mean_leave += leave[k] / nb;
  }
  double ss = 0;
  for (double v : leave) ss += (v - mean_leave) * (v - mean_leave);
  e.error = std::sqrt(double(nb - 1) / nb * ss);
  return e;
}

nlohmann::json FluctuationAccumulator::to_json() const {
  return {{"max_blocks", max_blocks_},
          {"block_length", block_length_},
          {"s1", s1_},
          {"s2", s2_},
          {"x0", x0_},
          {"p1", p1_},
          {"p2", p2_},
          {"partial_count", partial_count_},
          {"n_samples", n_samples_}};
}

FluctuationAccumulator FluctuationAccumulator::from_json(const nlohmann::json& j) {
  FluctuationAccumulator a(j.at("max_blocks").get<long>());
  a.block_length_ = j.at("block_length").get<long>();
  a.s1_ = j.at("s1").get<std::vector<double>>();
  a.s2_ = j.at("s2").get<std::vector<double>>();
  if (a.s1_.size() != a.s2_.size() || a.block_length_ < 1)
    throw std::invalid_argument("FluctuationAccumulator: inconsistent state");
  a.x0_ = j.at("x0").get<double>();
  a.p1_ = j.at("p1").get<double>();
  a.p2_ = j.at("p2").get<double>();
  a.partial_count_ = j.at("partial_count").get<long>();
  a.n_samples_ = j.at("n_samples").get<long>();
  return a;
}

}  // namespace vitrify::analysis
