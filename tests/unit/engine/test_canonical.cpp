// The stochastic ensemble components (CSVR thermostat, c-rescale barostat) and their random
// numbers (kernels/random.hpp): the Philox draws and the variates made from them, the
// components' exact stationary distributions on chains where they act alone, canonical kinetic
// energies and NPT volume fluctuations of the engine on every execution path, and
// determinism (same start, same trajectory; save and load in the middle; a replica's numbers
// do not depend on its batch).
//
// Kolmogorov-Smirnov tests: D = sup |F_n - F| of n samples against the exact CDF; the
// samples are taken far enough apart to be nearly independent, and D sqrt(n) is compared
// with 1.95, the asymptotic critical value for a false-rejection probability of 0.001
// (sqrt(-ln(0.0005)/2)). The figures printed are the measured ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/ensemble.hpp"
#include "kernels/random.hpp"
#include "tests/common/execution_paths.hpp"
#include "tests/common/reference_models.hpp"
#include "tests/common/test_util.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/exec_cpu.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/models/all.hpp"

using namespace vitrify;
using kernels::PhiloxStream;

namespace {

constexpr double kKsCritical = 1.95;  // D sqrt(n) at a false-rejection probability of 0.001

// Regularised lower incomplete gamma function P(a, x): the CDF of a Gamma(a, 1) variate.
// Series for x < a + 1, Lentz's continued fraction for the complement otherwise.
double gamma_p(double a, double x) {
  if (x <= 0) return 0.0;
  const double log_prefactor = -x + a * std::log(x) - std::lgamma(a);
  if (x < a + 1) {
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 100000; ++n) {
      term *= x / (a + n);
      sum += term;
      if (std::fabs(term) < 1e-16 * std::fabs(sum)) break;
    }
    return sum * std::exp(log_prefactor);
  }
  const double tiny = 1e-300;
  double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-16) break;
  }
  return 1.0 - std::exp(log_prefactor) * h;
}

// Kolmogorov-Smirnov statistic of the samples against the CDF `cdf`.
template <class Cdf>
double ks_statistic(std::vector<double> x, Cdf cdf) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double d = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double f = cdf(x[i]);
    d = std::max({d, (i + 1) / n - f, f - i / n});
  }
  return d;
}

double mean_of(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / v.size();
}

double variance_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / (v.size() - 1);
}

// Standard error of the mean from `blocks` contiguous blocks.
double block_error(const std::vector<double>& v, int blocks = 20) {
  const std::size_t len = v.size() / blocks;
  std::vector<double> m;
  for (int b = 0; b < blocks; ++b)
    m.push_back(std::accumulate(v.begin() + b * len, v.begin() + (b + 1) * len, 0.0) / len);
  return std::sqrt(variance_of(m) / blocks);
}

// Lattice replicas of `Model` at density rho and temperature t (n particles per replica).
template <class Model>
BatchState lattice_batch(int replicas, int n, double rho, double t, std::uint64_t seed) {
  const ModelInfo m = Model::info();
  BatchState s;
  s.resize(replicas, n, m.dimension);
  for (int r = 0; r < s.n_replicas; ++r)
    make_lattice_replica(s, r, m, rho, t, replica_seed(seed, r));
  return s;
}

// A kernel body that fills, for every replica id, the words and variates of one stream.
struct DrawKernel {
  unsigned long long seed;
  unsigned long long step;
  int per;  // values per index
  uint32_t* words;
  double* variates;
  VT_HD void operator()(int i) const {
    PhiloxStream rng(seed, static_cast<uint32_t>(i), step, kernels::kStreamTest);
    for (int k = 0; k < per; ++k) words[i * per + k] = rng.next_u32();
    variates[i * 3 + 0] = rng.uniform();
    variates[i * 3 + 1] = rng.normal();
    variates[i * 3 + 2] = rng.gamma(2.5 + i % 7);
  }
};

template <class Exec>
void draw_with(Exec& exec, int n, std::vector<uint32_t>& words, std::vector<double>& variates) {
  typename Exec::template Buffer<uint32_t> w;
  typename Exec::template Buffer<double> v;
  Exec::allocate(w, static_cast<std::size_t>(n) * 9);
  Exec::allocate(v, static_cast<std::size_t>(n) * 3);
  exec.launch(n, DrawKernel{0x123456789abcdefULL, 77, 9, Exec::ptr(w), Exec::ptr(v)});
  Exec::download(words, w);
  Exec::download(variates, v);
}

}  // namespace

