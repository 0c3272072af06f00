#include "src/engine/scan_driver.hpp"

#include <omp.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>

#include "vitrify/analysis/statmech.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/core/observables.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/io/output.hpp"
#include "vitrify/io/run_files.hpp"
#include "vitrify/io/xyz.hpp"

#ifdef VITRIFY_HAVE_CUDA
#include "vitrify/engine/cuda_backend.hpp"  // select_cuda_device
#endif

namespace vitrify::scan_detail {
namespace fs = std::filesystem;

ScanDriver::ScanDriver(const RunConfig& c, const ScanOptions& opt)
    : c_(c),
      opt_(opt),
      procs_(Processes::world()),
      processes_(procs_.size()),
      model_(model_info(c.model)),
      replicas_(c.n_replicas()),
      checkpoints_on_(c.checkpoint_interval > 0 || c.checkpoint_wall_seconds > 0),
      stages_{{"melt", c.melt_steps, &melt_, &melt_, false, c.thermo_interval},
              {"cool", c.cool_steps, &melt_, &target_, true, c.thermo_interval},
              {"equilibrate", c.equilibration_steps, &target_, &target_, false, c.thermo_interval},
              {"production", c.max_production_steps(), &target_, &target_, false,
               std::gcd(std::gcd(c.thermo_interval, c.sample_interval),
                        c.trajectory_interval > 0 ? c.trajectory_interval : c.sample_interval)}},
      sanity_(c, model_.dimension),
      exchange_(c) {
  // Exchange attempts fall on block boundaries.
  for (ScanStage& st : stages_)
    if (c.exchanges_in(st.name)) st.block = std::gcd(st.block, c.replica_exchange_interval);
}

ScanReport ScanDriver::run() {
  setup();
  SignalGuard signals(opt_.handle_signals);
  start_checkpoint_clock();
  const auto started = std::chrono::steady_clock::now();
  report_.resumed = start_.resumed;
  report_.first_step = step_;
  run_stages();
  finish();
  report_.last_step = step_;
  report_.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report_;
}

// ---- setup ---------------------------------------------------------------------------------

void ScanDriver::setup() {
  start_run();
  setup_engine();
  open_outputs();
}

// The run directory (process 0), where the scan starts and this process's replicas.
void ScanDriver::start_run() {
  if (processes_ > replicas_)
    throw InputError(std::to_string(processes_) + " processes for " + std::to_string(replicas_) +
                     " replicas: every process needs at least one replica; use at most " +
                     std::to_string(replicas_) + " processes");
  // Production until-equilibrated empties the batches of processes unevenly (replicas leave
  // as their state points pass), which the gathering of several processes does not support.
  if (processes_ > 1 && c_.adaptive_production())
    throw InputError(
        "\"production\": \"until-equilibrated\" runs in one process (state points leave the "
        "batch as they pass); run it without mpirun/srun, or with \"production\": \"fixed\"");
  if (exchange_.on() && processes_ > 1)
    throw InputError(
        "replica_exchange_interval: replica exchange runs in a single process (this run has " +
        std::to_string(processes_) + ")");
  if (c_.threads > 0) omp_set_num_threads(c_.threads);
  // A backend that cannot run fails here, before the run directory exists.
  require_backend_available(c_.backend);

  // Process 0 writes every file: it starts the run directory and reads the checkpoint to
  // resume, if any.
  together(procs_, [&] {
    if (!procs_.root()) return;
    // --force starts over: every output of an earlier run goes (its checkpoints included),
    // so that none of its files (e.g. the snapshot of a replica this run does not have) stays.
    const std::vector<std::string> removed =
        opt_.force ? remove_run_outputs(c_.output_dir, false) : std::vector<std::string>{};
    start_run_directory();
    if (opt_.force) {
      if (!removed.empty())
        spdlog::info("--force: removed {} file{} of an earlier run from {}", removed.size(),
                     removed.size() == 1 ? "" : "s", c_.output_dir);
      return;
    }
    // A checkpoint in the output directory: resume it (same configuration), or refuse to
    // overwrite a finished run.
    load_checkpoint();
  });

  // Every process learns where the scan starts and which replicas are left.
  start_ = agree_on_start();
  alive_ = start_.replicas;
  dropped_ = start_.dropped;
  retired_ = start_.retired;
  if (processes_ > static_cast<int>(alive_.size()))
    throw InputError(std::to_string(processes_) + " processes for the " +
                     std::to_string(alive_.size()) +
                     " replicas left in the checkpoint: resume with at most " +
                     std::to_string(alive_.size()) + " processes");
  local_ = share_of(alive_, procs_.rank(), processes_);
  current_stage_ = start_.stage;
  receive_share();
}

// The engine and its batch: the initial configurations, or this process's share of the
// checkpoint.
void ScanDriver::setup_engine() {
  together(procs_, [&] { create_engine(); });
  log_placement();
  set_local_targets();
  together(procs_, [&] { load_batch(); });
  if (start_.resumed) {
    step_ = start_.step;
    if (procs_.root()) spdlog::info("resuming from {} at step {}", resume_path_, step_);
  }
}

// The log header, config.resolved.json and replicas.csv.
void ScanDriver::start_run_directory() const {
  fs::create_directories(c_.output_dir);
  spdlog::info(
      "vitrify {}: model {} ({}D, {}), N = {}, {} replicas ({} temperatures x {}), "
      "{} OpenMP thread{}{}, output {}",
      VITRIFY_VERSION, c_.model, model_.dimension, c_.ensemble, c_.n_particles, replicas_,
      c_.temperatures.size(), c_.copies_per_temperature, omp_get_max_threads(),
      omp_get_max_threads() == 1 ? "" : "s",
      processes_ > 1 ? " per process, " + std::to_string(processes_) + " processes" : std::string(),
      c_.output_dir);
  write_json_atomic(c_.output_dir + "/config.resolved.json", to_json(c_));
  std::ostringstream os;
  os << "replica,temperature,copy,seed\n";
  for (int r = 0; r < replicas_; ++r)
    os << r << ',' << c_.replica_temperature(r) << ',' << r % c_.copies_per_temperature << ','
       << replica_seed(c_.seed, r) << '\n';
  write_text_atomic(c_.output_dir + "/replicas.csv", os.str());
}

void ScanDriver::load_checkpoint() {
  resume_ = load_latest_checkpoint(c_.output_dir, &resume_path_);
  if (resume_) {
    check_checkpoint();
  } else if (fs::exists(c_.output_dir + "/measurements.json")) {
    // A finished scan removes its checkpoints (unless keep_checkpoints): its measurements
    // without a checkpoint to resume mark it finished.
    throw InputError(c_.output_dir +
                     " holds a finished run (measurements.json exists and there is no "
                     "checkpoint to resume); use --force to run it again (this removes the "
                     "outputs of the earlier run)");
  }
}

// InputError unless the checkpoint to resume belongs to this configuration and is unfinished.
void ScanDriver::check_checkpoint() {
  const RunCheckpoint& k = *resume_;
  require_same_config(k.config, to_json(c_), resume_path_);
  if (exchange_.on()) {
    if (k.exchange.is_null())
      throw InputError(resume_path_ + ": the checkpoint holds no replica-exchange state");
    exchange_.load_state(k.exchange, resume_path_);
  }
  if (k.finished && fs::exists(c_.output_dir + "/measurements.json"))
    throw InputError(c_.output_dir + " holds a finished run (" + resume_path_ +
                     " is marked finished and measurements.json exists); use --force to "
                     "run it again");
  if (k.thermo_bytes.size() != static_cast<std::size_t>(replicas_) ||
      k.engine.state.n != c_.n_particles || k.stage < 0 || k.stage > 3)
    throw InputError(resume_path_ + ": the saved batch does not match the configuration");
  // The batch and the dropped replicas together are every replica, once.
  std::vector<bool> seen(replicas_, false);
  for (int r : k.replicas) seen[r] = true;
  for (const auto& j : k.dropped) {
    const DroppedReplica d = DroppedReplica::from_json(j, resume_path_);
    if (d.replica < 0 || d.replica >= replicas_ || seen[d.replica])
      throw InputError(resume_path_ + ": dropped replica " + std::to_string(d.replica) +
                       " is out of range or still in the batch");
    seen[d.replica] = true;
  }
  for (int r : k.retired) {
    if (seen[r])
      throw InputError(resume_path_ + ": retired replica " + std::to_string(r) +
                       " is still in the batch or dropped");
    seen[r] = true;
  }
  // The sampler entries of the retired replicas (production until-equilibrated) stay with
  // process 0 until the outputs.
  if (!k.retired.empty() && !k.sampler.is_object())
    throw InputError(resume_path_ + ": retired replicas without a sampler state");
  if (!k.retired.empty())
    retired_entries_ = select_sampler_state(k.sampler, k.retired, resume_path_).at("replicas");
}

ScanStart ScanDriver::agree_on_start() const {
  nlohmann::json start;
  if (procs_.root()) {
    const std::optional<RunCheckpoint>& resume = resume_;
    std::vector<int> all(replicas_);
    std::iota(all.begin(), all.end(), 0);
    start = {{"resume", resume.has_value()},
             {"stage", resume ? resume->stage : 0},
             {"stage_done", resume ? resume->stage_done : 0L},
             {"step", resume ? resume->step : 0L},
             {"replicas", resume ? resume->replicas : all},
             {"dropped", resume ? resume->dropped : nlohmann::json::array()},
             {"retired", resume ? resume->retired : std::vector<int>{}}};
  }
  if (processes_ > 1) start = nlohmann::json::from_cbor(procs_.broadcast(cbor_bytes(start)));
  ScanStart s;
  s.resumed = start.at("resume").get<bool>();
  s.stage = start.at("stage").get<int>();
  s.stage_done = start.at("stage_done").get<long>();
  s.step = start.at("step").get<long>();
  s.replicas = start.at("replicas").get<std::vector<int>>();
  for (const auto& j : start.at("dropped")) s.dropped.push_back(DroppedReplica::from_json(j, ""));
  s.retired = start.at("retired").get<std::vector<int>>();
  return s;
}

// This process's part of the checkpoint: the whole of it with one process; otherwise process 0
// splits it by replica and sends each process its share.
void ScanDriver::receive_share() {
  if (!start_.resumed) return;
  if (processes_ == 1) {
    part_ = &*resume_;
    return;
  }
  std::vector<std::string> shares;
  together(procs_, [&] {
    if (!procs_.root()) return;
    for (int k = 0; k < processes_; ++k)
      shares.push_back(encode_checkpoint(share_of_checkpoint(k)));
  });
  const std::string mine = procs_.scatter(shares);
  together(procs_, [&] { received_ = decode_checkpoint(mine, "the share of this process"); });
  part_ = &*received_;
}

RunCheckpoint ScanDriver::share_of_checkpoint(int process) const {
  const RunCheckpoint& resume = *resume_;
  RunCheckpoint sub;
  sub.config = resume.config;
  sub.stage = resume.stage;
  sub.stage_done = resume.stage_done;
  sub.step = resume.step;
  sub.replicas = share_of(alive_, process, processes_);
  const long a = static_cast<long>(alive_.size());
  std::vector<int> indices(sub.replicas.size());
  std::iota(indices.begin(), indices.end(), static_cast<int>(a * process / processes_));
  sub.engine = select_replicas(resume.engine, indices);
  sub.sampler = select_sampler_state(resume.sampler, sub.replicas, resume_path_);
  return sub;
}

void ScanDriver::create_engine() {
#ifdef VITRIFY_HAVE_CUDA
  // One GPU per process on a node (round robin when there are more processes than GPUs).
  if (processes_ > 1 && c_.backend != "cpu") select_cuda_device(procs_.local_rank());
#endif
  engine_ = make_engine(c_.backend, c_.model, engine_settings(c_));
}

// Process 0 logs the backend and, with several processes, where each runs.
void ScanDriver::log_placement() const {
  std::ostringstream where;
  where << "process " << procs_.rank() << " on " << procs_.node_name() << ": replicas "
        << local_.front() << ".." << local_.back() << ", backend " << engine_->backend_name()
        << " (" << engine_->device_name() << ")";
  const std::vector<std::string> all = procs_.gather(where.str());
  if (procs_.root()) {
    spdlog::info("backend: {}, {} kernel", engine_->backend_name(), engine_->kernel_name());
    if (processes_ > 1)
      for (const auto& line : all) spdlog::info("{}", line);
  }
}

void ScanDriver::set_local_targets() {
  melt_.assign(local_.size(), c_.melt_temperature);
  target_.resize(local_.size());
  for (std::size_t b = 0; b < local_.size(); ++b) target_[b] = c_.replica_temperature(local_[b]);
  pressure_.assign(local_.size(), c_.pressure);
}

// The batch: from the checkpoint, or the initial configurations.
void ScanDriver::load_batch() {
  engine_->set_targets(melt_, melt_, pressure_);
  if (part_) {
    engine_->load_state(part_->engine);
  } else {
    engine_->set_state(initial_batch(c_, local_));
  }
  engine_->set_replica_ids(local_);
}

// The thermo files (process 0), the sampler, the progress report and, on a fresh start, the
// first thermo row.
void ScanDriver::open_outputs() {
  together(procs_, [&] {
    if (procs_.root())
      thermo_.open(c_.output_dir + "/thermo", replicas_, c_.ensemble == "npt", c_.pressure,
                   model_.dimension, resume_ ? &resume_->thermo_bytes : nullptr);
    if (procs_.root() && exchange_.on()) exchange_.open_log(c_.output_dir, resume_.has_value());
  });
  sampler_ = opt_.make_sampler ? opt_.make_sampler(c_) : make_standard_sampler(c_);

  progress_.emplace(total_steps(), static_cast<long>(alive_.size()) * c_.n_particles,
                    opt_.progress && procs_.root(), c_.progress_interval, step_);

  if (!start_.resumed) {
    observe();
    together(procs_, [&] {
      if (procs_.root()) thermo_.write("melt", 0, 0.0, obs_, alive_, c_.n_particles);
    });
  }
}

void ScanDriver::start_checkpoint_clock() {
  stop_at_step_ = opt_.stop_after_step;
  if (opt_.run_steps > 0) {
    const long relative = step_ + opt_.run_steps;
    stop_at_step_ = stop_at_step_ > 0 ? std::min(stop_at_step_, relative) : relative;
  }
  next_checkpoint_ = c_.checkpoint_interval > 0
                         ? (step_ / c_.checkpoint_interval + 1) * c_.checkpoint_interval
                         : 0;
  last_checkpoint_time_ = std::chrono::steady_clock::now();
  last_checkpoint_step_ = start_.resumed ? step_ : -1;
}

// ---- stages --------------------------------------------------------------------------------

long ScanDriver::total_steps() const {
  return c_.melt_steps + c_.cool_steps + c_.equilibration_steps + c_.max_production_steps();
}

void ScanDriver::run_stages() {
  for (int si = start_.stage; si < static_cast<int>(stages_.size()); ++si) {
    if (si == kProduction) begin_production();
    run_stage(si, start_.resumed && si == start_.stage ? start_.stage_done : 0);
  }
}

void ScanDriver::begin_production() {
  together(procs_, [&] {
    open_trajectories();
    sampler_->begin(*engine_, local_);
    if (part_ && start_.stage == kProduction) restore_sampler();
  });
  sampling_ = true;
}

// The sampler state of a checkpoint taken during production.
void ScanDriver::restore_sampler() {
  if (part_->sampler.is_null())
    throw InputError(resume_path_ +
                     ": the checkpoint holds no sampler state, so its "
                     "production stage cannot be resumed (use --force to start over)");
  try {
    sampler_->load_state(retired_.empty()
                             ? part_->sampler
                             : select_sampler_state(part_->sampler, local_, resume_path_));
  } catch (const nlohmann::json::exception& e) {
    // A checksum-valid file whose sampler state does not have the expected shape.
    throw InputError(resume_path_ + ": malformed sampler state: " + e.what());
  }
}

// Runs stage `si` from `done` steps in blocks.
void ScanDriver::run_stage(int si, long done) {
  const ScanStage& st = stages_[si];
  if (st.steps <= 0) return;
  current_stage_ = si;
  sanity_.new_stage();
  together(procs_, [&] { apply_stage_targets(); });
  if (procs_.root())
    spdlog::info("stage {}: {}{} steps{}{}", st.name,
                 si == kProduction && c_.adaptive_production() ? "up to " : "", st.steps,
                 si == kProduction && c_.adaptive_production()
                     ? " (until equilibrated, judged every " + std::to_string(c_.production_steps) +
                           " steps)"
                     : std::string(),
                 done > 0 ? " (resumed after " + std::to_string(done) + ")" : std::string());
  if (si == kProduction) {
    production_done_ = done;
    // A run resumed at a check repeats it (the same samples give the same verdicts): when every
    // point had passed there, production is over.
    if (c_.adaptive_production() && done > 0 && done % c_.production_steps == 0)
      check_production(done);
  }
  while (done < st.steps && !production_finished_) done = run_block(si, done);
  together(procs_, [&] {
    if (procs_.root()) thermo_.flush();
  });
}

// One block: the steps, then thermo rows (with the non-finite check), samples, progress,
// checkpoints and the stop requests.
long ScanDriver::run_block(int si, long done) {
  const ScanStage& st = stages_[si];
  const long n = std::min(st.block, st.steps - done);
  const double rb = st.ramp ? double(done + 1) / st.steps : 1.0;
  const double re = st.ramp ? double(done + n) / st.steps : 1.0;
  done += n;
  step_ += n;
  report_.particle_steps += double(n) * double(alive_.size()) * double(c_.n_particles);
  together(procs_, [&] {
    if (!local_.empty()) engine_->run(n, rb, re);
    inject_nan();
  });
  if (step_ % c_.thermo_interval == 0 || done == st.steps) write_thermo_rows(si, done);
  if (si == kProduction && c_.trajectory_interval > 0 && done % c_.trajectory_interval == 0)
    together(procs_, [&] { write_trajectory_frame(); });
  if (si == kProduction && done % c_.sample_interval == 0) sample(done);
  if (si == kProduction) production_done_ = done;
  if (si == kProduction && c_.adaptive_production() && done % c_.production_steps == 0)
    check_production(done);
  if (exchange_.due(st.name, done)) exchange_replicas(si, done);
  progress_->update(step_, st.name);
  const BlockRequests requests = block_requests();
  if (requests.checkpoint) checkpoint_block(si, done);
  if (requests.stop) stop(st, requests);
  return done;
}

// The stage's targets and the replicas' scan-wide indices (the keys of their random numbers,
// whatever process runs them and whichever replicas were dropped), after every change of the
// batch.
void ScanDriver::apply_stage_targets() {
  const ScanStage& st = stages_[current_stage_];
  if (local_.empty()) return;
  engine_->set_targets(*st.t0, *st.t1, pressure_);
  engine_->set_replica_ids(local_);
}

// A replica-exchange attempt (after the block's thermo rows and samples, which belong to the
// configurations that ran the block): the energies of the last step decide, and the swapped
// configurations change batch positions with their velocities scaled.
void ScanDriver::exchange_replicas(int si, long done) {
  const std::string& name = stages_[si].name;
  observe();
  const ExchangeMoves moves =
      exchange_.attempt(exchange_.attempt_number(name, done), step_, name, alive_, obs_);
  if (!moves.any) return;
  move_configurations(*engine_, moves, model_.dimension);
  apply_stage_targets();
}

// The stop and checkpoint requests of every process.
BlockRequests ScanDriver::block_requests() const {
  std::uint32_t flags = 0;
  if (stop_signal() == SIGINT) flags |= kSigint;
  if (stop_signal() == SIGTERM) flags |= kSigterm;
  if (c_.checkpoint_wall_seconds > 0 &&
      std::chrono::duration<double>(std::chrono::steady_clock::now() - last_checkpoint_time_)
              .count() >= c_.checkpoint_wall_seconds)
    flags |= kWallClockDue;
  if (opt_.run_seconds > 0 &&
      std::chrono::duration<double>(std::chrono::steady_clock::now() - run_started_).count() >=
          opt_.run_seconds)
    flags |= kRunTimeUp;
  flags = procs_.any(flags);
  BlockRequests r;
  // A step or time limit reached at the last step of the scan lets it finish (nothing would be
  // left for a next run but the outputs); a signal stops it in any case.
  const bool last_step = step_ >= total_steps() || production_finished_;
  r.stop =
      (flags & (kSigint | kSigterm)) != 0 ||
      (!last_step && ((flags & kRunTimeUp) != 0 || (stop_at_step_ > 0 && step_ >= stop_at_step_)));
  const bool due =
      (c_.checkpoint_interval > 0 && step_ >= next_checkpoint_) || (flags & kWallClockDue) != 0;
  r.checkpoint = r.stop || due;
  r.why = (flags & kSigint)      ? "SIGINT"
          : (flags & kSigterm)   ? "SIGTERM"
          : (flags & kRunTimeUp) ? "the wall-time limit"
                                 : "the step limit";
  return r;
}

void ScanDriver::stop(const ScanStage& st, const BlockRequests& requests) const {
  throw ScanInterrupted("stopped by " + requests.why + " at step " + std::to_string(step_) + " (" +
                        st.name + "); checkpoint written to " + checkpoint_path(c_.output_dir) +
                        ": run the same configuration again to resume");
}

// ---- observables, thermo rows and samples --------------------------------------------------

void ScanDriver::observe() {
  std::vector<double> mine;
  together(procs_, [&] {
    if (!local_.empty()) engine_->observables(mine);
  });
  if (processes_ == 1) {
    obs_ = std::move(mine);
    return;
  }
  const std::string bytes(reinterpret_cast<const char*>(mine.data()), mine.size() * sizeof(double));
  obs_.clear();
  for (const std::string& p : procs_.all_gather(bytes)) {
    const std::size_t at = obs_.size();
    obs_.resize(at + p.size() / sizeof(double));
    std::memcpy(obs_.data() + at, p.data(), p.size());
  }
}

// One thermo row per remaining replica, after the checks (`done` steps into stage si).
void ScanDriver::write_thermo_rows(int si, long done) {
  observe();
  check_replicas(si, done, true);
  const std::string& stage = stages_[si].name;
  together(procs_, [&] {
    if (procs_.root()) thermo_.write(stage, step_, step_ * c_.dt, obs_, alive_, c_.n_particles);
  });
}

void ScanDriver::sample(long production_step) {
  together(procs_, [&] { sampler_->sample(production_step, *engine_); });
}

// ---- failures ------------------------------------------------------------------------------

// Finiteness, then the physical ranges (record: a thermo row, see SanityChecks::check).
FiniteCheck ScanDriver::check_finite(int si, long done, bool record) {
  FiniteCheck check;
  for (std::size_t k = 0; k < alive_.size(); ++k) {
    const int r = alive_[k];
    const double* o = &obs_[k * kObsCount];
    bool finite = true;
    for (int q = 0; q < kObsCount; ++q) finite = finite && std::isfinite(o[q]);
    const std::string why =
        finite ? sanity_.check(r, si, done, c_.replica_temperature(r), o, record) : "";
    if (finite && why.empty()) {
      check.kept.push_back(r);
      check.kept_obs.insert(check.kept_obs.end(), o, o + kObsCount);
    } else {
      check.failed.push_back(r);
      check.why.push_back(why);
    }
  }
  return check;
}

// Every replica's observables must be finite and, after the melt stage, inside the physical
// ranges: a replica that is not stops the run, or with on_failure "drop" leaves it (the others
// continue exactly as they would have: replicas are independent, and the engine resumes the
// survivors from its own saved state).
void ScanDriver::check_replicas(int si, long done, bool record) {
  const std::string& stage = stages_[si].name;
  FiniteCheck check = check_finite(si, done, record);
  if (check.failed.empty()) return;
  if (c_.on_failure == "stop")
    throw SimulationError(describe_failure(check.failed.front(), stage, check.why.front()) +
                          failure_note());
  for (std::size_t k = 0; k < check.failed.size(); ++k) {
    const int r = check.failed[k];
    const std::string& why = check.why[k];
    dropped_.push_back({r, c_.replica_temperature(r), stage, step_,
                        why.empty() ? "non-finite observables (NaN or infinity)" : why});
    sanity_.forget(r);
    if (procs_.root())
      spdlog::warn("{}: dropped (on_failure \"drop\"), {} replicas continue",
                   describe_failure(r, stage, why), check.kept.size());
  }
  if (check.kept.empty())
    throw SimulationError("every replica has failed (on_failure \"drop\"), the last: " +
                          describe_failure(check.failed.back(), stage, check.why.back()) +
                          failure_note());
  alive_ = check.kept;
  obs_ = check.kept_obs;
  together(procs_, [&] { drop_from_batch(check.failed); });
}

// The failed replicas leave this process's batch (the engine keeps the others from its saved
// state) and its sampler.
void ScanDriver::drop_from_batch(const std::vector<int>& failed) {
  std::vector<int> keep, leave;  // batch indices
  for (std::size_t b = 0; b < local_.size(); ++b)
    (std::count(failed.begin(), failed.end(), local_[b]) ? leave : keep)
        .push_back(static_cast<int>(b));
  if (leave.empty()) return;
  if (!keep.empty()) {
    if (sampling_) sampler_->before_batch_change();
    EngineCheckpoint state;
    engine_->save_state(state);
    engine_->load_state(select_replicas(state, keep));
  }
  if (sampling_)
    for (auto b = leave.rbegin(); b != leave.rend(); ++b) sampler_->drop(*b);
  std::vector<int> left;
  for (int b : keep) left.push_back(local_[b]);
  for (int b : leave) trajectories_.erase(local_[b]);  // the file keeps its frames
  local_ = left;
  set_local_targets();
  apply_stage_targets();
}

// ---- trajectories ----------------------------------------------------------------------------

// Every process writes the files of its own replicas. A resumed run keeps the frames up to the
// checkpoint's step and drops later ones (written before an interruption), which it writes again.
void ScanDriver::open_trajectories() {
  if (c_.trajectory_interval <= 0 || local_.empty()) return;
  const std::string dir = c_.output_dir + "/trajectory";
  std::filesystem::create_directories(dir);
  engine_->get_state(trajectory_state_);
  const long keep = start_.resumed ? start_.step : -1;
  for (std::size_t b = 0; b < local_.size(); ++b) {
    const int r = local_[b];
    H5mdWriter::Info info;
    info.model = c_.model;
    info.replica = r;
    info.temperature = c_.replica_temperature(r);
    info.dimension = model_.dimension;
    info.type_names = model_.type_names;
    const auto first = trajectory_state_.type.begin() + static_cast<long>(b) * c_.n_particles;
    info.types.assign(first, first + c_.n_particles);
    char name[32];
    std::snprintf(name, sizeof name, "/replica_%03d.h5", r);
    trajectories_[r] = std::make_unique<H5mdWriter>(dir + name, info, keep);
  }
}

void ScanDriver::write_trajectory_frame() {
  if (local_.empty()) return;
  engine_->get_state(trajectory_state_);
  const BatchState& s = trajectory_state_;
  for (std::size_t b = 0; b < local_.size(); ++b) {
    auto it = trajectories_.find(local_[b]);
    if (it == trajectories_.end()) continue;
    const long base = static_cast<long>(b) * s.n;
    const double box[3] = {double(s.box[3 * b]), double(s.box[3 * b + 1]),
                           double(s.box[3 * b + 2])};
    TrajectoryFrame f;
    f.step = step_;
    f.time = double(step_) * c_.dt;
    f.box = box;
    f.x = s.x.data() + base;
    f.y = s.y.data() + base;
    f.z = s.z.data() + base;
    f.img_x = s.img_x.data() + base;
    f.img_y = s.img_y.data() + base;
    f.img_z = s.img_z.data() + base;
    it->second->append(f);
  }
}

// `why`: what is out of range ("" when the observables are not finite).
std::string ScanDriver::describe_failure(int replica, const std::string& stage,
                                         const std::string& why) const {
  return "replica " + std::to_string(replica) +
         " (T = " + std::to_string(c_.replica_temperature(replica)) + ") became " +
         (why.empty() ? "non-finite" : "unphysical") + " during " + stage + " at step " +
         std::to_string(step_) + (why.empty() ? "" : ": " + why);
}

std::string ScanDriver::failure_note() const {
  if (last_checkpoint_step_ < 0) return "";
  return "; the last good checkpoint (step " + std::to_string(last_checkpoint_step_) +
         ") is kept in " + checkpoint_path(c_.output_dir);
}

// The test hook ScanOptions::inject_nan_replica.
void ScanDriver::inject_nan() {
  if (opt_.inject_nan_replica < 0 || injected_ || step_ < opt_.inject_nan_step) return;
  injected_ = true;
  const auto it = std::find(local_.begin(), local_.end(), opt_.inject_nan_replica);
  if (it == local_.end()) return;
  const std::size_t n = c_.n_particles, b = it - local_.begin();
  EngineCheckpoint state;
  engine_->save_state(state);
  for (auto* v : {&state.state.vx, &state.state.vy, &state.state.vz})
    std::fill(v->begin() + b * n, v->begin() + (b + 1) * n, std::numeric_limits<real>::quiet_NaN());
  engine_->load_state(state);
  apply_stage_targets();
}

// ---- checkpoints ---------------------------------------------------------------------------

// Every process's batch (and sampler state), joined on process 0 in the order of alive_.
RunCheckpoint ScanDriver::gather_run(bool with_sampler) {
  RunCheckpoint mine;
  together(procs_, [&] {
    if (!local_.empty()) engine_->save_state(mine.engine);
    mine.replicas = local_;
    if (with_sampler) mine.sampler = sampler_->save_state();
  });
  if (processes_ == 1) return mine;
  const std::vector<std::string> parts = procs_.gather(encode_checkpoint(mine));
  RunCheckpoint all;
  together(procs_, [&] {
    if (procs_.root()) all = join_parts(parts);
  });
  return all;
}

RunCheckpoint ScanDriver::join_parts(const std::vector<std::string>& parts) const {
  RunCheckpoint all;
  std::vector<EngineCheckpoint> engines;
  std::vector<nlohmann::json> samplers;
  for (int k = 0; k < processes_; ++k) {
    RunCheckpoint d = decode_checkpoint(parts[k], "the state of process " + std::to_string(k));
    all.replicas.insert(all.replicas.end(), d.replicas.begin(), d.replicas.end());
    engines.push_back(std::move(d.engine));
    samplers.push_back(std::move(d.sampler));
  }
  all.engine = join_replicas(engines);
  all.sampler = join_sampler_states(samplers);
  return all;
}

// Process 0 writes a gathered state as the checkpoint.
void ScanDriver::write_gathered(RunCheckpoint& k, int stage, long done, bool finished) {
  together(procs_, [&] {
    if (!procs_.root()) return;
    thermo_.flush();
    k.config = to_json(c_);
    k.stage = stage;
    k.stage_done = done;
    k.step = step_;
    k.finished = finished;
    k.thermo_bytes = thermo_.bytes;
    k.retired = retired_;
    k.dropped = nlohmann::json::array();
    for (const auto& d : dropped_) k.dropped.push_back(d.to_json());
    k.exchange = exchange_.on() ? exchange_.save_state() : nlohmann::json();
    write_checkpoint(c_.output_dir, k);
    spdlog::debug("checkpoint at step {}", step_);
  });
  last_checkpoint_time_ = std::chrono::steady_clock::now();
  last_checkpoint_step_ = step_;
  if (c_.checkpoint_interval > 0)
    next_checkpoint_ = (step_ / c_.checkpoint_interval + 1) * c_.checkpoint_interval;
}

// The checkpoint of a block boundary. A checkpoint never holds a non-finite state (nor, after
// the melt stage, one out of the physical range).
void ScanDriver::checkpoint_block(int si, long done) {
  observe();
  check_replicas(si, done, false);
  RunCheckpoint k = gather_run(sampling_);
  append_retired(k);
  write_gathered(k, si, done, false);
}

// ---- outputs -------------------------------------------------------------------------------

// Process 0 writes the measurements (the samplers of all processes joined), the final
// configurations, the analysis and the final checkpoint.
void ScanDriver::finish() {
  RunCheckpoint final_state = gather_run(true);
  append_retired(final_state);
  together(procs_, [&] {
    if (procs_.root()) write_outputs(final_state);
  });
  // The scan is complete: its checkpoints go, unless keep_checkpoints asks for the final one,
  // marked finished (a later `vitrify run` of the directory needs --force either way).
  if (checkpoints_on_ && c_.keep_checkpoints) {
    write_gathered(final_state, kProduction, production_done_, true);
  } else {
    together(procs_, [&] {
      if (procs_.root()) remove_checkpoints(c_.output_dir);
    });
  }
}

void ScanDriver::write_outputs(const RunCheckpoint& final_state) {
  write_measurements(final_state.sampler);
  write_snapshots(final_state);
  log_summary(final_state);
  if (c_.analyze) analyze();
}

void ScanDriver::write_measurements(const nlohmann::json& sampler_state) {
  if (processes_ == 1 && retired_.empty()) {
    sampler_->finish(c_.output_dir, dropped_, run_provenance(c_, *engine_));
  } else {
    std::unique_ptr<ProductionSampler> all =
        opt_.make_sampler ? opt_.make_sampler(c_) : make_standard_sampler(c_);
    all->load_state(sampler_state);
    all->finish(c_.output_dir, dropped_, run_provenance(c_, *engine_));
  }
  add_exchange_summary();
}

// measurements.json gains the replica-exchange statistics.
void ScanDriver::add_exchange_summary() const {
  if (!exchange_.on()) return;
  const std::string path = c_.output_dir + "/measurements.json";
  std::ifstream f(path, std::ios::binary);
  std::stringstream text;
  text << f.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str());
  j["replica_exchange"] = exchange_.summary();
  write_json_atomic(path, j);
}

