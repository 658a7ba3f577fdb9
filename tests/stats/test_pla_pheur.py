"""Ph.Eur. 5.3 parallel-line assays: published results, the Ph.Eur. balanced-design formulas,
an independent OLS of the unbalanced example, and Fieller's theorem by hand.

Reference data: ``../shared/reference/doseresp/pheur_pla`` (README.md, examples.json). Only
the corticotrophin worked example (Ph.Eur. 5.1.1) comes with its published potency and Fieller
limits (README.md); the published results of the other examples are held out by the data set's
curators, so those examples are checked against the Ph.Eur. 3.2.5 closed-form formulas instead.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import polars as pl
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from killcurve.errors import KillcurveInputError
from killcurve.stats.pla import PlaResult, fieller_interval, parallel_line_assay
from tests.conftest import SHARED

PLA = SHARED / "reference" / "doseresp" / "pheur_pla"

#: Published by Ph.Eur./CombiStats for example 5.1.1, quoted in pheur_pla/README.md:
#: prep -> (potency units/mg, lower 95 % limit, upper 95 % limit).
CORTICOTROPHIN = {"T": ("1.14205", "0.783648", "1.68690"), "U": ("1.66889", "1.14813", "2.55503")}
#: Balanced examples with equal log-spacing of the doses within every preparation (heparin's
#: doses are only nearly equally spaced: it is checked with the unbalanced IPV below).
BALANCED = [
    "corticotrophin",
    "antibiotic_agar_latin_square",
    "antibiotic_turbidimetric_block",
    "hepatitisB_invitro_4prep",
    "combistats01_diphtheria",
    "combistats02_erythropoietin",
    "combistats03_factorIX",
    "combistats07_hepatitisB",
    "combistats08_hepatitisA_ig",
    "combistats22_erythromycin",
]


@pytest.fixture(scope="module")
def examples() -> dict:
    if not PLA.is_dir():
        pytest.skip(f"reference data {PLA} is absent (../shared sits beside the checkout)")
    return json.loads((PLA / "examples.json").read_text())


def load(name: str, meta: dict) -> tuple[pl.DataFrame, str]:
    """The example's responses (doses as numbers, excluded values dropped) and its transform."""
    data = pl.read_csv(PLA / f"{name}.csv", infer_schema_length=0)
    transform = meta["transform"]
    if "excluded" in data.columns:
        data = data.filter(pl.col("excluded") == "0")
    if "response_y" in data.columns:  # heparin: log10 of the mean of two readings
        mean = (pl.col("response_y").cast(pl.Float64) + pl.col("response_z").cast(pl.Float64)) / 2
        data, transform = data.with_columns(response=mean.cast(pl.String)), "log10"
    return data.with_columns(
        pl.col("dose").map_elements(lambda s: float(Fraction(s)), return_dtype=pl.Float64),
        pl.col("response").cast(pl.Float64),
    ), transform


def analyse(name: str, meta: dict, **kwargs: object) -> PlaResult:
    data, transform = load(name, meta)
    preps = meta["preps"]
    return parallel_line_assay(
        data,
        transform=str(kwargs.pop("transform", transform)),
        blocks=meta["blocks"],
        dose_to_units={k: v["dose_to_units"] for k, v in preps.items()},
        assumed_potency={k: v["potency"] for k, v in preps.items()},
        units=meta["potency_units"],
        **kwargs,
    )


def sig(value: float, digits: int) -> float:
    return float(f"{value:.{digits - 1}e}")


@pytest.mark.parametrize("prep", sorted(CORTICOTROPHIN))
def test_corticotrophin_published_potency_and_fieller_limits(examples: dict, prep: str) -> None:
    readme = (PLA / "README.md").read_text()
    assert all(v in readme for v in CORTICOTROPHIN[prep])  # transcribed from the README
    res = analyse("corticotrophin", examples["corticotrophin"])
    row = res.potency.row(by_predicate=pl.col("prep") == prep, named=True)
    published = [float(v) for v in CORTICOTROPHIN[prep]]
    got = [row["estimate"], row["lower"], row["upper"]]
    # every printed digit (5-6 significant), hence also the 4 the brief asks for
    for value, ref, text in zip(got, published, CORTICOTROPHIN[prep], strict=True):
        digits = len(text.replace(".", "").lstrip("0"))
        assert sig(value, digits) == pytest.approx(ref, rel=1e-12), (prep, value, ref)
    assert row["units"] == "units/mg"


def test_corticotrophin_published_residual_slope_and_parallelism(examples: dict) -> None:
    res = analyse("corticotrophin", examples["corticotrophin"])
    assert res.df_resid == 54
    assert sig(res.s2, 6) == 765.572
    assert sig(res.slope, 6) == -47.0559
    nonpar = res.anova.row(by_predicate=pl.col("source") == "non_parallelism", named=True)
    assert nonpar["df"] == 2
    assert round(nonpar["f"], 3) == 5.367
    assert round(nonpar["p_value"], 3) == 0.007
    # two doses: no non-linearity row
    assert "non_linearity" not in res.anova["source"].to_list()


