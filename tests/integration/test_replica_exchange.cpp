// Parallel tempering on tiny hump2d systems (N = 32, CSVR): the acceptance equals the mean of
// the exchange criterion over the logged attempts, detailed balance (<exp(Delta)> = 1 over the
// attempts of a two-temperature ladder), per-temperature energies equal those of runs without
// exchanges, determinism and exact resume, the heat capacity against d<E>/dT, and the
// documented outputs (replica_exchange block, no tau_alpha with exchanges in production).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/common/cli_util.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/io/config.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using vitrify::test_util::read_file;

std::string temp_dir(const std::string& name) {
  return vitrify::test_util::fresh_temp_dir("vitrify_pt", name);
}

json tiny_scan(const std::string& dir, const std::vector<double>& temperatures, long production) {
  return {{"model", "hump2d"},
          {"n_particles", 32},
          {"temperatures", temperatures},
          {"thermostat", "csvr"},
          {"thermostat_tau", 0.1},
          {"melt_steps", 200},
          {"cool_steps", 200},
          {"equilibration_steps", 1000},
          {"production_steps", production},
          {"sample_interval", 5},
          {"thermo_interval", 100},
          {"checkpoint_interval", 0},
          {"analyze", false},
          {"seed", 5},
          {"output_dir", dir}};
}

void run(const json& j, long stop_after = 0) {
  vitrify::ScanOptions opt;
  opt.progress = false;
  opt.stop_after_step = stop_after;
  vitrify::run_scan(vitrify::parse_config(j, "test"), opt);
}

json measurements(const std::string& dir) {
  return json::parse(read_file(dir + "/measurements.json"));
}

// One attempt of replica_exchange.csv.
struct Row {
  long attempt = 0;
  std::vector<int> config;     // after the attempt, per slot
  std::vector<double> energy;  // before the attempt, per slot
};

std::vector<Row> read_log(const std::string& dir, int slots) {
  std::istringstream in(read_file(dir + "/replica_exchange.csv"));
  std::string line;
  std::getline(in, line);  // header
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string cell; std::getline(ls, cell, ',');) f.push_back(cell);
    EXPECT_EQ(f.size(), static_cast<std::size_t>(3 + 2 * slots)) << line;
    if (f.size() != static_cast<std::size_t>(3 + 2 * slots)) break;
    Row r;
    r.attempt = std::stol(f[0]);
    for (int s = 0; s < slots; ++s) r.config.push_back(std::stoi(f[3 + s]));
    for (int s = 0; s < slots; ++s) r.energy.push_back(std::stod(f[3 + slots + s]));
    rows.push_back(r);
  }
  return rows;
}

double criterion(double ti, double tj, double ei, double ej) {
  return std::min(1.0, std::exp((1.0 / ti - 1.0 / tj) * (ei - ej)));
}

// Mean and blocked standard error (blocks of `block` values).
std::pair<double, double> blocked(const std::vector<double>& v, std::size_t block) {
  const std::size_t nb = v.size() / block;
  double mean = 0;
  for (double x : v) mean += x / v.size();
  std::vector<double> means(nb, 0.0);
  for (std::size_t k = 0; k < nb * block; ++k) means[k / block] += v[k] / block;
  double m = 0, ss = 0;
  for (double b : means) m += b / nb;
  for (double b : means) ss += (b - m) * (b - m);
  return {mean, std::sqrt(ss / (nb * (nb - 1.0)))};
}

}  // namespace

