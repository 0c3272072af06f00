# Started by the launcher tools/below_md_range, which picks the Python interpreter (tools/lib/python.sh).
"""Below the MD range (docs/VALIDATION.md): the quasi-species model fitted where plain MD
equilibrates, against parallel-tempering measurements at every temperature of the ladder.

Usage: tools/below_md_range --pt PT_RUN --md MD_RUN --fit LABEL=analysis.json [--fit ...]
                            [--figures PREFIX] [--table OUT.md] [--csv OUT.csv]

PT_RUN and MD_RUN are run directories (or their measurements.json) of the same temperature
ladder: PT_RUN with replica exchange, MD_RUN without. Each --fit is the analysis.json of a
`vitrify analyze` run whose input has every temperature of PT_RUN (either measurements file,
with --tmin/--tmax choosing the fitted range). Every fit gets its table; the first one also
serves for the plain-MD table (its tau_alpha prediction) and the concentration and plain-MD
figures. hump2d only (species c2...c6, the paper's Table II).

What is compared at each temperature:
- concentrations c_i: the model's Eq. 7 value (`concentrations.species.*.predicted`, fitted H and
  g, with its propagated error) against the PT measurement;
- C_v per particle: the model's d u_model/dT (`per_temperature.heat_capacity_model`, the
  potential energy only: configurational part + (d/2) vibrational) plus the kinetic d/2,
  against the PT fluctuation value C_v = <dE^2>/(N T^2), E = K + U, which includes the
  kinetic part;
- plain MD against PT: u, c_i, C_v, the equilibration verdict and tau_alpha of MD.

Temperatures that the analysis input lacks (e.g. a fit from a subset of the plain-MD state
points) take the model values of its grid (`analysis.json` `grid`, linear interpolation; with
the default 200 grid points it differs from the exact values by < 1e-4 in c_i and C_v for the
hump2d ladder of inputs/pt-hump2d.json).

--pt-repeat adds a second PT run of the same ladder (another seed): a table of the differences
and its C_v in the figure.

Writes PREFIX-cv.png (C_v(T)), PREFIX-concentrations.png (c_i(T)) and PREFIX-md-vs-pt.png
(plain MD against PT, tau_alpha, exchange acceptance), a Markdown table (stdout or --table)
and a CSV (--csv). Needs numpy and matplotlib.
"""

import argparse
import csv
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from validation_figures import NAMES, TABLE_II, conc  # noqa: E402

TOL = 1e-9


def load_measurements(path):
    if os.path.isdir(path):
        path = os.path.join(path, "measurements.json")
    with open(path) as f:
        return json.load(f)


def value_error(x):
    """(mean, error) of a measurements.json value object; (nan, nan) for null."""
    if x is None or x.get("mean") is None:
        return math.nan, math.nan
    return x["mean"], x["error"] if x.get("error") is not None else math.nan


def index_of(temps, t):
    for k, tk in enumerate(temps):
        if abs(tk - t) <= TOL * max(1.0, abs(t)):
            return k
    return None


