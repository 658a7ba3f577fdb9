"""Coverage of the true potency ratio when a parallel target is read by two readouts on two days.

Each simulated study (:func:`tests.stats.blocks.two_readout_wells`): products T and R,
``--lots`` lots each, every lot assayed in two blocks, luciferase on day B1 (bottom 1 %,
top 90 %) and release on day B2 (bottom 8 %, top 55 %); 8 E:T ratios 40:1 to 0.3125:1 in
triplicate; common hill 1.3 (parallel); ln et50 = ln et50_product + u_lot + v_day with
v ~ N(0, ``--day-sd``²) shared by both products' curves of a day, u ~ N(0, ``--lot-sd``²);
well noise SD ``--noise`` % lysis. True ratio et50_T/et50_R = 2/5 = 0.4.

Every study runs :func:`killcurve.fit.curves.fit_curves` and
:func:`killcurve.stats.compare.compare_products` (comparison ``by: [target]``, default
``blocks: [readout]``) and reads its ``potency_ratio`` rows: ``parallel_line_delta`` and
``parallel_line_fieller`` (block-specific asymptotes, common hill, block-fixed-effect contrast
of the curves' ln et50) and the ``combined_*`` row (one potency per block, combined,
Ph. Eur. 5.3 §6.2). Prints per method how many studies got an interval, how many of those
cover the truth, and the binomial 95 % range of the count under exact 95 % coverage.

The potency intervals are within-assay: they estimate the ratio of the tested lots. With
``--lot-sd`` > 0 the script also counts coverage of that ratio,
0.4·exp(mean u_T − mean u_R) (the true ratio of the typical lot is then not the estimand).

Run from the repository root (about 1.5 s a study on one core)::

    .venv/bin/python benchmarks/similarity_coverage.py --n 200
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from killcurve.fit.curves import fit_curves
from killcurve.stats.compare import compare_products
from tests.stats.blocks import two_readout_wells

COMPARISON = [{"name": "c", "test": "T", "reference": "R", "by": ["target"]}]


def one_study(seed: int, args: argparse.Namespace) -> pl.DataFrame:
    """The potency_ratio rows of one simulated study, with the tested lots' true ratio."""
    rng = np.random.default_rng(seed)
    et50 = (args.et50_test, args.et50_ref)
    wells = two_readout_wells(
        rng, et50=et50, lots=args.lots, lot_sd=args.lot_sd, day_sd=args.day_sd, noise=args.noise
    )
    lots = wells.group_by("product", "lot").agg(pl.col("true_log_lot").first())
    u = {p: lots.filter(pl.col("product") == p)["true_log_lot"].mean() for p in ("T", "R")}
    tested = et50[0] / et50[1] * math.exp(u["T"] - u["R"])
    table = compare_products(fit_curves(wells), COMPARISON, wells)
    return table.filter(pl.col("metric") == "potency_ratio").with_columns(
        study=pl.lit(seed), tested_truth=pl.lit(tested)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="number of simulated studies")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--lots", type=int, default=3)
    parser.add_argument("--lot-sd", type=float, default=0.0, help="SD of ln et50 between lots")
    parser.add_argument("--day-sd", type=float, default=0.15, help="SD of ln et50 between days")
    parser.add_argument("--noise", type=float, default=3.0, help="well noise SD, %% lysis")
    parser.add_argument("--et50-test", type=float, default=2.0)
    parser.add_argument("--et50-ref", type=float, default=5.0)
    args = parser.parse_args()
    truth = args.et50_test / args.et50_ref
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = pl.concat([one_study(args.seed + k, args) for k in range(args.n)])
    elapsed = time.perf_counter() - start
    print(
        f"{args.n} studies ({elapsed:.0f} s): 2 products x {args.lots} lots x 2 blocks "
        f"(luciferase|B1 top 90 %, release|B2 top 55 %), true ratio {truth:g}, SD lot "
        f"{args.lot_sd:g}, day {args.day_sd:g} (ln et50), well noise {args.noise:g} % lysis"
    )
    lo_ok, hi_ok = stats.binom.ppf([0.025, 0.975], args.n, 0.95)
    print(f"binomial 95 % range of the cover count at exactly 95 % of n: {lo_ok:.0f}–{hi_ok:.0f}\n")
    has_ci = pl.col("lower").is_not_null() & pl.col("upper").is_not_null()
    summary = (
        rows.with_columns(
            method=pl.when(pl.col("method").str.starts_with("combined_"))
            .then(pl.lit("combined_* (any)"))
            .otherwise(pl.col("method")),
            has_ci=has_ci,
            covers=(pl.col("lower") <= truth) & (truth <= pl.col("upper")),
            covers_tested=(pl.col("lower") <= pl.col("tested_truth"))
            & (pl.col("tested_truth") <= pl.col("upper")),
            width=pl.col("upper") / pl.col("lower"),
        )
        .group_by("method", maintain_order=True)
        .agg(
            intervals=pl.col("has_ci").sum(),
            covered=pl.col("covers").fill_null(False).sum(),
            coverage_pct=100 * pl.col("covers").filter(pl.col("has_ci")).mean(),
            coverage_tested_lots_pct=100 * pl.col("covers_tested").filter(pl.col("has_ci")).mean(),
            median_estimate=pl.col("estimate").median(),
            median_upper_over_lower=pl.col("width").median(),
        )
    )
    with pl.Config(tbl_rows=20, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
        print(summary)
        print("\nparallelism of the rows (3 per study):")
        print(rows["parallelism"].value_counts().sort("parallelism"))
        combined = rows.filter(pl.col("method").str.starts_with("combined_"))
        print("\ncombined rows by method:")
        print(combined["method"].value_counts().sort("method"))


if __name__ == "__main__":
    main()
