"""% specific lysis from each plate's own control wells.

Formulas (S = the well's signal; control means are over the plate's
non-excluded control wells of that role, in the reader's units):

* ``luciferase`` — live targets make light:
  ``pct_lysis = 100 × (1 − (S − B)/(T − B))``, T = mean ``target_only``,
  B = mean ``background`` (0 when the plate has none).
* ``release`` — dead targets release label (calcein, europium-TDA, ⁵¹Cr):
  ``pct_lysis = 100 × (S − T)/(M − T)``, T = mean ``target_only``
  (spontaneous release), M = mean ``max_lysis`` (detergent).

Values below 0 % or above 100 % are kept as computed: they are information.
"""

from __future__ import annotations

import polars as pl

from killcurve.errors import KillcurveInputError

#: Control roles each readout needs on every plate.
REQUIRED_CONTROLS: dict[str, tuple[str, ...]] = {
    "luciferase": ("target_only",),
    "release": ("target_only", "max_lysis"),
}


def control_means(wells: pl.DataFrame) -> pl.DataFrame:
    """Mean signal per plate of each control role over non-excluded wells.

    Returns one row per plate: ``plate_id``, ``readout``, ``T`` (target_only),
    ``M`` (max_lysis, null if none), ``B`` (background, null if none).
    """
    used = wells.filter(~pl.col("excluded"))
    return (
        used.group_by("plate_id", maintain_order=True)
        .agg(
            pl.col("readout").first(),
            pl.col("signal").filter(pl.col("role") == "target_only").mean().alias("T"),
            pl.col("signal").filter(pl.col("role") == "max_lysis").mean().alias("M"),
            pl.col("signal").filter(pl.col("role") == "background").mean().alias("B"),
        )
        .sort("plate_id")
    )


def check_controls(controls: pl.DataFrame) -> None:
    """Stop on controls that cannot normalise a plate.

    luciferase: T must exceed B (or 0); release: T > 0 and M must exceed T.
    """
    for row in controls.iter_rows(named=True):
        plate, readout, t, m, b = (row[k] for k in ("plate_id", "readout", "T", "M", "B"))
        if t is None:
            raise KillcurveInputError(
                f"plate {plate}: no usable target_only well (all excluded or overflowing). "
                "A plate needs target_only controls to compute % lysis."
            )
        if readout == "luciferase" and t <= (b or 0.0):
            raise KillcurveInputError(
                f"plate {plate}: target_only mean {t:.6g} is not above the background "
                f"mean {b or 0.0:.6g}. Check the layout roles and the plate file."
            )
        if readout == "release":
            if m is None:
                raise KillcurveInputError(
                    f"plate {plate}: readout 'release' needs max_lysis wells; none are usable. "
                    "Add max_lysis (detergent) wells to the layout."
                )
            if m <= t:
                raise KillcurveInputError(
                    f"plate {plate}: max_lysis mean {m:.6g} is not above target_only "
                    f"(spontaneous) mean {t:.6g}. Check the layout roles and the plate file."
                )


def pct_lysis_expr() -> pl.Expr:
    """``pct_lysis`` from ``signal`` and the joined control means ``T``, ``M``, ``B``.

    >>> import polars as pl
    >>> df = pl.DataFrame({"readout": ["release", "luciferase"], "signal": [550.0, 400.0],
    ...                    "T": [100.0, 1000.0], "M": [1000.0, None], "B": [None, 100.0]})
    >>> df.select(pct_lysis_expr())["pct_lysis"].round(6).to_list()
    [50.0, 66.666667]
    """
    s, t, m, b = pl.col("signal"), pl.col("T"), pl.col("M"), pl.col("B").fill_null(0.0)
    return (
        pl.when(pl.col("readout") == "luciferase")
        .then(100.0 * (1.0 - (s - b) / (t - b)))
        .when(pl.col("readout") == "release")
        .then(100.0 * (s - t) / (m - t))
        .otherwise(None)
        .alias("pct_lysis")
    )


def compute_lysis(wells: pl.DataFrame) -> pl.DataFrame:
    """Add ``pct_lysis`` to every non-excluded well from its plate's controls.

    Control wells get a value too (target_only ≈ 0 %, max_lysis ≈ 100 % for
    release), which shows how tight the controls are. Excluded wells get null.
    """
    controls = control_means(wells)
    check_controls(controls)
    out = wells.join(controls.drop("readout"), on="plate_id", how="left").with_columns(
        pl.when(~pl.col("excluded")).then(pct_lysis_expr()).otherwise(None).alias("pct_lysis")
    )
    return out.drop("T", "M", "B")
