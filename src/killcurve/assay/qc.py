"""Plate quality control: control statistics, Z′, position effects, pass/fail with reasons.

Per plate, over non-excluded wells (sample SDs, n − 1):

* CV of a control group = 100 × SD/mean, %.
* Z′ (Zhang, Chung & Oldenburg 1999, J Biomol Screen 4:67) between the
  ``target_only`` wells and the opposite control C:
  ``Z′ = 1 − 3(σ_T + σ_C)/|μ_T − μ_C|``; C = ``max_lysis`` when the plate has
  it, else ``background`` (luciferase plates).
* Signal-to-background ``S/B = max(μ_T, μ_C)/min(μ_T, μ_C)``; empty on a
  plate with neither ``max_lysis`` nor ``background`` wells.
* Spontaneous release, % of maximum (release: ``100 × T/M``; ldh:
  ``100 × (T − B)/(M − V)`` with V the volume-correction mean, B if absent).
* Position effect: for each control group of ≥ 6 wells, Spearman's rank
  correlation of signal with row and with column (when the group spans ≥ 3
  of them), and a Mann–Whitney test of edge against interior wells (≥ 3 of
  each). p-values are Holm-adjusted within the plate; an effect counts when
  adjusted p < ``position_alpha`` and its size (Theil–Sen slope × span, or
  the difference of medians) exceeds ``position_min_effect_pct`` % of the
  group mean.

* Duplicated data: two plates whose signal arrays are identical — the same
  readings, well for well in plate order (row, then column; unreadable wells
  match unreadable wells), with ≥ ``MIN_DUPLICATE_READINGS`` numbers — are
  both failed with ``duplicate data: signals identical to plate <other>``:
  independent wells never repeat a plate exactly, so one of the two is a copy
  (a file exported twice, a sheet pasted under two names) and the check cannot
  tell which.
* Readouts computed upstream: on ``pct_lysis`` plates the ``target_only``
  wells (≈ 0 %) get no CV, on ``pct_survival`` plates the ``max_lysis`` wells
  (≈ 0 %) get none, and neither gets S/B (a ratio to ≈ 0 says nothing).
* Position effects are not tested on plates whose wells are running numbers
  (``synthetic_well``, tidy input without well positions).

A plate fails on any of: Z′ < ``min_z_prime``; a control CV >
``max_control_cv_pct``; S/B < ``min_signal_to_background``; spontaneous
release > ``max_spontaneous_pct``; a position effect; an overflowing control
well; duplicated data. ``reasons`` lists each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from killcurve.assay.readouts import PRECOMPUTED
from killcurve.plate import row_index

#: Columns of ``plate_qc.csv`` in order.
QC_COLUMNS = (
    "plate_id", "readout", "n_wells", "n_excluded", "n_overflow", "target_only_mean",
    "target_only_cv", "max_lysis_mean", "max_lysis_cv", "background_mean", "z_prime",
    "signal_to_background", "spontaneous_pct", "position_effect", "pass", "reasons",
)  # fmt: skip
CONTROL_ROLES = ("target_only", "max_lysis", "background")
#: Fewest numeric readings a plate needs before identical plates count as duplicated data.
MIN_DUPLICATE_READINGS = 3


@dataclass(frozen=True)
class QcThresholds:
    """Pass/fail limits of :func:`plate_qc` (the config's ``qc`` keys)."""

    min_z_prime: float = 0.5
    max_control_cv_pct: float = 20.0
    min_signal_to_background: float = 2.0
    max_spontaneous_pct: float = 30.0
    position_alpha: float = 0.01
    position_min_effect_pct: float = 10.0


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values: sorted ascending, ``p_(i) × (m − i + 1)``,
    made monotone and capped at 1.

    Written out rather than called from statsmodels: ``multipletests`` runs a full garbage
    collection on every call (~80 ms), which dominated QC at 100 plates.

    >>> holm(np.array([0.01, 0.04, 0.03])).round(4).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p)
    m = len(p)
    stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def _limit(name: str, op: str, limit: float, unit: str = "") -> pl.Expr:
    """Reason text such as ``z_prime 0.31 < 0.5`` or ``target_only_cv 25.0% > 20.0%``."""
    return pl.format(f"{name} {{}}{unit} {op} {limit}{unit}", pl.col(name).round(3))


def _stats(role: str) -> list[pl.Expr]:
    sig = pl.col("signal").filter(pl.col("role") == role)
    return [
        sig.mean().alias(f"{role}_mean"),
        sig.std().alias(f"{role}_sd"),
        (100.0 * sig.std() / sig.mean()).alias(f"{role}_cv"),
    ]


