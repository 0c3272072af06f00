# Started by the launcher tools/study_binary3d_pressure, which picks the Python interpreter (tools/lib/python.sh).
"""binary3d pressure study with vitrify (issue #7, docs/PHYSICS.md, "Open questions").

Question: at which pressure do the paper's quasi-species lists (small s3..s10, large l6..l14)
cover the particles in the temperature range where the dynamics slows down (tau_alpha grows
super-Arrhenius)? docs/PHYSICS.md ("Open questions") records independent runs showing that at
p = 10 they do not, and that they do near p = 3.

For every pressure (default 10 and 3) the tool writes a vitrify configuration (binary3d, NPT,
N = 1024 by default, species "auto" with a low threshold so that every populated (type, n) is
tracked), runs `vitrify run` (one run at a time; a finished run with the same configuration is
not rerun), and then reports per state point:

  - T, density, tau_alpha (measurements.json; "not reached" kept as a lower bound) and the
    equilibration verdict,
  - the concentration of every tracked species and of the other bins (fractions of N),
  - the coverage of the paper's lists: the fraction of all particles whose (type, n) is in
    s3..s10 or l6..l14 (from the time-averaged concentrations; species below the auto
    threshold at every temperature are in the other bins and counted as not covered, so the
    coverage is exact up to that threshold), and the same per particle type,
  - the apparent activation energy E_app = d ln tau / d(1/T) between neighbouring temperatures
    (finite differences); tau_alpha grows super-Arrhenius when E_app rises as T falls. The
    verdict compares E_app of the coldest pair with the smallest E_app of the scan (ratio >=
    --fragile-ratio, default 1.2, and E_app not falling by more than 10 % at any step from the
    minimum down to the coldest pair); tau_alpha carries no error bar, so judge the ratio against
    the scatter of E_app.

Outputs in OUT/: summary.csv (one row per state point), populations.csv (state point x
species), summary.md, summary.json and the figures study-binary3d-tau.png (ln tau vs 1/T per
pressure), study-binary3d-populations.png (populations vs T per pressure and type) and
study-binary3d-coverage.png (coverage of the paper's lists vs T).

Usage examples:
  tools/study_binary3d_pressure --quick                  # smoke test, < 1 minute
  tools/study_binary3d_pressure --threads 1 --out runs/study_binary3d_pressure
  tools/study_binary3d_pressure --pressures 10,3,1 --temperatures "10:2,1,0.6,0.45;3:0.6,0.3,0.2;1:0.3,0.2,0.15"
  tools/study_binary3d_pressure --analyze-only --out runs/study_binary3d_pressure
  tools/study_binary3d_pressure --analyze-only --relaxed-analysis --out runs/study_binary3d_pressure

Needs Python 3 with numpy and matplotlib.
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

PAPER_SMALL = set(range(3, 11))
PAPER_LARGE = set(range(6, 15))
DEFAULT_TEMPERATURES = {
    10.0: [2.0, 1.0, 0.7, 0.55, 0.45, 0.4],
    3.0: [0.8, 0.45, 0.3, 0.24, 0.2, 0.18],
}


def fmt_p(p):
    return ("%.4f" % p).rstrip("0").rstrip(".")


def parse_temperatures(text, pressures):
    """"10:2,1,0.5;3:0.5,0.3" -> {10.0: [...], 3.0: [...]}; a plain list applies to all."""
    out = {}
    if text:
        if ":" in text:
            for part in text.split(";"):
                if part.strip():
                    p, ts = part.split(":")
                    out[float(p)] = [float(t) for t in ts.split(",") if t.strip()]
        else:
            ts = [float(t) for t in text.split(",") if t.strip()]
            out = {p: ts for p in pressures}
    for p in pressures:
        if p not in out:
            if p in DEFAULT_TEMPERATURES:
                out[p] = DEFAULT_TEMPERATURES[p]
            else:
                # scale the p = 10 list with the soft-sphere estimate T ~ p^(8/11)
                out[p] = [round(t * (p / 10.0) ** (8.0 / 11.0), 3) for t in DEFAULT_TEMPERATURES[10.0]]
    return {p: sorted(out[p]) for p in pressures}


def make_config(args, p, temps, out_dir):
    return {
        "comment": "tools/study_binary3d_pressure: pressure study at p = %g" % p,
        "model": "binary3d",
        "ensemble": "npt",
        "n_particles": args.n,
        "pressure": p,
        "temperatures": temps,
        "copies_per_temperature": args.copies,
        "dt": args.dt,
        "seed": args.seed,
        "initial_density": args.initial_density,
        "melt_temperature": args.melt_temperature or max(1.0, 2.0 * max(temps)),
        "melt_steps": args.melt_steps,
        "cool_steps": args.cool_steps,
        "equilibration_steps": args.equilibration,
        "production_steps": args.steps,
        "sample_interval": args.sample_interval,
        "species": "auto",
        "species_auto_threshold": args.auto_threshold,
        "output_dir": out_dir,
    }


def run_pressure(args, vitrify, p, temps):
    d = os.path.join(args.out, "p_%s" % fmt_p(p))
    os.makedirs(d, exist_ok=True)
    cfg = make_config(args, p, temps, d)
    cfg_path = os.path.join(d, "config.json")
    if os.path.exists(os.path.join(d, "measurements.json")) and os.path.exists(cfg_path):
        with open(cfg_path) as f:
            if json.load(f) == cfg:
                print("p = %s: finished run found in %s, not rerun" % (fmt_p(p), d), flush=True)
                return d
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    cmd = [vitrify, "run", cfg_path, "-o", d, "--threads", str(args.threads)]
    if not args.resume:
        cmd.append("--force")
    print("p = %s: %s" % (fmt_p(p), " ".join(cmd)), flush=True)
    t0 = time.time()
    rc = subprocess.call(cmd)
    wall = time.time() - t0
    if rc != 0:
        print("p = %s: vitrify run exited with %d" % (fmt_p(p), rc), file=sys.stderr)
        if not os.path.exists(os.path.join(d, "measurements.json")):
            sys.exit(rc)
    with open(os.path.join(d, "wall_seconds.txt"), "w") as f:
        f.write("%.1f\n" % wall)
    print("p = %s: done in %.0f s" % (fmt_p(p), wall), flush=True)
    return d


def analyse_pressure(d):
    with open(os.path.join(d, "measurements.json")) as f:
        m = json.load(f)
    p = m["pressure"]
    species = m["species"]
    types = m["particle_types"]
    rows, pops = [], []
    for sp in m["state_points"]:
        c = sp["concentrations"]
        cov = {"S": 0.0, "L": 0.0}
        tot = {"S": 0.0, "L": 0.0}
        for s in species:
            t = types[s["type"]]
            v = c[s["name"]]["mean"]
            tot[t] += v
            inside = (s["neighbors"] in PAPER_SMALL) if t == "S" else (s["neighbors"] in PAPER_LARGE)
            if inside:
                cov[t] += v
            pops.append({"pressure": p, "temperature": sp["temperature"], "species": s["name"],
                         "type": t, "neighbors": s["neighbors"], "concentration": v,
                         "error": c[s["name"]]["error"], "in_paper_list": inside})
        for t in ("S", "L"):
            v = c["other_" + t]["mean"]
            pops.append({"pressure": p, "temperature": sp["temperature"], "species": "other_" + t,
                         "type": t, "neighbors": None, "concentration": v,
                         "error": c["other_" + t]["error"], "in_paper_list": False})
        # most populated species per type
        top = {}
        for t in ("S", "L"):
            cand = [(c[s["name"]]["mean"], s["neighbors"]) for s in species if types[s["type"]] == t]
            top[t] = max(cand)[1] if cand else None
        tau = sp["tau_alpha"]
        rows.append({
            "n_particles": m["n_particles"],
            "pressure": p,
            "temperature": sp["temperature"],
            "density": sp["density"]["mean"],
            "density_error": sp["density"]["error"],
            "tau_alpha": tau["value"] if tau["reached"] else None,
            "tau_alpha_reached": tau["reached"],
            "tau_alpha_lower_bound": tau.get("lower_bound"),
            "equilibrated": sp["equilibrated"],
            "production_time": sp["run"]["production_steps"] * sp["run"]["dt"],
            "h": (sp.get("h") or {}).get("mean"),
            "coverage_paper": cov["S"] + cov["L"],
            "outside_paper_small": 0.5 - cov["S"],
            "outside_paper_large": 0.5 - cov["L"],
            "other_small": c["other_S"]["mean"],
            "other_large": c["other_L"]["mean"],
            "mode_small_n": top["S"],
            "mode_large_n": top["L"],
            "small_range": n_range(species, types, c, "S"),
            "large_range": n_range(species, types, c, "L"),
            "flags": "; ".join(sp.get("flags", [])),
        })
    rows.sort(key=lambda r: r["temperature"])
    add_activation(rows)
    return rows, pops


def n_range(species, types, c, t, cut=0.005):
    ns = [s["neighbors"] for s in species if types[s["type"]] == t and c[s["name"]]["mean"] > cut]
    return "%d-%d" % (min(ns), max(ns)) if ns else ""


def add_activation(rows):
    """E_app between neighbouring temperatures (assigned to the colder point of each pair)."""
    for r in rows:
        r["E_app"] = None
        r["E_app_pair"] = None
    pts = [r for r in rows if r["tau_alpha"] is not None]
    for a, b in zip(pts[:-1], pts[1:]):  # a colder than b
        a["E_app"] = (math.log(a["tau_alpha"]) - math.log(b["tau_alpha"])) / (1.0 / a["temperature"] - 1.0 / b["temperature"])
        a["E_app_pair"] = (a["temperature"], b["temperature"])


def dynamics_verdict(rows, ratio_min):
    """Super-Arrhenius test on the apparent activation energies: find the smallest E_app (the
    Arrhenius-like regime; at the highest T of an NPT scan E_app also carries the density change),
    then require E_app of the coldest pair >= ratio_min * that minimum, with E_app not falling by
    more than 10 % at any step from the minimum down to the coldest pair. No error bars: tau_alpha
    has none in measurements.json (one replica per T); compare the ratio with the scatter."""
    e = [(r["temperature"], r["E_app"], r["E_app_pair"]) for r in rows if r["E_app"] is not None]
    if len(e) < 2:
        return {"super_arrhenius": None, "reason": "fewer than three temperatures with tau_alpha reached"}
    e.sort()  # coldest first
    kmin = min(range(len(e)), key=lambda k: e[k][1])
    emin, cold = e[kmin][1], e[0][1]
    ratio = cold / emin if emin > 0 else float("inf")
    seq = [x[1] for x in e[:kmin + 1]][::-1]  # from the minimum towards the coldest pair
    monotone = all(seq[k + 1] >= 0.9 * seq[k] for k in range(len(seq) - 1))
    sa = kmin > 0 and ratio >= ratio_min and monotone
    onset = e[kmin][2][0] if kmin > 0 else None
    return {"super_arrhenius": sa, "E_app_min": emin, "E_app_min_between": list(e[kmin][2]),
            "E_app_coldest": cold, "E_app_coldest_between": list(e[0][2]), "ratio": ratio,
            "monotone": monotone, "onset_temperature": onset, "ratio_threshold": ratio_min,
            "E_app_by_pair": [{"between": list(x[2]), "E_app": x[1]} for x in e],
            "reason": "E_app is smallest (%.3g) between T = %g and %g and reaches %.3g between T = %g and %g: "
                      "ratio %.2f (threshold %.2f)%s" % (
                          emin, e[kmin][2][0], e[kmin][2][1], cold, e[0][2][0], e[0][2][1], ratio, ratio_min,
                          "" if monotone else ", not monotone")}


COLUMNS = ["pressure", "temperature", "density", "density_error", "tau_alpha", "tau_alpha_reached",
           "tau_alpha_lower_bound", "equilibrated", "production_time", "E_app", "h", "coverage_paper",
           "outside_paper_small", "outside_paper_large", "other_small", "other_large", "mode_small_n",
           "mode_large_n", "small_range", "large_range", "flags"]


def cell(x):
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return "%.6g" % x
    return str(x)


def write_outputs(args, rows, pops, verdicts):
    with open(os.path.join(args.out, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([cell(r[k]) for k in COLUMNS])
    pk = ["pressure", "temperature", "species", "type", "neighbors", "concentration", "error", "in_paper_list"]
    with open(os.path.join(args.out, "populations.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(pk)
        for r in pops:
            w.writerow([cell(r[k]) for k in pk])
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump({"pressures": verdicts, "fragile_ratio": args.fragile_ratio}, f, indent=2)
        f.write("\n")
    L = ["# binary3d pressure study (tools/study_binary3d_pressure)", "", "Runs (from each run's config.json):", ""]
    for k, v in verdicts.items():
        r = v["run"]
        wall = "" if v.get("wall_seconds") is None else f", wall time {v['wall_seconds']:.0f} s"
        L.append(f"- p = {k}: N = {r['n_particles']}, NPT, T = {', '.join('%g' % t for t in r['temperatures'])}, "
                 f"{r['copies_per_temperature']} replica(s) per T, dt = {r['dt']}, equilibration "
                 f"{r['equilibration_steps']} steps, production {r['production_steps']} steps "
                 f"({r['production_steps'] * r['dt']:g} tau), species \"auto\" (threshold "
                 f"{r['species_auto_threshold']}){wall}")
    L += ["",
         "coverage: fraction of all particles in the paper's lists (s3..s10, l6..l14); outside S / L: "
         "fractions of all N outside the lists per type (each type is 1/2 of N). ranges: neighbour counts "
         "populated above 0.5 % of N.", "",
         "| p | T | rho | tau_alpha | E_app | equilibrated | coverage | outside S | outside L | small n | large n |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        tau = "%.3g" % r["tau_alpha"] if r["tau_alpha"] is not None else "> %.3g" % (r["tau_alpha_lower_bound"] or 0)
        ea = "%.3g" % r["E_app"] if r["E_app"] is not None else ""
        L.append(f"| {fmt_p(r['pressure'])} | {r['temperature']:g} | {r['density']:.4f} | {tau} | {ea} | "
                 f"{'yes' if r['equilibrated'] else 'no'} | {r['coverage_paper']:.4f} | {r['outside_paper_small']:.4f} | "
                 f"{r['outside_paper_large']:.4f} | {r['small_range']} | {r['large_range']} |")
    L += ["", "E_app = d ln tau / d(1/T) between this temperature and the next warmer one.", "",
          "## Verdict per pressure", ""]
    for p, v in verdicts.items():
        L.append(f"- p = {p}: super-Arrhenius: {v['dynamics']['super_arrhenius']} ({v['dynamics']['reason']}); "
                 f"paper lists cover >= 99.5 % of N at T = {v['covered_temperatures'] or 'none'}; "
                 f"lowest coverage {v['min_coverage']:.4f} at T = {v['min_coverage_T']:g}.")
    L.append("")
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write("\n".join(L))
    figures(args, rows, pops)
    print("\n".join(L))


def figures(args, rows, pops):
    ps = sorted({r["pressure"] for r in rows}, reverse=True)
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for p in ps:
        rr = [r for r in rows if r["pressure"] == p]
        x = [1 / r["temperature"] for r in rr if r["tau_alpha"] is not None]
        y = [math.log(r["tau_alpha"]) for r in rr if r["tau_alpha"] is not None]
        line, = ax.plot(x, y, "o-", label=f"p = {fmt_p(p)}")
        xb = [1 / r["temperature"] for r in rr if r["tau_alpha"] is None and r["tau_alpha_lower_bound"]]
        yb = [math.log(r["tau_alpha_lower_bound"]) for r in rr if r["tau_alpha"] is None and r["tau_alpha_lower_bound"]]
        if xb:
            ax.plot(xb, yb, "^", color=line.get_color(), label=f"p = {fmt_p(p)}: lower bound")
        if len(x) >= 2:  # Arrhenius line through the two hottest points
            k = np.argsort(x)[:2]
            s = (y[k[1]] - y[k[0]]) / (x[k[1]] - x[k[0]])
            xx = np.linspace(min(x), max(x), 10)
            ax.plot(xx, y[k[0]] + s * (xx - x[k[0]]), ":", color=line.get_color(), lw=1)
        for r in rr:
            if not r["equilibrated"] and r["tau_alpha"] is not None:
                ax.plot(1 / r["temperature"], math.log(r["tau_alpha"]), "o", mfc="none", ms=10, color="grey")
    ax.set(xlabel="1/T", ylabel="ln tau_alpha", title=f"binary3d, N = {rows[0]['n_particles']}: tau_alpha (dotted: Arrhenius through the two hottest points;\ngrey rings: not equilibrated by vitrify's criterion)")
    ax.title.set_fontsize(8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "study-binary3d-tau.png"), dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(len(ps), 2, figsize=(10, 3.6 * len(ps)), squeeze=False)
    cmap = plt.get_cmap("viridis")
    for k, p in enumerate(ps):
        for j, t in enumerate(("S", "L")):
            a = axes[k][j]
            names = sorted({(q["neighbors"], q["species"]) for q in pops if q["pressure"] == p and q["type"] == t and q["neighbors"] is not None})
            for m, (n, name) in enumerate(names):
                qq = sorted([q for q in pops if q["pressure"] == p and q["species"] == name], key=lambda q: q["temperature"])
                if max(q["concentration"] for q in qq) < 0.005:
                    continue
                style = "-" if (n in (PAPER_SMALL if t == "S" else PAPER_LARGE)) else "--"
                a.plot([q["temperature"] for q in qq], [q["concentration"] for q in qq], style, marker="o", ms=3,
                       color=cmap(m / max(1, len(names) - 1)), label=name)
            qq = sorted([q for q in pops if q["pressure"] == p and q["species"] == "other_" + t], key=lambda q: q["temperature"])
            a.plot([q["temperature"] for q in qq], [q["concentration"] for q in qq], "k:", marker="s", ms=3, label="other")
            a.set(xlabel="T", ylabel="fraction of N", title=f"p = {fmt_p(p)}, {'small' if t == 'S' else 'large'} particles (dashed: outside the paper's list)")
            a.title.set_fontsize(8)
            a.set_xscale("log")
            a.legend(fontsize=6, ncol=3)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "study-binary3d-populations.png"), dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for p in ps:
        rr = [r for r in rows if r["pressure"] == p]
        ax.plot([r["temperature"] for r in rr], [max(1 - r["coverage_paper"], 1e-4) for r in rr], "o-", label=f"p = {fmt_p(p)}")
    ax.axhline(0.005, color="grey", ls="--", lw=0.8, label="0.5 %")
    ax.set(xlabel="T", ylabel="fraction of N outside the paper's lists", yscale="log", xscale="log")
    ax.set_ylim(bottom=1e-4)
    ax.legend(fontsize=8)
    ax.set_title(f"binary3d, N = {rows[0]['n_particles']}: particles outside s3..s10, l6..l14", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "study-binary3d-coverage.png"), dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(prog="tools/study_binary3d_pressure", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--vitrify", help="vitrify binary (default: $VITRIFY, build/vitrify, PATH)")
    ap.add_argument("--pressures", default="10,3", help="comma-separated pressures (default 10,3)")
    ap.add_argument("--temperatures", default="", help='per pressure, e.g. "10:2,1,0.5;3:0.5,0.3" (defaults: p = 10: '
                    + ",".join(map(str, DEFAULT_TEMPERATURES[10.0])) + "; p = 3: " + ",".join(map(str, DEFAULT_TEMPERATURES[3.0]))
                    + "; other p: the p = 10 list scaled by (p/10)^(8/11))")
    ap.add_argument("--n", type=int, default=1024, help="particles per replica (even; default 1024)")
    ap.add_argument("--steps", type=int, default=150000, help="production steps (default 150000)")
    ap.add_argument("--equilibration", type=int, default=None, help="equilibration steps (default: steps/2)")
    ap.add_argument("--melt-steps", type=int, default=3000)
    ap.add_argument("--cool-steps", type=int, default=10000)
    ap.add_argument("--melt-temperature", type=float, default=0.0, help="0: max(1, 2 max T)")
    ap.add_argument("--initial-density", type=float, default=0.6)
    ap.add_argument("--sample-interval", type=int, default=20)
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--dt", type=float, default=0.005)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--auto-threshold", type=float, default=0.001, help="species_auto_threshold (default 0.001)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="runs/study_binary3d_pressure")
    ap.add_argument("--fragile-ratio", type=float, default=1.2,
                    help="E_app(coldest pair) / min E_app needed to call the growth super-Arrhenius (default 1.2)")
    ap.add_argument("--quick", action="store_true", help="smoke test: N = 128, short runs, 3 temperatures per pressure")
    ap.add_argument("--analyze-only", action="store_true", help="do not run vitrify; analyse existing run directories")
    ap.add_argument("--relaxed-analysis", action="store_true",
                    help="also run `vitrify analyze --accept too_few_blocks` (RUN/analysis_relaxed/)")
    ap.add_argument("--resume", action="store_true", help="resume interrupted runs from their checkpoints")
    args = ap.parse_args()
    pressures = [float(x) for x in args.pressures.split(",") if x.strip()]
    if args.quick:
        args.n = 128
        args.steps = 2000
        args.melt_steps, args.cool_steps = 500, 500
        args.sample_interval = 10
        if not args.temperatures:
            args.temperatures = ";".join("%g:%s" % (p, ",".join("%g" % t for t in parse_temperatures("", [p])[p][::2]))
                                         for p in pressures)
        if args.out == "runs/study_binary3d_pressure":
            args.out = "runs/study_binary3d_pressure_quick"
    args.temps = parse_temperatures(args.temperatures, pressures)
    if args.equilibration is None:
        args.equilibration = args.steps // 2
    args.out = os.path.abspath(args.out)
    os.makedirs(args.out, exist_ok=True)
    vitrify = None if (args.analyze_only and not args.relaxed_analysis) else find_vitrify(args.vitrify, "study_binary3d_pressure")
    rows, pops, verdicts = [], [], {}
    for p in pressures:
        d = os.path.join(args.out, "p_%s" % fmt_p(p)) if args.analyze_only else run_pressure(args, vitrify, p, args.temps[p])
        if args.relaxed_analysis:
            relaxed_analysis(vitrify, d)
        rr, pp = analyse_pressure(d)
        rows += rr
        pops += pp
        covered = [r["temperature"] for r in rr if r["coverage_paper"] >= 0.995]
        worst = min(rr, key=lambda r: r["coverage_paper"])
        wf = os.path.join(d, "wall_seconds.txt")
        with open(os.path.join(d, "config.json")) as f:
            c = json.load(f)
        run = {k: c.get(k) for k in ("n_particles", "temperatures", "copies_per_temperature", "dt",
                                     "equilibration_steps", "production_steps", "sample_interval",
                                     "seed", "species_auto_threshold")}
        verdicts[fmt_p(p)] = {"run": run,"dynamics": dynamics_verdict(rr, args.fragile_ratio),
                              "covered_temperatures": covered, "min_coverage": worst["coverage_paper"],
                              "min_coverage_T": worst["temperature"],
                              "wall_seconds": float(open(wf).read()) if os.path.exists(wf) else None}
    write_outputs(args, rows, pops, verdicts)


if __name__ == "__main__":
    main()
