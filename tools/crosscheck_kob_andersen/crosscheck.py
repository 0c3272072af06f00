# Started by the launcher tools/crosscheck_kob_andersen/crosscheck, which picks the Python interpreter (tools/lib/python.sh).
"""Kob-Andersen model of vitrify against LAMMPS (docs/VALIDATION.md, "Kob-Andersen against LAMMPS").

Three checks of `"model": "kob-andersen"` against LAMMPS's `pair_style lj/cut` with per-pair
cutoffs 2.5 sigma_ab and `pair_modify shift yes` (the inputs static.lmp and nvt.lmp next to
this script):

  static   one configuration: `vitrify eval` against LAMMPS `run 0` (potential energy per
           particle, virial and total pressure, the force on every particle). The configuration is the final snapshot of a
           short vitrify scan (or --xyz FILE).
  nvt      NVT state points at rho = 1.2, N = 4000 (exactly 80:20), Berendsen thermostat
           (tau_T = 0.5), dt = 0.005, the same protocol in both programs: melt at T = 2, linear
           cooling, equilibration, production sampled every 10 steps. Averages of u, p and T
           with block errors (--blocks equal blocks of production; the same estimator for both
           programs) and vitrify's own errors from measurements_summary.csv. With --isf the
           LAMMPS run dumps the unwrapped A positions and the self-ISF of the A particles at
           k = 7.25 (direction-averaged, sin(k d)/(k d), centre-of-mass drift of the A particles
           removed, as vitrify does) gives tau_alpha (first 1/e crossing, linear in ln t).
  summary  collects everything under OUT into summary.md and summary.json.

Runs are one after another, one thread each (`--threads 1` for vitrify, serial `lmp`).

Usage:
  tools/crosscheck_kob_andersen/crosscheck static --out runs/crosscheck_kob_andersen
  tools/crosscheck_kob_andersen/crosscheck nvt --temperatures 1.0,0.8 --isf 0.8 \\
      --out runs/crosscheck_kob_andersen
  tools/crosscheck_kob_andersen/crosscheck summary --out runs/crosscheck_kob_andersen

Options --vitrify PATH (default $VITRIFY, then build/vitrify, then PATH) and --lmp PATH
(default lmp). Needs Python 3 with numpy, and LAMMPS (Debian: apt-get install lammps).
Not used by the build or the tests.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TYPE_IDS = {"A": 1, "B": 2}
K_ISF = 7.25


def find_vitrify(path):
    for p in [path, os.environ.get("VITRIFY"), os.path.join(ROOT, "build", "vitrify"),
              shutil.which("vitrify")]:
        if p and os.path.isfile(p) and os.access(p, os.X_OK):
            return os.path.abspath(p)
    sys.exit("vitrify binary not found (--vitrify PATH)")


def run(cmd, log=None, cwd=None):
    print("+ " + " ".join(cmd), flush=True)
    t0 = time.time()
    with open(log, "w") if log else open(os.devnull, "w") as out:
        rc = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
    if rc != 0:
        sys.exit(f"command failed with exit code {rc}" + (f" (log: {log})" if log else ""))
    return time.time() - t0


def lammps_version(lmp):
    out = subprocess.run([lmp, "-h"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "Large-scale Atomic/Molecular" in line:
            return line.split(" - ", 1)[1].strip()
    return "unknown"


def vitrify_version(vitrify):
    return subprocess.run([vitrify, "--version"], capture_output=True, text=True).stdout.strip()


# ---------------------------------------------------------------------------------- static


def read_xyz(path):
    with open(path) as f:
        n = int(f.readline())
        header = f.readline()
        lattice = header.split('Lattice="', 1)[1].split('"', 1)[0].split()
        box = [float(lattice[0]), float(lattice[4]), float(lattice[8])]
        rows = [f.readline().split() for _ in range(n)]
    return box, rows


def xyz_to_data(xyz, data):
    """Writes a LAMMPS data file (types 1 = A, 2 = B; positions wrapped into [0, L))."""
    box, rows = read_xyz(xyz)
    has_vel = len(rows[0]) >= 7
    with open(data, "w") as f:
        f.write(f"Kob-Andersen configuration from {os.path.basename(xyz)}\n\n")
        f.write(f"{len(rows)} atoms\n2 atom types\n\n")
        for L, a in zip(box, "xyz"):
            f.write(f"0 {L!r} {a}lo {a}hi\n")
        f.write("\nAtoms # atomic\n\n")
        for i, r in enumerate(rows, 1):
            pos = []
            for L, s in zip(box, r[1:4]):
                x = float(s) % L
                pos.append(0.0 if x >= L else x)
            f.write(f"{i} {TYPE_IDS[r[0]]} {pos[0]!r} {pos[1]!r} {pos[2]!r}\n")
        if has_vel:
            f.write("\nVelocities\n\n")
            for i, r in enumerate(rows, 1):
                f.write(f"{i} {r[4]} {r[5]} {r[6]}\n")
    return box, len(rows), has_vel


def cmd_static(args):
    vitrify = find_vitrify(args.vitrify)
    out = os.path.join(args.out, "static")
    os.makedirs(out, exist_ok=True)
    xyz = args.xyz
    if not xyz:
        cfg = {
            "comment": "Short Kob-Andersen scan that provides one configuration for the static check.",
            "model": "kob-andersen", "n_particles": 4000, "density": 1.2,
            "temperatures": [args.temperature], "melt_temperature": 2.0, "melt_steps": 1000,
            "cool_steps": 1000, "equilibration_steps": 1000, "production_steps": 1000,
            "sample_interval": 10, "seed": args.seed, "checkpoint_interval": 0,
            "checkpoint_wall_seconds": 0, "analyze": False,
        }
        cfg_path = os.path.join(out, "snapshot_config.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f, indent=2)
        run([vitrify, "run", cfg_path, "-o", os.path.join(out, "scan"), "--threads", "1",
             "--force"], log=os.path.join(out, "scan.log"))
        xyz = os.path.join(out, "scan", "snapshots", "replica_000.xyz")
    data = os.path.join(out, "config.data")
    _, n, _ = xyz_to_data(xyz, data)
    evaluated = subprocess.run([vitrify, "eval", "--model", "kob-andersen", "--forces", xyz],
                               capture_output=True, text=True, check=True).stdout
    v = json.loads(evaluated)
    result = os.path.join(out, "lammps.json")
    run([args.lmp, "-in", os.path.join(HERE, "static.lmp"), "-var", "data", data, "-var",
         "result", result, "-var", "forces", os.path.join(out, "forces.dump"), "-log",
         os.path.join(out, "log.lammps")],
        log=os.path.join(out, "lammps.out"))
    with open(result) as f:
        lmp = json.load(f)
    # vitrify eval's "virial_pressure" is W / (d V), without the kinetic part (as LAMMPS's
    # `compute pressure NULL virial`); the total pressure adds 2K / (3V) from the snapshot's
    # velocities, which LAMMPS reads from the data file.
    _, rows = read_xyz(xyz)
    vel = np.array([[float(x) for x in r[4:7]] for r in rows]) if len(rows[0]) >= 7 else None
    comparison = {
        "file": os.path.relpath(xyz, args.out),
        "n_particles": n,
        "vitrify": {"potential_energy_per_particle": v["potential_energy_per_particle"],
                    "virial_pressure": v["virial_pressure"]},
        "lammps": lmp,
        "relative_difference": {
            "potential_energy_per_particle":
                v["potential_energy_per_particle"] / lmp["potential_energy_per_particle"] - 1,
            "virial_pressure": v["virial_pressure"] / lmp["virial_pressure"] - 1,
        },
    }
    if vel is not None:
        kin = 0.5 * float((vel * vel).sum())
        p_total = v["virial_pressure"] + 2 * kin / (3 * v["volume"])
        comparison["vitrify"]["pressure"] = p_total
        comparison["relative_difference"]["pressure"] = p_total / lmp["pressure"] - 1
    # Forces, particle by particle (the data file keeps the snapshot's order as ids 1..N).
    f_lmp = np.loadtxt(os.path.join(out, "forces.dump"), skiprows=9)[:, 1:4]
    f_vit = np.array(v["forces"])
    dev = np.abs(f_vit - f_lmp)
    comparison["forces"] = {
        "max_abs_difference": float(dev.max()),
        "rms_difference": float(np.sqrt((dev * dev).mean())),
        "rms_force": float(np.sqrt((f_lmp * f_lmp).mean())),
        "max_relative_difference_of_norm": float(
            (np.linalg.norm(f_vit - f_lmp, axis=1) / np.linalg.norm(f_lmp, axis=1)).max()),
    }
    comparison["versions"] = {"vitrify": vitrify_version(vitrify),
                              "lammps": lammps_version(args.lmp)}
    with open(os.path.join(out, "comparison.json"), "w") as f:
        json.dump(comparison, f, indent=2)
    print(json.dumps(comparison, indent=2))


# ------------------------------------------------------------------------------------- nvt


def block_stats(x, blocks):
    """Mean, standard error from `blocks` equal blocks, and the two halves' means."""
    x = np.asarray(x, dtype=float)
    m = len(x) // blocks
    means = x[: m * blocks].reshape(blocks, m).mean(axis=1)
    h = len(x) // 2
    return {"mean": float(x.mean()), "error": float(means.std(ddof=1) / math.sqrt(blocks)),
            "blocks": blocks, "samples": int(len(x)),
            "halves": [float(x[:h].mean()), float(x[h:].mean())]}


