#include "src/engine/replica_exchange.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>
#include <sstream>

#include "kernels/random.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/core/observables.hpp"
#include "vitrify/io/checkpoint.hpp"

namespace vitrify::scan_detail {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Pairs accepting less often than this get a warning naming the temperature to add.
constexpr double kLowAcceptance = 0.05;

}  // namespace

ReplicaExchange::ReplicaExchange(const RunConfig& c) : c_(c), copies_(c.copies_per_temperature) {
  const int nt = static_cast<int>(c.temperatures.size());
  ladder_.resize(nt);
  std::iota(ladder_.begin(), ladder_.end(), 0);
  std::stable_sort(ladder_.begin(), ladder_.end(),
                   [&](int a, int b) { return c.temperatures[a] < c.temperatures[b]; });
  rank_.resize(nt);
  for (int l = 0; l < nt; ++l) rank_[ladder_[l]] = l;
  config_.resize(c.n_replicas());
  std::iota(config_.begin(), config_.end(), 0);
  attempts_.assign(std::max(0, nt - 1), 0);
  accepted_.assign(attempts_.size(), 0);
  heading_.assign(config_.size(), 0);
  trips_.assign(config_.size(), 0);
  note_extremes();
}

bool ReplicaExchange::due(const std::string& stage, long done) const {
  return c_.exchanges_in(stage) && done > 0 && done % c_.replica_exchange_interval == 0;
}

long ReplicaExchange::attempt_number(const std::string& stage, long done) const {
  const long k = c_.replica_exchange_interval;
  const long before =
      stage == "production" && c_.exchanges_in("equilibrate") ? c_.equilibration_steps / k : 0;
  return before + done / k - 1;
}

double ReplicaExchange::acceptance(double t_i, double t_j, double e_i, double e_j) {
  const double delta = (1.0 / t_i - 1.0 / t_j) * (e_i - e_j);
  return delta >= 0 ? 1.0 : std::exp(delta);
}

ExchangeMoves ReplicaExchange::attempt(long attempt, long step, const std::string& stage,
                                       const std::vector<int>& alive,
                                       const std::vector<double>& obs) {
  const int R = static_cast<int>(config_.size());
  std::vector<int> position(R, -1);  // batch position of each slot
  std::vector<double> energy(R, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t b = 0; b < alive.size(); ++b) {
    const double* o = &obs[b * kObsCount];
    position[alive[b]] = static_cast<int>(b);
    energy[alive[b]] = o[kObsPotential] + (c_.ensemble == "npt" ? c_.pressure * o[kObsVolume] : 0);
  }
  ExchangeMoves m;
  m.from.resize(alive.size());
  std::iota(m.from.begin(), m.from.end(), 0);
  m.scale.assign(alive.size(), 1.0);
  for (std::size_t l = attempt % 2; l + 1 < ladder_.size(); l += 2)
    for (int c = 0; c < copies_; ++c) {
      const int ri = ladder_[l] * copies_ + c, rj = ladder_[l + 1] * copies_ + c;
      const int bi = position[ri], bj = position[rj];
      if (bi < 0 || bj < 0 || !std::isfinite(energy[ri]) || !std::isfinite(energy[rj])) continue;
      const double ti = c_.replica_temperature(ri), tj = c_.replica_temperature(rj);
      ++attempts_[l];
      kernels::PhiloxStream rng(c_.seed, static_cast<uint32_t>(ri), static_cast<uint64_t>(attempt),
                                kernels::kStreamReplicaExchange);
      if (!(rng.uniform() < acceptance(ti, tj, energy[ri], energy[rj]))) continue;
      ++accepted_[l];
      std::swap(m.from[bi], m.from[bj]);
      m.scale[bi] = std::sqrt(ti / tj);
      m.scale[bj] = std::sqrt(tj / ti);
      std::swap(config_[ri], config_[rj]);
      m.any = true;
    }
  ++total_attempts_;
  note_extremes();
  std::ostringstream row;
  row.precision(17);
  row << attempt << ',' << step << ',' << stage;
  for (int r = 0; r < R; ++r) row << ',' << (position[r] >= 0 ? config_[r] : -1);
  for (int r = 0; r < R; ++r) {
    row << ',';
    if (std::isfinite(energy[r])) row << energy[r];
  }
  row << '\n';
  if (log_.is_open()) log_ << row.str();
  return m;
}

// A configuration at the lowest temperature after visiting the highest completes a round trip.
void ReplicaExchange::note_extremes() {
  const int top = static_cast<int>(ladder_.size()) - 1;
  for (int c = 0; c < copies_; ++c) {
    const int low = config_[ladder_[0] * copies_ + c];
    const int high = config_[ladder_[top] * copies_ + c];
    if (heading_[low] == 2) ++trips_[low];
    heading_[low] = 1;
    if (heading_[high] == 1) heading_[high] = 2;
  }
}