class Fit:
    """Model values of one analysis.json at the temperatures of its input."""

    def __init__(self, label, path):
        with open(path) as f:
            a = json.load(f)
        self.label = label
        self.fitted = a["temperature_range"]["fitted"]
        self.dimension = a["source"]["dimension"]
        # The NVT model's C_v is d u_model/dT (potential energy); the measured fluctuation C_v
        # includes the kinetic d/2 (docs/ANALYSIS.md 7, docs/OUTPUTS.md heat_capacity).
        self.kinetic = 0.5 * self.dimension
        c = a["concentrations"]
        self.temps = c["temperature"]
        self.conc = {s: (c["species"][s]["predicted"]["value"], c["species"][s]["predicted"]["error"])
                     for s in NAMES if c["species"].get(s, {}).get("in_model")}
        pt = a["per_temperature"]
        self.cv_temps = pt["temperature"]
        self.cv = (pt["heat_capacity_model"]["value"], pt["heat_capacity_model"]["error"])
        g = a["grid"]
        self.grid_columns = g
        self.grid_t = np.array(g["temperature"], dtype=float)
        self.grid_cv = np.array([np.nan if v is None else v for v in g["heat_capacity_model"]["value"]],
                                dtype=float) + self.kinetic
        self.grid_conc = {s: np.array(g["concentrations"][s]["value"], dtype=float) for s in self.conc}
        lt = pt.get("ln_tau_alpha_predicted")
        self.ln_tau = (lt["value"], lt["error"]) if lt else None
        lt = pt.get("ln_tau_alpha_fit_at_measured_xi")
        self.ln_tau_xi = (lt["value"], lt["error"]) if lt else None
        th = a["thermodynamics"]
        peak = th.get("heat_capacity_peak") or {}
        self.peak = None
        if peak.get("temperature") is not None:
            self.peak = (peak["temperature"], peak["heat_capacity"]["value"] + self.kinetic,
                         peak["heat_capacity"]["error"], peak.get("at_grid_edge"))
        self.negative_below = th.get("heat_capacity_negative_below")
        self.e = [(x["group"], x["e"]) for x in th.get("energy_per_neighbor", [])]

    def _grid(self, column, t):
        """Linear interpolation of a grid column {value, error} at t (nan outside the grid)."""
        if not self.grid_t[0] <= t <= self.grid_t[-1]:
            return math.nan, math.nan
        v = np.array([np.nan if x is None else x for x in column["value"]], dtype=float)
        e = np.array([np.nan if x is None else x for x in column["error"]], dtype=float)
        return float(np.interp(t, self.grid_t, v)), float(np.interp(t, self.grid_t, e))

    def concentration(self, s, t):
        """Model c_s at t: the value at a temperature of the analysis input, else the grid's."""
        if s not in self.conc:
            return math.nan, math.nan
        k = index_of(self.temps, t)
        if k is None:
            return self._grid(self.grid_columns["concentrations"][s], t)
        v, e = self.conc[s]
        return (math.nan if v[k] is None else v[k]), (math.nan if e[k] is None else e[k])

    def tau_alpha(self, t, measured_xi=False):
        """tau_alpha from ln tau = mu xi/T + c at an input temperature, xi from the model's
        concentrations (or the measured ones): (value, low, high) of exp(ln tau -+ error), nan
        when there is no relaxation fit."""
        k = index_of(self.cv_temps, t)
        lt = self.ln_tau_xi if measured_xi else self.ln_tau
        if lt is None or k is None or lt[0][k] is None:
            return math.nan, math.nan, math.nan
        v, e = lt[0][k], lt[1][k] or 0.0
        return math.exp(v), math.exp(v - e), math.exp(v + e)

    def heat_capacity(self, t):
        """Model C_v at t, kinetic part included (input temperature, else the grid)."""
        k = index_of(self.cv_temps, t)
        if k is None:
            v, e = self._grid(self.grid_columns["heat_capacity_model"], t)
            return v + self.kinetic, e
        if self.cv[0][k] is None:
            return math.nan, math.nan
        return self.cv[0][k] + self.kinetic, self.cv[1][k]


def pull(a, ea, b, eb):
    s = math.hypot(ea, eb)
    return (a - b) / s if s > 0 else math.nan


def fmt_tau(t):
    v, lo, hi = t
    return "—" if math.isnan(v) else f"{v:.3g} ({lo:.3g}–{hi:.3g})"


def fmt_pull(x):
    return "—" if math.isnan(x) else f"{x:+.1f}"


def fmt(v, e, digits=3):
    if math.isnan(v):
        return "—"
    if math.isnan(e):
        return f"{v:.{digits}f}"
    return f"{v:.{digits}f} ± {e:.{digits}f}"