def pheur_formulas(data: pl.DataFrame, transform: str, meta: dict) -> dict:
    """Ph.Eur. 5.3 section 3.2.5 closed forms for a balanced assay (cell means, n per cell)."""
    func = {"none": np.asarray, "log": np.log, "log10": np.log10, "sqrt": np.sqrt,
            "square": np.square}[transform]  # fmt: skip
    y = func(data["response"].to_numpy())
    preps = ["S", *sorted(set(data["prep"]) - {"S"})]
    h = len(preps)
    total = y.mean()
    ss_total = float(((y - total) ** 2).sum())
    means, xbar = [], []
    for p in preps:
        sub = data.filter(pl.col("prep") == p).with_columns(y=pl.Series(y[data["prep"] == p]))
        cell = sub.group_by("dose").agg(pl.col("y").mean(), pl.len()).sort("dose")
        means.append(cell["y"].to_numpy())
        n = int(cell["len"][0])
        xbar.append(np.log(cell["dose"].to_numpy() * meta["preps"][p]["dose_to_units"]).mean())
        step = float(np.diff(np.log(cell["dose"].to_numpy())).mean())
    means = np.array(means)  # (h, d)
    d = means.shape[1]
    j = np.arange(1, d + 1)
    big_p = means.sum(axis=1)
    big_l = (means * j).sum(axis=1) - (d + 1) / 2 * big_p
    h_l = 12 * n / (d**3 - d)
    ss_treat = float(n * ((means - total) ** 2).sum())
    ss_prep = float(n / d * (big_p**2).sum() - n * big_p.sum() ** 2 / (h * d))
    ss_reg = float(h_l * big_l.sum() ** 2 / h)
    ss_nonpar = float(h_l * (big_l**2).sum() - ss_reg)
    ss_blocks = 0.0
    for b in meta["blocks"]:
        bm = pl.DataFrame({"b": data[b], "y": y}).group_by("b").agg(pl.col("y").mean(), pl.len())
        ss_blocks += float((bm["len"] * (bm["y"] - total) ** 2).sum())
    df_resid = len(y) - h * d - sum(data[b].n_unique() - 1 for b in meta["blocks"])
    s2 = (ss_total - ss_treat - ss_blocks) / df_resid
    b = h_l * big_l.sum() / (step * n * h)
    t = stats.t.ppf(0.975, df_resid)
    c = ss_reg / (ss_reg - s2 * t * t)
    v = ss_reg / (b * b * d * n)
    potency = {}
    for i, p in enumerate(preps[1:], start=1):
        m_prime = (big_p[i] - big_p[0]) / (d * b)
        half = math.sqrt((c - 1) * (c * m_prime**2 + 2 * v))
        offset = xbar[i] - xbar[0]
        potency[p] = [
            math.exp(m - offset) for m in (m_prime, c * m_prime - half, c * m_prime + half)
        ]
    return {
        "s2": s2,
        "df_resid": df_resid,
        "slope": b,
        "preparations": ss_prep,
        "regression": ss_reg,
        "non_parallelism": ss_nonpar,
        "non_linearity": ss_treat - ss_prep - ss_reg - ss_nonpar,
        "treatments": ss_treat,
        "potency": potency,
    }


@pytest.mark.parametrize("name", BALANCED)
def test_balanced_examples_match_the_pheur_formulas(examples: dict, name: str) -> None:
    meta = examples[name]
    data, transform = load(name, meta)
    ref = pheur_formulas(data, transform, meta)
    res = analyse(name, meta)
    assert res.df_resid == ref["df_resid"]
    assert res.s2 == pytest.approx(ref["s2"], rel=1e-9)
    assert res.slope == pytest.approx(ref["slope"], rel=1e-9)
    ss = dict(zip(res.anova["source"], res.anova["ss"], strict=True))
    for source in ("preparations", "regression", "non_parallelism", "treatments"):
        assert ss[source] == pytest.approx(ref[source], rel=1e-8, abs=1e-10 * ref["treatments"])
    assert ss.get("non_linearity", 0.0) == pytest.approx(
        ref["non_linearity"], abs=1e-8 * ref["treatments"]
    )
    for prep, (ratio, lower, upper) in ref["potency"].items():
        row = res.potency.row(by_predicate=pl.col("prep") == prep, named=True)
        assumed = meta["preps"][prep]["potency"]
        assert row["ratio"] == pytest.approx(ratio, rel=1e-9)
        assert row["ratio_lower"] == pytest.approx(lower, rel=1e-9)
        assert row["ratio_upper"] == pytest.approx(upper, rel=1e-9)
        assert row["estimate"] == pytest.approx(assumed * ratio, rel=1e-9)


