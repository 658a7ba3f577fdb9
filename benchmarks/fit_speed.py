"""Fits per second of the batched fitting engine against a plain loop of scipy's curve_fit.

Simulates ``--curves`` 4PL kill curves (8 E:T ratios 0.3125–40, 2-fold, in
triplicate; et50 log-uniform on 1–10, hill 0.8–2.5, top 60–95 %, bottom −3–5 %;
noise Gaussian with SD 3–5 % lysis units plus 3 % multiplicative), fits them
all with :func:`killcurve.fit.engine.fit_batch` (best of ``--repeat`` runs,
stacking and starting values included) and one by one with
``scipy.optimize.curve_fit`` (same model and parameterisation, same
data-driven starting values, scipy's defaults otherwise). Prints fits/s of
each, the speed-up, and how often the two reach the same residual sum of
squares (relative difference ≤ 1e-6) over the curves both fit.

Run from the repository root::

    /work/venv/bin/python benchmarks/fit_speed.py            # 10,000 curves
    /work/venv/bin/python benchmarks/fit_speed.py --curves 2000 --repeat 5
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from killcurve.fit.data import stack_curves
from killcurve.fit.engine import fit_batch
from killcurve.fit.models import FOUR_PL

ET_RATIOS = 40.0 * 2.0 ** -np.arange(8)[::-1]
REPLICATES = 3


def simulate(n_curves: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, group) of ``n_curves`` simulated triplicate curves, grouped by curve, x ascending."""
    rng = np.random.default_rng(seed)
    theta = np.stack(
        [
            rng.uniform(-3.0, 5.0, n_curves),
            rng.uniform(60.0, 95.0, n_curves),
            rng.uniform(np.log(1.0), np.log(10.0), n_curves),
            rng.uniform(0.8, 2.5, n_curves),
        ]
    )
    x_curve = np.repeat(ET_RATIOS, REPLICATES)
    truth = FOUR_PL.value(theta, np.broadcast_to(x_curve[:, None], (len(x_curve), n_curves)))
    sd = rng.uniform(3.0, 5.0, n_curves)
    noise = rng.normal(size=truth.shape) * sd + truth * rng.normal(0.0, 0.03, truth.shape)
    y = (truth + noise).T.ravel()
    return np.tile(x_curve, n_curves), y, np.repeat(np.arange(n_curves), len(x_curve))


def four_pl(x: np.ndarray, bottom: float, top: float, log_et50: float, hill: float) -> np.ndarray:
    """The 4PL in the engine's parameterisation, for curve_fit."""
    return bottom + (top - bottom) / (1.0 + np.exp(hill * (log_et50 - np.log(x))))


def curve_fit_loop(
    x: np.ndarray, y: np.ndarray, group: np.ndarray, starts: np.ndarray
) -> tuple[float, np.ndarray]:
    """Seconds for the loop, and RSS per curve (NaN where curve_fit gives up)."""
    n_curves = starts.shape[1]
    bounds = np.searchsorted(group, np.arange(n_curves + 1))
    pieces = [(x[a:b], y[a:b]) for a, b in itertools.pairwise(bounds)]
    rss = np.full(n_curves, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        t0 = time.perf_counter()
        for i, (xc, yc) in enumerate(pieces):
            try:
                popt, _ = curve_fit(four_pl, xc, yc, p0=starts[:, i])
            except RuntimeError:
                continue
            rss[i] = float(np.sum((four_pl(xc, *popt) - yc) ** 2))
        seconds = time.perf_counter() - t0
    return seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--curves", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="engine runs; the best counts")
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()

    x, y, group = simulate(args.curves, args.seed)
    data = stack_curves(x, y, group)
    starts = FOUR_PL.start(data.x, data.y, data.w)

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = fit_batch(x, y, group, "4pl")
        times.append(time.perf_counter() - t0)
    engine_s = min(times)
    loop_s, loop_rss = curve_fit_loop(x, y, group, starts)

    fitted = np.isfinite(loop_rss)
    rel = np.abs(result.rss - loop_rss) / loop_rss
    same = rel[fitted] <= 1e-6
    lower = result.rss[fitted] < loop_rss[fitted] * (1 - 1e-6)
    engine_rate, loop_rate = args.curves / engine_s, args.curves / loop_s
    print(f"curves: {args.curves:,} (8 E:T × {REPLICATES} replicates each)")
    print(
        f"engine fit_batch:   {engine_rate:>10,.0f} fits/s  "
        f"({engine_s * 1e3:.1f} ms, best of {args.repeat})"
    )
    print(f"curve_fit loop:     {loop_rate:>10,.0f} fits/s  ({loop_s:.2f} s)")
    print(f"speed-up:           {engine_rate / loop_rate:>10.1f} ×")
    print(
        f"engine converged:   {result.converged.sum():,} / {args.curves:,} "
        f"(scipy fallback used for {np.sum(result.method == 'trf')}); "
        f"curve_fit gave up on {np.sum(~fitted):,}, both on {np.sum(~fitted & ~result.converged):,}"
    )
    print(
        f"same RSS (≤ 1e-6 relative) on {same.mean():.2%} "
        f"of the {fitted.sum():,} curves curve_fit fit; "
        f"engine lower on {lower.sum()}, higher on {(~same & ~lower).sum()}"
    )


if __name__ == "__main__":
    main()
