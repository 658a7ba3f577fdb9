"""The concentration axis on real ADCC data (Wieckowski et al. 2020, examples/adcc_wieckowski2020).

22 donors' CD56+ NK cells at E:T 5:1 against targets opsonised with trastuzumab (TRA) and five
glycovariants, 8 antibody concentrations in duplicate, % specific release computed upstream:
124 donor × antibody curves, of which the 22 of the deglycosylated antibody have no upper
plateau. The example's data are byte copies of ../shared/reference/real_assays/adcc_wieckowski2020.
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from scipy import stats
from scipy.optimize import least_squares

from killcurve.errors import KillcurveInputError
from killcurve.figures.curves import by_product
from killcurve.fit.curve_table import curve_id_expr
from killcurve.io.layout import check_layout
from killcurve.io.readers.tidy_csv import read_table
from killcurve.pipeline import steps
from killcurve.stats.mixed import fit_mixed
from killcurve.study.axis import Axis, fixed_et

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "examples" / "adcc_wieckowski2020"
REFERENCE = ROOT.parent / "shared" / "reference" / "real_assays" / "adcc_wieckowski2020"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The example's wells and curves, made by the package's steps (no Snakemake)."""
    out = tmp_path_factory.mktemp("adcc")
    config = yaml.safe_load((STUDY / "config" / "config.yaml").read_text())
    steps.collect_wells(
        STUDY / "config" / "plates.tsv", STUDY, out / "wells.parquet", out / "qc.csv", {}
    )
    steps.fit(
        out / "wells.parquet",
        config["fit"],
        out / "curves.csv",
        out / "curves.parquet",
        axis=config["axis"],
    )
    steps.compare(
        out / "curves.parquet",
        config["comparisons"],
        out / "comparisons.csv",
        out / "wells.parquet",
    )
    return {
        "wells": pl.read_parquet(out / "wells.parquet"),
        "curves": pl.read_parquet(out / "curves.parquet"),
        "comparisons": pl.read_csv(out / "comparisons.csv"),
        "csv_header": (out / "curves.csv").read_text().splitlines()[0].split(","),
    }


def test_example_data_are_byte_identical_to_the_reference_copy() -> None:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not present at {REFERENCE} (../shared beside the checkout)")
    for name in ("raw_data_tx012-014.csv", "allotypes_pbmcs.csv"):
        ours = hashlib.sha256((STUDY / "data" / name).read_bytes()).hexdigest()
        theirs = hashlib.sha256((REFERENCE / name).read_bytes()).hexdigest()
        assert ours == theirs, name


def test_curves_table_names_the_concentration_axis(fitted: dict[str, object]) -> None:
    curves = fitted["curves"]
    header = fitted["csv_header"]
    for column in ("ec50", "ec50_lower", "log_ec50_se", "conc_at_50", "conc_min", "n_conc"):
        assert column in header
    assert not any(c.startswith("et50") or c in ("et_at_50", "et_min", "n_et") for c in header)
    assert curves["conc_unit"].unique().to_list() == ["ug/mL"]
    assert curves["et_ratio"].unique().to_list() == [5.0]  # the fixed E:T of every curve
    # 1e-7 … 1 ug/mL, every donor × antibody curve in duplicate at 8 concentrations
    assert curves.height == 124
    assert curves["conc_min"].unique().to_list() == [1e-7]
    assert curves["conc_max"].unique().to_list() == [1.0]
    assert set(curves["n_points"].to_list()) == {16}
    assert set(curves["n_conc"].to_list()) == {8}


