// The statistical mechanics of quasi-species (docs/PHYSICS.md, sections "Quasi-species" and
// "Statistical mechanics"). Methods: docs/ANALYSIS.md; output fields: docs/OUTPUTS.md, section
// "analysis.json". This file: the options, the first two steps of the analysis (state points,
// groups and references) and analyze(), which runs the steps of statmech_steps.hpp in order.
#include "vitrify/analysis/statmech.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include "statmech_steps.hpp"
#include "vitrify/analysis/statmech_input.hpp"
#include "vitrify/core/build_info.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify::analysis {

namespace steps {

std::string fmt(double x, int precision) {
  std::ostringstream out;
  out.precision(precision);
  out << x;
  return out.str();
}

[[noreturn]] void options_error(const std::string& key, const std::string& reason) {
  throw InputError("analysis options: " + key + ": " + reason);
}

namespace {

// The entries of the accept option that let the flagged state point p into the fits ("" when
// none does): "all", its temperature, or kinds of flags that cover every flag of p.
std::string accepted_by(const StatePointMeasurement& p, const AnalyzeOptions& opt) {
  std::string by;
  auto add = [&](const std::string& entry) { by += (by.empty() ? "" : ", ") + entry; };
  bool kinds_cover = !p.flags.empty();
  std::vector<std::string> kinds;
  for (const std::string& f : p.flags) {
    const std::string kind = equilibration_flag_kind(f);
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
    kinds_cover =
        kinds_cover && std::find(opt.accept.begin(), opt.accept.end(), kind) != opt.accept.end();
  }
  for (const std::string& a : opt.accept) {
    if (a == "all") add(a);
    if (a.rfind("T=", 0) == 0) {
      const double t = std::stod(a.substr(2));
      if (std::abs(t - p.temperature) <= 1e-9 * std::max(1.0, std::abs(t))) add(a);
    }
  }
  if (kinds_cover)
    for (const std::string& k : kinds) add(k);
  return by;
}

// Why state point k is left out of the fits (empty when it is used).
std::vector<std::string> exclusion_reasons(const StatePointMeasurement& p,
                                           const AnalyzeOptions& opt) {
  std::vector<std::string> reasons;
  if (!p.equilibrated && accepted_by(p, opt).empty()) {
    std::string r = "not equilibrated";
    for (const std::string& f : p.flags) r += "; " + f;
    reasons.push_back(r);
  }
  if (!p.missing_errors.empty())
    reasons.push_back("no error bar (" + p.missing_errors.front() +
                      (p.missing_errors.size() > 1
                           ? " and " + std::to_string(p.missing_errors.size() - 1) + " more"
                           : std::string()) +
                      ")");
  if (opt.t_min && p.temperature < *opt.t_min) reasons.push_back("below t_min");
  if (opt.t_max && p.temperature > *opt.t_max) reasons.push_back("above t_max");
  return reasons;
}

// One group per central-particle type of the species, ascending type, with its other bin.
GroupSetup make_groups(const Measurements& m) {
  GroupSetup setup;
  std::map<int, int> group_of_type;
  for (const SpeciesDefinition& s : m.species) {
    if (group_of_type.count(s.type)) continue;
    Group g;
    g.type = s.type;
    g.name = s.type < static_cast<int>(m.particle_types.size()) ? m.particle_types[s.type]
                                                                : "type" + std::to_string(s.type);
    group_of_type[s.type] = 0;
    setup.groups.push_back(g);
  }
  std::sort(setup.groups.begin(), setup.groups.end(),
            [](const Group& a, const Group& b) { return a.type < b.type; });
  for (size_t g = 0; g < setup.groups.size(); ++g)
    group_of_type[setup.groups[g].type] = static_cast<int>(g);
  setup.species.resize(m.species.size());
  for (size_t s = 0; s < m.species.size(); ++s) {
    setup.species[s].group = group_of_type[m.species[s].type];
    setup.groups[setup.species[s].group].species.push_back(static_cast<int>(s));
  }
  for (const OtherBinDefinition& b : m.other_bins)
    if (group_of_type.count(b.type)) setup.groups[group_of_type[b.type]].other_bin = b.name;
  return setup;
}

// The liquid species: the option, else the model's default list, else (a model without a
// published choice) every species whose concentration is higher at the highest fitted
// temperature than at the lowest.
void mark_liquid_species(const Measurements& m, const AnalyzeOptions& opt, const ModelInfo& model,
                         const StatePointSelection& sel,
                         const std::map<std::string, int>& species_by_name, GroupSetup& setup) {
  setup.liquid_names = opt.liquid_species;
  if (setup.liquid_names.empty() && !model.liquid_species.empty()) {
    for (const SpeciesDefinition& s : m.species)
      if (std::find(model.liquid_species.begin(), model.liquid_species.end(), s.name) !=
          model.liquid_species.end())
        setup.liquid_names.push_back(s.name);
  } else if (setup.liquid_names.empty()) {
    const auto& cold = m.state_points[sel.fit_points.front()].concentrations;
    const auto& hot = m.state_points[sel.fit_points.back()].concentrations;
    for (const SpeciesDefinition& s : m.species)
      if (hot.at(s.name).mean > cold.at(s.name).mean) setup.liquid_names.push_back(s.name);
  }
  for (const std::string& name : setup.liquid_names) {
    const auto it = species_by_name.find(name);
    if (it == species_by_name.end())
      options_error("liquid_species", "unknown species \"" + name + "\"");
    setup.species[it->second].liquid = true;
  }
}

// Every group named in the reference option exists.
void check_reference_groups(const AnalyzeOptions& opt, const std::vector<Group>& groups) {
  for (const auto& [group_name, species_name] : opt.reference) {
    bool found = false;
    for (const Group& g : groups) found = found || g.name == group_name;
    if (found) continue;
    std::string names;
    for (const Group& g : groups) names += (names.empty() ? "" : ", ") + g.name;
    options_error("reference." + group_name,
                  "no group \"" + group_name + "\" (groups: " + names + ")");
  }
}

// The species of the group with the largest minimum concentration over the fitted state points.
std::string most_abundant_species(const Measurements& m, const StatePointSelection& sel,
                                  const Group& g) {
  std::string name;
  double best = -1.0;
  for (int s : g.species) {
    double min_c = INFINITY;
    for (int k : sel.fit_points)
      min_c = std::min(min_c, m.state_points[k].concentrations.at(m.species[s].name).mean);
    if (min_c > best) {
      best = min_c;
      name = m.species[s].name;
    }
  }
  return name;
}

// Sets g.reference and g.reference_choice: the option, the model's default or the automatic
// choice.
void choose_reference(const Measurements& m, const AnalyzeOptions& opt, const ModelInfo& model,
                      const StatePointSelection& sel,
                      const std::map<std::string, int>& species_by_name, Group& g) {
  auto of_group = [&](const std::string& name) {
    const auto it = species_by_name.find(name);
    return it != species_by_name.end() && m.species[it->second].type == g.type;
  };
  std::string ref_name;
  const auto option = opt.reference.find(g.name);
  if (option != opt.reference.end()) {
    ref_name = option->second;
    g.reference_choice = "option";
    if (!of_group(ref_name))
      options_error("reference." + g.name,
                    "\"" + ref_name + "\" is not a species of group " + g.name);
  } else if (g.type < model.n_types && !model.reference_species[g.type].empty() &&
             of_group(model.reference_species[g.type])) {
    ref_name = model.reference_species[g.type];
    g.reference_choice = "default (" + model.reference_reason + ")";
  } else {
    ref_name = most_abundant_species(m, sel, g);
    g.reference_choice = "automatic (largest minimum concentration over the fitted temperatures)";
  }
  g.reference = species_by_name.at(ref_name);
}

// The reference species must be present at every fitted state point.
void check_reference_present(const Measurements& m, const StatePointSelection& sel,
                             const Group& g) {
  const std::string& ref_name = m.species[g.reference].name;
  for (int k : sel.fit_points) {
    const StatePointMeasurement& p = m.state_points[k];
    const MeasuredValue c = p.concentrations.at(ref_name);
    if (!(c.mean > 0.0))
      throw InputError("measurements.json: state_points[" + std::to_string(p.index) +
                       "].concentrations." + ref_name + ": reference species of group " + g.name +
                       " is absent (concentration " + fmt(c.mean) +
                       ") at T = " + fmt(p.temperature) + "; choose another reference");
  }
}

// The group's total fraction (mean over the fitted state points) and its largest other-bin share.
void set_group_fraction(const Measurements& m, const AnalyzeOptions& opt,
                        const StatePointSelection& sel, Group& g) {
  double sum_total = 0.0, sum_tracked = 0.0;
  for (int k : sel.fit_points) {
    const StatePointMeasurement& p = m.state_points[k];
    double tracked = 0.0;
    for (int s : g.species) tracked += p.concentrations.at(m.species[s].name).mean;
    double other = 0.0;
    if (!g.other_bin.empty() && p.concentrations.count(g.other_bin))
      other = p.concentrations.at(g.other_bin).mean;
    sum_total += tracked + other;
    sum_tracked += tracked;
    g.max_other_fraction = std::max(g.max_other_fraction, other / (tracked + other));
  }
  g.total_fraction =
      (opt.normalization == "group" ? sum_total : sum_tracked) / sel.fit_points.size();
}

}  // namespace

StatePointSelection select_state_points(const Measurements& m, const AnalyzeOptions& opt) {
  StatePointSelection sel;
  const size_t n_sp = m.state_points.size();
  sel.used.assign(n_sp, 0);
  for (size_t k = 0; k < n_sp; ++k) {
    sel.reasons.push_back(exclusion_reasons(m.state_points[k], opt));
    sel.accepted_by.push_back(m.state_points[k].equilibrated ? ""
                                                             : accepted_by(m.state_points[k], opt));
    sel.used[k] = sel.reasons[k].empty();
    if (sel.used[k]) sel.fit_points.push_back(static_cast<int>(k));
  }
  if (sel.fit_points.size() < 3)
    throw InputError("measurements.json: state_points: only " +
                     std::to_string(sel.fit_points.size()) +
                     " usable temperatures (equilibrated and inside t_min..t_max); the fits need "
                     "at least three");
  sel.t_lo = m.state_points[sel.fit_points.front()].temperature;
  sel.t_hi = m.state_points[sel.fit_points.back()].temperature;
  return sel;
}

GroupSetup set_up_groups(const Measurements& m, const AnalyzeOptions& opt,
                         const StatePointSelection& sel) {
  const ModelInfo& model = model_info(m.model);  // parse_measurements rejects unknown models
  GroupSetup setup = make_groups(m);
  std::map<std::string, int> species_by_name;
  for (size_t s = 0; s < m.species.size(); ++s) species_by_name[m.species[s].name] = s;
  mark_liquid_species(m, opt, model, sel, species_by_name, setup);
  check_reference_groups(opt, setup.groups);
  for (Group& g : setup.groups) {
    choose_reference(m, opt, model, sel, species_by_name, g);
    setup.species[g.reference].is_reference = true;
    check_reference_present(m, sel, g);
    set_group_fraction(m, opt, sel, g);
  }
  return setup;
}

}  // namespace steps

