#pragma once
// Cell lists and Verlet neighbour lists, as kernel bodies shared by every backend.
//
// A replica's list holds every j with r_ij < rc(type_i,type_j) + skin at the build. It stays
// valid while no pair can have come inside its cutoff: with d the largest displacement of a
// particle since the build, measured from its affinely rescaled build position (NPT box
// scaling by s = L/L_build), and rc_max the largest cutoff, a pair distance is at least
// s*(rc+skin) - 2d. The replica is therefore rebuilt when 2d >= s*(rc_max+skin) - rc_max, which
// is the usual d >= skin/2 when the box did not change.
//
// Build sequence (each kernel returns at once for replicas whose rebuild flag is 0):
//   SetupCells (per replica) -> ResetCells (per cell slot) -> AssignCells (per particle)
//   -> SortCells (per cell slot; makes the cell contents, hence the neighbour order and the
//   force summation order, deterministic) -> BuildNeighbors (per particle) -> SaveBuildState
//   (per particle) -> FinishRebuild (per replica).
#include "kernels/atomics.hpp"
#include "kernels/batch.hpp"

namespace vitrify::kernels {

// Squared displacement of particle gid from its affinely rescaled build position.
VT_HD inline real build_displacement2(const BatchView& b, int gid) {
  const int r = gid / b.n;
  const Box box = b.replica_box(r);
  const real s = box.L[0] / b.box_last[3 * r];
  real dx = b.x[gid] - s * b.x_last[gid];
  real dy = b.y[gid] - s * b.y_last[gid];
  real dz = b.dim == 3 ? b.z[gid] - s * b.z_last[gid] : real(0);
  box.min_image(dx, dy, dz);
  return dx * dx + dy * dy + dz * dz;
}

// Whether a largest displacement d2 (squared) since the build asks for a rebuild of replica r.
VT_HD inline bool needs_rebuild(const BatchView& b, int r, real d2, real rc_max, real skin) {
  const real s = b.box[3 * r] / b.box_last[3 * r];
  const real allowed = real(0.5) * (s * (rc_max + skin) - rc_max);
  return allowed <= real(0) || d2 >= allowed * allowed;
}

// Raises the rebuild flag of a replica when one of its particles moved too far.
struct DisplacementCheck {
  BatchView b;
  real rc_max, skin;
  VT_HD void operator()(int gid) const {
    const int r = gid / b.n;
    if (b.rebuild[r]) return;
    if (needs_rebuild(b, r, build_displacement2(b, gid), rc_max, skin))
      atomic_or_int(&b.rebuild[r], 1);
  }
};

// Cells are at least list_radius / kCellReach wide and the neighbour search scans
// kCellReach cells in every direction: with reach 2 the scanned volume is (5/2)^d list radii
// instead of 3^d, about half the candidate pairs of one-radius cells in 3D.
constexpr int kCellReach = 2;

// Chooses the cell grid of a replica: cells at least list_radius / kCellReach wide, at most
// cell_dims_cap per axis.
struct SetupCells {
  BatchView b;
  real list_radius;   // rc_max + skin
  int cell_dims_cap;  // cells per axis that fit in max_cells
  VT_HD void operator()(int r) const {
    if (!b.rebuild[r]) return;
    const real cell_min = list_radius / real(kCellReach);
    int total = 1;
    for (int a = 0; a < 3; ++a) {
      int nc = 1;
      if (a < b.dim) {
        const real len = b.box[3 * r + a];
        if (len < real(2) * list_radius) atomic_or_int(&b.overflow[r], kBoxTooSmall);
        nc = static_cast<int>(len / cell_min);
        if (nc < 1) nc = 1;
        if (nc > cell_dims_cap) nc = cell_dims_cap;
      }
      b.cell_dims[3 * r + a] = nc;
      total *= nc;
    }
    if (total > b.max_cells) atomic_or_int(&b.overflow[r], kCellOverflow);
  }
};

// True when the CPU builds replica r's half list from cell-sorted copies (periodic shifts on
// every axis; see BuildHalfNeighborsSorted). The kernels of the slot-based build below skip
// such replicas when their skip_sorted member (BuildNeighbors: half) is set (CPU); the GPU
// leaves it false.
VT_HD inline bool uses_sorted_build(const BatchView& b, int r) {
  for (int a = 0; a < b.dim; ++a)
    if (b.cell_dims[3 * r + a] < 2 * kCellReach + 1) return false;
  return true;
}

struct ResetCells {
  BatchView b;
  bool skip_sorted = false;
  VT_HD void operator()(int idx) const {
    const int r = idx / b.max_cells;
    if (b.rebuild[r] && !(skip_sorted && uses_sorted_build(b, r))) b.cell_count[idx] = 0;
  }
};

VT_HD inline int cell_coord(real x, real len, int nc) {
  int c = static_cast<int>(x / len * real(nc));
  if (c < 0) c = 0;
  if (c >= nc) c = nc - 1;
  return c;
}

struct AssignCells {
  BatchView b;
  bool skip_sorted = false;
  VT_HD void operator()(int gid) const {
    const int r = gid / b.n;
    if (!b.rebuild[r] || (skip_sorted && uses_sorted_build(b, r))) return;
    const int* nc = &b.cell_dims[3 * r];
    const real* L = &b.box[3 * r];
    const int cx = cell_coord(b.x[gid], L[0], nc[0]);
    const int cy = cell_coord(b.y[gid], L[1], nc[1]);
    const int cz = b.dim == 3 ? cell_coord(b.z[gid], L[2], nc[2]) : 0;
    const int c = (cz * nc[1] + cy) * nc[0] + cx;
    if (c >= b.max_cells) return;  // SetupCells raised kCellOverflow already
    const long slot_base = static_cast<long>(r) * b.max_cells + c;
    const int slot = atomic_add_int(&b.cell_count[slot_base], 1);
    if (slot < b.cell_capacity)
      b.cell_list[slot_base * b.cell_capacity + slot] = gid - r * b.n;
    else
      atomic_or_int(&b.overflow[r], kCellOverflow);
  }
};

// Insertion sort of one cell's particle indices (cells hold a handful of particles).
struct SortCells {
  BatchView b;
  bool skip_sorted = false;
  VT_HD void operator()(int idx) const {
    const int r = idx / b.max_cells;
    if (!b.rebuild[r] || (skip_sorted && uses_sorted_build(b, r))) return;
    int count = b.cell_count[idx];
    if (count > b.cell_capacity) count = b.cell_capacity;
    int* list = &b.cell_list[static_cast<long>(idx) * b.cell_capacity];
    for (int a = 1; a < count; ++a) {
      const int v = list[a];
      int k = a - 1;
      while (k >= 0 && list[k] > v) {
        list[k + 1] = list[k];
        --k;
      }
      list[k + 1] = v;
    }
  }
};

// gap2[a][o + kCellReach]: squared distance from the point pos to the nearest point of the
// cells at offset o from its own cell c_self on axis a (0 for o = 0 and on axes without
// periodic shifts), less a margin for the rounding of cell_coord.
VT_HD inline void cell_gaps(const Box& box, const int* nc, const int* c_self, const real* pos,
                            const bool* shifted, real gap2[3][2 * kCellReach + 1]) {
  for (int a = 0; a < 3; ++a)
    for (int o = -kCellReach; o <= kCellReach; ++o) {
      real g = 0;
      if (shifted[a] && o != 0) {
        const real w = box.L[a] / real(nc[a]);
        g = o > 0 ? real(c_self[a] + o) * w - pos[a] : pos[a] - real(c_self[a] + o + 1) * w;
        g -= real(1e-4) * w;
        if (g < 0) g = 0;
      }
      gap2[a][o + kCellReach] = g * g;
    }
}

// The largest list radius (squared) of a particle of type ti.
template <int MaxTypes>
VT_HD inline real largest_cut2(const real (&list_cut2)[MaxTypes][MaxTypes], int ti) {
  real m = 0;
  for (int t = 0; t < MaxTypes; ++t) m = m > list_cut2[ti][t] ? m : list_cut2[ti][t];
  return m;
}

// Builds the neighbour list of particle gid from the (2*kCellReach+1)^d surrounding cells.
// list_cut2[ti][tj] = (rc_ij + skin)^2. When an axis has enough cells the periodic image of
// each scanned cell is known, so candidates are shifted by whole box lengths instead of a
// minimum-image test per pair; axes with fewer cells scan every cell once with the
// minimum-image convention. On shifted axes a scanned cell is skipped when its nearest point
// is farther from i than i's largest list radius (a particle near a cell's side has no
// partner in the far cells beyond the opposite side): about a third of the cells in 3D.
//
// half == false: the full list (every j of every i; what the GPU force kernel reads).
// half == true (CPU): every pair once, for the pair-once force kernel, for the replicas that
// BuildHalfNeighborsSorted does not build (fewer than 2*kCellReach+1 cells on some axis): the
// pair is kept by i when (i < j) equals ((i + j) odd), so by exactly one end, and each
// particle keeps about half its neighbours.
template <int MaxTypes>
struct BuildNeighbors {
  BatchView b;
  real list_cut2[MaxTypes][MaxTypes];
  bool half;
  VT_HD void operator()(int gid) const { apply(b, list_cut2, half, gid); }
  // The body on a view and radii held elsewhere (the block kernel's).
  VT_HD static void apply(const BatchView& b, const real (&list_cut2)[MaxTypes][MaxTypes],
                          bool half, int gid) {
    const int r = gid / b.n;
    if (!b.rebuild[r] || (half && uses_sorted_build(b, r))) return;
    const int i = gid - r * b.n;
    const Box box = b.replica_box(r);
    const int* nc = &b.cell_dims[3 * r];
    const real xi = b.x[gid], yi = b.y[gid], zi = b.dim == 3 ? b.z[gid] : real(0);
    const int ti = b.type[gid];
    const int c_self[3] = {cell_coord(xi, box.L[0], nc[0]), cell_coord(yi, box.L[1], nc[1]),
                           b.dim == 3 ? cell_coord(zi, box.L[2], nc[2]) : 0};
    // Per axis: scanned offsets, and whether periodic shifts replace the minimum image.
    int lo[3], hi[3];
    bool shifted[3];
    for (int a = 0; a < 3; ++a) {
      shifted[a] = nc[a] >= 2 * kCellReach + 1;
      lo[a] = shifted[a] ? -kCellReach : 0;
      hi[a] = shifted[a] ? kCellReach : nc[a] - 1;
    }
    const bool all_shifted = shifted[0] && shifted[1] && (b.dim == 2 || shifted[2]);
    real gap2[3][2 * kCellReach + 1];
    const real pos[3] = {xi, yi, zi};
    cell_gaps(box, nc, c_self, pos, shifted, gap2);
    const real reach2 = largest_cut2<MaxTypes>(list_cut2, ti);
    int count = 0;
    const int base = r * b.n;
    for (int oz = lo[2]; oz <= hi[2]; ++oz) {
      int zc = oz;
      real sz = 0;
      if (shifted[2]) {
        zc = c_self[2] + oz;
        if (zc < 0)
          zc += nc[2], sz = -box.L[2];
        else if (zc >= nc[2])
          zc -= nc[2], sz = box.L[2];
      }
      const real gz2 = shifted[2] ? gap2[2][oz + kCellReach] : real(0);
      for (int oy = lo[1]; oy <= hi[1]; ++oy) {
        const real gyz2 = gz2 + (shifted[1] ? gap2[1][oy + kCellReach] : real(0));
        if (gyz2 >= reach2) continue;
        int yc = oy;
        real sy = 0;
        if (shifted[1]) {
          yc = c_self[1] + oy;
          if (yc < 0)
            yc += nc[1], sy = -box.L[1];
          else if (yc >= nc[1])
            yc -= nc[1], sy = box.L[1];
        }
        for (int ox = lo[0]; ox <= hi[0]; ++ox) {
          if (shifted[0] && gyz2 + gap2[0][ox + kCellReach] >= reach2) continue;
          int xc = ox;
          real sx = 0;
          if (shifted[0]) {
            xc = c_self[0] + ox;
            if (xc < 0)
              xc += nc[0], sx = -box.L[0];
            else if (xc >= nc[0])
              xc -= nc[0], sx = box.L[0];
          }
          const long cell = static_cast<long>(r) * b.max_cells + (zc * nc[1] + yc) * nc[0] + xc;
          int occ = b.cell_count[cell];
          if (occ > b.cell_capacity) occ = b.cell_capacity;
          const int* members = &b.cell_list[cell * b.cell_capacity];
          for (int m = 0; m < occ; ++m) {
            const int j = members[m];
            if (j == i) continue;
            if (half && (i < j) != (((i + j) & 1) != 0)) continue;
            const int gj = base + j;
            real dx = xi - (b.x[gj] + sx), dy = yi - (b.y[gj] + sy);
            real dz = b.dim == 3 ? zi - (b.z[gj] + sz) : real(0);
            if (!all_shifted) box.min_image(dx, dy, dz);
            const real r2 = dx * dx + dy * dy + dz * dz;
            if (r2 < list_cut2[ti][b.type[gj]]) {
              if (count < b.max_neighbors) b.nbr_list[b.nbr_index(gid, count)] = gj;
              ++count;
            }
          }
        }
      }
    }
    if (count > b.max_neighbors) {
      atomic_or_int(&b.overflow[r], kNeighborOverflow);
      count = b.max_neighbors;
    }
    b.nbr_count[gid] = count;
  }
};

// ---- CPU half-list build from cell-sorted copies -------------------------------------------
// On the CPU, with periodic shifts on every axis, the half lists are built from copies of the
// positions sorted by cell (x fastest): the cells of one row of the stencil are then one
// contiguous run of the copy, scanned in a single loop, instead of up to 63 separate cells of
// about one particle each. The pairs found, and their order in each list (row by row, then
// cell by cell, then by index within a cell) are fixed by the data. A particle scans only the
// cell offsets after (0,0,0) in (z,y,x) order and, in its own cell, the particles after it
// (index order within a cell): a pair at cell offset d is found from exactly one end, since
// exactly one of d and -d is after (0,0,0), and each particle keeps about half its
// neighbours. Replicas with fewer than 2*kCellReach+1 cells on an axis use BuildNeighbors.

struct SortedCells {
  int* cell_start;  // R * (max_cells + 1): first sorted slot of each cell, then the end
  int* rank;        // R * N: sorted slot of each particle
  real *x, *y, *z;  // R * N sorted copies
  int* type;        // R * N
  int* gid;         // R * N: global index of the particle in each sorted slot
};

// Per replica: counting sort of the particles into the cell grid chosen by SetupCells, in
// index order within each cell. Uses b.cell_count as the running cursor.
struct SortIntoCells {
  BatchView b;
  SortedCells sc;
  VT_HD void operator()(int r) const {
    if (!b.rebuild[r] || !uses_sorted_build(b, r)) return;
    const int* nc = &b.cell_dims[3 * r];
    const real* L = &b.box[3 * r];
    const int ncell = nc[0] * nc[1] * nc[2];
    if (ncell > b.max_cells) return;  // SetupCells raised kCellOverflow already
    int* start = sc.cell_start + static_cast<long>(r) * (b.max_cells + 1);
    int* cursor = b.cell_count + static_cast<long>(r) * b.max_cells;
    const int base = r * b.n;
    for (int c = 0; c < ncell; ++c) cursor[c] = 0;
    for (int i = 0; i < b.n; ++i) {
      const int g = base + i;
      const int cz = b.dim == 3 ? cell_coord(b.z[g], L[2], nc[2]) : 0;
      const int c =
          (cz * nc[1] + cell_coord(b.y[g], L[1], nc[1])) * nc[0] + cell_coord(b.x[g], L[0], nc[0]);
      sc.rank[g] = c;  // the cell for now; the slot below
      ++cursor[c];
    }
    int sum = 0;
    for (int c = 0; c < ncell; ++c) {
      start[c] = sum;
      sum += cursor[c];
      cursor[c] = start[c];
    }
    start[ncell] = sum;
    for (int i = 0; i < b.n; ++i) {
      const int g = base + i;
      const int slot = cursor[sc.rank[g]]++;
      const long q = base + slot;
      sc.rank[g] = slot;
      sc.x[q] = b.x[g];
      sc.y[q] = b.y[g];
      if (b.dim == 3) sc.z[q] = b.z[g];
      sc.type[q] = b.type[g];
      sc.gid[q] = g;
    }
  }
};

template <int MaxTypes>
struct BuildHalfNeighborsSorted {
  BatchView b;
  SortedCells sc;
  real list_cut2[MaxTypes][MaxTypes];
  VT_HD void operator()(int gid) const {
    const int r = gid / b.n;
    if (!b.rebuild[r] || !uses_sorted_build(b, r)) return;
    const int* nc = &b.cell_dims[3 * r];
    if (nc[0] * nc[1] * nc[2] > b.max_cells) return;
    const Box box = b.replica_box(r);
    const int base = r * b.n;
    const int* start = sc.cell_start + static_cast<long>(r) * (b.max_cells + 1);
    const real xi = b.x[gid], yi = b.y[gid], zi = b.dim == 3 ? b.z[gid] : real(0);
    const int ti = b.type[gid];
    const real pos[3] = {xi, yi, zi};
    int c_self[3];
    bool periodic[3];
    for (int a = 0; a < 3; ++a) {
      c_self[a] = a < b.dim ? cell_coord(pos[a], box.L[a], nc[a]) : 0;
      periodic[a] = a < b.dim;
    }
    real gap2[3][2 * kCellReach + 1];
    cell_gaps(box, nc, c_self, pos, periodic, gap2);
    const real reach2 = largest_cut2<MaxTypes>(list_cut2, ti);
    const int own_slot = sc.rank[gid];
    int count = 0;
    const int oz_hi = b.dim == 3 ? kCellReach : 0;
    for (int oz = 0; oz <= oz_hi; ++oz) {
      int zc = c_self[2] + oz;
      real sz = 0;
      if (zc >= nc[2]) zc -= nc[2], sz = box.L[2];
      const real gz2 = gap2[2][oz + kCellReach];
      for (int oy = oz == 0 ? 0 : -kCellReach; oy <= kCellReach; ++oy) {
        const real gyz2 = gz2 + gap2[1][oy + kCellReach];
        if (gyz2 >= reach2) continue;
        int yc = c_self[1] + oy;
        real sy = 0;
        if (yc < 0)
          yc += nc[1], sy = -box.L[1];
        else if (yc >= nc[1])
          yc -= nc[1], sy = box.L[1];
        const bool own_row = oz == 0 && oy == 0;
        int ox_lo = own_row ? 0 : -kCellReach, ox_hi = kCellReach;
        while (ox_lo < 0 && gyz2 + gap2[0][ox_lo + kCellReach] >= reach2) ++ox_lo;
        while (ox_hi > 0 && gyz2 + gap2[0][ox_hi + kCellReach] >= reach2) --ox_hi;
        const int row = (zc * nc[1] + yc) * nc[0];
        // Up to three runs of consecutive cells: before x = 0 (shifted by -L), inside, and
        // past the last cell (shifted by +L); each is one contiguous range of the copy.
        for (int part = 0; part < 3; ++part) {
          int a = c_self[0] + ox_lo, e = c_self[0] + ox_hi;
          real sx = 0;
          if (part == 0) {
            if (a >= 0) continue;
            e = e < 0 ? e : -1;
            a += nc[0], e += nc[0], sx = -box.L[0];
          } else if (part == 1) {
            a = a < 0 ? 0 : a;
            e = e >= nc[0] ? nc[0] - 1 : e;
            if (a > e) continue;
          } else {
            if (e < nc[0]) continue;
            a = a >= nc[0] ? a : nc[0];
            a -= nc[0], e -= nc[0], sx = box.L[0];
          }
          int q = start[row + a];
          const int q_end = start[row + e + 1];
          if (own_row && part == 1) q = own_slot + 1;  // own cell: only the slots after i
          // Without a branch on the distance (about one candidate in four is kept): every
          // candidate is written to the next free entry, which only a kept one claims. Past
          // the capacity the writes go to the last entry; the list is then rebuilt anyway.
          for (; q < q_end; ++q) {
            const real dx = xi - (sc.x[base + q] + sx), dy = yi - (sc.y[base + q] + sy);
            const real dz = b.dim == 3 ? zi - (sc.z[base + q] + sz) : real(0);
            const real r2 = dx * dx + dy * dy + dz * dz;
            const int slot = count < b.max_neighbors ? count : b.max_neighbors - 1;
            b.nbr_list[b.nbr_index(gid, slot)] = sc.gid[base + q];
            count += r2 < list_cut2[ti][sc.type[base + q]] ? 1 : 0;
          }
        }
      }
    }
    if (count > b.max_neighbors) {
      atomic_or_int(&b.overflow[r], kNeighborOverflow);
      count = b.max_neighbors;
    }
    b.nbr_count[gid] = count;
  }
};

struct SaveBuildState {
  BatchView b;
  VT_HD void operator()(int gid) const {
    const int r = gid / b.n;
    if (!b.rebuild[r]) return;
    b.x_last[gid] = b.x[gid];
    b.y_last[gid] = b.y[gid];
    if (b.dim == 3) b.z_last[gid] = b.z[gid];
  }
};

struct FinishRebuild {
  BatchView b;
  int* rebuild_count;  // R counters of builds (diagnostics)
  VT_HD void operator()(int r) const {
    if (!b.rebuild[r]) return;
    for (int a = 0; a < 3; ++a) b.box_last[3 * r + a] = b.box[3 * r + a];
    rebuild_count[r] += 1;
    b.rebuild[r] = 0;
  }
};

}  // namespace vitrify::kernels
