#pragma once
// Parallel tempering (replica exchange) of a temperature scan, internal to src/engine/
// (docs/PHYSICS.md, "Replica exchange"). Every replica_exchange_interval steps of the stages
// that run exchanges, neighbouring temperatures (ascending T; copy c with copy c) attempt to
// swap their configurations, even ladder pairs and odd ones in turn. A pair (i, j) swaps with
// probability min{1, exp[(1/T_i - 1/T_j)(E_i - E_j)]}, E = U (NVT) or U + pV (NPT); the
// uniform number is a Philox draw keyed by the seed, the pair and the attempt, so a run needs
// no generator state to resume. The configurations move between batch positions (the
// temperature slots stay where they are: measurements, thermo rows and the thermostat's random
// streams stay per slot), velocities scaled by sqrt(T_new/T_old).
//
// The state (which configuration each slot holds, the counts, the round trips and the log's
// length) is saved in checkpoints; replica_exchange.csv logs every attempt.
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vitrify/engine/engine.hpp"
#include "vitrify/io/config.hpp"

namespace vitrify::scan_detail {

// What one attempt decided, by batch position.
struct ExchangeMoves {
  std::vector<int> from;      // batch position b takes the configuration of from[b]
  std::vector<double> scale;  // velocity scale of the configuration arriving at b
  bool any = false;           // some pair swapped
};

class ReplicaExchange {
 public:
  explicit ReplicaExchange(const RunConfig& c);

  bool on() const { return c_.replica_exchange_interval > 0; }
  // Whether an attempt is due after `done` steps of stage `stage` (its name).
  bool due(const std::string& stage, long done) const;
  // The scan-wide attempt number of that attempt (0, 1, ...): counts the attempts of the earlier
  // exchange stages.
  long attempt_number(const std::string& stage, long done) const;

  // One attempt at scan step `step`: `alive` the remaining replicas (scan-wide, in batch order),
  // `obs` their observables (kObsCount each). Updates the counts and the log.
  ExchangeMoves attempt(long attempt, long step, const std::string& stage,
                        const std::vector<int>& alive, const std::vector<double>& obs);

  // The log file: created (header) on a fresh start, cut to the saved length on a resume.
  void open_log(const std::string& dir, bool resumed);
  void flush();

  nlohmann::json save_state();
  void load_state(const nlohmann::json& j, const std::string& source);
  // measurements.json "replica_exchange"; logs the pairs with acceptance below 5 %.
  nlohmann::json summary() const;

  // The acceptance probability of a pair (energies E, temperatures T).
  static double acceptance(double t_i, double t_j, double e_i, double e_j);

 private:
  void note_extremes();
  int ladder_position(int replica) const { return rank_[replica / c_.copies_per_temperature]; }

  const RunConfig& c_;
  int copies_;
  std::vector<int> ladder_;  // temperature indices in ascending T
  std::vector<int> rank_;    // position of each temperature index on the ladder
  std::vector<int> config_;  // per scan-wide slot: the configuration it holds (its first slot)
  std::vector<long> attempts_, accepted_;  // per ladder pair (l, l + 1)
  std::vector<int> heading_;  // per configuration: 0 none yet, 1 up (after lowest), 2 down
  std::vector<long> trips_;   // per configuration: lowest -> highest -> lowest
  long total_attempts_ = 0;
  std::ofstream log_;
  std::string log_path_;
  std::uint64_t log_bytes_ = 0;
};

// Moves configurations between batch positions (ExchangeMoves) on any engine through its saved
// state: positions, velocities (scaled), images, boxes, neighbour-list build state and the last
// observables follow the configuration; the thermostat and barostat state and the build
// counters stay with the position. The caller sets the targets again afterwards.
void move_configurations(Engine& engine, const ExchangeMoves& moves, int dimension);

}  // namespace vitrify::scan_detail