def protocol(args, T):
    return {"temperature": T, "tmelt": args.melt_temperature, "melt": args.melt_steps,
            "cool": args.cool_steps, "equil": args.equilibration_steps,
            "prod": args.production_steps, "sample": 10, "tau": 0.5, "dt": 0.005,
            "n_particles": 4 * args.cells ** 3, "density": 1.2}


def tag(T, seed):
    return f"T{T:g}-seed{seed}"


def run_lammps_nvt(args, T, out):
    os.makedirs(out, exist_ok=True)
    dump_every = args.dump_every if T in args.isf else 0
    seconds = run([args.lmp, "-in", os.path.join(HERE, "nvt.lmp"),
                   "-var", "T", repr(T), "-var", "tmelt", repr(args.melt_temperature),
                   "-var", "seed", str(args.seed), "-var", "cells", str(args.cells),
                   "-var", "melt", str(args.melt_steps), "-var", "cool", str(args.cool_steps),
                   "-var", "equil", str(args.equilibration_steps),
                   "-var", "prod", str(args.production_steps), "-var", "sample", "10",
                   "-var", "tau", "0.5", "-var", "dumpevery", str(dump_every),
                   "-var", "dir", out, "-log", os.path.join(out, "log.lammps")],
                  log=os.path.join(out, "lammps.out"))
    data = np.loadtxt(os.path.join(out, "production.dat"), comments="#")
    data = data[data[:, 0] > 0]  # fix ave/time also writes step 0, the end of equilibration
    with open(os.path.join(out, "composition.json")) as f:
        comp = json.load(f)
    n = comp["n_particles"]
    res = {"program": "lammps", "version": lammps_version(args.lmp),
           "protocol": protocol(args, T), "composition": comp, "wall_seconds": seconds,
           "T": block_stats(data[:, 1], args.blocks),
           "u": block_stats(data[:, 2] / n, args.blocks),
           "p": block_stats(data[:, 3], args.blocks)}
    if dump_every:
        t, fs = self_isf_from_dump(os.path.join(out, "positions_A.dump"), dump_every * 0.005)
        np.savetxt(os.path.join(out, "isf_A.csv"), np.column_stack([t, fs]), delimiter=",",
                   header="t,F_s", comments="", fmt="%.6g")
        res["tau_alpha"] = tau_alpha(t, fs)
        if not args.keep_dump:
            os.remove(os.path.join(out, "positions_A.dump"))
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(res, f, indent=2)
    return res


