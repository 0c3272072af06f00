#pragma once
// Helpers of the scan driver (src/engine/scan_driver.hpp), internal to src/engine/: progress
// reporting, the thermo files, the stop signals, the agreement of several processes on the
// outcome of their own work, and the splitting and joining of sampler states.
#include <signal.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <exception>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vitrify/engine/processes.hpp"

namespace vitrify::scan_detail {

// Progress reporting: an in-place line on a terminal, log lines otherwise.
class Progress {
 public:
  Progress(long total_steps, long particles, bool enabled, long log_interval, long first_step = 0);
  void update(long done, const std::string& stage);
  static std::string format_duration(double s);

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
            const std::vector<std::uint64_t>* resume);
  void put(std::size_t r, const std::string& row);
  // One row for each replica of `replicas` (scan-wide indices); obs holds their observables
  // in that order.
  void write(const std::string& stage, long step, double time, const std::vector<double>& obs,
             const std::vector<int>& replicas, int n);
  void flush();
};

// SIGINT/SIGTERM: the handler only records the signal; the driver acts on it at the next
// block boundary. stop_signal() is the signal recorded since the last SignalGuard was made
// (0: none).
int stop_signal();

class SignalGuard {
 public:
  explicit SignalGuard(bool enable);
  ~SignalGuard();
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  bool enabled_;
  struct sigaction old_int_ {
  }, old_term_{};
};

// InputError naming the key when a checkpoint's configuration `saved` differs from `now` in a
// key that may not change on resume.
void require_same_config(const nlohmann::json& saved, const nlohmann::json& now,
                         const std::string& source);

// ---- several processes (docs/RUNNING.md) ---------------------------------------------------

// Agrees on the outcome of work that each process did on its own: when it threw on any
// process, every process throws the error of the lowest such process (same kind, same
// message), so that all processes leave run_scan alike (one exit code for the launcher) and
// none is left waiting in a collective for one that has gone. With one process the error is
// rethrown unchanged.
void agree(const Processes& procs, std::exception_ptr error);

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
std::vector<int> share_of(const std::vector<int>& replicas, int rank, int size);

std::string cbor_bytes(const nlohmann::json& j);

// The entries of the given replicas of a sampler state (ProductionSampler::save_state).
nlohmann::json select_sampler_state(const nlohmann::json& state, const std::vector<int>& replicas,
                                    const std::string& source);

// The replicas of several sampler states in one (the other members are the same in all).
nlohmann::json join_sampler_states(const std::vector<nlohmann::json>& states);

// Stop and checkpoint requests, OR-ed over the processes at every block boundary.
enum BlockFlags : std::uint32_t { kSigint = 1, kSigterm = 2, kWallClockDue = 4, kRunTimeUp = 8 };

}  // namespace vitrify::scan_detail