// Random123's published known-answer vectors for Philox4x32-10, and the keying: the seed, the
// replica, the step and the stream each change every word; the same inputs give the same words.
TEST(Philox, KnownAnswersAndKeying) {
  r123::Philox4x32 philox;
  const r123::Philox4x32::ctr_type c0 = {{0, 0, 0, 0}};
  const r123::Philox4x32::key_type k0 = {{0, 0}};
  const auto a = philox(c0, k0);
  EXPECT_EQ(a[0], 0x6627e8d5u);
  EXPECT_EQ(a[1], 0xe169c58du);
  EXPECT_EQ(a[2], 0xbc57ac4cu);
  EXPECT_EQ(a[3], 0x9b00dbd8u);
  const r123::Philox4x32::ctr_type c1 = {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}};
  const r123::Philox4x32::key_type k1 = {{0xa4093822u, 0x299f31d0u}};
  const auto b = philox(c1, k1);
  EXPECT_EQ(b[0], 0xd16cfe09u);
  EXPECT_EQ(b[1], 0x94fdccebu);
  EXPECT_EQ(b[2], 0x5001e420u);
  EXPECT_EQ(b[3], 0x24126ea1u);

  auto words = [](unsigned long long seed, uint32_t replica, unsigned long long step,
                  uint32_t stream) {
    PhiloxStream rng(seed, replica, step, stream);
    std::vector<uint32_t> w;
    for (int k = 0; k < 12; ++k) w.push_back(rng.next_u32());  // three blocks
    return w;
  };
  const auto ref = words(1, 3, 1000, 1);
  EXPECT_EQ(ref, words(1, 3, 1000, 1));
  for (const auto& other :
       {words(2, 3, 1000, 1), words(1ULL << 40 | 1, 3, 1000, 1), words(1, 4, 1000, 1),
        words(1, 3, 1001, 1), words(1, 3, 1000 + (1ULL << 32), 1), words(1, 3, 1000, 2)})
    for (int k = 0; k < 12; ++k) EXPECT_NE(ref[k], other[k]) << "word " << k;
  // The blocks of one stream differ from each other.
  EXPECT_NE(std::vector<uint32_t>(ref.begin(), ref.begin() + 4),
            std::vector<uint32_t>(ref.begin() + 4, ref.begin() + 8));
}

// Uniform, normal and gamma variates (shapes below and above 1, and the CSVR's large ones)
// against their exact CDFs, with their means.
TEST(Philox, VariatesHaveTheirDistributions) {
  const int n = 20000;
  std::vector<double> u, z;
  for (int i = 0; i < n / 2; ++i) {
    PhiloxStream rng(9, static_cast<uint32_t>(i), 5, kernels::kStreamTest);
    u.push_back(rng.uniform());
    u.push_back(rng.uniform());
    z.push_back(rng.normal());
    z.push_back(rng.normal());
  }
  for (double x : u) ASSERT_TRUE(x > 0 && x < 1);
  const double du = ks_statistic(u, [](double x) { return x; });
  const double dz = ks_statistic(z, [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); });
  std::printf("[ info ] n = %d: uniform D sqrt(n) = %.3f, normal D sqrt(n) = %.3f\n", n,
              du * std::sqrt(n), dz * std::sqrt(n));
  EXPECT_LT(du * std::sqrt(n), kKsCritical);
  EXPECT_LT(dz * std::sqrt(n), kKsCritical);
  EXPECT_NEAR(mean_of(z), 0.0, 4 / std::sqrt(n));
  EXPECT_NEAR(variance_of(z), 1.0, 4 * std::sqrt(2.0 / n));
  for (double a : {0.5, 1.0, 1.5, 94.0}) {
    std::vector<double> g;
    for (int i = 0; i < n; ++i) {
      PhiloxStream rng(11, static_cast<uint32_t>(i), 0, kernels::kStreamTest);
      g.push_back(rng.gamma(a));
    }
    const double d = ks_statistic(g, [a](double x) { return gamma_p(a, x); });
    std::printf("[ info ] Gamma(%.1f): D sqrt(n) = %.3f, mean %.4f (exact %.1f)\n", a,
                d * std::sqrt(n), mean_of(g), a);
    EXPECT_LT(d * std::sqrt(n), kKsCritical) << "shape " << a;
    EXPECT_NEAR(mean_of(g), a, 4 * std::sqrt(a / n)) << "shape " << a;
  }
}

