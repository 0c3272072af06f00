#include "vitrify/io/config.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "vitrify/core/error.hpp"
#include "vitrify/default_config.hpp"
#include "vitrify/engine/ensemble.hpp"
#include "vitrify/io/h5md.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify {
namespace {

using json = nlohmann::json;

struct Reader {
  const json& j;
  std::string source;

  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw InputError(source + ": key \"" + key + "\": " + why);
  }
  bool has(const std::string& key) const { return j.contains(key); }

  double number(const std::string& key, double def) const {
    if (!has(key)) return def;
    const json& v = j.at(key);
    if (!v.is_number()) fail(key, "must be a number, got " + std::string(v.type_name()));
    const double x = v.get<double>();
    if (!std::isfinite(x)) fail(key, "must be finite");
    return x;
  }
  long integer(const std::string& key, long def) const {
    if (!has(key)) return def;
    const json& v = j.at(key);
    if (v.is_number_float()) {
      const double x = v.get<double>();
      if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 9e15)
        return static_cast<long>(x);
      fail(key, "must be an integer, got " + v.dump());
    }
    if (!v.is_number_integer()) fail(key, "must be an integer, got " + std::string(v.type_name()));
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(LONG_MAX))
      fail(key, "is too large");
    return v.get<long>();
  }
  std::string string(const std::string& key, const std::string& def) const {
    if (!has(key)) return def;
    const json& v = j.at(key);
    if (!v.is_string()) fail(key, "must be a string, got " + std::string(v.type_name()));
    return v.get<std::string>();
  }
  bool boolean(const std::string& key, bool def) const {
    if (!has(key)) return def;
    const json& v = j.at(key);
    if (!v.is_boolean()) fail(key, "must be true or false, got " + std::string(v.type_name()));
    return v.get<bool>();
  }
  void positive(const std::string& key, double x) const {
    if (!(x > 0)) fail(key, "must be > 0 (got " + json(x).dump() + ")");
  }
  void at_least(const std::string& key, long x, long min) const {
    if (x < min)
      fail(key, "must be >= " + std::to_string(min) + " (got " + std::to_string(x) + ")");
  }
  void one_of(const std::string& key, const std::string& v,
              const std::vector<std::string>& allowed) const {
    for (const auto& a : allowed)
      if (a == v) return;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    fail(key, "must be one of " + list + " (got \"" + v + "\")");
  }
};

// "replica_exchange_stages": a non-empty list of distinct stage names in which the targets
// stay fixed.
std::vector<std::string> exchange_stages(const Reader& in) {
  const json& v = in.j.at("replica_exchange_stages");
  if (!v.is_array() || v.empty())
    in.fail("replica_exchange_stages",
            "must be a non-empty array of stage names (\"equilibrate\", \"production\")");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string key = "replica_exchange_stages[" + std::to_string(i) + "]";
    if (!v[i].is_string()) in.fail(key, "must be \"equilibrate\" or \"production\"");
    const std::string s = v[i].get<std::string>();
    in.one_of(key, s, {"equilibrate", "production"});
    if (std::find(out.begin(), out.end(), s) != out.end())
      in.fail(key, "\"" + s + "\" is listed twice");
    out.push_back(s);
  }
  return out;
}

