// Equilibration verdict of a state point.
#include "vitrify/analysis/measure_equilibration.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace vitrify::analysis {

std::string format_short(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1e", value);
  // "5.1e+03" -> "5.1e3", "2.0e-05" -> "2.0e-5".
  std::string s(buf);
  const size_t e = s.find('e');
  if (e == std::string::npos) return s;
  const std::string mantissa = s.substr(0, e);
  const int exponent = std::atoi(s.c_str() + e + 1);
  return mantissa + "e" + std::to_string(exponent);
}

EquilibrationVerdict equilibration_verdict(const TauAlpha& tau_alpha, double production_time,
                                           const std::vector<ObservableHalves>& halves,
                                           double required_multiple) {
  EquilibrationVerdict v;
  char multiple_text[32];
  std::snprintf(multiple_text, sizeof multiple_text, "%g", required_multiple);
  const std::string multiple(multiple_text);
  if (!tau_alpha.reached) {
    v.flags.push_back("tau_alpha not reached (F_k > 1/e up to the longest lag " +
                      format_short(tau_alpha.lower_bound) + "); production " +
                      format_short(production_time) + " < " + multiple + " tau_alpha");
  } else if (!(production_time >= required_multiple * tau_alpha.value)) {
    v.flags.push_back("production " + format_short(production_time) + " < " + multiple +
                      " tau_alpha = " + format_short(required_multiple * tau_alpha.value));
  }
  for (const ObservableHalves& h : halves) {
    const HalvesComparison& c = h.comparison;
    char z[64];
    std::snprintf(z, sizeof z, "%.1f sigma (limit %.1f)", c.z, c.z_threshold);
    if (std::isnan(c.z)) {
      v.flags.push_back(h.name + ": halves cannot be compared (no error estimate)");
    } else if (!c.agree) {
      v.flags.push_back(h.name + ": halves differ by " + std::string(z));
    }
    if (c.too_few_blocks) {
      v.flags.push_back(h.name + ": too few blocks for the error (" +
                        std::to_string(c.first.n_blocks) + " and " +
                        std::to_string(c.second.n_blocks) + " in the halves)");
    }
  }
  v.equilibrated = v.flags.empty();
  return v;
}

}  // namespace vitrify::analysis