// The same kernel body launched through the CPU policy and through the device-path policy
// (HostDevicePathExec, the code path the CUDA backend runs) draws the same words and the same
// variates, bit for bit, as a plain loop on the host.
TEST(Philox, SameDrawsOnTheCpuAndDevicePathPolicies) {
  const int n = 1000;
  std::vector<uint32_t> w_cpu, w_dev;
  std::vector<double> v_cpu, v_dev;
  CpuExec cpu;
  test_paths::HostDevicePathExec dev;
  draw_with(cpu, n, w_cpu, v_cpu);
  draw_with(dev, n, w_dev, v_dev);
  std::vector<uint32_t> w_ref(static_cast<std::size_t>(n) * 9);
  std::vector<double> v_ref(static_cast<std::size_t>(n) * 3);
  const DrawKernel serial{0x123456789abcdefULL, 77, 9, w_ref.data(), v_ref.data()};
  for (int i = 0; i < n; ++i) serial(i);
  EXPECT_EQ(w_cpu, w_ref);
  EXPECT_EQ(w_dev, w_ref);
  EXPECT_EQ(v_cpu, v_ref);
  EXPECT_EQ(v_dev, v_ref);
}

// The CSVR propagator on its own (a system whose kinetic energy nothing else changes, as in an
// ideal gas): K <- lambda^2 K step after step. Its stationary distribution is exactly the
// canonical Gamma(N_f/2, scale T), for any coupling; samples every 40 steps at tau_T = 4 dt
// (correlation e^-10). N_f = 2 and 3 exercise the gamma variate's small shapes (the sum of
// N_f - 1 squares has shape 1/2 and 1), 189 is 64 particles in 3D.
TEST(CanonicalKernels, CsvrPropagatorSamplesTheGammaDistribution) {
  const int ids[1] = {12};
  for (const double dof : {2.0, 3.0, 189.0}) {
    double counter = 0;
    const kernels::Thermostat th{1, ThermostatKind::kCsvr, real(0.02), &counter, 1, {7, ids}};
    const double t0 = 1.3;
    kernels::StepTotals s{};
    s.dof = dof;
    s.dim = 3;
    s.kinetic = 5 * dof;  // far from equilibrium
    std::vector<double> k;
    const int n = 20000;
    for (int step = 0; step < 40 * (n + 10); ++step) {
      s.temperature = 2 * s.kinetic / dof;
      const double lambda = th.velocity_scale(s, t0, real(0.005));
      s.kinetic *= lambda * lambda;
      if (step >= 400 && step % 40 == 0) k.push_back(s.kinetic);
    }
    EXPECT_EQ(counter, 40.0 * (n + 10));  // one draw per step
    const double d = ks_statistic(k, [&](double x) { return gamma_p(dof / 2, x / t0); });
    const double mean = mean_of(k), exact = dof * t0 / 2;
    const double err = std::sqrt(dof / 2) * t0 / std::sqrt(double(k.size()));
    std::printf(
        "[ info ] CSVR alone, N_f = %.0f, n = %zu: D sqrt(n) = %.3f, <K> = %.4f +- %.4f "
        "(exact %.4f), var K = %.4f (exact %.4f)\n",
        dof, k.size(), d * std::sqrt(double(k.size())), mean, err, exact, variance_of(k),
        dof / 2 * t0 * t0);
    EXPECT_LT(d * std::sqrt(double(k.size())), kKsCritical) << "N_f = " << dof;
    EXPECT_NEAR(mean, exact, 4 * err) << "N_f = " << dof;
  }
}

