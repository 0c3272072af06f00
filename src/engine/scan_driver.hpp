#pragma once
// The temperature scan behind run_scan (include/vitrify/engine/scan.hpp), internal to
// src/engine/: setup (run directory, checkpoint to resume, engine and batch), the four stages
// run in blocks (thermo rows, finiteness checks and drops, production samples, checkpoints,
// stop requests), then the outputs. With several processes (docs/RUNNING.md) every process
// runs a ScanDriver over its share of the replicas; process 0 writes every file.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/engine/replica_exchange.hpp"
#include "src/engine/sanity.hpp"
#include "src/engine/scan_support.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/processes.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/io/checkpoint.hpp"
#include "vitrify/io/config.hpp"
#include "vitrify/io/h5md.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify::scan_detail {

// Where the scan starts, the same on every process: process 0 decides it from the checkpoint
// it resumes, if any, and sends it to the others.
struct ScanStart {
  bool resumed = false;
  int stage = 0;                        // first stage to run (index into the stages)
  long stage_done = 0;                  // steps of that stage already done (when resumed)
  long step = 0;                        // steps of the scan already done (when resumed)
  std::vector<int> replicas;            // the replicas left (scan-wide indices, ascending)
  std::vector<DroppedReplica> dropped;  // the replicas dropped before
  std::vector<int> retired;             // the replicas whose state point passed (adaptive)
};

// One stage of the scan.
struct ScanStage {
  std::string name;
  long steps;
  const std::vector<double>* t0;  // thermostat targets at the start and end of the stage
  const std::vector<double>* t1;
  bool ramp;   // the targets move from t0 to t1 over the stage
  long block;  // steps per block (<= thermo_interval)
};

// The stages, in order; the index is RunCheckpoint::stage.
enum StageIndex : int { kMelt = 0, kCool, kEquilibrate, kProduction, kStageCount };

// The outcome of the checks of the observables of the remaining replicas: finiteness, and
// after the melt stage the physical ranges (src/engine/sanity.hpp).
struct FiniteCheck {
  std::vector<int> failed;       // replicas that failed a check (scan-wide indices)
  std::vector<std::string> why;  // for each: "" when non-finite, else what is out of range
  std::vector<int> kept;         // the others, in the order of the remaining replicas
  std::vector<double> kept_obs;  // their observables, in that order
};

// What the processes asked for at a block boundary.
struct BlockRequests {
  bool stop = false;        // stop now (SIGINT, SIGTERM or the step limit)
  bool checkpoint = false;  // write a checkpoint (a stop, the step interval or the wall clock)
  std::string why;          // what stopped the run
};

class ScanDriver {
 public:
  ScanDriver(const RunConfig& config, const ScanOptions& options);
  ScanDriver(const ScanDriver&) = delete;
  ScanDriver& operator=(const ScanDriver&) = delete;

  // Runs the whole scan (from its checkpoint when there is one) and writes the outputs.
  ScanReport run();

 private:
  // ---- setup
  void setup();
  void start_run();
  void start_run_directory() const;  // process 0
  void load_checkpoint();            // process 0: resume_ and resume_path_
  void check_checkpoint();           // process 0 (also restores the exchange state)
  ScanStart agree_on_start() const;
  void receive_share();  // part_
  RunCheckpoint share_of_checkpoint(int process) const;
  void setup_engine();
  void create_engine();
  void log_placement() const;
  void set_local_targets();
  void load_batch();
  void open_outputs();
  void start_checkpoint_clock();

  // ---- stages
  long total_steps() const;  // steps of the whole scan
  void run_stages();
  void begin_production();
  void restore_sampler();
  void run_stage(int si, long done);
  long run_block(int si, long done);  // returns the steps of the stage done after the block
  void apply_stage_targets();
  void exchange_replicas(int si, long done);
  BlockRequests block_requests() const;
  [[noreturn]] void stop(const ScanStage& st, const BlockRequests& requests) const;

