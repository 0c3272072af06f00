// vitrify command line: argument parsing only; everything else is the library.
#include <omp.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "vitrify/analysis/statmech.hpp"
#include "vitrify/analysis/summary.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/memory.hpp"
#include "vitrify/engine/processes.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/engine/tools.hpp"
#include "vitrify/io/config.hpp"
#include "vitrify/models/model_info.hpp"

#ifdef VITRIFY_HAVE_CUDA
#include "vitrify/engine/cuda_backend.hpp"
#endif

namespace {

// Exit codes: 0 success, 1 internal error, 2 bad input/configuration, 3 simulation failure,
// 4 interrupted by SIGINT/SIGTERM after writing a checkpoint (rerun to resume).
constexpr int kExitInternal = 1;
constexpr int kExitInput = 2;
constexpr int kExitSimulation = 3;
constexpr int kExitInterrupted = 4;

namespace fs = std::filesystem;

// Why `path` cannot be read as a file: "" when it can; otherwise "no such file or directory",
// "permission denied", "is a directory", ... (from std::filesystem and errno).
std::string unreadable_reason(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return "is a directory, not a file";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f) {
    std::fclose(f);
    return "";
  }
  std::string why = std::strerror(errno);
  if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
  return why;
}

// InputError "PATH: cannot open the WHAT: REASON" unless `path` is a readable file. A directory
// that holds `expected` (e.g. measurements.json) is pointed at ("did you mean DIR/expected?").
void require_readable(const std::string& path, const std::string& what,
                      const std::string& expected = "") {
  const std::string why = unreadable_reason(path);
  if (why.empty()) return;
  std::string msg = path + ": cannot open the " + what + ": " + why;
  std::error_code ec;
  if (!expected.empty() && fs::is_directory(path, ec) &&
      fs::is_regular_file(fs::path(path) / expected, ec))
    msg += " (did you mean " + (fs::path(path) / expected).string() + "?)";
  throw vitrify::InputError(msg);
}

vitrify::RunConfig load(const std::string& path) {
  if (path.empty()) return vitrify::default_config();
  require_readable(path, "configuration file", "config.resolved.json");
  return vitrify::load_config(path);
}

// --kernel: one of the configuration's kernel names (exit 2 otherwise).
std::string checked_kernel(const std::string& kernel) {
  if (kernel != "per-particle" && kernel != "block" && kernel != "auto")
    throw vitrify::InputError("--kernel must be per-particle, block or auto, got \"" + kernel +
                              "\"");
  return kernel;
}

// --threads: negative counts are refused (exit 2); more threads than cores get a warning.
void check_threads(int threads, const char* flag) {
  if (threads < 0)
    throw vitrify::InputError(std::string(flag) + " must be >= 0 (0: OpenMP's default), got " +
                              std::to_string(threads));
  const int cores = omp_get_num_procs();
  if (threads > cores)
    spdlog::warn(
        "{} {}: more threads than the {} core{} available; the run will likely be "
        "slower than with {} thread{}",
        flag, threads, cores, cores == 1 ? "" : "s", cores, cores == 1 ? "" : "s");
}

// Logs the error (unless quiet) and returns its exit code.
int report_failure(const std::exception_ptr& error, bool quiet) {
  try {
    std::rethrow_exception(error);
  } catch (const vitrify::ScanInterrupted& e) {
    if (!quiet) spdlog::warn("{}", e.what());
    return kExitInterrupted;
  } catch (const vitrify::InputError& e) {
    if (!quiet) spdlog::error("{}", e.what());
    return kExitInput;
  } catch (const vitrify::SimulationError& e) {
    if (!quiet) spdlog::error("simulation failed: {}", e.what());
    return kExitSimulation;
  } catch (const std::exception& e) {
    if (!quiet) spdlog::error("internal error: {}", e.what());
    return kExitInternal;
  } catch (...) {
    if (!quiet) spdlog::error("internal error: unknown exception");
    return kExitInternal;
  }
}