// c-rescale with CSVR on an ideal gas of M particles in 3D, where nothing but the two
// components acts: p = 2K/(3V), box scaling divides K by mu^2. The NPT distribution of the
// volume is then exactly Gamma(M + 1, scale T/p0) (density V^M exp(-p0 V/T)): mean
// (M + 1) T/p0 and variance T <V> kappa_T with kappa_T = 1/p0. With M = 20 the form matters:
// without the -T/(2V) term of the lambda = sqrt(V) equation the volume would be Gamma(M + 1/2)
// (<V> 2.4 % lower), and an Ito (Euler-Maruyama) step of the ln V equation with its T/V term
// would sample Gamma(M + 2) (4.8 % higher). Euler-Maruyama steps of dt/tau_p = 1/250 at B = p0 (the
// true bulk modulus of the gas near <V>); samples every 1000 steps (4 relaxation times of the
// volume).
TEST(CanonicalKernels, CRescaleSamplesTheIdealGasVolumeDistribution) {
  const int ids[1] = {3};
  double th_counter = 0, ba_counter = 0;
  const double t0 = 1.0, p0 = 2.0, m_particles = 20, dim = 3;
  const real dt(0.004), tau_p(1.0);
  const kernels::Thermostat th{1, ThermostatKind::kCsvr, real(0.01), &th_counter, 1, {5, ids}};
  const kernels::Barostat ba{1, BarostatKind::kCRescale, tau_p, real(p0), &ba_counter, 1, {5, ids}};
  EXPECT_TRUE(ba.scales_velocities());
  kernels::StepTotals s{};
  s.dof = dim * m_particles;
  s.dim = 3;
  s.kinetic = 1.5 * m_particles * t0;
  s.volume = 3 * (m_particles + 1) * t0 / p0;
  std::vector<double> v;
  const int n = 4000, every = 1000;
  for (long step = 0; step < long(every) * (n + 5); ++step) {
    s.temperature = 2 * s.kinetic / s.dof;
    s.pressure = 2 * s.kinetic / (dim * s.volume);
    const double lambda = th.velocity_scale(s, t0, dt);
    const double mu = ba.length_scale(s, p0, t0, dt);
    s.kinetic *= lambda * lambda;
    // the next step: box and positions scaled by mu, velocities by 1/mu
    s.volume *= mu * mu * mu;
    s.kinetic /= mu * mu;
    if (step >= 5 * every && step % every == 0) v.push_back(s.volume);
  }
  const double a = m_particles + 1, scale = t0 / p0;
  const double d = ks_statistic(v, [&](double x) { return gamma_p(a, x / scale); });
  const double mean = mean_of(v), var = variance_of(v);
  const double err = std::sqrt(a) * scale / std::sqrt(double(n));
  const double var_err = var * std::sqrt(2.0 / n);
  std::printf(
      "[ info ] c-rescale ideal gas, M = %.0f, n = %d: D sqrt(n) = %.3f, <V> = %.4f +- "
      "%.4f (exact %.4f; Gamma(M + 1/2) %.4f, Gamma(M + 2) %.4f), <dV^2> = %.4f +- %.4f, "
      "T <V> kappa_T = %.4f\n",
      m_particles, n, d * std::sqrt(double(n)), mean, err, a * scale, (a - 0.5) * scale,
      (a + 1) * scale, var, var_err, t0 * mean / p0);
  EXPECT_LT(d * std::sqrt(double(n)), kKsCritical);
  EXPECT_NEAR(mean, a * scale, 4 * err);
  EXPECT_NEAR(var, t0 * mean / p0, 4 * var_err);
}

// ---- the engine on every execution path -----------------------------------------------------

class Canonical : public test_paths::PathTest {};
INSTANTIATE_TEST_SUITE_P(Paths, Canonical, test_paths::path_cases(), test_paths::CaseName{});

