// The end-of-run summary: plain text from measurements.json, analysis.json and the run's timing.
// Reads the documents defensively (a field that is absent or null prints as "-"), so that a
// summary never fails a run that has finished.
#include "vitrify/analysis/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <vector>

namespace vitrify::analysis {
namespace {

using json = nlohmann::json;

const json kNull;

// j[key] when j is an object that has it, else null.
const json& at(const json& j, const char* key) {
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end()) return *it;
  }
  return kNull;
}

bool number(const json& j, double& out) {
  if (!j.is_number()) return false;
  out = j.get<double>();
  return std::isfinite(out);
}

std::string printf_str(const char* format, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

// A number with as many decimals as its error needs (two significant digits of the error).
std::string with_error(double value, double error) {
  if (!std::isfinite(value)) return "-";
  // No error, or one at the level of rounding (a density fixed by the box): the value alone.
  if (!(std::isfinite(error) && error > 1e-9 * std::fabs(value))) return printf_str("%.5g", value);
  const int decimals = std::clamp(1 - static_cast<int>(std::floor(std::log10(error))), 0, 9);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.*f ± %.*f", decimals, value, decimals, error);
  return buf;
}

// {"value"|"mean": v, "error": e} as text.
std::string ve(const json& j) {
  double v = NAN, e = NAN;
  if (!number(at(j, "value"), v)) number(at(j, "mean"), v);
  number(at(j, "error"), e);
  return with_error(v, e);
}

std::string str(const json& j, const std::string& fallback = "-") {
  return j.is_string() ? j.get<std::string>() : fallback;
}

std::string num(const json& j, const char* format = "%.4g") {
  double v = NAN;
  return number(j, v) ? printf_str(format, v) : "-";
}

std::string range(const json& j) {
  if (!j.is_array() || j.size() != 2) return "-";
  return "T = " + num(j[0]) + " to " + num(j[1]);
}

std::string join(const std::vector<std::string>& parts, const std::string& sep = ", ") {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

// Columns padded to their widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void write(std::ostringstream& os, const std::string& indent = "  ") const {
    std::vector<size_t> width;
    for (const auto& r : rows_)
      for (size_t c = 0; c < r.size(); ++c) {
        if (width.size() <= c) width.push_back(0);
        width[c] = std::max(width[c], display_width(r[c]));
      }
    for (const auto& r : rows_) {
      std::string line = indent;
      for (size_t c = 0; c < r.size(); ++c) {
        line += r[c];
        if (c + 1 < r.size()) line += std::string(width[c] - display_width(r[c]) + 2, ' ');
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      os << line << '\n';
    }
  }

 private:
  // UTF-8 code points (the "±" and Greek letters are one column each).
  static size_t display_width(const std::string& s) {
    size_t n = 0;
    for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
    return n;
  }
  std::vector<std::vector<std::string>> rows_;
};

void state_points(std::ostringstream& os, const json& m) {
  const bool npt = at(m, "ensemble") == "npt";
  os << "State points (" << str(at(m, "model")) << ", N = " << num(at(m, "n_particles"), "%.0f")
     << ", " << str(at(m, "ensemble"));
  if (npt) os << ", p = " << num(at(m, "pressure"));
  os << "):\n";
  // Production until-equilibrated: each point's production steps and why it stopped.
  bool adaptive = false;
  for (const auto& s : at(m, "state_points"))
    adaptive = adaptive || at(s, "production").is_object();
  std::vector<std::string> head = {"T", "rho", "u", npt ? "h" : "p", "tau_alpha", "equilibrated"};
  if (adaptive) head.push_back("production steps");
  Table t(head);
  std::vector<std::string> flagged;
  for (const auto& s : at(m, "state_points")) {
    const json& tau = at(s, "tau_alpha");
    std::string tau_text;
    if (at(tau, "reached") == true)
      tau_text = ve(tau);
    else
      tau_text = "> " + num(at(tau, "lower_bound"));
    const bool eq = at(s, "equilibrated") == true;
    std::vector<std::string> row = {num(at(s, "temperature")),
                                    ve(at(s, "density")),
                                    ve(at(s, "u")),
                                    ve(at(s, npt ? "h" : "p")),
                                    tau_text,
                                    eq ? "yes" : "NO"};
    if (adaptive) {
      const json& p = at(s, "production");
      row.push_back(p.is_object() ? num(at(p, "steps"), "%.0f") + " (" + str(at(p, "stopped")) + ")"
                                  : "-");
    }
    t.add(row);
    if (!eq) {
      std::vector<std::string> why;
      for (const auto& f : at(s, "flags"))
        if (f.is_string()) why.push_back(f.get<std::string>());
      flagged.push_back("T = " + num(at(s, "temperature")) + ": " + join(why, "; "));
    }
  }
  t.write(os);
  if (!flagged.empty()) {
    os << "  Not equilibrated (left out of the fits unless accepted):\n";
    for (const auto& f : flagged) os << "    " << f << '\n';
  }
  const json& dropped = at(m, "dropped_replicas");
  if (dropped.is_array() && !dropped.empty())
    os << "  " << dropped.size() << " replica(s) dropped after a numerical failure (see "
       << "measurements.json, dropped_replicas)\n";
}

void verdict(std::ostringstream& os, const json& a) {
  const json& v = at(a, "validation");
  const bool ok = at(v, "validated") == true;
  os << "Verdict: " << (ok ? "VALIDATED" : "NOT VALIDATED") << " over "
     << range(at(v, "temperature_range")) << " — " << str(at(v, "reason"), "-") << '\n';
  for (const auto& f : at(v, "failed_species"))
    os << "  failing species " << str(at(f, "species"), "?") << ": " << str(at(f, "reason"), "")
       << '\n';
  for (const auto& f : at(v, "untested_species"))
    os << "  untested species " << str(at(f, "species"), "?") << ": " << str(at(f, "reason"), "")
       << '\n';
  const json& excluded = at(a, "excluded_state_points");
  if (excluded.is_array() && !excluded.empty()) {
    std::vector<std::string> ts;
    for (const auto& e : excluded) ts.push_back(num(at(e, "temperature")));
    os << "  state points left out of the fits: T = " << join(ts) << '\n';
  }
}

void species_table(std::ostringstream& os, const json& a) {
  os << "Quasi-species free energies F_s = H_s - T ln g_s (relative to the reference):\n";
  Table t({"species", "H", "ln g", "g", "role", "test"});
  for (const auto& s : at(a, "species")) {
    const json& fit = at(s, "fit");
    const std::string status = str(at(fit, "status"), "");
    std::string role = at(s, "reference") == true ? "reference" : "";
    if (at(s, "liquid") == true) role += std::string(role.empty() ? "" : ", ") + "liquid";
    std::string test;
    if (status == "fitted") {
      const bool pass = at(fit, "passes") == true;
      test = pass ? "passes" : "FAILS";
      if (at(fit, "statistical_pass") == true)
        test += " (statistical)";
      else if (at(fit, "practical_pass") == true)
        test += " (practical only)";
      double p = NAN;
      if (number(at(fit, "p_value"), p)) test += ", p = " + printf_str("%.2g", p);
    } else if (status == "excluded") {
      test = "not fitted: " + str(at(fit, "reason"), "");
    }
    const std::string name = str(at(s, "name"), "?");
    t.add({name, status == "excluded" ? "-" : ve(at(fit, "H")),
           status == "excluded" ? "-" : ve(at(fit, "ln_g")),
           status == "excluded" ? "-" : ve(at(fit, "g")), role.empty() ? "-" : role, test});
  }
  t.write(os);
}

void gaussian(std::ostringstream& os, const json& a) {
  for (const auto& g : at(a, "groups")) {
    const json& gd = at(g, "gaussian_degeneracy");
    const std::string name = str(at(g, "name"), "?");
    if (at(gd, "status") != "fitted") {
      os << "Gaussian degeneracy (group " << name << "): not fitted — " << str(at(gd, "reason"), "")
         << '\n';
      continue;
    }
    os << "Gaussian degeneracy (group " << name
       << "): ln g(n) = c - (n - n_mp)^2 / (2 sigma2): n_mp = " << ve(at(gd, "n_mp"))
       << ", sigma2 = " << ve(at(gd, "sigma2")) << ", c = " << ve(at(gd, "c"))
       << " (chi2/dof = " << num(at(gd, "reduced_chi2"), "%.3g") << ")\n";
  }
}

void relaxation(std::ostringstream& os, const json& a) {
  const json& r = at(a, "relaxation");
  if (at(r, "status") != "fitted") {
    os << "Relaxation tau_alpha = exp(mu xi/T + c): not fitted — " << str(at(r, "reason"), "-")
       << '\n';
    return;
  }
  os << "Relaxation ln tau_alpha = mu xi/T + c over " << range(at(r, "temperature_range"))
     << ": mu = " << ve(at(r, "mu")) << ", c = " << ve(at(r, "c")) << " ("
     << num(at(r, "n_points"), "%.0f") << " points, "
     << (str(at(r, "weighting"), "").rfind("weighted", 0) == 0
             ? "weighted by the tau_alpha errors"
             : "unweighted: tau_alpha errors absent")
     << ")\n";
  const json& h = at(r, "hold_out");
  if (at(h, "status") == "done") {
    double pull = NAN;
    number(at(h, "pull"), pull);
    os << "  hold-out at T = " << num(at(h, "temperature"))
       << " (refit without it): predicted tau_alpha " << num(at(h, "tau_alpha_predicted"))
       << ", measured " << num(at(h, "tau_alpha_measured")) << ", ratio "
       << num(at(h, "ratio_predicted_over_measured"), "%.3f") << ", pull "
       << printf_str("%+.2f", pull)
       << (std::fabs(pull) <= 2.0   ? " (consistent)"
           : std::fabs(pull) <= 3.0 ? " (marginal: 2 < |pull| <= 3)"
                                    : " (INCONSISTENT: |pull| > 3)")
       << '\n';
  } else {
    os << "  hold-out: not done — " << str(at(h, "reason"), "-") << '\n';
  }
}

// One comparison of the measured u or h with the model: worst relative deviation and verdict.
std::string comparison_line(const json& c) {
  const json& worst = at(c, "worst_relative_deviation");
  double w = NAN;
  if (!number(at(worst, "value"), w)) return "-";
  const bool ok = std::fabs(w) <= kEnergyCheckTolerance;
  return std::string(ok ? "agrees" : "DIFFERS") + ": worst deviation " +
         printf_str("%+.1f", 100 * w) + " % at T = " + num(at(worst, "temperature")) + " (limit " +
         printf_str("%.0f", 100 * kEnergyCheckTolerance) +
         " %), chi2/dof = " + num(at(c, "reduced_chi2"), "%.3g");
}

void thermodynamics(std::ostringstream& os, const json& a) {
  const json& t = at(a, "thermodynamics");
  if (!t.is_object()) return;
  os << "Thermodynamic check, " << str(at(t, "kind"), "-") << ":\n";
  std::vector<std::string> es;
  for (const auto& e : at(t, "energy_per_neighbor"))
    if (at(e, "status") == "fitted")
      es.push_back("group " + str(at(e, "group"), "?") + ": e = " + ve(at(e, "e")));
  if (!es.empty()) os << "  fitted energy per bound neighbour " << join(es, "; ") << '\n';
  Table checks({"model", "verdict"});
  if (at(t, "comparison").is_object())
    checks.add({"fitted e", comparison_line(at(t, "comparison"))});
  if (at(t, "comparison_paper_e").is_object())
    checks.add({"paper's e = " + num(at(at(t, "comparison_paper_e"), "e"), "%.2f"),
                comparison_line(at(t, "comparison_paper_e"))});
  if (at(t, "comparison_with_constant").is_object())
    checks.add(
        {"fitted e + constant " + ve(at(at(t, "comparison_with_constant"), "additive_constant")),
         comparison_line(at(t, "comparison_with_constant"))});
  checks.write(os);
  const json& peak = at(t, "heat_capacity_peak");
  const std::string kind = str(at(t, "heat_capacity_kind"), "C");
  if (peak.is_object()) {
    // The model is of the potential energy (NVT) or of u + p v (NPT): a total C adds d/2.
    os << "  model " << kind << " maximum " << ve(at(peak, "heat_capacity"))
       << " (without the kinetic d/2) at T = " << num(at(peak, "temperature"), "%.3g");
    if (at(peak, "inside_fitted_range") == true)
      os << ", inside the fitted range";
    else
      os << ", an EXTRAPOLATION outside the fitted "
         << range(at(at(a, "temperature_range"), "fitted"));
    if (at(peak, "at_grid_edge") == true)
      os << " (at the edge of the grid: the true maximum may lie beyond)";
    os << '\n';
  }
}

}  // namespace

