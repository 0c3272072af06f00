#include "src/engine/scan_support.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <set>
#include <sstream>
#include <stdexcept>

#include "vitrify/core/error.hpp"
#include "vitrify/core/observables.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/io/output.hpp"

namespace vitrify::scan_detail {
namespace fs = std::filesystem;

// ---- Progress ------------------------------------------------------------------------------

Progress::Progress(long total_steps, long particles, bool enabled, long log_interval,
                   long first_step)
    : total_(total_steps),
      particles_(particles),
      enabled_(enabled),
      tty_(enabled && isatty(STDERR_FILENO)),
      log_interval_(log_interval),
      last_logged_(first_step),
      first_(first_step),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void Progress::update(long done, const std::string& stage) {
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

std::string Progress::format_duration(double s) {
  char buf[64];
  if (s < 120)
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 7200)
    std::snprintf(buf, sizeof buf, "%.1fmin", s / 60);
  else
    std::snprintf(buf, sizeof buf, "%.1fh", s / 3600);
  return buf;
}

// ---- ThermoWriter --------------------------------------------------------------------------

void ThermoWriter::open(const std::string& dir, int replicas, bool is_npt, double p, int d,
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

void ThermoWriter::put(std::size_t r, const std::string& row) {
  files[r] << row;
  bytes[r] += row.size();
}

void ThermoWriter::write(const std::string& stage, long step, double time,
                         const std::vector<double>& obs, const std::vector<int>& replicas, int n) {
  for (std::size_t k = 0; k < replicas.size(); ++k) {
    const double* o = &obs[k * kObsCount];
    const double u = o[kObsPotential] / n;
    const double v = o[kObsVolume] / n;
    std::ostringstream f;
    f << stage << ',' << step << ',' << std::setprecision(10) << time << ',' << o[kObsTemperature]
      << ',' << o[kObsPressure] << ',' << u << ',' << v;
    if (npt) f << ',' << u + pressure * v;
    f << '\n';
    put(replicas[k], f.str());
  }
}

void ThermoWriter::flush() {
  for (auto& f : files) {
    f.flush();
    if (!f) throw InputError("write failed for a thermo file");
  }
}

// ---- signals -------------------------------------------------------------------------------

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void record_stop_signal(int signal) { g_stop_signal = signal; }

}  // namespace

int stop_signal() { return g_stop_signal; }

SignalGuard::SignalGuard(bool enable) : enabled_(enable) {
  g_stop_signal = 0;
  if (!enabled_) return;
  struct sigaction sa {};
  sa.sa_handler = record_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

SignalGuard::~SignalGuard() {
  if (!enabled_) return;
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

// ---- resuming ------------------------------------------------------------------------------

namespace {

// Keys that may change between a run and its resumption.
bool may_change_on_resume(const std::string& key) {
  return key == "threads" || key == "backend" || key == "kernel" || key == "graphs" ||
         key == "progress_interval" || key == "checkpoint_interval" ||
         key == "checkpoint_wall_seconds" || key == "analyze" || key == "output_dir" ||
         key == "on_failure" || key == "comment" || key == "keep_checkpoints";
}

// Keys added after checkpoints were first written, with the value that older runs used: a
// checkpoint without the key resumes when the configuration has that value.
bool added_later_with_value(const std::string& key, const nlohmann::json& value) {
  return ((key == "thermostat" || key == "barostat") && value == "berendsen") ||
         (key == "trajectory_interval" && value == 0) ||
         (key == "production" && value == "fixed") ||
         (key == "production_max_steps" && value == 0) ||
         (key == "replica_exchange_interval" && value == 0) ||
         (key == "replica_exchange_stages" &&
          value == nlohmann::json::array({"equilibrate", "production"}));
}

}  // namespace

void require_same_config(const nlohmann::json& saved, const nlohmann::json& now,
                         const std::string& source) {
  std::set<std::string> keys;
  for (auto it = saved.begin(); it != saved.end(); ++it) keys.insert(it.key());
  for (auto it = now.begin(); it != now.end(); ++it) keys.insert(it.key());
  for (const auto& k : keys) {
    if (may_change_on_resume(k)) continue;
    if (!saved.contains(k) && now.contains(k) && added_later_with_value(k, now.at(k))) continue;
    const nlohmann::json a = saved.contains(k) ? saved.at(k) : nlohmann::json("(absent)");
    const nlohmann::json b = now.contains(k) ? now.at(k) : nlohmann::json("(absent)");
    if (a != b)
      throw InputError("key \"" + k + "\" differs from the checkpoint " + source +
                       " (checkpoint: " + a.dump() + ", configuration: " + b.dump() +
                       "); use the original configuration to resume, or --force to start over");
  }
}

// ---- several processes ---------------------------------------------------------------------

namespace {

// The kinds of error that leave run_scan, so that every process can throw the same.
enum ErrorKind : int { kNoError = 0, kInternal, kInput, kSimulation, kInterrupted };

}  // namespace

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

std::vector<int> share_of(const std::vector<int>& replicas, int rank, int size) {
  const long a = static_cast<long>(replicas.size());
  return std::vector<int>(replicas.begin() + a * rank / size,
                          replicas.begin() + a * (rank + 1) / size);
}

std::string cbor_bytes(const nlohmann::json& j) {
  const std::vector<std::uint8_t> v = nlohmann::json::to_cbor(j);
  return std::string(v.begin(), v.end());
}

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

}  // namespace vitrify::scan_detail
