// analyze_file and the CSV tables of an analysis (docs/OUTPUTS.md, section "analysis.json").
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "vitrify/analysis/statmech.hpp"
#include "vitrify/core/error.hpp"

namespace vitrify::analysis {

namespace {

using nlohmann::json;

std::string csv_field(const json& v) {
  if (v.is_null()) return "";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) {
    std::ostringstream out;
    out.precision(10);
    out << v.get<double>();
    return out.str();
  }
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string quoted = "\"";
  for (char c : s) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  void add_column(const std::string& name, const json& values) {
    header.push_back(name);
    if (rows.size() < values.size()) rows.resize(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      rows[i].resize(header.size() - 1);
      rows[i].push_back(csv_field(values[i]));
    }
  }
};

// Columns of a column-oriented object whose arrays all have length n: {"value","error"} pairs
// give "key" and "key_error", nested objects give "key_subkey", other entries are skipped.
void flatten_columns(const json& object, size_t n, const std::string& prefix, Table& table) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string name = prefix.empty() ? it.key() : prefix + "_" + it.key();
    const json& v = it.value();
    if (v.is_array() && v.size() == n) {
      table.add_column(name, v);
    } else if (v.is_object() && v.contains("value") && v.contains("error") &&
               v["value"].is_array() && v["value"].size() == n) {
      table.add_column(name, v["value"]);
      table.add_column(name + "_error", v["error"]);
    } else if (v.is_object()) {
      flatten_columns(v, n, name, table);
    }
  }
}

Table column_table(const json& object) {
  Table t;
  const json& temps = object.at("temperature");
  t.add_column("temperature", temps);
  json rest = object;
  rest.erase("temperature");
  flatten_columns(rest, temps.size(), "", t);
  return t;
}

void write_table(const Table& table, const std::filesystem::path& path) {
  std::ofstream out(path);
  if (!out) throw InputError("cannot write " + path.string());
  for (size_t i = 0; i < table.header.size(); ++i) out << (i ? "," : "") << table.header[i];
  out << "\n";
  for (const std::vector<std::string>& row : table.rows) {
    for (size_t i = 0; i < table.header.size(); ++i)
      out << (i ? "," : "") << (i < row.size() ? row[i] : "");
    out << "\n";
  }
  if (!out) throw InputError("error while writing " + path.string());
}

json at_or_null(const json& object, const std::string& key) {
  return object.is_object() && object.contains(key) ? object.at(key) : json(nullptr);
}

json field(const json& object, const std::string& key, const std::string& sub) {
  const json v = at_or_null(object, key);
  return v.is_object() ? at_or_null(v, sub) : json(nullptr);
}

}  // namespace

