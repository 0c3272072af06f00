// The standard measurements of a temperature scan (docs/PHYSICS.md, "Measurements"): quasi-species
// concentrations, per-species energies, thermodynamics and the self-ISF, sampled every
// sample_interval steps of production, block-averaged with blocks longer than tau_alpha,
// pooled over the replicas of each temperature, checked for equilibration, and written as
// measurements.json plus CSV tables (docs/OUTPUTS.md).
#include "vitrify/engine/measurements.hpp"

#include <omp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "vitrify/analysis/measure_blocking.hpp"
#include "vitrify/analysis/measure_equilibration.hpp"
#include "vitrify/analysis/measure_fluctuation.hpp"
#include "vitrify/analysis/measure_isf.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/core/observables.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/io/output.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify {

using analysis::BlockAccumulator;
using analysis::BlockEstimate;
using json = nlohmann::json;

namespace {

// The error of tau_alpha from a single trajectory: the production is cut into this many time
// windows, each giving its own tau_alpha (docs/OUTPUTS.md); used only when every window lasts at
// least kMinWindowTauAlpha times the pooled tau_alpha.
constexpr int kTauWindows = 8;
constexpr double kMinWindowTauAlpha = 5.0;
// tau_alpha's note when replica exchanges run in production.
constexpr const char* kNoIsfNote =
    "not measured: replica exchanges in production (a temperature slot's trajectory is not "
    "continuous)";

// Scalar observables per replica, in this order.
enum Scalar { kT = 0, kP, kU, kV, kH, kRho, kScalarCount };

json value_json(const BlockEstimate& e) {
  json j;
  j["mean"] = std::isfinite(e.mean) ? json(e.mean) : json(nullptr);
  j["error"] = std::isfinite(e.error) ? json(e.error) : json(nullptr);
  return j;
}

}  // namespace

std::vector<SpeciesDef> resolve_species(const RunConfig& c, const ModelInfo& m,
                                        const std::vector<std::vector<double>>& bin_means) {
  std::vector<SpeciesDef> out;
  if (c.species.is_string() && c.species.get<std::string>() == "paper") return m.paper_species;
  if (c.species.is_string()) {  // auto
    for (int t = 0; t < m.n_types; ++t)
      for (int n = 0; n < kMaxSpeciesNeighbors; ++n) {
        double best = 0;
        for (const auto& temp : bin_means)
          best = std::max(best, temp[t * kMaxSpeciesNeighbors + n]);
        if (best > c.species_auto_threshold) out.push_back({m.species_name(t, n), t, n});
      }
    return out;
  }
  for (const auto& s : c.species) {
    const std::string name = s.get<std::string>();
    for (int t = 0; t < m.n_types; ++t) {
      const std::string& p = m.species_prefixes[t];
      if (name.compare(0, p.size(), p) == 0 &&
          name.find_first_not_of("0123456789", p.size()) == std::string::npos) {
        const int n = std::stoi(name.substr(p.size()));
        if (n >= kMaxSpeciesNeighbors)
          throw InputError("species \"" + name + "\": at most " +
                           std::to_string(kMaxSpeciesNeighbors - 1) + " neighbours are counted");
        out.push_back({name, t, n});
      }
    }
  }
  return out;
}

class StandardSampler final : public ProductionSampler {
 public:
  explicit StandardSampler(const RunConfig& c)
      : c_(c),
        m_(model_info(c.model)),
        isf_on_(!c.exchanges_in("production")),
        canonical_(c.thermostat == "csvr" &&
                   (c.ensemble == "nvt" || (c.ensemble == "npt" && c.barostat == "c-rescale"))) {}

  void begin(Engine& engine, const std::vector<int>& replicas) override {
    ids_ = replicas;
    R_ = static_cast<int>(ids_.size());
    N_ = c_.n_particles;
    if (R_ > 0) {
      engine.get_state(state_);
      if (state_.n_replicas != R_ || state_.n != N_)
        throw std::logic_error("sampler: the engine's batch does not hold the given replicas");
    }
    isf_index_.assign(R_, {});
    for (int r = 0; r < R_; ++r)
      for (int i = 0; i < N_; ++i) {
        const int t = state_.type[static_cast<long>(r) * N_ + i];
        if (std::find(m_.isf_types.begin(), m_.isf_types.end(), t) != m_.isf_types.end())
          isf_index_[r].push_back(i);
      }
    scalars_.assign(R_, std::vector<BlockAccumulator>(kScalarCount));
    bins_.assign(R_, std::vector<BlockAccumulator>(m_.n_types * kMaxSpeciesNeighbors));
    bin_energy_sum_.assign(R_, std::vector<double>(m_.n_types * kMaxSpeciesNeighbors, 0.0));
    bin_energy_count_.assign(R_, std::vector<long>(m_.n_types * kMaxSpeciesNeighbors, 0));
    bin_energy_sq_.assign(R_, std::vector<double>(m_.n_types * kMaxSpeciesNeighbors, 0.0));
    bin_bound_sum_.assign(R_, std::vector<double>(m_.n_types * kMaxSpeciesNeighbors, 0.0));
    bin_bound_sq_.assign(R_, std::vector<double>(m_.n_types * kMaxSpeciesNeighbors, 0.0));
    bin_bound_count_.assign(R_, std::vector<long>(m_.n_types * kMaxSpeciesNeighbors, 0));
    overflow_neighbors_.assign(R_, 0);
    production_.assign(R_, 0);
    energy_.assign(R_, analysis::FluctuationAccumulator());
    analysis::IsfOptions io;
    io.points_per_level = c_.isf_points_per_level;
    // Until-equilibrated: windows of an eighth of the check interval (production_steps), taken
    // together in at most eight groups at the end (tau_alpha_error).
    const long production_frames = c_.production_steps / c_.sample_interval;
    io.window_frames = production_frames >= 2 * kTauWindows ? production_frames / kTauWindows : 0;
    isf_.clear();
    for (int r = 0; r < R_; ++r)
      isf_.emplace_back(m_.dimension, m_.isf_k, static_cast<int>(isf_index_[r].size()),
                        c_.sample_interval * c_.dt, io);
    batch_ = true;
    // The device path keeps the ISF frames where the particles are (Engine::isf_frame): per
    // sample one sum per replica and lag comes back, not the positions. Needs the same number
    // of ISF particles in every replica (exact compositions give it).
    engine_ = &engine;
    frames_in_engine_ = false;
    if (isf_on_ && R_ > 0 && engine.isf_frames_here()) {
      frames_in_engine_ = true;
      for (int r = 1; r < R_; ++r)
        frames_in_engine_ = frames_in_engine_ && isf_index_[r].size() == isf_index_[0].size();
    }
    if (frames_in_engine_) {
      put_frames_in_engine();
    } else if (isf_on_ && R_ > 0 && engine.isf_frames_here()) {
      spdlog::info(
          "the ISF particles differ in number between replicas: the ISF is computed on "
          "the host from the positions of every sample");
    }
  }

