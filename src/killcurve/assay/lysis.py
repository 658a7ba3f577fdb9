"""% specific lysis from each plate's own control wells.

Per plate, control means are taken over the plate's non-excluded wells of
each role (S = the well's signal, in the reader's units):

* ``luciferase`` — ``100 × (1 − (S − B)/(T − B))``; T = mean ``target_only``,
  B = mean ``background`` (0 when the plate has none).
* ``release`` (calcein, europium-TDA, ⁵¹Cr) — ``100 × (S − T)/(M − T)``;
  T = mean ``target_only`` (spontaneous release), M = mean ``max_lysis``.
* ``ldh`` (Promega CytoTox 96, TB163) — medium background B subtracted from
  every well; the volume-correction control V (medium + lysis solution)
  subtracted from the maximum instead when the plate has it:
  ``100 × ((S − B) − (E − B) − (T − B)) / ((M − V) − (T − B))``, E = mean
  ``effector_only`` of the same plate, product and E:T (and lot when the
  effector_only wells name one).
* ``flow`` — S = dead % of targets: ``100 × (S − T)/(100 − T)``, T = mean
  dead % of ``target_only`` wells.
* ``impedance`` — S = normalised cell index at the analysis time:
  ``100 × (1 − S/T)``, T = mean of ``target_only``.
* ``imaging_count``, ``imaging_confluence`` (live-cell imaging of target cells) — as
  ``impedance``: ``100 × (1 − S/T)``.
* ``pct_lysis`` — S is % lysis computed upstream: taken as is.
* ``pct_survival`` — S is % surviving targets computed upstream (100 % =
  targets alone): ``100 − S``. Neither needs control wells; controls a plate
  does have get a value too and are summarised by the plate QC.

Values below 0 % or above 100 % are kept as computed (they are information)
and marked in ``lysis_flag`` (``negative``, ``above_100``); nothing is clipped.
"""

from __future__ import annotations

import polars as pl

from killcurve.assay.readouts import PRECOMPUTED, READOUTS, TARGET_CELL_READOUTS
from killcurve.errors import KillcurveInputError

#: Roles whose wells get a % lysis.
LYSIS_ROLES = ("sample", "target_only", "max_lysis")
#: Control roles each readout needs on every plate.
REQUIRED_CONTROLS: dict[str, tuple[str, ...]] = {k: r.required for k, r in READOUTS.items()}


#: Control roles whose means :func:`control_means` gives, by the column they go to.
CONTROL_COLUMNS = {
    "T": "target_only",
    "M": "max_lysis",
    "B": "background",
    "V": "volume_correction",
}


def control_means(wells: pl.DataFrame) -> pl.DataFrame:
    """Mean signal per plate of each control role over non-excluded wells.

    One row per plate: ``plate_id``, ``readout``, ``T`` (target_only), ``M``
    (max_lysis), ``B`` (background), ``V`` (volume_correction); null when the
    plate has no usable well of that role. Each mean is taken over the plate's wells in
    table order, gathered first: a grouped ``mean`` may add a large table's values in
    partial sums that depend on the number of threads, and the last bits of % lysis with
    them (reruns must be byte-identical on any machine).
    """
    gathered = (
        wells.filter(~pl.col("excluded"))
        .group_by("plate_id", maintain_order=True)
        .agg(
            pl.col("readout").first(),
            *(
                pl.col("signal").filter(pl.col("role") == role).alias(name)
                for name, role in CONTROL_COLUMNS.items()
            ),
        )
    )
    return gathered.with_columns(pl.col(name).list.mean() for name in CONTROL_COLUMNS).sort(
        "plate_id"
    )


