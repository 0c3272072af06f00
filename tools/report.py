# Started by the launcher tools/report, which picks the Python interpreter (tools/lib/python.sh).
"""Figures and a Markdown report of a vitrify run directory.

Usage: tools/report RESULTS_DIR

Reads what RESULTS_DIR holds (written by `vitrify run` and `vitrify analyze`, docs/OUTPUTS.md)
and writes PNG figures and report.md into RESULTS_DIR/report/:

  - thermo/replica_NNN.csv: the time series of T, u, p, v (and h under NPT) of every replica
    through every stage (thermo.png), to judge equilibration;
  - measurements.json: the measured concentrations, F_k(t) and tau_alpha;
  - analysis.json (when present): the fits and predictions of `vitrify analyze` (free energies,
    degeneracies, predicted concentrations, C_liq, tau_alpha, the energy or enthalpy check, the
    heat capacity and the entropy), with the region outside the fitted temperatures shaded as
    extrapolation.

Without analysis.json (a run with --no-analyze, or one with too few temperatures to analyse) the
figures of the measurements are drawn. A figure whose data is missing is skipped with a note in
report.md. Needs numpy and matplotlib (Debian: python3-numpy, python3-matplotlib); uses the Agg
backend, so no display is needed.
"""

import csv
import glob
import json
import math
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

# Axis labels (matplotlib mathtext).
T_LABEL = r"$T$  [$\varepsilon/k_B$]"
INV_T_LABEL = r"$1/T$  [$k_B/\varepsilon$]"
ENERGY_TOLERANCE = 0.02  # the energy / enthalpy check "agrees" within 2 % (as summary.txt)
STAGE_COLORS = {"melt": "#fbe3d6", "cool": "#dbe8f6", "equilibrate": "#fdf3c8", "production": "#ffffff"}
EXTRAPOLATION_STYLE = dict(facecolor="0.88", alpha=0.7, hatch="//", edgecolor="0.6", lw=0, zorder=0)


def arr(values):
    """JSON list with nulls -> float array with NaN."""
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def pair(obj):
    """{"value": [...], "error": [...]} -> (values, errors)."""
    return arr(obj["value"]), arr(obj["error"])


def num(x, digits=3):
    """A number or null as short text."""
    return "n/a" if x is None else f"{x:.{digits}g}"


def fmt(ve, digits=4):
    """Value with error as text."""
    if ve is None or ve.get("value") is None:
        return "n/a"
    v, e = ve["value"], ve.get("error")
    if e is None:
        return f"{v:.{digits}g}"
    return f"{v:.{digits}g} ± {e:.2g}"


def mean_err(obj):
    """A measurements.json {"mean", "error"} object -> (mean, error) with NaN for null."""
    if not obj:
        return np.nan, np.nan
    m, e = obj.get("mean"), obj.get("error")
    return (np.nan if m is None else float(m)), (np.nan if e is None else float(e))


def yes_no(flag):
    return "yes" if flag else "no"


def math_name(name):
    """A species or group name as upright mathtext subscript text: c2 -> \\mathrm{c2}."""
    return r"\mathrm{" + name.replace("_", r"\_") + "}"


def percent(x):
    return "n/a" if x is None else f"{100 * abs(x):.2g} %"