  // The frames of every replica's ISF accumulator into the engine (isf_select, isf_write_slots);
  // the accumulators keep none.
  void put_frames_in_engine() {
    const int m = static_cast<int>(isf_index_[0].size());
    std::vector<int> selected;
    selected.reserve(static_cast<std::size_t>(R_) * m);
    for (int r = 0; r < R_; ++r)
      selected.insert(selected.end(), isf_index_[r].begin(), isf_index_[r].end());
    engine_->isf_select(m_.dimension, m_.isf_k, m, selected);
    const int slots = isf_[0].slots_in_use();
    if (slots > 0) {
      const std::size_t frame = static_cast<std::size_t>(m_.dimension) * m;
      std::vector<std::vector<double>> own(R_);
      for (int r = 0; r < R_; ++r) {
        if (isf_[r].slots_in_use() != slots || isf_[r].frames_added() != isf_[0].frames_added())
          throw std::logic_error("sampler: the replicas' ISF accumulators are not in step");
        own[r] = isf_[r].frame_slots();
      }
      std::vector<double> all(static_cast<std::size_t>(slots) * R_ * frame);
      for (int s = 0; s < slots; ++s)
        for (int r = 0; r < R_; ++r)
          std::copy_n(
              own[r].begin() + static_cast<long>(s * frame), frame,
              all.begin() + static_cast<long>((static_cast<std::size_t>(s) * R_ + r) * frame));
      engine_->isf_write_slots(slots, all);
    }
    for (auto& acc : isf_) acc.release_frames();
  }

  // The engine's ISF frames back into the accumulators (checkpoints, a batch change).
  void take_frames_from_engine(std::vector<analysis::SelfIsfAccumulator>& into) const {
    std::vector<double> all;
    engine_->isf_read_slots(all);
    const int slots = R_ > 0 ? into[0].slots_in_use() : 0;
    const std::size_t frame =
        R_ > 0 ? static_cast<std::size_t>(m_.dimension) * isf_index_[0].size() : 0;
    if (all.size() != static_cast<std::size_t>(slots) * R_ * frame)
      throw std::logic_error("sampler: the engine holds other ISF frames than the accumulators");
    for (int r = 0; r < R_; ++r) {
      std::vector<double> own(static_cast<std::size_t>(slots) * frame);
      for (int s = 0; s < slots; ++s)
        std::copy_n(all.begin() + static_cast<long>((static_cast<std::size_t>(s) * R_ + r) * frame),
                    frame, own.begin() + static_cast<long>(s * frame));
      into[r].set_frame_slots(own);
    }
  }

  void before_batch_change() override {
    if (frames_in_engine_ && R_ > 0 && !isf_[0].holds_frames()) take_frames_from_engine(isf_);
  }

  // One ISF frame of every replica on the device path.
  void isf_frame_in_engine() {
    if (!isf_[0].holds_frames() && engine_->isf_slots() != isf_[0].slots_in_use())
      throw std::logic_error("sampler: the engine lost the ISF frames");
    if (isf_[0].holds_frames()) put_frames_in_engine();  // after a batch change
    const analysis::IsfFramePlan plan = isf_[0].plan_frame();
    const int copy_to = plan.copy_from >= 0 ? plan.new_level * c_.isf_points_per_level : -1;
    engine_->isf_frame(plan.slots, plan.copy_from, copy_to, plan.origin_slots, plan.store_slots,
                       isf_sums_);
    const std::size_t n_origins = plan.origin_slots.size();
    for (int r = 0; r < R_; ++r)
      isf_[r].apply_frame(plan, n_origins ? &isf_sums_[r * n_origins] : nullptr);
  }