def read_dump(path):
    """Unwrapped positions (frames, particles, 3) from a sorted `dump custom id xu yu zu`."""
    frames = []
    with open(path) as f:
        while True:
            line = f.readline()
            if not line:
                break
            if line.startswith("ITEM: NUMBER OF ATOMS"):
                n = int(f.readline())
            elif line.startswith("ITEM: ATOMS"):
                block = np.array([f.readline().split() for _ in range(n)], dtype=float)
                frames.append(block[:, 1:4])
    return np.array(frames)


def self_isf_from_dump(path, frame_dt, max_origins=400):
    x = read_dump(path)
    nf = x.shape[0]
    lags = sorted(set(int(round(v)) for v in np.geomspace(1, nf - 1, 60)))
    fs = []
    for lag in lags:
        origins = np.arange(0, nf - lag)
        if len(origins) > max_origins:
            origins = origins[np.linspace(0, len(origins) - 1, max_origins).astype(int)]
        d = x[origins + lag] - x[origins]
        d -= d.mean(axis=1, keepdims=True)  # centre-of-mass drift of the A particles
        kd = K_ISF * np.sqrt((d * d).sum(axis=2))
        fs.append(float(np.mean(np.sinc(kd / math.pi))))  # np.sinc(x) = sin(pi x)/(pi x)
    return np.array(lags) * frame_dt, np.array(fs)


