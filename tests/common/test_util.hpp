#pragma once
// Helpers shared by the engine tests (the brute-force references: reference_models.hpp).
#include <cmath>
#include <vector>

#include "vitrify/core/box.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/exec_cpu.hpp"

namespace vitrify::test_util {

// The CPU policy with the GPU's full lists and per-particle force kernel: a reference for the
// CPU backend's half lists, and for the device code path bit for bit (half lists change the
// force summation order, hence the rounding).
struct FullListCpuExec : CpuExec {
  static constexpr bool half_lists = false;
};

// Squared minimum-image distance between particles gi and gj of replica r, in double.
inline double distance2(const BatchState& s, int r, long gi, long gj) {
  double d2 = 0;
  const real* p[3] = {s.x.data(), s.y.data(), s.z.data()};
  for (int a = 0; a < s.dim; ++a) {
    const double len = s.box[3 * r + a];
    double d = double(p[a][gi]) - double(p[a][gj]);
    d -= len * std::round(d / len);
    d2 += d * d;
  }
  return d2;
}

}  // namespace vitrify::test_util
