"""The titration axis of a study: effector:target ratio (default) or a concentration.

An E:T titration varies the effector cells per target cell; an ADCC or engager
titration varies an antibody (or engager) concentration at a fixed E:T. Both
are fitted by the same models on the same scale (x > 0, log axis in figures),
so the engine works on one internal x column, ``et_ratio``, and one set of
internal curve columns (``et50``, ``et_at_50``, ``et_min`` …). The study's
axis (config key ``axis``) decides, at the boundary only, which well column is
x and what the public tables call the estimates:

======================  ==================  =========================
internal (E:T axis)     concentration axis  meaning
======================  ==================  =========================
``et50``                ``ec50``            x at half-maximal lysis (relative)
``et50_lower`` …        ``ec50_lower`` …    its intervals, ``log_ec50_se``
``et_at_50``            ``conc_at_50``      x at 50 % lysis (absolute)
``n_et``                ``n_conc``          distinct x levels used
``et_min``/``et_max``   ``conc_min``/…max   tested x range
======================  ==================  =========================

On the concentration axis ``curves.csv`` also carries ``conc_unit`` (config
``axis.unit``) and ``et_ratio``, the curve's fixed E:T (empty when the wells
give none); flags and comparison metrics/methods say ``ec50`` where the E:T
axis says ``et50``. A table is self-describing: :func:`Axis.of_curves` reads
the axis back from a curves table, so later steps need no config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from killcurve.errors import KillcurveInputError

#: Axis variables and the well column each reads x from.
VARIABLES = {"et_ratio": "et_ratio", "concentration": "concentration"}
#: The half-maximal x and its intervals, internal names (``curves.csv`` on the E:T axis).
ET50_COLUMNS = (
    "et50",
    "et50_lower",
    "et50_upper",
    "log_et50_se",
    "et50_profile_lower",
    "et50_profile_upper",
    "et50_boot_lower",
    "et50_boot_upper",
)
#: Internal curve column → its name on the concentration axis.
_CONC_COLUMNS = {
    **{c: c.replace("et50", "ec50") for c in ET50_COLUMNS},
    "et50_bound": "ec50_bound",
    "et_at_50": "conc_at_50",
    "n_et": "n_conc",
    "et_min": "conc_min",
    "et_max": "conc_max",
}
#: Text columns of result tables whose values name et50 (metric, method, notes, flags).
_TEXT_COLUMNS = ("metric", "method", "notes", "formula")


@dataclass(frozen=True)
class Axis:
    """What is titrated: ``variable`` ``et_ratio`` or ``concentration``, in ``unit``."""

    variable: str = "et_ratio"
    unit: str = ""

    @classmethod
    def from_config(cls, axis: Mapping[str, Any] | None) -> Axis:
        """The axis of the validated config key ``axis`` (absent: E:T)."""
        axis = dict(axis or {})
        variable = str(axis.get("variable", "et_ratio"))
        if variable not in VARIABLES:
            raise KillcurveInputError(
                f"config key axis.variable: {variable!r}; use one of {', '.join(VARIABLES)}."
            )
        unit = str(axis.get("unit") or "")
        if variable == "concentration" and not unit:
            raise KillcurveInputError(
                "config key axis.unit: a concentration axis needs its unit (e.g. ug/mL, nM)."
            )
        return cls(variable, unit if variable == "concentration" else "")

    @classmethod
    def of_curves(cls, curves: pl.DataFrame) -> Axis:
        """The axis a public curves table was written on (``ec50`` column: concentration)."""
        if "ec50" in curves.columns:
            unit = curves["conc_unit"].drop_nulls()
            return cls("concentration", str(unit[0]) if unit.len() else "")
        return cls()

    @property
    def is_concentration(self) -> bool:
        """True on a concentration axis."""
        return self.variable == "concentration"

    @property
    def column(self) -> str:
        """The well column holding x."""
        return VARIABLES[self.variable]

    @property
    def name50(self) -> str:
        """What the public tables call the half-maximal x: ``et50`` or ``ec50``."""
        return "ec50" if self.is_concentration else "et50"

    @property
    def short(self) -> str:
        """x in running text: ``E:T`` or ``concentration``."""
        return "concentration" if self.is_concentration else "E:T"

    @property
    def label(self) -> str:
        """x-axis title of figures (log scale)."""
        if self.is_concentration:
            return f"Concentration ({self.unit}, log scale)"
        return "E:T ratio (effector:target, log scale)"

    def text(self, words: str) -> str:
        """Human text written for this axis (captions, answers, methods, report notes).

        On a concentration axis: the effector:target wording becomes the
        concentration (with its unit), ``et50`` becomes ``ec50``.

        >>> Axis("concentration", "ug/mL").text("et50 against the effector:target (E:T) ratio")
        'ec50 against the concentration (ug/mL)'
        """
        if not self.is_concentration:
            return words
        for old, new in (
            ("et_at_50", "conc_at_50"),
            ("effector:target (E:T) ratio", f"concentration ({self.unit})"),
            ("E:T ratio", "concentration"),
            ("E:T", "concentration"),
        ):
            words = words.replace(old, new)
        return words.replace("et50", "ec50")

    def points(self, wells: pl.DataFrame) -> pl.DataFrame:
        """The well table with x in the internal column ``et_ratio``.

        On a concentration axis the curve's E:T moves to ``fixed_et`` and
        ``concentration`` becomes x; a sample well without a concentration stops
        the run naming plate and well.
        """
        if not self.is_concentration:
            return wells
        if "concentration" not in wells.columns:
            raise KillcurveInputError(
                "config key axis.variable is concentration, but no well has a 'concentration'. "
                "Add the field to the layouts (or the tidy mapping's columns)."
            )
        missing = wells.filter(
            (pl.col("role") == "sample")
            & ~pl.col("excluded")
            & ~(pl.col("concentration").cast(pl.Float64) > 0).fill_null(False)
        )
        if missing.height:
            row = missing.row(0, named=True)
            raise KillcurveInputError(
                f"plate {row['plate_id']} well {row['well']}: sample well without a positive "
                f"concentration ({row['concentration']!r}); the concentration axis needs one in "
                "every sample well (a no-antibody well is a control role, or exclude it)."
            )
        return wells.with_columns(
            pl.col("et_ratio").alias("fixed_et"),
            pl.col("concentration").cast(pl.Float64).alias("et_ratio"),
        )

    def public_curves(self, curves: pl.DataFrame, fixed_et: pl.DataFrame) -> pl.DataFrame:
        """Curves with public column names; ``fixed_et``: ``curve_id``, ``et_ratio`` per curve.

        On a concentration axis ``conc_unit`` and the curve's fixed ``et_ratio``
        follow ``ci_level``.
        """
        if not self.is_concentration:
            return curves
        columns = list(curves.columns)
        at = columns.index("ci_level") + 1
        order = [*columns[:at], "conc_unit", "et_ratio", *columns[at:]]
        added = curves.join(fixed_et, on="curve_id", how="left").with_columns(
            pl.lit(self.unit).alias("conc_unit")
        )
        return self.public_names(added.select(order))

    def public_names(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with the internal curve columns and flags renamed for this axis."""
        if not self.is_concentration:
            return frame
        return _rename(frame, _CONC_COLUMNS, "et50", "ec50")

    def with_units(self, frame: pl.DataFrame) -> pl.DataFrame:
        """A human-facing copy of public curve columns, x columns headed with their unit.

        >>> Axis("concentration", "nM").with_units(pl.DataFrame({"ec50": [1.0]})).columns
        ['ec50 (nM)']
        """
        unit = self.unit if self.is_concentration else "E:T"
        names = [*_CONC_COLUMNS.values()] if self.is_concentration else [*_CONC_COLUMNS]
        x_columns = [c for c in names if not c.startswith(("n_", "log_"))]
        return frame.rename({c: f"{c} ({unit})" for c in x_columns if c in frame.columns})

    def internal_curves(self, curves: pl.DataFrame) -> pl.DataFrame:
        """Inverse of :meth:`public_curves` (the fixed E:T and unit columns dropped)."""
        if not self.is_concentration:
            return curves
        back = {v: k for k, v in _CONC_COLUMNS.items()}
        return _rename(curves.drop("conc_unit", "et_ratio"), back, "ec50", "et50")

    def public_table(self, table: pl.DataFrame) -> pl.DataFrame:
        """A result table (comparisons, trend, retention) with et50 named ec50 in its text."""
        if not self.is_concentration:
            return table
        text = [c for c in _TEXT_COLUMNS if table.schema.get(c) == pl.String]
        return table.with_columns(pl.col(text).str.replace_all("et50", "ec50"))

    def internal_table(self, table: pl.DataFrame) -> pl.DataFrame:
        """Inverse of :meth:`public_table`."""
        if not self.is_concentration:
            return table
        text = [c for c in _TEXT_COLUMNS if table.schema.get(c) == pl.String]
        return table.with_columns(pl.col(text).str.replace_all("ec50", "et50"))