def tau_alpha(t, fs):
    """First 1/e crossing, linear interpolation in ln t (as vitrify)."""
    target = math.exp(-1)
    for i in range(1, len(t)):
        if fs[i] <= target:
            a, b = math.log(t[i - 1]), math.log(t[i])
            w = (fs[i - 1] - target) / (fs[i - 1] - fs[i])
            return {"value": math.exp(a + w * (b - a)), "reached": True}
    return {"value": None, "reached": False, "lower_bound": float(t[-1])}


def vitrify_config(args, T):
    return {
        "comment": "Kob-Andersen NVT state point of the LAMMPS cross-check "
                   "(tools/crosscheck_kob_andersen).",
        "model": "kob-andersen", "n_particles": 4 * args.cells ** 3, "density": 1.2,
        "temperatures": [T], "dt": 0.005, "thermostat_tau": 0.5, "skin": 0.3,
        "seed": args.seed, "melt_temperature": args.melt_temperature,
        "melt_steps": args.melt_steps, "cool_steps": args.cool_steps,
        "equilibration_steps": args.equilibration_steps,
        "production_steps": args.production_steps, "sample_interval": 10,
        "thermo_interval": 10, "checkpoint_interval": 0, "checkpoint_wall_seconds": 0,
        "analyze": False,
    }


def run_vitrify_nvt(args, T, out):
    vitrify = find_vitrify(args.vitrify)
    os.makedirs(out, exist_ok=True)
    cfg_path = os.path.join(out, "config.json")
    with open(cfg_path, "w") as f:
        json.dump(vitrify_config(args, T), f, indent=2)
    seconds = run([vitrify, "run", cfg_path, "-o", os.path.join(out, "run"), "--threads", "1",
                   "--force"], log=os.path.join(out, "vitrify.out"))
    run_dir = os.path.join(out, "run")
    with open(os.path.join(run_dir, "measurements_summary.csv")) as f:
        header = f.readline().strip().split(",")
        values = f.readline().strip().split(",")
    own = dict(zip(header, values))
    rows = np.genfromtxt(os.path.join(run_dir, "thermo", "replica_000.csv"), delimiter=",",
                         names=True, dtype=None, encoding="utf-8")
    # Production rows: every thermo_interval = 10 steps, the first one 10 steps into it.
    prod = rows[rows["stage"] == "production"]
    res = {"program": "vitrify", "version": vitrify_version(vitrify),
           "protocol": protocol(args, T), "wall_seconds": seconds,
           "own_errors": {k: float(own[k]) if own[k] not in ("", "true", "false") else own[k]
                          for k in ("temperature_measured", "temperature_measured_error", "u",
                                    "u_error", "p", "p_error", "tau_alpha",
                                    "tau_alpha_reached")},
           "T": block_stats(prod["T"], args.blocks), "u": block_stats(prod["u"], args.blocks),
           "p": block_stats(prod["p"], args.blocks)}
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(res, f, indent=2)
    return res


def cmd_nvt(args):
    args.isf = [float(t) for t in args.isf.split(",")] if args.isf else []
    for T in [float(t) for t in args.temperatures.split(",")]:
        base = os.path.join(args.out, "nvt", tag(T, args.seed))
        if args.only in (None, "vitrify"):
            r = run_vitrify_nvt(args, T, os.path.join(base, "vitrify"))
            print(f"vitrify T={T}: u = {r['u']['mean']:.5f} +- {r['u']['error']:.5f}, "
                  f"p = {r['p']['mean']:.4f} +- {r['p']['error']:.4f} ({r['wall_seconds']:.0f} s)")
        if args.only in (None, "lammps"):
            r = run_lammps_nvt(args, T, os.path.join(base, "lammps"))
            print(f"lammps  T={T}: u = {r['u']['mean']:.5f} +- {r['u']['error']:.5f}, "
                  f"p = {r['p']['mean']:.4f} +- {r['p']['error']:.4f} ({r['wall_seconds']:.0f} s)")


# --------------------------------------------------------------------------------- summary


def fmt(s, digits):
    return f"{s['mean']:.{digits}f} ± {s['error']:.{digits}f}"


