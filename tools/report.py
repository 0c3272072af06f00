# Started by the launcher tools/report, which picks the Python interpreter (tools/lib/python.sh).
"""Figures and a Markdown report of a vitrify analysis.

Usage: tools/report RESULTS_DIR

Reads RESULTS_DIR/measurements.json and RESULTS_DIR/analysis.json (written by `vitrify run` and
`vitrify analyze`) and writes PNG figures and report.md into RESULTS_DIR/report/. A figure whose
data is missing is skipped with a note in report.md. Needs numpy and matplotlib (Debian:
python3-numpy, python3-matplotlib); uses the Agg backend, so no display is needed.
"""

import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


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


class Report:
    def __init__(self, results_dir):
        self.dir = results_dir
        self.out = os.path.join(results_dir, "report")
        os.makedirs(self.out, exist_ok=True)
        with open(os.path.join(results_dir, "analysis.json")) as f:
            self.a = json.load(f)
        meas_path = os.path.join(results_dir, "measurements.json")
        self.m = None
        if os.path.exists(meas_path):
            with open(meas_path) as f:
                self.m = json.load(f)
        self.sections = []  # (title, png or None, text)
        self.npt = self.a["source"]["ensemble"] == "npt"
        self.dimension = self.a["source"]["dimension"]

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

    # -- figures ----------------------------------------------------------------------------------
    def concentrations(self):
        conc = self.a["concentrations"]
        t_meas = arr(conc["temperature"])
        t, mask = self.grid_mask()
        groups = self.groups()
        fig, axes = plt.subplots(1, len(groups), figsize=(6 * len(groups), 4.5), squeeze=False)
        for ax, g in zip(axes[0], groups):
            for i, name in enumerate(g["species"]):
                color = f"C{i % 10}"
                mv, me = pair(conc["species"][name]["measured"])
                ax.errorbar(t_meas, mv, yerr=me, fmt="o", ms=4, color=color, label=name)
                if name in self.a["grid"]["concentrations"]:
                    pv, _ = pair(self.a["grid"]["concentrations"][name])
                    ax.plot(t[mask], pv[mask], "-", color=color, lw=1.2)
            ax.set_xlabel("T  [ε/k_B]")
            ax.set_ylabel("⟨C_s⟩(T)  [fraction of N]")
            ax.set_title(f"group {g['name']} (reference {g['reference']})")
            ax.legend(fontsize=7, ncol=2)
        fig.suptitle("Concentrations: measured (symbols), Eq. 7 with fitted H, g (lines)")
        self.save(fig, "concentrations.png", "Concentrations of the quasi-species")

    def free_energies(self):
        groups = self.groups()
        fig, axes = plt.subplots(1, len(groups), figsize=(6 * len(groups), 4.5), squeeze=False)
        for ax, g in zip(axes[0], groups):
            for i, s in enumerate(self.species_of(g)):
                if s["reference"]:
                    continue
                color = f"C{i % 10}"
                fe = s["free_energy"]
                t = arr(fe["temperature"])
                v, e = arr(fe["value"]), arr(fe["error"])
                used = np.array(fe["in_fit"], dtype=bool)
                ax.errorbar(t[used], v[used], yerr=e[used], fmt="o", ms=4, color=color, label=s["name"])
                if (~used).any():
                    ax.errorbar(t[~used], v[~used], yerr=e[~used], fmt="o", ms=4, mfc="none", color=color)
                fit = s["fit"]
                if fit["status"] == "fitted":
                    lo, hi = fit["temperature_range"]
                    tt = np.linspace(lo, hi, 20)
                    ax.plot(tt, fit["H"]["value"] - tt * fit["ln_g"]["value"], "-", color=color, lw=1)
            ax.set_xlabel("T  [ε/k_B]")
            ax.set_ylabel(f"F_s − F_{{{g['reference']}}}  [ε]")
            ax.set_title(f"group {g['name']}: F_s(T) = H_s − T ln g_s")
            ax.legend(fontsize=7, ncol=2)
        v = self.a["validation"]
        text = f"Up-scaling validated: **{v['validated']}** — {v['reason']}."
        self.save(fig, "free_energies.png", "Free energies and their linear fits (validation)", text)

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
            ax.errorbar(n, lg, yerr=le, fmt="o", label="fitted ln g_s")
            gd = g["gaussian_degeneracy"]
            if gd["status"] == "fitted":
                cn, cl = arr(gd["curve"]["neighbors"]), arr(gd["curve"]["ln_g"])
                nn = np.linspace(cn.min(), cn.max(), 200)
                nmp, s2, c = gd["n_mp"]["value"], gd["sigma2"]["value"], gd["c"]["value"]
                ax.plot(nn, c - (nn - nmp) ** 2 / (2 * s2), "-", label="Gaussian model")
                lines.append(f"group {g['name']}: n_mp = {fmt(gd['n_mp'])}, σ² = {fmt(gd['sigma2'])}, "
                             f"c = {fmt(gd['c'])}, χ²/dof = {num(gd['reduced_chi2'])}")
            else:
                lines.append(f"group {g['name']}: Gaussian model not fitted ({gd['reason']})")
            ax.set_xlabel("n  (neighbours)")
            ax.set_ylabel(f"ln g_s  (relative to {g['reference']})")
            ax.set_title(f"group {g['name']}")
            ax.legend(fontsize=8)
        self.save(fig, "degeneracies.png", "Degeneracies and the Gaussian model", "\n".join(f"- {l}" for l in lines))

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
        ax.set_xlabel("measured ⟨C_s⟩  [fraction of N]")
        ax.set_ylabel("predicted C_s (Eq. 7)  [fraction of N]")
        ax.legend()
        self.save(fig, "predicted_vs_measured.png", "Predicted vs measured concentrations")

    def isf(self):
        if self.m is None:
            return self.skip("Self-intermediate scattering function", "measurements.json not found")
        points = [p for p in self.m.get("state_points", []) if p.get("isf_curve")]
        if not points:
            return self.skip("Self-intermediate scattering function", "no isf_curve in measurements.json")
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        cmap = plt.get_cmap("coolwarm")
        temps = [p["temperature"] for p in points]
        tmin, tmax = min(temps), max(temps)
        for p in points:
            x = (p["temperature"] - tmin) / (tmax - tmin) if tmax > tmin else 0.5
            t, f = arr(p["isf_curve"]["t"]), arr(p["isf_curve"]["F"])
            ax.semilogx(t, f, "-", color=cmap(x), lw=1.2, label=f"T = {p['temperature']:g}")
        ax.axhline(1 / math.e, color="k", ls=":", lw=0.8)
        k = self.m.get("isf", {}).get("k")
        ax.set_xlabel("t  [τ]")
        ax.set_ylabel(f"F_k(t)  (k = {k} σ⁻¹)" if k else "F_k(t)")
        ax.legend(fontsize=7, ncol=2)
        self.save(fig, "isf.png", "Self-intermediate scattering function F_k(t)")

    def tau_arrhenius(self):
        pt = self.a["per_temperature"]
        t = arr(pt["temperature"])
        tau, tau_e = pair(pt["tau_alpha_measured"])
        lower = arr(pt["tau_alpha_lower_bound"])
        if not np.isfinite(tau).any():
            return self.skip("τα vs 1/T", "no τα measured")
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ok = np.isfinite(tau)
        ax.errorbar(1 / t[ok], tau[ok], yerr=np.nan_to_num(tau_e[ok]), fmt="o", label="measured τα")
        nr = ~ok & np.isfinite(lower)
        if nr.any():
            ax.plot(1 / t[nr], lower[nr], "^", mfc="none", label="not reached (lower bound)")
        # Arrhenius guide through the three highest temperatures.
        idx = np.argsort(t[ok])[::-1][:3]
        text = ""
        if len(idx) >= 2:
            x, y = 1 / t[ok][idx], np.log(tau[ok][idx])
            slope, intercept = np.polyfit(x, y, 1)
            xx = np.linspace((1 / t[ok]).min(), (1 / t[ok]).max() * 1.1, 50)
            ax.plot(xx, np.exp(intercept + slope * xx), "k--", lw=1,
                    label=f"Arrhenius (3 highest T): E = {slope:.3g} ε")
            text = f"Arrhenius guide through the three highest temperatures: activation energy {slope:.3g} ε."
        g = self.a["grid"]
        tg, lt = arr(g["temperature"]), arr(g["ln_tau_alpha"]["value"])
        lo, hi = self.fit_range()
        m = np.isfinite(lt) & (tg >= 0.7 * lo) & (tg <= 1.2 * hi) & (lt < 700)
        if m.any():
            ax.plot(1 / tg[m], np.exp(lt[m]), "-", color="C3", label="prediction ln τα = μ ξ/T + c")
        ax.set_yscale("log")
        ax.set_xlabel("1/T  [k_B/ε]")
        ax.set_ylabel("τα  [τ]")
        ax.legend(fontsize=8)
        self.save(fig, "tau_arrhenius.png", "Relaxation time vs 1/T", text)

    def tau_xi(self):
        rel = self.a["relaxation"]
        if rel["status"] != "fitted":
            return self.skip("ln τα vs ξ/T", rel.get("reason", "no fit"))
        p = rel["points"]
        x, xe = pair(p["xi_over_t"])
        y, ye = pair(p["ln_tau_alpha"])
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.errorbar(x, y, xerr=xe, yerr=ye, fmt="o", label="measured")
        mu, c = rel["mu"]["value"], rel["c"]["value"]
        xx = np.linspace(0, x.max() * 1.1, 50)
        ax.plot(xx, mu * xx + c, "-", label=f"fit: μ = {fmt(rel['mu'], 3)}, c = {fmt(rel['c'], 3)}")
        h = rel.get("hold_out") or {}
        text = (f"μ = {fmt(rel['mu'])} ε/σ, c = {fmt(rel['c'])}, e^c = {fmt(rel['exp_c'])} τ; "
                f"{rel['weighting']}; T range {rel['temperature_range']}.")
        if h.get("status") == "done":
            mu2, c2 = h["mu_refit"]["value"], h["c_refit"]["value"]
            ax.plot(xx, mu2 * xx + c2, ":", color="C2", label="refit without lowest T")
            ax.errorbar([x[0]], [h["ln_tau_alpha_predicted"]["value"]], yerr=[h["ln_tau_alpha_predicted"]["error"]],
                        fmt="s", mfc="none", color="C2", label="hold-out prediction")
            text += (f" Hold-out at T = {h['temperature']:g}: predicted τα = {h['tau_alpha_predicted']:.4g} τ, "
                     f"measured {h['tau_alpha_measured']:.4g} τ (pull {h['pull']:.2f}).")
        ax.set_xlabel("ξ/T  [σ k_B/ε]")
        ax.set_ylabel("ln(τα/τ)")
        ax.legend(fontsize=8)
        self.save(fig, "tau_xi.png", "ln τα vs ξ/T", text)

    def c_liq(self):
        pt, g = self.a["per_temperature"], self.a["grid"]
        t = arr(pt["temperature"])
        cv, ce = pair(pt["c_liq_measured"])
        tg, mask = self.grid_mask(0.5, 1.15)
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.errorbar(t, cv, yerr=ce, fmt="o", label="measured")
        pv, pe = pair(g["c_liq"])
        ax.plot(tg[mask], pv[mask], "-", label="predicted (fitted g)")
        ax.fill_between(tg[mask], (pv - pe)[mask], (pv + pe)[mask], alpha=0.25)
        gv, _ = pair(g["c_liq_gaussian"])
        if np.isfinite(gv[mask]).any():
            ax.plot(tg[mask], gv[mask], "--", label="predicted (Gaussian g)")
        ax.set_xlabel("T  [ε/k_B]")
        ax.set_ylabel("C_liq(T)  [fraction of N]")
        ax.set_title("liquid species: " + ", ".join(self.a["relaxation"]["liquid_species"]))
        ax.legend(fontsize=8)
        self.save(fig, "c_liq.png", "Concentration of the liquid species")

    def thermo_check(self):
        th = self.a["thermodynamics"]
        comp = th.get("comparison")
        if not comp:
            return self.skip("Energy / enthalpy check", th.get("comparison_reason", "no comparison"))
        t = arr(comp["temperature"])
        mv, me = pair(comp["measured"])
        pv, pe = pair(comp["model_plus_constant"])
        fig, (ax, ax2) = plt.subplots(2, 1, figsize=(6, 6), sharex=False, gridspec_kw={"height_ratios": [2, 1]})
        label = "h_sys = u + p v" if self.npt else "u (measured)"
        ax.errorbar(t, mv, yerr=me, fmt="o", label=label)
        g = self.a["grid"]
        tg = arr(g["temperature"])
        const = comp["additive_constant"]["value"] if comp.get("additive_constant") else 0.0
        if self.npt:
            model = arr(g["enthalpy_model"]["value"]) + const
            ax.plot(tg, model, "-", label=f"Σ C_s H_s + C (C = {const:.4g} ε)")
            ax.set_ylabel("h  [ε per particle]")
            ax2.set_ylabel("(h_qs + C)/h_sys")
            title = "Enthalpy check (Eq. 14)"
        else:
            model = arr(g["energy_model"]["value"])
            ax.plot(tg, model, "-", label="(e/2) Σ C_i i + T")
            ax.set_ylabel("u  [ε per particle]")
            ax2.set_ylabel("u_model / u")
            title = "Energy check (Eq. 15)"
        lo, hi = self.fit_range()
        ax.axvspan(lo, hi, color="0.9", zorder=0)
        ax.legend(fontsize=8)
        ax2.plot(t, arr(comp["ratio"]), "o-")
        ax2.axhline(1.0, color="k", lw=0.8)
        for a_ in (ax, ax2):
            a_.set_xlabel("T  [ε/k_B]")
        w = comp["worst_relative_deviation"]
        text = f"Worst relative deviation {num(w['value'])} at T = {num(w['temperature'])}."
        if self.npt:
            text = f"Best additive constant C = {fmt(comp['additive_constant'])} ε. " + text
        self.save(fig, "enthalpy.png" if self.npt else "energy.png", title, text)

    def heat_capacity(self):
        th, g = self.a["thermodynamics"], self.a["grid"]
        tg = arr(g["temperature"])
        cv, ce = pair(g["heat_capacity_model"])
        if not np.isfinite(cv).any():
            return self.skip("Heat capacity", "model heat capacity not available")
        kind = th.get("heat_capacity_kind", "C")
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        ax.plot(tg, cv, "-", label=f"{kind} model (derivative of the model)")
        ax.fill_between(tg, cv - np.nan_to_num(ce), cv + np.nan_to_num(ce), alpha=0.25)
        fd = th["heat_capacity_finite_difference"]
        ft = arr(fd["temperature"])
        if len(ft):
            v, e = pair(fd["finite_difference"])
            ax.errorbar(ft, v, yerr=e, fmt="o", label="finite differences of the measured " +
                        ("h" if self.npt else "u"))
        lo, hi = self.fit_range()
        ax.axvspan(lo, hi, color="0.9", zorder=0, label="fitted range")
        text = ""
        peak = th.get("heat_capacity_peak")
        if peak:
            ax.plot([peak["temperature"]], [peak["heat_capacity"]["value"]], "k*", ms=10, label="model maximum")
            text = (f"Model {kind} maximum {fmt(peak['heat_capacity'])} k_B at T = {peak['temperature']:.4g}"
                    f"{' (grid edge)' if peak['at_grid_edge'] else ''}.")
        if th.get("heat_capacity_negative_below") is not None:
            text += f" The model {kind} turns negative below T ≈ {th['heat_capacity_negative_below']:.3g} (extrapolation fails)."
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel("T  [ε/k_B]")
        ax.set_ylabel(f"{kind}  [k_B per particle]")
        ax.legend(fontsize=8)
        self.save(fig, "heat_capacity.png", f"Heat capacity {kind}", text)

    def entropy(self):
        g = self.a["grid"]
        tg = arr(g["temperature"])
        sv, se = pair(g["entropy"])
        if not np.isfinite(sv).any():
            return self.skip("Entropy", "not available")
        fig, ax = plt.subplots(figsize=(6, 4.2))
        ax.plot(tg, sv, "-")
        ax.fill_between(tg, sv - np.nan_to_num(se), sv + np.nan_to_num(se), alpha=0.25)
        tref = g["entropy_reference_temperature"]
        ax.axvline(tref, color="k", ls=":", lw=0.8)
        ax.set_xlabel("T  [ε/k_B]")
        ax.set_ylabel(f"S(T) − S({tref:g})  [k_B per particle]")
        self.save(fig, "entropy.png", "Entropy from the model, ∫ C/T dT")

    # -- report ---------------------------------------------------------------------------------
    def species_table(self):
        rows = ["| species | group | n | H [ε] | ln g | g | χ²/dof | p | T range | passes |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for s in self.a["species"]:
            f = s["fit"]
            if f["status"] == "fitted":
                rows.append(
                    f"| {s['name']} | {s['group']} | {s['neighbors']} | {fmt(f['H'])} | {fmt(f['ln_g'])} | "
                    f"{fmt(f['g'])} | {num(f['reduced_chi2'])} | {num(f['p_value'])} | "
                    f"{f['temperature_range'][0]:g}–{f['temperature_range'][1]:g} | {f['passes']} |")
            else:
                rows.append(f"| {s['name']} | {s['group']} | {s['neighbors']} | {f['status']} | | | | | | "
                            f"{f['reason']} |")
        return "\n".join(rows)

    def write(self):
        for step in (self.concentrations, self.free_energies, self.degeneracies, self.predicted_vs_measured,
                     self.isf, self.tau_arrhenius, self.tau_xi, self.c_liq, self.thermo_check,
                     self.heat_capacity, self.entropy):
            try:
                step()
            except (KeyError, TypeError, ValueError, IndexError) as err:
                self.skip(step.__name__.replace("_", " "), f"data missing or unusable ({err!r})")
        src = self.a["source"]
        v = self.a["validation"]
        rel = self.a["relaxation"]
        lines = [f"# vitrify analysis report — {src['model']} ({src['ensemble'].upper()}, d = {src['dimension']},"
                 f" N = {src['n_particles']})", ""]
        lo, hi = self.fit_range()
        lines += [f"Fitted temperature range: {lo:g} ≤ T ≤ {hi:g} (ε/k_B). Units: reduced LJ units, k_B = 1.", ""]
        lines += [f"**Up-scaling validated: {v['validated']}** — {v['reason']}", ""]
        if self.a.get("excluded_state_points"):
            lines.append("Excluded state points: " + "; ".join(
                f"T = {e['temperature']:g} ({', '.join(e['reasons'])})" for e in self.a["excluded_state_points"]))
            lines.append("")
        for w in self.a.get("warnings", []):
            lines.append(f"> Warning: {w}")
        lines += ["", "## Species fits F_s(T) = H_s − T ln g_s", "", self.species_table(), ""]
        if rel["status"] == "fitted":
            lines += [f"**Relaxation:** μ = {fmt(rel['mu'])} ε/σ, c = {fmt(rel['c'])}, e^c = {fmt(rel['exp_c'])} τ "
                      f"(χ²/dof = {num(rel['reduced_chi2'])}, {rel['n_points']} points).", ""]
        else:
            lines += [f"**Relaxation:** not fitted ({rel['reason']}).", ""]
        for title, png, text in self.sections:
            lines += [f"## {title}", ""]
            if png:
                lines += [f"![{title}]({png})", ""]
            if text:
                lines += [text, ""]
        with open(os.path.join(self.out, "report.md"), "w") as f:
            f.write("\n".join(lines) + "\n")


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    results = argv[1]
    if not os.path.exists(os.path.join(results, "analysis.json")):
        print(f"report: {results}/analysis.json not found (run `vitrify analyze` first)", file=sys.stderr)
        return 1
    report = Report(results)
    report.write()
    print(f"report: wrote {report.out}/report.md and {sum(1 for s in report.sections if s[1])} figures")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