def _independent_4pl(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The authors' parametrisation, bottom + (top − bottom)/(1 + 10^((log10 EC50 − x)·hill)),
    x = log10 concentration, fitted to every well by scipy's Levenberg–Marquardt from a grid of
    starts (best RSS kept); returned as (bottom, top, log10 EC50, hill) with hill > 0."""

    def residual(p: np.ndarray) -> np.ndarray:
        b, t, loc, h = p
        return b + (t - b) / (1.0 + 10.0 ** ((loc - x) * h)) - y

    best = None
    for loc0 in np.arange(-6.0, 0.5, 1.0):
        with np.errstate(over="ignore"):
            fit = least_squares(
                residual, [y.min(), y.max(), loc0, 1.0], method="lm", xtol=1e-15, ftol=1e-15,
                gtol=1e-15,
            )  # fmt: skip
        if best is None or fit.cost < best.cost:
            best = fit
    b, t, loc, h = best.x
    return np.array([t, b, loc, -h] if h < 0 else [b, t, loc, h])


def test_identifiable_curves_match_an_independent_least_squares_fit(
    fitted: dict[str, object],
) -> None:
    """Issue 14: EC50, top and bottom of the identifiable curves, to ≤ 1e-4 log10 EC50.

    We fit every well (duplicates as points); with complete duplicates this is the same
    least-squares optimum as a fit of the duplicate means (the authors' choice). Of the 102
    curves with an upper plateau, G0 donor 025 (hill 0.37, its profile interval open) is
    ``limited`` and has no ec50 by default (fit.verdict.use: [valid]): 101 are compared.
    """
    curves, wells = fitted["curves"], fitted["wells"]
    identifiable = curves.filter(pl.col("ec50").is_not_null())
    assert identifiable.height == 101
    assert sorted(identifiable["product"].unique().to_list()) == ["G0", "G2", "ST3", "ST6", "TRA"]
    worst = np.zeros(3)
    for row in identifiable.iter_rows(named=True):
        points = wells.filter((pl.col("product") == row["product"]) & (pl.col("lot") == row["lot"]))
        b, t, loc, _ = _independent_4pl(
            np.log10(points["concentration"].to_numpy()), points["pct_lysis"].to_numpy()
        )
        worst = np.maximum(
            worst, [abs(loc - np.log10(row["ec50"])), abs(t - row["top"]), abs(b - row["bottom"])]
        )
    # measured: 3.3e-6 log10 units, top 9.5e-5 and bottom 5.4e-5 % lysis
    assert worst[0] <= 1e-4
    assert worst[1] <= 1e-3 and worst[2] <= 1e-3


def test_deglycosylated_curves_are_flagged_without_an_ec50(fitted: dict[str, object]) -> None:
    """No upper plateau: 80 % of the fitted span is reached at fewer than two of the 10-fold
    levels (fit.flags.min_plateau_levels: 2), so fit.withhold leaves ec50 and its CIs empty."""
    curves = fitted["curves"]
    deglyc = curves.filter(pl.col("product") == "deglyc")
    assert deglyc.height == 22
    assert deglyc["flags"].list.contains("top_not_reached").all()
    for column in ("ec50", "ec50_lower", "ec50_upper", "log_ec50_se", "ec50_profile_lower"):
        assert deglyc[column].null_count() == 22
    # no plateau, no top: top, top_se and emax empty (they reached 5317 %), the data's bound kept
    for column in ("top", "top_se", "emax"):
        assert deglyc[column].null_count() == 22
    assert deglyc["flags"].list.contains("top_not_estimable").all()
    assert deglyc["hill"].null_count() == 0  # the other parameters stay reported
    assert deglyc["max_mean_lysis"].max() == pytest.approx(42.655031, abs=1e-5)  # donor 025
    others = curves.filter(pl.col("product") != "deglyc")
    assert not others["flags"].list.contains("top_not_reached").any()
    assert others["top"].null_count() == 0


def _curve(curves: pl.DataFrame, product: str, donor: str) -> dict:
    return curves.filter(
        pl.col("curve_id") == f"{product}|{donor}|HER2+ target cells|-|-|tx012-014"
    ).row(0, named=True)


def test_every_adcc_curve_has_a_verdict_and_the_rules_fire_on_named_curves(
    fitted: dict[str, object],
) -> None:
    """Default fit.verdict rules on the real ADCC curves: 101 valid, 9 limited, 14 invalid."""
    curves = fitted["curves"]
    assert {"verdict", "verdict_reasons", "ec50_bound", "max_mean_lysis"} <= set(
        fitted["csv_header"]
    )
    assert dict(curves["verdict"].value_counts().iter_rows()) == {
        "valid": 101, "limited": 9, "invalid": 14
    }  # fmt: skip
    deglyc = curves.filter(pl.col("product") == "deglyc")
    assert dict(deglyc["verdict"].value_counts().iter_rows()) == {"limited": 8, "invalid": 14}
    # below_min_efficacy: deglyc, donor 032, rises to 4.4 % lysis (its fit: top 32 %)
    low = _curve(curves, "deglyc", "032")
    assert low["max_mean_lysis"] == pytest.approx(4.379113, abs=1e-5)
    assert low["verdict"] == "invalid" and low["verdict_reasons"][0] == "below_min_efficacy"
    # not firing: TRA with the same donor plateaus at 26 % (never 50 %) and is valid
    weak = _curve(curves, "TRA", "032")
    assert weak["max_mean_lysis"] == pytest.approx(26.343873, abs=1e-5)
    assert "never_reaches_50" in weak["flags"]
    assert (weak["verdict"], weak["verdict_reasons"]) == ("valid", [])
    assert weak["ec50"] == pytest.approx(0.001313, rel=1e-3)
    # not_converged: deglyc, donor 017, whose fitted top was 5317 %
    runaway = _curve(curves, "deglyc", "017")
    assert runaway["verdict_reasons"] == [
        "below_min_efficacy", "not_converged", "ec50_above_range", "top_not_reached"
    ]  # fmt: skip
    assert runaway["top"] is None and runaway["ec50_bound"] is None  # invalid: no bound
    # flat at 21.9 % lysis (above the 20 % minimum): invalid for the flat rule only
    flat = _curve(curves, "deglyc", "035")
    assert flat["max_mean_lysis"] == pytest.approx(21.884424, abs=1e-5)
    assert flat["verdict_reasons"] == ["flat", "hill_extreme", "top_not_reached"]
    # limited: no upper plateau at 41 %; ci_unbounded on a G0 curve with hill 0.37
    assert _curve(curves, "deglyc", "038")["verdict_reasons"] == ["top_not_reached"]
    shallow = _curve(curves, "G0", "025")
    assert (shallow["verdict"], shallow["verdict_reasons"]) == ("limited", ["ci_unbounded"])
    assert shallow["ec50"] is None and shallow["top"] == pytest.approx(56.619351, abs=1e-5)
    assert _curve(curves, "deglyc", "043")["verdict_reasons"] == ["hill_extreme", "top_not_reached"]


def test_paired_comparison_with_genotype_covariate(fitted: dict[str, object]) -> None:
    """G0 vs TRA: all 22 donors tested with both; G0 donor 025 is ``limited`` (no ec50), so
    43 curves enter the mixed model (donor random intercept, FCGR3A fixed, a between-donor
    covariate): its ratio is statsmodels' REML fit of the same model, fitted here, with a t
    interval on 43 − 22 − 1 = 20 df. (With all 22 pairs it equalled the paired t-test's
    1.570; tests/test_adcc.py::test_paired_mixed_model_equals_paired_t_test keeps that.)"""
    import statsmodels.formula.api as smf

    curves, table, wells = fitted["curves"], fitted["comparisons"], fitted["wells"]
    data = (
        curves.filter(pl.col("product").is_in(["G0", "TRA"]) & pl.col("ec50").is_not_null())
        .join(wells.select("lot", "FCGR3A").unique(), on="lot")
        .select(
            pl.col("lot"),
            pl.col("FCGR3A"),
            pl.col("ec50").log().alias("y"),
            (pl.col("product") == "G0").cast(pl.Float64).alias("test"),
        )
        .to_pandas()
    )
    assert len(data) == 43
    mixed = smf.mixedlm("y ~ test + C(FCGR3A)", data, groups=data["lot"]).fit(reml=True)
    beta, se = mixed.params["test"], mixed.bse["test"]
    q = stats.t.ppf(0.975, 20)
    row = table.filter(
        (pl.col("comparison") == "G0_vs_TRA") & (pl.col("method") == "mixedlm_log_ec50")
    ).row(0, named=True)
    assert row["metric"] == "ec50_ratio"
    assert row["estimate"] == pytest.approx(np.exp(beta), rel=1e-6)  # 1.651
    assert row["lower"] == pytest.approx(np.exp(beta - q * se), rel=1e-5)  # 1.372
    assert row["upper"] == pytest.approx(np.exp(beta + q * se), rel=1e-5)  # 1.986
    assert "FCGR3A" in row["notes"] and "paired design" in row["notes"]
    assert "20 df" in row["notes"]
    assert (row["n_lots"], row["n_test"], row["n_reference"]) == (22, 21, 22)
    # deglyc: no curve has an ec50, so no model-based ratio, but the model-free lysis
    # differences stay (at 0.01 ug/mL deglyc kills 43 % less than TRA)
    deglyc = table.filter(pl.col("comparison") == "deglyc_vs_TRA")
    model_based = deglyc.filter(
        pl.col("metric").is_in(["ec50_ratio", "potency_ratio", "ec50_ratio_separate"])
    )
    assert model_based["estimate"].null_count() == model_based.height
    at = deglyc.filter(pl.col("metric") == "lysis_difference_at_0.01").row(0, named=True)
    assert at["estimate"] == pytest.approx(-43.12, abs=0.01)


def test_paired_mixed_model_equals_paired_t_test() -> None:
    """Hand-built complete pairs: REML mixed model = paired t-test (estimate, CI, p, df n − 1)."""
    rng = np.random.default_rng(7)
    rows, diffs = [], []
    for i in range(9):
        donor = rng.normal(0.0, 0.6)
        a, b = rng.normal(0.0, 0.15, 2)
        rows += [
            {"product": "A", "lot": f"D{i}", "batch": "x", "et50": float(np.exp(donor + 0.4 + a))},
            {"product": "R", "lot": f"D{i}", "batch": "x", "et50": float(np.exp(donor + b))},
        ]
        diffs.append(0.4 + a - b)
    fit = fit_mixed(pl.DataFrame(rows), reference="R")
    ratio = fit.ratios.row(0, named=True)
    t = stats.ttest_1samp(diffs, 0.0)
    ci = t.confidence_interval()
    assert ratio["df"] == 8
    assert ratio["estimate"] == pytest.approx(np.exp(np.mean(diffs)), rel=1e-6)
    assert ratio["lower"] == pytest.approx(np.exp(ci.low), rel=1e-5)
    assert ratio["upper"] == pytest.approx(np.exp(ci.high), rel=1e-5)
    assert ratio["p_value"] == pytest.approx(t.pvalue, rel=1e-3)


def test_axis_config_and_well_errors() -> None:
    with pytest.raises(KillcurveInputError, match=r"axis\.unit"):
        Axis.from_config({"variable": "concentration"})
    axis = Axis.from_config({"variable": "concentration", "unit": "nM"})
    wells = pl.DataFrame(
        {
            "plate_id": ["P1", "P1"],
            "well": ["A1", "A2"],
            "role": ["sample", "sample"],
            "excluded": [False, False],
            "et_ratio": [5.0, 5.0],
            "concentration": [1.0, None],
        }
    )
    with pytest.raises(KillcurveInputError, match="plate P1 well A2"):
        axis.points(wells)
    two_et = pl.DataFrame(
        {
            **{k: ["NK", "NK"] for k in ("product", "lot", "target", "batch")},
            **{k: [None, None] for k in ("stage", "cryo")},
            "plate_id": ["P1", "P2"],
            "role": ["sample", "sample"],
            "fixed_et": [5.0, 10.0],
        },
        schema_overrides={"stage": pl.String, "cryo": pl.String},
    )
    with pytest.raises(KillcurveInputError, match="E:T 5, 10"):
        fixed_et(two_et, curve_id_expr())
    assert Axis().text("et50 at E:T 10") == "et50 at E:T 10"
    assert (
        axis.text("the et_at_50 at the highest E:T")
        == "the conc_at_50 at the highest concentration"
    )


def test_layout_with_concentration_needs_no_et_ratio() -> None:
    layout = pl.DataFrame(
        {
            "well": ["A1", "A2", "A3"],
            "role": ["sample", "sample", "target_only"],
            "product": ["mAb", "mAb", None],
            "lot": ["d1", "d1", None],
            "target": ["T", "T", None],
            "et_ratio": [None, None, None],
            "concentration": [0.1, 1.0, None],
        },
        schema_overrides={"et_ratio": pl.Float64},
    )
    check_layout(layout, "plate X")  # E:T optional when every sample well has a concentration
    with pytest.raises(KillcurveInputError, match=r"plate X well A1: concentration 0\.0"):
        check_layout(layout.with_columns(pl.Series("concentration", [0.0, 1.0, None])), "plate X")
    with pytest.raises(KillcurveInputError, match="have no 'et_ratio'"):
        check_layout(layout.with_columns(pl.Series("concentration", [None, 1.0, None])), "plate X")


def test_tidy_table_skips_comment_lines_above_the_header(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("# note, with, commas\n\n,donor,value\n0,015,1.5\n")
    header, rows = read_table(path)
    assert header == ["", "donor", "value"]
    assert rows == [["0", "015", "1.5"]]


@pytest.mark.workflow
def test_adcc_example_runs_end_to_end(tmp_path: Path) -> None:
    """README's real-data command on a copy of the example: tables, figures and report."""
    study = tmp_path / "adcc"
    shutil.copytree(STUDY, study, ignore=shutil.ignore_patterns("results", ".snakemake", "logs"))
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "2",
         "--directory", str(study), "-q"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    results = study / "results"
    for name in ("curves.csv", "comparisons.csv", "plate_qc.csv", "killcurve_tables.xlsx"):
        assert (results / "tables" / name).is_file()
    for name in ("curves_HER2_target_cells.png", "residuals_HER2_target_cells.pdf", "forest.pdf"):
        assert (results / "figures" / name).is_file()
    report = re.sub(r"<img[^>]*>", "", (results / "report.html").read_text())  # text only
    assert "x = concentration" in report and "ec50 ratio" in report
    assert "<th>ec50 (ug/mL)</th>" in report and "et50" not in report
    comparisons = pl.read_csv(results / "tables" / "comparisons.csv")
    st3 = comparisons.filter(
        (pl.col("comparison") == "ST3_vs_TRA") & (pl.col("method") == "mixedlm_log_ec50")
    ).row(0, named=True)
    assert st3["estimate"] == pytest.approx(2.248, abs=0.001)  # ST3 needs 2.2× the antibody
    # The config asks the one question an ADCC study answers (report.questions: [specific]),
    # with a sentence per glycovariant: four ratios quoted, deglyc's missing ec50 said.
    answers = html.unescape(report[report.index('<h2 id="answers">') : report.index('<h2 id="c')])
    assert re.findall(r'<h3 id="answer-(\w+)">', answers) == ["specific"]
    assert "HER2-specific potency of G0, G2, ST3, ST6 and deglyc vs TRA" in answers
    assert "ST3 reached half-maximal lysis of HER2+ target cells at 2.2× the concentration of " \
        "TRA (ec50 ratio; 95 % CI" in answers  # fmt: skip
    assert answers.count("reached half-maximal lysis") == 4
    assert "deglyc vs TRA on HER2+ target cells: no ratio (no test curve with a usable ec50 " \
        "(converged, verdict in fit.verdict.use); 22 of 44 curves withheld (below min " \
        "efficacy 13, " in answers  # fmt: skip


def test_many_lots_in_one_state_are_drawn_per_product(fitted: dict[str, object]) -> None:
    """22 donors × 6 antibodies on one stage · cryo panel would be unreadable: one panel per
    antibody; with a few lots (point shapes tell them apart) the panels stay per state."""
    curves = fitted["curves"]
    assert by_product(curves)
    few = curves.filter(pl.col("lot").is_in(sorted(curves["lot"].unique())[:6]))
    assert not by_product(few)
    assert not by_product(curves.filter(pl.col("product") == "TRA"))
