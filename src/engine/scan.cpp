#include "vitrify/engine/scan.hpp"

#include <omp.h>
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>

#include "kernels/integrate.hpp"
#include "vitrify/analysis/statmech.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/engine/model_info.hpp"
#include "vitrify/io/checkpoint.hpp"
#include "vitrify/io/output.hpp"
#include "vitrify/io/xyz.hpp"

namespace vitrify {
namespace fs = std::filesystem;

EngineSettings engine_settings(const RunConfig& c) {
  EngineSettings s;
  s.dt = c.dt;
  s.skin = c.skin;
  s.ensemble = c.ensemble == "npt"   ? Ensemble::kNPT
               : c.ensemble == "nvt" ? Ensemble::kNVT
                                     : Ensemble::kNVE;
  s.thermostat_tau = c.thermostat_tau;
  s.barostat_tau = c.barostat_tau;
  s.bulk_modulus = c.bulk_modulus;
  return s;
}

BatchState initial_batch(const RunConfig& c) {
  const ModelInfo& m = model_info(c.model);
  BatchState s;
  s.resize(c.n_replicas(), c.n_particles, m.dimension);
  const double rho = c.ensemble == "npt" ? c.initial_density : c.density;
  for (int r = 0; r < s.n_replicas; ++r)
    make_lattice_replica(s, r, m, rho, c.melt_temperature, replica_seed(c.seed, r));
  return s;
}

namespace {

// Progress reporting: an in-place line on a terminal, log lines otherwise.
class Progress {
 public:
  Progress(long total_steps, long particles, bool enabled, long log_interval, long first_step = 0)
      : total_(total_steps),
        particles_(particles),
        enabled_(enabled),
        tty_(enabled && isatty(STDERR_FILENO)),
        log_interval_(log_interval),
        last_logged_(first_step),
        first_(first_step),
        start_(std::chrono::steady_clock::now()),
        last_(start_) {}

  void update(long done, const std::string& stage) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - last_).count();
    const bool log_due =
        !tty_ && (log_interval_ > 0 ? done - last_logged_ >= log_interval_ : since >= 30.0);
    if (tty_ && since < 0.5 && done < total_) return;
    if (!tty_ && !log_due && done < total_) return;
    last_ = now;
    last_logged_ = done;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? (done - first_) / elapsed : 0;
    const double eta = rate > 0 ? (total_ - done) / rate : 0;
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%-13s step %ld/%ld (%.1f%%)  %.0f steps/s  %.3g particle-steps/s  ETA %s",
                  stage.c_str(), done, total_, 100.0 * done / std::max(1L, total_), rate,
                  rate * particles_, format_duration(eta).c_str());
    if (tty_) {
      std::fprintf(stderr, "\r%s\033[K", buf);
      if (done >= total_) std::fprintf(stderr, "\n");
      std::fflush(stderr);
    } else {
      spdlog::info("{}", buf);
    }
  }

  static std::string format_duration(double s) {
    char buf[64];
    if (s < 120)
      std::snprintf(buf, sizeof buf, "%.0fs", s);
    else if (s < 7200)
      std::snprintf(buf, sizeof buf, "%.1fmin", s / 60);
    else
      std::snprintf(buf, sizeof buf, "%.1fh", s / 3600);
    return buf;
  }

 private:
  long total_, particles_;
  bool enabled_, tty_;
  long log_interval_;
  long last_logged_ = 0, first_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

// One thermo CSV per replica. The bytes written to each file are counted so that a
// checkpoint can record them and a resumed run can cut the files back to that point.
struct ThermoWriter {
  std::vector<std::ofstream> files;
  std::vector<std::uint64_t> bytes;
  bool npt;
  double pressure;
  int dim;

  // Opens the files: new ones with a header, or (resume != nullptr) the existing ones cut to
  // the recorded lengths and opened for appending.
  void open(const std::string& dir, int replicas, bool is_npt, double p, int d,
            const std::vector<std::uint64_t>* resume) {
    npt = is_npt;
    pressure = p;
    dim = d;
    fs::create_directories(dir);
    if (resume && resume->size() != static_cast<std::size_t>(replicas))
      throw InputError("checkpoint records " + std::to_string(resume->size()) +
                       " thermo files, the run has " + std::to_string(replicas) + " replicas");
    bytes.assign(replicas, 0);
    for (int r = 0; r < replicas; ++r) {
      const std::string path = replica_file(dir, r, ".csv");
      if (resume) {
        std::error_code ec;
        const auto size = fs::file_size(path, ec);
        if (ec || size < (*resume)[r])
          throw InputError(path + " is shorter than the checkpoint records (" +
                           std::to_string((*resume)[r]) + " bytes): cannot resume");
        fs::resize_file(path, (*resume)[r]);
        files.emplace_back(path, std::ios::binary | std::ios::app);
        bytes[r] = (*resume)[r];
      } else {
        files.emplace_back(path, std::ios::binary | std::ios::trunc);
      }
      if (!files.back()) throw InputError("cannot write " + path);
      if (!resume) put(r, std::string("stage,step,time,T,p,u,v") + (npt ? ",h" : "") + "\n");
    }
  }