namespace {

using nlohmann::json;
using steps::options_error;

void check_options(const AnalyzeOptions& o) {
  if (o.grid_points < 2) options_error("grid_points", "must be >= 2");
  if (o.grid_points > 100000) options_error("grid_points", "must be <= 100000");
  if (o.normalization != "group" && o.normalization != "tracked")
    options_error("normalization",
                  "expected \"group\" or \"tracked\", got \"" + o.normalization + "\"");
  if (o.min_temperatures < 3) options_error("min_temperatures", "must be >= 3");
  if (!(o.max_relative_error > 0.0)) options_error("max_relative_error", "must be > 0");
  if (o.validation_criterion != "statistical" && o.validation_criterion != "practical" &&
      o.validation_criterion != "either")
    options_error("validation_criterion", "expected statistical, practical or either");
  if (!(o.p_value_min >= 0.0 && o.p_value_min < 1.0))
    options_error("p_value_min", "must be in [0, 1)");
  if (!(o.z_max > 0.0)) options_error("z_max", "must be > 0");
  if (!(o.relative_tolerance > 0.0)) options_error("relative_tolerance", "must be > 0");
  if (!(o.concentration_tolerance >= 0.0)) options_error("concentration_tolerance", "must be >= 0");
  for (auto [key, v] : {std::pair<const char*, std::optional<double>>{"t_min", o.t_min},
                        {"t_max", o.t_max},
                        {"grid_t_min", o.grid_t_min},
                        {"grid_t_max", o.grid_t_max},
                        {"entropy_reference_temperature", o.entropy_reference_temperature}})
    if (v && !(*v > 0.0 && std::isfinite(*v))) options_error(key, "must be a positive number");
  if (o.t_min && o.t_max && *o.t_min > *o.t_max) options_error("t_min", "greater than t_max");
  for (const std::string& a : o.accept) {
    if (a == "all" || a == "too_few_blocks" || a == "halves" || a == "tau_alpha") continue;
    bool temperature = false;
    if (a.rfind("T=", 0) == 0) {
      try {
        std::size_t used = 0;
        const double t = std::stod(a.substr(2), &used);
        temperature = used == a.size() - 2 && t > 0 && std::isfinite(t);
      } catch (const std::exception&) {
      }
    }
    if (!temperature)
      options_error("accept", "\"" + a +
                                  "\": expected all, T=<temperature>, too_few_blocks, halves or "
                                  "tau_alpha");
  }
  if (o.grid_t_min && o.grid_t_max && *o.grid_t_min >= *o.grid_t_max)
    options_error("grid_t_min", "must be below grid_t_max");
}

// One key of the options' JSON form into o.
void parse_option(const std::string& key, const json& value, AnalyzeOptions& o) {
  auto number = [&]() -> double {
    if (!value.is_number()) options_error(key, "expected a number");
    return value.get<double>();
  };
  auto optional_number = [&]() -> std::optional<double> {
    if (value.is_null()) return std::nullopt;
    return number();
  };
  auto integer = [&]() -> int {
    if (!value.is_number_integer()) options_error(key, "expected an integer");
    return value.get<int>();
  };
  auto text = [&]() -> std::string {
    if (!value.is_string()) options_error(key, "expected a string");
    return value.get<std::string>();
  };
  if (key == "reference") {
    if (!value.is_object()) options_error(key, "expected an object group -> species");
    for (auto r = value.begin(); r != value.end(); ++r) {
      if (!r->is_string()) options_error("reference." + r.key(), "expected a species name");
      o.reference[r.key()] = r->get<std::string>();
    }
  } else if (key == "liquid_species") {
    if (!value.is_array()) options_error(key, "expected an array of species names");
    for (const json& s : value) {
      if (!s.is_string()) options_error(key, "expected species names");
      o.liquid_species.push_back(s.get<std::string>());
    }
  } else if (key == "t_min") {
    o.t_min = optional_number();
  } else if (key == "t_max") {
    o.t_max = optional_number();
  } else if (key == "grid_t_min") {
    o.grid_t_min = optional_number();
  } else if (key == "grid_t_max") {
    o.grid_t_max = optional_number();
  } else if (key == "grid_points") {
    o.grid_points = integer();
  } else if (key == "normalization") {
    o.normalization = text();
  } else if (key == "min_temperatures") {
    o.min_temperatures = integer();
  } else if (key == "max_relative_error") {
    o.max_relative_error = number();
  } else if (key == "validation_criterion") {
    o.validation_criterion = text();
  } else if (key == "p_value_min") {
    o.p_value_min = number();
  } else if (key == "z_max") {
    o.z_max = number();
  } else if (key == "relative_tolerance") {
    o.relative_tolerance = number();
  } else if (key == "inflate_errors") {
    if (!value.is_boolean()) options_error(key, "expected true or false");
    o.inflate_errors = value.get<bool>();
  } else if (key == "entropy_reference_temperature") {
    o.entropy_reference_temperature = optional_number();
  } else if (key == "concentration_tolerance") {
    o.concentration_tolerance = number();
  } else if (key == "accept") {
    if (!value.is_array()) options_error(key, "expected an array of strings");
    for (const json& s : value) {
      if (!s.is_string()) options_error(key, "expected an array of strings");
      o.accept.push_back(s.get<std::string>());
    }
  } else {
    options_error(key, "unknown option");
  }
}

}  // namespace