@pytest.mark.parametrize(
    ("name", "n_values"), [("combistats10_ipv", 31), ("combistats05_heparin", 12)]
)
def test_unequal_designs_match_an_independent_ols(examples: dict, name: str, n_values: int) -> None:
    """IPV (one value excluded: unbalanced) and heparin (unequal dose spacing, S and T doses
    differ): statsmodels OLS of the same models, Fieller as the roots of its quadratic."""
    meta = examples[name]
    data, transform = load(name, meta)
    assert data.height == n_values
    res = analyse(name, meta)
    units = {k: v["dose_to_units"] for k, v in meta["preps"].items()}
    frame = data.with_columns(
        y=pl.col("response").log(10.0 if transform == "log10" else math.e),
        x=(pl.col("dose") * pl.col("prep").replace_strict(units)).log(),
        cell=pl.col("prep") + pl.col("dose").cast(pl.String),
    ).to_pandas()
    full = smf.ols("y ~ 0 + C(cell)", frame).fit()
    parallel = smf.ols("y ~ 0 + C(prep) + x", frame).fit()
    s2, df = full.mse_resid, full.df_resid
    assert res.df_resid == df
    assert res.s2 == pytest.approx(s2, rel=1e-10)
    cov = parallel.normalized_cov_params * s2
    a, b = parallel.params, "x"
    m1 = a["C(prep)[T]"] - a["C(prep)[S]"]
    v11 = cov.loc["C(prep)[T]", "C(prep)[T]"] + cov.loc["C(prep)[S]", "C(prep)[S]"]
    v11 -= 2 * cov.loc["C(prep)[T]", "C(prep)[S]"]
    v12 = cov.loc["C(prep)[T]", b] - cov.loc["C(prep)[S]", b]
    v22 = cov.loc[b, b]
    t = stats.t.ppf(0.975, df)
    # Fieller: the roots of (m1 − ρ·b)² = t²(v11 − 2ρ·v12 + ρ²·v22)
    roots = np.sort(
        np.roots([a[b] ** 2 - t * t * v22, -2 * (m1 * a[b] - t * t * v12), m1**2 - t * t * v11])
    )
    row = res.potency.row(0, named=True)
    assumed = meta["preps"]["T"]["potency"]
    assert row["ratio"] == pytest.approx(math.exp(m1 / a[b]), rel=1e-10)
    assert [row["ratio_lower"], row["ratio_upper"]] == pytest.approx(np.exp(roots), rel=1e-10)
    assert row["estimate"] == pytest.approx(assumed * math.exp(m1 / a[b]), rel=1e-10)
    separate = smf.ols("y ~ 0 + C(prep) + C(prep):x", frame).fit()
    nonpar = res.anova.row(by_predicate=pl.col("source") == "non_parallelism", named=True)
    assert nonpar["ss"] == pytest.approx(parallel.ssr - separate.ssr, rel=1e-9)
    assert nonpar["f"] == pytest.approx((parallel.ssr - separate.ssr) / s2, rel=1e-9)
    nonlin = res.anova.row(by_predicate=pl.col("source") == "non_linearity", named=True)
    assert nonlin["ss"] == pytest.approx(separate.ssr - full.ssr, rel=1e-9)


def test_potency_does_not_depend_on_the_log_base(examples: dict) -> None:
    """Factor IX: CombiStats uses log10, the README ln; the potency is the same."""
    meta = examples["combistats03_factorIX"]
    ln = analyse("combistats03_factorIX", meta, transform="log").potency
    log10 = analyse("combistats03_factorIX", meta, transform="log10").potency
    for col in ("estimate", "lower", "upper"):
        assert ln[col][0] == pytest.approx(log10[col][0], rel=1e-12)


def test_fieller_interval_solves_its_quadratic() -> None:
    num, den, v11, v22, v12, t = 3.0, 1.5, 0.09, 0.04, 0.02, 2.1
    lo, hi, g = fieller_interval(num, den, v11, v22, v12, t)
    roots = np.sort(np.roots([den**2 - t * t * v22, -2 * (num * den - t * t * v12),
                              num**2 - t * t * v11]))  # fmt: skip
    assert [lo, hi] == pytest.approx(roots, rel=1e-12)
    assert g == pytest.approx(t * t * v22 / den**2)
    # a denominator not significantly different from 0: unbounded
    assert all(math.isnan(v) for v in fieller_interval(num, 0.3, v11, v22, v12, t)[:2])


def test_bad_input_is_refused() -> None:
    data = pl.DataFrame(
        {"prep": ["S", "S", "T", "T"] * 2, "dose": [1.0, 2.0] * 4, "response": [1.0, 2.0] * 4}
    )
    with pytest.raises(KillcurveInputError, match="transform 'cube' is unknown"):
        parallel_line_assay(data, transform="cube")
    with pytest.raises(KillcurveInputError, match="standard preparation 'R'"):
        parallel_line_assay(data, standard="R")
    with pytest.raises(KillcurveInputError, match="column\\(s\\) block missing"):
        parallel_line_assay(data, blocks=["block"])
    with pytest.raises(KillcurveInputError, match="needs positive values"):
        parallel_line_assay(data.with_columns(response=pl.lit(-1.0)), transform="log")
    with pytest.raises(KillcurveInputError, match="fewer than 2 doses"):
        parallel_line_assay(data.with_columns(dose=pl.lit(1.0)))