// Appends the log to DIR/vitrify.log (a resumed run continues it); `fresh` empties it first
// (--force: the log of an earlier run goes with its other outputs).
void log_to_file(const std::string& dir, bool fresh) {
  std::filesystem::create_directories(dir);
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(dir + "/vitrify.log", fresh);
  spdlog::default_logger()->sinks().push_back(file);
}

// Reads a JSON file, or null when it is absent or unreadable (the summary never fails a run).
nlohmann::json read_json_or_null(const std::filesystem::path& path) {
  std::ifstream f(path);
  if (!f) return nullptr;
  try {
    return nlohmann::json::parse(f);
  } catch (const std::exception&) {
    return nullptr;
  }
}

// The end-of-run summary: on stdout (unless quiet), appended to the run's vitrify.log (to_log)
// and, without the run's timing (so that the file is reproducible), as summary.txt in `dir`
// (docs/OUTPUTS.md).
void emit_summary(const std::string& text, const std::string& timing,
                  const std::filesystem::path& dir, bool to_log, bool to_terminal) {
  if (to_terminal) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fwrite(timing.data(), 1, timing.size(), stdout);
    std::fflush(stdout);
  }
  std::ofstream(dir / "summary.txt") << text;
  if (to_log) {
    spdlog::default_logger()->flush();
    std::ofstream(dir / "vitrify.log", std::ios::app) << text << timing;
  }
}

// After a finished run: its measurements, the analysis written by this run (an analysis.json
// older than measurements.json belongs to another run and is ignored) and the timing.
void run_summary(const vitrify::RunConfig& c, const vitrify::ScanReport& report, bool quiet) {
  namespace fs = std::filesystem;
  const fs::path dir(c.output_dir);
  const nlohmann::json m = read_json_or_null(dir / "measurements.json");
  if (!m.is_object()) return;
  nlohmann::json a = nullptr;
  std::error_code ec;
  const auto tm = fs::last_write_time(dir / "measurements.json", ec);
  const auto ta = fs::last_write_time(dir / "analysis.json", ec);
  if (!ec && ta >= tm) a = read_json_or_null(dir / "analysis.json");
  const std::string note = !c.analyze ? "disabled (--no-analyze or \"analyze\": false)"
                                      : "skipped or failed (the reason is in the warnings above)";
  vitrify::analysis::RunPerformance perf{report.wall_seconds, report.particle_steps,
                                         report.resumed};
  emit_summary(vitrify::analysis::science_summary(m, a.is_object() ? &a : nullptr, note),
               vitrify::analysis::performance_line(perf), dir, true, !quiet);
}

// Refuses (InputError, on every process) a run that does not fit in the memory of this machine
// or its GPU (docs/CONFIG.md, "Memory"), before anything is allocated or created.
void require_memory_everywhere(const vitrify::RunConfig& c, const vitrify::Processes& procs) {
  const std::string backend = vitrify::resolved_backend(c.backend);
#ifdef VITRIFY_HAVE_CUDA
  // Each process asks its own GPU (the one the run will use).
  if (procs.size() > 1 && backend == "cuda") vitrify::select_cuda_device(procs.local_rank());
#endif
  std::string refusal;
  try {
    vitrify::require_memory(vitrify::estimate_memory(c, backend, procs.size()));
  } catch (const vitrify::InputError& e) {
    refusal = e.what();
  }
  if (procs.any(refusal.empty() ? 0u : 1u) == 0) return;
  throw vitrify::InputError(
      refusal.empty() ? "another process of the run does not have the memory it needs" : refusal);
}

// `vitrify analyze`: its options, and the analysis of one measurements.json (docs/ANALYSIS.md).
struct AnalyzeCommand {
  CLI::App* cmd = nullptr;
  std::string analyze_path, analyze_out, analyze_options_file, reference, liquid, normalization,
      criterion, accept;
  double tmin = 0, tmax = 0, grid_tmin = 0, grid_tmax = 0;
  int grid_points = 0, min_temperatures = 0;
  bool inflate = false, analyze_quiet = false;
  double max_relative_error = 0, p_min = 0, z_max = 0, rel_tol = 0, entropy_tref = 0,
         concentration_tolerance = 0;
  CLI::Option *o_ref = nullptr, *o_liq = nullptr, *o_tmin = nullptr, *o_tmax = nullptr,
              *o_gmin = nullptr, *o_gmax = nullptr, *o_gpts = nullptr, *o_norm = nullptr,
              *o_crit = nullptr, *o_min_t = nullptr, *o_max_rel = nullptr, *o_p_min = nullptr,
              *o_z_max = nullptr, *o_rel_tol = nullptr, *o_tref = nullptr, *o_ctol = nullptr,
              *o_accept = nullptr;