std::vector<std::string> write_analysis_tables(const json& analysis, const std::string& out_dir) {
  const std::filesystem::path dir(out_dir);
  std::vector<std::string> written;
  auto emit = [&](const Table& t, const std::string& name) {
    write_table(t, dir / name);
    written.push_back(name);
  };

  // One row per species.
  {
    Table t;
    const std::vector<std::string> cols = {"species",
                                           "group",
                                           "neighbors",
                                           "reference",
                                           "liquid",
                                           "status",
                                           "t_min",
                                           "t_max",
                                           "n_points",
                                           "H",
                                           "H_error",
                                           "ln_g",
                                           "ln_g_error",
                                           "g",
                                           "g_error",
                                           "cov_H_ln_g",
                                           "chi2",
                                           "dof",
                                           "reduced_chi2",
                                           "p_value",
                                           "worst_pull",
                                           "worst_pull_temperature",
                                           "worst_ratio_deviation",
                                           "worst_ratio_temperature",
                                           "statistical_pass",
                                           "practical_pass",
                                           "passes",
                                           "reason"};
    t.header = cols;
    for (const json& s : analysis.at("species")) {
      const json& f = s.at("fit");
      const json range = at_or_null(f, "temperature_range");
      const json cov = at_or_null(f, "covariance_H_ln_g");
      std::vector<json> v = {s["name"],
                             s["group"],
                             s["neighbors"],
                             s["reference"],
                             s["liquid"],
                             f["status"],
                             range.is_array() ? range[0] : json(nullptr),
                             range.is_array() ? range[1] : json(nullptr),
                             at_or_null(f, "n_points"),
                             field(f, "H", "value"),
                             field(f, "H", "error"),
                             field(f, "ln_g", "value"),
                             field(f, "ln_g", "error"),
                             field(f, "g", "value"),
                             field(f, "g", "error"),
                             cov.is_array() ? cov[0][1] : json(nullptr),
                             at_or_null(f, "chi2"),
                             at_or_null(f, "dof"),
                             at_or_null(f, "reduced_chi2"),
                             at_or_null(f, "p_value"),
                             field(f, "worst_pull", "value"),
                             field(f, "worst_pull", "temperature"),
                             field(f, "worst_ratio_deviation", "value"),
                             field(f, "worst_ratio_deviation", "temperature"),
                             at_or_null(f, "statistical_pass"),
                             at_or_null(f, "practical_pass"),
                             at_or_null(f, "passes"),
                             at_or_null(f, "reason")};
      std::vector<std::string> row;
      for (const json& x : v) row.push_back(csv_field(x));
      t.rows.push_back(row);
    }
    emit(t, "analysis_species.csv");
  }

  // Free energies, long format.
  {
    Table t;
    t.header = {"temperature", "species", "F", "F_error", "F_fit", "pull", "in_fit", "note"};
    for (const json& s : analysis.at("species")) {
      const json& fe = s.at("free_energy");
      for (size_t k = 0; k < fe.at("temperature").size(); ++k)
        t.rows.push_back({csv_field(fe["temperature"][k]), csv_field(s["name"]),
                          csv_field(fe["value"][k]), csv_field(fe["error"][k]),
                          csv_field(fe["fit_value"][k]), csv_field(fe["pull"][k]),
                          csv_field(fe["in_fit"][k]), csv_field(fe["note"][k])});
    }
    emit(t, "analysis_free_energies.csv");
  }

  // Concentrations, long format.
  {
    Table t;
    t.header = {"temperature",
                "species",
                "used_in_fits",
                "measured",
                "measured_error",
                "predicted",
                "predicted_error",
                "predicted_gaussian",
                "predicted_gaussian_error",
                "residual",
                "pull"};
    const json& c = analysis.at("concentrations");
    for (auto it = c.at("species").begin(); it != c.at("species").end(); ++it) {
      const json& s = it.value();
      for (size_t k = 0; k < c.at("temperature").size(); ++k)
        t.rows.push_back(
            {csv_field(c["temperature"][k]), csv_field(it.key()), csv_field(c["used_in_fits"][k]),
             csv_field(s["measured"]["value"][k]), csv_field(s["measured"]["error"][k]),
             csv_field(s["predicted"]["value"][k]), csv_field(s["predicted"]["error"][k]),
             csv_field(s["predicted_gaussian"]["value"][k]),
             csv_field(s["predicted_gaussian"]["error"][k]), csv_field(s["residual"][k]),
             csv_field(s["pull"][k])});
    }
    emit(t, "analysis_concentrations.csv");
  }

  emit(column_table(analysis.at("per_temperature")), "analysis_temperatures.csv");
  emit(column_table(analysis.at("grid")), "analysis_grid.csv");
  emit(column_table(analysis.at("thermodynamics").at("heat_capacity_finite_difference")),
       "analysis_heat_capacity.csv");
  return written;
}

json analyze_file(const std::string& measurements_path, const std::string& out_dir,
                  const AnalyzeOptions& options) {
  std::ifstream in(measurements_path);
  if (!in) throw InputError(measurements_path + ": cannot open");
  json document;
  // Duplicate keys are rejected (a hand-written file with a repeated key is ambiguous).
  std::vector<std::set<std::string>> seen;
  std::string duplicate;
  auto reject_duplicates = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      seen.emplace_back();
    } else if (event == json::parse_event_t::object_end && !seen.empty()) {
      seen.pop_back();
    } else if (event == json::parse_event_t::key && !seen.empty() && duplicate.empty()) {
      const std::string key = parsed.get<std::string>();
      if (!seen.back().insert(key).second) duplicate = key;
    }
    return true;
  };
  try {
    document = json::parse(in, reject_duplicates);
  } catch (const json::exception& e) {
    throw InputError(measurements_path + ": not valid JSON: " + e.what());
  }
  if (!duplicate.empty())
    throw InputError(measurements_path + ": key \"" + duplicate + "\" appears twice in an object");
  json analysis;
  try {
    analysis = analyze(document, options);
  } catch (const InputError& e) {
    // analyze() names the document "measurements.json"; name the file that was read.
    const std::string what = e.what(), generic = "measurements.json: ";
    if (what.compare(0, generic.size(), generic) == 0)
      throw InputError(measurements_path + ": " + what.substr(generic.size()));
    throw;
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw InputError(out_dir + ": cannot create the output directory: " + ec.message());
  const std::filesystem::path path = std::filesystem::path(out_dir) / "analysis.json";
  std::ofstream out(path);
  if (!out) throw InputError("cannot write " + path.string());
  out << analysis.dump(2) << "\n";
  if (!out) throw InputError("error while writing " + path.string());
  write_analysis_tables(analysis, out_dir);
  return analysis;
}

}  // namespace vitrify::analysis
