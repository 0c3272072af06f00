"""Helpers shared by the study tools (calibrate_hump2d, study_binary3d_pressure): finding the
vitrify binary and the relaxed analysis of a run."""
import os
import shutil
import subprocess
import sys


def find_vitrify(given, tool):
    """The vitrify binary: `given`, else $VITRIFY, else build/vitrify of this checkout, else the
    one on PATH; exits naming `tool` when none is executable."""
    here = os.path.dirname(os.path.abspath(__file__))
    cands = [given, os.environ.get("VITRIFY"), os.path.join(here, "..", "build", "vitrify"),
             shutil.which("vitrify")]
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    sys.exit(f"{tool}: no vitrify binary found (use --vitrify PATH or set VITRIFY)")


def relaxed_analysis(vitrify, run_dir):
    """Run `vitrify analyze --accept too_few_blocks` on RUN/measurements.json into
    RUN/analysis_relaxed/: the state points whose only equilibration flags are "too few blocks
    for the error" (fewer than 8 blocks for the error: the error bars are unreliable, no drift
    was detected) are used by the fits. Every other flag (production < 100 tau_alpha, halves
    disagree) still excludes the point. analysis.json lists the accepted points with their flags
    (accepted_flagged_state_points, docs/ANALYSIS.md). Returns the path of its analysis.json or
    None."""
    src = os.path.join(run_dir, "measurements.json")
    out = os.path.join(run_dir, "analysis_relaxed")
    os.makedirs(out, exist_ok=True)
    rc = subprocess.call([vitrify, "analyze", src, "-o", out, "--accept", "too_few_blocks"])
    res = os.path.join(out, "analysis.json")
    return res if rc == 0 and os.path.exists(res) else None