  void sample(long production_step, Engine& engine) override {
    if (!batch_) throw std::logic_error("sampler: sample() without a batch (begin())");
    ++samples_;
    for (long& p : production_) p = production_step;
    if (R_ == 0) return;
    // Positions leave the engine only for the ISF computed on the host.
    if (isf_on_ && !frames_in_engine_) engine.get_state(state_);
    engine.species_summary(m_.n_types, kMaxSpeciesNeighbors, summary_);
    engine.observables(obs_);
    const int nb = m_.n_types * kMaxSpeciesNeighbors;
#pragma omp parallel for schedule(dynamic, 1)
    for (int r = 0; r < R_; ++r) {
      const double* o = &obs_[static_cast<std::size_t>(r) * kObsCount];
      const double v = o[kObsVolume] / N_;
      const double u = o[kObsPotential] / N_;
      double vals[kScalarCount];
      vals[kT] = o[kObsTemperature];
      vals[kP] = o[kObsPressure];
      vals[kU] = u;
      vals[kV] = v;
      vals[kH] = u + c_.pressure * v;
      vals[kRho] = 1.0 / v;
      for (int q = 0; q < kScalarCount; ++q) scalars_[r][q].add(vals[q]);
      // Total energy (NVT) or enthalpy (NPT) per particle, for the heat capacity.
      if (canonical_) energy_[r].add(o[kObsKinetic] / N_ + vals[kH]);
      overflow_neighbors_[r] += summary_.overflow[r];
      for (int b = 0; b < nb; ++b) {
        const std::size_t k = static_cast<std::size_t>(r) * nb + b;
        const long count = summary_.count[k];
        const double* sums = &summary_.sums[k * SpeciesSummary::kSums];
        bins_[r][b].add(double(count) / N_);
        if (count == 0) continue;
        bin_energy_sum_[r][b] += sums[SpeciesSummary::kU];
        bin_energy_sq_[r][b] += sums[SpeciesSummary::kU2];
        bin_energy_count_[r][b] += count;
        bin_bound_sum_[r][b] += sums[SpeciesSummary::kBound];
        bin_bound_sq_[r][b] += sums[SpeciesSummary::kBound2];
        bin_bound_count_[r][b] += count;
      }
      const long base = static_cast<long>(r) * N_;
      if (!isf_on_ || frames_in_engine_) continue;
      // Unwrapped positions of the ISF particles.
      const auto& idx = isf_index_[r];
      std::vector<double> x(idx.size()), y(idx.size()), z(idx.size(), 0.0);
      const double lx = state_.box[3 * r], ly = state_.box[3 * r + 1], lz = state_.box[3 * r + 2];
      for (std::size_t k = 0; k < idx.size(); ++k) {
        const long g = base + idx[k];
        x[k] = state_.x[g] + double(state_.img_x[g]) * lx;
        y[k] = state_.y[g] + double(state_.img_y[g]) * ly;
        if (m_.dimension == 3) z[k] = state_.z[g] + double(state_.img_z[g]) * lz;
      }
      isf_[r].add_frame(x.data(), y.data(), z.data());
    }
    if (isf_on_ && frames_in_engine_) isf_frame_in_engine();
  }

  void drop(int b) override {
    if (b < 0 || b >= R_) throw std::logic_error("sampler: drop() of a replica it does not hold");
    ids_.erase(ids_.begin() + b);
    isf_index_.erase(isf_index_.begin() + b);
    scalars_.erase(scalars_.begin() + b);
    bins_.erase(bins_.begin() + b);
    bin_energy_sum_.erase(bin_energy_sum_.begin() + b);
    bin_energy_sq_.erase(bin_energy_sq_.begin() + b);
    bin_energy_count_.erase(bin_energy_count_.begin() + b);
    bin_bound_sum_.erase(bin_bound_sum_.begin() + b);
    bin_bound_sq_.erase(bin_bound_sq_.begin() + b);
    bin_bound_count_.erase(bin_bound_count_.begin() + b);
    overflow_neighbors_.erase(overflow_neighbors_.begin() + b);
    production_.erase(production_.begin() + b);
    energy_.erase(energy_.begin() + b);
    isf_.erase(isf_.begin() + b);
    --R_;
  }

  // The ISF accumulator of batch replica r as a checkpoint entry (with its frames, from the
  // engine when they are kept there).
  json isf_json(int r) const {
    if (isf_[r].holds_frames()) return isf_[r].to_json();
    if (engine_frames_copy_.size() != isf_.size()) {
      engine_frames_copy_ = isf_;
      take_frames_from_engine(engine_frames_copy_);
    }
    return engine_frames_copy_[r].to_json();
  }

  json save_state() const override {
    json j;
    j["samples"] = samples_;
    json reps = json::array();
    for (int r = 0; r < R_; ++r) {
      json rep;
      rep["replica"] = ids_[r];
      rep["overflow_neighbors"] = overflow_neighbors_[r];
      rep["production_steps"] = production_[r];
      json sc = json::array(), bi = json::array();
      for (const auto& a : scalars_[r]) sc.push_back(a.to_json());
      for (const auto& a : bins_[r]) bi.push_back(a.to_json());
      rep["scalars"] = sc;
      rep["bins"] = bi;
      rep["bin_energy_sum"] = bin_energy_sum_[r];
      rep["bin_energy_sq"] = bin_energy_sq_[r];
      rep["bin_energy_count"] = bin_energy_count_[r];
      rep["bin_energy_bound_sum"] = bin_bound_sum_[r];
      rep["bin_energy_bound_sq"] = bin_bound_sq_[r];
      rep["bin_energy_bound_count"] = bin_bound_count_[r];
      rep["isf"] = isf_json(r);
      if (canonical_) rep["energy_fluctuation"] = energy_[r].to_json();
      reps.push_back(rep);
    }
    j["replicas"] = reps;
    engine_frames_copy_.clear();
    return j;
  }

