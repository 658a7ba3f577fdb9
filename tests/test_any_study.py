"""Any valid study runs to an honest end (the whole-study property test).

Studies are drawn by :mod:`tests.studies.design` (targets, lots, readouts, plate sizes,
export formats, curve kinds, artefacts, a viability arm), written and run through the
workflow as a user would. Each must end with every declared output or, where its design
is one the run refuses by intent, with an input error naming the place; never with a
traceback; and no cell of any table, workbook or report may hold NaN or ±inf.

The default run draws a few small studies (a fixed, derandomised set, so that a red run
is reproducible); ``benchmarks/any_study.py --n 200`` draws hundreds (see its docstring).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from .studies.design import StudyDesign, study_designs
from .studies.outputs import study_problems


@pytest.mark.workflow
@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(design=study_designs(max_targets=2, max_lots=2))
def test_a_drawn_study_runs_to_an_honest_end(design: StudyDesign) -> None:
    with tempfile.TemporaryDirectory(prefix="drawn_study_") as tmp:
        kind, problems = study_problems(design, Path(tmp) / "study")
    assert not problems, f"{kind}: {problems}\n{design!r}"


def test_the_generator_draws_the_designs_it_claims() -> None:
    """Over 300 draws every feature of the module docstring occurs (no runs: fast)."""
    seen: set[str] = set()

    @settings(max_examples=300, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(design=study_designs())
    def collect(design: StudyDesign) -> None:
        seen.update(f"kind:{s.kind}" for s in design.shapes.values())
        seen.add(f"wells:{design.wells}")
        seen.add(f"axis:{design.axis}")
        seen.update(f"lots:{len(lots)}" for lots in design.lots.values())
        seen.add(f"targets:{len(design.targets)}")
        seen.update(f"readout:{r}" for t in design.targets for r in t.readouts.values())
        if any(len(set(t.readouts.values())) > 1 for t in design.targets):
            seen.add("two readouts in one target")
        if any(len(t.levels) == 1 for t in design.targets):
            seen.add("one level")
        if any(
            design.shapes[(design.products[0], t.name)].hill
            != design.shapes[(design.reference, t.name)].hill
            for t in design.targets
        ):
            seen.add("non-parallel products")
        for flag in ("failed_plate", "viability"):
            if getattr(design, flag):
                seen.add(flag)
        if design.exclusions:
            seen.add("exclusions")
        if design.plates_per_file > 1 and "agilent_gen5" in design.formats.values():
            seen.add("several plates per file")
        if any(not t.background for t in design.targets):
            seen.add("no background wells")

    collect()
    wanted = {
        *(f"kind:{k}" for k in ("sigmoid", "flat", "weak", "beyond", "below", "rising", "barely")),
        "wells:96", "wells:384", "axis:et_ratio", "axis:concentration",
        *(f"lots:{n}" for n in (1, 2, 3, 4)), *(f"targets:{n}" for n in (1, 2, 3, 4, 5)),
        *(f"readout:{r}" for r in ("luciferase", "release", "flow", "pct_lysis")),
        "two readouts in one target", "one level", "non-parallel products", "failed_plate",
        "viability", "exclusions", "several plates per file", "no background wells",
    }  # fmt: skip
    assert wanted - seen == set()


@pytest.mark.parametrize(("readout", "wells", "axis"), [
    ("luciferase", 96, "et_ratio"), ("release", 384, "concentration"), ("flow", 96, "et_ratio"),
])  # fmt: skip
def test_written_plates_give_back_the_true_lysis(
    tmp_path: Path, readout: str, wells: int, axis: str
) -> None:
    """The generator's files, read by the pipeline, give the % lysis it put in (noise ~0)."""
    from killcurve.pipeline import steps

    from .studies.design import Shape, TargetDesign
    from .studies.write import true_lysis, write_study

    levels = (20.0, 10.0, 5.0, 2.5, 1.25, 0.625)
    design = StudyDesign(
        seed=3, axis=axis, products=("AB-1", "CD-2"), lots={"AB-1": ("A1",), "CD-2": ("C1", "C2")},
        targets=(TargetDesign("T1-X", {"R1": readout}, ("fresh",), (), True, levels),),
        batches=("R1",), replicates=2, wells=wells, formats={readout: "agilent_gen5"},
        plates_per_file=1,
        shapes={("AB-1", "T1-X"): Shape("sigmoid", 2.0, 90.0, 3.0, 1.2),
                ("CD-2", "T1-X"): Shape("weak", 0.0, 30.0, 6.0, 2.0)},
        noise_cv=1e-5, failed_plate=False, exclusions=0, overflow=0, viability=False,
        weighting="none", outliers="none", withhold=(), comparison_by=("target",),
    )  # fmt: skip
    write_study(design, tmp_path)
    tables = tmp_path / "results"
    steps.collect_wells(
        samplesheet=tmp_path / "config/plates.tsv",
        study_dir=tmp_path,
        wells_out=tables / "wells.parquet",
        qc_out=tables / "qc.csv",
        qc={},
    )
    import polars as pl

    samples = pl.read_parquet(tables / "wells.parquet").filter(pl.col("role") == "sample")
    assert samples.height == (1 + 2) * len(levels) * 2
    x = "concentration" if axis == "concentration" else "et_ratio"
    for row in samples.iter_rows(named=True):
        truth = true_lysis(design.shapes[(row["product"], "T1-X")], row[x])
        assert row["pct_lysis"] == pytest.approx(truth, abs=0.6 if readout == "flow" else 0.05)
