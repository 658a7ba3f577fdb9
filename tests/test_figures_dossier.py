"""Dossier figures and the report's answers, on small hand-built tables.

Each figure is checked by the data its layers plot (not by pixels), each answer
by its sentence, with the numbers derived in comments.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from killcurve.figures.forest import plot_forest
from killcurve.figures.save import save_figure
from killcurve.figures.stages import plot_stages, stage_lots
from killcurve.figures.thaw import paired_lots, plot_thaw
from killcurve.figures.viability import plot_viability
from killcurve.report.captions import load_captions, number_figures
from killcurve.report.summary import (
    Settings,
    Tables,
    answers,
    available_figures,
    caption_values,
)
from killcurve.stats.ratios import forest_rows

COLOURS = {"T": "#0072B2", "R": "#D55E00"}
SETTINGS = Settings(
    stages=("d14", "d21", "bulk"),
    comparisons=({"name": "t_vs_r", "test": "T", "reference": "R"},),
    viability=True,
)


def _comparisons() -> pl.DataFrame:
    """Three groups of comparison t_vs_r (by target, stage, cryo), rows as compare writes them.

    SHP-77 bulk fresh: parallel, so the Fieller potency row is preferred over the
    delta row and both et50 rows. K562 d21 fresh: not parallel (null potency), so
    the mixed-model et50 row beats Welch. H82: nothing usable, so no row.
    """
    rows = [
        ("SHP-77", "bulk", "fresh", "et50_ratio", "welch_t_log_et50", 0.33, 0.2, 0.5, 0.01, 0.02),
        ("SHP-77", "bulk", "fresh", "potency_ratio", "parallel_line_delta", 0.30, 0.26, 0.35,
         0.001, 0.002),
        ("SHP-77", "bulk", "fresh", "potency_ratio", "parallel_line_fieller", 0.31, 0.25, 0.38,
         0.001, 0.002),
        ("SHP-77", "bulk", "fresh", "lysis_difference_at_10", "welch_t", 30.0, 20.0, 40.0,
         0.001, 0.002),
        ("K562", "d21", "fresh", "potency_ratio", "parallel_line_delta", None, None, None,
         None, None),
        ("K562", "d21", "fresh", "potency_ratio", "parallel_line_fieller", None, None, None,
         None, None),
        ("K562", "d21", "fresh", "et50_ratio", "welch_t_log_et50", 0.9, 0.5, 1.6, 0.6, 1.0),
        ("K562", "d21", "fresh", "et50_ratio", "mixedlm_log_et50", 0.95, 0.7, 1.3, 0.7, 1.0),
        ("K562", "d14", "fresh", "et50_ratio", "mixedlm_log_et50", 1.2, 0.8, 1.8, 0.3, 0.6),
        ("H82", "bulk", "fresh", "et50_ratio", "welch_t_log_et50", None, None, None, None, None),
    ]  # fmt: skip
    columns = ["target", "stage", "cryo", "metric", "method", "estimate", "lower", "upper",
               "p_value", "p_adjusted"]  # fmt: skip
    frame = pl.DataFrame(rows, schema=columns, orient="row")
    potency = pl.col("metric") == "potency_ratio"
    parallel = pl.when(potency & (pl.col("target") == "SHP-77")).then(pl.lit("equivalent"))
    hill = "similarity not shown: hill ratio 1.9 (90 % CI 1.4–2.6) outside 0.80–1.25"
    return frame.with_columns(
        parallel.when(potency)
        .then(pl.lit("not_equivalent"))
        .otherwise(pl.lit("not_assessed"))
        .alias("parallelism"),
        # as compare writes it: on the et50 rows of the group without similarity (K562 d21)
        pl.when((pl.col("metric") == "et50_ratio") & (pl.col("stage") == "d21"))
        .then(pl.lit(hill))
        .alias("notes"),
        pl.lit("t_vs_r").alias("comparison"),
        pl.lit("T").alias("test"),
        pl.lit("R").alias("reference"),
    )


def _curves() -> pl.DataFrame:
    """Lots L1, L2 of T and L3 of R on K562 at stages d14, d21 (fresh), and SHP-77 pre/post thaw."""
    rows = [
        ("T", "L1", "K562", "d14", "fresh", 4.0),
        ("T", "L1", "K562", "d14", "fresh", 16.0),  # second assay day: geometric mean 8
        ("T", "L1", "K562", "d21", "fresh", 2.0),
        ("T", "L2", "K562", "d14", "fresh", 6.0),
        ("T", "L2", "K562", "d21", "fresh", 3.0),
        ("T", "L2", "K562", "harvest", "fresh", 1.0),  # not a listed stage: left out
        ("R", "L3", "K562", "d14", "fresh", 5.0),
        ("R", "L3", "SHP-77", "bulk", "fresh", 2.0),  # one stage only: no panel
        ("R", "L3", "SHP-77", "bulk", "post_thaw", 3.0),
    ]
    frame = pl.DataFrame(rows, schema=["product", "lot", "target", "stage", "cryo", "et50"],
                         orient="row")  # fmt: skip
    return frame.with_columns(pl.lit(True).alias("converged"))


def _layer(plot, index: int):
    """The data frame a layer draws: its own, else the plot's."""
    data = plot.layers[index].geom.data
    return plot.data if data is None else data