def rows_of(pt, md, fit):
    md_temps = [p["temperature"] for p in md["state_points"]]
    temps = np.array([p["temperature"] for p in pt["state_points"]], dtype=float)
    table2 = conc({k: v[0] for k, v in TABLE_II.items()}, {k: v[1] for k, v in TABLE_II.items()}, temps)
    rows = []
    for p in pt["state_points"]:
        t = p["temperature"]
        r = {"T": t, "in_fit": fit.fitted[0] - TOL <= t <= fit.fitted[1] + TOL}
        for j, s in enumerate(NAMES):
            r[f"{s}_pt"] = value_error(p["concentrations"].get(s))
            r[f"{s}_model"] = fit.concentration(s, t)
            r[f"{s}_table2"] = float(table2[j][len(rows)])
        r["cv_pt"] = value_error(p.get("heat_capacity"))
        r["cv_model"] = fit.heat_capacity(t)
        r["u_pt"] = value_error(p["u"])
        k = index_of(md_temps, t)
        q = md["state_points"][k] if k is not None else None
        r["md"] = q
        if q is not None:
            r["u_md"] = value_error(q["u"])
            r["cv_md"] = value_error(q.get("heat_capacity"))
            for s in NAMES:
                r[f"{s}_md"] = value_error(q["concentrations"].get(s))
        rows.append(r)
    return rows


def table(rows, fit, out):
    w = out.write
    w(f"Model: {fit.label} (fitted over T = {fit.fitted[0]:g}–{fit.fitted[1]:g}); "
      "each cell is model / PT measured (± one standard error); C_v per particle, kinetic part "
      "included in both.\n\n")
    w("| T | " + " | ".join(NAMES) + " | C_v model | C_v PT | pull C_v | max \\|pull c_i\\| "
      "| max \\|Δc_i\\|, model | max \\|Δc_i\\|, Table II |\n")
    w("|---|" + "---|" * (len(NAMES) + 6) + "\n")
    for r in rows:
        cells = []
        worst = 0.0
        dev, dev2 = 0.0, 0.0
        for s in NAMES:
            m, em = r[f"{s}_model"]
            v, ev = r[f"{s}_pt"]
            cells.append(f"{fmt(m, em, 4)} / {fmt(v, ev, 4)}")
            pl = pull(v, ev, m, em)
            if not math.isnan(pl):
                worst = max(worst, abs(pl))
                dev = max(dev, abs(v - m))
            dev2 = max(dev2, abs(v - r[f"{s}_table2"]))
        cm, ecm = r["cv_model"]
        cv, ecv = r["cv_pt"]
        star = " (fit)" if r["in_fit"] else ""
        w(f"| {r['T']:g}{star} | " + " | ".join(cells) +
          f" | {fmt(cm, ecm, 2)} | {fmt(cv, ecv, 2)} | {fmt_pull(pull(cv, ecv, cm, ecm))} | {worst:.1f} "
          f"| {dev:.4f} | {dev2:.4f} |\n")
    w("\n")


def md_table(rows, fit, out):
    w = out.write
    w("Plain MD against PT at the same temperature (same protocol and step counts); τα predicted: "
      f"ln τα = μ ξ_model/T + c of {fit.label}:\n\n")
    w("| T | u PT | u MD − u PT (σ) | largest c_i MD − c_i PT (σ) | C_v PT | C_v MD | MD τα "
      "| τα predicted | τα from measured ξ | MD verdict |\n")
    w("|---|---|---|---|---|---|---|---|---|---|\n")
    for r in rows:
        q = r["md"]
        if q is None:
            continue
        up, eup = r["u_pt"]
        um, eum = r["u_md"]
        big = max(NAMES, key=lambda s: abs(r[f"{s}_md"][0] - r[f"{s}_pt"][0]))
        cp, ecp = r[f"{big}_pt"]
        cm, ecm = r[f"{big}_md"]
        ta = q["tau_alpha"]
        if ta.get("reached"):
            tau = f"{ta['value']:.3g}" + (f" ± {ta['error']:.2g}" if ta.get("error") is not None else "")
        else:
            tau = f"> {ta['lower_bound']:.3g}" if ta.get("lower_bound") is not None else "—"
        verdict = "equilibrated" if q["equilibrated"] else "flagged: " + short_flags(q["flags"])
        w(f"| {r['T']:g} | {fmt(up, eup, 4)} | {um - up:+.4f} ({fmt_pull(pull(um, eum, up, eup))}) | "
          f"{big} {cm - cp:+.4f} ({fmt_pull(pull(cm, ecm, cp, ecp))}) | "
          f"{fmt(*r['cv_pt'], 2)} | {fmt(*r['cv_md'], 2)} | {tau} | {fmt_tau(fit.tau_alpha(r['T']))} "
          f"| {fmt_tau(fit.tau_alpha(r['T'], measured_xi=True))} | {verdict} |\n")
    w("\n")


