#pragma once
// One floating-point type for positions, velocities and forces on every backend.
// float by default (what the GPU runs); configure with -DVITRIFY_DOUBLE=ON for double.
// Accumulators (energies, virials, concentrations, ISF sums) are always double.
namespace vitrify {
#if defined(VITRIFY_DOUBLE)
using real = double;
#else
using real = float;
#endif
}  // namespace vitrify
