#pragma once
// Linear least squares for the small fits of the analysis layer (a handful of parameters, at
// most a few hundred data points): weighted (independent errors), generalised (full data
// covariance) and unweighted with the scale estimated from the residuals. Also the chi-square
// survival function used for goodness-of-fit p-values.
//
// Conventions: the model is y = X·beta, X is the design matrix (one row per data point, one
// column per parameter). Errors are one standard deviation. A fit with dof = 0 has
// reduced_chi2 and p_value set to NaN (the caller reports them as null).
#include <cstddef>
#include <vector>

namespace vitrify::analysis {

// Dense row-major matrix of doubles, sized for the small systems of the fits.
class Matrix {
 public:
  Matrix() = default;
  Matrix(int rows, int cols, double fill = 0.0);
  static Matrix identity(int n);
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  double& operator()(int r, int c) { return data_[static_cast<size_t>(r) * cols_ + c]; }
  double operator()(int r, int c) const { return data_[static_cast<size_t>(r) * cols_ + c]; }
  Matrix transpose() const;

 private:
  int rows_ = 0;
  int cols_ = 0;
  std::vector<double> data_;
};

// Matrix product a·b; throws std::invalid_argument on a shape mismatch.
Matrix operator*(const Matrix& a, const Matrix& b);

// Inverse of a symmetric positive-definite matrix through its Cholesky factor. Throws
// std::invalid_argument when the matrix is not numerically positive definite.
Matrix inverse_spd(const Matrix& m);

// Result of a linear least-squares fit.
struct LinearFit {
  std::vector<double> parameters;  // beta
  Matrix covariance;               // covariance of beta (formal, from the data errors)
  Matrix estimator;                // E with beta = E·y: propagates correlated data errors
  std::vector<double> fitted;      // X·beta at each data point
  std::vector<double> residuals;   // y - X·beta
  std::vector<double> pulls;       // residual / (its data error); unweighted fits: / scale
  double chi2 = 0.0;               // sum of squared (whitened) residuals
  int dof = 0;                     // data points minus parameters
  double reduced_chi2 = 0.0;       // chi2 / dof (NaN when dof = 0)
  double p_value = 0.0;            // P(chi2' >= chi2) for dof degrees of freedom (NaN if dof = 0)
};

// Weighted least squares with independent errors sigma (all > 0). Throws std::invalid_argument
// when there are fewer points than parameters or X^T W X is singular.
LinearFit weighted_linear_fit(const Matrix& design, const std::vector<double>& y,
                              const std::vector<double>& sigma);

// Generalised least squares with the full data covariance (symmetric positive definite).
LinearFit generalized_linear_fit(const Matrix& design, const std::vector<double>& y,
                                 const Matrix& data_covariance);

// Unit-weight least squares for data without errors: the parameter covariance is scaled by the
// residual variance s^2 = RSS/dof (needs dof >= 1); chi2 = RSS/s^2 = dof and p_value is NaN
// (there is no independent error to test against).
LinearFit unweighted_linear_fit(const Matrix& design, const std::vector<double>& y);

// Design matrix of the straight line y = b0 + b1·x.
Matrix straight_line_design(const std::vector<double>& x);

// Regularised upper incomplete gamma function Q(a, x) = Gamma(a, x)/Gamma(a), a > 0, x >= 0.
double regularized_gamma_q(double a, double x);

// Probability that a chi-square variable with dof degrees of freedom exceeds chi2.
double chi2_survival(double chi2, int dof);

}  // namespace vitrify::analysis
