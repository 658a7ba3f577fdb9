"""Log relative errors (LRE) of the fitting engine on the 27 NIST StRD nonlinear problems.

Every problem is fitted from both certified starts through
:func:`killcurve.fit.engine.fit_batch` (generic-model path, analytic Jacobians,
SVD step, tolerances 1e-15; see ``tests/fit/nist_problems.py``), and the
minimum LRE (≈ correct significant digits, 0–15) of the parameters, of their
standard errors (J′J convention, :func:`killcurve.fit.inference.covariance`)
and of the residual sum of squares is printed as a Markdown table: first the
engine's float64 result, then the same optimum after the long-double
Gauss–Newton polish of :func:`killcurve.fit.polish.polish_extended` (data
parsed from the file's decimal strings, residuals, RSS and s² in
``np.longdouble``; ``steps`` = polish steps kept). Lanczos1's certified RSS
(1.4e-25) is below float64 evaluation noise, so its float64 RSS and SE keep
only ≈ 3 digits; the polished ones keep 6 or more.

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
from tests.fit.nist_problems import (  # noqa: E402
    FORMULAS,
    Problem,
    fit_problem,
    load,
    lre,
    polish_problem,
)

DEFAULT_FOLDER = REPO.parent / "shared" / "reference" / "doseresp" / "nist_strd"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    args = parser.parse_args()

    print(
        "| dataset | start | method | iterations | params | SE | RSS | ms "
        "| steps | params (long double) | SE (long double) | RSS (long double) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    engine, polished = [], []
    for name in FORMULAS:
        problem = load(args.folder, name)
        for start in (1, 2):
            t0 = time.perf_counter()
            fit = fit_problem(problem, start)
            ms = (time.perf_counter() - t0) * 1e3
            se = np.sqrt(np.diagonal(covariance(fit, "jtj")[0]))
            pol = polish_problem(problem, fit)
            engine.append(_lres(problem, fit.theta[:, 0], se, fit.rss[0]))
            polished.append(_lres(problem, pol.theta, pol.se, pol.rss))
            print(
                f"| {name} | {start} | {fit.method[0]} | {fit.n_iter[0]} | "
                + " | ".join(f"{v:.1f}" for v in engine[-1])
                + f" | {ms:.0f} | {pol.steps} | "
                + " | ".join(f"{v:.1f}" for v in polished[-1])
                + " |"
            )
    print()
    for label, rows in (("engine (float64)", engine), ("after long-double polish", polished)):
        p, se, rss = np.min(rows, axis=0)
        print(f"minimum LRE, {label}: params {p:.1f}, SE {se:.1f}, RSS {rss:.1f}")


def _lres(problem: Problem, theta: np.ndarray, se: np.ndarray, rss: float) -> list[float]:
    """Minimum LRE of the parameters and SEs, and LRE of the RSS."""
    return [
        float(lre(theta, problem.certified).min()),
        float(lre(se, problem.certified_se).min()),
        float(lre(rss, problem.rss)),
    ]


if __name__ == "__main__":
    main()
