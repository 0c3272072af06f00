#pragma once
// Quasi-species classification: the number of neighbours of each particle inside the model's
// species radius (binary3d: r <= rc(type_i,type_j); hump2d: r < 1.32), counted from the Verlet
// list, which holds every pair inside the interaction cutoff + skin and thus every species
// neighbour (the species radius never exceeds the interaction cutoff). The rule itself
// belongs to the model (Model::is_species_neighbor); this loop is the same for every model.
#include "kernels/batch.hpp"
#include "kernels/forces.hpp"  // kHalfChunks

namespace vitrify::kernels {

template <class Model>
struct CountSpeciesNeighbors {
  BatchView b;
  Model model;
  int* n_neighbors;  // output, R*N
  VT_HD void operator()(int gid) const {
    const int r = gid / b.n;
    const Box box = b.replica_box(r);
    const real xi = b.x[gid], yi = b.y[gid];
    const real zi = Model::dimension == 3 ? b.z[gid] : real(0);
    const int ti = b.type[gid];
    int count = 0;
    const int m = b.nbr_count[gid];
    for (int k = 0; k < m; ++k) {
      const int gj = b.nbr_list[b.nbr_index(gid, k)];
      real dx = xi - b.x[gj], dy = yi - b.y[gj];
      real dz = Model::dimension == 3 ? zi - b.z[gj] : real(0);
      box.min_image(dx, dy, dz);
      if (model.is_species_neighbor(dx * dx + dy * dy + dz * dz, ti, b.type[gj])) ++count;
    }
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
    const int n = b.n;
    const int r = idx / kHalfChunks, c = idx - r * kHalfChunks;
    const int lo = static_cast<int>(static_cast<long>(c) * n / kHalfChunks);
    const int hi = static_cast<int>(static_cast<long>(c + 1) * n / kHalfChunks);
    int* a = acc + static_cast<long>(idx) * n;
    for (int k = 0; k < n; ++k) a[k] = 0;
    const Box box = b.replica_box(r);
    const int base = r * n;
    for (int i = lo; i < hi; ++i) {
      const int gid = base + i;
      const real xi = b.x[gid], yi = b.y[gid];
      const real zi = Model::dimension == 3 ? b.z[gid] : real(0);
      const int ti = b.type[gid];
      const int m = b.nbr_count[gid];
      for (int k = 0; k < m; ++k) {
        const int gj = b.nbr_list[b.nbr_index(gid, k)];
        real dx = xi - b.x[gj], dy = yi - b.y[gj];
        real dz = Model::dimension == 3 ? zi - b.z[gj] : real(0);
        box.min_image(dx, dy, dz);
        if (model.is_species_neighbor(dx * dx + dy * dy + dz * dz, ti, b.type[gj])) {
          ++a[i];
          ++a[gj - base];
        }
      }
    }
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

}  // namespace vitrify::kernels
