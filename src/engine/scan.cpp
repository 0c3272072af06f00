#include "vitrify/engine/scan.hpp"

#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <numeric>
#include <sstream>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include "kernels/integrate.hpp"
#include "vitrify/analysis/statmech.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/engine/model_info.hpp"
#include "vitrify/io/output.hpp"
#include "vitrify/io/xyz.hpp"

namespace vitrify {
namespace fs = std::filesystem;

EngineSettings engine_settings(const RunConfig& c) {
  EngineSettings s;
  s.dt = c.dt;
  s.skin = c.skin;
  s.ensemble = c.ensemble == "npt" ? Ensemble::kNPT
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
  Progress(long total_steps, long particles, bool enabled, long log_interval)
      : total_(total_steps), particles_(particles), enabled_(enabled),
        tty_(enabled && isatty(STDERR_FILENO)), log_interval_(log_interval),
        start_(std::chrono::steady_clock::now()), last_(start_) {}

  void update(long done, const std::string& stage) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - last_).count();
    const bool log_due = !tty_ && (log_interval_ > 0 ? done - last_logged_ >= log_interval_
                                                     : since >= 30.0);
    if (tty_ && since < 0.5 && done < total_) return;
    if (!tty_ && !log_due && done < total_) return;
    last_ = now;
    last_logged_ = done;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? done / elapsed : 0;
    const double eta = rate > 0 ? (total_ - done) / rate : 0;
    char buf[256];
    std::snprintf(buf, sizeof buf, "%-13s step %ld/%ld (%.1f%%)  %.0f steps/s  %.3g particle-steps/s  ETA %s",
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
    if (s < 120) std::snprintf(buf, sizeof buf, "%.0fs", s);
    else if (s < 7200) std::snprintf(buf, sizeof buf, "%.1fmin", s / 60);
    else std::snprintf(buf, sizeof buf, "%.1fh", s / 3600);
    return buf;
  }

 private:
  long total_, particles_;
  bool enabled_, tty_;
  long log_interval_;
  long last_logged_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

struct ThermoWriter {
  std::vector<std::ofstream> files;
  bool npt;
  double pressure;
  int dim;

  void open(const std::string& dir, int replicas, bool is_npt, double p, int d) {
    npt = is_npt;
    pressure = p;
    dim = d;
    fs::create_directories(dir);
    for (int r = 0; r < replicas; ++r) {
      files.emplace_back(replica_file(dir, r, ".csv"));
      if (!files.back()) throw InputError("cannot write " + replica_file(dir, r, ".csv"));
      files.back() << "stage,step,time,T,p,u,v" << (npt ? ",h" : "") << '\n';
    }
  }

  void write(const std::string& stage, long step, double time, const std::vector<double>& obs,
             int n) {
    for (std::size_t r = 0; r < files.size(); ++r) {
      const double* o = &obs[r * kernels::kObsCount];
      const double u = o[kernels::kObsPotential] / n;
      const double v = o[kernels::kObsVolume] / n;
      auto& f = files[r];
      f << stage << ',' << step << ',' << std::setprecision(10) << time << ','
        << o[kernels::kObsTemperature] << ',' << o[kernels::kObsPressure] << ',' << u << ',' << v;
      if (npt) f << ',' << u + pressure * v;
      f << '\n';
    }
  }
  void flush() {
    for (auto& f : files) f.flush();
  }
};

void check_finite(const std::vector<double>& obs, int replicas, const RunConfig& c, long step,
                  const std::string& stage) {
  for (int r = 0; r < replicas; ++r) {
    const double* o = &obs[static_cast<std::size_t>(r) * kernels::kObsCount];
    for (int q = 0; q < kernels::kObsCount; ++q)
      if (!std::isfinite(o[q]))
        throw SimulationError("replica " + std::to_string(r) + " (T = " +
                              std::to_string(c.replica_temperature(r)) +
                              ") became non-finite during " + stage + " at step " +
                              std::to_string(step));
  }
}

}  // namespace

