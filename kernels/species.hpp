#pragma once
// Quasi-species classification: the number of neighbours of each particle inside the model's
// species radius (binary3d: r <= rc(type_i,type_j); hump2d: r < 1.32), counted from the Verlet
// list, which holds every pair inside the interaction cutoff + skin and thus every species
// neighbour (the species radius never exceeds the interaction cutoff). The rule itself
// belongs to the model (Model::is_species_neighbor); this loop is the same for every model.
#include "kernels/batch.hpp"
#include "kernels/forces.hpp"  // kHalfChunks

namespace vitrify::kernels {

// Whether particles gid and gj (same replica) are quasi-species neighbours.
template <class Model>
VT_HD inline bool is_species_pair(const BatchView& b, const Model& model, int gid, int gj) {
  real dx = b.x[gid] - b.x[gj], dy = b.y[gid] - b.y[gj];
  real dz = Model::dimension == 3 ? b.z[gid] - b.z[gj] : real(0);
  b.replica_box(gid / b.n).min_image(dx, dy, dz);
  return model.is_species_neighbor(dx * dx + dy * dy + dz * dz, b.type[gid], b.type[gj]);
}

template <class Model>
struct CountSpeciesNeighbors {
  BatchView b;
  Model model;
  int* n_neighbors;  // output, R*N
  VT_HD void operator()(int gid) const {
    int count = 0;
    const int m = b.nbr_count[gid];
    for (int k = 0; k < m; ++k)
      if (is_species_pair(b, model, gid, b.nbr_list[b.nbr_index(gid, k)])) ++count;
    n_neighbors[gid] = count;
  }
};

// The same count from half lists (every pair once; see BuildNeighbors): work item idx =
// replica * kHalfChunks + range, each range counting both ends of its particles' pairs into
// its own N counters (acc, R * kHalfChunks * N ints, overwritten); SumHalfSpeciesCounts adds
// the ranges per particle. Integer sums: identical to the full-list count.
template <class Model>
struct CountSpeciesNeighborsHalf {
  BatchView b;
  Model model;
  int* acc;
  VT_HD void operator()(int idx) const {
    const HalfRange h = half_range(b, idx);
    int* a = acc + static_cast<long>(idx) * b.n;
    for (int k = 0; k < b.n; ++k) a[k] = 0;
    for (int i = h.lo; i < h.hi; ++i) {
      const int gid = h.base + i;
      const int m = b.nbr_count[gid];
      for (int k = 0; k < m; ++k) {
        const int gj = b.nbr_list[b.nbr_index(gid, k)];
        if (is_species_pair(b, model, gid, gj)) {
          ++a[i];
          ++a[gj - h.base];
        }
      }
    }
  }
};

// Bound energy of a particle: sum of U(r_ij) over its quasi-species neighbours j only (the
// neighbours that define its species; the paper's per-species energy E_i, not halved), as
// against u_i of the force kernels, the sum over every partner inside the interaction cutoff.
// Whether gj is a species neighbour of gid, and if so the pair energy in e.
template <class Model>
VT_HD inline bool bound_pair_energy(const BatchView& b, const Model& model, int gid, int gj,
                                    real& e) {
  real dx = b.x[gid] - b.x[gj], dy = b.y[gid] - b.y[gj];
  real dz = Model::dimension == 3 ? b.z[gid] - b.z[gj] : real(0);
  b.replica_box(gid / b.n).min_image(dx, dy, dz);
  const real r2 = dx * dx + dy * dy + dz * dz;
  const int ti = b.type[gid], tj = b.type[gj];
  real fscal;
  return model.is_species_neighbor(r2, ti, tj) && model.evaluate(r2, ti, tj, fscal, e);
}

// Full lists: one work item per particle.
template <class Model>
struct BoundEnergies {
  BatchView b;
  Model model;
  real* u_bound;  // output, R*N
  VT_HD void operator()(int gid) const {
    real u = 0;
    const int m = b.nbr_count[gid];
    for (int k = 0; k < m; ++k) {
      real e;
      if (bound_pair_energy(b, model, gid, b.nbr_list[b.nbr_index(gid, k)], e)) u += e;
    }
    u_bound[gid] = u;
  }
};

// Half lists, as CountSpeciesNeighborsHalf: each range adds both ends of its particles' pairs
// into its own N sums (acc, R * kHalfChunks * N reals, overwritten); SumHalfBoundEnergies adds
// the ranges per particle in range order (the result does not depend on the thread count).
template <class Model>
struct BoundEnergiesHalf {
  BatchView b;
  Model model;
  real* acc;
  VT_HD void operator()(int idx) const {
    const HalfRange h = half_range(b, idx);
    real* a = acc + static_cast<long>(idx) * b.n;
    for (int k = 0; k < b.n; ++k) a[k] = real(0);
    for (int i = h.lo; i < h.hi; ++i) {
      const int gid = h.base + i;
      const int m = b.nbr_count[gid];
      real u = 0;
      for (int k = 0; k < m; ++k) {
        const int gj = b.nbr_list[b.nbr_index(gid, k)];
        real e;
        if (bound_pair_energy(b, model, gid, gj, e)) {
          u += e;
          a[gj - h.base] += e;
        }
      }
      a[i] += u;
    }
  }
};

struct SumHalfBoundEnergies {
  BatchView b;
  const real* acc;
  real* u_bound;  // output, R*N
  VT_HD void operator()(int gid) const {
    const int n = b.n;
    const int r = gid / n, i = gid - r * n;
    real sum = 0;
    for (int c = 0; c < kHalfChunks; ++c)
      sum += acc[(static_cast<long>(r) * kHalfChunks + c) * n + i];
    u_bound[gid] = sum;
  }
};

struct SumHalfSpeciesCounts {
  BatchView b;
  const int* acc;
  int* n_neighbors;  // output, R*N
  VT_HD void operator()(int gid) const {
    const int n = b.n;
    const int r = gid / n, i = gid - r * n;
    int sum = 0;
    for (int c = 0; c < kHalfChunks; ++c)
      sum += acc[(static_cast<long>(r) * kHalfChunks + c) * n + i];
    n_neighbors[gid] = sum;
  }
};

// Per-replica species summary of the current configuration: particles and energy sums per
// (type, n) bin, bin = type * max_n + min(n, max_n - 1), in a fixed order (no atomics), so that
// only R * bins numbers leave the device per sample instead of three per-particle arrays.
// SpeciesBinsPartial: work item = replica * kSpeciesChunks + chunk sums its particle range (in
// index order) into its own row of partials; SpeciesBinsCombine: work item = replica * bins +
// bin adds the chunks in chunk order. Sums per bin: u_i, u_i^2, bound, bound^2 (double).
constexpr int kSpeciesChunks = 8;
constexpr int kSpeciesSums = 4;

struct SpeciesBinsPartial {
  const int* type;
  const int* n_neighbors;
  const real* u_i;
  const real* u_bound;
  int n, max_n, bins;
  int* count;     // R * kSpeciesChunks * bins
  double* sums;   // R * kSpeciesChunks * bins * kSpeciesSums
  int* overflow;  // R * kSpeciesChunks: particles with n >= max_n (counted in the last bin)
  VT_HD void operator()(int idx) const {
    const int r = idx / kSpeciesChunks, c = idx % kSpeciesChunks;
    int* cnt = count + static_cast<long>(idx) * bins;
    double* s = sums + static_cast<long>(idx) * bins * kSpeciesSums;
    for (int k = 0; k < bins; ++k) cnt[k] = 0;
    for (int k = 0; k < bins * kSpeciesSums; ++k) s[k] = 0.0;
    int over = 0;
    const int lo = static_cast<int>(static_cast<long>(n) * c / kSpeciesChunks);
    const int hi = static_cast<int>(static_cast<long>(n) * (c + 1) / kSpeciesChunks);
    for (int i = lo; i < hi; ++i) {
      const long g = static_cast<long>(r) * n + i;
      int nn = n_neighbors[g];
      if (nn >= max_n) {
        nn = max_n - 1;
        ++over;
      }
      const int bin = type[g] * max_n + nn;
      ++cnt[bin];
      const double u = u_i[g], ub = u_bound[g];
      double* sb = s + bin * kSpeciesSums;
      sb[0] += u;
      sb[1] += u * u;
      sb[2] += ub;
      sb[3] += ub * ub;
    }
    overflow[idx] = over;
  }
};

struct SpeciesBinsCombine {
  const int* count_part;
  const double* sums_part;
  const int* overflow_part;
  int bins;
  int* count;     // R * bins
  double* sums;   // R * bins * kSpeciesSums
  int* overflow;  // R
  VT_HD void operator()(int idx) const {
    const int r = idx / bins, bin = idx % bins;
    int cnt = 0;
    double acc[kSpeciesSums] = {0.0, 0.0, 0.0, 0.0};
    for (int c = 0; c < kSpeciesChunks; ++c) {
      const long p = (static_cast<long>(r) * kSpeciesChunks + c) * bins + bin;
      cnt += count_part[p];
      for (int q = 0; q < kSpeciesSums; ++q) acc[q] += sums_part[p * kSpeciesSums + q];
    }
    count[idx] = cnt;
    for (int q = 0; q < kSpeciesSums; ++q) sums[static_cast<long>(idx) * kSpeciesSums + q] = acc[q];
    if (bin == 0) {
      int over = 0;
      for (int c = 0; c < kSpeciesChunks; ++c) over += overflow_part[r * kSpeciesChunks + c];
      overflow[r] = over;
    }
  }
};

}  // namespace vitrify::kernels
