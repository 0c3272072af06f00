#include "vitrify/engine/tools.hpp"

#include <omp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "vitrify/core/observables.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/io/xyz.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify {

nlohmann::json evaluate_configuration(const std::string& model, const std::string& xyz_path,
                                      bool with_forces, double skin) {
  // The model: the one given (an override), else the file's model=NAME.
  XyzFrame frame;
  if (model.empty()) frame = read_xyz_file(xyz_path, 0);
  const ModelInfo& m = model_info(model.empty() ? frame.model : model);
  if (!model.empty()) {
    frame = read_xyz_file(xyz_path, m.dimension);
    if (!frame.model.empty() && frame.model != m.name)
      spdlog::warn("{}: the file names model {}; evaluating it as {} (--model)", xyz_path,
                   frame.model, m.name);
  }
  BatchState s = frame_to_state(frame, m, xyz_path);
  // One frame needs no skin: shrink it when the box is too small for the requested one (the
  // reader has refused edges below twice the cutoff already).
  double l_min = s.box[0];
  for (int a = 1; a < m.dimension; ++a) l_min = std::min(l_min, double(s.box[a]));
  const double skin_used = std::min(skin, 0.999 * (l_min / 2 - m.max_cutoff));
  EngineSettings es;
  es.skin = skin_used;
  es.ensemble = Ensemble::kNVE;
  auto engine = make_engine("cpu", m.name, es);
  engine->set_state(s);
  std::vector<double> obs;
  engine->observables(obs);
  std::vector<int> nn;
  engine->species_neighbor_counts(nn);
  const int n = s.n;
  const double vol = obs[kObsVolume];
  nlohmann::json out;
  out["model"] = m.name;
  out["file"] = xyz_path;
  out["n_particles"] = n;
  out["box"] = std::vector<double>(s.box.begin(), s.box.begin() + m.dimension);
  out["volume"] = vol;
  out["density"] = n / vol;
  out["potential_energy_per_particle"] = obs[kObsPotential] / n;
  out["potential_energy_total"] = obs[kObsPotential];
  out["virial_sum"] = obs[kObsVirial];
  out["virial_pressure"] = obs[kObsVirial] / (m.dimension * vol);
  // With velocities (the vel column): kinetic energy (unit masses), the kinetic temperature
  // 2K/(d(N-1)) and the full pressure (2K + W)/(dV), as the engine reports them.
  out["has_velocities"] = frame.has_velocities;
  if (frame.has_velocities) {
    double k = 0;
    for (int i = 0; i < n; ++i) {
      double v2 = frame.vx[i] * frame.vx[i] + frame.vy[i] * frame.vy[i];
      if (m.dimension == 3) v2 += frame.vz[i] * frame.vz[i];
      k += 0.5 * v2;
    }
    out["kinetic_energy_total"] = k;
    out["kinetic_energy_per_particle"] = k / n;
    out["kinetic_temperature"] =
        n > 1 ? nlohmann::json(2.0 * k / (m.dimension * (n - 1.0))) : nlohmann::json(nullptr);
    out["pressure"] = (2.0 * k + obs[kObsVirial]) / (m.dimension * vol);
  }
  nlohmann::json hist = nlohmann::json::object();
  for (int t = 0; t < m.n_types; ++t) {
    std::map<int, long> h;
    for (int i = 0; i < n; ++i)
      if (s.type[i] == t) h[nn[i]] += 1;
    nlohmann::json ht = nlohmann::json::object();
    for (const auto& [k, v] : h) ht[std::to_string(k)] = v;
    hist[m.type_names[t]] = ht;
  }
  out["species_histogram"] = hist;
  if (with_forces) {
    std::vector<real> fx, fy, fz;
    engine->forces(fx, fy, fz);
    nlohmann::json f = nlohmann::json::array();
    for (int i = 0; i < n; ++i) {
      if (m.dimension == 3)
        f.push_back({fx[i], fy[i], fz[i]});
      else
        f.push_back({fx[i], fy[i]});
    }
    out["forces"] = f;
  }
  return out;
}

nlohmann::json run_bench(const RunConfig& c, const BenchOptions& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  auto engine = make_engine(o.backend, c.model, engine_settings(c));
  BatchState s = initial_batch(c);
  std::vector<double> t(c.n_replicas()), p(c.n_replicas(), c.pressure);
  for (int r = 0; r < c.n_replicas(); ++r) t[r] = c.replica_temperature(r);
  engine->set_targets(t, t, p);
  engine->set_state(s);
  engine->run(o.warmup_steps);
  const long builds0 = engine->neighbor_stats().builds;
  std::vector<double> secs;
  for (int b = 0; b < o.blocks; ++b) {
    const auto t0 = std::chrono::steady_clock::now();
    engine->run(o.steps);
    std::vector<double> obs;
    engine->observables(obs);  // synchronises
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::vector<double> sorted = secs;
  std::sort(sorted.begin(), sorted.end());
  const double med = sorted[sorted.size() / 2];
  const double R = c.n_replicas();
  std::vector<double> obs;
  engine->observables(obs);
  double mean_t = 0, mean_p = 0, mean_rho = 0;
  for (int r = 0; r < c.n_replicas(); ++r) {
    mean_t += obs[r * kObsCount + kObsTemperature] / R;
    mean_p += obs[r * kObsCount + kObsPressure] / R;
    mean_rho += c.n_particles / obs[r * kObsCount + kObsVolume] / R;
  }
  nlohmann::json j;
  j["model"] = c.model;
  j["ensemble"] = c.ensemble;
  j["n_particles"] = c.n_particles;
  j["replicas"] = c.n_replicas();
  j["backend"] = engine->backend_name();
  j["kernel"] = engine->kernel_name();
  j["device"] = engine->backend_name() == "cpu"
                    ? "CPU, " + std::to_string(omp_get_max_threads()) + " OpenMP thread" +
                          (omp_get_max_threads() == 1 ? "" : "s")
                    : engine->device_name();
  j["dt"] = c.dt;
  j["skin"] = c.skin;
  j["warmup_steps"] = o.warmup_steps;
  j["steps_per_block"] = o.steps;
  j["block_seconds"] = secs;
  j["steps_per_second"] = o.steps / med;
  j["replica_steps_per_second"] = R * o.steps / med;
  j["particle_steps_per_second"] = R * c.n_particles * o.steps / med;
  j["neighbor_builds_per_replica_step"] =
      double(engine->neighbor_stats().builds - builds0) / (R * o.steps * o.blocks);
  j["final_mean_temperature"] = mean_t;
  j["final_mean_pressure"] = mean_p;
  j["final_mean_density"] = mean_rho;
  return j;
}

}  // namespace vitrify