def _layer_data(plot, index: int) -> pl.DataFrame:
    return pl.from_pandas(_layer(plot, index))


def test_forest_rows_pick_the_preferred_usable_ratio_per_group() -> None:
    rows = forest_rows(_comparisons(), ("d14", "d21", "bulk"))
    # K562 groups first (targets sorted), d14 before d21 in process order; H82 has none.
    assert rows.select("target", "stage", "method", "estimate").rows() == [
        ("K562", "d14", "mixedlm_log_et50", 1.2),
        ("K562", "d21", "mixedlm_log_et50", 0.95),
        ("SHP-77", "bulk", "parallel_line_fieller", 0.31),
    ]
    # Similarity: not assessed at d14 (no potency row), not shown at d21, shown for SHP-77.
    assert rows["similarity"].to_list() == ["not assessed", "not shown", "shown"]
    assert rows["label"].to_list() == [
        "K562 · d14 · fresh   1.2 (0.80–1.8)   similarity not assessed",
        "K562 · d21 · fresh   0.95 (0.70–1.3)   similarity not shown",
        "SHP-77 · bulk · fresh   0.31 (0.25–0.38)",
    ]
    assert rows["notes"][1].startswith("similarity not shown: hill ratio 1.9")
    plot = plot_forest(_comparisons(), COLOURS, ["T", "R"], ("d14", "d21", "bulk"))
    points = _layer(plot, 2)  # vline, errorbar, point
    assert list(points["estimate"]) == [1.2, 0.95, 0.31]
    assert list(points["lower"]) == [0.8, 0.7, 0.25] and list(points["upper"]) == [1.8, 1.3, 0.38]
    # The first table row is drawn at the top: the categorical y axis lists it last.
    first = "K562 · d14 · fresh   1.2 (0.80–1.8)   similarity not assessed"
    assert list(points["label"].cat.categories)[-1] == first
    assert list(_layer(plot, 0)["xintercept"]) == [1]  # the no-difference line


def test_forest_rows_without_method_column_or_by_columns() -> None:
    table = pl.DataFrame(
        {"comparison": ["c"], "test": ["T"], "reference": ["R"], "metric": ["et50_ratio"],
         "estimate": [0.5], "lower": [0.25], "upper": [1.0]}
    )  # fmt: skip
    # No method: the row has no entry in METHOD_ORDER and is not plotted.
    assert forest_rows(table).height == 0
    rows = forest_rows(table.with_columns(pl.lit("wald_log_et50").alias("method")))
    label = "all   0.50 (0.25–1.0)   similarity not assessed"
    assert rows.select("group", "label").row(0) == ("all", label)
    assert rows["metric_label"].to_list() == ["et50 ratio"]


