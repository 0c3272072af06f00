#include "vitrify/analysis/statmech_input.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <sstream>

#include "vitrify/core/error.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify::analysis {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& field, const std::string& reason) {
  throw InputError("measurements.json: " + field + ": " + reason);
}

std::string number_text(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

const json& require(const json& object, const std::string& key, const std::string& path) {
  if (!object.is_object()) fail(path, "expected an object");
  auto it = object.find(key);
  if (it == object.end()) fail(path.empty() ? key : path + "." + key, "missing field");
  return *it;
}

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

double require_number(const json& object, const std::string& key, const std::string& path) {
  const json& v = require(object, key, path);
  if (!v.is_number()) fail(join(path, key), "expected a number");
  const double x = v.get<double>();
  if (!std::isfinite(x)) fail(join(path, key), "not a finite number");
  return x;
}

std::string require_string(const json& object, const std::string& key, const std::string& path) {
  const json& v = require(object, key, path);
  if (!v.is_string()) fail(join(path, key), "expected a string");
  return v.get<std::string>();
}

long long require_integer(const json& object, const std::string& key, const std::string& path) {
  const json& v = require(object, key, path);
  if (!v.is_number_integer()) fail(join(path, key), "expected an integer");
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(LLONG_MAX))
    fail(join(path, key), "integer out of range");
  return v.get<long long>();
}

// An integer that must fit an int (types, neighbour counts, the dimension).
int require_int(const json& object, const std::string& key, const std::string& path) {
  const long long v = require_integer(object, key, path);
  if (v < INT_MIN || v > INT_MAX) fail(join(path, key), "integer out of range");
  return static_cast<int>(v);
}

// {"mean": x, "error": e}; error >= 0. allow_null: a null mean returns nullopt.
// missing_error: where a null error is accepted (error NaN, path recorded); null: refused.
std::optional<MeasuredValue> parse_value(const json& v, const std::string& path, bool allow_null,
                                         std::vector<std::string>* missing_error = nullptr) {
  if (!v.is_object()) fail(path, "expected an object {\"mean\": x, \"error\": e}");
  const json& mean = require(v, "mean", path);
  if (mean.is_null() && allow_null) return std::nullopt;
  MeasuredValue out;
  out.mean = require_number(v, "mean", path);
  if (missing_error && v.contains("error") && v["error"].is_null()) {
    out.error = std::numeric_limits<double>::quiet_NaN();
    missing_error->push_back(path);
    return out;
  }
  out.error = require_number(v, "error", path);
  if (out.error < 0.0) fail(path + ".error", "negative error " + number_text(out.error));
  return out;
}

MeasuredValue require_value(const json& object, const std::string& key, const std::string& path,
                            std::vector<std::string>* missing_error = nullptr) {
  return *parse_value(require(object, key, path), join(path, key), false, missing_error);
}

// format, version, model, dimension, ensemble, n_particles, pressure and particle_types.
void parse_header(const json& doc, Measurements& m) {
  const std::string format = require_string(doc, "format", "");
  if (format != "vitrify-measurements")
    fail("format", "expected \"vitrify-measurements\", got \"" + format + "\"");
  const long long version = require_integer(doc, "version", "");
  if (version != 1) fail("version", "unsupported version " + std::to_string(version));
  m.model = require_string(doc, "model", "");
  const std::vector<std::string> known = model_names();
  if (std::find(known.begin(), known.end(), m.model) == known.end()) {
    std::string names;
    for (const std::string& name : known) names += (names.empty() ? "" : ", ") + name;
    fail("model", "unknown model \"" + m.model + "\" (expected one of " + names + ")");
  }
  m.dimension = require_int(doc, "dimension", "");
  if (m.dimension != model_info(m.model).dimension)
    fail("dimension", std::to_string(m.dimension) + " does not match model " + m.model);
  m.ensemble = require_string(doc, "ensemble", "");
  if (m.ensemble != "npt" && m.ensemble != "nvt" && m.ensemble != "nve")
    fail("ensemble", "unknown ensemble \"" + m.ensemble + "\" (expected npt, nvt or nve)");
  m.n_particles = require_integer(doc, "n_particles", "");
  if (m.n_particles < 1) fail("n_particles", "must be >= 1");
  if (m.is_npt()) {
    m.pressure = require_number(doc, "pressure", "");
  } else if (doc.contains("pressure") && doc["pressure"].is_number()) {
    m.pressure = doc["pressure"].get<double>();
  }
  if (doc.contains("particle_types") && doc["particle_types"].is_array()) {
    for (const json& t : doc["particle_types"]) {
      if (!t.is_string()) fail("particle_types", "expected strings");
      m.particle_types.push_back(t.get<std::string>());
    }
  }
}