  void load_state(const json& j) override {
    if (!j.is_object() || !j.contains("replicas") || !j.at("replicas").is_array())
      throw InputError("checkpoint: the sampler state has no replicas");
    const json& reps = j.at("replicas");
    // Entries without "replica" come from files written before multi-process runs: they hold
    // every replica in order, and one overflow count for all.
    std::vector<int> ids;
    for (std::size_t r = 0; r < reps.size(); ++r)
      ids.push_back(reps[r].value("replica", static_cast<int>(r)));
    if (batch_ && ids != ids_)
      throw InputError("checkpoint: the sampler state holds other replicas than the batch");
    if (!batch_) {
      // A sampler that only writes the outputs of the joined states.
      ids_ = ids;
      R_ = static_cast<int>(ids.size());
      scalars_.assign(R_, std::vector<BlockAccumulator>(kScalarCount));
      bins_.assign(R_, std::vector<BlockAccumulator>(m_.n_types * kMaxSpeciesNeighbors));
      bin_energy_sum_.assign(R_, {});
      bin_energy_sq_.assign(R_, {});
      bin_energy_count_.assign(R_, {});
      bin_bound_sum_.assign(R_, {});
      bin_bound_sq_.assign(R_, {});
      bin_bound_count_.assign(R_, {});
      overflow_neighbors_.assign(R_, 0);
      production_.assign(R_, 0);
      energy_.assign(R_, analysis::FluctuationAccumulator());
      isf_.clear();
    }
    samples_ = j.at("samples").get<long>();
    for (int r = 0; r < R_; ++r) {
      const json& rep = reps[r];
      overflow_neighbors_[r] = rep.contains("overflow_neighbors")
                                   ? rep.at("overflow_neighbors").get<long>()
                                   : (r == 0 ? j.value("overflow_neighbors", 0L) : 0L);
      // Absent from states written before production "until-equilibrated".
      production_[r] = rep.value("production_steps", 0L);
      const json& sc = rep.at("scalars");
      const json& bi = rep.at("bins");
      if (sc.size() != scalars_[r].size() || bi.size() != bins_[r].size())
        throw InputError("checkpoint: the sampler state has other observables");
      for (std::size_t q = 0; q < sc.size(); ++q)
        scalars_[r][q] = BlockAccumulator::from_json(sc[q]);
      for (std::size_t b = 0; b < bi.size(); ++b) bins_[r][b] = BlockAccumulator::from_json(bi[b]);
      bin_energy_sum_[r] = rep.at("bin_energy_sum").get<std::vector<double>>();
      bin_energy_sq_[r] = rep.at("bin_energy_sq").get<std::vector<double>>();
      bin_energy_count_[r] = rep.at("bin_energy_count").get<std::vector<long>>();
      // Bound-neighbour sums: absent from states written before they were measured; then they
      // count the samples from here on only.
      const std::size_t nbins = bin_energy_count_[r].size();
      if (rep.contains("bin_energy_bound_count")) {
        bin_bound_sum_[r] = rep.at("bin_energy_bound_sum").get<std::vector<double>>();
        bin_bound_sq_[r] = rep.at("bin_energy_bound_sq").get<std::vector<double>>();
        bin_bound_count_[r] = rep.at("bin_energy_bound_count").get<std::vector<long>>();
      } else {
        if (r == 0)
          spdlog::warn(
              "checkpoint: the sampler state has no bound-neighbour energies; species_energy "
              "counts the samples taken after this resume only");
        bin_bound_sum_[r].assign(nbins, 0.0);
        bin_bound_sq_[r].assign(nbins, 0.0);
        bin_bound_count_[r].assign(nbins, 0);
      }
      load_energy(rep, r);
      auto isf = analysis::SelfIsfAccumulator::from_json(rep.at("isf"));
      if (batch_)
        isf_[r] = std::move(isf);
      else
        isf_.push_back(std::move(isf));
    }
    if (batch_ && frames_in_engine_) put_frames_in_engine();
  }

  std::vector<PointCheck> check_points(long production_steps) const override {
    std::vector<std::vector<int>> groups;
    std::vector<int> indices;
    temperature_groups(groups, indices);
    std::vector<PointCheck> out;
    std::vector<double> bin_means(m_.n_types * kMaxSpeciesNeighbors, 0.0);
    for (std::size_t k = 0; k < groups.size(); ++k) {
      const Point p = measure_point(c_.temperatures[indices[k]], groups[k], bin_means);
      const auto verdict = judge(p, production_steps);
      out.push_back({indices[k], verdict.equilibrated, p.tau.reached,
                     p.tau.reached ? p.tau.value : p.tau.lower_bound, verdict.flags});
    }
    return out;
  }

  void finish(const std::string& dir, const std::vector<DroppedReplica>& dropped,
              const json& provenance) override {
    json j = build_measurements();
    j["provenance"] = provenance;
    json d = json::array();
    for (const auto& r : dropped) d.push_back(r.to_json());
    j["dropped_replicas"] = d;
    write_json_atomic(dir + "/measurements.json", j);
    write_csv_tables(j, dir);
    spdlog::info("wrote {}/measurements.json ({} state points)", dir, j["state_points"].size());
  }

 private:
  // Per temperature: pooled ISF, tau_alpha, block length, then every estimate.
  struct Point {
    double t = 0;
    analysis::TauAlpha tau;
    analysis::TauAlphaSpread tau_spread;
    std::string tau_error_method;
    long block = 1;
    std::vector<double> isf_t, isf_f;
    std::vector<BlockEstimate> scalars;
    std::vector<BlockEstimate> bins;
    std::vector<std::pair<std::string, analysis::HalvesComparison>> halves;
  };

  // The replicas held of each temperature (on_failure "drop" may have removed some, or all:
  // such a temperature has no state point), and the temperatures' indices.
  void temperature_groups(std::vector<std::vector<int>>& groups, std::vector<int>& indices) const {
    for (std::size_t ti = 0; ti < c_.temperatures.size(); ++ti) {
      std::vector<int> members;
      for (int r = 0; r < R_; ++r)
        if (ids_[r] / c_.copies_per_temperature == static_cast<int>(ti)) members.push_back(r);
      if (members.empty()) continue;
      groups.push_back(members);
      indices.push_back(static_cast<int>(ti));
    }
  }

