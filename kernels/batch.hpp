#pragma once
// The replica batch as seen by kernel bodies: plain pointers into SoA arrays indexed by the
// global particle index gid = replica * N + i, plus per-replica arrays indexed by replica.
// Kernel bodies are functors with `VT_HD void operator()(int idx) const`, launched over
// n = R*N (per-particle), R (per-replica) or R*cells (per-cell) indices.
#include "vitrify/core/box.hpp"
#include "vitrify/core/hostdevice.hpp"
#include "vitrify/core/real.hpp"

namespace vitrify::kernels {

// Flag bits raised in BatchView::overflow[replica].
enum OverflowBits : int { kCellOverflow = 1, kNeighborOverflow = 2, kBoxTooSmall = 4 };

struct BatchView {
  int n_replicas;  // R
  int n;           // N particles per replica
  int dim;         // 2 or 3

  // Particle arrays, length R*N.
  real *x, *y, *z;             // wrapped positions in [0, L)
  real *vx, *vy, *vz;          // velocities
  real *fx, *fy, *fz;          // forces
  int* type;                   // particle type
  int *img_x, *img_y, *img_z;  // periodic image counters (unwrapped = x + img*L)
  real* u_i;  // per-particle potential energy: full sum over neighbours, sum_i u_i = 2U
  real* w_i;  // per-particle virial: 0.5 * sum_j r_ij . f_ij, sum_i w_i = sum_pairs r.f

  // Per-replica arrays.
  real* box;  // 3*R edge lengths

  // Neighbour-list state.
  real *x_last, *y_last, *z_last;  // positions at the last build (R*N)
  real* box_last;                  // 3*R box at the last build
  int* rebuild;                    // R flags: 1 = rebuild this replica's list now
  int* overflow;                   // R flag words (OverflowBits)
  int* cell_dims;                  // 3*R cells per axis used at the last build
  int* cell_count;                 // R*max_cells occupancy
  int* cell_list;                  // R*max_cells*cell_capacity particle indices (local i)
  int max_cells;                   // cell slots per replica
  int cell_capacity;               // particles per cell slot
  int* nbr_count;                  // R*N
  int* nbr_list;  // neighbour gid j of particle gid at gid*nbr_stride_i + k*nbr_stride_k
  int max_neighbors;
  long nbr_stride_i, nbr_stride_k;

  VT_HD Box replica_box(int r) const {
    Box b;
    b.L[0] = box[3 * r];
    b.L[1] = box[3 * r + 1];
    b.L[2] = box[3 * r + 2];
    b.dim = dim;
    return b;
  }
  VT_HD long nbr_index(long gid, int k) const { return gid * nbr_stride_i + k * nbr_stride_k; }
};

}  // namespace vitrify::kernels