// Parallel tempering: the interval, the stages, and the ensemble the acceptance criterion
// assumes (canonical thermostat and barostat, two or more distinct temperatures).
void parse_replica_exchange(const Reader& in, RunConfig& c) {
  const std::string key = "replica_exchange_interval";
  c.replica_exchange_interval = in.integer(key, 0);
  in.at_least(key, c.replica_exchange_interval, 0);
  if (in.has("replica_exchange_stages")) {
    if (c.replica_exchange_interval == 0)
      in.fail("replica_exchange_stages", "is only used with replica_exchange_interval > 0");
    c.replica_exchange_stages = exchange_stages(in);
  }
  if (c.replica_exchange_interval == 0) return;
  if (c.ensemble == "nve")
    in.fail(key, "needs ensemble nvt or npt with a canonical thermostat (\"csvr\")");
  if (c.thermostat == "berendsen")
    in.fail(key,
            "needs \"thermostat\": \"csvr\": the Berendsen thermostat does not sample the "
            "canonical ensemble that the exchange criterion assumes");
  if (c.ensemble == "npt" && c.barostat == "berendsen")
    in.fail(key,
            "needs \"barostat\": \"c-rescale\": the Berendsen barostat does not sample the "
            "NPT ensemble that the exchange criterion assumes");
  std::set<double> distinct(c.temperatures.begin(), c.temperatures.end());
  if (distinct.size() < 2 || distinct.size() != c.temperatures.size())
    in.fail(key, "needs two or more distinct temperatures");
  if (c.adaptive_production())
    in.fail(key,
            "cannot be combined with \"production\": \"until-equilibrated\" (a state point that "
            "passes leaves the batch, which would break the temperature ladder); use \"fixed\" "
            "production");
}

const std::vector<std::string>& known_keys() {
  static const std::vector<std::string> keys = {"model",
                                                "n_particles",
                                                "ensemble",
                                                "density",
                                                "pressure",
                                                "temperatures",
                                                "copies_per_temperature",
                                                "dt",
                                                "thermostat",
                                                "barostat",
                                                "thermostat_tau",
                                                "barostat_tau",
                                                "bulk_modulus",
                                                "skin",
                                                "initial_density",
                                                "melt_temperature",
                                                "melt_steps",
                                                "cool_steps",
                                                "equilibration_steps",
                                                "production_steps",
                                                "production",
                                                "production_max_steps",
                                                "thermo_interval",
                                                "trajectory_interval",
                                                "sample_interval",
                                                "progress_interval",
                                                "seed",
                                                "output_dir",
                                                "backend",
                                                "kernel",
                                                "graphs",
                                                "threads",
                                                "species",
                                                "species_auto_threshold",
                                                "tau_alpha_multiple",
                                                "isf_points_per_level",
                                                "analyze",
                                                "checkpoint_interval",
                                                "checkpoint_wall_seconds",
                                                "on_failure",
                                                "keep_checkpoints",
                                                "replica_exchange_interval",
                                                "replica_exchange_stages",
                                                "comment"};
  return keys;
}

// Edit distance with adjacent transpositions (optimal string alignment): the number of
// inserted, deleted, replaced or swapped neighbouring characters between a and b.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// The known key closest to an unknown one, when it is a likely typo (at most 1 edit for short
// keys, 2 for keys of 5 characters or more); "" otherwise.
std::string closest_key(const std::string& key) {
  if (key.size() > 64) return "";
  const std::size_t limit = key.size() >= 5 ? 2 : 1;
  std::string best;
  std::size_t best_d = limit + 1;
  for (const auto& k : known_keys()) {
    const std::size_t dk = edit_distance(key, k);
    if (dk < best_d) {
      best_d = dk;
      best = k;
    }
  }
  return best;
}

// "production" and its budget (docs/CONFIG.md, "Scan protocol"); after production_steps and
// sample_interval.
void parse_production(const Reader& in, RunConfig& c) {
  c.production = in.string("production", "fixed");
  in.one_of("production", c.production, {"fixed", "until-equilibrated"});
  // 0 (the resolved value of fixed production) means "not given".
  const long budget = in.integer("production_max_steps", 0);
  if (!c.adaptive_production()) {
    if (budget != 0)
      in.fail("production_max_steps",
              "is the budget of \"production\": \"until-equilibrated\" and is not used with "
              "\"fixed\" production (production_steps; 0 or absent)");
    c.production_max_steps = 0;
    return;
  }
  if (c.production_steps % c.sample_interval != 0)
    in.fail("production_steps",
            "must be a multiple of sample_interval with \"production\": \"until-equilibrated\" "
            "(the state points are judged every production_steps steps)");
  if (budget == 0 && c.production_steps > LONG_MAX / 10)
    in.fail("production_max_steps", "must be given when production_steps is this large");
  c.production_max_steps = budget == 0 ? 10 * c.production_steps : budget;
  in.at_least("production_max_steps", c.production_max_steps, c.production_steps);
  if (c.production_max_steps % c.production_steps != 0)
    in.fail("production_max_steps", "must be a multiple of production_steps (got " +
                                        std::to_string(c.production_max_steps) + " and " +
                                        std::to_string(c.production_steps) + ")");
}

}  // namespace

