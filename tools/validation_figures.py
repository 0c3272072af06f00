# Started by the launcher tools/validation_figures, which picks the Python interpreter (tools/lib/python.sh).
"""Comparison figure of docs/VALIDATION.md: hump2d H_i and ln g_i fitted by `vitrify analyze`
against the paper's Table II, and the concentrations they predict.

Usage: tools/validation_figures OUT.png LABEL=analysis.json [LABEL=analysis.json ...]  (split at the last "=")
Needs numpy and matplotlib.
"""

import json
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

TABLE_II = {"c2": (0.0, 1.0), "c3": (-0.545053, 2.830972), "c4": (-0.564547, 7.289318),
            "c5": (-0.411079, 6.862693), "c6": (-0.217412, 1.552314)}
NAMES = list(TABLE_II)


def conc(H, g, T):
    w = np.array([g[k] * np.exp(-H[k] / T) for k in NAMES])
    return w / w.sum(axis=0)


def main():
    out = sys.argv[1]
    sets = []
    for arg in sys.argv[2:]:
        label, path = arg.rsplit("=", 1)
        with open(path) as f:
            a = json.load(f)
        H, G, eH, eL, trange = {}, {}, {}, {}, None
        for s in a["species"]:
            fit = s["fit"]
            if fit["H"] is None:
                continue
            H[s["name"]] = fit["H"]["value"]
            G[s["name"]] = fit["g"]["value"]
            eH[s["name"]] = fit["H"]["error"]
            eL[s["name"]] = fit["ln_g"]["error"]
            trange = trange or fit.get("temperature_range")
        sets.append((label, H, G, eH, eL, a["temperature_range"]["fitted"]))
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    n = np.arange(2, 7)
    axes[0].plot(n, [TABLE_II[k][0] for k in NAMES], "ks-", label="paper, Table II")
    axes[1].plot(n, [math.log(TABLE_II[k][1]) for k in NAMES], "ks-", label="paper, Table II")
    for m, (label, H, G, eH, eL, tr) in enumerate(sets):
        ks = [k for k in NAMES if k in H]
        x = [int(k[1:]) + 0.05 * (m + 1) for k in ks]
        axes[0].errorbar(x, [H[k] for k in ks], yerr=[eH[k] for k in ks], fmt="o-", ms=4, label=label)
        axes[1].errorbar(x, [math.log(G[k]) for k in ks], yerr=[eL[k] for k in ks], fmt="o-", ms=4, label=label)
    axes[0].set(xlabel="i (neighbours in the well)", ylabel="H_i (epsilon), H_2 = 0", title="enthalpies")
    axes[1].set(xlabel="i", ylabel="ln g_i, g_2 = 1", title="degeneracies")
    T = np.linspace(0.08, 0.65, 200)
    Hp = {k: v[0] for k, v in TABLE_II.items()}
    Gp = {k: v[1] for k, v in TABLE_II.items()}
    cp = conc(Hp, Gp, T)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for j, k in enumerate(NAMES):
        axes[2].plot(T, cp[j], "-", color=colors[j], lw=2, alpha=0.5, label=f"{k} Table II" if j == 0 else None)
    styles = ["--", ":", "-."]
    for m, (label, H, G, eH, eL, tr) in enumerate(sets):
        if all(k in H for k in NAMES):
            c = conc(H, G, T)
            for j, k in enumerate(NAMES):
                axes[2].plot(T, c[j], styles[m % 3], color=colors[j], lw=1,
                             label=f"{label} (fit {tr[0]:g}-{tr[1]:g})" if j == 0 else None)
    for j, k in enumerate(NAMES):
        axes[2].text(0.085, cp[j][0], k, color=colors[j], fontsize=8, va="center")
    axes[2].set(xlabel="T", ylabel="c_i", title="Eq. 7 with each set of H, g (thick: Table II)")
    for a in axes:
        a.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print("wrote", out)


if __name__ == "__main__":
    main()