def pooled_table(nvt):
    """Per temperature, the error-weighted mean over seeds of each program and the difference."""
    by_t = {}
    for d, both in nvt.items():
        if "vitrify" in both and "lammps" in both:
            by_t.setdefault(float(d[1:].split("-seed")[0]), []).append(both)
    if all(len(v) < 2 for v in by_t.values()):
        return []
    out = ["", "Pooled over seeds (error-weighted means):", "",
           "| T | seeds | vitrify ⟨u⟩ | LAMMPS ⟨u⟩ | Δu | vitrify ⟨p⟩ | LAMMPS ⟨p⟩ | Δp |",
           "|---|---|---|---|---|---|---|---|"]
    for T in sorted(by_t, reverse=True):
        runs = by_t[T]
        if len(runs) < 2:
            continue
        cells = []
        for q, digits in (("u", 4), ("p", 3)):
            pooled = {}
            for prog in ("vitrify", "lammps"):
                w = np.array([1 / b[prog][q]["error"] ** 2 for b in runs])
                m = np.array([b[prog][q]["mean"] for b in runs])
                pooled[prog] = (float((w * m).sum() / w.sum()), float(1 / math.sqrt(w.sum())))
            dv, de = pooled["vitrify"][0] - pooled["lammps"][0], math.hypot(
                pooled["vitrify"][1], pooled["lammps"][1])
            cells += [f"{pooled['vitrify'][0]:.{digits}f} ± {pooled['vitrify'][1]:.{digits}f}",
                      f"{pooled['lammps'][0]:.{digits}f} ± {pooled['lammps'][1]:.{digits}f}",
                      f"{dv:+.{digits}f} ({dv / de:+.1f}σ)"]
        out.append(f"| {T:g} | {len(runs)} | " + " | ".join(cells) + " |")
    return out


def interpolate_ln_t(t, f, lags):
    t, f = np.asarray(t, float), np.asarray(f, float)
    keep = t > 0
    return np.interp(np.log(lags), np.log(t[keep]), f[keep], left=np.nan, right=np.nan)


def isf_table(nvt_dir, points, summary):
    """F_s(k = 7.25, t) of the A particles from both programs at a few lags."""
    lags = [0.1, 0.5, 1, 2, 5, 10, 20, 50]
    rows = []
    for d in points:
        lmp = os.path.join(nvt_dir, d, "lammps", "isf_A.csv")
        vit = os.path.join(nvt_dir, d, "vitrify", "run", "measurements_isf.csv")
        if not (os.path.exists(lmp) and os.path.exists(vit)):
            continue
        a = np.loadtxt(lmp, delimiter=",", skiprows=1)
        b = np.loadtxt(vit, delimiter=",", skiprows=1)
        fl = interpolate_ln_t(a[:, 0], a[:, 1], lags)
        fv = interpolate_ln_t(b[:, 1], b[:, 2], lags)
        summary["nvt"][d]["isf"] = {"t": lags, "vitrify": [None if math.isnan(x) else float(x)
                                                           for x in fv],
                                    "lammps": [None if math.isnan(x) else float(x) for x in fl]}
        for prog, f in (("vitrify", fv), ("lammps", fl)):
            rows.append(f"| {d[1:].replace('-seed', ' (seed ')}) | {prog} | " +
                        " | ".join("" if math.isnan(x) else f"{x:.4f}" for x in f) + " |")
    if not rows:
        return []
    return (["", "Self-ISF of the A particles, F_s(k = 7.25, t) (interpolated in ln t):", "",
             "| T | program | " + " | ".join(f"t = {x:g}" for x in lags) + " |",
             "|---|---|" + "---|" * len(lags)] + rows)