std::vector<std::string> config_keys() { return known_keys(); }

json parse_json_strict(const std::string& text, const std::string& source) {
  std::vector<std::set<std::string>> seen;
  std::string duplicate;
  auto cb = [&](int, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::object_start)
      seen.emplace_back();
    else if (ev == json::parse_event_t::object_end && !seen.empty())
      seen.pop_back();
    else if (ev == json::parse_event_t::key && !seen.empty() && duplicate.empty()) {
      const std::string k = parsed.get<std::string>();
      if (!seen.back().insert(k).second) duplicate = k;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text, cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    const auto pos = what.find("parse error");
    throw InputError(source +
                     ": invalid JSON: " + (pos == std::string::npos ? what : what.substr(pos)));
  } catch (const json::exception& e) {
    // e.g. out_of_range.406: a number literal beyond the range of double (1e999)
    std::string what = e.what();
    const auto pos = what.find("] ");
    throw InputError(source +
                     ": invalid JSON: " + (pos == std::string::npos ? what : what.substr(pos + 2)));
  }
  if (!duplicate.empty()) throw InputError(source + ": key \"" + duplicate + "\" appears twice");
  return j;
}

RunConfig parse_config(const json& j, const std::string& source) {
  if (!j.is_object()) throw InputError(source + ": the configuration must be a JSON object");
  Reader in{j, source};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (const auto& k : known_keys()) ok = ok || k == it.key();
    if (ok) continue;
    const std::string near = closest_key(it.key());
    in.fail(it.key(), near.empty() ? "unknown key (see docs/CONFIG.md for the accepted keys)"
                                   : "unknown key; did you mean \"" + near +
                                         "\"? (see docs/CONFIG.md for the accepted keys)");
  }
  RunConfig c;
  if (!in.has("model")) {
    std::string names;
    for (const std::string& name : model_names()) names += (names.empty() ? "" : ", ") + name;
    in.fail("model", "is required (" + names + ")");
  }
  c.model = in.string("model", "");
  in.one_of("model", c.model, model_names());
  const ModelInfo& m = model_info(c.model);

  const long n = in.integer("n_particles", m.default_particles);
  in.at_least("n_particles", n, 2);
  if (n > 50'000'000) in.fail("n_particles", "is too large (at most 50000000)");
  c.n_particles = static_cast<int>(n);
  if (n % m.particle_multiple != 0)
    in.fail("n_particles", "must be a multiple of " + std::to_string(m.particle_multiple) +
                               " for " + c.model + " (exact composition), got " +
                               std::to_string(n));

  c.ensemble = in.string("ensemble", m.default_ensemble);
  in.one_of("ensemble", c.ensemble, {"npt", "nvt", "nve"});
  const bool npt = c.ensemble == "npt";
  if (npt && in.has("density"))
    in.fail("density", "is not used with ensemble npt (the barostat sets it); use initial_density");
  if (!npt && in.has("pressure")) in.fail("pressure", "is only used with ensemble npt");
  c.density = in.number("density", m.default_density);
  in.positive("density", c.density);
  c.pressure = in.number("pressure", m.default_pressure);
  if (npt) in.positive("pressure", c.pressure);
  c.initial_density = in.number("initial_density", npt ? m.default_initial_density : c.density);
  in.positive("initial_density", c.initial_density);
  if (!npt && in.has("initial_density") && c.initial_density != c.density)
    in.fail("initial_density", "must equal density (or be omitted) with ensemble " + c.ensemble);

  if (!in.has("temperatures")) in.fail("temperatures", "is required (a non-empty array of T > 0)");
  const json& tj = j.at("temperatures");
  if (!tj.is_array()) in.fail("temperatures", "must be an array of numbers");
  if (tj.empty()) in.fail("temperatures", "must not be empty");
  for (std::size_t i = 0; i < tj.size(); ++i) {
    const std::string key = "temperatures[" + std::to_string(i) + "]";
    if (!tj[i].is_number()) in.fail(key, "must be a number, got " + std::string(tj[i].type_name()));
    const double t = tj[i].get<double>();
    if (!std::isfinite(t) || t <= 0) in.fail(key, "must be > 0 (got " + tj[i].dump() + ")");
    c.temperatures.push_back(t);
  }
  const long copies = in.integer("copies_per_temperature", 1);
  in.at_least("copies_per_temperature", copies, 1);
  if (copies * static_cast<long>(c.temperatures.size()) > 100000)
    in.fail("copies_per_temperature", "gives more than 100000 replicas");
  c.copies_per_temperature = static_cast<int>(copies);

  c.dt = in.number("dt", 0.005);
  in.positive("dt", c.dt);
  if (c.dt > m.max_stable_dt)
    in.fail("dt", "is too large for " + c.model + " (at most " + json(m.max_stable_dt).dump() +
                      "): " + m.max_dt_reason);
  std::vector<std::string> names;
  for (const auto& t : thermostats()) names.push_back(t.name);
  c.thermostat = in.string("thermostat", names.front());
  in.one_of("thermostat", c.thermostat, names);
  names.clear();
  for (const auto& b : barostats()) names.push_back(b.name);
  c.barostat = in.string("barostat", names.front());
  in.one_of("barostat", c.barostat, names);
  if (!npt && in.has("barostat")) in.fail("barostat", "is only used with ensemble npt");
  if (c.ensemble == "nve" && in.has("thermostat"))
    in.fail("thermostat", "is not used with ensemble nve");
  c.thermostat_tau = in.number("thermostat_tau", 0.5);
  in.positive("thermostat_tau", c.thermostat_tau);
  if (c.thermostat_tau < c.dt) in.fail("thermostat_tau", "must be >= dt");
  c.barostat_tau = in.number("barostat_tau", 5.0);
  in.positive("barostat_tau", c.barostat_tau);
  if (c.barostat_tau < c.dt) in.fail("barostat_tau", "must be >= dt");
  c.bulk_modulus = in.number("bulk_modulus", 10.0);
  in.positive("bulk_modulus", c.bulk_modulus);
  c.skin = in.number("skin", 0.3);
  in.positive("skin", c.skin);
  if (c.skin > 2.0) in.fail("skin", "must be <= 2 sigma");

  double max_t = 0;
  for (double t : c.temperatures) max_t = std::max(max_t, t);
  c.melt_temperature = in.number("melt_temperature", 0);
  if (c.melt_temperature < 0) in.fail("melt_temperature", "must be >= 0 (0 = automatic)");
  if (c.melt_temperature == 0) c.melt_temperature = std::max(1.0, 2.0 * max_t);
  c.melt_steps = in.integer("melt_steps", 2000);
  in.at_least("melt_steps", c.melt_steps, 0);
  c.cool_steps = in.integer("cool_steps", 2000);
  in.at_least("cool_steps", c.cool_steps, 0);
  c.equilibration_steps = in.integer("equilibration_steps", 10000);
  in.at_least("equilibration_steps", c.equilibration_steps, 0);
  c.production_steps = in.integer("production_steps", 10000);
  in.at_least("production_steps", c.production_steps, 1);
  c.thermo_interval = in.integer("thermo_interval", 100);
  in.at_least("thermo_interval", c.thermo_interval, 1);
  c.trajectory_interval = in.integer("trajectory_interval", 0);
  in.at_least("trajectory_interval", c.trajectory_interval, 0);
  if (c.trajectory_interval > c.production_steps)
    in.fail("trajectory_interval", "must not exceed production_steps (0 = no trajectory)");
  if (c.trajectory_interval > 0 && !h5md_available())
    in.fail("trajectory_interval",
            "trajectories are H5MD files and this build has no HDF5 (install libhdf5-dev and "
            "rebuild; tools/setup does)");
  c.sample_interval = in.integer("sample_interval", 10);
  in.at_least("sample_interval", c.sample_interval, 1);
  if (c.sample_interval > c.production_steps)
    in.fail("sample_interval", "must not exceed production_steps");
  parse_production(in, c);
  c.progress_interval = in.integer("progress_interval", 0);
  in.at_least("progress_interval", c.progress_interval, 0);
  const long seed = in.integer("seed", 1);
  in.at_least("seed", seed, 0);
  c.seed = static_cast<std::uint64_t>(seed);
  c.output_dir = in.string("output_dir", "runs/" + c.model);
  if (c.output_dir.empty()) in.fail("output_dir", "must not be empty");
  c.backend = in.string("backend", "auto");
  in.one_of("backend", c.backend, {"auto", "cpu", "cuda"});
  c.kernel = in.string("kernel", "per-particle");
  in.one_of("kernel", c.kernel, {"per-particle", "block", "auto"});
  c.graphs = in.boolean("graphs", true);
  const long threads = in.integer("threads", 0);
  in.at_least("threads", threads, 0);
  c.threads = static_cast<int>(threads);

  c.species = m.default_species;
  if (in.has("species")) {
    const json& s = j.at("species");
    if (s.is_string()) {
      in.one_of("species", s.get<std::string>(), {"paper", "auto"});
      if (s.get<std::string>() == "paper" && m.paper_species.empty())
        in.fail("species", c.model + " has no species list from the paper: use \"auto\" or a list");
    } else if (s.is_array()) {
      if (s.empty()) in.fail("species", "must not be an empty list");
      std::set<std::string> names;
      for (std::size_t i = 0; i < s.size(); ++i) {
        const std::string key = "species[" + std::to_string(i) + "]";
        if (!s[i].is_string()) in.fail(key, "must be a species name such as \"s5\" or \"c3\"");
        const std::string name = s[i].get<std::string>();
        bool valid = false;
        for (int t = 0; t < m.n_types && !valid; ++t) {
          const std::string& p = m.species_prefixes[t];
          if (name.size() > p.size() && name.compare(0, p.size(), p) == 0 &&
              name.find_first_not_of("0123456789", p.size()) == std::string::npos &&
              name.size() - p.size() <= 3)
            valid = true;
        }
        if (!valid) in.fail(key, "\"" + name + "\" is not a species of " + c.model);
        if (!names.insert(name).second) in.fail(key, "\"" + name + "\" is listed twice");
      }
    } else {
      in.fail("species", "must be \"paper\", \"auto\" or an array of species names");
    }
    c.species = s;
  }
  c.species_auto_threshold = in.number("species_auto_threshold", 0.005);
  if (!(c.species_auto_threshold > 0 && c.species_auto_threshold < 1))
    in.fail("species_auto_threshold", "must lie in (0, 1)");
  c.tau_alpha_multiple = in.number("tau_alpha_multiple", 100);
  in.positive("tau_alpha_multiple", c.tau_alpha_multiple);
  const long ppl = in.integer("isf_points_per_level", 16);
  in.at_least("isf_points_per_level", ppl, 4);
  if (ppl > 1024) in.fail("isf_points_per_level", "must be <= 1024");
  c.isf_points_per_level = static_cast<int>(ppl);
  c.analyze = in.boolean("analyze", true);
  c.checkpoint_interval = in.integer("checkpoint_interval", 10000);
  in.at_least("checkpoint_interval", c.checkpoint_interval, 0);
  c.checkpoint_wall_seconds = in.number("checkpoint_wall_seconds", 600);
  if (c.checkpoint_wall_seconds < 0) in.fail("checkpoint_wall_seconds", "must be >= 0 (0 = off)");
  c.on_failure = in.string("on_failure", "stop");
  in.one_of("on_failure", c.on_failure, {"stop", "drop"});
  c.keep_checkpoints = in.boolean("keep_checkpoints", false);
  if (in.has("comment") && !j.at("comment").is_string()) in.fail("comment", "must be a string");
  parse_replica_exchange(in, c);

  // The initial lattice must hold N particles without overlap, and the box must be at least
  // twice the neighbour-list radius (minimum-image convention).
  const double rho0 = npt ? c.initial_density : c.density;
  const std::string rho_key = npt ? "initial_density" : "density";
  const double spacing = std::pow(1.0 / rho0, 1.0 / m.dimension);
  if (spacing < m.min_init_distance)
    in.fail(rho_key, "is too high to place N particles without overlap (lattice spacing " +
                         json(spacing).dump() + " < " + json(m.min_init_distance).dump() + ")");
  const double box = std::pow(c.n_particles / rho0, 1.0 / m.dimension);
  const double need = 2.0 * (m.max_cutoff + c.skin);
  if (box < need)
    in.fail("n_particles", "gives a box of " + json(box).dump() + " sigma at " + rho_key + " " +
                               json(rho0).dump() + ", smaller than twice the cutoff + skin (" +
                               json(need).dump() + "): use more particles");
  return c;
}