def repeat_table(pt, pt2, out):
    w = out.write
    w("Two parallel-tempering runs of the same ladder (different seeds):\n\n")
    w("| T | u | u repeat − u (σ) | largest c_i repeat − c_i (σ) | C_v | C_v repeat | verdicts |\n")
    w("|---|---|---|---|---|---|---|\n")
    temps2 = [p["temperature"] for p in pt2["state_points"]]
    for p in pt["state_points"]:
        k = index_of(temps2, p["temperature"])
        if k is None:
            continue
        q = pt2["state_points"][k]
        u1, e1 = value_error(p["u"])
        u2, e2 = value_error(q["u"])
        big = max(NAMES, key=lambda s: abs(value_error(q["concentrations"][s])[0]
                                           - value_error(p["concentrations"][s])[0]))
        c1, ec1 = value_error(p["concentrations"][big])
        c2, ec2 = value_error(q["concentrations"][big])
        v1 = "yes" if p["equilibrated"] else "flagged (" + short_flags(p["flags"]) + ")"
        v2 = "yes" if q["equilibrated"] else "flagged (" + short_flags(q["flags"]) + ")"
        w(f"| {p['temperature']:g} | {fmt(u1, e1, 4)} | {u2 - u1:+.4f} ({fmt_pull(pull(u2, e2, u1, e1))}) | "
          f"{big} {c2 - c1:+.4f} ({fmt_pull(pull(c2, ec2, c1, ec1))}) | {fmt(*value_error(p.get('heat_capacity')), 2)} | "
          f"{fmt(*value_error(q.get('heat_capacity')), 2)} | {v1}; {v2} |\n")
    w("\n")


def write_csv(fits, path):
    with open(path, "w", newline="") as f:
        wr = csv.writer(f)
        head = ["temperature", "fit", "in_fit"]
        for s in NAMES:
            head += [f"{s}_pt", f"{s}_pt_error", f"{s}_model", f"{s}_model_error"]
        head += ["cv_pt", "cv_pt_error", "cv_model", "cv_model_error", "u_pt", "u_pt_error",
                 "u_md", "u_md_error", "cv_md", "cv_md_error"]
        for s in NAMES:
            head += [f"{s}_md", f"{s}_md_error"]
        head += ["md_equilibrated", "md_tau_alpha", "md_tau_alpha_lower_bound"]
        wr.writerow(head)
        for fit, rws in fits:
            for r in rws:
                row = [r["T"], fit.label, int(r["in_fit"])]
                for s in NAMES:
                    row += [*r[f"{s}_pt"], *r[f"{s}_model"]]
                row += [*r["cv_pt"], *r["cv_model"], *r["u_pt"]]
                q = r["md"]
                if q is None:
                    row += [""] * (7 + 2 * len(NAMES))
                else:
                    ta = q["tau_alpha"]
                    row += [*r["u_md"], *r["cv_md"]]
                    for s in NAMES:
                        row += [*r[f"{s}_md"]]
                    row += [int(q["equilibrated"]), ta["value"] if ta.get("reached") else "",
                            ta.get("lower_bound") or ""]
                wr.writerow(["" if isinstance(x, float) and math.isnan(x) else x for x in row])


