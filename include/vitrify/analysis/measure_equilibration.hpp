#pragma once
// Equilibration verdict of one state point (docs/PHYSICS.md, "Measurements"): production must
// last at least `required_multiple` tau_alpha (default 100) and the two halves of production
// must agree within errors for every checked observable. A negative verdict carries
// human-readable reasons; a state point is flagged, never silently used.
#include <string>
#include <vector>

#include "vitrify/analysis/measure_blocking.hpp"
#include "vitrify/analysis/measure_isf.hpp"

namespace vitrify::analysis {

// Default minimum production length in units of tau_alpha.
inline constexpr double kRequiredTauAlphaMultiple = 100.0;

// The two-halves comparison of one named observable (e.g. "u", "density", "c_s3").
struct ObservableHalves {
  std::string name;
  HalvesComparison comparison;
};

// Verdict: equilibrated is true only when flags is empty.
struct EquilibrationVerdict {
  bool equilibrated = false;
  std::vector<std::string> flags;  // one reason per failed check, e.g.
                                   // "production 2.0e3 < 100 tau_alpha = 5.1e3",
                                   // "u: halves differ by 4.2 sigma"
};

// Checks, each adding one flag when it fails:
//  - tau_alpha not reached: "tau_alpha not reached (F_k > 1/e up to the longest lag 2.0e3);
//    production 2.0e3 < 100 tau_alpha";
//  - production_time < required_multiple * tau_alpha (tau_alpha.value; when below_first_lag the
//    value is an upper bound and the check is conservative);
//  - per observable: halves disagree (z >= threshold), the difference cannot be judged (no
//    error estimate), or a half has too few blocks for a reliable error.
// production_time and tau_alpha in the same unit (tau).
EquilibrationVerdict equilibration_verdict(const TauAlpha& tau_alpha, double production_time,
                                           const std::vector<ObservableHalves>& halves,
                                           double required_multiple = kRequiredTauAlphaMultiple);

// Formats a number as in the flags: 2 significant digits, exponent without padding ("5.1e3").
std::string format_short(double value);

}  // namespace vitrify::analysis