RunConfig load_config(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError(path + ": cannot open the configuration file");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_config(parse_json_strict(ss.str(), path), path);
}

RunConfig default_config() {
  return parse_config(parse_json_strict(kDefaultConfigJson, "built-in default"),
                      "built-in default");
}

json to_json(const RunConfig& c) {
  json j;
  j["model"] = c.model;
  j["n_particles"] = c.n_particles;
  j["ensemble"] = c.ensemble;
  if (c.ensemble == "npt") {
    j["pressure"] = c.pressure;
  } else {
    j["density"] = c.density;
  }
  j["initial_density"] = c.initial_density;
  j["temperatures"] = c.temperatures;
  j["copies_per_temperature"] = c.copies_per_temperature;
  j["dt"] = c.dt;
  // The components only where their ensemble uses them (parse_config refuses them elsewhere).
  if (c.ensemble != "nve") j["thermostat"] = c.thermostat;
  if (c.ensemble == "npt") j["barostat"] = c.barostat;
  j["thermostat_tau"] = c.thermostat_tau;
  j["barostat_tau"] = c.barostat_tau;
  j["bulk_modulus"] = c.bulk_modulus;
  j["skin"] = c.skin;
  j["melt_temperature"] = c.melt_temperature;
  j["melt_steps"] = c.melt_steps;
  j["cool_steps"] = c.cool_steps;
  j["equilibration_steps"] = c.equilibration_steps;
  j["production_steps"] = c.production_steps;
  j["production"] = c.production;
  j["production_max_steps"] = c.production_max_steps;
  j["thermo_interval"] = c.thermo_interval;
  j["trajectory_interval"] = c.trajectory_interval;
  j["sample_interval"] = c.sample_interval;
  j["progress_interval"] = c.progress_interval;
  j["seed"] = c.seed;
  j["output_dir"] = c.output_dir;
  j["backend"] = c.backend;
  j["kernel"] = c.kernel;
  j["graphs"] = c.graphs;
  j["threads"] = c.threads;
  j["species"] = c.species;
  j["species_auto_threshold"] = c.species_auto_threshold;
  j["tau_alpha_multiple"] = c.tau_alpha_multiple;
  j["isf_points_per_level"] = c.isf_points_per_level;
  j["analyze"] = c.analyze;
  j["checkpoint_interval"] = c.checkpoint_interval;
  j["checkpoint_wall_seconds"] = c.checkpoint_wall_seconds;
  j["on_failure"] = c.on_failure;
  j["keep_checkpoints"] = c.keep_checkpoints;
  j["replica_exchange_interval"] = c.replica_exchange_interval;
  // Only with exchanges (the key is refused without them).
  if (c.replica_exchange_interval > 0) j["replica_exchange_stages"] = c.replica_exchange_stages;
  return j;
}

}  // namespace vitrify