// Three temperatures, every attempt of the log: the acceptance of each pair equals the mean of
// min{1, exp[(1/T_i - 1/T_j)(U_i - U_j)]} over its attempts (from the logged energies), the
// counts agree with measurements.json, and the configurations only ever swap pairwise.
TEST(ReplicaExchange, AcceptanceIsTheMeanOfTheCriterion) {
  const std::string dir = temp_dir("criterion");
  const std::vector<double> temps = {0.7, 0.8, 0.95};
  json j = tiny_scan(dir, temps, 6000);
  j["replica_exchange_interval"] = 10;
  run(j);
  const std::vector<Row> rows = read_log(dir, 3);
  ASSERT_EQ(rows.size(), 100u + 600u);
  std::vector<int> before = {0, 1, 2};
  std::vector<double> accepted(2, 0), expected(2, 0), var(2, 0);
  std::vector<long> attempts(2, 0);
  for (const Row& r : rows) {
    const int l = static_cast<int>(r.attempt % 2);
    const bool swapped = r.config[l] == before[l + 1] && r.config[l + 1] == before[l];
    EXPECT_TRUE(swapped || r.config == before) << "attempt " << r.attempt;
    const double p = criterion(temps[l], temps[l + 1], r.energy[l], r.energy[l + 1]);
    ++attempts[l];
    accepted[l] += swapped;
    expected[l] += p;
    var[l] += p * (1 - p);
    before = r.config;
  }
  const json pt = measurements(dir).at("replica_exchange");
  EXPECT_EQ(pt.at("interval"), 10);
  EXPECT_EQ(pt.at("attempts"), 700);
  for (int l = 0; l < 2; ++l) {
    EXPECT_EQ(pt["pairs"][l]["attempts"].get<long>(), attempts[l]);
    EXPECT_EQ(pt["pairs"][l]["accepted"].get<double>(), accepted[l]);
    EXPECT_NEAR(pt["acceptance"][l].get<double>(), accepted[l] / attempts[l], 1e-12);
    // Bernoulli draws with the logged probabilities: 4 standard deviations.
    EXPECT_NEAR(accepted[l], expected[l], 4 * std::sqrt(var[l]) + 1) << "pair " << l;
    EXPECT_GT(accepted[l] / attempts[l], 0.05) << "pair " << l;
  }
  EXPECT_EQ(pt.at("round_trips").size(), 3u);
  EXPECT_GE(pt.at("round_trips_total").get<long>(), 1);
  // tau_alpha is not measured with exchanges in production; the statics are.
  const json all = measurements(dir);  // a range-for over a temporary's member would dangle
  for (const auto& s : all.at("state_points")) {
    EXPECT_TRUE(s["tau_alpha"]["value"].is_null());
    EXPECT_TRUE(s["isf_curve"]["t"].empty());
    EXPECT_NE(s["tau_alpha"]["error_note"].get<std::string>().find("replica exchanges"),
              std::string::npos);
    EXPECT_TRUE(s["u"]["mean"].is_number());
    EXPECT_TRUE(s["heat_capacity"]["mean"].is_number());
  }
  fs::remove_all(dir);
}

// Detailed balance: in the stationary ensemble the exchange variable Delta = (1/T_i - 1/T_j)
// (U_i - U_j) of a pair obeys f(-Delta) = exp(Delta) f(Delta), so <exp(Delta)> = 1 over the
// attempts, and the configurations' energies after a swap are distributed as before it.
TEST(ReplicaExchange, TwoTemperaturesObeyDetailedBalance) {
  const std::string dir = temp_dir("balance");
  const std::vector<double> temps = {0.8, 0.9};
  json j = tiny_scan(dir, temps, 10000);
  j["replica_exchange_interval"] = 10;
  j["replica_exchange_stages"] = {"production"};
  run(j);
  const std::vector<Row> rows = read_log(dir, 2);
  ASSERT_EQ(rows.size(), 1000u);
  std::vector<double> e_delta;
  for (const Row& r : rows)
    if (r.attempt % 2 == 0)
      e_delta.push_back(std::exp((1 / temps[0] - 1 / temps[1]) * (r.energy[0] - r.energy[1])));
  const auto [mean, error] = blocked(e_delta, 25);
  EXPECT_NEAR(mean, 1.0, 4 * error + 0.02) << "error " << error;
  EXPECT_LT(error, 0.2);
  fs::remove_all(dir);
}

