#include "vitrify/engine/scan.hpp"

#include <omp.h>
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>

#include "kernels/integrate.hpp"
#include "vitrify/analysis/statmech.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/models/model_info.hpp"
#include "vitrify/engine/processes.hpp"
#include "vitrify/io/checkpoint.hpp"
#include "vitrify/io/output.hpp"
#include "vitrify/io/xyz.hpp"

#ifdef VITRIFY_HAVE_CUDA
#include "vitrify/engine/cuda_backend.hpp"  // select_cuda_device
#endif

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
  std::vector<int> all(c.n_replicas());
  std::iota(all.begin(), all.end(), 0);
  return initial_batch(c, all);
}

BatchState initial_batch(const RunConfig& c, const std::vector<int>& replicas) {
  const ModelInfo& m = model_info(c.model);
  BatchState s;
  s.resize(static_cast<int>(replicas.size()), c.n_particles, m.dimension);
  const double rho = c.ensemble == "npt" ? c.initial_density : c.density;
  for (int b = 0; b < s.n_replicas; ++b)
    make_lattice_replica(s, b, m, rho, c.melt_temperature, replica_seed(c.seed, replicas[b]));
  return s;
}

nlohmann::json DroppedReplica::to_json() const {
  return {{"replica", replica},
          {"temperature", temperature},
          {"stage", stage},
          {"step", step},
          {"reason", reason}};
}

DroppedReplica DroppedReplica::from_json(const nlohmann::json& j, const std::string& source) {
  auto bad = [&](const std::string& why) -> InputError {
    return InputError(source + ": dropped replica record " + j.dump() + ": " + why);
  };
  if (!j.is_object()) throw bad("not an object");
  for (const char* key : {"replica", "temperature", "stage", "step", "reason"})
    if (!j.contains(key)) throw bad(std::string("\"") + key + "\" is missing");
  if (!j.at("replica").is_number_integer() || !j.at("step").is_number_integer() ||
      !j.at("temperature").is_number() || !j.at("stage").is_string() || !j.at("reason").is_string())
    throw bad("a field has the wrong type");
  DroppedReplica d;
  d.replica = j.at("replica").get<int>();
  d.temperature = j.at("temperature").get<double>();
  d.stage = j.at("stage").get<std::string>();
  d.step = j.at("step").get<long>();
  d.reason = j.at("reason").get<std::string>();
  return d;
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

  // One row for each replica of `replicas` (scan-wide indices); obs holds their observables
  // in that order.
  void write(const std::string& stage, long step, double time, const std::vector<double>& obs,
             const std::vector<int>& replicas, int n) {
    for (std::size_t k = 0; k < replicas.size(); ++k) {
      const double* o = &obs[k * kernels::kObsCount];
      const double u = o[kernels::kObsPotential] / n;
      const double v = o[kernels::kObsVolume] / n;
      std::ostringstream f;
      f << stage << ',' << step << ',' << std::setprecision(10) << time << ','
        << o[kernels::kObsTemperature] << ',' << o[kernels::kObsPressure] << ',' << u << ',' << v;
      if (npt) f << ',' << u + pressure * v;
      f << '\n';
      put(replicas[k], f.str());
    }
  }
  void flush() {
    for (auto& f : files) {
      f.flush();
      if (!f) throw InputError("write failed for a thermo file");
    }
  }
};

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
         key == "output_dir" || key == "on_failure";
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

// ---- several processes (docs/RUNNING.md) ---------------------------------------------------

// The kinds of error that leave run_scan, so that every process can throw the same.
enum ErrorKind : int { kNoError = 0, kInternal, kInput, kSimulation, kInterrupted };