// species and other_bins; returns every name they define.
std::set<std::string> parse_species(const json& doc, Measurements& m) {
  const json& species = require(doc, "species", "");
  if (!species.is_array() || species.empty()) fail("species", "expected a non-empty array");
  std::set<std::string> names;
  for (size_t i = 0; i < species.size(); ++i) {
    const std::string path = "species[" + std::to_string(i) + "]";
    SpeciesDefinition s;
    s.name = require_string(species[i], "name", path);
    s.type = require_int(species[i], "type", path);
    s.neighbors = require_int(species[i], "neighbors", path);
    if (s.type < 0) fail(path + ".type", "must be >= 0");
    if (!names.insert(s.name).second) fail(path + ".name", "duplicate species \"" + s.name + "\"");
    m.species.push_back(s);
  }
  if (doc.contains("other_bins")) {
    const json& bins = doc["other_bins"];
    if (!bins.is_array()) fail("other_bins", "expected an array");
    for (size_t i = 0; i < bins.size(); ++i) {
      const std::string path = "other_bins[" + std::to_string(i) + "]";
      OtherBinDefinition b;
      b.name = require_string(bins[i], "name", path);
      b.type = require_int(bins[i], "type", path);
      if (!names.insert(b.name).second) fail(path + ".name", "duplicate name \"" + b.name + "\"");
      m.other_bins.push_back(b);
    }
  }
  return names;
}

// Concentrations: every tracked species must be there; names must be known; >= -tol; sum 1.
void parse_concentrations(const json& p, const std::string& path, const Measurements& m,
                          const std::set<std::string>& names, double concentration_tolerance,
                          StatePointMeasurement& sp) {
  const json& conc = require(p, "concentrations", path);
  if (!conc.is_object()) fail(path + ".concentrations", "expected an object");
  double sum = 0.0;
  for (auto it = conc.begin(); it != conc.end(); ++it) {
    const std::string cpath = path + ".concentrations." + it.key();
    if (!names.count(it.key())) fail(cpath, "not a tracked species nor an other bin");
    MeasuredValue v = *parse_value(it.value(), cpath, false, &sp.missing_errors);
    if (v.mean < -concentration_tolerance)
      fail(cpath, "negative concentration " + number_text(v.mean));
    if (v.mean > 1.0 + concentration_tolerance)
      fail(cpath, "concentration " + number_text(v.mean) + " exceeds 1");
    v.mean = std::max(v.mean, 0.0);
    sum += v.mean;
    sp.concentrations[it.key()] = v;
  }
  for (const SpeciesDefinition& s : m.species)
    if (!sp.concentrations.count(s.name))
      fail(path + ".concentrations." + s.name, "missing field (tracked species)");
  if (std::abs(sum - 1.0) > concentration_tolerance)
    fail(path + ".concentrations", "not normalised: the concentrations sum to " + number_text(sum) +
                                       " (expected 1 within " +
                                       number_text(concentration_tolerance) + ")");
}

void parse_species_energy(const json& p, const std::string& path, StatePointMeasurement& sp) {
  if (!p.contains("species_energy") || !p["species_energy"].is_object()) return;
  for (auto it = p["species_energy"].begin(); it != p["species_energy"].end(); ++it) {
    const std::string epath = path + ".species_energy." + it.key();
    if (!it.value().is_object()) fail(epath, "expected an object");
    const json& mean = it.value().contains("mean") ? it.value()["mean"] : json();
    if (mean.is_null()) continue;  // species never seen at this temperature
    std::optional<MeasuredValue> v = parse_value(it.value(), epath, true);
    if (v) sp.species_energy[it.key()] = *v;
  }
}

