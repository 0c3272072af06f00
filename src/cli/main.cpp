// vitrify command line: argument parsing only; everything else is the library.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "vitrify/core/error.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/engine/tools.hpp"
#include "vitrify/io/config.hpp"

namespace {

// Exit codes: 0 success, 1 internal error, 2 bad input/configuration, 3 simulation failure.
constexpr int kExitInternal = 1;
constexpr int kExitInput = 2;
constexpr int kExitSimulation = 3;

vitrify::RunConfig load(const std::string& path) {
  return path.empty() ? vitrify::default_config() : vitrify::load_config(path);
}

void log_to_file(const std::string& dir) {
  std::filesystem::create_directories(dir);
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(dir + "/vitrify.log", false);
  spdlog::default_logger()->sinks().push_back(file);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("vitrify"));
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S] [%^%l%$] %v");
  CLI::App app{"vitrify: GPU-accelerated simulations of glass-forming liquids and the statistical "
               "mechanics of quasi-species"};
  app.require_subcommand(1);
  app.set_version_flag("--version", VITRIFY_VERSION);

  std::string config_path, output_dir, backend;
  int threads = 0;
  bool quiet = false, no_analyze = false;
  auto* run = app.add_subcommand("run", "run a temperature scan from a JSON configuration "
                                        "(built-in default when CONFIG is omitted)");
  run->add_option("config", config_path, "configuration file (JSON, see docs/CONFIG.md)");
  run->add_option("-o,--output", output_dir, "output directory (overrides output_dir)");
  run->add_option("--backend", backend, "cpu, cuda or auto (overrides backend)");
  run->add_option("--threads", threads, "OpenMP threads (overrides threads)");
  run->add_flag("-q,--quiet", quiet, "no progress line");
  run->add_flag("--no-analyze", no_analyze, "skip the analysis at the end of the scan");

  std::string validate_path;
  auto* validate = app.add_subcommand("validate", "check a configuration and print it resolved");
  validate->add_option("config", validate_path, "configuration file")->required();

  std::string eval_model, eval_file;
  bool eval_forces = false;
  double eval_skin = 0.3;
  auto* eval = app.add_subcommand("eval", "energy, virial pressure, quasi-species histogram "
                                          "(and forces) of one extended-XYZ configuration");
  eval->add_option("--model", eval_model, "binary3d or hump2d")->required();
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
  bench->add_option("--threads", bopt.threads, "OpenMP threads");
  bench->add_flag("--json", bench_json, "print JSON only");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*run) {
      vitrify::RunConfig c = load(config_path);
      if (!output_dir.empty()) c.output_dir = output_dir;
      if (!backend.empty()) {
        if (backend != "cpu" && backend != "cuda" && backend != "auto")
          throw vitrify::InputError("--backend must be cpu, cuda or auto");
        c.backend = backend;
      }
      if (threads > 0) c.threads = threads;
      if (no_analyze) c.analyze = false;
      log_to_file(c.output_dir);
      vitrify::ScanOptions so;
      so.progress = !quiet;
      vitrify::run_scan(c, so);
    } else if (*validate) {
      const vitrify::RunConfig c = vitrify::load_config(validate_path);
      std::cout << vitrify::to_json(c).dump(2) << "\n";
      std::cerr << validate_path << ": valid (" << c.n_replicas() << " replicas of "
                << c.n_particles << " particles)\n";
    } else if (*eval) {
      std::cout << vitrify::evaluate_configuration(eval_model, eval_file, eval_forces, eval_skin)
                       .dump(2)
                << "\n";
    } else if (*bench) {
      const vitrify::RunConfig c = load(bench_path);
      if (bench_json) spdlog::set_level(spdlog::level::warn);
      const auto j = vitrify::run_bench(c, bopt);
      if (bench_json) {
        std::cout << j.dump(2) << "\n";
      } else {
        std::printf("vitrify bench: %s, %s, N = %d, %d replicas, backend %s (%s)\n",
                    c.model.c_str(), c.ensemble.c_str(), c.n_particles, c.n_replicas(),
                    j["backend"].get<std::string>().c_str(), j["device"].get<std::string>().c_str());
        std::printf("  dt = %g, skin = %g, warm-up %ld steps, %d blocks of %ld steps\n", c.dt,
                    c.skin, bopt.warmup_steps, bopt.blocks, bopt.steps);
        std::printf("  steps/s: %.1f   replica-steps/s: %.4g   particle-steps/s: %.4g\n",
                    j["steps_per_second"].get<double>(),
                    j["replica_steps_per_second"].get<double>(),
                    j["particle_steps_per_second"].get<double>());
        std::printf("  neighbour builds per replica-step: %.4f; final <T> = %.4f, <p> = %.4f, "
                    "<rho> = %.4f\n",
                    j["neighbor_builds_per_replica_step"].get<double>(),
                    j["final_mean_temperature"].get<double>(),
                    j["final_mean_pressure"].get<double>(),
                    j["final_mean_density"].get<double>());
      }
    }
  } catch (const vitrify::InputError& e) {
    spdlog::error("{}", e.what());
    return kExitInput;
  } catch (const vitrify::SimulationError& e) {
    spdlog::error("simulation failed: {}", e.what());
    return kExitSimulation;
  } catch (const std::exception& e) {
    spdlog::error("internal error: {}", e.what());
    return kExitInternal;
  }
  return 0;
}
