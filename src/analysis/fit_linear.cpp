#include "vitrify/analysis/fit_linear.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace vitrify::analysis {

Matrix::Matrix(int rows, int cols, double fill)
    : rows_(rows), cols_(cols), data_(static_cast<size_t>(rows) * cols, fill) {
  if (rows < 0 || cols < 0) throw std::invalid_argument("Matrix: negative size");
}

Matrix Matrix::identity(int n) {
  Matrix m(n, n);
  for (int i = 0; i < n; ++i) m(i, i) = 1.0;
  return m;
}

Matrix Matrix::transpose() const {
  Matrix t(cols_, rows_);
  for (int r = 0; r < rows_; ++r)
    for (int c = 0; c < cols_; ++c) t(c, r) = (*this)(r, c);
  return t;
}

Matrix operator*(const Matrix& a, const Matrix& b) {
  if (a.cols() != b.rows()) throw std::invalid_argument("Matrix product: shape mismatch");
  Matrix p(a.rows(), b.cols());
  for (int i = 0; i < a.rows(); ++i)
    for (int k = 0; k < a.cols(); ++k) {
      const double aik = a(i, k);
      if (aik == 0.0) continue;
      for (int j = 0; j < b.cols(); ++j) p(i, j) += aik * b(k, j);
    }
  return p;
}

namespace {

// Lower-triangular Cholesky factor L with m = L·L^T.
Matrix cholesky_factor(const Matrix& m) {
  const int n = m.rows();
  if (m.cols() != n) throw std::invalid_argument("Cholesky: matrix not square");
  Matrix l(n, n);
  for (int j = 0; j < n; ++j) {
    double diag = m(j, j);
    for (int k = 0; k < j; ++k) diag -= l(j, k) * l(j, k);
    // Relative pivot test: a pivot that has lost all but ~1e-13 of the diagonal is singular.
    if (!(diag > 1e-13 * std::abs(m(j, j))) || !(diag > 0.0))
      throw std::invalid_argument("Cholesky: matrix is not positive definite");
    l(j, j) = std::sqrt(diag);
    for (int i = j + 1; i < n; ++i) {
      double s = m(i, j);
      for (int k = 0; k < j; ++k) s -= l(i, k) * l(j, k);
      l(i, j) = s / l(j, j);
    }
  }
  return l;
}

void check_shapes(const Matrix& design, size_t n_data) {
  if (design.rows() != static_cast<int>(n_data))
    throw std::invalid_argument("linear fit: design rows != number of data points");
  if (design.rows() < design.cols())
    throw std::invalid_argument("linear fit: fewer data points (" + std::to_string(design.rows()) +
                                ") than parameters (" + std::to_string(design.cols()) + ")");
}

std::vector<double> apply(const Matrix& m, const std::vector<double>& v) {
  std::vector<double> out(m.rows(), 0.0);
  for (int i = 0; i < m.rows(); ++i)
    for (int j = 0; j < m.cols(); ++j) out[i] += m(i, j) * v[j];
  return out;
}

// Fills parameters, fitted values and residuals from the estimator.
void finish(const Matrix& design, const std::vector<double>& y, LinearFit& fit) {
  fit.parameters = apply(fit.estimator, y);
  fit.fitted = apply(design, fit.parameters);
  fit.residuals.resize(y.size());
  for (size_t i = 0; i < y.size(); ++i) fit.residuals[i] = y[i] - fit.fitted[i];
  fit.dof = design.rows() - design.cols();
}

void finish_chi2(LinearFit& fit) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  fit.reduced_chi2 = fit.dof > 0 ? fit.chi2 / fit.dof : nan;
  fit.p_value = fit.dof > 0 ? chi2_survival(fit.chi2, fit.dof) : nan;
}

}  // namespace

Matrix inverse_spd(const Matrix& m) {
  const Matrix l = cholesky_factor(m);
  const int n = m.rows();
  // Solve L·L^T·X = I column by column.
  Matrix inv(n, n);
  std::vector<double> z(n);
  for (int c = 0; c < n; ++c) {
    for (int i = 0; i < n; ++i) {
      double s = (i == c) ? 1.0 : 0.0;
      for (int k = 0; k < i; ++k) s -= l(i, k) * z[k];
      z[i] = s / l(i, i);
    }
    for (int i = n - 1; i >= 0; --i) {
      double s = z[i];
      for (int k = i + 1; k < n; ++k) s -= l(k, i) * inv(k, c);
      inv(i, c) = s / l(i, i);
    }
  }
  // Symmetrise against rounding.
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < i; ++j) inv(i, j) = inv(j, i) = 0.5 * (inv(i, j) + inv(j, i));
  return inv;
}