def read_curves(path: Path) -> tuple[pl.DataFrame, Axis]:
    """``curves.parquet`` with internal column names (et50 …), and the axis it was fitted on."""
    public = pl.read_parquet(path)
    axis = Axis.of_curves(public)
    return axis.internal_curves(public), axis


def _rename(frame: pl.DataFrame, names: dict[str, str], old: str, new: str) -> pl.DataFrame:
    """Columns renamed by ``names`` (those present); ``old`` → ``new`` in the flags and
    verdict reasons."""
    frame = frame.rename({k: v for k, v in names.items() if k in frame.columns})
    for column in ("flags", "verdict_reasons"):
        kind = frame.schema.get(column)
        if kind == pl.String:
            frame = frame.with_columns(pl.col(column).str.replace_all(old, new))
        elif kind == pl.List(pl.String):
            frame = frame.with_columns(pl.col(column).list.eval(pl.element().str.replace(old, new)))
    return frame


def fixed_et(points: pl.DataFrame, curve_id: pl.Expr) -> pl.DataFrame:
    """The E:T of every curve on a concentration axis (``curve_id``, ``et_ratio``).

    ``points``: wells after :meth:`Axis.points` (E:T in ``fixed_et``). A curve
    whose sample wells name two E:T stops the run: on a concentration axis E:T
    is a fixed covariate, so curves at different E:T are different curves.
    """
    per_curve = (
        points.filter(pl.col("role") == "sample")
        .with_columns(curve_id)
        .group_by("curve_id")
        .agg(
            pl.col("fixed_et").drop_nulls().unique().alias("ets"),
            pl.col("plate_id").unique().sort().str.join(", ").alias("plates"),
        )
        .sort("curve_id")
    )
    mixed = per_curve.filter(pl.col("ets").list.len() > 1)
    if mixed.height:
        row = mixed.row(0, named=True)
        raise KillcurveInputError(
            f"curve {row['curve_id']} (plates {row['plates']}): its wells have E:T "
            f"{', '.join(f'{e:g}' for e in sorted(row['ets']))}; on a concentration axis each "
            "curve has one E:T. Give the plates at each E:T their own batch value."
        )
    return per_curve.select(
        "curve_id", pl.col("ets").list.first().cast(pl.Float64).alias("et_ratio")
    )
