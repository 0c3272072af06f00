#!/usr/bin/env python3
"""Converts a vitrify H5MD trajectory (trajectory/replica_NNN.h5) to GSD, which OVITO and
HOOMD-blue read.

Usage: tools/h5md_to_gsd TRAJECTORY.h5 [OUT.gsd]   (default: the same name with .gsd)

Every frame becomes a GSD frame: configuration.step, configuration.box (Lx, Ly, Lz, 0, 0, 0;
Lz = 1 in 2D, with configuration.dimensions = 2), particles.position (shifted into GSD's
centred box [-L/2, L/2)), particles.image, particles.typeid and particles.types (the model's
type names). Needs h5py and gsd (Debian: python3-h5py, python3-gsd).
"""

import sys

import h5py
import numpy as np
import gsd.hoomd


def convert(src, dst):
    with h5py.File(src, "r") as f:
        part = f["particles/all"]
        pos = part["position/value"][...]
        img = part["image/value"][...]
        steps = part["position/step"][...]
        edges = part["box/edges/value"][...]
        species = part["species"][...]
        names = [n.decode() if isinstance(n, bytes) else str(n)
                 for n in f["parameters/vitrify"].attrs["type_names"]]
        dim = int(part["box"].attrs["dimension"])
    frame_class = getattr(gsd.hoomd, "Frame", None) or gsd.hoomd.Snapshot
    n = pos.shape[1]
    try:
        out = gsd.hoomd.open(dst, "w")
    except ValueError:  # gsd < 3 names the write mode "wb"
        out = gsd.hoomd.open(dst, "wb")
    with out:
        for k in range(pos.shape[0]):
            fr = frame_class()
            fr.configuration.step = int(steps[k])
            fr.configuration.dimensions = dim
            box = [float(edges[k][0]), float(edges[k][1]), float(edges[k][2]) if dim == 3 else 1.0,
                   0.0, 0.0, 0.0]
            fr.configuration.box = box
            p = np.zeros((n, 3), dtype=np.float32)
            im = np.zeros((n, 3), dtype=np.int32)
            p[:, :dim] = pos[k] - 0.5 * np.asarray(edges[k][:dim], dtype=np.float64)
            im[:, :dim] = img[k]
            fr.particles.N = n
            fr.particles.position = p
            fr.particles.image = im
            fr.particles.typeid = species.astype(np.uint32)
            fr.particles.types = names
            out.append(fr)
    return pos.shape[0]


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    src = argv[1]
    dst = argv[2] if len(argv) == 3 else src.rsplit(".", 1)[0] + ".gsd"
    frames = convert(src, dst)
    print(f"wrote {dst} ({frames} frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