namespace {

// The statistical tests run on the paths whose trajectories are their own: the CPU backend
// (half lists) and CUDA. cpu_full and device_path_on_cpu run the same arithmetic bit for bit
// (Models/DevicePathOnCpu.StochasticComponentsDrawTheSameNumbers) and differ from cpu only in
// the order of the force sums, so their samples would repeat the cpu path's test at its cost.
template <class Path>
bool statistics_path() {
  return std::string(Path::name) == "cpu" || std::string(Path::name) == "cuda";
}

// binary3d NVT, 8 replicas of N = 64 at rho = 0.74 and T = 1, tau_T = 0.05 (10 steps); after
// 1000 steps, kinetic energies every 60 steps (the total energy, which K follows, relaxes in
// about tau_T C_v/C_v,kin, 2-3 tau_T). Returns the samples.
template <class C>
std::vector<double> kinetic_samples(ThermostatKind kind, int samples_per_replica, int* dof) {
  using Model = Binary3d;
  const int replicas = 8, n = 64;
  BatchState s = lattice_batch<Model>(replicas, n, 0.74, 1.0, 21);
  EngineSettings es;
  es.ensemble = Ensemble::kNVT;
  es.thermostat = kind;
  es.thermostat_tau = 0.05;
  es.seed = 4;
  auto e = C::template make_engine<Model>(es);
  const std::vector<double> t(replicas, 1.0);
  e->set_targets(t, t, std::vector<double>(replicas, 1.0));
  e->set_state(s);
  e->run(1000);
  std::vector<double> k, obs;
  for (int i = 0; i < samples_per_replica; ++i) {
    e->run(60);
    e->observables(obs);
    for (int r = 0; r < replicas; ++r) k.push_back(obs[r * kObsCount + kObsKinetic]);
  }
  *dof = 3 * (n - 1);
  return k;
}

}  // namespace

// The kinetic energy of an interacting liquid under CSVR follows the canonical Gamma(N_f/2,
// scale T) distribution, N_f = 3(N - 1), and its mean is N_f T/2 (within 4 standard errors).
TEST_P(Canonical, CsvrKineticEnergyIsCanonical) {
  visit([&](auto c) {
    using C = decltype(c);
    if (!statistics_path<typename C::Path>())
      GTEST_SKIP() << "statistics on the cpu and cuda paths (see statistics_path)";
    int dof = 0;
    const std::vector<double> k = kinetic_samples<C>(ThermostatKind::kCsvr, 120, &dof);
    const double n = double(k.size()), t0 = 1.0;
    const double d = ks_statistic(k, [&](double x) { return gamma_p(dof / 2.0, x / t0); });
    const double err = std::sqrt(variance_of(k) / n);
    std::printf(
        "[ info ] %s: CSVR binary3d N_f = %d, n = %.0f: D sqrt(n) = %.3f, <K> = %.3f +- "
        "%.3f (N_f T/2 = %.3f), var K = %.2f (N_f T^2/2 = %.2f)\n",
        C::name().c_str(), dof, n, d * std::sqrt(n), mean_of(k), err, dof * t0 / 2, variance_of(k),
        dof * t0 * t0 / 2);
    EXPECT_LT(d * std::sqrt(n), kKsCritical);
    EXPECT_NEAR(mean_of(k), dof * t0 / 2, 4 * err);
  });
}

// The same test has the power to reject a non-canonical thermostat: Berendsen's kinetic
// energies (same system, same coupling time) are far too narrow.
TEST(CanonicalControl, BerendsenKineticEnergyFailsTheSameTest) {
  int dof = 0;
  const std::vector<double> k = kinetic_samples<test_paths::PathCase<test_paths::CpuPath>>(
      ThermostatKind::kBerendsen, 40, &dof);
  const double n = double(k.size());
  const double d = ks_statistic(k, [&](double x) { return gamma_p(dof / 2.0, x); });
  std::printf(
      "[ info ] Berendsen binary3d N_f = %d, n = %.0f: D sqrt(n) = %.3f, var K = %.2f "
      "(canonical %.2f)\n",
      dof, n, d * std::sqrt(n), variance_of(k), dof / 2.0);
  EXPECT_GT(d * std::sqrt(n), kKsCritical);
}