def position_effects(wells: pl.DataFrame, thresholds: QcThresholds) -> pl.DataFrame:
    """``plate_id`` and ``position_effect`` (text, empty when none) from the control wells.

    See the module docstring for the tests. Edges are the outermost rows and
    columns of the plate size the layout implies (96: A/H, 1/12; 384: A/P, 1/24).
    """
    # Imported here: merging wells and drawing plate maps use this module but not these
    # tests, and scipy.stats costs each of those jobs 0.5 s of start-up.
    from scipy import stats

    controls = wells.filter(pl.col("role").is_in(CONTROL_ROLES) & ~pl.col("excluded"))
    if "synthetic_well" in controls.columns:
        controls = controls.filter(~pl.col("synthetic_well").fill_null(False))
    controls = controls.with_columns(row_index(pl.col("row")).alias("r"))
    out = []
    for (plate,), plate_wells in controls.group_by("plate_id", maintain_order=True):
        n_rows = 16 if plate_wells["r"].max() > 8 or plate_wells["col"].max() > 12 else 8
        n_cols = 24 if n_rows == 16 else 12
        tests: list[tuple[str, float, float]] = []  # (what, p, effect %)
        for (role,), group in plate_wells.group_by("role", maintain_order=True):
            y = group["signal"].to_numpy()
            if group.height < 6 or np.ptp(y) == 0:
                continue
            mean = float(np.mean(y))
            for axis, pos in (("row", group["r"].to_numpy()), ("column", group["col"].to_numpy())):
                if len(np.unique(pos)) < 3 or mean == 0:
                    continue
                rho = stats.spearmanr(pos, y)
                slope = stats.theilslopes(y, pos).slope
                effect = 100.0 * abs(slope * (pos.max() - pos.min())) / abs(mean)
                tests.append((f"{role} trend by {axis}", float(rho.pvalue), effect))
            r, c = group["r"].to_numpy(), group["col"].to_numpy()
            edge = (r == 1) | (r == n_rows) | (c == 1) | (c == n_cols)
            if edge.sum() >= 3 and (~edge).sum() >= 3 and mean != 0:
                p = stats.mannwhitneyu(y[edge], y[~edge]).pvalue
                effect = 100.0 * abs(np.median(y[edge]) - np.median(y[~edge])) / abs(mean)
                tests.append((f"{role} edge vs interior", float(p), effect))
        found = []
        if tests:
            pvals = np.nan_to_num(np.array([t[1] for t in tests]), nan=1.0)
            adjusted = holm(pvals)
            for (what, _, effect), p_adj in zip(tests, adjusted, strict=True):
                if (
                    p_adj < thresholds.position_alpha
                    and effect > thresholds.position_min_effect_pct
                ):
                    found.append(f"{what} ({effect:.0f}% of mean, Holm p {p_adj:.2g})")
        out.append({"plate_id": plate, "position_effect": "; ".join(found)})
    schema = {"plate_id": pl.String, "position_effect": pl.String}
    return pl.DataFrame(out, schema=schema)


def duplicate_plates(wells: pl.DataFrame) -> pl.DataFrame:
    """``plate_id`` and ``duplicate_of`` (the other plates with identical signal arrays, sorted).

    A plate's signal array is its ``signal`` column over all its wells ordered by
    row, then column. Plates with fewer than :data:`MIN_DUPLICATE_READINGS`
    numbers are never duplicates. Only plates with a duplicate are returned.

    >>> w = pl.DataFrame({"plate_id": ["P1", "P1", "P1", "P2", "P2", "P2", "P3", "P3", "P3"],
    ...     "row": ["A"] * 9, "col": [1, 2, 3] * 3,
    ...     "signal": [5.0, 6.0, 7.5, 5.0, 6.0, 7.5, 5.0, 6.0, 7.0]})
    >>> duplicate_plates(w).rows()
    [('P1', 'P2'), ('P2', 'P1')]
    """
    arrays = (
        wells.with_columns(row_index(pl.col("row")).alias("_r"))
        .sort("plate_id", "_r", "col")
        .group_by("plate_id", maintain_order=True)
        .agg(pl.col("signal"), pl.col("signal").is_not_null().sum().alias("_n"))
        .filter(pl.col("_n") >= MIN_DUPLICATE_READINGS)
    )
    seen: dict[tuple[float | None, ...], list[str]] = {}
    for plate, signal in arrays.select("plate_id", "signal").iter_rows():
        seen.setdefault(tuple(signal), []).append(plate)
    rows = [
        (plate, "; ".join(sorted(p for p in group if p != plate)))
        for group in seen.values()
        if len(group) > 1
        for plate in group
    ]
    return pl.DataFrame(
        rows, schema={"plate_id": pl.String, "duplicate_of": pl.String}, orient="row"
    )


