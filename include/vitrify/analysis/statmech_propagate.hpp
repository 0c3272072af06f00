#pragma once
// Linear error propagation: the errors of quantities q(theta) computed from parameters theta
// with covariance Sigma, var(q_i) = J_i Sigma J_i^T with the Jacobian J from central
// differences (step 1e-3 of each parameter's own error, so the linearisation is the one the
// errors themselves assume).
#include <functional>
#include <vector>

#include "vitrify/analysis/fit_linear.hpp"

namespace vitrify::analysis {

// Values and one-sigma errors of quantities(theta). Parameters with zero variance are not
// varied. Non-finite values give NaN errors.
struct PropagatedValues {
  std::vector<double> value;
  std::vector<double> error;
};
PropagatedValues propagate_errors(
    const std::function<std::vector<double>(const std::vector<double>&)>& quantities,
    const std::vector<double>& theta, const Matrix& covariance);

}  // namespace vitrify::analysis