def test_forest_names_the_half_maximal_point_as_the_axis_does() -> None:
    """On a concentration axis (ADCC) the legend says ec50 ratio, never et50 ratio."""
    rows = forest_rows(_comparisons(), ("d14", "d21", "bulk"), "ec50")
    assert rows["metric_label"].to_list() == [
        "ec50 ratio",
        "ec50 ratio",
        "potency ratio (parallel curves)",
    ]
    plot = plot_forest(_comparisons(), COLOURS, ["T", "R"], ("d14", "d21", "bulk"), "ec50")
    assert set(_layer(plot, 2)["metric_label"]) == {"ec50 ratio", "potency ratio (parallel curves)"}
    shape_scale = next(sc for sc in plot.scales if "shape" in sc.aesthetics)
    assert set(shape_scale.palette(3)) == {
        "ec50 ratio",
        "ec50 ratio (non-parallel curves)",
        "potency ratio (parallel curves)",
    }


def test_stage_panel_plots_geometric_means_per_lot_in_process_order() -> None:
    lots = stage_lots(_curves(), ["d14", "d21", "bulk"])
    # T L1 at d14: exp(mean(ln 4, ln 16)) = sqrt(64) = 8 from 2 curves. R has K562 at d14
    # only and SHP-77 at bulk only (one stage each): no panel for R.
    assert lots.select("product", "lot", "stage", "n_curves").rows() == [
        ("T", "L1", "d14", 2),
        ("T", "L1", "d21", 1),
        ("T", "L2", "d14", 1),
        ("T", "L2", "d21", 1),
    ]
    assert lots["et50"].to_list() == pytest.approx([8.0, 2.0, 6.0, 3.0])
    plot = plot_stages(_curves(), ["d14", "d21", "bulk"], COLOURS, ["T", "R"])
    points = _layer_data(plot, 1)
    assert sorted(points["et50"].to_list()) == pytest.approx([2.0, 3.0, 6.0, 8.0])
    assert list(_layer(plot, 1)["stage"].cat.categories) == ["d14", "d21"]
    means = _layer_data(plot, 2).filter(pl.col("product") == "T").sort("stage_score")
    # Product T at d14: exp(mean(ln 8, ln 6)) = sqrt(48); at d21: sqrt(2 × 3) = sqrt(6).
    assert means["et50"].to_list() == pytest.approx([math.sqrt(48), math.sqrt(6)])


def _retention() -> pl.DataFrame:
    rows = [
        ("T", "product", None, 2, 2.0, 3.0),
        ("T", "lot", "L1", 1, 1.0, 2.0),
        ("T", "lot", "L2", 1, 4.0, 4.5),
        ("T", "lot", "L4", 1, 4.0, None),  # no post-thaw value: not drawn
    ]
    frame = pl.DataFrame(rows, schema=["product", "level", "lot", "n_lots", "pre", "post"],
                         orient="row")  # fmt: skip
    return frame.with_columns(
        pl.lit("SHP-77").alias("target"), pl.lit("bulk").alias("stage"),
        pl.lit("et50_fold_change").alias("metric"),
        *(pl.lit(None, pl.Float64).alias(c) for c in ("estimate", "lower", "upper", "p_value")),
    )  # fmt: skip


def test_thaw_pairs_join_each_lot_before_and_after() -> None:
    long = paired_lots(_retention(), "et50_fold_change", "fresh", "thawed")
    assert long.select("lot", "state", "value").rows() == [
        ("L1", "fresh", 1.0), ("L1", "thawed", 2.0), ("L2", "fresh", 4.0), ("L2", "thawed", 4.5),
    ]  # fmt: skip
    plot = plot_thaw(_retention(), COLOURS, ["T"], "et50_fold_change", "fresh", "thawed")
    data = plot.data
    assert list(data["x"].cat.categories) == ["T\nfresh", "T\nthawed"]
    assert sorted(set(data["line"])) == ["T L1", "T L2"]