std::string performance_line(const RunPerformance& performance) {
  const double s = performance.wall_seconds;
  return "Wall time " + printf_str("%.1f", s) + " s" +
         (performance.resumed ? " (this resumed part)" : "") + ", " +
         printf_str("%.3g", performance.particle_steps) + " particle-steps, " +
         (s > 0 ? printf_str("%.3g", performance.particle_steps / s) : std::string("-")) +
         " particle-steps/s\n";
}

std::string science_summary(const json& measurements, const json* analysis,
                            const std::string& analysis_note) {
  std::ostringstream os;
  os << "==================== vitrify summary ====================\n";
  state_points(os, measurements);
  os << '\n';
  if (analysis == nullptr) {
    os << "Analysis: none" << (analysis_note.empty() ? "" : " — " + analysis_note) << '\n';
  } else {
    verdict(os, *analysis);
    os << '\n';
    species_table(os, *analysis);
    gaussian(os, *analysis);
    os << '\n';
    relaxation(os, *analysis);
    os << '\n';
    thermodynamics(os, *analysis);
    const json& warnings = at(*analysis, "warnings");
    if (warnings.is_array() && !warnings.empty()) {
      os << "Analysis warnings:\n";
      for (const auto& w : warnings)
        if (w.is_string()) os << "  " << w.get<std::string>() << '\n';
    }
  }
  os << "==========================================================\n";
  return os.str();
}

}  // namespace vitrify::analysis