std::string equilibration_flag_kind(const std::string& flag) {
  if (flag.find("too few blocks") != std::string::npos) return "too_few_blocks";
  if (flag.find("halves") != std::string::npos) return "halves";
  if (flag.find("tau_alpha") != std::string::npos) return "tau_alpha";
  return "other";
}

AnalyzeOptions parse_analyze_options(const json& j) {
  if (!j.is_object()) options_error("(top level)", "expected a JSON object");
  AnalyzeOptions o;
  for (auto it = j.begin(); it != j.end(); ++it) parse_option(it.key(), it.value(), o);
  check_options(o);
  return o;
}

namespace {

// The provenance of an analysis (docs/OUTPUTS.md): this program's version and revision, and
// what the measurements' own provenance says about the run (null where the file has none).
json analysis_provenance(const json& document) {
  const json none;
  const json& run = document.contains("provenance") && document.at("provenance").is_object()
                        ? document.at("provenance")
                        : none;
  auto from_run = [&](const char* key) {
    return run.is_object() && run.contains(key) ? run.at(key) : json(nullptr);
  };
  return {{"vitrify_version", vitrify_version()},
          {"git_commit", vitrify_git_commit()},
          {"measurements_vitrify_version", from_run("vitrify_version")},
          {"measurements_git_commit", from_run("git_commit")},
          {"backend", from_run("backend")},
          {"device", from_run("device")},
          {"seed", from_run("seed")},
          {"threads", from_run("threads")}};
}

}  // namespace

json analyze(const json& document, const AnalyzeOptions& opt) {
  check_options(opt);
  const Measurements m = parse_measurements(document, opt.concentration_tolerance);
  const steps::StatePointSelection sel = steps::select_state_points(m, opt);
  const steps::GroupSetup setup = steps::set_up_groups(m, opt, sel);
  const steps::Fits fits = steps::run_fits(m, opt, sel, setup);
  const steps::Derived derived = steps::derive(m, opt, sel, setup, fits);
  json out = steps::analysis_json(m, opt, sel, setup, fits, derived);
  out["provenance"] = analysis_provenance(document);
  return out;
}

}  // namespace vitrify::analysis
