#include "vitrify/analysis/statmech_propagate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace vitrify::analysis {

PropagatedValues propagate_errors(
    const std::function<std::vector<double>(const std::vector<double>&)>& quantities,
    const std::vector<double>& theta, const Matrix& covariance) {
  const int n_params = static_cast<int>(theta.size());
  if (covariance.rows() != n_params || covariance.cols() != n_params)
    throw std::invalid_argument("propagate_errors: covariance shape mismatch");
  PropagatedValues out;
  out.value = quantities(theta);
  const size_t n_out = out.value.size();
  // Jacobian, column by column.
  Matrix jacobian(static_cast<int>(n_out), n_params);
  std::vector<double> shifted = theta;
  for (int j = 0; j < n_params; ++j) {
    const double sigma = std::sqrt(std::max(covariance(j, j), 0.0));
    if (sigma == 0.0) continue;
    const double step = std::max(1e-3 * sigma, 1e-9 * std::max(1.0, std::abs(theta[j])));
    shifted[j] = theta[j] + step;
    const std::vector<double> up = quantities(shifted);
    shifted[j] = theta[j] - step;
    const std::vector<double> down = quantities(shifted);
    shifted[j] = theta[j];
    for (size_t i = 0; i < n_out; ++i)
      jacobian(static_cast<int>(i), j) = (up[i] - down[i]) / (2.0 * step);
  }
  const Matrix js = jacobian * covariance;
  out.error.assign(n_out, 0.0);
  for (size_t i = 0; i < n_out; ++i) {
    double var = 0.0;
    bool finite = std::isfinite(out.value[i]);
    for (int j = 0; j < n_params; ++j) {
      const double jij = jacobian(static_cast<int>(i), j);
      if (!std::isfinite(jij)) finite = false;
      var += js(static_cast<int>(i), j) * jij;
    }
    out.error[i] =
        finite ? std::sqrt(std::max(var, 0.0)) : std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

}  // namespace vitrify::analysis