// Per-temperature energies with exchanges equal those of independent canonical runs, and the
// exchange changes nothing when off (no log, no block).
TEST(ReplicaExchange, EnergiesMatchRunsWithoutExchanges) {
  const std::vector<double> temps = {0.7, 0.8, 0.95};
  const std::string a = temp_dir("with"), b = temp_dir("without");
  json with = tiny_scan(a, temps, 8000);
  with["replica_exchange_interval"] = 10;
  with["copies_per_temperature"] = 2;
  run(with);
  json without = tiny_scan(b, temps, 8000);
  without["copies_per_temperature"] = 2;
  run(without);
  const json ma = measurements(a), mb = measurements(b);
  EXPECT_FALSE(mb.contains("replica_exchange"));
  EXPECT_FALSE(fs::exists(b + "/replica_exchange.csv"));
  ASSERT_EQ(ma["replica_exchange"]["round_trips"].size(), 6u);
  for (std::size_t t = 0; t < temps.size(); ++t) {
    const json& sa = ma["state_points"][t];
    const json& sb = mb["state_points"][t];
    const double da = sa["u"]["error"].get<double>(), db = sb["u"]["error"].get<double>();
    EXPECT_NEAR(sa["u"]["mean"].get<double>(), sb["u"]["mean"].get<double>(),
                4 * std::hypot(da, db) + 1e-3)
        << "T = " << temps[t];
    EXPECT_TRUE(sb["tau_alpha"]["reached"].get<bool>());
  }
  fs::remove_all(a);
  fs::remove_all(b);
}

// Production u of every thermo file of a run, grouped by temperature (the file's mean kinetic
// temperature is nearest to it).
std::vector<std::vector<double>> production_u(const std::string& dir,
                                              const std::vector<double>& temps) {
  std::vector<std::vector<double>> out(temps.size());
  for (const auto& f : fs::directory_iterator(dir + "/thermo")) {
    std::istringstream in(read_file(f.path().string()));
    std::string line;
    std::getline(in, line);  // stage,step,time,T,p,u,v,h
    std::vector<double> u;
    double t_sum = 0;
    while (std::getline(in, line)) {
      std::vector<std::string> c;
      std::stringstream ls(line);
      for (std::string cell; std::getline(ls, cell, ',');) c.push_back(cell);
      if (c.size() < 6 || c[0] != "production") continue;
      t_sum += std::stod(c[3]);
      u.push_back(std::stod(c[5]));
    }
    if (u.empty()) continue;
    std::size_t best = 0;
    for (std::size_t t = 1; t < temps.size(); ++t)
      if (std::fabs(t_sum / u.size() - temps[t]) < std::fabs(t_sum / u.size() - temps[best]))
        best = t;
    out[best].insert(out[best].end(), u.begin(), u.end());
  }
  return out;
}

// Two-sample Kolmogorov-Smirnov statistic: the largest distance of the empirical CDFs.
double ks_two_sample(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::size_t i = 0, j = 0;
  double d = 0;
  while (i < a.size() && j < b.size()) {
    const double x = std::min(a[i], b[j]);
    while (i < a.size() && a[i] <= x) ++i;
    while (j < b.size() && b[j] <= x) ++j;
    d = std::max(d, std::fabs(double(i) / a.size() - double(j) / b.size()));
  }
  return d;
}

// The per-temperature distribution of u with exchanges is that of independent canonical runs
// (two-sample KS at the 0.1 % level, each sample counted as half a sample for the correlation
// of rows 1 tau apart), and the same statistic tells neighbouring temperatures apart.
TEST(ReplicaExchange, EnergyHistogramsMatchIndependentRunsByKolmogorovSmirnov) {
  const std::vector<double> temps = {0.7, 0.8, 0.95};
  const std::string a = temp_dir("ks_with"), b = temp_dir("ks_without");
  json with = tiny_scan(a, temps, 40000);
  with["replica_exchange_interval"] = 10;
  with["copies_per_temperature"] = 2;
  with["thermo_interval"] = 200;
  run(with);
  json without = tiny_scan(b, temps, 40000);
  without["copies_per_temperature"] = 2;
  without["thermo_interval"] = 200;
  without["seed"] = 9;
  run(without);
  const auto ua = production_u(a, temps), ub = production_u(b, temps);
  auto critical = [](std::size_t n, std::size_t m) {  // alpha = 0.001, n and m halved
    const double ne = n / 2.0, me = m / 2.0;
    return 1.949 * std::sqrt((ne + me) / (ne * me));
  };
  for (std::size_t t = 0; t < temps.size(); ++t) {
    ASSERT_GE(ua[t].size(), 300u) << "T = " << temps[t];
    ASSERT_GE(ub[t].size(), 300u) << "T = " << temps[t];
    EXPECT_LT(ks_two_sample(ua[t], ub[t]), critical(ua[t].size(), ub[t].size()))
        << "T = " << temps[t];
  }
  // The test has power: the slot at 0.7 against the independent run at 0.95.
  EXPECT_GT(ks_two_sample(ua[0], ub[2]), critical(ua[0].size(), ub[2].size()));
  fs::remove_all(a);
  fs::remove_all(b);
}

