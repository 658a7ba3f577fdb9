"""Recovery of the simulated time-resolved truth: t50 per curve and the ratios' coverage.

Each seed writes a simulated impedance study with :func:`killcurve.simulate.timecourse.
write_timecourse_study` (``--curves`` curves: NEUK203-13 and NEUK200-13, lots drawn with a lot
effect, fresh and post-thaw, 6 E:T levels in triplicate, sweeps every 0.5 h to 72 h after
addition, 1.5 % sweep noise; truth in its ``config/truth_timecourse.tsv``), runs
:func:`killcurve.pipeline.timecourse.timecourse_tables` and counts:

* t50: the curve × E:T groups whose true t50 is reached, how many got an estimate, and how many
  of those lie within 10 % of the truth; and the groups censored in truth that the data cross;
* coverage: per row type (``et50_ratio`` at each configured time by Welch's t and by the mixed
  model; ``t50_ratio`` per E:T by the same two), how many intervals there were and how many
  cover the study's true ratio (the geometric mean over its lots, ``value``), with the binomial
  95 % range of the count under exact 95 % coverage.

Run from the repository root (about 5–10 s a seed on one core)::

    .venv/bin/python benchmarks/timecourse_recovery.py --n 20
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import polars as pl
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from killcurve.config import load_config
from killcurve.pipeline.timecourse import timecourse_tables
from killcurve.simulate.timecourse import write_timecourse_study
from tests.timecourse.recovery import ratio_rows, recovered_t50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20, help="number of simulated studies")
    parser.add_argument("--curves", type=int, default=40, help="curves per study")
    parser.add_argument("--seed", type=int, default=1, help="first seed")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    counts: dict[str, int] = {}
    ratios = []
    for seed in range(args.seed, args.seed + args.n):
        with tempfile.TemporaryDirectory() as tmp:
            truth = write_timecourse_study(Path(tmp), n_curves=args.curves, seed=seed)
            tables = timecourse_tables(Path(tmp), load_config(Path(tmp) / "config/config.yaml"))
        for key, value in recovered_t50(tables, truth).items():
            counts[key] = counts.get(key, 0) + value
        ratios.append(ratio_rows(tables, truth))
        print(f"seed {seed}: {counts}", file=sys.stderr)
    share = counts["within_10pct"] / counts["estimated"]
    print(
        f"t50: {counts['reached']} groups reach 50 % in truth, {counts['estimated']} estimated, "
        f"{counts['within_10pct']} within 10 % ({100 * share:.1f} %); "
        f"{counts['censored_in_truth_but_crossed']} censored in truth but crossed in the data"
    )
    table = pl.concat(ratios)
    for (metric, method), part in table.group_by("metric", "method", maintain_order=True):
        n, k = part.height, int(part["covers"].sum())
        low, high = stats.binom.ppf([0.025, 0.975], n, 0.95)
        print(
            f"{metric} {method}: {k}/{n} intervals cover the truth ({100 * k / n:.1f} %; "
            f"{low:.0f}–{high:.0f} expected at exact 95 %)"
        )


if __name__ == "__main__":
    main()