  void put(std::size_t r, const std::string& row) {
    files[r] << row;
    bytes[r] += row.size();
  }

  void write(const std::string& stage, long step, double time, const std::vector<double>& obs,
             int n) {
    for (std::size_t r = 0; r < files.size(); ++r) {
      const double* o = &obs[r * kernels::kObsCount];
      const double u = o[kernels::kObsPotential] / n;
      const double v = o[kernels::kObsVolume] / n;
      std::ostringstream f;
      f << stage << ',' << step << ',' << std::setprecision(10) << time << ','
        << o[kernels::kObsTemperature] << ',' << o[kernels::kObsPressure] << ',' << u << ',' << v;
      if (npt) f << ',' << u + pressure * v;
      f << '\n';
      put(r, f.str());
    }
  }
  void flush() {
    for (auto& f : files) {
      f.flush();
      if (!f) throw InputError("write failed for a thermo file");
    }
  }
};

void check_finite(const std::vector<double>& obs, int replicas, const RunConfig& c, long step,
                  const std::string& stage, const std::string& note) {
  for (int r = 0; r < replicas; ++r) {
    const double* o = &obs[static_cast<std::size_t>(r) * kernels::kObsCount];
    for (int q = 0; q < kernels::kObsCount; ++q)
      if (!std::isfinite(o[q]))
        throw SimulationError(
            "replica " + std::to_string(r) + " (T = " + std::to_string(c.replica_temperature(r)) +
            ") became non-finite during " + stage + " at step " + std::to_string(step) + note);
  }
}

// SIGINT/SIGTERM: the handler only records the signal; the driver acts on it at the next
// block boundary.
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void record_stop_signal(int signal) { g_stop_signal = signal; }

