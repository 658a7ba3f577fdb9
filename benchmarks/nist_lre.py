"""Log relative errors (LRE) of the fitting engine on the 27 NIST StRD nonlinear problems.

Every problem is fitted from both certified starts through
:func:`killcurve.fit.engine.fit_batch` (generic-model path, analytic Jacobians,
SVD step, tolerances 1e-15; see ``tests/fit/nist_problems.py``), and the
minimum LRE (≈ correct significant digits, 0–15) of the parameters, of their
standard errors (J′J convention, :func:`killcurve.fit.inference.covariance`)
and of the residual sum of squares is printed as a Markdown table.
Lanczos1's certified RSS (1.4e-25) is below double-precision noise, so its
RSS and SE LREs stay near 3 whatever the optimiser.

Run from the repository root (the NIST files sit in ``../shared`` beside the checkout)::

    /work/venv/bin/python benchmarks/nist_lre.py
    /work/venv/bin/python benchmarks/nist_lre.py --folder PATH/TO/nist_strd
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from killcurve.fit.inference import covariance  # noqa: E402
from tests.fit.nist_problems import FORMULAS, fit_problem, load, lre  # noqa: E402

DEFAULT_FOLDER = REPO.parent / "shared" / "reference" / "doseresp" / "nist_strd"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    args = parser.parse_args()

    print("| dataset | start | method | iterations | params | SE | RSS | ms |")
    print("|---|---|---|---|---|---|---|---|")
    worst = np.inf
    for name in FORMULAS:
        problem = load(args.folder, name)
        for start in (1, 2):
            t0 = time.perf_counter()
            fit = fit_problem(problem, start)
            ms = (time.perf_counter() - t0) * 1e3
            se = np.sqrt(np.diagonal(covariance(fit, "jtj")[0]))
            lre_p = float(lre(fit.theta[:, 0], problem.certified).min())
            lre_se = float(lre(se, problem.certified_se).min())
            lre_rss = float(lre(fit.rss[0], problem.rss))
            worst = min(worst, lre_p)
            print(
                f"| {name} | {start} | {fit.method[0]} | {fit.n_iter[0]} | "
                f"{lre_p:.1f} | {lre_se:.1f} | {lre_rss:.1f} | {ms:.0f} |"
            )
    print(f"\nminimum parameter LRE over all problems and starts: {worst:.1f}")


if __name__ == "__main__":
    main()