// NPT under CSVR and c-rescale: the volume fluctuations give the compressibility,
// <dV^2> = T <V> kappa_T, with kappa_T = -(1/<V>) d<V>/dp from the mean volumes at
// p0 -+ dp. binary3d, N = 64, T = 1, p0 = 10, dp = 2; 6 replicas per pressure, tau_p = 0.25
// at B = 33 (near the liquid's bulk modulus, so the volume relaxes in about tau_p), samples
// every 50 steps after 1000. <dV^2> is the mean over both pressures; errors from the
// replicas' spread. Agreement within 3.5 combined standard errors (the statistical precision
// of <dV^2> is about 10 %, of kappa_T 1 %).
TEST_P(Canonical, CRescaleVolumeFluctuationsMatchTheCompressibility) {
  visit([&](auto c) {
    using C = decltype(c);
    if (!statistics_path<typename C::Path>())
      GTEST_SKIP() << "statistics on the cpu and cuda paths (see statistics_path)";
    using Model = Binary3d;
    const int per = 6, replicas = 2 * per, n = 64, samples = 170;
    const double t0 = 1.0, p0 = 10.0, dp = 2.0;
    BatchState s = lattice_batch<Model>(replicas, n, 0.8, t0, 31);
    EngineSettings es;
    es.ensemble = Ensemble::kNPT;
    es.thermostat = ThermostatKind::kCsvr;
    es.barostat = BarostatKind::kCRescale;
    es.thermostat_tau = 0.1;
    es.barostat_tau = 0.25;
    es.bulk_modulus = 33;
    es.seed = 8;
    auto e = C::template make_engine<Model>(es);
    std::vector<double> p(replicas);
    for (int r = 0; r < replicas; ++r) p[r] = r < per ? p0 - dp : p0 + dp;
    const std::vector<double> t(replicas, t0);
    e->set_targets(t, t, p);
    e->set_state(s);
    e->run(1000);
    std::vector<std::vector<double>> v(replicas);
    std::vector<double> obs;
    for (int i = 0; i < samples; ++i) {
      e->run(50);
      e->observables(obs);
      for (int r = 0; r < replicas; ++r) v[r].push_back(obs[r * kObsCount + kObsVolume]);
    }
    // Per replica: mean and variance of V; then per pressure the mean and its error.
    std::vector<double> mean_lo, mean_hi, var_all;
    for (int r = 0; r < replicas; ++r) {
      (r < per ? mean_lo : mean_hi).push_back(mean_of(v[r]));
      var_all.push_back(variance_of(v[r]));
    }
    const double v_lo = mean_of(mean_lo), v_hi = mean_of(mean_hi);
    const double e_lo = std::sqrt(variance_of(mean_lo) / per);
    const double e_hi = std::sqrt(variance_of(mean_hi) / per);
    const double v_mid = 0.5 * (v_lo + v_hi);
    const double kappa = -(v_hi - v_lo) / (2 * dp) / v_mid;
    const double kappa_err = std::hypot(e_lo, e_hi) / (2 * dp) / v_mid;
    const double predicted = t0 * v_mid * kappa;
    const double predicted_err = t0 * v_mid * kappa_err;
    const double measured = mean_of(var_all);
    const double measured_err = std::sqrt(variance_of(var_all) / replicas);
    std::printf(
        "[ info ] %s: c-rescale binary3d N = %d: <V>(p = %.0f) = %.3f +- %.3f, "
        "<V>(p = %.0f) = %.3f +- %.3f, kappa_T = %.5f +- %.5f; <dV^2> = %.3f +- %.3f, "
        "T <V> kappa_T = %.3f +- %.3f\n",
        C::name().c_str(), n, p0 - dp, v_lo, e_lo, p0 + dp, v_hi, e_hi, kappa, kappa_err, measured,
        measured_err, predicted, predicted_err);
    EXPECT_GT(kappa, 0);
    EXPECT_NEAR(measured, predicted, 3.5 * std::hypot(measured_err, predicted_err));
  });
}