def check_controls(controls: pl.DataFrame) -> None:
    """Stop on controls that cannot normalise a plate (named in the message).

    Every plate needs a usable target_only mean, except pct_lysis and
    pct_survival plates (already normalised upstream). luciferase: T > B (or 0);
    release and ldh: M > T (ldh after background/volume correction); flow:
    0 ≤ T < 100; impedance: T > 0.
    """
    for row in controls.iter_rows(named=True):
        plate, readout = row["plate_id"], row["readout"]
        if readout in PRECOMPUTED:
            continue
        t, m, b, v = row["T"], row["M"], row["B"], row["V"]
        if t is None:
            raise KillcurveInputError(
                f"plate {plate}: no usable target_only well (missing, excluded or overflowing). "
                "A plate needs target_only controls to compute % lysis."
            )
        if readout in ("release", "ldh", "luciferase") and t <= 0:
            raise KillcurveInputError(
                f"plate {plate}: target_only mean {t:.6g} is zero or negative. "
                "Check the plate file and the layout roles."
            )
        if readout == "luciferase" and t <= (b or 0.0):
            raise KillcurveInputError(
                f"plate {plate}: target_only mean {t:.6g} is not above the background "
                f"mean {b or 0.0:.6g}. Check the layout roles and the plate file."
            )
        if readout in ("release", "ldh"):
            if m is None:
                raise KillcurveInputError(
                    f"plate {plate}: readout {readout!r} needs max_lysis wells; none are usable. "
                    "Add max_lysis (detergent) wells to the layout."
                )
            top = m - (v if v is not None else (b or 0.0))
            base = t - (b or 0.0) if readout == "ldh" else t
            if top <= base:
                raise KillcurveInputError(
                    f"plate {plate}: max_lysis mean {m:.6g} is not above target_only "
                    f"(spontaneous) mean {t:.6g}"
                    + (" after background/volume correction" if readout == "ldh" else "")
                    + ". Check the layout roles and the plate file."
                )
        if readout == "flow" and not 0 <= t < 100:
            raise KillcurveInputError(
                f"plate {plate}: target_only dead % mean {t:.6g} is outside [0, 100). "
                "Flow signals must be percentages of dead targets."
            )
        if readout in TARGET_CELL_READOUTS and t <= 0:
            raise KillcurveInputError(
                f"plate {plate}: target_only mean (cell index, count or confluence) {t:.6g} "
                "is not positive."
            )


def effector_means(wells: pl.DataFrame) -> pl.DataFrame:
    """Mean ``effector_only`` signal per plate, product, lot and E:T (``E``) over usable wells."""
    return (
        wells.filter((pl.col("role") == "effector_only") & ~pl.col("excluded"))
        .group_by("plate_id", "product", "lot", "et_ratio")
        .agg(pl.col("signal").mean().alias("E"))
    )


def _attach_effector_spontaneous(wells: pl.DataFrame) -> pl.DataFrame:
    """Join ``E`` to ldh sample wells: by lot when effector_only wells name it, else by product."""
    eff = effector_means(wells)
    with_lot = eff.filter(pl.col("lot").is_not_null())
    any_lot = eff.filter(pl.col("lot").is_null()).drop("lot").rename({"E": "E_any"})
    out = wells.join(with_lot, on=["plate_id", "product", "lot", "et_ratio"], how="left")
    out = out.join(any_lot, on=["plate_id", "product", "et_ratio"], how="left")
    out = out.with_columns(pl.coalesce("E", "E_any").alias("E")).drop("E_any")
    missing = out.filter(
        (pl.col("readout") == "ldh")
        & (pl.col("role") == "sample")
        & ~pl.col("excluded")
        & pl.col("E").is_null()
    )
    if missing.height:
        row = missing.row(0, named=True)
        raise KillcurveInputError(
            f"plate {row['plate_id']} well {row['well']}: ldh needs effector_only (effector "
            f"spontaneous release) wells of product {row['product']!r} at E:T {row['et_ratio']:g}; "
            "none are usable. Add them to the layout for every E:T the plate tests."
        )
    return out


def pct_lysis_expr() -> pl.Expr:
    """``pct_lysis`` from ``signal``, ``readout`` and the joined means T, M, B, V and E.

    >>> df = pl.DataFrame({"readout": ["release", "luciferase", "pct_survival"],
    ...                    "signal": [550.0, 400.0, 30.0], "T": [100.0, 1000.0, None],
    ...                    "M": [1000.0, None, None], "B": [None, 100.0, None],
    ...                    "V": [None, None, None], "E": [None, None, None]})
    >>> df.select(pct_lysis_expr())["pct_lysis"].round(6).to_list()
    [50.0, 66.666667, 70.0]
    """
    s, t, m, e = pl.col("signal"), pl.col("T"), pl.col("M"), pl.col("E")
    b = pl.col("B").fill_null(0.0)
    v = pl.coalesce(pl.col("V"), b)
    readout = pl.col("readout")
    return (
        pl.when(readout == "luciferase")
        .then(100.0 * (1.0 - (s - b) / (t - b)))
        .when(readout == "release")
        .then(100.0 * (s - t) / (m - t))
        .when(readout == "ldh")
        .then(100.0 * ((s - b) - (e - b) - (t - b)) / ((m - v) - (t - b)))
        .when(readout == "flow")
        .then(100.0 * (s - t) / (100.0 - t))
        .when(readout.is_in(TARGET_CELL_READOUTS))
        .then(100.0 * (1.0 - s / t))
        .when(readout == "pct_lysis")
        .then(s)
        .when(readout == "pct_survival")
        .then(100.0 - s)
        .otherwise(None)
        .alias("pct_lysis")
    )


