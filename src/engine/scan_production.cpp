// Production "until-equilibrated" (docs/CONFIG.md, "Scan protocol"): every production_steps
// steps the scan driver judges each state point still running with the equilibration verdict of
// its samples so far; the replicas of a point that passes leave the batch (their samples stay,
// with the production length they reached), so the slow points continue alone until they pass
// or production_max_steps is spent.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

#include "src/engine/scan_driver.hpp"
#include "vitrify/analysis/measure_equilibration.hpp"
#include "vitrify/io/output.hpp"
#include "vitrify/io/xyz.hpp"

namespace vitrify::scan_detail {

using analysis::format_short;

namespace {

// "T = 0.5 (tau_alpha 7.5e-1, production 1.3e1 tau_alpha)" for the log, and the first reason
// not to stop for a point that did not pass.
std::string describe_point(const RunConfig& c, const PointCheck& p, long done) {
  const double time = done * c.dt;
  std::ostringstream os;
  os << "T = " << c.temperatures[p.temperature_index] << " (tau_alpha "
     << (p.tau_reached ? "" : "> ") << format_short(p.tau_alpha);
  if (p.tau_reached && p.tau_alpha > 0)
    os << ", production " << format_short(time / p.tau_alpha) << " tau_alpha";
  if (!p.equilibrated && !p.flags.empty()) os << "; " << p.flags.front();
  os << ")";
  return os.str();
}

}  // namespace

// At production step `done` (a multiple of production_steps): the state points that pass stop.
void ScanDriver::check_production(long done) {
  std::vector<PointCheck> checks;
  together(procs_, [&] { checks = sampler_->check_points(done); });
  std::vector<int> passed;  // scan-wide replicas of the points that passed
  std::string passed_text, running_text;
  for (const PointCheck& p : checks) {
    (p.equilibrated ? passed_text : running_text) +=
        (((p.equilibrated ? passed_text : running_text).empty()) ? "" : ", ") +
        describe_point(c_, p, done);
    if (!p.equilibrated) continue;
    for (int r : alive_)
      if (r / c_.copies_per_temperature == p.temperature_index) passed.push_back(r);
  }
  production_finished_ = passed.size() == alive_.size();
  if (procs_.root()) {
    const bool budget = done >= c_.production_max_steps;
    spdlog::info("production check at {} steps ({} tau): {}{}{}", done, format_short(done * c_.dt),
                 passed_text.empty() ? "" : "passed: " + passed_text,
                 !passed_text.empty() && !running_text.empty() ? "; " : "",
                 running_text.empty() ? ""
                 : budget             ? "budget spent: " + running_text
                                      : "still running: " + running_text);
  }
  // When every point has passed production ends here, with the whole batch.
  if (production_finished_ || passed.empty()) return;
  retire(passed);
}

// The replicas `passed` leave the batch: process 0 writes their snapshots and keeps their
// sampler entries for the outputs and the checkpoints.
void ScanDriver::retire(const std::vector<int>& passed) {
  RunCheckpoint all = gather_run(true);
  together(procs_, [&] {
    if (!procs_.root()) return;
    for (int r : passed) {
      const auto at = std::find(all.replicas.begin(), all.replicas.end(), r);
      write_snapshot(all.engine.state, static_cast<int>(at - all.replicas.begin()), r);
      for (const auto& e : all.sampler.at("replicas"))
        if (e.value("replica", -1) == r) retired_entries_.push_back(e);
    }
  });
  for (int r : passed) {
    retired_.push_back(r);
    sanity_.forget(r);
  }
  std::sort(retired_.begin(), retired_.end());
  std::vector<int> left;
  for (int r : alive_)
    if (std::find(passed.begin(), passed.end(), r) == passed.end()) left.push_back(r);
  alive_ = left;
  together(procs_, [&] { drop_from_batch(passed); });
  observe();
  if (procs_.root())
    spdlog::info("{} replica{} left the batch, {} continue", passed.size(),
                 passed.size() == 1 ? "" : "s", alive_.size());
}

// The retired replicas' sampler entries join a gathered state (checkpoints and outputs), in
// the order of their scan-wide indices.
void ScanDriver::append_retired(RunCheckpoint& k) const {
  if (retired_.empty() || !procs_.root()) return;
  for (const auto& e : retired_entries_) k.sampler["replicas"].push_back(e);
  auto& reps = k.sampler["replicas"];
  std::stable_sort(reps.begin(), reps.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a.value("replica", -1) < b.value("replica", -1);
  });
}

void ScanDriver::write_snapshot(const BatchState& state, int b, int replica) const {
  std::filesystem::create_directories(c_.output_dir + "/snapshots");
  std::ostringstream os;
  write_xyz(os, state, b, model_,
            "Time=" + std::to_string(step_ * c_.dt) +
                " T=" + std::to_string(c_.replica_temperature(replica)));
  write_text_atomic(replica_file(c_.output_dir + "/snapshots", replica, ".xyz"), os.str());
}

}  // namespace vitrify::scan_detail