  // The state point of the replicas `members` at temperature t; bin_means receives the mean
  // concentration of every (type, n) bin.
  Point measure_point(double t, const std::vector<int>& members,
                      std::vector<double>& bin_means) const {
    const int nb = m_.n_types * kMaxSpeciesNeighbors;
    const double frame_dt = c_.sample_interval * c_.dt;
    const bool npt = c_.ensemble == "npt";
    Point p;
    p.t = t;
    const std::size_t copies = members.size();
    analysis::SelfIsfAccumulator pooled = isf_[members[0]];
    for (std::size_t k = 1; k < copies; ++k) pooled.merge(isf_[members[k]]);
    p.isf_t = pooled.lag_times();
    p.isf_f = pooled.values();
    if (isf_on_) {
      p.tau = analysis::extract_tau_alpha(p.isf_t, p.isf_f);
      tau_alpha_error(p.tau, members, pooled, p.tau_spread, p.tau_error_method);
      const double tau_for_blocks = p.tau.reached ? p.tau.value : p.tau.lower_bound;
      p.block = std::max<long>(1, static_cast<long>(std::ceil(tau_for_blocks / frame_dt)));
    } else {
      // Replica exchanges in production: no ISF; blocks from the blocking analyses alone.
      p.tau_spread.note = kNoIsfNote;
      p.block = 1;
    }
    // Block length per observable: at least tau_alpha, and at least the plateau of the
    // observable's own blocking analysis (the volume under a Berendsen barostat, for
    // instance, decorrelates on the barostat's time scale, which can exceed tau_alpha). When
    // the run is too short for a plateau, the tau_alpha block stays (and the halves check
    // and the "too few blocks" flags judge the result). A half left with fewer than 8 such
    // blocks takes the whole run's error scaled to its length
    // (analysis::half_with_whole_error), so a run with enough blocks overall, e.g. one
    // lasting >= 100 tau_alpha, is not flagged for too few blocks.
    auto block_for = [&](auto getter) {
      long block = p.block;
      for (int r : members) {
        const auto ba = getter(r).blocking_analysis();
        if (ba.plateau_found) block = std::max(block, ba.block_length);
      }
      return block;
    };
    auto pooled_estimate = [&](auto getter) {
      const long block = block_for(getter);
      std::vector<BlockEstimate> per;
      for (int r : members) per.push_back(getter(r).estimate(block));
      return copies == 1 ? per[0] : analysis::pool_replicas(per);
    };
    auto pooled_halves = [&](auto getter) {
      const long block = block_for(getter);
      std::vector<BlockEstimate> a, b;
      for (int r : members) {
        auto h = getter(r).halves(block);
        const BlockEstimate whole = getter(r).estimate(block);
        a.push_back(analysis::half_with_whole_error(h.first, whole));
        b.push_back(analysis::half_with_whole_error(h.second, whole));
      }
      return copies == 1
                 ? analysis::compare_halves(a[0], b[0])
                 : analysis::compare_halves(analysis::pool_replicas(a), analysis::pool_replicas(b));
    };
    for (int q = 0; q < kScalarCount; ++q)
      p.scalars.push_back(
          pooled_estimate([&](int r) -> const BlockAccumulator& { return scalars_[r][q]; }));
    for (int b = 0; b < nb; ++b) {
      p.bins.push_back(
          pooled_estimate([&](int r) -> const BlockAccumulator& { return bins_[r][b]; }));
      bin_means[b] = p.bins.back().mean;
    }
    p.halves.push_back(
        {"u", pooled_halves([&](int r) -> const BlockAccumulator& { return scalars_[r][kU]; })});
    const int second = npt ? kV : kP;
    p.halves.push_back({npt ? "v" : "p", pooled_halves([&](int r) -> const BlockAccumulator& {
                          return scalars_[r][second];
                        })});
    // The most populated quasi-species bin of each particle type.
    for (int t = 0; t < m_.n_types; ++t) {
      int best = t * kMaxSpeciesNeighbors;
      for (int n = 0; n < kMaxSpeciesNeighbors; ++n)
        if (bin_means[t * kMaxSpeciesNeighbors + n] > bin_means[best])
          best = t * kMaxSpeciesNeighbors + n;
      p.halves.push_back(
          {"C(" + m_.species_name(t, best % kMaxSpeciesNeighbors) + ")",
           pooled_halves([&](int r) -> const BlockAccumulator& { return bins_[r][best]; })});
    }
    return p;
  }

  // The production steps of the replicas `members` (one state point): fixed production, or
  // where each stopped (until-equilibrated).
  long production_of(const std::vector<int>& members) const {
    return c_.adaptive_production() ? production_[members.front()] : c_.production_steps;
  }

  analysis::EquilibrationVerdict judge(const Point& p, long production_steps) const {
    std::vector<analysis::ObservableHalves> halves;
    for (const auto& [name, cmp] : p.halves) halves.push_back({name, cmp});
    // Without an ISF (exchanges in production) the verdict rests on the halves checks alone.
    analysis::TauAlpha judged = p.tau;
    if (!isf_on_) judged = {true, 0.0, std::numeric_limits<double>::quiet_NaN(), false};
    return analysis::equilibration_verdict(judged, production_steps * c_.dt, halves,
                                           c_.tau_alpha_multiple);
  }

