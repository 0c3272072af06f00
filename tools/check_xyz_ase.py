# Started by the launcher tools/check_xyz_ase, which picks the Python interpreter (tools/lib/python.sh).
"""Checks that ASE reads vitrify snapshots (docs/OUTPUTS.md, docs/PHYSICS.md "Configuration files").

Usage: tools/check_xyz_ase SNAPSHOT.xyz [...]

For each file: ase.io.read must succeed; the species column holds element symbols, the
type_name column vitrify's particle type names, vel the velocities, and the comment line's
model= the model. Exits 0 when every file passes, 1 otherwise, 2 when ASE is not installed.
"""
import sys

try:
    import ase.io
except ImportError:
    print(f"check_xyz_ase: ASE is not installed in {sys.executable} (Debian: python3-ase; or set "
          "VITRIFY_PYTHON to a Python that has ase)", file=sys.stderr)
    sys.exit(2)


def check(path):
    atoms = ase.io.read(path, format="extxyz")
    with open(path) as f:
        count = int(f.readline())
        comment = f.readline()
        rows = [f.readline().split() for _ in range(count)]
    problems = []
    if len(atoms) != count:
        problems.append(f"ASE read {len(atoms)} particles, the file has {count}")
    if "model" not in atoms.info:
        problems.append("no model= in the comment line")
    if "type_name" not in atoms.arrays:
        problems.append("no type_name column")
    elif [str(t) for t in atoms.arrays["type_name"]] != [r[-1] for r in rows]:
        problems.append("type_name differs from the last column")
    if "vel" not in atoms.arrays or atoms.arrays["vel"].shape != (count, 3):
        problems.append("no vel:R:3 column")
    if list(atoms.get_chemical_symbols()) != [r[0] for r in rows]:
        problems.append("chemical symbols differ from the species column")
    for a, edge in enumerate(comment.split('Lattice="')[1].split('"')[0].split()[::4]):
        if abs(atoms.cell[a][a] - float(edge)) > 1e-9 * float(edge):
            problems.append(f"box edge {a + 1}: ASE {atoms.cell[a][a]}, file {edge}")
    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    if not problems:
        print(f"{path}: read by ASE {ase.__version__}: {len(atoms)} particles, model "
              f"{atoms.info['model']}, types {sorted(set(atoms.arrays['type_name']))}, "
              f"symbols {sorted(set(atoms.get_chemical_symbols()))}")
    return not problems


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    ok = True
    for path in sys.argv[1:]:
        try:
            ok = check(path) and ok
        except Exception as e:  # noqa: BLE001 - report any reader failure as a failed check
            print(f"{path}: ase.io.read failed: {type(e).__name__}: {e}", file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