def arrays(rows, key):
    v = np.array([r[key][0] if key in r else np.nan for r in rows], dtype=float)
    e = np.array([r[key][1] if key in r else np.nan for r in rows], dtype=float)
    return v, e


def table2_heat_capacity(T, dimension, e=0.83):
    """C_v per particle of the model with the paper's Table II H, g and e (PHYSICS.md), kinetic
    d/2 included: (e/2) Cov(i, H)/T^2 + d/2 (vibrational) + d/2 (kinetic)."""
    T = np.asarray(T, dtype=float)
    H = np.array([TABLE_II[k][0] for k in NAMES])[:, None]
    n = np.array([int(k[1:]) for k in NAMES], dtype=float)[:, None]
    p = conc({k: v[0] for k, v in TABLE_II.items()}, {k: v[1] for k, v in TABLE_II.items()}, T)
    cov = (p * n * H).sum(axis=0) - (p * n).sum(axis=0) * (p * H).sum(axis=0)
    return 0.5 * e * cov / T**2 + dimension


def finite_difference_cv(rows, dimension):
    """d/2 + (u_{k+1} - u_k)/(T_{k+1} - T_k) from the PT energies, at the midpoints."""
    T = np.array([r["T"] for r in rows])
    u, e = arrays(rows, "u_pt")
    tm = 0.5 * (T[1:] + T[:-1])
    return tm, 0.5 * dimension + np.diff(u) / np.diff(T), np.hypot(e[1:], e[:-1]) / np.diff(T)


def shade_fit(ax, fit):
    ax.axvspan(fit.fitted[0], fit.fitted[1], color="0.9", zorder=0)


def figure_cv(rows, fits, dimension, pt2, path):
    T = np.array([r["T"] for r in rows])
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    shade_fit(ax, fits[0][0])
    styles = ["-", "--", ":", "-."]
    for m, (fit, _) in enumerate(fits):
        peak = f"; peak at T = {fit.peak[0]:.3f}" if fit.peak else ""
        line, = ax.plot(fit.grid_t, fit.grid_cv, styles[m % 4], lw=1.5,
                        label=f"model, {fit.label} (fit {fit.fitted[0]:g}–{fit.fitted[1]:g}){peak}")
        if fit.peak:
            ax.plot([fit.peak[0]], [fit.peak[1]], "v", color=line.get_color(), ms=7)
    tg = np.linspace(0.03, max(fit.grid_t[-1] for fit, _ in fits), 2000)
    cv2 = table2_heat_capacity(tg, dimension)
    k = int(np.argmax(cv2))
    ax.plot(tg, cv2, "-", color="0.6", lw=1, label=f"Table II with e = 0.83 (paper); peak at T = {tg[k]:.3f}")
    ax.plot([tg[k]], [cv2[k]], "v", color="0.6", ms=6)
    v, e = arrays(rows, "cv_pt")
    ax.errorbar(T, v, yerr=e, fmt="ko", ms=4, capsize=2, label="parallel tempering (fluctuations)")
    tm, cfd, efd = finite_difference_cv(rows, dimension)
    ax.errorbar(tm, cfd, yerr=efd, fmt="D", mfc="none", color="0.4", ms=4, capsize=2,
                label="parallel tempering, d/2 + Δu/ΔT")
    if pt2 is not None:
        t2 = np.array([p["temperature"] for p in pt2["state_points"]])
        c2 = np.array([value_error(p.get("heat_capacity")) for p in pt2["state_points"]], dtype=float)
        ax.errorbar(t2 * 0.994, c2[:, 0], yerr=c2[:, 1], fmt="^", mfc="none", color="tab:purple", ms=4,
                    capsize=2, label="parallel tempering, second seed")
    v, e = arrays(rows, "cv_md")
    ax.errorbar(T * 1.006, v, yerr=e, fmt="s", mfc="none", color="tab:red", ms=4, capsize=2,
                label="plain MD (fluctuations)")
    ax.set(xlabel="T", ylabel="C_v per particle (k_B), kinetic part included",
           title="hump2d N = 256: C_v measured vs quasi-species model (grey: fitted range)")
    ax.set_xlim(0, max(T) * 1.05)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print("wrote", path, file=sys.stderr)


