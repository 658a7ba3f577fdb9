"""Similarity and potency across blocks (readouts × days): issue 26, part B.

A target read by two readouts on two days (:mod:`tests.stats.blocks`: the release block
reads tops of 55 % where luciferase reads 90 %) gets block-specific asymptotes, a common
hill and one ln et50 per curve; potency is the block-fixed-effect contrast of the curves'
ln et50; a non-parallel target gets no potency ratio and says why on its et50 rows.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import polars as pl
import pytest
from scipy import stats

from killcurve.fit.curve_table import curve_id_expr
from killcurve.fit.curves import fit_curves
from killcurve.stats.combination import combine_log_potencies
from killcurve.stats.compare import compare_products
from killcurve.stats.potency import block_contrast, relative_potency, similarity_note
from tests.stats.blocks import BLOCKS, two_readout_wells

COMPARISON = [{"name": "c", "test": "T", "reference": "R", "by": ["target"]}]


@pytest.fixture(scope="module")
def study() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """K562 parallel (ratio 0.4, tested lots = typical lot), SHP-77 T steeper (hill 2.8 vs 1.3)."""
    rng = np.random.default_rng(1)
    wells = pl.concat(
        [
            two_readout_wells(rng, "K562", lot_sd=0.0, noise=2.0),
            two_readout_wells(rng, "SHP-77", et50=(1.0, 4.0), hill_t=2.8, lot_sd=0.0, noise=2.0),
        ]
    )
    curves = fit_curves(wells)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MixedLM's convergence chatter
        out = compare_products(curves, COMPARISON, wells)
    return wells, curves, out


def test_parallel_target_over_two_readouts_gets_a_potency_ratio_near_truth(study) -> None:
    _, _, out = study
    k562 = out.filter((pl.col("target") == "K562") & (pl.col("metric") == "potency_ratio"))
    assert k562["method"].to_list() == [
        "parallel_line_delta",
        "parallel_line_fieller",
        "combined_weighted",
    ]
    assert (k562["parallelism"] == "equivalent").all()
    for row in k562.iter_rows(named=True):
        assert row["lower"] < 0.4 < row["upper"], row
        assert row["estimate"] == pytest.approx(0.4, rel=0.08)
    delta = k562.row(0, named=True)
    assert "2 blocks (readout): bottom and top per block, common hill" in delta["notes"]
    # 288 wells − 12 curve et50 − 2 blocks × (bottom, top) − 1 hill
    assert "t(271)" in delta["notes"]
    combined = k562.row(2, named=True)
    assert "n = 2 estimates" in combined["notes"] and "homogeneity χ²" in combined["notes"]
    # No similarity verdict on the et50 rows of a parallel group, and no AUC row.
    rows = out.filter(pl.col("target") == "K562")
    assert (rows.filter(pl.col("metric") == "et50_ratio")["parallelism"] == "not_assessed").all()
    assert "auc_difference" not in rows["metric"].to_list()


def test_non_parallel_target_over_two_readouts_says_similarity_not_shown(study) -> None:
    _, curves, out = study
    shp = out.filter(pl.col("target") == "SHP-77")
    potency = shp.filter(pl.col("metric") == "potency_ratio")
    assert potency["estimate"].null_count() == potency.height == 3
    assert (potency["parallelism"] == "not_equivalent").all()
    assert "2 of 2 blocks left out (similarity not shown)" in potency["notes"][2]
    et50 = shp.filter(pl.col("metric").is_in(["et50_ratio", "et50_ratio_separate"]))
    assert et50["method"].to_list() == [
        "welch_t_log_et50",
        "separate_fits_delta",
        "mixedlm_log_et50",
    ]
    assert (et50["parallelism"] == "not_equivalent").all()
    assert et50["estimate"].null_count() == 0  # the numbers stay, with the verdict beside them
    for note in et50["notes"]:
        assert note.startswith("similarity not shown: hill ratio ")
        assert "(90 % CI " in note and "outside 0.8–1.25" in note
    # The model-free comparisons: lysis at each E:T and the AUC row, Welch's t on the curves.
    lysis = shp.filter(pl.col("method") == "welch_t")
    assert lysis.height == 8
    assert all("pooled over the blocks luciferase, release" in n for n in lysis["notes"])
    auc = shp.filter(pl.col("metric") == "auc_difference").row(0, named=True)
    mine = curves.filter(pl.col("target") == "SHP-77")
    a = mine.filter(pl.col("product") == "T")["auc"].to_numpy()
    b = mine.filter(pl.col("product") == "R")["auc"].to_numpy()
    want = stats.ttest_ind(a, b, equal_var=False)
    ci = want.confidence_interval(0.95)
    assert auc["method"] == "welch_t_auc" and auc["parallelism"] == "not_equivalent"
    assert auc["estimate"] == pytest.approx(a.mean() - b.mean(), rel=1e-12)
    assert (auc["lower"], auc["upper"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert auc["p_value"] == pytest.approx(want.pvalue, rel=1e-9)
    assert (auc["n_test"], auc["n_reference"]) == (6, 6)


def test_similarity_note_names_the_failing_criteria_with_intervals() -> None:
    frame = pl.DataFrame(
        {
            "parameter": ["bottom_difference", "hill_ratio", "top_difference[release|B2]"],
            "estimate": [1.0, 1.9, 21.0],
            "lower": [-2.0, 1.4, 17.5],
            "upper": [4.0, 2.6, 24.5],
            "margin_lower": [-15.0, 0.8, -15.0],
            "margin_upper": [15.0, 1.25, 15.0],
            "within": [True, False, False],
        }
    )
    assert similarity_note(frame, "not_equivalent") == (
        "similarity not shown: hill ratio 1.9 (90 % CI 1.4–2.6) outside 0.8–1.25; "
        "top difference in release|B2 21 (90 % CI 17.5–24.5) outside -15–15"
    )
    assert similarity_note(frame.clear(), "not_assessed").endswith(
        "not assessed (the per-product fits failed)"
    )


def test_combined_row_is_the_combination_of_each_blocks_own_potency(study) -> None:
    wells, _, out = study
    k562 = wells.filter(pl.col("target") == "K562").with_columns(curve_id_expr())
    per_block = []
    for readout, *_ in BLOCKS.values():
        res = relative_potency(k562.filter(pl.col("readout") == readout), "T", "R")
        assert res.status == "equivalent" and res.log_ratio is not None
        per_block.append(res.log_ratio)
    d, se, df = (np.array(v) for v in zip(*per_block, strict=True))
    want = combine_log_potencies(d, 1.0 / se**2, df)
    row = out.filter((pl.col("target") == "K562") & (pl.col("method") == "combined_weighted")).row(
        0, named=True
    )
    assert want.method == "weighted"
    assert row["estimate"] == pytest.approx(want.estimate, rel=1e-9)
    assert (row["lower"], row["upper"]) == pytest.approx((want.lower, want.upper), rel=1e-9)
    # hand: weighted mean of the two ln ratios with W = 1/SE², t on df_1 + df_2
    w = 1.0 / se**2
    m = float(np.sum(w * d) / np.sum(w))
    half = stats.t.ppf(0.975, df.sum()) / math.sqrt(w.sum())
    assert (row["lower"], row["upper"]) == pytest.approx((math.exp(m - half), math.exp(m + half)))


def test_block_contrast_is_the_ols_coefficient_of_the_test_indicator() -> None:
    # Unbalanced blocks A (2 T, 1 R), B (1 T, 3 R) and a block C holding only T.
    curves = {"T": ["t1", "t2", "t3", "t4"], "R": ["r1", "r2", "r3", "r4"]}
    block_of = {"t1": "A", "t2": "A", "r1": "A", "t3": "B", "r2": "B", "r3": "B", "r4": "B"}
    block_of["t4"] = "C"
    contrast = block_contrast(curves, block_of, "T", "R")
    assert contrast.both == ["A", "B"] and contrast.lonely == {"C": "T"}
    labels = curves["T"] + curves["R"]
    theta = np.random.default_rng(0).normal(size=len(labels))
    blocks = sorted(set(block_of.values()))
    x = np.array(
        [[block_of[c] == b for b in blocks] + [c.startswith("t")] for c in labels], dtype=float
    )
    ols = np.linalg.lstsq(x, theta, rcond=None)[0][-1]
    mine = sum(contrast.test.get(c, 0.0) * v for c, v in zip(labels, theta, strict=True)) - sum(
        contrast.reference.get(c, 0.0) * v for c, v in zip(labels, theta, strict=True)
    )
    assert mine == pytest.approx(ols, abs=1e-12)
    # weights h_A = 2·1/3, h_B = 1·3/4: a T curve of A weighs (2/3)/(2/3 + 3/4)/2
    assert contrast.test["t1"] == pytest.approx((2 / 3) / (2 / 3 + 3 / 4) / 2)
    assert "t4" not in contrast.test


def test_one_block_gives_exactly_the_pooled_numbers() -> None:
    rng = np.random.default_rng(4)
    wells = two_readout_wells(rng).filter(pl.col("readout") == "luciferase")
    wells = wells.with_columns(curve_id_expr())
    pooled = relative_potency(wells, "T", "R")
    blocked = relative_potency(wells, "T", "R", blocks=("readout", "batch"))
    assert blocked.table.equals(pooled.table)
    assert blocked.parallelism.equals(pooled.parallelism)


def test_a_block_with_one_product_does_not_inform_the_ratio() -> None:
    rng = np.random.default_rng(1)
    wells = two_readout_wells(rng, lot_sd=0.0, noise=2.0).with_columns(curve_id_expr())
    # the release block keeps only the reference's curves
    wells = wells.filter((pl.col("readout") == "luciferase") | (pl.col("product") == "R"))
    res = relative_potency(wells, "T", "R", blocks=("readout",))
    assert "block release holds only R: it does not inform the potency ratio" in res.notes
    delta = res.table.filter(pl.col("method") == "parallel_line_delta").row(0, named=True)
    only = relative_potency(wells.filter(pl.col("readout") == "luciferase"), "T", "R")
    # same contrast (luciferase curves only), other fit: close, not equal
    assert only.status == "equivalent"
    assert delta["estimate"] != only.table["estimate"][0]
    assert delta["estimate"] == pytest.approx(only.table["estimate"][0], rel=0.05)
    # no block with both products: no ratio, and the note says why
    apart = wells.filter((pl.col("readout") == "luciferase") == (pl.col("product") == "T"))
    none = relative_potency(apart, "T", "R", blocks=("readout",))
    assert none.status == "not_assessed"
    potency = none.table.filter(pl.col("metric") == "potency_ratio")
    assert potency["estimate"].null_count() == potency.height == 3
    assert (
        "no block holds both products: their asymptotes cannot be compared" in potency["notes"][0]
    )
    assert potency["notes"][2].startswith("not computed: no block holds both products")


def test_answers_give_the_non_parallel_target_no_potency_and_say_similarity_not_shown(
    study,
) -> None:
    """The report's answers on the same study: SHP-77 (specific, non-parallel over two
    readouts) is quoted with its et50 ratio and "similarity not shown: hill ratio …", never as
    a potency ratio; K562 (non-specific, parallel) with "similarity shown"."""
    from killcurve.report.summary import Settings, Tables, answers

    _, curves, out = study
    settings = Settings(comparisons=tuple(COMPARISON), stages=())
    nonspecific, specific = answers(Tables(curves=curves, comparisons=out), settings, {})[:2]
    assert len(specific.sentences) == 1
    sentence = specific.sentences[0]
    assert sentence.startswith("T reached half-maximal lysis of SHP-77 at ")
    assert "potency" not in sentence
    assert "similarity not shown: hill ratio " in sentence and "outside 0.8–1.25" in sentence
    assert all("similarity shown" in s for s in nonspecific.sentences)


def test_a_curve_without_a_usable_et50_stays_out_of_the_potency_fit(study) -> None:
    """K562: one T curve's et50 withheld (as a verdict outside fit.verdict.use does): the
    parallel-line potency is that of the other curves' wells, and the notes count it."""
    wells, curves, _ = study
    k562 = curves.filter(pl.col("target") == "K562")
    dropped = k562.filter(pl.col("product") == "T")["curve_id"][0]
    withheld = k562.with_columns(
        pl.when(pl.col("curve_id") == dropped).then(None).otherwise(pl.col("et50")).alias("et50")
    )
    mine = wells.filter(pl.col("target") == "K562")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = compare_products(withheld, COMPARISON, mine)
    delta = out.filter(pl.col("method") == "parallel_line_delta").row(0, named=True)
    assert "1 curve without a usable et50 (verdict or fit.withhold) left out" in delta["notes"]
    rest = mine.with_columns(curve_id_expr()).filter(pl.col("curve_id") != dropped)
    want = relative_potency(rest, "T", "R", blocks=("readout",)).table
    want = want.filter(pl.col("method") == "parallel_line_delta")
    assert delta["estimate"] == pytest.approx(want["estimate"][0], rel=1e-12)
    assert (delta["lower"], delta["upper"]) == pytest.approx(
        (want["lower"][0], want["upper"][0]), rel=1e-12
    )