  // The energy fluctuations of replica r from a saved state (absent from states written before
  // they were measured: then they count the samples after the resume only).
  void load_energy(const json& rep, int r) {
    if (!canonical_) return;
    if (!rep.contains("energy_fluctuation")) {
      if (r == 0)
        spdlog::warn(
            "checkpoint: the sampler state has no energy fluctuations; heat_capacity counts the "
            "samples taken after this resume only");
      energy_[r] = analysis::FluctuationAccumulator();
      return;
    }
    try {
      energy_[r] = analysis::FluctuationAccumulator::from_json(rep.at("energy_fluctuation"));
    } catch (const std::invalid_argument& e) {
      throw InputError(std::string("checkpoint: ") + e.what());
    }
  }

  // C_v = <dE^2>/(N T^2) (NVT) or C_p = <dH^2>/(N T^2) (NPT) per particle (k_B = 1), pooled
  // over the copies, with blocks as long as those of u.
  json heat_capacity(const std::vector<int>& members, double t, long block) const {
    std::vector<BlockEstimate> per;
    for (int r : members) per.push_back(energy_[r].variance(block));
    BlockEstimate v = per.size() == 1 ? per[0] : analysis::pool_replicas(per);
    const double n = c_.n_particles;  // N_ is not set in a sampler that only joins states
    v.mean *= n / (t * t);
    v.error *= n / (t * t);
    return value_json(v);
  }

  json build_measurements() {
    const int nb = m_.n_types * kMaxSpeciesNeighbors;
    const double frame_dt = c_.sample_interval * c_.dt;
    const bool npt = c_.ensemble == "npt";
    long overflow = 0;
    for (long o : overflow_neighbors_) overflow += o;
    if (overflow > 0)
      spdlog::warn(
          "{} particle samples had more than {} quasi-species neighbours (counted in the "
          "last bin)",
          overflow, kMaxSpeciesNeighbors - 1);
    std::vector<std::vector<int>> groups;
    std::vector<int> indices;
    temperature_groups(groups, indices);
    const int nt = static_cast<int>(groups.size());
    std::vector<Point> points(nt);
    std::vector<std::vector<double>> bin_means(nt, std::vector<double>(nb, 0.0));
    for (int ti = 0; ti < nt; ++ti)
      points[ti] = measure_point(c_.temperatures[indices[ti]], groups[ti], bin_means[ti]);

    const std::vector<SpeciesDef> species = resolve_species(c_, m_, bin_means);
    json j;
    j["format"] = "vitrify-measurements";
    j["version"] = 1;
    j["model"] = c_.model;
    j["dimension"] = m_.dimension;
    j["ensemble"] = c_.ensemble;
    j["n_particles"] = c_.n_particles;
    j["pressure"] = npt ? json(c_.pressure) : json(nullptr);
    j["particle_types"] = m_.type_names;
    j["species_mode"] = c_.species;
    json sp = json::array();
    for (const auto& s : species)
      sp.push_back({{"name", s.name}, {"type", s.type}, {"neighbors", s.neighbors}});
    j["species"] = sp;
    json ob = json::array();
    for (int t = 0; t < m_.n_types; ++t)
      ob.push_back({{"name", "other_" + m_.type_names[t]}, {"type", t}});
    j["other_bins"] = ob;
    std::string isf_types;
    for (int t : m_.isf_types) isf_types += m_.type_names[t];
    j["isf"] = {{"k", m_.isf_k}, {"particles", isf_types}};
    j["state_points"] = json::array();

    for (int ti = 0; ti < nt; ++ti) {
      const Point& p = points[ti];
      json s;
      s["temperature"] = p.t;
      s["temperature_measured"] = value_json(p.scalars[kT]);
      s["replicas"] = groups[ti].size();
      s["density"] = value_json(p.scalars[kRho]);
      json conc = json::object();
      std::vector<bool> tracked(nb, false);
      for (const auto& sd : species) {
        const int b = sd.type * kMaxSpeciesNeighbors + sd.neighbors;
        tracked[b] = true;
        conc[sd.name] = value_json(p.bins[b]);
      }
      // "other" bins: sum of untracked bins per type; error from the per-bin errors added in
      // quadrature (an upper bound on the correlated sum's error is not needed for < 1 %).
      double other_total = 0;
      for (int t = 0; t < m_.n_types; ++t) {
        double mean = 0, var = 0;
        for (int n = 0; n < kMaxSpeciesNeighbors; ++n) {
          const int b = t * kMaxSpeciesNeighbors + n;
          if (tracked[b] || !(p.bins[b].mean > 0)) continue;
          mean += p.bins[b].mean;
          if (std::isfinite(p.bins[b].error)) var += p.bins[b].error * p.bins[b].error;
        }
        conc["other_" + m_.type_names[t]] = {{"mean", mean}, {"error", std::sqrt(var)}};
        other_total += mean;
      }
      if (other_total > 0.005)
        spdlog::warn(
            "T = {}: {:.2f} % of the particles are outside the tracked species (\"other\" "
            "bins){}",
            p.t, 100 * other_total, c_.species == "auto" ? "" : "; consider \"species\": \"auto\"");
      s["concentrations"] = conc;
      s["other_fraction"] = other_total;
      s["u"] = value_json(p.scalars[kU]);
      s["p"] = value_json(p.scalars[kP]);
      s["v"] = value_json(p.scalars[kV]);
      s["h"] = npt ? value_json(p.scalars[kH]) : json(nullptr);
      // Per-species energies: species_energy sums U over the bound (quasi-species) neighbours
      // only, the paper's E_s; species_energy_all_neighbors over every partner inside the
      // cutoff (u_i). Both not halved.
      auto species_energies = [&](const std::vector<std::vector<double>>& sums,
                                  const std::vector<std::vector<double>>& squares,
                                  const std::vector<std::vector<long>>& counts) {
        json se = json::object();
        for (const auto& sd : species) {
          const int b = sd.type * kMaxSpeciesNeighbors + sd.neighbors;
          double sum = 0, sq = 0;
          long count = 0;
          for (int r : groups[ti]) {
            sum += sums[r][b];
            sq += squares[r][b];
            count += counts[r][b];
          }
          if (count == 0) {
            se[sd.name] = {{"mean", nullptr}, {"error", nullptr}};
            continue;
          }
          // Error: standard deviation of the particle energies over sqrt of the number of
          // independent samples (particle-samples divided by the samples per tau_alpha block).
          const double mean = sum / count;
          const double var = std::max(0.0, sq / count - mean * mean);
          const double eff = std::max(1.0, double(count) / std::max<long>(1, p.block));
          se[sd.name] = {{"mean", mean}, {"error", std::sqrt(var / eff)}};
        }
        return se;
      };
      s["species_energy"] = species_energies(bin_bound_sum_, bin_bound_sq_, bin_bound_count_);
      s["species_energy_all_neighbors"] =
          species_energies(bin_energy_sum_, bin_energy_sq_, bin_energy_count_);
      if (canonical_)
        s["heat_capacity"] = heat_capacity(groups[ti], p.t, p.scalars[kU].block_length);
      s["isf_curve"] = {{"t", p.isf_t}, {"F", p.isf_f}};
      const bool has_error = p.tau.reached && p.tau_spread.error > 0.0;
      s["tau_alpha"] = {{"value", p.tau.reached ? json(p.tau.value) : json(nullptr)},
                        {"reached", p.tau.reached},
                        {"lower_bound", p.tau.reached || !std::isfinite(p.tau.lower_bound)
                                            ? json(nullptr)
                                            : json(p.tau.lower_bound)},
                        {"error", has_error ? json(p.tau_spread.error) : json(nullptr)},
                        {"error_method", has_error ? json(p.tau_error_method) : json(nullptr)},
                        {"error_estimates", p.tau_spread.n_estimates},
                        {"error_note", has_error ? json(nullptr) : json(p.tau_spread.note)}};
      const long steps = production_of(groups[ti]);
      auto verdict = judge(p, steps);
      if (c_.adaptive_production()) {
        // A point still running at the end has spent the budget (one that passes stops).
        const bool spent = !verdict.equilibrated;
        if (spent)
          verdict.flags.push_back("production budget spent: production_max_steps = " +
                                  std::to_string(c_.production_max_steps) +
                                  " steps without passing the checks above");
        s["production"] = {{"mode", c_.production},
                           {"steps", steps},
                           {"time", steps * c_.dt},
                           {"max_steps", c_.production_max_steps},
                           {"check_interval", c_.production_steps},
                           {"checks", steps / c_.production_steps},
                           {"stopped", spent ? "budget" : "equilibrated"}};
      }
      s["equilibrated"] = verdict.equilibrated;
      s["flags"] = verdict.flags;
      if (!verdict.equilibrated) {
        std::string why;
        for (const auto& f : verdict.flags) why += (why.empty() ? "" : "; ") + f;
        spdlog::warn("T = {}: not equilibrated: {}", p.t, why);
      }
      s["run"] = {{"dt", c_.dt},
                  {"equilibration_steps", c_.equilibration_steps},
                  {"production_steps", steps},
                  {"sample_interval", c_.sample_interval},
                  {"samples", c_.adaptive_production() ? steps / c_.sample_interval : samples_},
                  {"block_length_time", p.block * frame_dt},
                  {"n_blocks", p.scalars[kU].n_blocks}};
      j["state_points"].push_back(s);
    }
    return j;
  }

