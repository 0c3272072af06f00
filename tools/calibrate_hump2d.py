# Started by the launcher tools/calibrate_hump2d, which picks the Python interpreter (tools/lib/python.sh).
"""Density calibration of the hump2d model with vitrify (issue #7).

For every density in a list (default 0.80, 0.825, 0.85) this tool

  1. writes a vitrify configuration (hump2d, NVT, N = 4096 by default, one replica per
     temperature, default T = 0.25, 0.30, 0.35, 0.40, 0.50, 0.60) into OUT/rho_<density>/config.json,
  2. runs `vitrify run` on it (one run at a time; skipped when the run directory already
     holds a measurements.json from the same configuration),
  3. reads the final snapshot of every replica (OUT/rho_*/snapshots/replica_NNN.xyz) and
     computes the 2D bond-orientational order parameter psi6:
        psi6_j = (1/n_j) sum_k exp(6 i theta_jk) over the neighbours k of particle j,
        global = | mean_j psi6_j |, local = mean_j |psi6_j|, and the fraction of particles
        with six neighbours and |psi6_j| > 0.7 ("crystal-like"; with the 2..4
        neighbours typical of this liquid |psi6_j| is large by construction). Neighbours: r_jk < r_min, the first minimum of
        g(r) after its first peak, measured on the same snapshot (the value used is reported);
        the same numbers with the model's species radius r_hump = 1.32 are reported as well.
        Particles without neighbours are left out of the averages.
  4. compares the measured concentrations c_2..c_6 (and the "other" fraction, i.e. the
     particles with i outside 2..6) with the prediction of the paper's Table II
        c_i(T) = g_i exp(-H_i/T) / sum_{k=2..6} g_k exp(-H_k/T)
     (normalised to 1 over the tracked species, as docs/PHYSICS.md ("Statistical mechanics")
     and docs/ANALYSIS.md do for hump2d),
  5. writes OUT/summary.csv, OUT/summary.md, OUT/summary.json and the figures
     OUT/calibration-psi6.png and OUT/calibration-concentrations.png, with a verdict per density.

Verdict per density (thresholds are options):
  - "crystalline" when at some temperature the global |psi6| > --psi6-max (0.1) or the
    crystal-like fraction > --crystal-max (0.10);
  - otherwise "consistent with Table II" when max_{i,T} |c_i - c_i^pred| <= --tol (0.02)
    and the other fraction stays below --other-max (0.05) at every temperature;
  - otherwise "amorphous but off Table II".
The density with the smallest RMS deviation among the amorphous ones is named as the best.

Usage examples:
  tools/calibrate_hump2d --quick                       # smoke test, < 1 minute
  tools/calibrate_hump2d --threads 1 --out runs/calibrate_hump2d
  tools/calibrate_hump2d --densities 0.80,0.815,0.825,0.835,0.85 --steps 200000
  tools/calibrate_hump2d --analyze-only --out runs/calibrate_hump2d
  tools/calibrate_hump2d --analyze-only --relaxed-analysis --out runs/calibrate_hump2d

Needs Python 3 with numpy and matplotlib (Agg backend, no display needed).
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from vitrify_runs import find_vitrify, relaxed_analysis  # noqa: E402

# Paper, Table II (docs/PHYSICS.md, "Statistical mechanics"): reference species i = 2.
TABLE_II = {
    2: (0.0, 1.0),
    3: (-0.545053, 2.830972),
    4: (-0.564547, 7.289318),
    5: (-0.411079, 6.862693),
    6: (-0.217412, 1.552314),
}
SPECIES = [2, 3, 4, 5, 6]
R_HUMP = 1.32


def predicted_concentrations(T):
    """Table II prediction, normalised to 1 over i = 2..6."""
    w = {i: g * math.exp(-H / T) for i, (H, g) in TABLE_II.items()}
    z = sum(w.values())
    return {i: w[i] / z for i in SPECIES}


def parse_list(text):
    return [float(x) for x in text.split(",") if x.strip()]


def make_config(args, rho, out_dir):
    return {
        "comment": "tools/calibrate_hump2d: density calibration run at rho = %g" % rho,
        "model": "hump2d",
        "ensemble": "nvt",
        "n_particles": args.n,
        "density": rho,
        "temperatures": args.temperatures,
        "copies_per_temperature": args.copies,
        "dt": args.dt,
        "seed": args.seed,
        "melt_temperature": args.melt_temperature,
        "melt_steps": args.melt_steps,
        "cool_steps": args.cool_steps,
        "equilibration_steps": args.equilibration,
        "production_steps": args.steps,
        "sample_interval": args.sample_interval,
        "thermo_interval": 100,
        "species": "paper",
        "output_dir": out_dir,
    }


def run_density(args, vitrify, rho):
    d = os.path.join(args.out, "rho_%s" % fmt_rho(rho))
    os.makedirs(d, exist_ok=True)
    cfg = make_config(args, rho, d)
    cfg_path = os.path.join(d, "config.json")
    meas = os.path.join(d, "measurements.json")
    if os.path.exists(meas) and os.path.exists(cfg_path):
        with open(cfg_path) as f:
            old = json.load(f)
        if old == cfg:
            print("rho = %s: finished run found in %s, not rerun" % (fmt_rho(rho), d), flush=True)
            return d, None
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    cmd = [vitrify, "run", cfg_path, "-o", d, "--threads", str(args.threads), "--force"]
    if args.resume:
        cmd.remove("--force")
    print("rho = %s: %s" % (fmt_rho(rho), " ".join(cmd)), flush=True)
    t0 = time.time()
    rc = subprocess.call(cmd)
    wall = time.time() - t0
    if rc != 0:
        print("rho = %s: vitrify run exited with %d" % (fmt_rho(rho), rc), file=sys.stderr)
        if not os.path.exists(meas):
            sys.exit(rc)
    print("rho = %s: done in %.0f s" % (fmt_rho(rho), wall), flush=True)
    with open(os.path.join(d, "wall_seconds.txt"), "w") as f:
        f.write("%.1f\n" % wall)
    return d, wall


def fmt_rho(rho):
    return ("%.4f" % rho).rstrip("0").rstrip(".")


def read_xyz(path):
    with open(path) as f:
        n = int(f.readline())
        header = f.readline()
        lat = header.split('Lattice="')[1].split('"')[0].split()
        lx, ly = float(lat[0]), float(lat[4])
        pos = np.empty((n, 2))
        for k in range(n):
            parts = f.readline().split()
            pos[k, 0] = float(parts[1])
            pos[k, 1] = float(parts[2])
    pos[:, 0] %= lx
    pos[:, 1] %= ly
    return pos, np.array([lx, ly])


def pair_list(pos, box, rmax):
    """All pairs (i < j) with minimum-image distance < rmax, via a cell list."""
    nc = np.maximum((box // rmax).astype(int), 1)
    cell = np.floor(pos / box * nc).astype(int) % nc
    cid = cell[:, 0] * nc[1] + cell[:, 1]
    order = np.argsort(cid, kind="stable")
    counts = np.bincount(cid, minlength=nc[0] * nc[1])
    starts = np.concatenate([[0], np.cumsum(counts)])
    I, J, DX, DY = [], [], [], []
    shifts = [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)]
    if nc[0] < 3 or nc[1] < 3:
        # small box: brute force with minimum image
        d = pos[:, None, :] - pos[None, :, :]
        d -= box * np.round(d / box)
        r2 = (d ** 2).sum(-1)
        ii, jj = np.nonzero(np.triu(r2 < rmax * rmax, 1))
        return ii, jj, d[ii, jj, 0], d[ii, jj, 1]
    for cx in range(nc[0]):
        for cy in range(nc[1]):
            a = order[starts[cx * nc[1] + cy]:starts[cx * nc[1] + cy + 1]]
            if len(a) == 0:
                continue
            for sx, sy in shifts:
                c2 = ((cx + sx) % nc[0]) * nc[1] + (cy + sy) % nc[1]
                b = order[starts[c2]:starts[c2 + 1]]
                if len(b) == 0:
                    continue
                d = pos[a][:, None, :] - pos[b][None, :, :]
                d -= box * np.round(d / box)
                r2 = (d ** 2).sum(-1)
                m = (r2 < rmax * rmax) & (a[:, None] < b[None, :])
                ii, jj = np.nonzero(m)
                I.append(a[ii])
                J.append(b[jj])
                DX.append(d[ii, jj, 0])
                DY.append(d[ii, jj, 1])
    if not I:
        return (np.array([], int),) * 2 + (np.array([]),) * 2
    return np.concatenate(I), np.concatenate(J), np.concatenate(DX), np.concatenate(DY)


def gr_first_minimum(pos, box, rmax=2.2, dr=0.02):
    n = len(pos)
    i, j, dx, dy = pair_list(pos, box, rmax)
    r = np.hypot(dx, dy)
    edges = np.arange(0.0, rmax + dr / 2, dr)
    h, _ = np.histogram(r, bins=edges)
    rc = 0.5 * (edges[1:] + edges[:-1])
    rho = n / (box[0] * box[1])
    shell = math.pi * (edges[1:] ** 2 - edges[:-1] ** 2)
    g = 2.0 * h / (n * rho * shell)
    # smooth over 5 bins, take the first peak (r < 1.5) and the lowest point of the smoothed g(r)
    # between it and r = 1.6 (the hump model's first shell ends at the hump, r ~ 1.32, and the
    # second shell starts near r* = 1.65)
    gs = np.convolve(g, np.ones(5) / 5, mode="same")
    peak = int(np.argmax(np.where(rc < 1.5, gs, -1.0)))
    window = (rc > rc[peak]) & (rc < 1.6)
    k = int(np.argmin(np.where(window, gs, np.inf)))
    return float(rc[k]), rc, g


def psi6(pos, box, rcut):
    n = len(pos)
    i, j, dx, dy = pair_list(pos, box, rcut)
    z = np.exp(6j * np.arctan2(dy, dx))
    s = np.zeros(n, complex)
    np.add.at(s, i, z)
    np.add.at(s, j, z)  # exp(6i(theta+pi)) = exp(6i theta)
    cnt = np.bincount(i, minlength=n) + np.bincount(j, minlength=n)
    has = cnt > 0
    p = s[has] / cnt[has]
    return {
        "global": float(abs(p.mean())) if has.any() else float("nan"),
        "local": float(np.abs(p).mean()) if has.any() else float("nan"),
        # hexagonal-crystal-like particles: six neighbours and |psi6_j| > 0.7 (with only 2-4
        # neighbours |psi6_j| is large by construction, so |psi6_j| alone does not identify order)
        "crystal_fraction": float(((np.abs(s) > 0.7 * np.maximum(cnt, 1)) & (cnt == 6)).sum() / n),
        "isolated_fraction": float((~has).sum() / n),
        "mean_neighbors": float(cnt.mean()),
    }


# ---------------------------------------------------------------- analysis

def analyse_density(d, args):
    with open(os.path.join(d, "measurements.json")) as f:
        m = json.load(f)
    rho = m["state_points"][0]["density"]["mean"]
    reps = {}
    with open(os.path.join(d, "replicas.csv")) as f:
        for row in csv.DictReader(f):
            reps.setdefault(float(row["temperature"]), []).append(int(row["replica"]))
    rows = []
    for sp in m["state_points"]:
        T = sp["temperature"]
        conc = sp["concentrations"]
        pred = predicted_concentrations(T)
        meas = {i: conc["c%d" % i]["mean"] for i in SPECIES}
        err = {i: conc["c%d" % i]["error"] for i in SPECIES}
        dev = {i: meas[i] - pred[i] for i in SPECIES}
        ps_gr, ps_sp, rmins = [], [], []
        for r in reps.get(T, []):
            path = os.path.join(d, "snapshots", "replica_%03d.xyz" % r)
            if not os.path.exists(path):
                continue
            pos, box = read_xyz(path)
            rmin, _, _ = gr_first_minimum(pos, box)
            rmins.append(rmin)
            ps_gr.append(psi6(pos, box, rmin))
            ps_sp.append(psi6(pos, box, R_HUMP))

        def avg(lst, key):
            return float(np.mean([x[key] for x in lst])) if lst else float("nan")

        tau = sp["tau_alpha"]
        row = {
            "n_particles": m["n_particles"],
            "density": rho,
            "temperature": T,
            "equilibrated": sp["equilibrated"],
            "flags": "; ".join(sp.get("flags", [])),
            "tau_alpha": tau["value"] if tau["reached"] else None,
            "tau_alpha_lower_bound": tau.get("lower_bound"),
            "production_time": sp["run"]["production_steps"] * sp["run"]["dt"],
            "u": sp["u"]["mean"],
            "p": sp["p"]["mean"],
            "other": conc["other_A"]["mean"],
            "other_error": conc["other_A"]["error"],
            "max_abs_dev": max(abs(v) for v in dev.values()),
            "rms_dev": math.sqrt(sum(v * v for v in dev.values()) / len(dev)),
            "gr_first_min": float(np.mean(rmins)) if rmins else float("nan"),
            "psi6_global": avg(ps_gr, "global"),
            "psi6_local": avg(ps_gr, "local"),
            "crystal_fraction": avg(ps_gr, "crystal_fraction"),
            "psi6_global_rhump": avg(ps_sp, "global"),
            "psi6_local_rhump": avg(ps_sp, "local"),
            "crystal_fraction_rhump": avg(ps_sp, "crystal_fraction"),
            "snapshots": len(ps_gr),
        }
        for i in SPECIES:
            row["c%d" % i] = meas[i]
            row["c%d_error" % i] = err[i]
            row["c%d_pred" % i] = pred[i]
            row["c%d_dev" % i] = dev[i]
        rows.append(row)
    return rows


def verdict(rows, args):
    psi_bad = [r for r in rows if r["psi6_global"] > args.psi6_max or r["crystal_fraction"] > args.crystal_max]
    worst = max(r["max_abs_dev"] for r in rows)
    rms = math.sqrt(np.mean([r["rms_dev"] ** 2 for r in rows]))
    other = max(r["other"] for r in rows)
    neq = [r["temperature"] for r in rows if not r["equilibrated"]]
    if psi_bad:
        v = "crystalline"
        why = "hexatic order at T = %s (global |psi6| up to %.3f, crystal-like fraction up to %.3f)" % (
            ", ".join("%g" % r["temperature"] for r in psi_bad),
            max(r["psi6_global"] for r in psi_bad), max(r["crystal_fraction"] for r in psi_bad))
    elif worst <= args.tol and other <= args.other_max:
        v = "consistent with Table II"
        why = "max |c_i - c_i(Table II)| = %.3f <= %.3f, other <= %.3f, amorphous" % (worst, args.tol, other)
    else:
        v = "amorphous but off Table II"
        why = "max |c_i - c_i(Table II)| = %.3f (tolerance %.3f), other up to %.3f" % (worst, args.tol, other)
    if neq:
        why += "; not equilibrated by vitrify's criterion at T = %s" % ", ".join("%g" % t for t in neq)
    return {"verdict": v, "reason": why, "max_abs_dev": worst, "rms_dev": rms, "max_other": other,
            "not_equilibrated": neq}


COLUMNS = (["density", "temperature", "equilibrated", "tau_alpha", "tau_alpha_lower_bound",
            "production_time", "u", "p"]
           + [f"c{i}{s}" for i in SPECIES for s in ("", "_error", "_pred", "_dev")]
           + ["other", "other_error", "max_abs_dev", "rms_dev", "gr_first_min", "psi6_global",
              "psi6_local", "crystal_fraction", "psi6_global_rhump", "psi6_local_rhump",
              "crystal_fraction_rhump", "snapshots", "flags"])


def g4(x):
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return "%.6g" % x
    return str(x)


def interpolated_density(rows):
    """Density that minimises sum_{i,T} (c_i - c_i^pred)^2 when every deviation is interpolated
    linearly (two densities) or quadratically (three or more) in rho, over the temperatures
    measured at every density. None when fewer than two densities share a temperature."""
    dens = sorted({r["density"] for r in rows})
    common = set.intersection(*[{r["temperature"] for r in rows if r["density"] == d} for d in dens])
    if len(dens) < 2 or not common:
        return None
    deg = min(2, len(dens) - 1)
    grid = np.linspace(dens[0], dens[-1], 2001)
    total = np.zeros_like(grid)
    for T in sorted(common):
        for i in SPECIES:
            y = [next(r[f"c{i}_dev"] for r in rows if r["density"] == d and r["temperature"] == T) for d in dens]
            total += np.polyval(np.polyfit(dens, y, deg), grid) ** 2
    k = int(np.argmin(total))
    return {"density": float(grid[k]), "temperatures": sorted(common), "interpolation": "linear" if deg == 1 else "quadratic",
            "rms_at_optimum": float(math.sqrt(total[k] / (len(common) * len(SPECIES)))),
            "at_edge": k in (0, len(grid) - 1)}


def write_outputs(args, all_rows, verdicts, walls):
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in all_rows:
            w.writerow([g4(r.get(c)) for c in COLUMNS])
    amorph = {k: v for k, v in verdicts.items() if v["verdict"] != "crystalline"}
    best = min(amorph, key=lambda k: amorph[k]["rms_dev"]) if amorph else None
    interp = interpolated_density(all_rows)
    summary = {"densities": verdicts, "best_density": best, "interpolated_density": interp,
               "criteria": {"tol": args.tol, "psi6_max": args.psi6_max,
                            "crystal_max": args.crystal_max, "other_max": args.other_max},
               "table_ii": {f"c{i}": {"H": TABLE_II[i][0], "g": TABLE_II[i][1]} for i in SPECIES}}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    L = ["# hump2d density calibration (tools/calibrate_hump2d)", "", "Runs (from each run's config.json):", ""]
    for k, v in verdicts.items():
        r = v["run"]
        wall = "" if r.get("wall_seconds") is None else f", wall time {r['wall_seconds']:.0f} s"
        L.append(f"- rho = {k}: N = {r['n_particles']}, NVT, T = {', '.join('%g' % t for t in r['temperatures'])}, "
                 f"{r['copies_per_temperature']} replica(s) per T, dt = {r['dt']}, equilibration "
                 f"{r['equilibration_steps']} steps, production {r['production_steps']} steps "
                 f"({r['production_steps'] * r['dt']:g} tau){wall}")
    L += ["",
         "Prediction: Table II of the paper, c_i = g_i exp(-H_i/T) / sum_k g_k exp(-H_k/T), i = 2..6.",
         "psi6 neighbours: r < first minimum of g(r) (column r_min); psi6 with r < 1.32 in summary.csv.", "",
         "| rho | T | c2 | c3 | c4 | c5 | c6 | other | max abs dev | global psi6 | local psi6 | crystal-like | r_min | tau_alpha | equilibrated |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in all_rows:
        cs = " | ".join("%.3f (%.3f)" % (r[f"c{i}"], r[f"c{i}_pred"]) for i in SPECIES)
        tau = "%.3g" % r["tau_alpha"] if r["tau_alpha"] is not None else "> %.3g" % (r["tau_alpha_lower_bound"] or 0)
        L.append(f"| {fmt_rho(r['density'])} | {r['temperature']:g} | {cs} | {r['other']:.4f} | "
                 f"{r['max_abs_dev']:.3f} | {r['psi6_global']:.3f} | {r['psi6_local']:.3f} | "
                 f"{r['crystal_fraction']:.3f} | {r['gr_first_min']:.2f} | {tau} | {'yes' if r['equilibrated'] else 'no (*)'} |")
    L += ["", "Concentrations: measured (Table II prediction). crystal-like: fraction of particles with six "
          "neighbours and |psi6_j| > 0.7. r_min: first minimum of g(r), the psi6 neighbour cutoff.", ""]
    flagged = [r for r in all_rows if not r["equilibrated"]]
    if flagged:
        L.append("(*) vitrify's equilibration flags:")
        L.append("")
        for r in flagged:
            L.append(f"- rho = {fmt_rho(r['density'])}, T = {r['temperature']:g}: {r['flags']}")
        L.append("")
    L += ["## Verdict per density", "",
          "| rho | verdict | RMS dev | max abs dev | max other | reason |", "|---|---|---|---|---|---|"]
    for k, v in verdicts.items():
        L.append(f"| {k} | {v['verdict']} | {v['rms_dev']:.4f} | {v['max_abs_dev']:.4f} | {v['max_other']:.4f} | {v['reason']} |")
    L += ["", f"Best density (smallest RMS deviation among the amorphous ones): {best}", ""]
    if interp:
        L += [f"Interpolated optimum ({interp['interpolation']} interpolation of every deviation c_i - c_i^pred in rho, "
              f"T = {', '.join('%g' % t for t in interp['temperatures'])}): rho = {interp['density']:.4f}, RMS deviation "
              f"there {interp['rms_at_optimum']:.4f}{' (at the edge of the scanned range)' if interp['at_edge'] else ''}.", ""]
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write("\n".join(L))
    figures(args, all_rows, verdicts)
    print("\n".join(L))


def figures(args, rows, verdicts):
    dens = sorted({fmt_rho(r["density"]) for r in rows}, key=float)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for k in dens:
        rr = sorted([r for r in rows if fmt_rho(r["density"]) == k], key=lambda r: r["temperature"])
        T = [r["temperature"] for r in rr]
        axes[0].plot(T, [r["psi6_global"] for r in rr], "o-", label=f"rho = {k}")
        axes[1].plot(T, [r["psi6_local"] for r in rr], "o-", label=f"rho = {k}")
        axes[1].plot(T, [r["psi6_local_rhump"] for r in rr], "x:", color=axes[1].lines[-1].get_color(),
                     label=f"rho = {k}, r < 1.32")
        axes[2].plot(T, [r["crystal_fraction"] for r in rr], "o-", label=f"rho = {k}")
    axes[0].axhline(args.psi6_max, color="grey", ls="--", lw=0.8)
    axes[0].set(xlabel="T", ylabel="global |<psi6>|", title="global hexatic order")
    axes[1].set(xlabel="T", ylabel="mean local |psi6_j|", title="local hexatic order")
    axes[2].axhline(args.crystal_max, color="grey", ls="--", lw=0.8)
    axes[2].set(xlabel="T", ylabel="fraction of N", title="crystal-like: 6 neighbours and |psi6_j| > 0.7")
    for a in axes:
        a.legend(fontsize=7)
    fig.suptitle(f"hump2d, N = {rows[0]['n_particles']}: psi6 of the final snapshots (neighbours: r < first min of g(r))", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "calibration-psi6.png"), dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(dens), figsize=(4.2 * len(dens), 4), squeeze=False, sharey=True)
    tmax = max(r["temperature"] for r in rows)
    Tg = np.linspace(0.08, tmax * 1.1, 200)
    pg = [predicted_concentrations(t) for t in Tg]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for a, k in zip(axes[0], dens):
        rr = sorted([r for r in rows if fmt_rho(r["density"]) == k], key=lambda r: r["temperature"])
        T = [r["temperature"] for r in rr]
        for n, i in enumerate(SPECIES):
            c = colors[n % len(colors)]
            a.plot(Tg, [p[i] for p in pg], "-", color=c, lw=1)
            a.errorbar(T, [r[f"c{i}"] for r in rr], yerr=[r[f"c{i}_error"] or 0 for r in rr], fmt="o",
                       color=c, ms=4, label=f"c{i}")
        a.plot(T, [r["other"] for r in rr], "s", color="k", ms=3, label="other")
        a.set(xlabel="T", title=f"rho = {k}: {verdicts[k]['verdict']}\nmax|dev| = {verdicts[k]['max_abs_dev']:.3f}")
        a.title.set_fontsize(9)
        a.set_xlim(0.08, tmax * 1.1)
    axes[0][0].set_ylabel("concentration")
    axes[0][0].legend(fontsize=7, ncol=2)
    fig.suptitle(f"hump2d, N = {rows[0]['n_particles']}: measured (symbols) vs Table II (lines)", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "calibration-concentrations.png"), dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(prog="tools/calibrate_hump2d", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--vitrify", help="vitrify binary (default: $VITRIFY, build/vitrify, PATH)")
    ap.add_argument("--densities", default="0.80,0.825,0.85", help="comma-separated densities")
    ap.add_argument("--temperatures", default="0.25,0.30,0.35,0.40,0.50,0.60", help="comma-separated temperatures")
    ap.add_argument("--n", type=int, default=4096, help="particles per replica (default 4096)")
    ap.add_argument("--steps", type=int, default=80000, help="production steps (default 80000)")
    ap.add_argument("--equilibration", type=int, default=None, help="equilibration steps (default: steps/2)")
    ap.add_argument("--melt-steps", type=int, default=2000)
    ap.add_argument("--cool-steps", type=int, default=5000)
    ap.add_argument("--melt-temperature", type=float, default=1.5)
    ap.add_argument("--sample-interval", type=int, default=20)
    ap.add_argument("--copies", type=int, default=1, help="replicas per temperature")
    ap.add_argument("--dt", type=float, default=0.005)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="runs/calibrate_hump2d", help="output directory")
    ap.add_argument("--quick", action="store_true", help="smoke test: N = 256, 2 densities, 2 temperatures, short runs")
    ap.add_argument("--analyze-only", action="store_true", help="do not run vitrify; analyse existing run directories")
    ap.add_argument("--relaxed-analysis", action="store_true",
                    help="also run `vitrify analyze --accept too_few_blocks` (RUN/analysis_relaxed/)")
    ap.add_argument("--resume", action="store_true", help="resume interrupted runs from their checkpoints instead of starting over")
    ap.add_argument("--tol", type=float, default=0.02, help="max |c_i - c_i(Table II)| for the verdict")
    ap.add_argument("--psi6-max", type=float, default=0.1, help="global |psi6| above which a state counts as crystalline")
    ap.add_argument("--crystal-max", type=float, default=0.10, help="crystal-like fraction (|psi6_j| > 0.7) above which a state counts as crystalline")
    ap.add_argument("--other-max", type=float, default=0.05, help="max other fraction for the verdict")
    args = ap.parse_args()
    if args.quick:
        args.n = 256
        args.densities = "0.80,0.825"
        args.temperatures = "0.5,0.6"
        args.steps = 4000
        args.melt_steps, args.cool_steps = 500, 500
        args.sample_interval = 10
        if args.out == "runs/calibrate_hump2d":
            args.out = "runs/calibrate_hump2d_quick"
    args.densities = parse_list(args.densities)
    args.temperatures = sorted(parse_list(args.temperatures))
    if args.equilibration is None:
        args.equilibration = args.steps // 2
    args.out = os.path.abspath(args.out)
    vitrify = None if (args.analyze_only and not args.relaxed_analysis) else find_vitrify(args.vitrify, "calibrate_hump2d")
    all_rows, verdicts, walls = [], {}, {}
    for rho in args.densities:
        if args.analyze_only:
            d = os.path.join(args.out, "rho_%s" % fmt_rho(rho))
            wf = os.path.join(d, "wall_seconds.txt")
            wall = float(open(wf).read()) if os.path.exists(wf) else None
        else:
            d, wall = run_density(args, vitrify, rho)
            if wall is None and os.path.exists(os.path.join(d, "wall_seconds.txt")):
                wall = float(open(os.path.join(d, "wall_seconds.txt")).read())
        walls[fmt_rho(rho)] = wall
        if args.relaxed_analysis:
            relaxed_analysis(vitrify, d)
        rows = analyse_density(d, args)
        all_rows += rows
        verdicts[fmt_rho(rho)] = verdict(rows, args)
        with open(os.path.join(d, "config.json")) as f:
            c = json.load(f)
        verdicts[fmt_rho(rho)]["run"] = {k: c.get(k) for k in (
            "n_particles", "temperatures", "copies_per_temperature", "dt", "equilibration_steps",
            "production_steps", "sample_interval", "seed")}
        verdicts[fmt_rho(rho)]["run"]["wall_seconds"] = wall
    write_outputs(args, all_rows, verdicts, walls)


if __name__ == "__main__":
    main()