  void add_to(CLI::App& app) {
    cmd = app.add_subcommand("analyze",
                             "statistical mechanics of quasi-species from a measurements.json "
                             "(writes analysis.json and analysis_*.csv)");
    cmd->add_option("measurements", analyze_path,
                    "measurements.json, or a run directory that holds one")
        ->required();
    cmd->add_option("-o,--output", analyze_out, "output directory (default: next to the input)");
    cmd->add_flag("-q,--quiet", analyze_quiet,
                  "no summary on the terminal (summary.txt is written all the same)");
    cmd->add_option("--options", analyze_options_file,
                    "file holding the analysis options as a JSON object (keys in "
                    "docs/ANALYSIS.md); flags override it");
    o_ref =
        cmd->add_option("--reference", reference, "reference species per group, e.g. S=s5,L=l9");
    o_liq = cmd->add_option("--liquid", liquid, "liquid species, e.g. c2,c5,c6");
    o_tmin = cmd->add_option("--tmin", tmin, "lowest temperature used in the fits");
    o_tmax = cmd->add_option("--tmax", tmax, "highest temperature used in the fits");
    o_gmin = cmd->add_option("--grid-tmin", grid_tmin, "lowest temperature of the prediction grid");
    o_gmax =
        cmd->add_option("--grid-tmax", grid_tmax, "highest temperature of the prediction grid");
    o_gpts = cmd->add_option("--grid-points", grid_points, "points of the prediction grid");
    o_norm = cmd->add_option("--normalization", normalization, "group or tracked");
    o_crit =
        cmd->add_option("--criterion", criterion, "validation: statistical, practical or either");
    cmd->add_flag("--inflate-errors", inflate,
                  "scale parameter errors by sqrt(reduced chi2) when > 1");
    o_min_t = cmd->add_option("--min-temperatures", min_temperatures,
                              "temperatures a species needs to be fitted (>= 3)");
    o_max_rel = cmd->add_option("--max-relative-error", max_relative_error,
                                "largest error/C of a concentration entering a free-energy fit");
    o_p_min = cmd->add_option("--p-min", p_min, "validation: smallest chi2 p-value (statistical)");
    o_z_max = cmd->add_option("--z-max", z_max, "validation: largest |pull| (statistical)");
    o_rel_tol = cmd->add_option("--rel-tol", rel_tol,
                                "validation: relative tolerance on C_s/C_r (practical)");
    o_tref = cmd->add_option("--entropy-tref", entropy_tref,
                             "reference temperature of the entropy differences");
    o_ctol = cmd->add_option("--concentration-tolerance", concentration_tolerance,
                             "input check: concentrations >= -tol and |sum - 1| <= tol");
    o_accept = cmd->add_option(
        "--accept", accept,
        "use state points flagged as not equilibrated anyway: all, T=<temperature>, or the kinds "
        "too_few_blocks, halves, tau_alpha (comma-separated; recorded in analysis.json)");
  }