class Report:
    def __init__(self, results_dir):
        self.dir = results_dir
        self.out = os.path.join(results_dir, "report")
        os.makedirs(self.out, exist_ok=True)
        self.a = self.load("analysis.json")
        self.m = self.load("measurements.json")
        self.sections = []  # (title, png or None, text)
        if self.a is not None:
            src = self.a["source"]
        else:
            src = self.m or {}
        self.model = src.get("model", "?")
        self.ensemble = src.get("ensemble", "?")
        self.npt = self.ensemble == "npt"
        self.dimension = src.get("dimension", "?")
        self.n_particles = src.get("n_particles", "?")

    def load(self, name):
        path = os.path.join(self.dir, name)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    # -- helpers --------------------------------------------------------------------------------
    def save(self, fig, name, title, text=""):
        path = os.path.join(self.out, name)
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.sections.append((title, name, text))

    def skip(self, title, reason):
        self.sections.append((title, None, f"*Figure skipped: {reason}.*"))

    def groups(self):
        return self.a["groups"]

    def species_of(self, group):
        return [s for s in self.a["species"] if s["group"] == group["name"]]

    def fit_range(self):
        lo, hi = self.a["temperature_range"]["fitted"]
        return lo, hi

    def grid_mask(self, margin_low=0.8, margin_high=1.15):
        t = arr(self.a["grid"]["temperature"])
        lo, hi = self.fit_range()
        return t, (t >= margin_low * lo) & (t <= margin_high * hi)

    def shade_extrapolation(self, ax, inverse=False):
        """Shades the temperatures outside the fitted range (x = T, or x = 1/T) as extrapolation."""
        lo, hi = self.fit_range()
        x0, x1 = ax.get_xlim()
        a, b = (1 / hi, 1 / lo) if inverse else (lo, hi)
        label = f"extrapolation (outside the fitted {lo:g} ≤ T ≤ {hi:g})"
        if x0 < a:
            ax.axvspan(x0, a, label=label, **EXTRAPOLATION_STYLE)
            label = None
        if x1 > b:
            ax.axvspan(b, x1, label=label, **EXTRAPOLATION_STYLE)
        ax.set_xlim(x0, x1)

    def measured_points(self):
        return (self.m or {}).get("state_points", [])

    # -- figures of the measurements --------------------------------------------------------------
    def thermo(self):
        title = "Thermodynamic time series (thermo/)"
        files = sorted(glob.glob(os.path.join(self.dir, "thermo", "replica_*.csv")))
        if not files:
            return self.skip(title, "no thermo/replica_NNN.csv in the run directory")
        targets = {}
        replicas_csv = os.path.join(self.dir, "replicas.csv")
        if os.path.exists(replicas_csv):
            with open(replicas_csv) as f:
                for row in csv.DictReader(f):
                    targets[int(row["replica"])] = float(row["temperature"])
        series = []  # (replica, target T, columns)
        for path in files:
            match = re.search(r"replica_(\d+)\.csv$", path)
            replica = int(match.group(1))
            with open(path) as f:
                rows = list(csv.DictReader(f))
            if not rows:
                continue
            cols = {"stage": [r["stage"] for r in rows]}
            for key in rows[0]:
                if key != "stage":
                    cols[key] = arr([r[key] if r[key] not in ("", None) else None for r in rows])
            target = targets.get(replica)
            if target is None:  # no replicas.csv: the mean production temperature
                prod = np.array([s == "production" for s in cols["stage"]])
                target = float(np.nanmean(cols["T"][prod] if prod.any() else cols["T"]))
            series.append((replica, target, cols))
        if not series:
            return self.skip(title, "the thermo files are empty")
        quantities = [("T", r"$T$  [$\varepsilon/k_B$]"), ("u", r"$u$  [$\varepsilon$]"),
                      ("p", r"$p$  [$\varepsilon/\sigma^d$]"), ("v", r"$v = V/N$  [$\sigma^d$]")]
        if "h" in series[0][2]:
            quantities.append(("h", r"$h = u + p_0 v$  [$\varepsilon$]"))
        quantities = [q for q in quantities if q[0] in series[0][2]]
        constant = []  # quantities without variation in any replica (v under NVT): a note, no panel
        for key, _ in quantities:
            values = np.concatenate([c[key] for _, _, c in series])
            values = values[np.isfinite(values)]
            if len(values) and np.ptp(values) <= 1e-9 * max(1.0, np.abs(values).max()):
                constant.append((key, values[0]))
        quantities = [q for q in quantities if q[0] not in {k for k, _ in constant}]
        temps = sorted({s[1] for s in series})
        cmap = plt.get_cmap("coolwarm")
        tmin, tmax = min(temps), max(temps)

        def color(t):
            return cmap((t - tmin) / (tmax - tmin) if tmax > tmin else 0.5)

        fig, axes = plt.subplots(len(quantities), 1, figsize=(8, 1.9 * len(quantities) + 0.8),
                                 sharex=True, squeeze=False)
        axes = axes[:, 0]
        labelled = set()
        for replica, target, cols in series:
            step = cols["step"]
            stride = max(1, len(step) // 4000)
            label = None
            if target not in labelled and len(temps) <= 12:
                label = f"T = {target:g}"
                labelled.add(target)
            for ax, (key, _) in zip(axes, quantities):
                ax.plot(step[::stride], cols[key][::stride], "-", lw=0.7, color=color(target),
                        label=label if ax is axes[0] else None)
        # Stage boundaries, from the first replica (every replica runs the same stages).
        stages, starts = [], []
        for i, s in enumerate(series[0][2]["stage"]):
            if not stages or s != stages[-1]:
                stages.append(s)
                starts.append(series[0][2]["step"][i])
        end = series[0][2]["step"][-1]
        bounds = starts + [end]
        stage_handles = []
        for ax, (key, label) in zip(axes, quantities):
            for st, a, b in zip(stages, bounds[:-1], bounds[1:]):
                ax.axvspan(a, b, color=STAGE_COLORS.get(st, "white"), lw=0, zorder=0)
            for x in starts[1:]:
                ax.axvline(x, color="0.3", ls=":", lw=0.8)
            ax.set_ylabel(label, fontsize=9)
            ax.set_xlim(bounds[0], bounds[-1])
        for st in stages:
            stage_handles.append(matplotlib.patches.Patch(facecolor=STAGE_COLORS.get(st, "white"),
                                                          edgecolor="0.6", lw=0.5, label=st))
        for t in temps if len(temps) <= 12 else []:
            axes[0].axhline(t, color=color(t), ls="--", lw=0.6)
        axes[-1].set_xlabel("step")
        if len(temps) <= 12:
            axes[0].legend(fontsize=7, ncol=min(len(temps), 6), loc="upper right", title="target",
                           title_fontsize=7)
        else:
            sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(tmin, tmax))
            fig.colorbar(sm, ax=list(axes), label="target T")
        axes[-1].legend(handles=stage_handles, fontsize=7, ncol=len(stage_handles), loc="upper right",
                        title="stage", title_fontsize=7)
        axes[0].set_title(f"{len(series)} replicas through every stage", fontsize=10)
        text = ("One line per replica, coloured by its target temperature (dashed in the T panel); "
                "the background shows the stage (" + ", ".join(stages) + "). "
                "Production should show no drift.")
        for key, value in constant:
            text += f" {key} = {value:.6g} in every replica and stage (not drawn)."
        points = self.measured_points()
        if points:
            bad = [p for p in points if not p.get("equilibrated", True)]
            if bad and self.a is None:  # the reasons are under "State points"
                text += (" Not equilibrated (measurements.json): T = "
                         + ", ".join(f"{p['temperature']:g}" for p in bad) + "; the reasons are listed "
                         "under the state points.")
            elif bad:
                text += "\n\nNot equilibrated (measurements.json):\n\n" + "\n".join(
                    f"- T = {p['temperature']:g}: " + "; ".join(p.get("flags") or ["no reason given"])
                    for p in bad)
            else:
                text += f" Every one of the {len(points)} state points passed the equilibration checks."
        self.save(fig, "thermo.png", title, text)

    def concentrations_measured(self):
        title = "Measured concentrations of the quasi-species"
        points = self.measured_points()
        if not points:
            return self.skip(title, "no state points in measurements.json")
        types = self.m.get("particle_types") or ["?"]
        t = arr([p["temperature"] for p in points])
        by_type = {i: [] for i in range(len(types))}
        for s in self.m.get("species", []):
            by_type.setdefault(s.get("type", 0), []).append((s["name"], False))
        for b in self.m.get("other_bins", []):
            by_type.setdefault(b.get("type", 0), []).append((b["name"], True))
        panels = [(i, names) for i, names in sorted(by_type.items()) if names]
        if not panels:
            return self.skip(title, "no species in measurements.json")
        fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
        for ax, (i, names) in zip(axes[0], panels):
            k = 0
            for name, other in names:
                ve = [mean_err(p["concentrations"].get(name)) for p in points]
                v, e = np.array([x[0] for x in ve]), np.array([x[1] for x in ve])
                if not np.isfinite(v).any():
                    continue
                if other:
                    ax.errorbar(t, v, yerr=np.nan_to_num(e), fmt="s--", ms=4, mfc="none", color="0.4",
                                lw=0.8, label=f"{name} (other)")
                else:
                    ax.errorbar(t, v, yerr=np.nan_to_num(e), fmt="o-", ms=4, lw=0.8, color=f"C{k % 10}",
                                label=name)
                    k += 1
            ax.set_xlabel(T_LABEL)
            ax.set_ylabel(r"$\langle C_s \rangle(T)$  [fraction of $N$]")
            name = types[i] if i < len(types) else str(i)
            ax.set_title(f"central particle {name}")
            ax.legend(fontsize=7, ncol=2)
        self.save(fig, "concentrations.png", title,
                  "Symbols: measured ⟨C_s⟩ with one standard error (lines only join them).")

    def isf(self):
        title = "Self-intermediate scattering function F_k(t)"
        if self.m is None:
            return self.skip(title, "measurements.json not found")
        points = [p for p in self.measured_points() if p.get("isf_curve")]
        if not points:
            return self.skip(title, "no isf_curve in measurements.json")
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        cmap = plt.get_cmap("coolwarm")
        temps = [p["temperature"] for p in points]
        tmin, tmax = min(temps), max(temps)
        for p in points:
            x = (p["temperature"] - tmin) / (tmax - tmin) if tmax > tmin else 0.5
            t, f = arr(p["isf_curve"]["t"]), arr(p["isf_curve"]["F"])
            ok = t > 0
            ax.semilogx(t[ok], f[ok], "-", color=cmap(x), lw=1.2, label=f"T = {p['temperature']:g}")
        ax.axhline(1 / math.e, color="k", ls=":", lw=0.8, label="1/e (defines τα)")
        k = self.m.get("isf", {}).get("k")
        ax.set_xlabel(r"$t$  [$\tau$]")
        ax.set_ylabel(rf"$F_k(t)$  ($k$ = {k:g} $\sigma^{{-1}}$)" if k else r"$F_k(t)$")
        ax.legend(fontsize=7, ncol=2)
        self.save(fig, "isf.png", title)

    def tau_data(self):
        """(T, tau, tau error, lower bound, error method) per state point."""
        if self.a is not None:
            pt = self.a["per_temperature"]
            tau, err = pair(pt["tau_alpha_measured"])
            methods = [None] * len(tau)
            if self.m is not None and len(self.measured_points()) == len(tau):
                methods = [(p.get("tau_alpha") or {}).get("error_method") for p in self.measured_points()]
            return arr(pt["temperature"]), tau, err, arr(pt["tau_alpha_lower_bound"]), methods
        points = self.measured_points()
        ta = [p.get("tau_alpha") or {} for p in points]
        return (arr([p["temperature"] for p in points]), arr([x.get("value") for x in ta]),
                arr([x.get("error") for x in ta]), arr([x.get("lower_bound") for x in ta]),
                [x.get("error_method") for x in ta])

    def tau_arrhenius(self):
        title = "Relaxation time vs 1/T"
        t, tau, tau_e, lower, methods = self.tau_data()
        if not np.isfinite(tau).any():
            return self.skip(title, "no τα measured")
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ok = np.isfinite(tau)
        with_err = ok & np.isfinite(tau_e)
        no_err = ok & ~np.isfinite(tau_e)
        if with_err.any():
            ax.errorbar(1 / t[with_err], tau[with_err], yerr=tau_e[with_err], fmt="o", color="C0",
                        capsize=2, label="measured τα ± error")
        if no_err.any():
            ax.plot(1 / t[no_err], tau[no_err], "o", mfc="none", color="C0",
                    label="measured τα (no error estimate)")
        nr = ~ok & np.isfinite(lower)
        if nr.any():
            ax.plot(1 / t[nr], lower[nr], "^", mfc="none", color="C1", label="not reached (lower bound)")
        # Arrhenius guide through the three highest temperatures.
        idx = np.argsort(t[ok])[::-1][:3]
        notes = []
        if len(idx) >= 2:
            x, y = 1 / t[ok][idx], np.log(tau[ok][idx])
            slope, intercept = np.polyfit(x, y, 1)
            xx = np.linspace((1 / t[ok]).min(), (1 / t[ok]).max() * 1.1, 50)
            ax.plot(xx, np.exp(intercept + slope * xx), "k--", lw=1,
                    label=f"Arrhenius (3 highest T): E = {slope:.3g} ε")
            notes.append(f"Arrhenius guide through the {len(idx)} highest temperatures: "
                         f"activation energy {slope:.3g} ε.")
        if self.a is not None:
            g = self.a["grid"]
            tg, lt = arr(g["temperature"]), arr(g["ln_tau_alpha"]["value"])
            lo, hi = self.fit_range()
            m = np.isfinite(lt) & (tg >= 0.7 * lo) & (tg <= 1.2 * hi) & (lt < 700)
            if m.any():
                ax.plot(1 / tg[m], np.exp(lt[m]), "-", color="C3",
                        label=r"prediction $\ln\tau_\alpha = \mu\,\xi/T + c$")
        ax.set_yscale("log")
        ax.set_xlabel(INV_T_LABEL)
        ax.set_ylabel(r"$\tau_\alpha$  [$\tau$]")
        if self.a is not None:
            self.shade_extrapolation(ax, inverse=True)
        ax.legend(fontsize=8)
        counts = {}
        for mth, has in zip(methods, with_err):
            if has:
                counts[mth or "given"] = counts.get(mth or "given", 0) + 1
        sources = {"copies": "the spread of the copies", "time_windows": "8 time windows of one trajectory"}
        if counts:
            notes.append("Error bars: one standard error of τα, " + ", ".join(
                f"{n} from {sources.get(k, 'the input')}" for k, n in counts.items()) + ".")
        if no_err.any():
            notes.append(f"{int(no_err.sum())} measured τα without an error estimate (open symbols).")
        self.save(fig, "tau_arrhenius.png", title, " ".join(notes))

    # -- figures of the analysis ------------------------------------------------------------------
    def concentrations(self):
        title = "Concentrations of the quasi-species"
        conc = self.a["concentrations"]
        t_meas = arr(conc["temperature"])
        t, mask = self.grid_mask()
        groups = self.groups()
        fig, axes = plt.subplots(1, len(groups), figsize=(6 * len(groups), 4.5), squeeze=False)
        for ax, g in zip(axes[0], groups):
            for i, name in enumerate(g["species"]):
                color = f"C{i % 10}"
                mv, me = pair(conc["species"][name]["measured"])
                ax.errorbar(t_meas, mv, yerr=np.nan_to_num(me), fmt="o", ms=4, color=color, label=name)
                if name in self.a["grid"]["concentrations"]:
                    pv, _ = pair(self.a["grid"]["concentrations"][name])
                    ax.plot(t[mask], pv[mask], "-", color=color, lw=1.2)
            ax.set_xlabel(T_LABEL)
            ax.set_ylabel(r"$\langle C_s \rangle(T)$  [fraction of $N$]")
            ax.set_title(f"group {g['name']} (reference {g['reference']})")
            self.shade_extrapolation(ax)
            ax.legend(fontsize=7, ncol=2)
        fig.suptitle("Concentrations: measured (symbols), Eq. 7 with fitted H, g (lines)")
        self.save(fig, "concentrations.png", title, self.extrapolation_note())

    def extrapolation_note(self):
        lo, hi = self.fit_range()
        return (f"Hatched: extrapolation, temperatures outside the fitted range {lo:g} ≤ T ≤ {hi:g} "
                "where the model rests on no measurement.")

    def failing(self):
        """Names of the failing species, with their reasons."""
        out = {f["species"]: f.get("reason", "") for f in self.a["validation"].get("failed_species", [])}
        for s in self.a["species"]:
            f = s["fit"]
            if f["status"] == "fitted" and not f.get("passes", True) and s["name"] not in out:
                out[s["name"]] = f.get("reason", "")
        return out

    def free_energies(self):
        title = "Free energies and their linear fits (validation)"
        groups = self.groups()
        failing = self.failing()
        fig, axes = plt.subplots(1, len(groups), figsize=(6.5 * len(groups), 4.8), squeeze=False)
        any_open = False
        for ax, g in zip(axes[0], groups):
            for i, s in enumerate(self.species_of(g)):
                if s["reference"]:
                    continue
                color = f"C{i % 10}"
                fe = s["free_energy"]
                t = arr(fe["temperature"])
                v, e = arr(fe["value"]), arr(fe["error"])
                used = np.array(fe["in_fit"], dtype=bool)
                fails = s["name"] in failing
                label = s["name"] + (" — FAILS" if fails else "")
                ax.errorbar(t[used], v[used], yerr=np.nan_to_num(e[used]), fmt="X" if fails else "o",
                            ms=6 if fails else 4, color=color, label=label)
                if (~used & np.isfinite(v)).any():
                    any_open = True
                    ax.errorbar(t[~used], v[~used], yerr=np.nan_to_num(e[~used]), fmt="o", ms=4,
                                mfc="none", color=color)
                fit = s["fit"]
                if fit["status"] == "fitted":
                    lo, hi = fit["temperature_range"]
                    tt = np.linspace(lo, hi, 20)
                    ax.plot(tt, fit["H"]["value"] - tt * fit["ln_g"]["value"], "--" if fails else "-",
                            color=color, lw=1.4 if fails else 1)
            ax.set_xlabel(T_LABEL)
            ax.set_ylabel(rf"$F_s - F_{{{math_name(g['reference'])}}}$  [$\varepsilon$]")
            ax.set_title(rf"group {g['name']}: $F_s(T) = H_s - T\,\ln g_s$")
            handles, labels = ax.get_legend_handles_labels()
            handles.append(Line2D([], [], marker="o", color="0.3", ls="none"))
            labels.append("filled: in the fit")
            if any_open:
                handles.append(Line2D([], [], marker="o", mfc="none", color="0.3", ls="none"))
                labels.append("open: not in the fit")
            handles.append(Line2D([], [], color="0.3", ls="-"))
            labels.append("line: fit H − T ln g (passes)")
            if failing:
                handles.append(Line2D([], [], color="0.3", ls="--", marker="X", ms=6))
                labels.append("✕, dashed: species failing the validation")
            ax.legend(handles, labels, fontsize=7, ncol=2)
        v = self.a["validation"]
        text = f"Up-scaling validated: **{yes_no(v['validated'])}** — {v['reason']}."
        if failing:
            text += "\n\nFailing species:\n\n" + "\n".join(f"- {n}: {r}" for n, r in failing.items())
        text += ("\n\nFilled symbols: state points used in the fit; open symbols: state points "
                 "left out (not equilibrated, outside the temperature window, or the species "
                 "measured too poorly there).")
        self.save(fig, "free_energies.png", title, text)

    def degeneracies(self):
        groups = self.groups()
        fig, axes = plt.subplots(1, len(groups), figsize=(5.5 * len(groups), 4.2), squeeze=False)
        lines = []
        for ax, g in zip(axes[0], groups):
            n, lg, le = [], [], []
            for s in self.species_of(g):
                if s["fit"]["ln_g"] is None:
                    continue
                n.append(s["neighbors"])
                lg.append(s["fit"]["ln_g"]["value"])
                le.append(s["fit"]["ln_g"]["error"])
            ax.errorbar(n, lg, yerr=le, fmt="o", label=r"fitted $\ln g_s$")
            gd = g["gaussian_degeneracy"]
            if gd["status"] == "fitted":
                cn = arr(gd["curve"]["neighbors"])
                nn = np.linspace(cn.min(), cn.max(), 200)
                nmp, s2, c = gd["n_mp"]["value"], gd["sigma2"]["value"], gd["c"]["value"]
                ax.plot(nn, c - (nn - nmp) ** 2 / (2 * s2), "-", label="Gaussian model")
                lines.append(f"group {g['name']}: n_mp = {fmt(gd['n_mp'])}, σ² = {fmt(gd['sigma2'])}, "
                             f"c = {fmt(gd['c'])}, χ²/dof = {num(gd['reduced_chi2'])}")
            else:
                lines.append(f"group {g['name']}: Gaussian model not fitted ({gd['reason']})")
            ax.set_xlabel(r"$n$  (neighbours)")
            ax.set_ylabel(rf"$\ln g_s$  (relative to {g['reference']})")
            ax.set_title(f"group {g['name']}")
            ax.legend(fontsize=8)
        self.save(fig, "degeneracies.png", "Degeneracies and the Gaussian model",
                  "\n".join(f"- {line}" for line in lines))

    def predicted_vs_measured(self):
        conc = self.a["concentrations"]
        fig, ax = plt.subplots(figsize=(5.5, 5))
        allv = []
        for key, marker, label in (("predicted", "o", "fitted g"), ("predicted_gaussian", "^", "Gaussian g")):
            xs, ys = [], []
            for name, c in conc["species"].items():
                mv, _ = pair(c["measured"])
                pv, _ = pair(c[key])
                ok = np.isfinite(mv) & np.isfinite(pv) & (mv > 0) & (pv > 0)
                xs.extend(mv[ok])
                ys.extend(pv[ok])
            if xs:
                ax.loglog(xs, ys, marker, ms=4, mfc="none" if marker == "^" else None, label=label)
                allv.extend(xs + ys)
        if not allv:
            plt.close(fig)
            return self.skip("Predicted vs measured concentrations", "no predictions")
        lo, hi = min(allv) / 2, max(allv) * 2
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        ax.set_xlabel(r"measured $\langle C_s \rangle$  [fraction of $N$]")
        ax.set_ylabel(r"predicted $C_s$ (Eq. 7)  [fraction of $N$]")
        ax.legend()
        self.save(fig, "predicted_vs_measured.png", "Predicted vs measured concentrations")

    def relaxation_weighted(self):
        rel = self.a["relaxation"]
        return not str(rel.get("weighting", "")).startswith("unweighted") and rel.get("p_value") is not None

    def relaxation_quality(self):
        rel = self.a["relaxation"]
        if self.relaxation_weighted():
            return (f"weighted by the τα errors, χ²/dof = {num(rel['reduced_chi2'])}, "
                    f"p = {num(rel.get('p_value'))}")
        return "unweighted: errors from the scatter"

    def tau_xi(self):
        rel = self.a["relaxation"]
        if rel["status"] != "fitted":
            return self.skip("ln τα vs ξ/T", rel.get("reason", "no fit"))
        p = rel["points"]
        x, xe = pair(p["xi_over_t"])
        y, ye = pair(p["ln_tau_alpha"])
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.errorbar(x, y, xerr=np.nan_to_num(xe), yerr=np.nan_to_num(ye), fmt="o", label="measured")
        mu, c = rel["mu"]["value"], rel["c"]["value"]
        xx = np.linspace(0, x.max() * 1.1, 50)
        ax.plot(xx, mu * xx + c, "-", label=f"fit: μ = {fmt(rel['mu'], 3)}, c = {fmt(rel['c'], 3)}")
        h = rel.get("hold_out") or {}
        lo, hi = rel["temperature_range"]
        text = (f"μ = {fmt(rel['mu'])} ε/σ, c = {fmt(rel['c'])}, e^c = {fmt(rel['exp_c'])} τ; "
                f"{self.relaxation_quality()}; {rel['n_points']} points, {lo:g} ≤ T ≤ {hi:g}.")
        if h.get("status") == "done":
            mu2, c2 = h["mu_refit"]["value"], h["c_refit"]["value"]
            ax.plot(xx, mu2 * xx + c2, ":", color="C2", label="refit without lowest T")
            ax.errorbar([x[0]], [h["ln_tau_alpha_predicted"]["value"]], yerr=[h["ln_tau_alpha_predicted"]["error"]],
                        fmt="s", mfc="none", color="C2", label="hold-out prediction")
            pull = h.get("pull")
            verdict = ("n/a" if pull is None else "consistent" if abs(pull) <= 2 else
                       "marginal" if abs(pull) <= 3 else "inconsistent")
            text += (f" Hold-out at T = {h['temperature']:g}: predicted τα = {h['tau_alpha_predicted']:.4g} τ, "
                     f"measured {h['tau_alpha_measured']:.4g} τ (pull {num(pull)}: {verdict}).")
        elif h.get("reason"):
            text += f" Hold-out not done: {h['reason']}."
        ax.set_xlabel(r"$\xi/T$  [$\sigma k_B/\varepsilon$]")
        ax.set_ylabel(r"$\ln(\tau_\alpha/\tau)$")
        ax.legend(fontsize=8)
        self.save(fig, "tau_xi.png", "ln τα vs ξ/T", text)

    def c_liq(self):
        pt, g = self.a["per_temperature"], self.a["grid"]
        t = arr(pt["temperature"])
        cv, ce = pair(pt["c_liq_measured"])
        tg, mask = self.grid_mask(0.5, 1.15)
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.errorbar(t, cv, yerr=np.nan_to_num(ce), fmt="o", label="measured")
        pv, pe = pair(g["c_liq"])
        ax.plot(tg[mask], pv[mask], "-", label="predicted (fitted g)")
        ax.fill_between(tg[mask], (pv - np.nan_to_num(pe))[mask], (pv + np.nan_to_num(pe))[mask], alpha=0.25)
        gv, _ = pair(g["c_liq_gaussian"])
        if np.isfinite(gv[mask]).any():
            ax.plot(tg[mask], gv[mask], "--", label="predicted (Gaussian g)")
        ax.set_xlabel(T_LABEL)
        ax.set_ylabel(r"$C_{\mathrm{liq}}(T)$  [fraction of $N$]")
        ax.set_title("liquid species: " + ", ".join(self.a["relaxation"]["liquid_species"]))
        self.shade_extrapolation(ax)
        ax.legend(fontsize=8)
        self.save(fig, "c_liq.png", "Concentration of the liquid species", self.extrapolation_note())

    @staticmethod
    def energy_verdict(comp):
        """'agrees within 2 %' or 'differs' from a comparison's worst relative deviation."""
        w = (comp or {}).get("worst_relative_deviation") or {}
        if w.get("value") is None:
            return None, "no verdict (no deviation computed)"
        dev = abs(w["value"])
        where = f" (worst relative deviation {percent(dev)} at T = {num(w.get('temperature'))})"
        if dev <= ENERGY_TOLERANCE:
            return True, f"agrees within {100 * ENERGY_TOLERANCE:g} %" + where
        return False, f"differs by more than {100 * ENERGY_TOLERANCE:g} %" + where

    def energy_check_lines(self):
        """The verdicts of the energy (NVT) or enthalpy (NPT) check, as Markdown bullet lines."""
        th = self.a["thermodynamics"]
        comp = th.get("comparison")
        if not comp:
            return [f"- not done: {th.get('comparison_reason', 'no comparison')}"]
        lines = []
        if self.npt:
            _, v = self.energy_verdict(comp)
            lines.append(f"- h_qs + C (best additive constant C = {fmt(comp.get('additive_constant'))} ε) "
                         f"vs h_sys: {v}")
            mc = th.get("comparison_measured_concentrations")
            if mc:
                lines.append(f"- the same with the measured concentrations: {self.energy_verdict(mc)[1]}")
        else:
            es = th.get("comparison_energy_per_neighbor") or []
            e_text = ", ".join(f"{x['group']}: e = {fmt(x['e'])} ε" for x in es)
            lines.append(f"- Eq. 15 with the fitted e ({e_text or 'n/a'}), no constant: "
                         f"{self.energy_verdict(comp)[1]}")
            pe = th.get("comparison_paper_e")
            if pe:
                lines.append(f"- with the paper's e = {num(pe.get('e'))} ε: {self.energy_verdict(pe)[1]}")
            wc = th.get("comparison_with_constant")
            if wc:
                lines.append(f"- with a free additive constant (for information): {self.energy_verdict(wc)[1]}")
        return lines

    def thermo_check(self):
        th = self.a["thermodynamics"]
        comp = th.get("comparison")
        if not comp:
            return self.skip("Energy / enthalpy check", th.get("comparison_reason", "no comparison"))
        t = arr(comp["temperature"])
        mv, me = pair(comp["measured"])
        fig, (ax, ax2) = plt.subplots(2, 1, figsize=(6, 6), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
        label = r"$h_{\mathrm{sys}} = u + p v$" if self.npt else r"$u$ (measured)"
        ax.errorbar(t, mv, yerr=np.nan_to_num(me), fmt="o", label=label)
        g = self.a["grid"]
        tg, mask = self.grid_mask(0.5, 1.15)
        const = comp["additive_constant"]["value"] if comp.get("additive_constant") else 0.0
        if self.npt:
            model = arr(g["enthalpy_model"]["value"]) + const
            ax.plot(tg[mask], model[mask], "-", label=rf"$\sum_s C_s H_s + C$ ($C$ = {const:.4g} $\varepsilon$)")
            ax.set_ylabel(r"$h$  [$\varepsilon$ per particle]")
            ax2.set_ylabel(r"$(h_{\mathrm{qs}} + C)/h_{\mathrm{sys}}$")
            title = "Enthalpy check (Eq. 14)"
        else:
            model = arr(g["energy_model"]["value"])
            ax.plot(tg[mask], model[mask], "-", label=r"$(e/2) \sum_i C_i\, i + T$ (fitted $e$)")
            ax.set_ylabel(r"$u$  [$\varepsilon$ per particle]")
            ax2.set_ylabel(r"$u_{\mathrm{model}} / u$")
            title = "Energy check (Eq. 15)"
        ax2.plot(t, arr(comp["ratio"]), "o-", label="fitted e" if not self.npt else None)
        pe = th.get("comparison_paper_e")
        if pe and not self.npt:
            ax2.plot(arr(pe["temperature"]), arr(pe["ratio"]), "s--", mfc="none", ms=4,
                     label=f"paper's e = {num(pe.get('e'))}")
            ax2.legend(fontsize=7)
        ax2.axhline(1.0, color="k", lw=0.8)
        ax2.axhspan(1 - ENERGY_TOLERANCE, 1 + ENERGY_TOLERANCE, color="C2", alpha=0.12, lw=0)
        ax2.set_xlabel(T_LABEL)
        for a_ in (ax, ax2):
            self.shade_extrapolation(a_)
        ax.legend(fontsize=8)
        text = "\n".join(self.energy_check_lines())
        text += f"\n\nGreen band: ±{100 * ENERGY_TOLERANCE:g} %. " + self.extrapolation_note()
        self.save(fig, "enthalpy.png" if self.npt else "energy.png", title, text)

    def heat_capacity(self):
        th, g = self.a["thermodynamics"], self.a["grid"]
        tg = arr(g["temperature"])
        cv, ce = pair(g["heat_capacity_model"])
        if not np.isfinite(cv).any():
            return self.skip("Heat capacity", "model heat capacity not available")
        kind = th.get("heat_capacity_kind", "C")
        kind_tex = {"C_p": r"$C_p$", "C_v": r"$C_v$"}.get(kind, kind)
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        ax.plot(tg, cv, "-", label=f"{kind_tex} model (derivative of the model)")
        ax.fill_between(tg, cv - np.nan_to_num(ce), cv + np.nan_to_num(ce), alpha=0.25)
        fd = th["heat_capacity_finite_difference"]
        ft = arr(fd["temperature"])
        if len(ft):
            v, e = pair(fd["finite_difference"])
            ax.errorbar(ft, v, yerr=np.nan_to_num(e), fmt="o", label="finite differences of the measured " +
                        ("h" if self.npt else "u"))
        lo, hi = self.fit_range()
        text = ""
        peak = th.get("heat_capacity_peak")
        if peak:
            inside = peak.get("inside_fitted_range", lo <= peak["temperature"] <= hi)
            edge = peak.get("at_grid_edge", False)
            where = "inside the fitted range" if inside else "outside the fitted range: extrapolated"
            if edge:
                where += "; at the grid's edge, the true maximum may lie beyond"
            ax.plot([peak["temperature"]], [peak["heat_capacity"]["value"]], "*", color="k",
                    mfc="k" if inside else "none", ms=12,
                    label=f"model maximum, T = {peak['temperature']:.3g} ({where})")
            text = (f"Model {kind} maximum {fmt(peak['heat_capacity'])} k_B at T = {peak['temperature']:.4g}: "
                    f"{where} ({lo:g} ≤ T ≤ {hi:g}).")
        if th.get("heat_capacity_negative_below") is not None:
            text += (f" The model {kind} turns negative below T ≈ {th['heat_capacity_negative_below']:.3g} "
                     "(the extrapolation fails there).")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel(T_LABEL)
        ax.set_ylabel(f"{kind_tex}  [$k_B$ per particle]")
        self.shade_extrapolation(ax)
        ax.legend(fontsize=7)
        text = (text + " " + self.extrapolation_note()).strip()
        self.save(fig, "heat_capacity.png", f"Heat capacity {kind}", text)

    def entropy(self):
        g = self.a["grid"]
        tg = arr(g["temperature"])
        sv, se = pair(g["entropy"])
        if not np.isfinite(sv).any():
            return self.skip("Entropy", "not available")
        fig, ax = plt.subplots(figsize=(6, 4.2))
        ax.plot(tg, sv, "-", color="C0", label="model")
        band = np.isfinite(se)
        ax.fill_between(tg[band], (sv - se)[band], (sv + se)[band], color="C0", alpha=0.3,
                        label="± one standard deviation")
        tref = g["entropy_reference_temperature"]
        ax.axvline(tref, color="k", ls=":", lw=0.8, label=f"reference T = {tref:g}")
        ax.set_xlabel(T_LABEL)
        ax.set_ylabel(rf"$S(T) - S({tref:g})$  [$k_B$ per particle]")
        self.shade_extrapolation(ax)
        ax.legend(fontsize=8)
        text = ""
        if band.any():
            i = int(np.nanargmax(np.where(band, se, -np.inf)))
            text = (f"Band: one standard deviation, propagated from the fitted parameters (largest "
                    f"± {se[i]:.2g} k_B at T = {tg[i]:.3g}). ")
        self.save(fig, "entropy.png", "Entropy from the model, ∫ C/T dT", text + self.extrapolation_note())

    # -- report ---------------------------------------------------------------------------------
    def species_verdict(self, fit):
        """(table cell, note) of a fitted species: which test it passed."""
        crit = self.a["validation"].get("criterion", {})
        pmin, zmax = crit.get("p_value_min", 1e-3), crit.get("z_max", 4)
        tol = crit.get("relative_tolerance", 0.05)
        stat, prac = fit.get("statistical_pass"), fit.get("practical_pass")
        pull = (fit.get("worst_pull") or {}).get("value")
        ratio = (fit.get("worst_ratio_deviation") or {}).get("value")
        stat_text = (f"statistical test {'passed' if stat else 'failed'}: p = {num(fit.get('p_value'))} "
                     f"{'≥' if (fit.get('p_value') or 0) >= pmin else '<'} {pmin:g}, worst |pull| "
                     f"{num(None if pull is None else abs(pull))} (limit {zmax:g})")
        prac_text = (f"practical test {'passed' if prac else 'failed'}: worst deviation of C_s/C_r "
                     f"{percent(ratio)} ({'within' if prac else 'beyond'} {100 * tol:g} %)")
        if fit.get("passes"):
            cell = ("passes (statistical and practical)" if stat and prac else
                    "passes (statistical)" if stat else "passes (practical)" if prac else "passes")
        else:
            cell = "**fails**"
        return cell, f"{stat_text}; {prac_text}."

    def species_table(self):
        rows = ["| species | group | n | H [ε] | ln g | g | χ²/dof | p | T range | verdict |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        notes = []
        for s in self.a["species"]:
            f = s["fit"]
            if f["status"] == "fitted":
                cell, note = self.species_verdict(f)
                rows.append(
                    f"| {s['name']} | {s['group']} | {s['neighbors']} | {fmt(f['H'])} | {fmt(f['ln_g'])} | "
                    f"{fmt(f['g'])} | {num(f['reduced_chi2'])} | {num(f['p_value'])} | "
                    f"{f['temperature_range'][0]:g}–{f['temperature_range'][1]:g} | {cell} |")
                notes.append(f"- {s['name']}: {note}")
            elif f["status"] == "reference":
                rows.append(f"| {s['name']} | {s['group']} | {s['neighbors']} | 0 | 0 | 1 | | | | reference |")
            else:
                rows.append(f"| {s['name']} | {s['group']} | {s['neighbors']} | | | | | | | not fitted |")
                notes.append(f"- {s['name']}: not fitted: {f.get('reason', 'no reason given')}.")
        crit = self.a["validation"].get("criterion", {})
        head = []
        if crit:
            head = [f"Criterion `{crit.get('name', '?')}`: statistical test — {crit.get('statistical', '')}; "
                    f"practical test — {crit.get('practical', '')}.", ""]
        return "\n".join(rows + [""] + head + notes)

    def state_point_table(self):
        """Markdown table of measurements.json's state points, reasons as notes below."""
        points = self.measured_points()
        if not points:
            return []
        hq = "h" if self.npt else "p"
        rows = [f"| T | ρ | u [ε] | {hq} | τα [τ] | equilibrated |", "|---|---|---|---|---|---|"]
        notes = []
        for p in points:
            def ve(key):
                m, e = mean_err(p.get(key))
                if not np.isfinite(m):
                    return "n/a"
                if not np.isfinite(e) or e <= 1e-12 * abs(m):  # exact, or rounding noise
                    return f"{m:.5g}"
                return f"{m:.5g} ± {e:.2g}"
            ta = p.get("tau_alpha") or {}
            if ta.get("value") is not None:
                tau = f"{ta['value']:.4g}" + (f" ± {ta['error']:.2g}" if ta.get("error") is not None else "")
            elif ta.get("lower_bound") is not None:
                tau = f"> {ta['lower_bound']:.4g} (not reached)"
            else:
                tau = "n/a"
            eq = p.get("equilibrated")
            rows.append(f"| {p['temperature']:g} | {ve('density')} | {ve('u')} | {ve(hq)} | {tau} | "
                        f"{'n/a' if eq is None else yes_no(eq)} |")
            if p.get("flags"):
                notes.append(f"- T = {p['temperature']:g}, not equilibrated: " + "; ".join(p["flags"]))
            if ta.get("value") is not None and ta.get("error") is None and ta.get("error_note"):
                notes.append(f"- T = {p['temperature']:g}, no τα error: {ta['error_note']}")
        return ["## State points (measurements.json)", ""] + rows + [""] + notes + [""]

    def figure_steps(self):
        if self.a is None:
            return [self.thermo, self.concentrations_measured, self.isf, self.tau_arrhenius]
        return [self.thermo, self.concentrations, self.free_energies, self.degeneracies,
                self.predicted_vs_measured, self.isf, self.tau_arrhenius, self.tau_xi, self.c_liq,
                self.thermo_check, self.heat_capacity, self.entropy]

    def write(self):
        for step in self.figure_steps():
            try:
                step()
            except (KeyError, TypeError, ValueError, IndexError) as err:
                plt.close("all")
                self.skip(step.__name__.replace("_", " "), f"data missing or unusable ({err!r})")
        lines = [f"# vitrify report — {self.model} ({self.ensemble.upper()}, d = {self.dimension},"
                 f" N = {self.n_particles})", "", "Units: reduced LJ units, k_B = 1.", ""]
        if self.a is None:
            lines += ["No analysis.json in this directory (a run with `--no-analyze`, or too few usable "
                      "temperatures to analyse): the figures show the measurements only. "
                      "`vitrify analyze DIR` writes the analysis.", ""]
            lines += self.state_point_table()
        else:
            lines += self.analysis_summary()
        for title, png, text in self.sections:
            lines += [f"## {title}", ""]
            if png:
                lines += [f"![{title}]({png})", ""]
            if text:
                lines += [text, ""]
        with open(os.path.join(self.out, "report.md"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def analysis_summary(self):
        v = self.a["validation"]
        rel = self.a["relaxation"]
        lo, hi = self.fit_range()
        lines = [f"Fitted temperature range: {lo:g} ≤ T ≤ {hi:g} (ε/k_B); outside it the model is an "
                 "extrapolation (hatched in the figures).", ""]
        lines += [f"**Up-scaling validated: {yes_no(v['validated'])}** — {v['reason']}", ""]
        for f in v.get("untested_species", []):
            lines.append(f"- untested: {f['species']}: {f.get('reason', '')}")
        if v.get("untested_species"):
            lines.append("")
        if self.a.get("excluded_state_points"):
            lines.append("State points left out of the fits:")
            lines.append("")
            lines += [f"- T = {e['temperature']:g}: {'; '.join(e['reasons'])}"
                      for e in self.a["excluded_state_points"]]
            lines.append("")
        for w in self.a.get("warnings", []):
            lines.append(f"> Warning: {w}")
            lines.append("")
        lines += ["## Species fits F_s(T) = H_s − T ln g_s", "", self.species_table(), ""]
        if rel["status"] == "fitted":
            lines += [f"**Relaxation:** μ = {fmt(rel['mu'])} ε/σ, c = {fmt(rel['c'])}, e^c = {fmt(rel['exp_c'])} τ "
                      f"({self.relaxation_quality()}; {rel['n_points']} points).", ""]
        else:
            lines += [f"**Relaxation:** not fitted ({rel['reason']}).", ""]
        kind = "Enthalpy check (Eq. 14)" if self.npt else "Energy check (Eq. 15)"
        lines += [f"**{kind}:**", ""] + self.energy_check_lines() + [""]
        peak = self.a["thermodynamics"].get("heat_capacity_peak")
        if peak:
            inside = peak.get("inside_fitted_range")
            lines += [f"**{self.a['thermodynamics'].get('heat_capacity_kind', 'C')} maximum of the model:** "
                      f"{fmt(peak['heat_capacity'])} k_B at T = {peak['temperature']:.4g}, "
                      f"{'inside the fitted range' if inside else 'outside the fitted range (extrapolation)'}"
                      f"{', at the edge of the grid' if peak.get('at_grid_edge') else ''}.", ""]
        return lines


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    results = argv[1]
    if not os.path.isdir(results):
        print(f"report: {results} is not a directory", file=sys.stderr)
        return 1
    have = [n for n in ("analysis.json", "measurements.json") if os.path.exists(os.path.join(results, n))]
    if not have and not glob.glob(os.path.join(results, "thermo", "replica_*.csv")):
        print(f"report: {results} holds neither analysis.json, measurements.json nor thermo/ "
              "(is it a vitrify run directory?)", file=sys.stderr)
        return 1
    report = Report(results)
    report.write()
    print(f"report: wrote {report.out}/report.md and {sum(1 for s in report.sections if s[1])} figures"
          + ("" if report.a is not None else " (no analysis.json: measurements only)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
