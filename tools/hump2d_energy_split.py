# Started by the launcher tools/hump2d_energy_split, which picks the Python interpreter (tools/lib/python.sh).
"""Split the hump2d per-particle energy of final snapshots into the part from neighbours bound in
the well (r < 1.32, the quasi-species rule) and the part from particles on the hump
(1.32 <= r < r* = 1.65), and fit E = e * i through the origin both ways (docs/VALIDATION.md,
"e in E_i = e i"). One snapshot per temperature: an illustration, not a measurement with errors.

Usage: tools/hump2d_energy_split RUN_DIR   (a vitrify hump2d run directory)
Prints CSV: temperature, u (per particle, halved pair sum), e_total, e_well_only,
mean hump energy per particle, mean i.
"""

import csv
import os
import sys

import numpy as np

A = [1.0, 0.0, 2.675405732987203, 46.593574934286437, -212.021700143354, 308.7495934944721,
     -188.1854149609638, 41.188540942572089]
R0, RSTAR, H0, RHUMP = 2.0 ** (1.0 / 6.0), 1.65, 0.75, 1.32


def pair_u(r):
    u = np.zeros_like(r)
    m = r <= R0
    u[m] = r[m] ** -12 - r[m] ** -6 + 0.25 + H0
    m = (r > R0) & (r <= RSTAR)
    x = (r[m] - R0) / (RSTAR - R0)
    u[m] = H0 * np.polyval(A[::-1], x)
    return u


def read_xyz(path):
    with open(path) as f:
        n = int(f.readline())
        lat = f.readline().split('Lattice="')[1].split('"')[0].split()
        box = np.array([float(lat[0]), float(lat[4])])
        pos = np.array([[float(v) for v in f.readline().split()[1:3]] for _ in range(n)])
    return pos % box, box


def pairs(pos, box, rmax):
    """i < j pairs within rmax (minimum image), chunked brute force."""
    n = len(pos)
    I, J, R = [], [], []
    for a in range(0, n, 256):
        d = pos[a:a + 256, None, :] - pos[None, :, :]
        d -= box * np.round(d / box)
        r = np.sqrt((d ** 2).sum(-1))
        ii, jj = np.nonzero((r < rmax) & (np.arange(a, min(a + 256, n))[:, None] < np.arange(n)[None, :]))
        I.append(ii + a)
        J.append(jj)
        R.append(r[ii, jj])
    return np.concatenate(I), np.concatenate(J), np.concatenate(R)


def main():
    run = sys.argv[1]
    temps = {}
    with open(os.path.join(run, "replicas.csv")) as f:
        for row in csv.DictReader(f):
            temps[int(row["replica"])] = float(row["temperature"])
    w = csv.writer(sys.stdout)
    w.writerow(["temperature", "u", "e_total", "e_well_only", "hump_energy_per_particle", "mean_i"])
    for rep, T in sorted(temps.items()):
        pos, box = read_xyz(os.path.join(run, "snapshots", "replica_%03d.xyz" % rep))
        n = len(pos)
        i, j, r = pairs(pos, box, RSTAR)
        u = pair_u(r)
        well = r < RHUMP
        ew, eh, cnt = np.zeros(n), np.zeros(n), np.zeros(n)
        for arr, m in ((ew, well), (eh, ~well)):
            np.add.at(arr, i[m], u[m])
            np.add.at(arr, j[m], u[m])
        np.add.at(cnt, i[well], 1)
        np.add.at(cnt, j[well], 1)
        s2 = (cnt ** 2).sum()
        w.writerow([T, "%.4f" % (u.sum() / n), "%.4f" % (((ew + eh) * cnt).sum() / s2),
                    "%.4f" % ((ew * cnt).sum() / s2), "%.4f" % eh.mean(), "%.3f" % cnt.mean()])


if __name__ == "__main__":
    main()