def cmd_summary(args):
    lines = ["# Kob-Andersen: vitrify against LAMMPS", ""]
    summary = {}
    static = os.path.join(args.out, "static", "comparison.json")
    if os.path.exists(static):
        with open(static) as f:
            s = json.load(f)
        summary["static"] = s
        lines += ["## Static (one configuration, N = %d)" % s["n_particles"], "",
                  "| quantity | vitrify eval | LAMMPS run 0 | relative difference |",
                  "|---|---|---|---|"]
        for key, name in [("potential_energy_per_particle", "u"),
                          ("virial_pressure", "p (virial part)"), ("pressure", "p (total)")]:
            if key in s["vitrify"]:
                lines.append(f"| {name} | {s['vitrify'][key]:.9f} | {s['lammps'][key]:.9f} | "
                             f"{s['relative_difference'][key]:.2e} |")
        lines.append("")
    nvt_dir = os.path.join(args.out, "nvt")
    if os.path.isdir(nvt_dir):
        lines += ["## NVT, rho = 1.2", "",
                  "| T | program | ⟨T⟩ | ⟨u⟩ | ⟨p⟩ | vitrify's own u, p errors | τα (A, k = 7.25) | "
                  "production (τ) | wall (s) |", "|---|---|---|---|---|---|---|---|---|"]
        points = sorted(os.listdir(nvt_dir), key=lambda d: (-float(d[1:].split("-seed")[0]),
                                                            int(d.split("-seed")[1])))
        summary["nvt"] = {}
        for d in points:
            summary["nvt"][d] = {}
            for prog in ("vitrify", "lammps"):
                path = os.path.join(nvt_dir, d, prog, "result.json")
                if not os.path.exists(path):
                    continue
                with open(path) as f:
                    r = json.load(f)
                summary["nvt"][d][prog] = r
                own = r.get("own_errors")
                own_s = f"{own['u_error']:.4f}, {own['p_error']:.3f}" if own else ""
                tau = ""
                if own and own.get("tau_alpha") not in ("", None):
                    tau = f"{float(own['tau_alpha']):.2f}"
                if "tau_alpha" in r:
                    ta = r["tau_alpha"]
                    tau = f"{ta['value']:.2f}" if ta["reached"] else f"> {ta['lower_bound']:.1f}"
                prod = r["protocol"]["prod"] * r["protocol"]["dt"]
                lines.append(f"| {d[1:].replace('-seed', ' (seed ')}) | {prog} | {fmt(r['T'], 4)} | "
                             f"{fmt(r['u'], 4)} | {fmt(r['p'], 3)} | {own_s} | {tau} | "
                             f"{prod:g} | {r['wall_seconds']:.0f} |")
            both = summary["nvt"][d]
            if "vitrify" in both and "lammps" in both:
                diff = {}
                for q in ("u", "p", "T"):
                    a, b = both["vitrify"][q], both["lammps"][q]
                    e = math.hypot(a["error"], b["error"])
                    diff[q] = {"difference": a["mean"] - b["mean"], "error": e,
                               "sigmas": (a["mean"] - b["mean"]) / e if e > 0 else None}
                both["difference"] = diff
                lines.append(f"| | vitrify − LAMMPS | {diff['T']['difference']:+.4f} "
                             f"({diff['T']['sigmas']:+.1f}σ) | {diff['u']['difference']:+.4f} "
                             f"({diff['u']['sigmas']:+.1f}σ) | {diff['p']['difference']:+.3f} "
                             f"({diff['p']['sigmas']:+.1f}σ) | | | | |")
        lines += pooled_table(summary["nvt"])
        lines += isf_table(nvt_dir, points, summary)
        lines.append("")
        lines.append("Errors: standard errors from 20 equal blocks of production (the same "
                     "estimator for both programs); vitrify's own errors from "
                     "measurements_summary.csv in their column.")
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(prog="tools/crosscheck_kob_andersen/crosscheck", description=__doc__.split("\n", 1)[0])
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("static", "nvt", "summary"):
        p = sub.add_parser(name)
        p.add_argument("--out", default="runs/crosscheck_kob_andersen")
        p.add_argument("--vitrify")
        p.add_argument("--lmp", default="lmp")
        if name == "static":
            p.add_argument("--xyz", help="configuration (default: run a short vitrify scan)")
            p.add_argument("--temperature", type=float, default=1.0)
            p.add_argument("--seed", type=int, default=1)
        if name == "nvt":
            p.add_argument("--temperatures", default="1.0,0.8")
            p.add_argument("--only", choices=["vitrify", "lammps"])
            p.add_argument("--cells", type=int, default=10, help="N = 4 cells^3 (10: 4000)")
            p.add_argument("--seed", type=int, default=1)
            p.add_argument("--melt-temperature", type=float, default=2.0)
            p.add_argument("--melt-steps", type=int, default=2000)
            p.add_argument("--cool-steps", type=int, default=4000)
            p.add_argument("--equilibration-steps", type=int, default=20000)
            p.add_argument("--production-steps", type=int, default=40000)
            p.add_argument("--blocks", type=int, default=20)
            p.add_argument("--isf", default="", help="temperatures with the LAMMPS self-ISF")
            p.add_argument("--dump-every", type=int, default=40)
            p.add_argument("--keep-dump", action="store_true")
    args = ap.parse_args()
    {"static": cmd_static, "nvt": cmd_nvt, "summary": cmd_summary}[args.command](args)


if __name__ == "__main__":
    main()