void ReplicaExchange::open_log(const std::string& dir, bool resumed) {
  log_path_ = dir + "/replica_exchange.csv";
  if (resumed && fs::exists(log_path_) && fs::file_size(log_path_) >= log_bytes_) {
    fs::resize_file(log_path_, log_bytes_);
    log_.open(log_path_, std::ios::binary | std::ios::app);
    return;
  }
  if (resumed)
    throw InputError(log_path_ + " is missing or shorter than the checkpoint says (" +
                     std::to_string(log_bytes_) + " bytes); use --force to start over");
  log_.open(log_path_, std::ios::binary | std::ios::trunc);
  log_ << "attempt,step,stage";
  for (std::size_t r = 0; r < config_.size(); ++r) log_ << ",config_" << r;
  for (std::size_t r = 0; r < config_.size(); ++r) log_ << ",energy_" << r;
  log_ << '\n';
  flush();
}

void ReplicaExchange::flush() {
  if (!log_.is_open()) return;
  log_.flush();
  log_bytes_ = static_cast<std::uint64_t>(log_.tellp());
}

json ReplicaExchange::save_state() {
  flush();
  return {{"config", config_},      {"attempts", attempts_}, {"accepted", accepted_},
          {"heading", heading_},    {"trips", trips_},       {"total_attempts", total_attempts_},
          {"log_bytes", log_bytes_}};
}

void ReplicaExchange::load_state(const json& j, const std::string& source) {
  try {
    auto config = j.at("config").get<std::vector<int>>();
    auto attempts = j.at("attempts").get<std::vector<long>>();
    auto accepted = j.at("accepted").get<std::vector<long>>();
    auto heading = j.at("heading").get<std::vector<int>>();
    auto trips = j.at("trips").get<std::vector<long>>();
    if (config.size() != config_.size() || attempts.size() != attempts_.size() ||
        accepted.size() != accepted_.size() || heading.size() != heading_.size() ||
        trips.size() != trips_.size())
      throw InputError("the replica-exchange state does not match the configuration");
    for (int c : config)
      if (c < 0 || c >= static_cast<int>(config_.size()))
        throw InputError("the replica-exchange state names configuration " + std::to_string(c));
    config_ = config;
    attempts_ = attempts;
    accepted_ = accepted;
    heading_ = heading;
    trips_ = trips;
    total_attempts_ = j.at("total_attempts").get<long>();
    log_bytes_ = j.at("log_bytes").get<std::uint64_t>();
  } catch (const json::exception& e) {
    throw InputError(source + ": malformed replica-exchange state: " + e.what());
  } catch (const InputError& e) {
    throw InputError(source + ": " + e.what());
  }
}

json ReplicaExchange::summary() const {
  json pairs = json::array(), rates = json::array(), suggested = json::array();
  for (std::size_t l = 0; l < attempts_.size(); ++l) {
    const double ti = c_.temperatures[ladder_[l]], tj = c_.temperatures[ladder_[l + 1]];
    const json rate = attempts_[l] > 0 ? json(double(accepted_[l]) / attempts_[l]) : json(nullptr);
    rates.push_back(rate);
    pairs.push_back({{"temperatures", {ti, tj}},
                     {"attempts", attempts_[l]},
                     {"accepted", accepted_[l]},
                     {"acceptance", rate}});
    if (attempts_[l] > 0 && double(accepted_[l]) / attempts_[l] < kLowAcceptance) {
      const double add = std::sqrt(ti * tj);
      suggested.push_back(add);
      spdlog::warn(
          "replica exchange: T = {} <-> {} accepted {:.1f} % of {} attempts (below 5 %): add a "
          "temperature near {:.4g}",
          ti, tj, 100.0 * accepted_[l] / attempts_[l], attempts_[l], add);
    }
  }
  long total = 0;
  for (long t : trips_) total += t;
  return {{"interval", c_.replica_exchange_interval},
          {"stages", c_.replica_exchange_stages},
          {"attempts", total_attempts_},
          {"acceptance", rates},
          {"pairs", pairs},
          {"round_trips", trips_},
          {"round_trips_total", total},
          {"suggested_temperatures", suggested}};
}

void move_configurations(Engine& engine, const ExchangeMoves& moves, int dimension) {
  EngineCheckpoint before;
  engine.save_state(before);
  EngineCheckpoint after = select_replicas(before, moves.from);
  for (const char* name : {"thermostat_state", "barostat_state", "rebuild_count"}) {
    const auto it = before.arrays.find(name);
    if (it != before.arrays.end()) after.arrays[name] = it->second;
  }
  BatchState& s = after.state;
  const std::size_t n = s.n;
  std::vector<double> obs;
  const auto it = after.arrays.find("observables");
  if (it != after.arrays.end()) obs = it->second.as<double>();
  for (std::size_t b = 0; b < moves.scale.size(); ++b) {
    const double f = moves.scale[b];
    if (f == 1.0) continue;
    for (auto* v : {&s.vx, &s.vy, &s.vz})
      for (std::size_t i = b * n; i < (b + 1) * n; ++i) (*v)[i] = real((*v)[i] * f);
    if (obs.size() < (b + 1) * kObsCount) continue;
    // The kinetic terms of the last step's observables follow the scaled velocities.
    double* o = &obs[b * kObsCount];
    const double k_old = o[kObsKinetic];
    o[kObsKinetic] *= f * f;
    o[kObsTemperature] *= f * f;
    if (o[kObsVolume] > 0)
      o[kObsPressure] += 2.0 * k_old * (f * f - 1.0) / (dimension * o[kObsVolume]);
  }
  if (!obs.empty()) after.arrays["observables"] = SavedArray::of(obs);
  engine.load_state(after);
}

}  // namespace vitrify::scan_detail