  // The error of the pooled tau_alpha: the spread of the copies' own tau_alpha when the state
  // point has two or more copies, otherwise the spread over the time windows of the one
  // trajectory (each at least kMinWindowTauAlpha tau_alpha long).
  void tau_alpha_error(const analysis::TauAlpha& pooled_tau, const std::vector<int>& members,
                       const analysis::SelfIsfAccumulator& pooled, analysis::TauAlphaSpread& out,
                       std::string& method) const {
    std::vector<analysis::TauAlpha> estimates;
    if (!pooled_tau.reached) {
      out.note = "tau_alpha not reached";
      return;
    }
    if (members.size() >= 2) {
      method = "copies";
      for (int r : members)
        estimates.push_back(analysis::extract_tau_alpha(isf_[r].lag_times(), isf_[r].values()));
      out = analysis::tau_alpha_spread(estimates);
      return;
    }
    method = "time_windows";
    // Until-equilibrated production has more windows the longer it runs: consecutive windows
    // are taken together so that there are kTauWindows (fixed production: one each).
    const int all_windows = pooled.complete_windows();
    const int nw = c_.adaptive_production() ? std::min(kTauWindows, all_windows) : all_windows;
    const int group = nw > 0 && c_.adaptive_production() ? all_windows / nw : 1;
    const double window_time =
        double(group) * double(pooled.options().window_frames) * c_.sample_interval * c_.dt;
    if (nw < 2) {
      out.note = "production too short for time windows";
      return;
    }
    if (window_time < kMinWindowTauAlpha * pooled_tau.value) {
      out.n_estimates = nw;
      out.note =
          "time windows shorter than " + std::to_string(int(kMinWindowTauAlpha)) + " tau_alpha";
      return;
    }
    for (int w = 0; w < nw; ++w) {
      const analysis::IsfCurve curve =
          group == 1 ? pooled.window_curve(w) : pooled.windows_curve(w * group, group);
      estimates.push_back(analysis::extract_tau_alpha(curve.t, curve.F));
    }
    out = analysis::tau_alpha_spread(estimates);
  }