  // ---- production until-equilibrated (src/engine/scan_production.cpp)
  void check_production(long done);
  void retire(const std::vector<int>& passed);
  void append_retired(RunCheckpoint& k) const;  // process 0
  void write_snapshot(const BatchState& state, int b, int replica) const;

  // ---- observables, thermo rows and samples
  void observe();
  void write_thermo_rows(int si, long done);
  void sample(long production_step);
  void open_trajectories();  // production: one H5MD file per replica of this process
  void write_trajectory_frame();

  // ---- failures
  FiniteCheck check_finite(int si, long done, bool record);
  void check_replicas(int si, long done, bool record);
  void drop_from_batch(const std::vector<int>& failed);
  std::string describe_failure(int replica, const std::string& stage,
                               const std::string& why = "") const;
  std::string failure_note() const;
  void inject_nan();

  // ---- checkpoints
  RunCheckpoint gather_run(bool with_sampler);
  RunCheckpoint join_parts(const std::vector<std::string>& parts) const;  // process 0
  void write_gathered(RunCheckpoint& k, int stage, long done, bool finished);
  void checkpoint_block(int si, long done);

  // ---- outputs (process 0)
  void finish();
  void write_outputs(const RunCheckpoint& final_state);
  void write_measurements(const nlohmann::json& sampler_state);
  void add_exchange_summary() const;
  void write_snapshots(const RunCheckpoint& final_state) const;
  void log_summary(const RunCheckpoint& final_state) const;
  void analyze() const;

  const RunConfig& c_;
  const ScanOptions& opt_;
  const Processes& procs_;
  const int processes_;
  const ModelInfo& model_;
  const int replicas_;
  const bool checkpoints_on_;

  std::optional<RunCheckpoint> resume_;  // process 0: the checkpoint resumed
  std::string resume_path_;
  ScanStart start_;
  std::optional<RunCheckpoint> received_;  // this process's share of the checkpoint
  const RunCheckpoint* part_ = nullptr;    // the checkpoint this process resumes from

  std::vector<int> alive_;  // the remaining replicas (scan-wide indices), on every process
  std::vector<int> local_;  // this process's share of them: the engine's batch
  std::vector<DroppedReplica> dropped_;
  // Production until-equilibrated: the replicas whose state point passed and left the batch
  // (ascending), their sampler entries (process 0), whether every point has passed, and the
  // production steps done.
  std::vector<int> retired_;
  nlohmann::json retired_entries_ = nlohmann::json::array();
  bool production_finished_ = false;
  long production_done_ = 0;
  std::unique_ptr<Engine> engine_;
  // Thermostat and barostat targets of this process's replicas.
  std::vector<double> melt_, target_, pressure_;
  std::vector<ScanStage> stages_;
  int current_stage_ = 0;
  long step_ = 0;
  ScanReport report_;    // what this invocation did (run() returns it)
  ThermoWriter thermo_;  // process 0
  // Trajectory files of this process's replicas (scan-wide index), when trajectory_interval > 0.
  std::map<int, std::unique_ptr<H5mdWriter>> trajectories_;
  BatchState trajectory_state_;
  std::unique_ptr<ProductionSampler> sampler_;
  std::optional<Progress> progress_;
  // The observables of every remaining replica, in the order of alive_, on every process.
  std::vector<double> obs_;
  SanityChecks sanity_;       // the physical checks (same state on every process)
  ReplicaExchange exchange_;  // parallel tempering (one process only)
  bool sampling_ = false;
  bool injected_ = false;  // ScanOptions::inject_nan_replica has been applied

  // The step at or after which this run stops (ScanOptions::stop_after_step, run_steps; 0: no
  // step limit) and when it started (ScanOptions::run_seconds).
  long stop_at_step_ = 0;
  std::chrono::steady_clock::time_point run_started_ = std::chrono::steady_clock::now();

  long next_checkpoint_ = 0;
  std::chrono::steady_clock::time_point last_checkpoint_time_;
  long last_checkpoint_step_ = -1;
};

}  // namespace vitrify::scan_detail