LinearFit weighted_linear_fit(const Matrix& design, const std::vector<double>& y,
                              const std::vector<double>& sigma) {
  check_shapes(design, y.size());
  if (sigma.size() != y.size()) throw std::invalid_argument("weighted fit: sigma size mismatch");
  const int n = design.rows();
  const int p = design.cols();
  Matrix weighted_design_t(p, n);  // X^T W
  for (int i = 0; i < n; ++i) {
    if (!(sigma[i] > 0.0) || !std::isfinite(sigma[i]))
      throw std::invalid_argument("weighted fit: non-positive error");
    const double w = 1.0 / (sigma[i] * sigma[i]);
    for (int j = 0; j < p; ++j) weighted_design_t(j, i) = design(i, j) * w;
  }
  LinearFit fit;
  fit.covariance = inverse_spd(weighted_design_t * design);
  fit.estimator = fit.covariance * weighted_design_t;
  finish(design, y, fit);
  fit.pulls.resize(n);
  fit.chi2 = 0.0;
  for (int i = 0; i < n; ++i) {
    fit.pulls[i] = fit.residuals[i] / sigma[i];
    fit.chi2 += fit.pulls[i] * fit.pulls[i];
  }
  finish_chi2(fit);
  return fit;
}

LinearFit generalized_linear_fit(const Matrix& design, const std::vector<double>& y,
                                 const Matrix& data_covariance) {
  check_shapes(design, y.size());
  const int n = design.rows();
  if (data_covariance.rows() != n || data_covariance.cols() != n)
    throw std::invalid_argument("generalized fit: covariance shape mismatch");
  const Matrix precision = inverse_spd(data_covariance);
  const Matrix weighted_design_t = design.transpose() * precision;  // X^T V^-1
  LinearFit fit;
  fit.covariance = inverse_spd(weighted_design_t * design);
  fit.estimator = fit.covariance * weighted_design_t;
  finish(design, y, fit);
  const std::vector<double> whitened = apply(precision, fit.residuals);
  fit.chi2 = 0.0;
  fit.pulls.resize(n);
  for (int i = 0; i < n; ++i) {
    fit.chi2 += fit.residuals[i] * whitened[i];
    fit.pulls[i] = fit.residuals[i] / std::sqrt(data_covariance(i, i));
  }
  finish_chi2(fit);
  return fit;
}

LinearFit unweighted_linear_fit(const Matrix& design, const std::vector<double>& y) {
  LinearFit fit = weighted_linear_fit(design, y, std::vector<double>(y.size(), 1.0));
  if (fit.dof < 1) throw std::invalid_argument("unweighted fit: needs at least one dof");
  const double scale2 = fit.chi2 / fit.dof;
  const double scale = std::sqrt(scale2);
  for (int i = 0; i < fit.covariance.rows(); ++i)
    for (int j = 0; j < fit.covariance.cols(); ++j) fit.covariance(i, j) *= scale2;
  for (double& pull : fit.pulls) pull = scale > 0.0 ? pull / scale : 0.0;
  fit.chi2 = scale > 0.0 ? static_cast<double>(fit.dof) : 0.0;
  fit.reduced_chi2 = scale > 0.0 ? 1.0 : 0.0;
  fit.p_value = std::numeric_limits<double>::quiet_NaN();
  return fit;
}

Matrix straight_line_design(const std::vector<double>& x) {
  Matrix design(static_cast<int>(x.size()), 2);
  for (size_t i = 0; i < x.size(); ++i) {
    design(static_cast<int>(i), 0) = 1.0;
    design(static_cast<int>(i), 1) = x[i];
  }
  return design;
}

double regularized_gamma_q(double a, double x) {
  if (!(a > 0.0) || !(x >= 0.0)) throw std::invalid_argument("regularized_gamma_q: bad argument");
  if (x == 0.0) return 1.0;
  const double log_prefactor = a * std::log(x) - x - std::lgamma(a);
  constexpr int kMaxIterations = 1000;
  constexpr double kEps = 1e-15;
  if (x < a + 1.0) {
    // Series for the lower function P(a, x) = x^a e^-x / Gamma(a+1) * sum x^k / (a+1)...(a+k).
    double term = 1.0 / a;
    double sum = term;
    for (int k = 1; k < kMaxIterations; ++k) {
      term *= x / (a + k);
      sum += term;
      if (std::abs(term) < std::abs(sum) * kEps) break;
    }
    const double p = sum * std::exp(log_prefactor);
    return p >= 1.0 ? 0.0 : 1.0 - p;
  }
  // Continued fraction for Q(a, x) (modified Lentz evaluation).
  constexpr double kTiny = 1e-300;
  double b = x + 1.0 - a;
  double c = 1.0 / kTiny;
  double d = 1.0 / b;
  double h = d;
  for (int i = 1; i < kMaxIterations; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::abs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1.0) < kEps) break;
  }
  return std::exp(log_prefactor) * h;
}

double chi2_survival(double chi2, int dof) {
  if (dof < 1) return std::numeric_limits<double>::quiet_NaN();
  return regularized_gamma_q(0.5 * dof, 0.5 * std::max(chi2, 0.0));
}

}  // namespace vitrify::analysis