// Determinism of the stochastic components on every path: (1) two runs from the same start
// give bitwise the same state; (2) a run saved after 260 steps (inside the device path's first
// 500-step block) and continued by a fresh engine from the saved state equals the
// uninterrupted run bit for bit (the random numbers are keyed by the step the components keep
// in their saved state); (3) a replica draws its numbers by its scan-wide id, not by its place
// in the batch: replicas 1 and 2 run alone with ids {1, 2} equal the same replicas run next to
// replica 0.
TEST_P(Canonical, StochasticComponentsAreDeterministic) {
  visit([&](auto c) {
    using C = decltype(c);
    using Model = Binary3d;
    const BatchState start = lattice_batch<Model>(3, 128, 0.8, 1.5, 41);
    EngineSettings es;
    es.ensemble = Ensemble::kNPT;
    es.thermostat = ThermostatKind::kCsvr;
    es.barostat = BarostatKind::kCRescale;
    es.thermostat_tau = 0.1;
    es.barostat_tau = 0.5;
    es.bulk_modulus = 40;
    es.seed = 12;
    // The thermostat targets are t1 (runs use the end of their ramp).
    const std::vector<double> t0 = {1.5, 1.2, 1.0}, t1 = {1.0, 1.2, 0.8}, p = {10, 10, 12};
    auto fresh = [&](const BatchState& s) {
      auto e = C::template make_engine<Model>(es);
      e->set_targets(t0, t1, p);
      e->set_state(s);
      return e;
    };
    auto final_state = [](Engine& e) {
      BatchState s;
      e.get_state(s);
      std::vector<double> obs;
      e.observables(obs);
      return std::make_pair(s, obs);
    };
    auto a = fresh(start);
    a->run(660);
    const auto [sa, oa] = final_state(*a);
    auto b = fresh(start);
    b->run(660);
    const auto [sb, ob] = final_state(*b);
    EXPECT_EQ(sa.x, sb.x);
    EXPECT_EQ(sa.vz, sb.vz);
    EXPECT_EQ(sa.box, sb.box);
    EXPECT_EQ(oa, ob);
    EXPECT_NE(sa.box, start.box);  // the barostat moved the boxes

    // Interrupted at 260 steps.
    auto first = fresh(start);
    first->run(260);
    EngineCheckpoint saved;
    first->save_state(saved);
    ASSERT_TRUE(saved.arrays.count("thermostat_state"));
    ASSERT_TRUE(saved.arrays.count("barostat_state"));
    EXPECT_EQ(saved.arrays.at("thermostat_state").as<double>(),
              (std::vector<double>{260, 260, 260}));
    auto second = C::template make_engine<Model>(es);
    second->set_targets(t0, t1, p);
    second->load_state(saved);
    second->run(400);
    const auto [sc, oc] = final_state(*second);
    EXPECT_EQ(sa.x, sc.x);
    EXPECT_EQ(sa.y, sc.y);
    EXPECT_EQ(sa.z, sc.z);
    EXPECT_EQ(sa.vx, sc.vx);
    EXPECT_EQ(sa.vy, sc.vy);
    EXPECT_EQ(sa.vz, sc.vz);
    EXPECT_EQ(sa.box, sc.box);
    EXPECT_EQ(oa, oc);

    // Replicas 1 and 2 alone, with their ids.
    BatchState pair;
    pair.resize(2, start.n, start.dim);
    const std::size_t n = start.n;
    for (auto [dst, src] :
         {std::make_pair(&pair.x, &start.x), std::make_pair(&pair.y, &start.y),
          std::make_pair(&pair.z, &start.z), std::make_pair(&pair.vx, &start.vx),
          std::make_pair(&pair.vy, &start.vy), std::make_pair(&pair.vz, &start.vz)})
      std::copy(src->begin() + n, src->end(), dst->begin());
    std::copy(start.type.begin() + n, start.type.end(), pair.type.begin());
    std::copy(start.box.begin() + 3, start.box.end(), pair.box.begin());
    auto alone = C::template make_engine<Model>(es);
    alone->set_targets({t0[1], t0[2]}, {t1[1], t1[2]}, {p[1], p[2]});
    alone->set_state(pair);
    alone->set_replica_ids({1, 2});
    alone->run(660);
    const auto [sp, op] = final_state(*alone);
    EXPECT_TRUE(std::equal(sp.x.begin(), sp.x.end(), sa.x.begin() + n));
    EXPECT_TRUE(std::equal(sp.vy.begin(), sp.vy.end(), sa.vy.begin() + n));
    EXPECT_TRUE(std::equal(sp.box.begin(), sp.box.end(), sa.box.begin() + 3));
    EXPECT_TRUE(std::equal(op.begin(), op.end(), oa.begin() + kObsCount));
    // With the default ids (0, 1) the same replicas draw other numbers.
    auto renumbered = C::template make_engine<Model>(es);
    renumbered->set_targets({t0[1], t0[2]}, {t1[1], t1[2]}, {p[1], p[2]});
    renumbered->set_state(pair);
    renumbered->run(660);
    const auto [sr, or_] = final_state(*renumbered);
    EXPECT_FALSE(std::equal(sr.box.begin(), sr.box.end(), sa.box.begin() + 3));
  });
}