def test_viability_figure_shows_lots_means_and_limits() -> None:
    lots = pl.DataFrame(
        {"product": ["T", "T"], "lot": ["L1", "L2"], "timepoint_h": [0.0, 0.0],
         "viability_pct_mean": [80.0, 90.0], "recovery_pct_mean": [60.0, 70.0]}
    )  # fmt: skip
    products = pl.DataFrame(
        {"product": ["T"], "timepoint_h": [0.0], "viability_pct_mean": [85.0],
         "viability_pct_ci_low": [20.0], "viability_pct_ci_high": [150.0],
         "recovery_pct_mean": [65.0], "recovery_pct_ci_low": [1.0], "recovery_pct_ci_high": [129.0]}
    )  # fmt: skip
    plot = plot_viability(lots, products, COLOURS, ["T"], 70.0, None)
    points, bars, means, limits = (_layer(plot, i) for i in range(4))
    assert sorted(points["value"]) == [60.0, 70.0, 80.0, 90.0]
    assert list(bars["ci_low"]) == [20.0, 1.0] and list(means["mean"]) == [85.0, 65.0]
    # Only the viability limit is set: one dashed line, in the viability panel.
    assert list(limits["limit"]) == [70.0] and str(limits["measure"][0]).startswith("viability")


def test_figure_files_are_byte_identical_on_two_runs(tmp_path: Path) -> None:
    plot = plot_forest(_comparisons(), COLOURS, ["T", "R"])
    files = []
    for run in ("a", "b"):
        pdf, png = tmp_path / f"{run}.pdf", tmp_path / f"{run}.png"
        save_figure(plot, pdf, png, 7.2, 2.5, dpi=150)
        files.append((pdf.read_bytes(), png.read_bytes()))
    assert files[0] == files[1]


def test_figures_not_made_say_why() -> None:
    curves = _curves()
    made = available_figures(curves, SETTINGS)
    # Stages: T has K562 curves at d14 and d21; thaw: R L3 SHP-77 fresh and post_thaw.
    assert made == {"stages": None, "forest": None, "viability": None, "thaw": None}
    bare = available_figures(curves.filter(pl.col("cryo") == "fresh"), Settings())
    assert bare["stages"] == "no process stages in the config (key `stages`)"
    assert bare["forest"].startswith("no comparisons in the config")
    assert bare["viability"].startswith("no viability counts")
    assert bare["thaw"].startswith("no lot has a converged curve both fresh and post_thaw")


def test_answers_state_the_numbers_of_the_tables() -> None:
    tables = Tables(curves=_curves(), comparisons=_comparisons(), retention=_retention())
    numbers = {"stages": 1, "forest": 2}
    nonspecific, specific, viability, thaw = answers(tables, SETTINGS, numbers)
    assert nonspecific.sentences == [
        "T reached half-maximal lysis of K562 (d14, fresh) at 1.2× the E:T of R (et50 ratio; "
        "95 % CI 0.80–1.8; Holm-adjusted p = 0.60; similarity not assessed).",
        "T reached half-maximal lysis of K562 (d21, fresh) at 0.95× the E:T of R (et50 ratio; "
        "95 % CI 0.70–1.3; Holm-adjusted p = 1.0; similarity not shown: hill ratio 1.9 "
        "(90 % CI 1.4–2.6) outside 0.80–1.25).",
    ]
    assert (nonspecific.figure, nonspecific.also) == ("stages", ("forest",))
    assert specific.sentences == [
        "T reached half-maximal lysis of SHP-77 (bulk, fresh) at 0.31× the E:T of R "
        "(parallel-line potency ratio, within-assay interval; 95 % CI 0.25–0.38; Holm-adjusted "
        "p = 0.0020; similarity shown)."
    ]
    # Targets come from the curves: SHP-77 is specific, K562 (default) non-specific.
    assert specific.question.endswith("on each specific target (SHP-77)")
    assert specific.figure == "forest"
    assert viability.missing.startswith("the config has no `viability` key")
    # The product row has pre 2, post 3: fold 1.5 (estimate left null here, so no sentence).
    assert thaw.missing is not None