def plate_qc(wells: pl.DataFrame, thresholds: QcThresholds | None = None) -> pl.DataFrame:
    """One row per plate with control statistics, Z′, position effects, ``pass`` and ``reasons``.

    ``reasons`` is ``; ``-separated text, empty when the plate passes.
    """
    th = thresholds or QcThresholds()
    used = wells.filter(~pl.col("excluded"))
    v_mean = pl.col("signal").filter(pl.col("role") == "volume_correction").mean()
    stats_frame = used.group_by("plate_id").agg(
        pl.col("readout").first(),
        *_stats("target_only"),
        *_stats("max_lysis"),
        *_stats("background"),
        v_mean.alias("volume_correction_mean"),
    )
    is_overflow = pl.col("exclusion_reason").eq_missing(pl.lit("overflow"))
    counts = wells.group_by("plate_id").agg(
        pl.len().cast(pl.Int64).alias("n_wells"),
        pl.col("excluded").sum().cast(pl.Int64).alias("n_excluded"),
        is_overflow.sum().cast(pl.Int64).alias("n_overflow"),
        (is_overflow & (pl.col("role") != "sample")).sum().alias("n_control_overflow"),
    )
    has_max = pl.col("max_lysis_mean").is_not_null()
    c_mean = pl.when(has_max).then(pl.col("max_lysis_mean")).otherwise(pl.col("background_mean"))
    c_sd = pl.when(has_max).then(pl.col("max_lysis_sd")).otherwise(pl.col("background_sd"))
    t_mean, t_sd = pl.col("target_only_mean"), pl.col("target_only_sd")
    z_prime = 1.0 - 3.0 * (t_sd + c_sd) / (t_mean - c_mean).abs()
    readout = pl.col("readout")
    s_to_b = (
        pl.when(readout.is_in(PRECOMPUTED) | c_mean.is_null())
        .then(None)
        .otherwise(pl.max_horizontal(t_mean, c_mean) / pl.min_horizontal(t_mean, c_mean))
    )
    b = pl.col("background_mean").fill_null(0.0)
    spont = (
        pl.when(pl.col("readout") == "release")
        .then(100.0 * t_mean / pl.col("max_lysis_mean"))
        .when(pl.col("readout") == "ldh")
        .then(
            100.0
            * (t_mean - b)
            / (pl.col("max_lysis_mean") - pl.coalesce(pl.col("volume_correction_mean"), b))
        )
        .otherwise(None)
    )
    qc = (
        stats_frame.join(counts, on="plate_id")
        .join(position_effects(wells, th), on="plate_id", how="left")
        .join(duplicate_plates(wells), on="plate_id", how="left")
        .with_columns(
            pl.when(readout == "pct_lysis")
            .then(None)
            .otherwise("target_only_cv")
            .alias("target_only_cv"),
            pl.when(readout == "pct_survival")
            .then(None)
            .otherwise("max_lysis_cv")
            .alias("max_lysis_cv"),
            z_prime.alias("z_prime"),
            s_to_b.alias("signal_to_background"),
            spont.alias("spontaneous_pct"),
            pl.col("position_effect").fill_null(""),
        )
    )
    reasons = pl.concat_list(
        pl.when(pl.col("z_prime") < th.min_z_prime).then(_limit("z_prime", "<", th.min_z_prime)),
        pl.when(pl.col("target_only_cv") > th.max_control_cv_pct).then(
            _limit("target_only_cv", ">", th.max_control_cv_pct, "%")
        ),
        pl.when(pl.col("max_lysis_cv") > th.max_control_cv_pct).then(
            _limit("max_lysis_cv", ">", th.max_control_cv_pct, "%")
        ),
        pl.when(pl.col("signal_to_background") < th.min_signal_to_background).then(
            _limit("signal_to_background", "<", th.min_signal_to_background)
        ),
        pl.when(pl.col("spontaneous_pct") > th.max_spontaneous_pct).then(
            _limit("spontaneous_pct", ">", th.max_spontaneous_pct, "%")
        ),
        pl.when(pl.col("position_effect") != "").then(
            pl.format("position effect: {}", pl.col("position_effect"))
        ),
        pl.when(pl.col("n_control_overflow") > 0).then(
            pl.format("{} control well(s) overflowed", pl.col("n_control_overflow"))
        ),
        pl.when(pl.col("duplicate_of").is_not_null()).then(
            pl.format("duplicate data: signals identical to plate {}", pl.col("duplicate_of"))
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
    """Mark every usable sample well of a failed plate excluded, reason ``plate_failed_qc``."""
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
