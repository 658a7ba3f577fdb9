"""The bundled example: made by the simulator, and its truth recovered by the pipeline.

Truth is in ``config/truth*.tsv`` (see :mod:`killcurve.simulate.study`). Curve-level
intervals are checked on the count of misses: with 95 % intervals the misses of
n independent curves are Binomial(n, 0.05), and the test allows up to its
99.9 % quantile (10 of 66), so a correct pipeline fails it once in a thousand
seeds. Comparison intervals of the methods that carry the lot-to-lot variance
(Welch's t on log et50 across lots, the mixed model) must each cover the true
ratio.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from killcurve.assay.lysis import compute_lysis
from killcurve.assay.qc import exclude_failed_plates, plate_qc
from killcurve.fit.curve_table import curve_id_expr
from killcurve.fit.curves import fit_curves
from killcurve.io.exclusions import apply_exclusions, read_exclusions
from killcurve.io.samplesheet import read_samplesheet
from killcurve.simulate.design import Design
from killcurve.simulate.study import write_study
from killcurve.study.wells import load_wells

REPO = Path(__file__).resolve().parents[1]
#: Comparison methods whose interval includes the lot-to-lot (and day-to-day) variance.
LOT_METHODS = ("welch_t_log_et50", "mixedlm_log_et50")
KEYS = ["target", "stage", "cryo"]


def _truth(name: str) -> pl.DataFrame:
    return pl.read_csv(REPO / f"config/{name}.tsv", separator="\t")


def test_bundled_example_is_the_simulators_output(tmp_path: Path) -> None:
    write_study(tmp_path)
    made = {p.relative_to(tmp_path) for p in (tmp_path / "config").rglob("*") if p.is_file()}
    bundled = {p.relative_to(REPO) for p in (REPO / "config").rglob("*") if p.is_file()}
    assert made == bundled - {Path("config/README.md")}
    mismatch = [str(p) for p in made if not filecmp.cmp(tmp_path / p, REPO / p, shallow=False)]
    assert mismatch == [], "regenerate the example with `killcurve example .`"


@pytest.fixture(scope="module")
def curves() -> pl.DataFrame:
    """The example's curves fitted in-process, joined to their truth (``true_et50``)."""
    wells = load_wells(read_samplesheet(REPO / "config/plates.tsv"), REPO)
    sheet = REPO / "config/exclusions.tsv"
    wells = compute_lysis(apply_exclusions(wells, read_exclusions(sheet), str(sheet)))
    fitted = fit_curves(exclude_failed_plates(wells, plate_qc(wells)))
    truth = _truth("truth").with_columns(curve_id_expr())
    return fitted.join(truth.select("curve_id", true_et50="et50"), on="curve_id", how="full")


def test_every_curve_is_fitted_and_its_et50_interval_covers_truth(curves: pl.DataFrame) -> None:
    assert curves.height == 66
    assert curves["curve_id"].null_count() == 0  # every fitted curve has a truth row
    assert curves["converged"].all()
    covered = (curves["et50_lower"] <= curves["true_et50"]) & (
        curves["true_et50"] <= curves["et50_upper"]
    )
    misses = int((~covered).sum())
    bound = int(stats.binom.ppf(0.999, curves.height, 0.05))
    assert bound == 10
    assert misses <= bound, curves.filter(~covered).select("curve_id", "et50", "true_et50")


def test_every_example_curve_has_a_verdict_and_nearly_all_are_valid(curves: pl.DataFrame) -> None:
    """A well-designed study: 65 of 66 curves valid with the default fit.verdict rules."""
    assert dict(curves["verdict"].value_counts().iter_rows()) == {"valid": 65, "limited": 1}
    limited = curves.filter(pl.col("verdict") == "limited").row(0, named=True)
    # 200-L02 at d7 on K562: still rising at E:T 40 (80 % of lysis, fitted top 109 %)
    assert limited["curve_id"] == "NEUK200-13|200-L02|K562|expansion_d7|fresh|B1"
    assert limited["verdict_reasons"] == ["ci_unbounded", "top_not_reached"]
    assert limited["et50"] is None and limited["top"] is None
    assert limited["max_mean_lysis"] == pytest.approx(80.019249, abs=1e-5)
    valid = curves.filter(pl.col("verdict") == "valid")
    assert valid["et50"].null_count() == 0 and valid["top"].null_count() == 0
    assert valid["max_mean_lysis"].min() == pytest.approx(69.226256, abs=1e-5)


@pytest.mark.workflow
def test_verdicts_reach_the_tables_the_workbook_and_the_report(example_run: Path) -> None:
    import fastexcel

    tables = example_run / "results/tables"
    csv = pl.read_csv(tables / "curves.csv", infer_schema=False)
    row = csv.filter(pl.col("curve_id") == "NEUK200-13|200-L02|K562|expansion_d7|fresh|B1")
    assert row["verdict"].to_list() == ["limited"]
    assert row["verdict_reasons"].to_list() == ["ci_unbounded;top_not_reached"]
    assert row["flags"].to_list() == ["ci_unbounded;top_not_reached;top_not_estimable"]
    assert row["top"].to_list() == [None] and row["et50"].to_list() == [None]
    sheet = fastexcel.read_excel(str(tables / "killcurve_tables.xlsx"))
    book = sheet.load_sheet_by_name("curves").to_polars()
    assert {"verdict", "verdict_reasons", "max_mean_lysis"} <= set(book.columns)
    assert book["verdict"].value_counts().sort("verdict").rows() == [("limited", 1), ("valid", 65)]
    report = (example_run / "results/report.html").read_text(encoding="utf-8")
    assert "66 curves (1 flagged; 65 valid, 1 limited, 0 invalid)" in report
    assert "Curve verdicts: invalid with any of no_usable_points, too_few_levels" in report
    assert "below 20 %" in report and "<th>verdict</th>" in report