class SignalGuard {
 public:
  explicit SignalGuard(bool enable) : enabled_(enable) {
    g_stop_signal = 0;
    if (!enabled_) return;
    struct sigaction sa {};
    sa.sa_handler = record_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SignalGuard() {
    if (!enabled_) return;
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  bool enabled_;
  struct sigaction old_int_ {
  }, old_term_{};
};

// Keys that may change between a run and its resumption.
bool may_change_on_resume(const std::string& key) {
  return key == "threads" || key == "backend" || key == "progress_interval" ||
         key == "checkpoint_interval" || key == "checkpoint_wall_seconds" || key == "analyze" ||
         key == "output_dir";
}

void require_same_config(const nlohmann::json& saved, const nlohmann::json& now,
                         const std::string& source) {
  std::set<std::string> keys;
  for (auto it = saved.begin(); it != saved.end(); ++it) keys.insert(it.key());
  for (auto it = now.begin(); it != now.end(); ++it) keys.insert(it.key());
  for (const auto& k : keys) {
    if (may_change_on_resume(k)) continue;
    const nlohmann::json a = saved.contains(k) ? saved.at(k) : nlohmann::json("(absent)");
    const nlohmann::json b = now.contains(k) ? now.at(k) : nlohmann::json("(absent)");
    if (a != b)
      throw InputError("key \"" + k + "\" differs from the checkpoint " + source +
                       " (checkpoint: " + a.dump() + ", configuration: " + b.dump() +
                       "); use the original configuration to resume, or --force to start over");
  }
}

}  // namespace

void run_scan(const RunConfig& c, const ScanOptions& opt) {
  const ModelInfo& m = model_info(c.model);
  fs::create_directories(c.output_dir);
  if (c.threads > 0) omp_set_num_threads(c.threads);
  spdlog::info(
      "vitrify {}: model {} ({}D, {}), N = {}, {} replicas ({} temperatures x {}), "
      "{} OpenMP threads, output {}",
      VITRIFY_VERSION, c.model, m.dimension, c.ensemble, c.n_particles, c.n_replicas(),
      c.temperatures.size(), c.copies_per_temperature, omp_get_max_threads(), c.output_dir);
  write_json_atomic(c.output_dir + "/config.resolved.json", to_json(c));
  {
    std::ostringstream os;
    os << "replica,temperature,copy,seed\n";
    for (int r = 0; r < c.n_replicas(); ++r)
      os << r << ',' << c.replica_temperature(r) << ',' << r % c.copies_per_temperature << ','
         << replica_seed(c.seed, r) << '\n';
    write_text_atomic(c.output_dir + "/replicas.csv", os.str());
  }

  // A checkpoint in the output directory: resume it (same configuration), or refuse to
  // overwrite a finished run; --force starts over.
  std::optional<RunCheckpoint> resume;
  std::string resume_path;
  if (opt.force) {
    remove_checkpoints(c.output_dir);
  } else {
    resume = load_latest_checkpoint(c.output_dir, &resume_path);
    if (resume) {
      require_same_config(resume->config, to_json(c), resume_path);
      if (resume->finished && fs::exists(c.output_dir + "/measurements.json"))
        throw InputError(c.output_dir + " holds a finished run (" + resume_path +
                         " is marked finished and measurements.json exists); use --force to "
                         "run it again");
      if (resume->engine.state.n_replicas != c.n_replicas() ||
          resume->engine.state.n != c.n_particles || resume->stage < 0 || resume->stage > 3)
        throw InputError(resume_path + ": the saved batch does not match the configuration");
    }
  }

  auto engine = make_engine(c.backend, c.model, engine_settings(c));
  spdlog::info("backend: {}", engine->backend_name());
  BatchState state;
  const int R = c.n_replicas();
  std::vector<double> melt(R, c.melt_temperature), target(R), pressure(R, c.pressure);
  for (int r = 0; r < R; ++r) target[r] = c.replica_temperature(r);
  engine->set_targets(melt, melt, pressure);
  long step = 0;
  if (resume) {
    engine->load_state(resume->engine);
    step = resume->step;
    spdlog::info("resuming from {} at step {}", resume_path, step);
  } else {
    state = initial_batch(c);
    engine->set_state(state);
  }

  ThermoWriter thermo;
  thermo.open(c.output_dir + "/thermo", R, c.ensemble == "npt", c.pressure, m.dimension,
              resume ? &resume->thermo_bytes : nullptr);
  std::unique_ptr<ProductionSampler> sampler =
      opt.make_sampler ? opt.make_sampler(c) : make_standard_sampler(c);

  const long total = c.melt_steps + c.cool_steps + c.equilibration_steps + c.production_steps;
  Progress progress(total, static_cast<long>(R) * c.n_particles, opt.progress, c.progress_interval,
                    step);
  std::vector<double> obs;
  if (!resume) {
    engine->observables(obs);
    thermo.write("melt", 0, 0.0, obs, c.n_particles);
  }

  struct Stage {
    std::string name;
    long steps;
    const std::vector<double>* t0;
    const std::vector<double>* t1;
    bool ramp;
    long block;  // steps per block (<= thermo_interval)
  };
  const std::vector<Stage> stages = {
      {"melt", c.melt_steps, &melt, &melt, false, c.thermo_interval},
      {"cool", c.cool_steps, &melt, &target, true, c.thermo_interval},
      {"equilibrate", c.equilibration_steps, &target, &target, false, c.thermo_interval},
      {"production", c.production_steps, &target, &target, false,
       std::gcd(c.thermo_interval, c.sample_interval)}};
  constexpr int kProduction = 3;

  SignalGuard signals(opt.handle_signals);
  const bool checkpoints_on = c.checkpoint_interval > 0 || c.checkpoint_wall_seconds > 0;
  long next_checkpoint =
      c.checkpoint_interval > 0 ? (step / c.checkpoint_interval + 1) * c.checkpoint_interval : 0;
  auto last_checkpoint_time = std::chrono::steady_clock::now();
  long last_checkpoint_step = resume ? resume->step : -1;
  bool sampling = false;
  auto failure_note = [&]() -> std::string {
    if (last_checkpoint_step < 0) return "";
    return "; the last good checkpoint (step " + std::to_string(last_checkpoint_step) +
           ") is kept in " + checkpoint_path(c.output_dir);
  };
  auto save_checkpoint = [&](int stage, long done, bool finished) {
    thermo.flush();
    RunCheckpoint k;
    k.config = to_json(c);
    k.stage = stage;
    k.stage_done = done;
    k.step = step;
    k.finished = finished;
    k.thermo_bytes = thermo.bytes;
    k.sampler = sampling ? sampler->save_state() : nlohmann::json(nullptr);
    engine->save_state(k.engine);
    write_checkpoint(c.output_dir, k);
    last_checkpoint_time = std::chrono::steady_clock::now();
    last_checkpoint_step = step;
    if (c.checkpoint_interval > 0)
      next_checkpoint = (step / c.checkpoint_interval + 1) * c.checkpoint_interval;
    spdlog::debug("checkpoint at step {}", step);
  };

  // Runs stage `si` from `done` steps in blocks: thermo rows (with the non-finite check),
  // samples, progress, checkpoints, and the stop requests.
  auto run_stage = [&](int si, long done) {
    const Stage& st = stages[si];
    if (st.steps <= 0) return;
    engine->set_targets(*st.t0, *st.t1, pressure);
    spdlog::info("stage {}: {} steps{}", st.name, st.steps,
                 done > 0 ? " (resumed after " + std::to_string(done) + ")" : std::string());
    while (done < st.steps) {
      const long n = std::min(st.block, st.steps - done);
      const double rb = st.ramp ? double(done + 1) / st.steps : 1.0;
      const double re = st.ramp ? double(done + n) / st.steps : 1.0;
      engine->run(n, rb, re);
      done += n;
      step += n;
      if (step % c.thermo_interval == 0 || done == st.steps) {
        engine->observables(obs);
        check_finite(obs, R, c, step, st.name, failure_note());
        thermo.write(st.name, step, step * c.dt, obs, c.n_particles);
      }
      if (si == kProduction && done % c.sample_interval == 0) sampler->sample(done, *engine);
      progress.update(step, st.name);
      const int signal = g_stop_signal;
      const bool stop = signal != 0 || (opt.stop_after_step > 0 && step >= opt.stop_after_step);
      const bool due =
          (c.checkpoint_interval > 0 && step >= next_checkpoint) ||
          (c.checkpoint_wall_seconds > 0 &&
           std::chrono::duration<double>(std::chrono::steady_clock::now() - last_checkpoint_time)
                   .count() >= c.checkpoint_wall_seconds);
      if (stop || due) {
        // A checkpoint never holds a non-finite state.
        engine->observables(obs);
        check_finite(obs, R, c, step, st.name, failure_note());
        save_checkpoint(si, done, false);
      }
      if (stop) {
        const std::string why = signal == SIGINT    ? "SIGINT"
                                : signal == SIGTERM ? "SIGTERM"
                                                    : "the step limit";
        throw ScanInterrupted("stopped by " + why + " at step " + std::to_string(step) + " (" +
                              st.name + "); checkpoint written to " +
                              checkpoint_path(c.output_dir) +
                              ": run the same configuration again to resume");
      }
    }
    thermo.flush();
  };

  const int first_stage = resume ? resume->stage : 0;
  for (int si = first_stage; si < static_cast<int>(stages.size()); ++si) {
    if (si == kProduction) {
      sampler->begin(*engine);
      if (resume && first_stage == kProduction) {
        if (resume->sampler.is_null())
          throw InputError(resume_path +
                           ": the checkpoint holds no sampler state, so its "
                           "production stage cannot be resumed (use --force to start over)");
        sampler->load_state(resume->sampler);
      }
      sampling = true;
    }
    run_stage(si, resume && si == first_stage ? resume->stage_done : 0);
  }
  sampler->finish(*engine, c.output_dir);

  engine->get_state(state);
  fs::create_directories(c.output_dir + "/snapshots");
  for (int r = 0; r < R; ++r) {
    std::ostringstream os;
    write_xyz(os, state, r, m,
              "Time=" + std::to_string(step * c.dt) + " T=" + std::to_string(target[r]));
    write_text_atomic(replica_file(c.output_dir + "/snapshots", r, ".xyz"), os.str());
  }
  const NeighborStats ns = engine->neighbor_stats();
  spdlog::info("done: {} steps, {} neighbour-list builds over {} replicas", step, ns.builds, R);
  if (c.analyze) {
    // An analysis that cannot run (e.g. fewer than three temperatures) does not fail the scan:
    // the measurements are on disk and `vitrify analyze` can be rerun with other options.
    try {
      analysis::analyze_file(c.output_dir + "/measurements.json", c.output_dir,
                             analysis::AnalyzeOptions{});
      spdlog::info("wrote {}/analysis.json", c.output_dir);
    } catch (const InputError& e) {
      spdlog::warn("analysis skipped: {}", e.what());
    }
  }
  // The final checkpoint marks the run finished (a later `vitrify run` of it needs --force).
  if (checkpoints_on) {
    save_checkpoint(kProduction, c.production_steps, true);
  } else {
    remove_checkpoints(c.output_dir);
  }
}

}  // namespace vitrify
