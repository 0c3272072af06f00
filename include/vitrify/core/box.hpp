#pragma once
// Orthogonal periodic box in 2 or 3 dimensions, centred at the origin's corner:
// wrapped coordinates lie in [0, L) along every periodic axis. In 2D the z axis is
// ignored (positions keep z = 0). Minimum-image convention for pair separations.
#include <math.h>

#include "vitrify/core/hostdevice.hpp"
#include "vitrify/core/real.hpp"

namespace vitrify {

struct Box {
  real L[3];  // edge lengths (sigma); L[2] unused in 2D
  int dim;    // 2 or 3

  VT_HD real volume() const { return dim == 3 ? L[0] * L[1] * L[2] : L[0] * L[1]; }

  // Minimum-image separation along one axis.
  VT_HD static real min_image_1d(real d, real len) {
    const real half = real(0.5) * len;
    if (d > half)
      d -= len * floor((d + half) / len);
    else if (d < -half)
      d += len * floor((half - d) / len);
    return d;
  }

  VT_HD void min_image(real& dx, real& dy, real& dz) const {
    dx = min_image_1d(dx, L[0]);
    dy = min_image_1d(dy, L[1]);
    if (dim == 3)
      dz = min_image_1d(dz, L[2]);
    else
      dz = real(0);
  }

  // Wrap one coordinate into [0, len); returns the number of box lengths removed
  // (added to the particle's image counter so that x + image*L stays continuous).
  VT_HD static int wrap_1d(real& x, real len) {
    int shift = 0;
    if (x >= len || x < real(0)) {
      const real n = floor(x / len);
      x -= n * len;
      shift = static_cast<int>(n);
      if (x >= len) {  // rounding at the upper edge
        x -= len;
        shift += 1;
      }
      if (x < real(0)) x = real(0);
    }
    return shift;
  }
};

}  // namespace vitrify
