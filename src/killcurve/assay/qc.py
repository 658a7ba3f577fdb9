"""Plate quality control: control statistics, Z′ and a pass/fail with reasons.

* CV of a control group = 100 × SD/mean (sample SD, n − 1), in %.
* Z′ (Zhang, Chung & Oldenburg 1999, J Biomol Screen 4:67) between the
  ``target_only`` wells and the opposite control:
  ``Z′ = 1 − 3(σ_T + σ_C)/|μ_T − μ_C|``, where C is ``max_lysis`` when the
  plate has it, else ``background`` (luciferase plates). Sample SDs.
* A plate fails when Z′ < ``min_z_prime`` or a control CV > ``max_control_cv_pct``
  or an overflow control well had to be excluded; ``reasons`` lists each.
"""

from __future__ import annotations

import polars as pl

#: Columns of ``plate_qc.csv`` in order.
QC_COLUMNS = (
    "plate_id",
    "readout",
    "n_wells",
    "n_excluded",
    "target_only_mean",
    "target_only_cv",
    "max_lysis_mean",
    "max_lysis_cv",
    "background_mean",
    "z_prime",
    "pass",
    "reasons",
)


def _stats(role: str) -> list[pl.Expr]:
    sig = pl.col("signal").filter(pl.col("role") == role)
    return [
        sig.mean().alias(f"{role}_mean"),
        sig.std().alias(f"{role}_sd"),
        (100.0 * sig.std() / sig.mean()).alias(f"{role}_cv"),
    ]


def plate_qc(
    wells: pl.DataFrame, min_z_prime: float = 0.5, max_control_cv_pct: float = 20.0
) -> pl.DataFrame:
    """One row per plate with control statistics, Z′, ``pass`` and ``reasons``.

    Only non-excluded wells enter the statistics. ``reasons`` is a
    ``; ``-separated text, empty when the plate passes.
    """
    used = wells.filter(~pl.col("excluded"))
    stats = used.group_by("plate_id").agg(
        pl.col("readout").first(),
        *_stats("target_only"),
        *_stats("max_lysis"),
        *_stats("background"),
    )
    counts = wells.group_by("plate_id").agg(
        pl.len().cast(pl.Int64).alias("n_wells"),
        pl.col("excluded").sum().cast(pl.Int64).alias("n_excluded"),
        (pl.col("excluded") & (pl.col("role") != "sample")).sum().alias("n_control_excluded"),
    )
    has_max = pl.col("max_lysis_mean").is_not_null()
    other_mean = (
        pl.when(has_max).then(pl.col("max_lysis_mean")).otherwise(pl.col("background_mean"))
    )
    other_sd = pl.when(has_max).then(pl.col("max_lysis_sd")).otherwise(pl.col("background_sd"))
    z_prime = (
        1.0
        - 3.0
        * (pl.col("target_only_sd") + other_sd)
        / (pl.col("target_only_mean") - other_mean).abs()
    )
    qc = stats.join(counts, on="plate_id").with_columns(z_prime.alias("z_prime"))
    reasons = pl.concat_list(
        pl.when(pl.col("z_prime") < min_z_prime).then(
            pl.format("z_prime {} < {}", pl.col("z_prime").round(3), pl.lit(min_z_prime))
        ),
        pl.when(pl.col("target_only_cv") > max_control_cv_pct).then(
            pl.format(
                "target_only_cv {}% > {}%",
                pl.col("target_only_cv").round(1),
                pl.lit(max_control_cv_pct),
            )
        ),
        pl.when(pl.col("max_lysis_cv") > max_control_cv_pct).then(
            pl.format(
                "max_lysis_cv {}% > {}%",
                pl.col("max_lysis_cv").round(1),
                pl.lit(max_control_cv_pct),
            )
        ),
        pl.when(pl.col("n_control_excluded") > 0).then(
            pl.format("{} control well(s) overflowed", pl.col("n_control_excluded"))
        ),
    ).list.drop_nulls()
    return (
        qc.with_columns(reasons.alias("reasons"))
        .with_columns(
            (pl.col("reasons").list.len() == 0).alias("pass"),
            pl.col("reasons").list.join("; "),
        )
        .select(QC_COLUMNS)
        .sort("plate_id")
    )


def exclude_failed_plates(wells: pl.DataFrame, qc: pl.DataFrame) -> pl.DataFrame:
    """Mark every sample well of a failed plate excluded, reason ``plate_failed_qc``."""
    failed = qc.filter(~pl.col("pass"))["plate_id"]
    hit = (
        pl.col("plate_id").is_in(failed.implode())
        & ~pl.col("excluded")
        & (pl.col("role") == "sample")
    )
    return wells.with_columns(
        pl.when(hit)
        .then(pl.lit("plate_failed_qc"))
        .otherwise(pl.col("exclusion_reason"))
        .alias("exclusion_reason"),
        (pl.col("excluded") | hit).alias("excluded"),
    )