def lysis_scale_expr() -> pl.Expr:
    """``lysis_scale`` = |∂ % lysis/∂S| · S: the SD of a well's % lysis per unit CV of its reading.

    With a reading of constant CV c (SD c·S), the delta method gives SD(% lysis) =
    c · |∂ % lysis/∂S| · S; the derivative is the plate's constant from
    :func:`pct_lysis_expr`: ``100·S/|T − B|`` (luciferase), ``100·S/|M − T|``
    (release), ``100·S/|(M − V) − (T − B)|`` (ldh), ``100·S/|T|`` (impedance). Null for
    ``flow`` (a dead % of counted cells has binomial, not constant-CV, noise) and the
    precomputed readouts (no reading). Columns as for :func:`pct_lysis_expr` (E is not
    needed).

    >>> df = pl.DataFrame({"readout": ["release", "luciferase", "flow"],
    ...                    "signal": [550.0, 400.0, 30.0], "T": [100.0, 1000.0, 5.0],
    ...                    "M": [1000.0, None, None], "B": [None, 100.0, None], "V": None})
    >>> df.select(lysis_scale_expr())["lysis_scale"].round(6).to_list()
    [61.111111, 44.444444, None]
    """
    s, t, m = pl.col("signal"), pl.col("T"), pl.col("M")
    b = pl.col("B").fill_null(0.0)
    v = pl.coalesce(pl.col("V"), b)
    readout = pl.col("readout")
    span = (
        pl.when(readout == "luciferase")
        .then(t - b)
        .when(readout == "release")
        .then(m - t)
        .when(readout == "ldh")
        .then((m - v) - (t - b))
        .when(readout.is_in(TARGET_CELL_READOUTS))
        .then(t)
        .otherwise(None)
    )
    return (100.0 * s / span.abs()).alias("lysis_scale")


def with_lysis_scale(wells: pl.DataFrame) -> pl.DataFrame:
    """``wells`` with ``lysis_scale`` (:func:`lysis_scale_expr`) from each plate's control
    means over its non-excluded wells, as :func:`compute_lysis` takes them."""
    controls = control_means(wells).drop("readout")
    return (
        wells.join(controls, on="plate_id", how="left")
        .with_columns(lysis_scale_expr())
        .drop("T", "M", "B", "V")
    )


def compute_lysis(wells: pl.DataFrame) -> pl.DataFrame:
    """Add ``pct_lysis`` and ``lysis_flag`` to every non-excluded well from its plate's controls.

    ``target_only`` and ``max_lysis`` wells get a value too (≈ 0 % and ≈ 100 %),
    which shows how tight the controls are; other roles and excluded wells get
    null. ``lysis_flag`` marks sample wells below 0 % or above 100 %.
    """
    controls = control_means(wells)
    check_controls(controls)
    out = wells.join(controls.drop("readout"), on="plate_id", how="left")
    if out["readout"].eq("ldh").any():
        out = _attach_effector_spontaneous(out)
    else:
        out = out.with_columns(E=pl.lit(None, dtype=pl.Float64))
    scored = ~pl.col("excluded") & pl.col("role").is_in(LYSIS_ROLES)
    out = out.with_columns(pl.when(scored).then(pct_lysis_expr()).alias("pct_lysis"))
    return out.with_columns(lysis_flag_expr()).drop("T", "M", "B", "V", "E")


def lysis_flag_expr() -> pl.Expr:
    """``lysis_flag`` of a sample well from its ``pct_lysis``: ``negative`` below 0 %,
    ``above_100`` above 100 %, else null; null for every other role.

    >>> df = pl.DataFrame({"role": ["sample", "sample", "target_only"],
    ...                    "pct_lysis": [-3.0, 101.0, -3.0]})
    >>> df.select(lysis_flag_expr())["lysis_flag"].to_list()
    ['negative', 'above_100', None]
    """
    return (
        pl.when(pl.col("role") != "sample")
        .then(None)
        .when(pl.col("pct_lysis") < 0)
        .then(pl.lit("negative"))
        .when(pl.col("pct_lysis") > 100)
        .then(pl.lit("above_100"))
        .otherwise(None)
        .alias("lysis_flag")
    )