TauAlphaMeasurement parse_tau_alpha(const json& p, const std::string& path) {
  TauAlphaMeasurement out;
  const json& tau = require(p, "tau_alpha", path);
  const std::string tpath = path + ".tau_alpha";
  if (!tau.is_object()) fail(tpath, "expected an object");
  const json& reached = require(tau, "reached", tpath);
  if (!reached.is_boolean()) fail(tpath + ".reached", "expected true or false");
  out.reached = reached.get<bool>();
  if (out.reached) {
    const double value = require_number(tau, "value", tpath);
    if (!(value > 0.0)) fail(tpath + ".value", "must be > 0, got " + number_text(value));
    out.value = value;
    if (tau.contains("error") && !tau["error"].is_null()) {
      const double err = require_number(tau, "error", tpath);
      if (!(err > 0.0)) fail(tpath + ".error", "must be > 0, got " + number_text(err));
      out.error = err;
    }
  }
  if (tau.contains("lower_bound") && tau["lower_bound"].is_number())
    out.lower_bound = tau["lower_bound"].get<double>();
  return out;
}

// state_points[i].
StatePointMeasurement parse_state_point(const json& p, size_t i, const Measurements& m,
                                        const std::set<std::string>& names,
                                        double concentration_tolerance) {
  const std::string path = "state_points[" + std::to_string(i) + "]";
  StatePointMeasurement sp;
  sp.index = static_cast<int>(i);
  sp.temperature = require_number(p, "temperature", path);
  if (!(sp.temperature > 0.0))
    fail(path + ".temperature", "must be > 0, got " + number_text(sp.temperature));
  sp.density = require_value(p, "density", path, &sp.missing_errors);
  if (!(sp.density.mean > 0.0))
    fail(path + ".density.mean", "must be > 0, got " + number_text(sp.density.mean));
  sp.potential_energy = require_value(p, "u", path, &sp.missing_errors);
  if (m.is_npt()) {
    const json& h = require(p, "h", path);
    if (h.is_null()) fail(path + ".h", "null, but the enthalpy is required for NPT");
    sp.enthalpy = *parse_value(h, path + ".h", false, &sp.missing_errors);
  }
  parse_concentrations(p, path, m, names, concentration_tolerance, sp);
  parse_species_energy(p, path, sp);
  if (p.contains("heat_capacity") && !p["heat_capacity"].is_null())
    sp.heat_capacity = parse_value(p["heat_capacity"], path + ".heat_capacity", true);
  sp.tau_alpha = parse_tau_alpha(p, path);
  if (p.contains("equilibrated")) {
    if (!p["equilibrated"].is_boolean()) fail(path + ".equilibrated", "expected true or false");
    sp.equilibrated = p["equilibrated"].get<bool>();
  }
  if (p.contains("flags") && p["flags"].is_array())
    for (const json& f : p["flags"])
      if (f.is_string()) sp.flags.push_back(f.get<std::string>());
  return sp;
}

}  // namespace

Measurements parse_measurements(const json& doc, double concentration_tolerance) {
  if (!doc.is_object()) fail("(top level)", "expected a JSON object");
  Measurements m;
  parse_header(doc, m);
  const std::set<std::string> names = parse_species(doc, m);
  const json& points = require(doc, "state_points", "");
  if (!points.is_array()) fail("state_points", "expected an array");
  if (points.size() < 3)
    fail("state_points", "fewer than three temperatures (" + std::to_string(points.size()) +
                             "); the fits need at least three");
  for (size_t i = 0; i < points.size(); ++i)
    m.state_points.push_back(parse_state_point(points[i], i, m, names, concentration_tolerance));
  std::stable_sort(m.state_points.begin(), m.state_points.end(),
                   [](const StatePointMeasurement& a, const StatePointMeasurement& b) {
                     return a.temperature < b.temperature;
                   });
  for (size_t i = 1; i < m.state_points.size(); ++i)
    if (m.state_points[i].temperature == m.state_points[i - 1].temperature)
      fail("state_points[" + std::to_string(m.state_points[i].index) + "].temperature",
           "duplicate temperature " + number_text(m.state_points[i].temperature));
  return m;
}

}  // namespace vitrify::analysis