def test_answers_count_the_curves_their_verdicts_withheld() -> None:
    """K562 d21: of the group's 3 curves (T L1, T L2, R none at d21 → 2 of T), one T curve
    has no et50 because its verdict withheld it; d14 has 4 curves, none withheld."""
    curves = _curves().with_columns(
        pl.lit("valid").alias("verdict"), pl.lit([], pl.List(pl.String)).alias("verdict_reasons")
    )
    withheld = (pl.col("lot") == "L2") & (pl.col("stage") == "d21")
    curves = curves.with_columns(
        pl.when(withheld).then(None).otherwise(pl.col("et50")).alias("et50"),
        pl.when(withheld).then(pl.lit("limited")).otherwise(pl.col("verdict")).alias("verdict"),
        pl.when(withheld)
        .then(pl.lit(["top_not_reached", "ci_unbounded"]))
        .otherwise(pl.col("verdict_reasons"))
        .alias("verdict_reasons"),
    )
    tables = Tables(curves=curves, comparisons=_comparisons())
    nonspecific = answers(tables, SETTINGS, {})[0]
    assert nonspecific.sentences[0].endswith("Holm-adjusted p = 0.60; similarity not assessed).")
    assert nonspecific.sentences[1].endswith(
        "outside 0.80–1.25; 1 of 2 curves withheld (top not reached 1, ci unbounded 1))."
    )
    # Without verdict columns (tables of an older run) nothing is counted.
    plain = answers(Tables(curves=_curves(), comparisons=_comparisons()), SETTINGS, {})[0]
    assert "withheld" not in " ".join(plain.sentences)


def test_answers_cover_every_comparison_in_config_order() -> None:
    """Four comparisons on SHP-77: U vs R (usable Welch row), T vs R (the fixture's Fieller
    row), V vs W (no estimate: its note is quoted), X vs R (a ratio after thaw only: the
    answers quote groups before thaw, and X is not said to have none). Config order U, T,
    V, X."""
    extra = pl.DataFrame(
        {"comparison": ["u_vs_r", "v_vs_w", "v_vs_w", "x_vs_r"], "target": "SHP-77",
         "stage": "bulk", "cryo": ["fresh", "fresh", "fresh", "post_thaw"],
         "test": ["U", "V", "V", "X"], "reference": ["R", "W", "W", "R"],
         "metric": ["et50_ratio", "et50_ratio", "potency_ratio", "et50_ratio"],
         "method": ["welch_t_log_et50", "none", "parallel_line_delta", "welch_t_log_et50"],
         "estimate": [0.5, None, None, 0.8], "lower": [0.4, None, None, 0.6],
         "upper": [0.625, None, None, 1.1], "p_value": [0.01, None, None, 0.2],
         "p_adjusted": [0.02, None, None, 0.4],
         "notes": [None, "no converged test curve with an et50", "not computed", None]}
    )  # fmt: skip
    comparisons = pl.concat([_comparisons(), extra], how="diagonal_relaxed")
    settings = replace(
        SETTINGS,
        comparisons=({"name": "u_vs_r", "test": "U", "reference": "R"}, *SETTINGS.comparisons,
                     {"name": "v_vs_w", "test": "V", "reference": "W"},
                     {"name": "x_vs_r", "test": "X", "reference": "R"}),
    )  # fmt: skip
    tables = Tables(curves=_curves(), comparisons=comparisons)
    nonspecific, specific, _, _ = answers(tables, settings, {})
    assert specific.question == "Target-specific potency of U, T and X vs R; V vs W on each " \
        "specific target (SHP-77)"  # fmt: skip
    assert specific.sentences == [
        "U reached half-maximal lysis of SHP-77 (bulk, fresh) at 0.50× the E:T of R (et50 "
        "ratio; 95 % CI 0.40–0.62; Holm-adjusted p = 0.020; similarity not assessed).",
        "T reached half-maximal lysis of SHP-77 (bulk, fresh) at 0.31× the E:T of R "
        "(parallel-line potency ratio, within-assay interval; 95 % CI 0.25–0.38; Holm-adjusted "
        "p = 0.0020; similarity shown).",
        "V vs W on SHP-77: no ratio (no converged test curve with an et50).",
    ]
    # K562 is compared by T vs R only: the same two stage rows as with one comparison.
    assert len(nonspecific.sentences) == 2 and nonspecific.question.startswith(
        "Non-specific killing (K562): U, T and X vs R; V vs W, by process stage"
    )