@pytest.mark.workflow
def test_every_comparison_interval_covers_the_true_ratio(example_run: Path) -> None:
    comps = pl.read_csv(example_run / "results/tables/comparisons.csv", infer_schema=False)
    comps = comps.filter(
        (pl.col("metric") == "et50_ratio") & pl.col("method").is_in(LOT_METHODS)
    ).with_columns(pl.col("estimate", "lower", "upper").cast(pl.Float64))
    truth = _truth("truth_comparisons").select(*KEYS, "ratio")
    joined = comps.join(truth, on=KEYS, how="left")
    # 11 target x stage x cryo groups, each by Welch's t (and the mixed model where fitted).
    assert joined.select(KEYS).unique().height == 11
    assert joined["ratio"].null_count() == 0
    missed = joined.filter(
        ~((pl.col("lower") <= pl.col("ratio")) & (pl.col("ratio") <= pl.col("upper")))
    )
    assert missed.height == 0, missed.select(*KEYS, "method", "estimate", "lower", "upper", "ratio")


@pytest.mark.workflow
def test_thaw_retention_intervals_cover_the_true_et50_fold_change(example_run: Path) -> None:
    # True post/pre et50 fold change of a lot = thaw_factor[product] (its lot effect cancels;
    # the day and curve effects average out over lots).
    thaw = pl.read_csv(example_run / "results/tables/thaw_retention.csv").filter(
        (pl.col("level") == "product")
        & (pl.col("metric") == "et50_fold_change")
        & pl.col("estimate").is_not_null()
    )
    truth = pl.DataFrame(
        {"product": list(Design().thaw_factor), "true": list(Design().thaw_factor.values())}
    )
    joined = thaw.join(truth, on="product")
    # K562 and the three DLL3 targets, bulk cells, both products.
    assert joined.height == 8
    missed = joined.filter(
        ~((pl.col("lower") <= pl.col("true")) & (pl.col("true") <= pl.col("upper")))
    )
    assert missed.height == 0, missed


@pytest.mark.workflow
def test_viability_tables_recover_the_true_viability_and_recovery(example_run: Path) -> None:
    lots = pl.read_csv(example_run / "results/tables/viability.csv")
    truth = _truth("truth_viability").with_columns(pl.col("timepoint_h").cast(pl.Float64))
    joined = lots.with_columns(pl.col("timepoint_h").cast(pl.Float64)).join(
        truth, on=["product", "lot", "timepoint_h"]
    )
    assert joined.height == 12  # 2 products x 3 lots x 2 time points
    # Viability: binomial counting error of ~12 000 cells a count, SD <= 0.4 point, 0.25 for the
    # mean of 3; 1 point is 4 SD. Recovery: aliquot CV 4 %, 2.3 % for the mean of 3; 10 % is 4 SD.
    assert (joined["viability_pct_mean"] - joined["viability_pct"]).abs().max() < 1.0
    assert (joined["recovery_pct_mean"] / joined["recovery_pct"] - 1).abs().max() < 0.10
    # Acceptance as the true values say: 200-L02 and 200-L03 fail viability at 24 h (66.7 % and
    # 66.2 % < 70 %); the closest call is 200-L03's recovery at 24 h, 53.4 % against 50 %.
    design = Design()
    true_pass = (joined["viability_pct"] >= design.min_viability_pct) & (
        joined["recovery_pct"] >= design.min_recovery_pct
    )
    assert joined["passed"].to_list() == true_pass.to_list()


@pytest.mark.workflow
def test_stage_trend_intervals_cover_the_true_fold_per_stage(example_run: Path) -> None:
    # The true et50 multipliers of the stages (2.2, 1.5, 1.15, 1.0 along the process) are not
    # log-linear in the stage score 0..3; with every lot at every stage the trend estimates
    # their least-squares line: slope of ln multiplier on score = -1.315/5 -> fold 0.769.
    design = Design()
    score = np.arange(len(design.stages), dtype=float)
    log_factor = np.log([design.stage_factor[s] for s in design.stages])
    true_fold = float(np.exp(np.polyfit(score, log_factor, 1)[0]))
    assert true_fold == pytest.approx(0.769, abs=0.001)
    trend = pl.read_csv(example_run / "results/tables/stage_trend.csv")
    assert trend.select("product", "target").rows() == [
        ("NEUK200-13", "K562"),
        ("NEUK203-13", "K562"),
    ]
    assert ((trend["lower"] <= true_fold) & (true_fold <= trend["upper"])).all(), trend
