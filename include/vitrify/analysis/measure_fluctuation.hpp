#pragma once
// The variance of a sampled scalar (for fluctuation formulas such as the heat capacity
// <dE^2>/(N T^2)) with a block-jackknife error, in bounded memory: per-block sums of x - x0
// and (x - x0)^2 (x0 the first sample, for precision), neighbouring blocks paired whenever the
// stored blocks reach a cap, as in BlockAccumulator (measure_blocking.hpp).
#include <nlohmann/json.hpp>
#include <vector>

#include "vitrify/analysis/measure_blocking.hpp"

namespace vitrify::analysis {

class FluctuationAccumulator {
 public:
  // max_blocks even and >= 4.
  explicit FluctuationAccumulator(long max_blocks = 512);

  void add(double x);
  long n_samples() const { return n_samples_; }

  // The (biased, 1/n) variance <x^2> - <x>^2 over the complete blocks of g * block_length()
  // samples, g = ceil(min_block_length / block_length()), as `mean`; its jackknife error over
  // those blocks as `error` (NaN with fewer than 2 blocks); too_few_blocks below min_blocks.
  BlockEstimate variance(long min_block_length, long min_blocks = kMinBlocksForError) const;

  nlohmann::json to_json() const;
  static FluctuationAccumulator from_json(const nlohmann::json& j);

 private:
  void coarsen();

  long max_blocks_;
  long block_length_ = 1;
  std::vector<double> s1_, s2_;  // per complete block: sums of d and d^2, d = x - x0
  double x0_ = 0;
  double p1_ = 0, p2_ = 0;  // the incomplete block
  long partial_count_ = 0;
  long n_samples_ = 0;
};

}  // namespace vitrify::analysis