def figure_conc(rows, fits, path):
    T = np.array([r["T"] for r in rows])
    fit = fits[0][0]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    ax = axes[0]
    shade_fit(ax, fit)
    tg = np.linspace(0.08, max(T) * 1.05, 200)
    cp = conc({k: v[0] for k, v in TABLE_II.items()}, {k: v[1] for k, v in TABLE_II.items()}, tg)
    for j, s in enumerate(NAMES):
        c = colors[j]
        if s in fit.grid_conc:
            ax.plot(fit.grid_t, fit.grid_conc[s], "-", color=c, lw=1.2, label=f"{s} model" if j == 0 else None)
        ax.plot(tg, cp[j], ":", color=c, lw=1, label="Table II" if j == 0 else None)
        v, e = arrays(rows, f"{s}_pt")
        ax.errorbar(T, v, yerr=e, fmt="o", color=c, ms=4, capsize=2, label=f"{s} PT")
        v, e = arrays(rows, f"{s}_md")
        ax.plot(T, v, "s", mfc="none", color=c, ms=5, label="plain MD" if j == 0 else None)
    ax.set(xlabel="T", ylabel="c_i", xlim=(0.08, max(T) * 1.05),
           title=f"concentrations (lines: model, fit {fit.fitted[0]:g}–{fit.fitted[1]:g}; dotted: Table II)")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    shade_fit(ax, fit)
    ax.axhline(0, color="k", lw=0.5)
    for j, s in enumerate(NAMES):
        m, em = arrays(rows, f"{s}_model")
        v, e = arrays(rows, f"{s}_pt")
        ax.errorbar(T + 0.001 * (j - 2), v - m, yerr=np.hypot(e, em), fmt="o-", color=colors[j], ms=3,
                    capsize=2, lw=0.8, label=s)
    ax.set(xlabel="T", ylabel="c_i (PT) − c_i (model)", title="measured minus predicted")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print("wrote", path, file=sys.stderr)