void run_scan(const RunConfig& c, const ScanOptions& opt) {
  const ModelInfo& m = model_info(c.model);
  fs::create_directories(c.output_dir);
  if (c.threads > 0) omp_set_num_threads(c.threads);
  spdlog::info("vitrify {}: model {} ({}D, {}), N = {}, {} replicas ({} temperatures x {}), "
               "{} OpenMP threads, output {}",
               VITRIFY_VERSION, c.model, m.dimension, c.ensemble, c.n_particles, c.n_replicas(),
               c.temperatures.size(), c.copies_per_temperature, omp_get_max_threads(),
               c.output_dir);
  write_json_atomic(c.output_dir + "/config.resolved.json", to_json(c));
  {
    std::ostringstream os;
    os << "replica,temperature,copy,seed\n";
    for (int r = 0; r < c.n_replicas(); ++r)
      os << r << ',' << c.replica_temperature(r) << ',' << r % c.copies_per_temperature << ','
         << replica_seed(c.seed, r) << '\n';
    write_text_atomic(c.output_dir + "/replicas.csv", os.str());
  }

  auto engine = make_engine(c.backend, c.model, engine_settings(c));
  spdlog::info("backend: {}", engine->backend_name());
  BatchState state = initial_batch(c);
  const int R = state.n_replicas;
  std::vector<double> melt(R, c.melt_temperature), target(R), pressure(R, c.pressure);
  for (int r = 0; r < R; ++r) target[r] = c.replica_temperature(r);
  engine->set_targets(melt, melt, pressure);
  engine->set_state(state);

  ThermoWriter thermo;
  thermo.open(c.output_dir + "/thermo", R, c.ensemble == "npt", c.pressure, m.dimension);
  std::unique_ptr<ProductionSampler> sampler =
      opt.make_sampler ? opt.make_sampler(c) : make_standard_sampler(c);

  const long total = c.melt_steps + c.cool_steps + c.equilibration_steps + c.production_steps;
  Progress progress(total, static_cast<long>(R) * c.n_particles, opt.progress,
                    c.progress_interval);
  std::vector<double> obs;
  long step = 0;
  engine->observables(obs);
  thermo.write("melt", 0, 0.0, obs, c.n_particles);

  // Runs `steps` steps of a stage in blocks, writing thermo rows and calling `on_block`.
  auto run_stage = [&](const std::string& stage, long steps, const std::vector<double>& t0,
                       const std::vector<double>& t1, bool ramp, long block,
                       const std::function<void(long)>& on_block) {
    if (steps <= 0) return;
    engine->set_targets(t0, t1, pressure);
    spdlog::info("stage {}: {} steps", stage, steps);
    for (long done = 0; done < steps;) {
      const long n = std::min(block, steps - done);
      const double rb = ramp ? double(done + 1) / steps : 1.0;
      const double re = ramp ? double(done + n) / steps : 1.0;
      engine->run(n, rb, re);
      done += n;
      step += n;
      if (step % c.thermo_interval == 0 || done == steps) {
        engine->observables(obs);
        check_finite(obs, R, c, step, stage);
        thermo.write(stage, step, step * c.dt, obs, c.n_particles);
      }
      if (on_block) on_block(done);
      progress.update(step, stage);
    }
    thermo.flush();
  };

  run_stage("melt", c.melt_steps, melt, melt, false, c.thermo_interval, nullptr);
  run_stage("cool", c.cool_steps, melt, target, true, c.thermo_interval, nullptr);
  run_stage("equilibrate", c.equilibration_steps, target, target, false, c.thermo_interval,
            nullptr);
  sampler->begin(*engine);
  const long block = std::gcd(c.thermo_interval, c.sample_interval);
  run_stage("production", c.production_steps, target, target, false, block, [&](long done) {
    if (done % c.sample_interval == 0) sampler->sample(done, *engine);
  });
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
}

}  // namespace vitrify
