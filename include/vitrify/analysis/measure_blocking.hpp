#pragma once
// Statistics of time series of scalar observables sampled at a fixed interval during
// production (docs/PHYSICS.md, "Measurements"): mean and standard error of the mean by block
// averaging, the Flyvbjerg-Petersen blocking analysis, pooling of independent replicas and the
// "two halves of production agree" check.
//
// Conventions. Lengths of blocks are counted in samples (the caller converts a time such as
// tau_alpha into samples). An "error" is one standard error of the mean. A block estimate
// uses block means b_i (i = 1..n_b) of consecutive samples:
//   error^2 = sum_i (b_i - mean_b)^2 / (n_b (n_b - 1)).
// The reported mean is the mean of all samples given (including a trailing incomplete block);
// the error uses the complete blocks from the start of the series only.
//
// Memory. For long runs use BlockAccumulator: it keeps block sums at a base block length and
// doubles the block length (pairing neighbouring blocks) whenever the number of stored blocks
// reaches a cap, so its memory is bounded by the cap whatever the run length, and the final
// block length (e.g. >= tau_alpha, only known at the end) is chosen after the fact. The
// functions on std::vector<double> are the batch equivalents (and test oracles).
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace vitrify::analysis {

// Fewest blocks whose error estimate is trusted. With n_b blocks the relative uncertainty of
// the error itself is about 1/sqrt(2 (n_b - 1)): 27 % for 8 blocks. Fewer blocks are flagged.
inline constexpr long kMinBlocksForError = 8;

// Default threshold of the two-halves check: the halves agree when |mean2 - mean1| is less
// than 3 combined standard errors (two-sided probability 0.27 % of a false alarm for Gaussian
// errors).
inline constexpr double kHalvesZThreshold = 3.0;

// Mean and standard error of one series (or of pooled replicas).
struct BlockEstimate {
  double mean = std::numeric_limits<double>::quiet_NaN();   // mean of the samples used
  double error = std::numeric_limits<double>::quiet_NaN();  // standard error; NaN if < 2 blocks
  long n_samples = 0;                                       // samples entering the mean
  long block_length = 0;       // samples per block (pooled: the longest of the replicas')
  long n_blocks = 0;           // complete blocks entering the error (pooled: summed over replicas)
  bool too_few_blocks = true;  // n_blocks < the minimum requested: the error is unreliable
};

// Block average of `series` with blocks of exactly max(min_block_length, 1) samples.
// too_few_blocks is set when fewer than `min_blocks` complete blocks fit.
BlockEstimate block_average(const std::vector<double>& series, long min_block_length,
                            long min_blocks = kMinBlocksForError);

// One level of a blocking analysis: the error estimate from blocks of `block_length` samples
// and its own statistical uncertainty error / sqrt(2 (n_blocks - 1)).
struct BlockingLevel {
  long block_length = 0;
  long n_blocks = 0;
  double error = std::numeric_limits<double>::quiet_NaN();
  double error_uncertainty = std::numeric_limits<double>::quiet_NaN();
};

// Flyvbjerg-Petersen blocking analysis: error estimates for block lengths 1, 2, 4, ... (each
// level pairs the blocks of the previous one; a trailing odd block is dropped), for use when
// the correlation time is unknown. The plateau (optimal level) is the smallest block length B
// with
//   B^3 > 2 n (e_B / e_1)^4,
// e_B the estimate at block length B, e_1 the naive one, n the number of samples: since
// (e_B / e_1)^2 ~ 2 tau_int, this puts B well beyond tau_int (bias of e_B^2 of order
// tau_int / B) while keeping enough blocks (relative noise sqrt(B / 2n)) — the criterion of
// Wolff (2004) and Lee, Needs & Towler (2011). The plateau is "found" only if that level also
// has at least `min_blocks` blocks; otherwise error/block_length are those of the last level
// with at least `min_blocks` blocks (then typically an underestimate) and plateau_found is
// false.
struct BlockingAnalysis {
  double mean = std::numeric_limits<double>::quiet_NaN();  // mean of all samples
  long n_samples = 0;
  double naive_error = std::numeric_limits<double>::quiet_NaN();  // std / sqrt(n), no blocking
  std::vector<BlockingLevel> levels;  // ascending block length, down to 2 blocks
  bool plateau_found = false;
  int optimal_level = -1;  // index into levels (-1 when no level has >= min_blocks blocks)
  double error = std::numeric_limits<double>::quiet_NaN();  // error at optimal_level
  long block_length = 0;                                    // block length at optimal_level
  long n_blocks = 0;                                        // blocks at optimal_level
};

BlockingAnalysis blocking_analysis(const std::vector<double>& series,
                                   long min_blocks = kMinBlocksForError);

// Pools independent replicas at one state point. Replica r (n_r samples, mean m_r, error e_r)
// gets weight w_r = n_r / sum n: mean = sum w_r m_r, error = sqrt(sum w_r^2 e_r^2). n_blocks
// is the total over replicas (the pooled variance rests on all of them), too_few_blocks is
// set when that total is below `min_blocks` or a replica has no error estimate.
BlockEstimate pool_replicas(const std::vector<BlockEstimate>& replicas,
                            long min_blocks = kMinBlocksForError);

// Result of comparing the first and second half of production.
struct HalvesComparison {
  BlockEstimate first;                                           // first half
  BlockEstimate second;                                          // second half
  double difference = std::numeric_limits<double>::quiet_NaN();  // second.mean - first.mean
  double sigma = std::numeric_limits<double>::quiet_NaN();  // sqrt(first.error^2 + second.error^2)
  double z = std::numeric_limits<double>::quiet_NaN();      // |difference| / sigma
  double z_threshold = kHalvesZThreshold;
  bool agree = false;           // z < z_threshold (false when z is undefined)
  bool too_few_blocks = false;  // either half has too few blocks for its error
};

// Compares two half estimates (e.g. each pooled over replicas). sigma = 0 gives z = 0 when the
// means are equal and z = +inf otherwise.
HalvesComparison compare_halves(const BlockEstimate& first, const BlockEstimate& second,
                                double z_threshold = kHalvesZThreshold);

// The estimate of one half of a series for the halves check, when the half's own blocks are
// too few for an error (a block length fitted to a long correlation time, e.g. the volume
// under a slow barostat, can leave fewer than `min_blocks` blocks in each half of a run that
// is long in tau_alpha units): the half takes the error of the whole series at the same block
// length, scaled to its own length, whole.error * sqrt(whole.n_samples / half.n_samples), the
// error of the half's mean when the series is stationary (the null hypothesis that the check
// tests), and rests on the whole series' blocks (n_blocks = whole.n_blocks). The half is
// returned unchanged when it has enough blocks of its own, or when the whole series has too
// few as well (then it stays flagged).
BlockEstimate half_with_whole_error(const BlockEstimate& half, const BlockEstimate& whole,
                                    long min_blocks = kMinBlocksForError);

// Splits `series` into [0, n/2) and [n/2, n), block-averages each with `min_block_length`,
// and compares them.
HalvesComparison compare_halves(const std::vector<double>& series, long min_block_length,
                                double z_threshold = kHalvesZThreshold,
                                long min_blocks = kMinBlocksForError);

// Online block accumulator with bounded memory (see the header comment).
// State: block sums of `block_length()` samples (between max_blocks/2 and max_blocks - 1 of
// them once the first coarsening happened), the sum of the current incomplete block, the
// running sum of all samples and a Welford accumulator for the naive variance.
class BlockAccumulator {
 public:
  // base_block_length >= 1 samples; max_blocks even and >= 4 (default 1024 blocks, 8 kB).
  explicit BlockAccumulator(long base_block_length = 1, long max_blocks = 1024);

  // Adds one sample.
  void add(double value);

  long n_samples() const { return n_samples_; }
  // Current length (samples) of the stored blocks.
  long block_length() const { return block_length_; }
  // Number of complete stored blocks.
  long n_stored_blocks() const { return static_cast<long>(block_sums_.size()); }
  // Mean of all samples (NaN when empty).
  double mean() const;

  // Block estimate with blocks of g * block_length() samples, g = ceil(min_block_length /
  // block_length()) (so the length used is >= min_block_length, and equals block_length() when
  // the request is shorter). Mean over all samples; error over complete blocks.
  BlockEstimate estimate(long min_block_length, long min_blocks = kMinBlocksForError) const;

  // The two halves: the first h and the next h complete stored blocks, h = floor(stored / 2)
  // (a trailing odd block and the incomplete block are left out), each block-averaged as
  // in estimate() (their means are over their own samples).
  std::pair<BlockEstimate, BlockEstimate> halves(long min_block_length,
                                                 long min_blocks = kMinBlocksForError) const;
  HalvesComparison compare_halves(long min_block_length, double z_threshold = kHalvesZThreshold,
                                  long min_blocks = kMinBlocksForError) const;

  // Blocking analysis as blocking_analysis() above, on the stored blocks: level 0 is the naive
  // (block length 1) estimate, then block lengths block_length() * 2^j.
  BlockingAnalysis blocking_analysis(long min_blocks = kMinBlocksForError) const;

  // Exact, restorable state (for checkpoints).
  nlohmann::json to_json() const;
  static BlockAccumulator from_json(const nlohmann::json& state);

 private:
  long max_blocks_;
  long block_length_;
  std::vector<double> block_sums_;  // sums (not means) of complete blocks
  double partial_sum_ = 0.0;        // sum of the incomplete block
  long partial_count_ = 0;          // samples in the incomplete block
  double total_sum_ = 0.0;          // sum of all samples
  long n_samples_ = 0;
  double welford_mean_ = 0.0;  // running mean for the naive variance
  double welford_m2_ = 0.0;    // running sum of squared deviations
};

}  // namespace vitrify::analysis