  void write_csv_tables(const json& j, const std::string& dir) {
    auto num = [](const json& v) -> std::string {
      if (v.is_null()) return "";
      std::ostringstream os;
      os.precision(10);
      os << v.get<double>();
      return os.str();
    };
    std::ostringstream sum, conc, isf, energy;
    sum << "temperature,temperature_measured,temperature_measured_error,density,density_error,u,"
           "u_error,p,p_error,v,v_error,h,h_error,tau_alpha,tau_alpha_error,tau_alpha_reached,"
           "tau_alpha_lower_bound,other_fraction,equilibrated,flags\n";
    conc << "temperature,species,type,neighbors,concentration,error\n";
    isf << "temperature,t,F\n";
    energy << "temperature,species,energy,error,energy_all_neighbors,energy_all_neighbors_error\n";
    std::map<std::string, std::pair<int, int>> defs;
    for (const auto& s : j["species"])
      defs[s["name"]] = {s["type"].get<int>(), s["neighbors"].get<int>()};
    for (const auto& o : j["other_bins"]) defs[o["name"]] = {o["type"].get<int>(), -1};
    for (const auto& s : j["state_points"]) {
      const std::string t = num(s["temperature"]);
      auto ve = [&](const char* key) {
        if (s[key].is_null()) return std::string(",");
        return num(s[key]["mean"]) + "," + num(s[key]["error"]);
      };
      std::string flags;
      for (const auto& f : s["flags"]) flags += (flags.empty() ? "" : "; ") + f.get<std::string>();
      sum << t << ',' << ve("temperature_measured") << ',' << ve("density") << ',' << ve("u") << ','
          << ve("p") << ',' << ve("v") << ',' << ve("h") << ',' << num(s["tau_alpha"]["value"])
          << ',' << num(s["tau_alpha"]["error"]) << ','
          << (s["tau_alpha"]["reached"].get<bool>() ? "true" : "false") << ','
          << num(s["tau_alpha"]["lower_bound"]) << ',' << num(s["other_fraction"]) << ','
          << (s["equilibrated"].get<bool>() ? "true" : "false") << ",\"" << flags << "\"\n";
      for (auto it = s["concentrations"].begin(); it != s["concentrations"].end(); ++it) {
        const auto d = defs[it.key()];
        conc << t << ',' << it.key() << ',' << d.first << ','
             << (d.second >= 0 ? std::to_string(d.second) : "") << ',' << num((*it)["mean"]) << ','
             << num((*it)["error"]) << '\n';
      }
      const json& all = s["species_energy_all_neighbors"];
      for (auto it = s["species_energy"].begin(); it != s["species_energy"].end(); ++it) {
        energy << t << ',' << it.key() << ',' << num((*it)["mean"]) << ',' << num((*it)["error"]);
        if (all.contains(it.key()))
          energy << ',' << num(all[it.key()]["mean"]) << ',' << num(all[it.key()]["error"]);
        else
          energy << ",,";
        energy << '\n';
      }
      const auto& ct = s["isf_curve"]["t"];
      const auto& cf = s["isf_curve"]["F"];
      for (std::size_t k = 0; k < ct.size(); ++k)
        isf << t << ',' << num(ct[k]) << ',' << num(cf[k]) << '\n';
    }
    write_text_atomic(dir + "/measurements_summary.csv", sum.str());
    write_text_atomic(dir + "/measurements_concentrations.csv", conc.str());
    write_text_atomic(dir + "/measurements_isf.csv", isf.str());
    write_text_atomic(dir + "/measurements_species_energy.csv", energy.str());
  }

  RunConfig c_;
  const ModelInfo& m_;
  const bool isf_on_;     // no replica exchanges in production: the ISF and tau_alpha are measured
  const bool canonical_;  // canonical thermostat (and barostat): heat_capacity is measured
  bool batch_ = false;    // begin() was called: the sampler follows an engine's batch
  std::vector<int> ids_;  // scan-wide index of each replica
  int R_ = 0, N_ = 0;
  long samples_ = 0;
  std::vector<long> overflow_neighbors_;  // samples beyond the last bin, per replica
  std::vector<long> production_;          // production steps of each replica's last sample
  BatchState state_;
  SpeciesSummary summary_;  // the engine's species summary of the current sample
  std::vector<double> obs_;
  std::vector<std::vector<int>> isf_index_;
  std::vector<std::vector<BlockAccumulator>> scalars_, bins_;
  std::vector<std::vector<double>> bin_energy_sum_, bin_energy_sq_;
  std::vector<std::vector<long>> bin_energy_count_;
  // The same over the bound (quasi-species) neighbours only: species_energy.
  std::vector<std::vector<double>> bin_bound_sum_, bin_bound_sq_;
  std::vector<std::vector<long>> bin_bound_count_;
  std::vector<analysis::SelfIsfAccumulator> isf_;
  Engine* engine_ = nullptr;       // the batch's engine (begin)
  bool frames_in_engine_ = false;  // the ISF frames are kept in the engine (device path)
  std::vector<double> isf_sums_;   // Engine::isf_frame's sums
  mutable std::vector<analysis::SelfIsfAccumulator> engine_frames_copy_;  // save_state's
  std::vector<analysis::FluctuationAccumulator> energy_;  // e = (K + U [+ pV]) / N per sample
};

std::unique_ptr<ProductionSampler> make_standard_sampler(const RunConfig& config) {
  return std::make_unique<StandardSampler>(config);
}

}  // namespace vitrify