  void run() {
    nlohmann::json opts = nlohmann::json::object();
    if (!analyze_options_file.empty()) {
      require_readable(analyze_options_file, "options file");
      std::ifstream f(analyze_options_file);
      if (!f) throw vitrify::InputError(analyze_options_file + ": cannot open the options file");
      std::stringstream ss;
      ss << f.rdbuf();
      opts = vitrify::parse_json_strict(ss.str(), analyze_options_file);
    }
    auto split = [](const std::string& text) {
      std::vector<std::string> out;
      std::stringstream ss(text);
      std::string item;
      while (std::getline(ss, item, ','))
        if (!item.empty()) out.push_back(item);
      return out;
    };
    if (o_ref->count()) {
      nlohmann::json ref = nlohmann::json::object();
      for (const auto& kv : split(reference)) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos)
          throw vitrify::InputError("--reference: expected GROUP=SPECIES, got \"" + kv + "\"");
        ref[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      opts["reference"] = ref;
    }
    if (o_liq->count()) opts["liquid_species"] = split(liquid);
    if (o_tmin->count()) opts["t_min"] = tmin;
    if (o_tmax->count()) opts["t_max"] = tmax;
    if (o_gmin->count()) opts["grid_t_min"] = grid_tmin;
    if (o_gmax->count()) opts["grid_t_max"] = grid_tmax;
    if (o_gpts->count()) opts["grid_points"] = grid_points;
    if (o_norm->count()) opts["normalization"] = normalization;
    if (o_crit->count()) opts["validation_criterion"] = criterion;
    if (inflate) opts["inflate_errors"] = true;
    if (o_min_t->count()) opts["min_temperatures"] = min_temperatures;
    if (o_max_rel->count()) opts["max_relative_error"] = max_relative_error;
    if (o_p_min->count()) opts["p_value_min"] = p_min;
    if (o_z_max->count()) opts["z_max"] = z_max;
    if (o_rel_tol->count()) opts["relative_tolerance"] = rel_tol;
    if (o_tref->count()) opts["entropy_reference_temperature"] = entropy_tref;
    if (o_ctol->count()) opts["concentration_tolerance"] = concentration_tolerance;
    if (o_accept->count()) opts["accept"] = split(accept);
    const auto options = vitrify::analysis::parse_analyze_options(opts);
    // A run directory: its measurements.json.
    std::error_code ec;
    if (fs::is_directory(analyze_path, ec) &&
        fs::is_regular_file(fs::path(analyze_path) / "measurements.json", ec)) {
      analyze_path = (fs::path(analyze_path) / "measurements.json").string();
      spdlog::info("reading {}", analyze_path);
    } else if (fs::is_directory(analyze_path, ec)) {
      throw vitrify::InputError(analyze_path +
                                ": is a directory with no measurements.json in it (give a "
                                "measurements.json or the run directory that holds one)");
    }
    require_readable(analyze_path, "measurements file");
    if (analyze_out.empty()) {
      analyze_out = std::filesystem::path(analyze_path).parent_path().string();
      if (analyze_out.empty()) analyze_out = ".";
    }
    std::filesystem::create_directories(analyze_out);
    const auto result = vitrify::analysis::analyze_file(analyze_path, analyze_out, options);
    spdlog::info("wrote {}/analysis.json", analyze_out);
    const nlohmann::json m = read_json_or_null(analyze_path);
    if (m.is_object())
      emit_summary(vitrify::analysis::science_summary(m, &result), "", analyze_out, false,
                   !analyze_quiet);
  }
};

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("vitrify"));
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S] [%^%l%$] %v");
  CLI::App app{
      "vitrify: GPU-accelerated simulations of glass-forming liquids and the statistical "
      "mechanics of quasi-species"};
  app.require_subcommand(1);
  app.set_version_flag("--version", VITRIFY_VERSION);

  std::string config_path, output_dir, backend, kernel, bench_kernel;
  int threads = 0;
  long stop_after_step = 0, run_steps = 0;
  double run_seconds = 0;
  std::vector<long> inject_nan;
  bool quiet = false, no_analyze = false, force = false;
  auto* run = app.add_subcommand("run",
                                 "run a temperature scan from a JSON configuration "
                                 "(built-in default when CONFIG is omitted)");
  run->add_option("config", config_path, "configuration file (JSON, see docs/CONFIG.md)");
  run->add_option("-o,--output", output_dir, "output directory (overrides output_dir)");
  run->add_option("--backend", backend, "cpu, cuda or auto (overrides backend)");
  run->add_option("--kernel", kernel, "per-particle, block or auto (overrides kernel)");
  run->add_option("--threads", threads, "OpenMP threads (overrides threads)");
  run->add_flag("-q,--quiet", quiet, "no progress line and no summary on the terminal");
  run->add_flag("--no-analyze", no_analyze, "skip the analysis at the end of the scan");
  run->add_flag("--force", force, "start over: ignore checkpoints and overwrite a finished run");
  run->add_option("--stop-after-step", stop_after_step,
                  "checkpoint and exit with code 4 at the first block boundary at or after this "
                  "step of the scan (rerun to resume)");
  auto* o_run_steps = run->add_option(
      "--run-steps", run_steps,
      "checkpoint and exit with code 4 at the first block boundary at or after this "
      "many steps beyond where this run starts or resumes (job chains)");
  auto* o_run_seconds =
      run->add_option("--run-seconds", run_seconds,
                      "checkpoint and exit with code 4 at the first block boundary after this many "
                      "seconds of wall-clock time (job chains)");
  // Test hook (hidden): replica R's velocities become NaN at step S (ScanOptions).
  run->add_option("--inject-nan", inject_nan, "REPLICA STEP")->expected(2)->group("");

  std::string validate_path;
  auto* validate = app.add_subcommand("validate", "check a configuration and print it resolved");
  validate->add_option("config", validate_path, "configuration file")->required();

  std::string model_list;
  for (const std::string& name : vitrify::model_names())
    model_list += (model_list.empty() ? "" : ", ") + name;
  std::string eval_model, eval_file;
  bool eval_forces = false;
  double eval_skin = 0.3;
  auto* eval = app.add_subcommand("eval",
                                  "energy, pressure, kinetic temperature (when the file has "
                                  "velocities), quasi-species histogram (and forces) of one "
                                  "extended-XYZ configuration");
  eval->add_option(
      "--model", eval_model,
      "the model (" + model_list + "); default: the model=NAME of the file's comment line");
  eval->add_option("file", eval_file, "extended XYZ file")->required();
  eval->add_flag("--forces", eval_forces, "also print the force on every particle");
  eval->add_option("--skin", eval_skin, "neighbour-list skin (sigma)");

  std::string bench_path;
  vitrify::BenchOptions bopt;
  bool bench_json = false;
  auto* bench = app.add_subcommand("bench", "particle-steps per second of a configuration");
  bench->add_option("config", bench_path, "configuration (default: the built-in default)");
  bench->add_option("--steps", bopt.steps, "timed steps per block");
  bench->add_option("--warmup", bopt.warmup_steps, "warm-up steps");
  bench->add_option("--blocks", bopt.blocks, "timed blocks (median reported)");
  bench->add_option("--backend", bopt.backend, "cpu, cuda or auto");
  bench->add_option("--kernel", bench_kernel, "per-particle, block or auto");
  bench->add_option("--threads", bopt.threads, "OpenMP threads");
  bench->add_flag("--json", bench_json, "print JSON only");

  AnalyzeCommand analyze_command;
  analyze_command.add_to(app);
  CLI::App* analyze = analyze_command.cmd;

  CLI11_PARSE(app, argc, argv);

  // Set on the processes other than 0 of a multi-process run, which leave the report to it.
  bool quiet_errors = false;
  try {
    if (*run) {
      vitrify::RunConfig c = load(config_path);
      if (!output_dir.empty()) c.output_dir = output_dir;
      if (!backend.empty()) {
        if (backend != "cpu" && backend != "cuda" && backend != "auto")
          throw vitrify::InputError("--backend must be cpu, cuda or auto");
        c.backend = backend;
      }
      if (!kernel.empty()) c.kernel = checked_kernel(kernel);
      check_threads(threads, "--threads");
      if (threads > 0)
        c.threads = threads;
      else
        check_threads(c.threads, "threads");
      if (no_analyze) c.analyze = false;
      if (stop_after_step < 0) throw vitrify::InputError("--stop-after-step must be >= 0");
      if (o_run_steps->count() && run_steps < 1)
        throw vitrify::InputError("--run-steps must be >= 1");
      if (o_run_seconds->count() && !(run_seconds > 0 && std::isfinite(run_seconds)))
        throw vitrify::InputError("--run-seconds must be a number > 0");
      // Under an MPI launcher: one of several processes (docs/RUNNING.md). Process 0 logs and
      // reports errors (every process leaves run_scan with the same one); the others only
      // print their own warnings.
      vitrify::MpiSession mpi(&argc, &argv);
      const vitrify::Processes& procs = vitrify::Processes::world();
      if (!procs.root()) {
        quiet_errors = true;
        spdlog::set_level(spdlog::level::warn);
        spdlog::set_pattern("[%Y-%m-%d %H:%M:%S] [process " + std::to_string(procs.rank()) +
                            "] [%^%l%$] %v");
      }
      vitrify::ScanOptions so;
      so.progress = !quiet;
      so.force = force;
      so.stop_after_step = stop_after_step;
      so.run_steps = run_steps;
      so.run_seconds = run_seconds;
      if (inject_nan.size() == 2) {
        so.inject_nan_replica = static_cast<int>(inject_nan[0]);
        so.inject_nan_step = inject_nan[1];
      }
      try {
        // Nothing is created for a run that cannot start: the backend is checked before the
        // output directory (and its log file) exists.
        vitrify::require_backend_available(c.backend);
        require_memory_everywhere(c, procs);
        if (procs.root()) log_to_file(c.output_dir, force);
        const vitrify::ScanReport report = vitrify::run_scan(c, so);
        if (procs.root()) run_summary(c, report, quiet);
      } catch (...) {
        // Every process leaves run_scan with the same error. Process 0 reports it before any
        // process exits: a launcher ends the whole job when the first process exits with an
        // error, which could otherwise be before process 0 has printed it.
        const int code = report_failure(std::current_exception(), quiet_errors);
        procs.barrier();
        return code;
      }
    } else if (*analyze) {
      analyze_command.run();
    } else if (*validate) {
      const vitrify::RunConfig c = load(validate_path);
      std::cout << vitrify::to_json(c).dump(2) << "\n";
      const vitrify::MemoryEstimate need =
          vitrify::estimate_memory(c, vitrify::resolved_backend(c.backend));
      for (const std::string& line : vitrify::describe_memory(need))
        std::cerr << validate_path << ": " << line << "\n";
      vitrify::require_memory(need);
      std::cerr << validate_path << ": valid (" << c.n_replicas() << " replicas of "
                << c.n_particles << " particles)\n";
    } else if (*eval) {
      require_readable(eval_file, "XYZ file");
      std::cout
          << vitrify::evaluate_configuration(eval_model, eval_file, eval_forces, eval_skin).dump(2)
          << "\n";
    } else if (*bench) {
      check_threads(bopt.threads, "--threads");
      vitrify::RunConfig c = load(bench_path);
      if (!bench_kernel.empty()) c.kernel = checked_kernel(bench_kernel);
      if (bench_json) spdlog::set_level(spdlog::level::warn);
      const auto j = vitrify::run_bench(c, bopt);
      if (bench_json) {
        std::cout << j.dump(2) << "\n";
      } else {
        std::printf("vitrify bench: %s, %s, N = %d, %d replicas, backend %s (%s), %s kernel\n",
                    c.model.c_str(), c.ensemble.c_str(), c.n_particles, c.n_replicas(),
                    j["backend"].get<std::string>().c_str(), j["device"].get<std::string>().c_str(),
                    j["kernel"].get<std::string>().c_str());
        std::printf("  dt = %g, skin = %g, warm-up %ld steps, %d blocks of %ld steps\n", c.dt,
                    c.skin, bopt.warmup_steps, bopt.blocks, bopt.steps);
        std::printf("  steps/s: %.1f   replica-steps/s: %.4g   particle-steps/s: %.4g\n",
                    j["steps_per_second"].get<double>(),
                    j["replica_steps_per_second"].get<double>(),
                    j["particle_steps_per_second"].get<double>());
        std::printf(
            "  neighbour builds per replica-step: %.4f; final <T> = %.4f, <p> = %.4f, "
            "<rho> = %.4f\n",
            j["neighbor_builds_per_replica_step"].get<double>(),
            j["final_mean_temperature"].get<double>(), j["final_mean_pressure"].get<double>(),
            j["final_mean_density"].get<double>());
      }
    }
  } catch (...) {
    return report_failure(std::current_exception(), quiet_errors);
  }
  return 0;
}