def test_thaw_and_viability_sentences() -> None:
    retention = pl.DataFrame(
        {"product": ["T", "T"], "target": "SHP-77", "stage": "bulk", "level": "product",
         "lot": None, "n_lots": 3, "metric": ["et50_fold_change", "lysis_retention_at_10"],
         "pre": [2.0, 80.0], "post": [3.0, 60.0], "estimate": [1.5, 0.75],
         "lower": [1.1, 0.6], "upper": [2.1, 0.9], "p_value": [0.02, 0.01]}
    )  # fmt: skip
    lots = pl.DataFrame(
        {"product": ["T", "T"], "lot": ["L1", "L2"], "timepoint_h": [24.0, 24.0],
         "passed": [True, False], "reasons": [None, "viability 65.0 % < 70 %"]}
    )  # fmt: skip
    products = pl.DataFrame(
        {"product": ["T"], "timepoint_h": [24.0], "n_lots": [2], "viability_pct_mean": [72.5],
         "viability_pct_ci_low": [40.7], "viability_pct_ci_high": [104.3],
         "recovery_pct_mean": [60.0], "recovery_pct_ci_low": [None], "recovery_pct_ci_high": [None]}
    )  # fmt: skip
    tables = Tables(curves=_curves(), retention=retention, viability_lots=lots,
                    viability_products=products)  # fmt: skip
    _, _, viability, thaw = answers(tables, SETTINGS, {"viability": 3, "thaw": 4})
    assert thaw.sentences == [
        "After thaw (n = 3 lots), T on SHP-77 (bulk) kept 0.75× its fresh specific lysis at "
        "E:T 10:1 (80.0 % → 60.0 %; 95 % CI 0.60–0.90; p = 0.010) and its et50 changed "
        "1.5-fold (2.0 → 3.0; 95 % CI 1.1–2.1)."
    ]
    assert viability.sentences == [
        "T (2 lots): viability 72.5 % at 24 h (95 % CI 40.7–104); recovery 60.0 % at 24 h. "
        "1 of 2 lot × time points met viability ≥ 70 % and recovery ≥ 50 %; not met: L2 at "
        "24 h (viability 65.0 % < 70 %)."
    ]


def test_dossier_figures_are_numbered_first_and_absent_ones_skipped() -> None:
    curves = _curves().with_columns(
        pl.lit("P1").alias("plate_ids"), pl.lit(24).alias("n_points"), pl.lit("4pl").alias("model"),
        pl.lit(0.95).alias("ci_level"),
    )  # fmt: skip
    wells = pl.DataFrame({"plate_id": ["P1"], "role": ["sample"], "target": ["K562"],
                          "excluded": [False]})  # fmt: skip
    tables = Tables(curves=curves, comparisons=_comparisons())
    values = caption_values(tables, SETTINGS)
    dossier = {k: values[k] for k in ("stages", "forest")}  # viability and thaw not made
    entries = number_figures(load_captions(), curves, wells, Path("f"), "abc", str, dossier)
    assert [(e.number, e.id) for e in entries][:4] == [
        (1, "stages"), (2, "forest"), (3, "curves"), (4, "curves"),
    ]  # fmt: skip
    # Stage panel: T's 5 K562 curves at d14/d21 from lots L1, L2; R's K562 curve is at one
    # stage only, so it is not in the panel.
    assert "d14 → d21 → bulk" in entries[0].caption
    assert "5 converged curves from 2 lots" in entries[0].caption
    assert entries[1].pdf == Path("f/forest.pdf")
    assert "for each of the 3 groups of 1 comparison(s)" in entries[1].caption


def test_report_says_which_answers_and_figures_are_missing() -> None:
    from killcurve.report.html import Section, answers_html

    tables = Tables(curves=_curves(), comparisons=_comparisons())
    settings = Settings(comparisons=SETTINGS.comparisons)  # no stages, no viability
    absent = {k: v for k, v in available_figures(tables.curves, settings).items() if v}
    section = Section(answers=answers(tables, settings, {"forest": 1}), absent=absent)
    page = "\n".join(answers_html(section))
    assert page.count("<h3 id=") == 4
    assert "Not answered: the config has no `viability` key" in page
    assert "process-stage panel: no process stages in the config (key `stages`)" in page
    assert "viability and recovery after thaw: no viability counts in the config" in page
    assert "forest plot" not in page  # made: not listed as missing


