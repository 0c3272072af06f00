#pragma once
// Pair forces, per-particle energies and virials from the full neighbour list, templated on
// the model's pair evaluator. One thread (or loop iteration) per particle, no atomics: every
// pair is evaluated from both ends, so the result does not depend on the thread schedule.
#include "kernels/batch.hpp"

namespace vitrify::kernels {

template <class Model>
struct ComputeForces {
  BatchView b;
  Model model;
  VT_HD void operator()(int gid) const {
    const int r = gid / b.n;
    const Box box = b.replica_box(r);
    const real xi = b.x[gid], yi = b.y[gid];
    const real zi = Model::dimension == 3 ? b.z[gid] : real(0);
    const int ti = b.type[gid];
    real fx = 0, fy = 0, fz = 0, u = 0, w = 0;
    const int count = b.nbr_count[gid];
    for (int k = 0; k < count; ++k) {
      const int gj = b.nbr_list[b.nbr_index(gid, k)];
      real dx = xi - b.x[gj], dy = yi - b.y[gj];
      real dz = Model::dimension == 3 ? zi - b.z[gj] : real(0);
      box.min_image(dx, dy, dz);
      const real r2 = dx * dx + dy * dy + dz * dz;
      real fscal, e;
      if (model.evaluate(r2, ti, b.type[gj], fscal, e)) {
        fx += fscal * dx;
        fy += fscal * dy;
        fz += fscal * dz;
        u += e;
        w += fscal * r2;
      }
    }
    b.fx[gid] = fx;
    b.fy[gid] = fy;
    if (Model::dimension == 3) b.fz[gid] = fz;
    b.u_i[gid] = u;
    b.w_i[gid] = real(0.5) * w;
  }
};

}  // namespace vitrify::kernels