// Agrees on the outcome of work that each process did on its own: when it threw on any
// process, every process throws the error of the lowest such process (same kind, same
// message), so that all processes leave run_scan alike (one exit code for the launcher) and
// none is left waiting in a collective for one that has gone. With one process the error is
// rethrown unchanged.
void agree(const Processes& procs, std::exception_ptr error) {
  if (procs.size() == 1) {
    if (error) std::rethrow_exception(error);
    return;
  }
  int kind = kNoError;
  std::string what;
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const ScanInterrupted& e) {
      kind = kInterrupted;
      what = e.what();
    } catch (const InputError& e) {
      kind = kInput;
      what = e.what();
    } catch (const SimulationError& e) {
      kind = kSimulation;
      what = e.what();
    } catch (const std::exception& e) {
      kind = kInternal;
      what = e.what();
    } catch (...) {
      kind = kInternal;
      what = "unknown exception";
    }
  }
  const std::vector<int> kinds = procs.all_gather(kind);
  int from = 0;
  while (from < procs.size() && kinds[from] == kNoError) ++from;
  if (from == procs.size()) return;
  std::string message = procs.broadcast(what, from);
  if (from != 0) message = "process " + std::to_string(from) + ": " + message;
  switch (kinds[from]) {
    case kInterrupted:
      throw ScanInterrupted(message);
    case kInput:
      throw InputError(message);
    case kSimulation:
      throw SimulationError(message);
    default:
      throw std::runtime_error(message);
  }
}

// Runs `work` (no collectives inside) on this process, then agree()s on its outcome.
template <class Work>
void together(const Processes& procs, Work&& work) {
  std::exception_ptr error;
  try {
    work();
  } catch (...) {
    error = std::current_exception();
  }
  agree(procs, error);
}

// The replicas of process `rank` of `size`: the contiguous block
// replicas[rank*A/size, (rank+1)*A/size) of the A replicas.
std::vector<int> share_of(const std::vector<int>& replicas, int rank, int size) {
  const long a = static_cast<long>(replicas.size());
  return std::vector<int>(replicas.begin() + a * rank / size,
                          replicas.begin() + a * (rank + 1) / size);
}

std::string cbor_bytes(const nlohmann::json& j) {
  const std::vector<std::uint8_t> v = nlohmann::json::to_cbor(j);
  return std::string(v.begin(), v.end());
}

// The entries of the given replicas of a sampler state (ProductionSampler::save_state).
nlohmann::json select_sampler_state(const nlohmann::json& state, const std::vector<int>& replicas,
                                    const std::string& source) {
  if (state.is_null()) return state;
  if (!state.is_object() || !state.contains("replicas") || !state.at("replicas").is_array())
    throw InputError(source + ": the sampler state has no replicas");
  nlohmann::json out = state;
  out["replicas"] = nlohmann::json::array();
  for (int r : replicas) {
    const nlohmann::json* entry = nullptr;
    for (const auto& e : state.at("replicas"))
      if (e.is_object() && e.contains("replica") && e.at("replica") == r) entry = &e;
    if (!entry)
      throw InputError(source + ": the sampler state holds no replica " + std::to_string(r));
    out["replicas"].push_back(*entry);
  }
  return out;
}

// The replicas of several sampler states in one (the other members are the same in all).
nlohmann::json join_sampler_states(const std::vector<nlohmann::json>& states) {
  nlohmann::json out = nullptr;
  for (const auto& s : states) {
    if (s.is_null()) continue;
    if (out.is_null()) {
      out = s;
    } else {
      for (const auto& e : s.at("replicas")) out["replicas"].push_back(e);
    }
  }
  return out;
}

// Stop and checkpoint requests, OR-ed over the processes at every block boundary.
enum BlockFlags : std::uint32_t { kSigint = 1, kSigterm = 2, kWallClockDue = 4 };

}  // namespace

