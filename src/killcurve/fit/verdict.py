"""Per-curve verdicts: may this curve's et50 be used? (``fit.verdict``, ``curves.csv``).

Every curve gets ``verdict`` = ``invalid``, ``limited`` or ``valid`` and ``verdict_reasons``
(the reasons that decided it, invalid ones first, each group in :func:`reason_order`). A reason is a
flag of the curve (:data:`killcurve.fit.curves.CURVE_FLAGS`) or one of :data:`EXTRA_REASONS`,
measured here:

* ``too_few_levels``: the curve has usable wells but was not fitted: fewer distinct x levels
  than free parameters, or no more wells than free parameters (the model is not identified).
* ``below_min_efficacy``: ``max_mean_lysis`` (the highest mean % lysis over the curve's tested
  levels) is below ``min_efficacy`` (default 20 %).

Rules (:class:`VerdictRules`): a reason listed in ``invalid`` makes the curve ``invalid``;
else a reason listed in ``limited`` makes it ``limited``; else it is ``valid``. Defaults:

* ``invalid``: ``no_usable_points``, ``too_few_levels``, ``not_converged``, ``flat``,
  ``below_min_efficacy``: there is no fitted curve, or no dose effect to have a midpoint.
* ``limited``: ``top_not_reached``, ``et50_above_range``, ``et50_below_range``,
  ``ci_unbounded``, ``hill_extreme``, ``negative_lysis``, ``few_points``: a curve whose
  midpoint the data locate only by extrapolation or by an assumed shape.
  ``never_reaches_50`` is not among them: et50 is the half-*span* point, which a curve with
  a clear plateau at 30 % lysis determines as well as one at 90 % (28 of the real ADCC
  example's 102 curves of trastuzumab and its glycovariants plateau between 24 and 50 %);
  its ``et_at_50`` is already empty and shown censored.
* ``min_efficacy`` = 20 % lysis. Replicate wells of % lysis scatter with a pooled SD of
  2.5–4.4 % (bundled example 2.9, ADCC 2.5, PRAME 4.4), and the 0 % baseline drifts by a
  few % between plates; a span below 20 % is within about five SDs of nothing, and its
  midpoint is a midpoint of noise: in the real ADCC example, 13 of the 22
  deglycosylated-antibody curves stay below 20 % (max_mean_lysis 4.4–18.1 %) and fit tops
  up to 5317 %. Weak but genuine curves clear it with margin: the weakest of the ADCC
  example's other antibodies (donor 032) reach 25.7–27.6 %, the bundled example's
  weakest 69 %.
* ``use`` = ``[valid]``: curves whose verdict is not listed get no et50 nor any et50
  interval (:func:`killcurve.fit.curves.withhold_et50`), so the ratios, trends, thaw
  retention and answers, which read ``et50``, never use them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from killcurve.errors import KillcurveInputError

#: Reasons measured here (not flags of the fit), and what they mean.
EXTRA_REASONS: dict[str, str] = {
    "too_few_levels": "fewer distinct levels (or wells) than free parameters: not fitted",
    "below_min_efficacy": "maximal mean lysis below fit.verdict.min_efficacy",
}
#: Verdicts, from worst to best.
VERDICTS = ("invalid", "limited", "valid")
#: Default rules (see the module docstring for why).
INVALID_DEFAULT = (
    "no_usable_points",
    "too_few_levels",
    "not_converged",
    "flat",
    "below_min_efficacy",
)
LIMITED_DEFAULT = (
    "top_not_reached",
    "et50_above_range",
    "et50_below_range",
    "ci_unbounded",
    "hill_extreme",
    "negative_lysis",
    "few_points",
)
MIN_EFFICACY_DEFAULT = 20.0
USE_DEFAULT = ("valid",)


@dataclass(frozen=True)
class VerdictRules:
    """The ``fit.verdict`` config section (see the module docstring)."""

    invalid: tuple[str, ...] = INVALID_DEFAULT
    limited: tuple[str, ...] = LIMITED_DEFAULT
    min_efficacy: float = MIN_EFFICACY_DEFAULT
    use: tuple[str, ...] = USE_DEFAULT

    @classmethod
    def from_config(
        cls, section: Mapping[str, object] | None, flags: Sequence[str] | None
    ) -> VerdictRules:
        """Rules from the validated ``fit.verdict`` section; ``flags``: the curve flags.

        An unknown reason or verdict stops the run naming the config key; ``flags`` None
        reads the section without checking reason names (already checked by the fit stage).
        """
        section = dict(section or {})
        known = (*(flags or ()), *EXTRA_REASONS)
        lists: dict[str, tuple[str, ...]] = {}
        for key, default, allowed in (
            ("invalid", INVALID_DEFAULT, known),
            ("limited", LIMITED_DEFAULT, known),
            ("use", USE_DEFAULT, VERDICTS),
        ):
            values = tuple(str(v) for v in section.get(key, default))  # type: ignore[union-attr]
            unknown = [v for v in values if v not in allowed and (flags or key == "use")]
            if unknown:
                raise KillcurveInputError(
                    f"config key fit.verdict.{key}: unknown value(s) {', '.join(unknown)}; "
                    f"use any of {', '.join(allowed)}."
                )
            lists[key] = values
        return cls(
            invalid=lists["invalid"],
            limited=lists["limited"],
            min_efficacy=float(section.get("min_efficacy", MIN_EFFICACY_DEFAULT)),  # type: ignore[arg-type]
            use=lists["use"],
        )


def reason_order(flags: Sequence[str]) -> tuple[str, ...]:
    """Order of ``verdict_reasons``: the extra reasons, then the curve flags."""
    return (*EXTRA_REASONS, *flags)


def judge(curves: pl.DataFrame, rules: VerdictRules, flags: Sequence[str]) -> pl.DataFrame:
    """``curves`` with ``verdict`` and ``verdict_reasons`` (list of str) added.

    Needs the ``curves.csv`` columns ``flags``, ``n_points``, ``fit_method`` and
    ``max_mean_lysis``. ``flags``: every curve flag name, in report order.
    """
    measured = {
        "too_few_levels": (pl.col("n_points") > 0) & (pl.col("fit_method") == "none"),
        "below_min_efficacy": pl.col("max_mean_lysis") < rules.min_efficacy,
    }
    has = {
        name: measured[name].fill_null(False)
        if name in measured
        else pl.col("flags").list.contains(name).fill_null(False)
        for name in reason_order(flags)
    }

    def hits(names: Sequence[str]) -> pl.Expr:
        listed = [n for n in reason_order(flags) if n in names]
        if not listed:
            return pl.lit([], dtype=pl.List(pl.String))
        parts = [pl.when(has[n]).then(pl.lit(n)) for n in listed]
        return pl.concat_list(parts).list.drop_nulls()

    invalid = hits(rules.invalid)
    limited = hits([n for n in rules.limited if n not in rules.invalid])
    return (
        curves.with_columns(invalid.alias("_invalid"), limited.alias("_limited"))
        .with_columns(
            pl.when(pl.col("_invalid").list.len() > 0)
            .then(pl.lit("invalid"))
            .when(pl.col("_limited").list.len() > 0)
            .then(pl.lit("limited"))
            .otherwise(pl.lit("valid"))
            .alias("verdict"),
            pl.col("_invalid").list.concat("_limited").alias("verdict_reasons"),
        )
        .drop("_invalid", "_limited")
    )


def et50_bound(curves: pl.DataFrame) -> pl.DataFrame:
    """``curves`` with ``et50_bound``: the censored form of et50 the data give, else empty.

    ``>et_max`` when the fitted et50 lies above the highest tested level (flag
    ``et50_above_range``), ``<et_min`` below the lowest (``et50_below_range``), x to 6
    significant digits as in the workbook (``>40``, ``<0.3125``); empty (null) for curves
    within range and for ``invalid`` curves, whose fit says nothing about et50. The bound
    stays when the et50 itself is withheld: it is what the data say instead of a number.
    """

    def text(column: str) -> pl.Expr:
        return pl.col(column).map_elements(
            lambda v: f"{v:.6g}", return_dtype=pl.String, skip_nulls=True
        )

    judged = pl.col("verdict") != "invalid"
    return curves.with_columns(
        pl.when(judged & pl.col("flags").list.contains("et50_above_range"))
        .then(pl.lit(">") + text("et_max"))
        .when(judged & pl.col("flags").list.contains("et50_below_range"))
        .then(pl.lit("<") + text("et_min"))
        .otherwise(pl.lit(None, pl.String))
        .alias("et50_bound")
    )