def figure_md(rows, pt, fit, path):
    T = np.array([r["T"] for r in rows])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    ax = axes[0]
    ax.axhline(0, color="k", lw=0.5)
    up, eup = arrays(rows, "u_pt")
    um, eum = arrays(rows, "u_md")
    eq = np.array([r["md"] is not None and r["md"]["equilibrated"] for r in rows])
    d, ed = um - up, np.hypot(eum, eup)
    ax.errorbar(T[eq], d[eq], yerr=ed[eq], fmt="o", color="tab:blue", ms=4, capsize=2,
                label="MD equilibrated")
    ax.errorbar(T[~eq], d[~eq], yerr=ed[~eq], fmt="x", color="tab:red", ms=6, capsize=2,
                label="MD flagged")
    ax.set(xlabel="T", ylabel="u (plain MD) − u (PT)", title="potential energy per particle")
    ax.legend(fontsize=7)
    ax = axes[1]
    tau, tlow = [], []
    for r in rows:
        ta = r["md"]["tau_alpha"] if r["md"] is not None else {}
        tau.append(ta["value"] if ta.get("reached") else np.nan)
        tlow.append(ta.get("lower_bound") if not ta.get("reached") and ta.get("lower_bound") else np.nan)
    tau, tlow = np.array(tau, dtype=float), np.array(tlow, dtype=float)
    ax.semilogy(1 / T, tau, "o", color="tab:blue", ms=4, label="τα, plain MD")
    if fit is not None and "tau_alpha" in fit.grid_columns:
        tv = np.array([np.nan if v is None else v for v in fit.grid_columns["tau_alpha"]["value"]], dtype=float)
        keep = (fit.grid_t >= min(T)) & (fit.grid_t <= max(T))
        ax.semilogy(1 / fit.grid_t[keep], tv[keep], "-", color="tab:green", lw=1,
                    label=f"ln τα = μ ξ/T + c, {fit.label} (fit {fit.fitted[0]:g}–{fit.fitted[1]:g})")
        ax.axvspan(1 / fit.fitted[1], 1 / fit.fitted[0], color="0.9", zorder=0)
    ax.semilogy(1 / T, tlow, "^", color="tab:red", ms=6, label="not reached (lower bound)")
    prod = [r["md"]["run"]["production_steps"] * r["md"]["run"]["dt"] / 100 for r in rows if r["md"]]
    if prod:
        ax.axhline(prod[0], color="0.5", ls="--", lw=1, label="production / 100")
    ax.set(xlabel="1/T", ylabel="τα (τ)", title="plain MD: τα of the self-ISF, k = 6.16")
    ax.legend(fontsize=7)
    ax = axes[2]
    rx = pt.get("replica_exchange") or {}
    pairs = rx.get("pairs", [])
    if pairs:
        tm = [math.sqrt(p["temperatures"][0] * p["temperatures"][1]) for p in pairs]
        acc = [p["acceptance"] if p["acceptance"] is not None else np.nan for p in pairs]
        ax.plot(tm, acc, "o-", ms=4)
        ax.set_ylim(0, max(0.5, np.nanmax(acc) * 1.1))
    ax.set(xlabel="√(T_i T_{i+1})", ylabel="accepted fraction",
           title=f"PT acceptance per pair; round trips: {rx.get('round_trips_total', '—')}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print("wrote", path, file=sys.stderr)


def exchange_mixing(run):
    """From RUN/replica_exchange.csv (docs/OUTPUTS.md): for the production attempts, per ladder end
    the number of distinct configurations that held it and the largest share of one of them, and
    the configurations that held both ends. None when the file is absent."""
    path = os.path.join(run if os.path.isdir(run) else os.path.dirname(run), "replica_exchange.csv")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        rd = csv.reader(f)
        head = next(rd)
        cols = [k for k, c in enumerate(head) if c.startswith("config_")]
        stage = head.index("stage")
        lo, hi = [], []
        for r in rd:
            if r[stage] == "production":
                lo.append(int(r[cols[0]]))
                hi.append(int(r[cols[-1]]))
    if not lo:
        return None

    def ends(x):
        counts = {c: x.count(c) for c in set(x)}
        return len(counts), max(counts.values()) / len(x)

    return {"attempts": len(lo), "lowest": ends(lo), "highest": ends(hi), "both": len(set(lo) & set(hi)),
            "configurations": len(cols)}


def short_flags(flags):
    """One short phrase per kind of equilibration flag (docs/OUTPUTS.md `flags`)."""
    kinds = []
    for f in flags:
        if "not reached" in f:
            k = "τα not reached"
        elif "< 100 tau_alpha" in f or "tau_alpha" in f:
            k = "production < 100 τα"
        elif "halves differ" in f:
            k = "halves differ (" + f.split(":")[0] + ")"
        elif "cannot be compared" in f:
            k = "no error estimate"
        elif "too few blocks" in f:
            k = "too few blocks"
        else:
            k = f
        if k not in kinds:
            kinds.append(k)
    return "; ".join(kinds)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pt", required=True, help="parallel-tempering run directory or measurements.json")
    ap.add_argument("--md", required=True, help="plain-MD run directory or measurements.json (same ladder)")
    ap.add_argument("--fit", action="append", required=True, metavar="LABEL=analysis.json",
                    help="a vitrify analyze output (split at the last '='); the first is tabulated")
    ap.add_argument("--pt-repeat", metavar="PT_RUN2", help="a second parallel-tempering run of the same "
                    "ladder (another seed): compared with --pt, drawn in the C_v figure")
    ap.add_argument("--figures", metavar="PREFIX", help="write PREFIX-cv.png, PREFIX-concentrations.png, "
                    "PREFIX-md-vs-pt.png")
    ap.add_argument("--table", metavar="OUT.md", help="Markdown tables (default: standard output)")
    ap.add_argument("--csv", metavar="OUT.csv", help="every row of every fit as CSV")
    args = ap.parse_args(argv)
    for path in (args.figures, args.table, args.csv):  # the output folders, made when missing
        if path and os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
    pt, md = load_measurements(args.pt), load_measurements(args.md)
    fits = []
    for spec in args.fit:
        label, path = spec.rsplit("=", 1)
        fit = Fit(label, path)
        fits.append((fit, rows_of(pt, md, fit)))
    out = open(args.table, "w") if args.table else sys.stdout
    for fit, rows in fits:
        table(rows, fit, out)
        if fit.peak:
            tp, cp, ecp, edge = fit.peak
            edge_note = "; at the grid edge" if edge else ""
            neg = "none on the grid" if fit.negative_below is None else f"below T = {fit.negative_below:.4f}"
            es = ", ".join("{:.5f} ± {:.5f}".format(e["value"], e["error"]) for _, e in fit.e)
            out.write(f"Model C_v peak ({fit.label}): T = {tp:.4f}, C_v = {cp:.3f} ± {ecp:.3f} "
                      f"(kinetic part included){edge_note}; model C_v < 0: {neg}; e = {es}.\n\n")
    tm, cfd, efd = finite_difference_cv(fits[0][1], pt["dimension"])
    out.write("C_v of PT from finite differences, d/2 + Δu/ΔT at the midpoints: "
              + ", ".join(f"{t:.4f}: {c:.2f} ± {e:.2f}" for t, c, e in zip(tm, cfd, efd)) + ".\n\n")
    md_table(fits[0][1], fits[0][0], out)
    pt2 = load_measurements(args.pt_repeat) if args.pt_repeat else None
    if pt2:
        repeat_table(pt, pt2, out)
    for label, run, meas in (("PT", args.pt, pt), ("PT repeat", args.pt_repeat, pt2)):
        if meas is None:
            continue
        rx = meas.get("replica_exchange")
        if rx:
            out.write(f"{label}: {rx['attempts']} exchange attempts every {rx['interval']} steps "
                      f"({', '.join(rx['stages'])}); acceptance per pair (ascending T): "
                      + ", ".join("—" if a is None else f"{a:.3f}" for a in rx["acceptance"])
                      + f"; round trips per configuration: {rx['round_trips']} (total {rx['round_trips_total']})"
                      + (f"; suggested temperatures: {rx['suggested_temperatures']}"
                         if rx.get("suggested_temperatures") else "") + ".\n")
        mix = exchange_mixing(run)
        if mix:
            out.write(f"{label}, production ({mix['attempts']} attempts): the lowest temperature was held by "
                      f"{mix['lowest'][0]} of the {mix['configurations']} configurations (the most frequent one "
                      f"{100 * mix['lowest'][1]:.0f} % of the attempts), the highest by {mix['highest'][0]} "
                      f"({100 * mix['highest'][1]:.0f} %); {mix['both']} configurations held both ends.\n\n")
    if args.table:
        out.close()
    if args.csv:
        write_csv(fits, args.csv)
    if args.figures:
        figure_cv(fits[0][1], fits, pt["dimension"], pt2, args.figures + "-cv.png")
        figure_conc(fits[0][1], fits, args.figures + "-concentrations.png")
        figure_md(fits[0][1], pt, fits[0][0], args.figures + "-md-vs-pt.png")


if __name__ == "__main__":
    main()