void run_scan(const RunConfig& c, const ScanOptions& opt) {
  const Processes& procs = Processes::world();
  const int P = procs.size();
  const ModelInfo& m = model_info(c.model);
  const int R = c.n_replicas();
  if (P > R)
    throw InputError(std::to_string(P) + " processes for " + std::to_string(R) +
                     " replicas: every process needs at least one replica; use at most " +
                     std::to_string(R) + " processes");
  if (c.threads > 0) omp_set_num_threads(c.threads);

  // Process 0 writes every file: it starts the run directory and reads the checkpoint to
  // resume, if any.
  std::optional<RunCheckpoint> resume;
  std::string resume_path;
  together(procs, [&] {
    if (!procs.root()) return;
    fs::create_directories(c.output_dir);
    spdlog::info(
        "vitrify {}: model {} ({}D, {}), N = {}, {} replicas ({} temperatures x {}), "
        "{} OpenMP threads{}, output {}",
        VITRIFY_VERSION, c.model, m.dimension, c.ensemble, c.n_particles, R, c.temperatures.size(),
        c.copies_per_temperature, omp_get_max_threads(),
        P > 1 ? " per process, " + std::to_string(P) + " processes" : std::string(), c.output_dir);
    write_json_atomic(c.output_dir + "/config.resolved.json", to_json(c));
    std::ostringstream os;
    os << "replica,temperature,copy,seed\n";
    for (int r = 0; r < R; ++r)
      os << r << ',' << c.replica_temperature(r) << ',' << r % c.copies_per_temperature << ','
         << replica_seed(c.seed, r) << '\n';
    write_text_atomic(c.output_dir + "/replicas.csv", os.str());

    // A checkpoint in the output directory: resume it (same configuration), or refuse to
    // overwrite a finished run; --force starts over.
    if (opt.force) {
      remove_checkpoints(c.output_dir);
      return;
    }
    resume = load_latest_checkpoint(c.output_dir, &resume_path);
    if (!resume) return;
    require_same_config(resume->config, to_json(c), resume_path);
    if (resume->finished && fs::exists(c.output_dir + "/measurements.json"))
      throw InputError(c.output_dir + " holds a finished run (" + resume_path +
                       " is marked finished and measurements.json exists); use --force to "
                       "run it again");
    if (resume->thermo_bytes.size() != static_cast<std::size_t>(R) ||
        resume->engine.state.n != c.n_particles || resume->stage < 0 || resume->stage > 3)
      throw InputError(resume_path + ": the saved batch does not match the configuration");
    // The batch and the dropped replicas together are every replica, once.
    std::vector<bool> seen(R, false);
    for (int r : resume->replicas) seen[r] = true;
    for (const auto& j : resume->dropped) {
      const DroppedReplica d = DroppedReplica::from_json(j, resume_path);
      if (d.replica < 0 || d.replica >= R || seen[d.replica])
        throw InputError(resume_path + ": dropped replica " + std::to_string(d.replica) +
                         " is out of range or still in the batch");
      seen[d.replica] = true;
    }
  });

  // Every process learns where the scan starts and which replicas are left.
  nlohmann::json start;
  if (procs.root()) {
    std::vector<int> all(R);
    std::iota(all.begin(), all.end(), 0);
    start = {{"resume", resume.has_value()},
             {"stage", resume ? resume->stage : 0},
             {"stage_done", resume ? resume->stage_done : 0L},
             {"step", resume ? resume->step : 0L},
             {"replicas", resume ? resume->replicas : all},
             {"dropped", resume ? resume->dropped : nlohmann::json::array()}};
  }
  if (P > 1) start = nlohmann::json::from_cbor(procs.broadcast(cbor_bytes(start)));
  const bool resumed = start.at("resume").get<bool>();
  std::vector<int> alive = start.at("replicas").get<std::vector<int>>();
  std::vector<DroppedReplica> dropped;
  for (const auto& j : start.at("dropped")) dropped.push_back(DroppedReplica::from_json(j, ""));
  if (P > static_cast<int>(alive.size()))
    throw InputError(std::to_string(P) + " processes for the " + std::to_string(alive.size()) +
                     " replicas left in the checkpoint: resume with at most " +
                     std::to_string(alive.size()) + " processes");
  std::vector<int> local = share_of(alive, procs.rank(), P);

  // This process's part of the checkpoint: the whole of it with one process; otherwise
  // process 0 splits it by replica and sends each process its share.
  const RunCheckpoint* part = resumed && P == 1 ? &*resume : nullptr;
  std::optional<RunCheckpoint> received;
  if (resumed && P > 1) {
    std::vector<std::string> shares;
    together(procs, [&] {
      if (!procs.root()) return;
      for (int k = 0; k < P; ++k) {
        RunCheckpoint sub;
        sub.config = resume->config;
        sub.stage = resume->stage;
        sub.stage_done = resume->stage_done;
        sub.step = resume->step;
        sub.replicas = share_of(alive, k, P);
        const long a = static_cast<long>(alive.size());
        std::vector<int> indices(sub.replicas.size());
        std::iota(indices.begin(), indices.end(), static_cast<int>(a * k / P));
        sub.engine = select_replicas(resume->engine, indices);
        sub.sampler = select_sampler_state(resume->sampler, sub.replicas, resume_path);
        shares.push_back(encode_checkpoint(sub));
      }
    });
    const std::string mine = procs.scatter(shares);
    together(procs, [&] { received = decode_checkpoint(mine, "the share of this process"); });
    part = &*received;
  }

  std::unique_ptr<Engine> engine;
  together(procs, [&] {
#ifdef VITRIFY_HAVE_CUDA
    // One GPU per process on a node (round robin when there are more processes than GPUs).
    if (P > 1 && c.backend != "cpu") select_cuda_device(procs.local_rank());
#endif
    engine = make_engine(c.backend, c.model, engine_settings(c));
  });
  {
    std::ostringstream where;
    where << "process " << procs.rank() << " on " << procs.node_name() << ": replicas "
          << local.front() << ".." << local.back() << ", backend " << engine->backend_name() << " ("
          << engine->device_name() << ")";
    const std::vector<std::string> all = procs.gather(where.str());
    if (procs.root()) {
      spdlog::info("backend: {}", engine->backend_name());
      if (P > 1)
        for (const auto& line : all) spdlog::info("{}", line);
    }
  }

  // Thermostat and barostat targets of this process's replicas.
  std::vector<double> melt, target, pressure;
  auto local_targets = [&] {
    melt.assign(local.size(), c.melt_temperature);
    target.resize(local.size());
    for (std::size_t b = 0; b < local.size(); ++b) target[b] = c.replica_temperature(local[b]);
    pressure.assign(local.size(), c.pressure);
  };
  local_targets();
  long step = 0;
  together(procs, [&] {
    engine->set_targets(melt, melt, pressure);
    if (part) {
      engine->load_state(part->engine);
    } else {
      engine->set_state(initial_batch(c, local));
    }
  });
  if (resumed) {
    step = start.at("step").get<long>();
    if (procs.root()) spdlog::info("resuming from {} at step {}", resume_path, step);
  }

  ThermoWriter thermo;  // process 0
  together(procs, [&] {
    if (procs.root())
      thermo.open(c.output_dir + "/thermo", R, c.ensemble == "npt", c.pressure, m.dimension,
                  resume ? &resume->thermo_bytes : nullptr);
  });
  std::unique_ptr<ProductionSampler> sampler =
      opt.make_sampler ? opt.make_sampler(c) : make_standard_sampler(c);

  const long total = c.melt_steps + c.cool_steps + c.equilibration_steps + c.production_steps;
  Progress progress(total, static_cast<long>(alive.size()) * c.n_particles,
                    opt.progress && procs.root(), c.progress_interval, step);

  // The observables of every remaining replica, in the order of `alive`, on every process.
  std::vector<double> obs;
  auto observe = [&] {
    std::vector<double> mine;
    together(procs, [&] {
      if (!local.empty()) engine->observables(mine);
    });
    if (P == 1) {
      obs = std::move(mine);
      return;
    }
    const std::string bytes(reinterpret_cast<const char*>(mine.data()),
                            mine.size() * sizeof(double));
    obs.clear();
    for (const std::string& p : procs.all_gather(bytes)) {
      const std::size_t at = obs.size();
      obs.resize(at + p.size() / sizeof(double));
      std::memcpy(obs.data() + at, p.data(), p.size());
    }
  };
  if (!resumed) {
    observe();
    together(procs, [&] {
      if (procs.root()) thermo.write("melt", 0, 0.0, obs, alive, c.n_particles);
    });
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
  const int first_stage = start.at("stage").get<int>();
  int current_stage = first_stage;
  auto stage_targets = [&] {
    const Stage& st = stages[current_stage];
    if (!local.empty()) engine->set_targets(*st.t0, *st.t1, pressure);
  };

  SignalGuard signals(opt.handle_signals);
  const bool checkpoints_on = c.checkpoint_interval > 0 || c.checkpoint_wall_seconds > 0;
  long next_checkpoint =
      c.checkpoint_interval > 0 ? (step / c.checkpoint_interval + 1) * c.checkpoint_interval : 0;
  auto last_checkpoint_time = std::chrono::steady_clock::now();
  long last_checkpoint_step = resumed ? step : -1;
  bool sampling = false;
  auto failure_note = [&]() -> std::string {
    if (last_checkpoint_step < 0) return "";
    return "; the last good checkpoint (step " + std::to_string(last_checkpoint_step) +
           ") is kept in " + checkpoint_path(c.output_dir);
  };

  // Every replica's observables must be finite: a replica that is not stops the run, or with
  // on_failure "drop" leaves it (the others continue exactly as they would have: replicas are
  // independent, and the engine resumes the survivors from its own saved state).
  auto check_replicas = [&](const std::string& stage) {
    std::vector<int> failed;
    std::vector<int> kept;
    std::vector<double> kept_obs;
    for (std::size_t k = 0; k < alive.size(); ++k) {
      const double* o = &obs[k * kernels::kObsCount];
      bool finite = true;
      for (int q = 0; q < kernels::kObsCount; ++q) finite = finite && std::isfinite(o[q]);
      if (finite) {
        kept.push_back(alive[k]);
        kept_obs.insert(kept_obs.end(), o, o + kernels::kObsCount);
      } else {
        failed.push_back(alive[k]);
      }
    }
    if (failed.empty()) return;
    auto describe = [&](int r) {
      return "replica " + std::to_string(r) + " (T = " + std::to_string(c.replica_temperature(r)) +
             ") became non-finite during " + stage + " at step " + std::to_string(step);
    };
    if (c.on_failure == "stop") throw SimulationError(describe(failed.front()) + failure_note());
    for (int r : failed) {
      dropped.push_back(
          {r, c.replica_temperature(r), stage, step, "non-finite observables (NaN or infinity)"});
      if (procs.root())
        spdlog::warn("{}: dropped (on_failure \"drop\"), {} replicas continue", describe(r),
                     kept.size());
    }
    if (kept.empty())
      throw SimulationError("every replica has failed (on_failure \"drop\"), the last: " +
                            describe(failed.back()) + failure_note());
    alive = kept;
    obs = kept_obs;
    together(procs, [&] {
      std::vector<int> keep, leave;  // batch indices
      for (std::size_t b = 0; b < local.size(); ++b)
        (std::count(failed.begin(), failed.end(), local[b]) ? leave : keep)
            .push_back(static_cast<int>(b));
      if (leave.empty()) return;
      if (!keep.empty()) {
        EngineCheckpoint state;
        engine->save_state(state);
        engine->load_state(select_replicas(state, keep));
      }
      if (sampling)
        for (auto b = leave.rbegin(); b != leave.rend(); ++b) sampler->drop(*b);
      std::vector<int> left;
      for (int b : keep) left.push_back(local[b]);
      local = left;
      local_targets();
      stage_targets();
    });
  };

  // The test hook ScanOptions::inject_nan_replica.
  bool injected = false;
  auto inject_nan = [&] {
    if (opt.inject_nan_replica < 0 || injected || step < opt.inject_nan_step) return;
    injected = true;
    const auto it = std::find(local.begin(), local.end(), opt.inject_nan_replica);
    if (it == local.end()) return;
    const std::size_t n = c.n_particles, b = it - local.begin();
    EngineCheckpoint state;
    engine->save_state(state);
    for (auto* v : {&state.state.vx, &state.state.vy, &state.state.vz})
      std::fill(v->begin() + b * n, v->begin() + (b + 1) * n,
                std::numeric_limits<real>::quiet_NaN());
    engine->load_state(state);
    stage_targets();
  };

  // Every process's batch (and sampler state), joined on process 0 in the order of `alive`.
  auto gather_run = [&](bool with_sampler) {
    RunCheckpoint mine;
    together(procs, [&] {
      if (!local.empty()) engine->save_state(mine.engine);
      mine.replicas = local;
      if (with_sampler) mine.sampler = sampler->save_state();
    });
    if (P == 1) return mine;
    const std::vector<std::string> parts = procs.gather(encode_checkpoint(mine));
    RunCheckpoint all;
    together(procs, [&] {
      if (!procs.root()) return;
      std::vector<EngineCheckpoint> engines;
      std::vector<nlohmann::json> samplers;
      for (int k = 0; k < P; ++k) {
        RunCheckpoint d = decode_checkpoint(parts[k], "the state of process " + std::to_string(k));
        all.replicas.insert(all.replicas.end(), d.replicas.begin(), d.replicas.end());
        engines.push_back(std::move(d.engine));
        samplers.push_back(std::move(d.sampler));
      }
      all.engine = join_replicas(engines);
      all.sampler = join_sampler_states(samplers);
    });
    return all;
  };
  // Process 0 writes a gathered state as the checkpoint.
  auto write_gathered = [&](RunCheckpoint& k, int stage, long done, bool finished) {
    together(procs, [&] {
      if (!procs.root()) return;
      thermo.flush();
      k.config = to_json(c);
      k.stage = stage;
      k.stage_done = done;
      k.step = step;
      k.finished = finished;
      k.thermo_bytes = thermo.bytes;
      k.dropped = nlohmann::json::array();
      for (const auto& d : dropped) k.dropped.push_back(d.to_json());
      write_checkpoint(c.output_dir, k);
      spdlog::debug("checkpoint at step {}", step);
    });
    last_checkpoint_time = std::chrono::steady_clock::now();
    last_checkpoint_step = step;
    if (c.checkpoint_interval > 0)
      next_checkpoint = (step / c.checkpoint_interval + 1) * c.checkpoint_interval;
  };

  // Runs stage `si` from `done` steps in blocks: thermo rows (with the non-finite check),
  // samples, progress, checkpoints, and the stop requests.
  auto run_stage = [&](int si, long done) {
    const Stage& st = stages[si];
    if (st.steps <= 0) return;
    current_stage = si;
    together(procs, [&] { stage_targets(); });
    if (procs.root())
      spdlog::info("stage {}: {} steps{}", st.name, st.steps,
                   done > 0 ? " (resumed after " + std::to_string(done) + ")" : std::string());
    while (done < st.steps) {
      const long n = std::min(st.block, st.steps - done);
      const double rb = st.ramp ? double(done + 1) / st.steps : 1.0;
      const double re = st.ramp ? double(done + n) / st.steps : 1.0;
      done += n;
      step += n;
      together(procs, [&] {
        if (!local.empty()) engine->run(n, rb, re);
        inject_nan();
      });
      if (step % c.thermo_interval == 0 || done == st.steps) {
        observe();
        check_replicas(st.name);
        together(procs, [&] {
          if (procs.root()) thermo.write(st.name, step, step * c.dt, obs, alive, c.n_particles);
        });
      }
      if (si == kProduction && done % c.sample_interval == 0)
        together(procs, [&] { sampler->sample(done, *engine); });
      progress.update(step, st.name);
      std::uint32_t flags = 0;
      if (g_stop_signal == SIGINT) flags |= kSigint;
      if (g_stop_signal == SIGTERM) flags |= kSigterm;
      if (c.checkpoint_wall_seconds > 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - last_checkpoint_time)
                  .count() >= c.checkpoint_wall_seconds)
        flags |= kWallClockDue;
      flags = procs.any(flags);
      const bool stop = (flags & (kSigint | kSigterm)) != 0 ||
                        (opt.stop_after_step > 0 && step >= opt.stop_after_step);
      const bool due =
          (c.checkpoint_interval > 0 && step >= next_checkpoint) || (flags & kWallClockDue) != 0;
      if (stop || due) {
        // A checkpoint never holds a non-finite state.
        observe();
        check_replicas(st.name);
        RunCheckpoint k = gather_run(sampling);
        write_gathered(k, si, done, false);
      }
      if (stop) {
        const std::string why = (flags & kSigint)    ? "SIGINT"
                                : (flags & kSigterm) ? "SIGTERM"
                                                     : "the step limit";
        throw ScanInterrupted("stopped by " + why + " at step " + std::to_string(step) + " (" +
                              st.name + "); checkpoint written to " +
                              checkpoint_path(c.output_dir) +
                              ": run the same configuration again to resume");
      }
    }
    together(procs, [&] {
      if (procs.root()) thermo.flush();
    });
  };

  for (int si = first_stage; si < static_cast<int>(stages.size()); ++si) {
    if (si == kProduction) {
      together(procs, [&] {
        sampler->begin(*engine, local);
        if (part && first_stage == kProduction) {
          if (part->sampler.is_null())
            throw InputError(resume_path +
                             ": the checkpoint holds no sampler state, so its "
                             "production stage cannot be resumed (use --force to start over)");
          try {
            sampler->load_state(part->sampler);
          } catch (const nlohmann::json::exception& e) {
            // A checksum-valid file whose sampler state does not have the expected shape.
            throw InputError(resume_path + ": malformed sampler state: " + e.what());
          }
        }
      });
      sampling = true;
    }
    run_stage(si, resumed && si == first_stage ? start.at("stage_done").get<long>() : 0);
  }

  // Process 0 writes the measurements (the samplers of all processes joined), the final
  // configurations, the analysis and the final checkpoint.
  RunCheckpoint final_state = gather_run(true);
  together(procs, [&] {
    if (!procs.root()) return;
    if (P == 1) {
      sampler->finish(c.output_dir, dropped);
    } else {
      std::unique_ptr<ProductionSampler> all =
          opt.make_sampler ? opt.make_sampler(c) : make_standard_sampler(c);
      all->load_state(final_state.sampler);
      all->finish(c.output_dir, dropped);
    }
    const BatchState& state = final_state.engine.state;
    fs::create_directories(c.output_dir + "/snapshots");
    for (std::size_t b = 0; b < final_state.replicas.size(); ++b) {
      const int r = final_state.replicas[b];
      std::ostringstream os;
      write_xyz(
          os, state, static_cast<int>(b), m,
          "Time=" + std::to_string(step * c.dt) + " T=" + std::to_string(c.replica_temperature(r)));
      write_text_atomic(replica_file(c.output_dir + "/snapshots", r, ".xyz"), os.str());
    }
    long builds = 0;
    for (int b : final_state.engine.rebuild_count) builds += b;
    spdlog::info("done: {} steps, {} neighbour-list builds over {} replicas", step, builds,
                 final_state.replicas.size());
    if (!dropped.empty())
      spdlog::warn(
          "{} of {} replicas were dropped after numerical failures (measurements.json, "
          "\"dropped_replicas\")",
          dropped.size(), R);
    if (c.analyze) {
      // An analysis that cannot run (e.g. fewer than three temperatures) does not fail the
      // scan: the measurements are on disk and `vitrify analyze` can be rerun with other
      // options.
      try {
        analysis::analyze_file(c.output_dir + "/measurements.json", c.output_dir,
                               analysis::AnalyzeOptions{});
        spdlog::info("wrote {}/analysis.json", c.output_dir);
      } catch (const InputError& e) {
        spdlog::warn("analysis skipped: {}", e.what());
      }
    }
  });
  // The final checkpoint marks the run finished (a later `vitrify run` of it needs --force).
  if (checkpoints_on) {
    write_gathered(final_state, kProduction, c.production_steps, true);
  } else {
    together(procs, [&] {
      if (procs.root()) remove_checkpoints(c.output_dir);
    });
  }
}

}  // namespace vitrify