// Two runs are identical; a run stopped in equilibration and again in production and resumed
// writes the same files (the exchange log included).
TEST(ReplicaExchange, DeterministicAndResumesExactly) {
  const std::vector<double> temps = {0.7, 0.8, 0.95};
  auto scan = [&](const std::string& dir) {
    json j = tiny_scan(dir, temps, 2000);
    j["replica_exchange_interval"] = 20;
    j["checkpoint_interval"] = 300;
    return j;
  };
  const std::string ref = temp_dir("ref"), again = temp_dir("again"), dir = temp_dir("resumed");
  run(scan(ref));
  run(scan(again));
  EXPECT_THROW(run(scan(dir), 1000), vitrify::ScanInterrupted);
  EXPECT_THROW(run(scan(dir), 2500), vitrify::ScanInterrupted);
  run(scan(dir));
  for (const char* f : {"measurements.json", "replica_exchange.csv", "thermo/replica_000.csv",
                        "thermo/replica_002.csv", "snapshots/replica_001.xyz"}) {
    EXPECT_TRUE(read_file(ref + "/" + f) == read_file(again + "/" + f)) << f << " (determinism)";
    EXPECT_TRUE(read_file(ref + "/" + f) == read_file(dir + "/" + f)) << f << " (resume)";
  }
  // Exchanges happened and moved configurations.
  EXPECT_GT(measurements(ref)["replica_exchange"]["pairs"][0]["accepted"].get<long>(), 0);
  for (const auto& p : {ref, again, dir}) fs::remove_all(p);
}

// The heat capacity from energy fluctuations equals d<E>/dT by finite differences (NVT,
// CSVR, no exchanges: C_v = d(u)/dT + (N - 1)/N in 2D with the kinetic part), and is absent
// under Berendsen.
TEST(HeatCapacity, EqualsTheDerivativeOfTheEnergy) {
  const std::string dir = temp_dir("cv");
  const double dt = 0.1;
  json j = tiny_scan(dir, {1.0 - dt, 1.0, 1.0 + dt}, 30000);
  j["copies_per_temperature"] = 2;
  run(j);
  const json m = measurements(dir);
  const json& s = m["state_points"];
  const double n = 32;
  const double du = s[2]["u"]["mean"].get<double>() - s[0]["u"]["mean"].get<double>();
  const double du_err =
      std::hypot(s[2]["u"]["error"].get<double>(), s[0]["u"]["error"].get<double>());
  const double fd = du / (2 * dt) + (n - 1) / n, fd_err = du_err / (2 * dt);
  const double cv = s[1]["heat_capacity"]["mean"].get<double>();
  const double cv_err = s[1]["heat_capacity"]["error"].get<double>();
  EXPECT_GT(cv_err, 0);
  EXPECT_LT(cv_err, 0.15 * cv);
  EXPECT_NEAR(cv, fd, 4 * std::hypot(cv_err, fd_err)) << "fd error " << fd_err;
  fs::remove_all(dir);

  const std::string b = temp_dir("cv_berendsen");
  json k = tiny_scan(b, {1.0}, 1000);
  k.erase("thermostat");
  run(k);
  EXPECT_FALSE(measurements(b)["state_points"][0].contains("heat_capacity"));
  fs::remove_all(b);
}

// Berendsen components and other bad values are refused naming the key (more cases in
// tests/data/broken/cases.json).
TEST(ReplicaExchange, RefusesBerendsen) {
  json j = tiny_scan("unused", {0.7, 0.8}, 1000);
  j["replica_exchange_interval"] = 10;
  j.erase("thermostat");
  try {
    vitrify::parse_config(j, "pt.json");
    FAIL() << "accepted Berendsen";
  } catch (const vitrify::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("\"replica_exchange_interval\""), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("Berendsen"), std::string::npos);
  }
}
