"""Coverage of the true potency ratio by comparisons.csv's 95 % intervals, over simulated studies.

Each simulated study: products T (test) and R (reference), 3 lots each, every
lot assayed on 2 days (batch B1, B2), one target; 8 E:T ratios 40:1 to
0.3125:1 (2-fold) in triplicate, i.e. 12 curves of 24 wells. Per curve

    ln et50 = ln et50_product + u_lot + v_day,   u ~ N(0, σ_lot²), v ~ N(0, σ_day²),

(the day effect is shared by both products' curves of that day), common
bottom 1 %, top 90 %, hill 1.3; each well's % lysis is the 4PL plus Gaussian
noise of SD ``--noise`` % lysis. The true potency ratio is
et50_T/et50_R = exp(ln et50_T − ln et50_R) of the typical lot on a typical
day (the fixed-effect ratio); default 2/5 = 0.4.

Every study runs :func:`killcurve.fit.curves.fit_curves` and
:func:`killcurve.stats.compare.compare_products` (one pooled comparison) and
reads its rows: ``potency_ratio`` by ``parallel_line_delta`` and
``parallel_line_fieller`` (constrained global fit of the pooled wells, when
parallelism is ``equivalent``), ``et50_ratio`` by ``welch_t_log_et50`` (the
12 curves as independent observations) and by ``mixedlm_log_et50`` (lot
random intercept + crossed day variance component; t interval on
lots − 2 = 4 df; the same interval with the normal quantile is shown too).
Prints, per method, how often it gave an interval and how often that
interval covers the truth (with the binomial 95 % range of the count under
exact 95 % coverage), and the mixed model's variance components against the
truth (median estimated SD, share of studies within 25 % of the true SD).

Run from the repository root (about 3–5 minutes for 400 studies on 2 cores)::

    /work/venv/bin/python benchmarks/potency_coverage.py
    /work/venv/bin/python benchmarks/potency_coverage.py --studies 100 --lot-sd 0 --day-sd 0
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
import polars as pl
from scipy import stats

from killcurve.fit.curves import fit_curves
from killcurve.stats.compare import compare_products

ET_RATIOS = 40.0 * 2.0 ** -np.arange(8)
REPLICATES = 3
LOTS = 3
DAYS = ("B1", "B2")
COMPARISON = [{"name": "pooled", "test": "T", "reference": "R"}]


def simulate_wells(
    rng: np.random.Generator, et50: dict[str, float], lot_sd: float, day_sd: float, noise: float
) -> pl.DataFrame:
    """The sample wells of one study (wells.parquet columns killcurve's fit and compare read)."""
    day = dict(zip(DAYS, rng.normal(0.0, day_sd, len(DAYS)), strict=True))
    x = np.repeat(ET_RATIOS, REPLICATES)
    frames = []
    for product, mu in et50.items():
        for i in range(LOTS):
            u = rng.normal(0.0, lot_sd)
            for batch, v in day.items():
                e50 = math.exp(math.log(mu) + u + v)
                y = 1.0 + 89.0 / (1.0 + (e50 / x) ** 1.3) + rng.normal(0.0, noise, x.size)
                frames.append(
                    pl.DataFrame(
                        {
                            "plate_id": f"{batch}-{product}{i}",
                            "role": "sample",
                            "product": product,
                            "lot": f"{product}{i}",
                            "target": "K562",
                            "stage": None,
                            "cryo": None,
                            "batch": batch,
                            "readout": "luciferase",
                            "et_ratio": x,
                            "signal": y,
                            "excluded": False,
                            "pct_lysis": y,
                        },
                        schema_overrides={"stage": pl.String, "cryo": pl.String},
                    )
                )
    return pl.concat(frames)


def one_study(seed: int, args: argparse.Namespace) -> tuple[pl.DataFrame, dict[str, float]]:
    """comparisons.csv rows of one simulated study, and its mixed model's estimated SDs."""
    rng = np.random.default_rng(seed)
    wells = simulate_wells(
        rng, {"T": args.et50_test, "R": args.et50_ref}, args.lot_sd, args.day_sd, args.noise
    )
    curves = fit_curves(wells)
    table = compare_products(curves, COMPARISON, wells)
    mixed = table.filter(pl.col("method") == "mixedlm_log_et50")["notes"][0] or ""
    sds: dict[str, float] = {}
    if "SD (ln scale): " in mixed:
        part = mixed.split("SD (ln scale): ")[1].split(";")[0]
        sds = {k: float(v) for k, v in (item.split(" ") for item in part.split(", "))}
    return table.with_columns(study=pl.lit(seed)), sds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--studies", type=int, default=400)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--lot-sd", type=float, default=0.25, help="SD of ln et50 between lots")
    parser.add_argument("--day-sd", type=float, default=0.15, help="SD of ln et50 between days")
    parser.add_argument("--noise", type=float, default=4.0, help="well noise SD, %% lysis")
    parser.add_argument("--et50-test", type=float, default=2.0)
    parser.add_argument("--et50-ref", type=float, default=5.0)
    args = parser.parse_args()
    truth = args.et50_test / args.et50_ref
    start = time.perf_counter()
    tables, sds = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(args.studies):
            table, sd = one_study(args.seed + k, args)
            tables.append(table)
            sds.append(sd)
    rows = pl.concat(tables)
    elapsed = time.perf_counter() - start
    print(
        f"{args.studies} studies ({elapsed:.0f} s): 2 products x {LOTS} lots x {len(DAYS)} days, "
        f"true ratio {truth:g}, SD lot {args.lot_sd:g}, day {args.day_sd:g} (ln et50), "
        f"well noise {args.noise:g} % lysis"
    )
    lo_ok, hi_ok = stats.binom.ppf([0.025, 0.975], args.studies, 0.95)
    print(f"binomial 95 % range of the cover count at exactly 95 %: {lo_ok:.0f}–{hi_ok:.0f}\n")
    ratio_rows = rows.filter(pl.col("metric").is_in(["potency_ratio", "et50_ratio"]))
    mixed = ratio_rows.filter(pl.col("method") == "mixedlm_log_et50")
    # The same mixed-model interval with the normal quantile instead of t(4): ln half-width scaled.
    q_t, q_z = stats.t.ppf(0.975, 2 * LOTS - 2), stats.norm.ppf(0.975)
    half = (pl.col("upper").log() - pl.col("lower").log()) / 2 * q_z / q_t
    normal = mixed.with_columns(
        method=pl.lit("mixedlm_log_et50 (normal quantile)"),
        lower=(pl.col("estimate").log() - half).exp(),
        upper=(pl.col("estimate").log() + half).exp(),
    )
    summary = (
        pl.concat([ratio_rows, normal])
        .with_columns(
            has_ci=pl.col("lower").is_not_null() & pl.col("upper").is_not_null(),
            covers=(pl.col("lower") <= truth) & (truth <= pl.col("upper")),
            width=(pl.col("upper") / pl.col("lower")),
        )
        .group_by("metric", "method", maintain_order=True)
        .agg(
            intervals=pl.col("has_ci").sum(),
            covered=pl.col("covers").fill_null(False).sum(),
            coverage_pct=100 * pl.col("covers").filter(pl.col("has_ci")).mean(),
            median_estimate=pl.col("estimate").median(),
            median_upper_over_lower=pl.col("width").median(),
        )
    )
    with pl.Config(tbl_rows=20, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
        print(summary)
        equiv = rows.filter(pl.col("metric") == "potency_ratio")["parallelism"].value_counts()
        print("\nparallelism of the pooled fits (rows of potency_ratio, 2 per study):")
        print(equiv.sort("parallelism"))
        truth_sd = {"lot": args.lot_sd, "batch": args.day_sd}
        vc = pl.DataFrame(sds).select(
            [c for c in ("lot", "batch", "residual") if sds and c in sds[0]]
        )
        out = []
        for name in vc.columns:
            est = vc[name].drop_nulls()
            want = truth_sd.get(name)
            out.append(
                {
                    "component": name,
                    "true_sd": want,
                    "median_sd": est.median(),
                    "mean_variance_sqrt": math.sqrt((est**2).mean()),
                    "within_25pct": None
                    if want is None
                    else float(((est / want - 1).abs() <= 0.25).mean() * 100),
                    "zero_pct": float((est < 1e-3).mean() * 100),
                }
            )
        print("\nmixed model variance components (SD of ln et50; residual = curve-level error):")
        print(pl.DataFrame(out))


if __name__ == "__main__":
    main()