def test_report_questions_choose_and_order_the_answers() -> None:
    from killcurve.report.html import Section, answers_html

    tables = Tables(curves=_curves(), comparisons=_comparisons(), retention=_retention())
    numbers = {"stages": 1, "forest": 2}
    every = {a.id: a for a in answers(tables, SETTINGS, numbers)}
    assert list(every) == ["nonspecific", "specific", "viability", "thaw"]
    config = {**{"stages": list(SETTINGS.stages), "comparisons": list(SETTINGS.comparisons)},
              "report": {"questions": ["thaw", "specific"]}}  # fmt: skip
    asked = Settings.from_config(config)
    assert asked.questions == ("thaw", "specific")
    chosen = answers(tables, asked, numbers)
    assert chosen == [every["thaw"], every["specific"]]  # same answers, config order
    page = "\n".join(answers_html(Section(answers=chosen)))
    assert re.findall(r'<h3 id="answer-(\w+)">(\d)\.', page) == [("thaw", "1"), ("specific", "2")]
    none = answers(tables, replace(asked, questions=()), numbers)
    assert none == []
    assert "No question is asked of this study (config key report.questions is empty)" in (
        "".join(answers_html(Section(answers=none)))
    )


def test_forest_without_any_estimate_says_so_instead_of_failing(tmp_path: Path) -> None:
    empty = pl.DataFrame(
        {
            "comparison": ["c"], "target": ["K562"], "test": ["A"], "reference": ["B"],
            "metric": ["et50_ratio"], "estimate": [None], "lower": [None], "upper": [None],
            "method": ["welch_t_log_et50"], "parallelism": ["not_assessed"], "notes": ["no curve"],
        },
        schema_overrides={"estimate": pl.Float64, "lower": pl.Float64, "upper": pl.Float64},
    )  # fmt: skip
    plot = plot_forest(empty, {"A": "#000000"})
    text = plot.layers[0]
    assert text.geom.aes_params["label"].startswith("No comparison group has an estimate")
    # 170 × 60 mm (save_figure takes inches)
    save_figure(plot, tmp_path / "forest.pdf", tmp_path / "forest.png", 170 / 25.4, 60 / 25.4)
    assert (tmp_path / "forest.pdf").read_bytes()[:5] == b"%PDF-"


def test_optional_tables_reads_a_rules_inputs_absent_or_empty_as_none() -> None:
    from killcurve.pipeline.steps import DOSSIER_TABLES, optional_tables

    inputs = {"comparisons": "a.csv", "trend": ["t.csv"], "retention": []}
    tables = optional_tables(inputs)
    assert list(tables) == list(DOSSIER_TABLES)
    assert tables["comparisons"] == Path("a.csv") and tables["trend"] == Path("t.csv")
    assert tables["retention"] is None and tables["viability_lots"] is None


def test_forest_labels_count_the_curves_their_verdicts_withheld() -> None:
    """K562 d21: T L2's et50 withheld (limited), so its group's label says 1 of 2."""
    curves = _curves().with_columns(pl.lit("valid").alias("verdict"))
    withheld = (pl.col("lot") == "L2") & (pl.col("stage") == "d21")
    curves = curves.with_columns(
        pl.when(withheld).then(None).otherwise(pl.col("et50")).alias("et50"),
        pl.when(withheld).then(pl.lit("limited")).otherwise(pl.col("verdict")).alias("verdict"),
    )
    rows = forest_rows(_comparisons(), ("d14", "d21", "bulk"), curves=curves)
    assert rows["label"][1] == (
        "K562 · d21 · fresh   0.95 (0.70–1.3)   similarity not shown   1 of 2 curves withheld"
    )
    assert "withheld" not in rows["label"][0] + rows["label"][2]
    plot = plot_forest(_comparisons(), COLOURS, ["T", "R"], ("d14", "d21", "bulk"), curves=curves)
    assert "1 of 2 curves withheld" in " ".join(map(str, _layer(plot, 2)["label"]))
