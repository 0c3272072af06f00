#pragma once
// Pair forces, per-particle energies and virials, templated on the model's pair evaluator.
//
// ComputeForces (every backend that keeps full lists, the GPU's): one thread per particle over
// its full neighbour list, no atomics: every pair is evaluated from both ends, so the result
// does not depend on the thread schedule.
//
// ComputeForcesHalf + ReduceHalfForces (the CPU's, with half lists: every pair once): the
// particles of a replica are cut into kHalfChunks fixed index ranges; the work item of one
// range evaluates each pair of its particles' lists once and adds the result to both ends in
// the range's own accumulation arrays, then one pass per particle sums the ranges' arrays in
// range order. The summation order is fixed by the data alone, so results do not depend on
// the number of threads either; they differ from the full-list kernel's only by rounding.
#include "kernels/batch.hpp"

namespace vitrify::kernels {

template <class Model>
struct ComputeForces {
  BatchView b;
  Model model;
  VT_HD void operator()(int gid) const { apply(b, model, gid); }
  // The body on a view and a model held elsewhere (the block kernel's: no copy of the model's
  // tables into the device's local memory).
  VT_HD static void apply(const BatchView& b, const Model& model, int gid) {
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

// Fixed number of accumulation ranges per replica for the half-list kernels (not the thread
// count, which must not change results). Work items are R * kHalfChunks.
constexpr int kHalfChunks = 4;
// Accumulator record per particle and range: fx, fy, (fz,) u, w, padded so that a record
// never straddles a cache line: 4 reals in 2D, 8 in 3D.
template <int Dim>
struct HalfRecord {
  static constexpr int fz = Dim == 3 ? 2 : -1, u = Dim == 3 ? 3 : 2, w = Dim == 3 ? 4 : 3;
  static constexpr int stride = Dim == 3 ? 8 : 4;
};

// The particle range [lo, hi) of replica r handled by half-list work item idx.
struct HalfRange {
  int r, lo, hi, base;  // base = r * N, the global index of the replica's particle 0
};
VT_HD inline HalfRange half_range(const BatchView& b, int idx) {
  const int r = idx / kHalfChunks, c = idx - r * kHalfChunks;
  return {r, static_cast<int>(static_cast<long>(c) * b.n / kHalfChunks),
          static_cast<int>(static_cast<long>(c + 1) * b.n / kHalfChunks), r * b.n};
}

// Work item idx = replica * kHalfChunks + range. acc holds, per work item, N records of
// HalfRecord<dim>::stride reals (R * kHalfChunks * N * stride in all), overwritten here.
template <class Model>
struct ComputeForcesHalf {
  BatchView b;
  Model model;
  real* acc;
  VT_HD void operator()(int idx) const {
    using Rec = HalfRecord<Model::dimension>;
    const HalfRange h = half_range(b, idx);
    const int base = h.base;
    real* a = acc + static_cast<long>(idx) * Rec::stride * b.n;
    for (long k = 0; k < static_cast<long>(Rec::stride) * b.n; ++k) a[k] = real(0);
    const Box box = b.replica_box(h.r);
    for (int i = h.lo; i < h.hi; ++i) {
      const int gid = base + i;
      const real xi = b.x[gid], yi = b.y[gid];
      const real zi = Model::dimension == 3 ? b.z[gid] : real(0);
      const int ti = b.type[gid];
      real fx = 0, fy = 0, fz = 0, u = 0, w = 0;
      const int count = b.nbr_count[gid];
      const int* list = &b.nbr_list[b.nbr_index(gid, 0)];
      // In batches: first the separations of the listed pairs, keeping those inside the
      // cutoff without a branch (a list also holds the pairs in the skin, ~40 % in 3D, and a
      // branch on that is unpredictable), then the pair forces of the kept ones.
      constexpr int kBatch = 32;
      int keep_j[kBatch], keep_t[kBatch];
      real keep_dx[kBatch], keep_dy[kBatch], keep_dz[kBatch], keep_r2[kBatch];
      for (int k0 = 0; k0 < count; k0 += kBatch) {
        const int k1 = count - k0 < kBatch ? count : k0 + kBatch;
        int kept = 0;
        for (int k = k0; k < k1; ++k) {
          const int gj = list[k * b.nbr_stride_k];
          const int tj = b.type[gj];
          real dx = xi - b.x[gj], dy = yi - b.y[gj];
          real dz = Model::dimension == 3 ? zi - b.z[gj] : real(0);
          box.min_image(dx, dy, dz);
          const real r2 = dx * dx + dy * dy + dz * dz;
          keep_j[kept] = gj - base;
          keep_t[kept] = tj;
          keep_dx[kept] = dx;
          keep_dy[kept] = dy;
          keep_dz[kept] = dz;
          keep_r2[kept] = r2;
          kept += r2 <= model.cutoff2(ti, tj) ? 1 : 0;
        }
        for (int m = 0; m < kept; ++m) {
          real fscal, e;
          if (!model.evaluate(keep_r2[m], ti, keep_t[m], fscal, e)) continue;
          const real dx = keep_dx[m], dy = keep_dy[m], dz = keep_dz[m];
          real* aj = a + static_cast<long>(keep_j[m]) * Rec::stride;
          const real px = fscal * dx, py = fscal * dy, pz = fscal * dz;
          const real half_w = real(0.5) * fscal * keep_r2[m];
          fx += px;
          fy += py;
          fz += pz;
          u += e;
          w += half_w;
          aj[0] -= px;
          aj[1] -= py;
          if (Model::dimension == 3) aj[Rec::fz] -= pz;
          aj[Rec::u] += e;
          aj[Rec::w] += half_w;
        }
      }
      real* ai = a + static_cast<long>(i) * Rec::stride;
      ai[0] += fx;
      ai[1] += fy;
      if (Model::dimension == 3) ai[Rec::fz] += fz;
      ai[Rec::u] += u;
      ai[Rec::w] += w;
    }
  }
};

// Per particle: the ranges' records summed in range order into fx, fy, fz, u_i, w_i.
template <int Dim>
struct ReduceHalfForces {
  BatchView b;
  const real* acc;
  VT_HD void operator()(int gid) const {
    using Rec = HalfRecord<Dim>;
    const int n = b.n;
    const int r = gid / n, i = gid - r * n;
    real sum[Rec::stride] = {};
    for (int c = 0; c < kHalfChunks; ++c) {
      const real* a =
          acc + ((static_cast<long>(r) * kHalfChunks + c) * n + i) * static_cast<long>(Rec::stride);
      for (int q = 0; q < Rec::stride; ++q) sum[q] += a[q];
    }
    b.fx[gid] = sum[0];
    b.fy[gid] = sum[1];
    if (Dim == 3) b.fz[gid] = sum[Rec::fz];
    b.u_i[gid] = sum[Rec::u];
    b.w_i[gid] = sum[Rec::w];
  }
};

}  // namespace vitrify::kernels