void ScanDriver::write_snapshots(const RunCheckpoint& final_state) const {
  fs::create_directories(c_.output_dir + "/snapshots");
  for (std::size_t b = 0; b < final_state.replicas.size(); ++b)
    write_snapshot(final_state.engine.state, static_cast<int>(b), final_state.replicas[b]);
}

void ScanDriver::log_summary(const RunCheckpoint& final_state) const {
  long builds = 0;
  for (int b : final_state.engine.arrays.at("rebuild_count").as<int>()) builds += b;
  spdlog::info("done: {} steps, {} neighbour-list builds over {} replicas", step_, builds,
               final_state.replicas.size());
  if (!dropped_.empty())
    spdlog::warn(
        "{} of {} replicas were dropped after numerical failures (measurements.json, "
        "\"dropped_replicas\")",
        dropped_.size(), replicas_);
}

// An analysis that cannot run (e.g. fewer than three temperatures) does not fail the scan:
// the measurements are on disk and `vitrify analyze` can be rerun with other options.
void ScanDriver::analyze() const {
  try {
    analysis::analyze_file(c_.output_dir + "/measurements.json", c_.output_dir,
                           analysis::AnalyzeOptions{});
    spdlog::info("wrote {}/analysis.json", c_.output_dir);
  } catch (const InputError& e) {
    spdlog::warn("analysis skipped: {}", e.what());
  }
}

}  // namespace vitrify::scan_detail
