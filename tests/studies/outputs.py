"""What a finished run of any study must leave: every declared output, no NaN or ±inf.

:func:`run_outcome` runs the workflow on a study directory and classifies the end:
``ok`` (exit 0), ``input_error`` (a ``killcurve: error:`` message that names the
place) or ``crash`` (anything else: a traceback, a library error, a message without
a place). :func:`nonfinite_cells` reads every table a run wrote (CSV, Parquet, XLSX,
the report's HTML) and lists each cell that holds NaN or ±inf.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .design import StudyDesign
from .write import write_study

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--cores", "2"]

#: Outputs every run declares (rule all), besides the per-target and dossier figures.
DECLARED = (
    "results/tables/wells.parquet",
    "results/tables/plate_qc.csv",
    "results/tables/curves.csv",
    "results/tables/curves.parquet",
    "results/tables/comparisons.csv",
    "results/tables/stage_trend.csv",
    "results/tables/thaw_retention.csv",
    "results/tables/killcurve_tables.xlsx",
    "results/provenance.json",
    "results/report.html",
    "results/figures/plate_maps.pdf",
    "results/figures/figure_pack.pdf",
)
VIABILITY = ("results/tables/viability.csv", "results/tables/viability_products.csv")
#: A message names a place: a file, plate, well, curve, line or config key.
PLACE = re.compile(
    r"\b(plate|well|curve|file|line|config key|layout|samplesheet)\b|\.(tsv|csv|toml)"
)
#: Text that spells a non-finite number.
NONFINITE = re.compile(r"(?i)(^|[^\w.])[-+]?(nan|inf|infinity)($|[^\w])")


@dataclass
class Outcome:
    """How a run ended: ``kind`` (``ok``, ``input_error``, ``crash``) and its message."""

    kind: str
    message: str
    stderr: str


def run_outcome(study: Path, timeout: float = 900, cores: int = 2) -> Outcome:
    """Run the workflow on ``study`` as a user would and classify how it ended."""
    done = subprocess.run(
        [*SNAKEMAKE[:-1], str(cores), "--directory", str(study)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    errors = re.findall(r"^killcurve: error: (.*)$", done.stderr, flags=re.M)
    if done.returncode == 0:
        return Outcome("ok", "", done.stderr)
    if errors and "Traceback" not in done.stderr and PLACE.search(errors[0]):
        return Outcome("input_error", errors[0], done.stderr)
    return Outcome("crash", errors[0] if errors else done.stderr[-3000:], done.stderr)


def missing_outputs(study: Path, viability: bool) -> list[str]:
    """Declared outputs absent after a successful run, with every target's figures."""
    expected = list(DECLARED) + (list(VIABILITY) if viability else [])
    curves = pl.read_parquet(study / "results/tables/curves.parquet")
    from killcurve.study.naming import target_slug

    for target in curves["target"].unique().to_list():
        expected += [
            f"results/figures/{kind}_{target_slug(target)}.{ext}"
            for kind in ("curves", "residuals")
            for ext in ("png", "pdf")
        ]
    # dossier figures: forest (every drawn study compares), viability (with counts), and the
    # stage and thaw figures where the fitted curves allow them (the workflow's own rule)
    import yaml

    from killcurve.report.summary import Settings, available_figures
    from killcurve.study.axis import read_curves

    config = yaml.safe_load((study / "config/config.yaml").read_text())
    made = available_figures(read_curves(study / "results/tables/curves.parquet")[0],
                             Settings.from_config(config))  # fmt: skip
    drawn = {"forest", *(["viability"] if viability else [])}
    drawn |= {name for name, why in made.items() if why is None}
    expected += [f"results/figures/{n}.{ext}" for n in sorted(drawn) for ext in ("pdf", "png")]
    plates = pl.read_parquet(study / "results/tables/wells.parquet")["plate_id"].unique()
    expected += [f"results/figures/plates/{p}.png" for p in plates.to_list()]
    return [p for p in expected if not (study / p).is_file() or (study / p).stat().st_size == 0]


def _frame_cells(frame: pl.DataFrame, where: str) -> list[str]:
    found = []
    for name, dtype in frame.schema.items():
        column = frame[name]
        if dtype.is_float():
            bad = column.is_nan() | column.is_infinite()
            if bad.any():
                found.append(f"{where} column {name}: {column.filter(bad)[0]}")
        elif dtype == pl.String:
            bad = column.str.contains(NONFINITE.pattern).fill_null(False)
            if bad.any():
                found.append(f"{where} column {name}: {column.filter(bad)[0]!r}")
        elif isinstance(dtype, pl.List) and dtype.inner is not None and dtype.inner.is_float():
            flat = column.explode().drop_nulls()
            if (flat.is_nan() | flat.is_infinite()).any():
                found.append(f"{where} column {name}: a list holds NaN/inf")
    return found


def nonfinite_cells(study: Path) -> list[str]:
    """Every cell of every table under ``results/`` that holds NaN or ±inf, as text."""
    found: list[str] = []
    results = study / "results"
    for path in sorted(results.rglob("*.parquet")):
        if ".cache" in path.parts:
            continue
        found += _frame_cells(pl.read_parquet(path), str(path.relative_to(study)))
    for path in sorted(results.rglob("*.csv")):
        frame = pl.read_csv(path, infer_schema=False)  # every cell as its text
        found += _frame_cells(frame, str(path.relative_to(study)))
    for path in sorted(results.rglob("*.xlsx")):
        found += _xlsx_cells(path, str(path.relative_to(study)))
    report = results / "report.html"
    if report.is_file():
        found += [f"report.html: {m!r}" for m in _html_nonfinite(report.read_text("utf-8"))]
    return found


def _xlsx_cells(path: Path, where: str) -> list[str]:
    import fastexcel

    book = fastexcel.read_excel(str(path))
    return [
        hit
        for sheet in book.sheet_names
        for hit in _frame_cells(
            book.load_sheet_by_name(sheet).to_polars(), f"{where} sheet {sheet}"
        )
    ]


def _html_nonfinite(html: str) -> list[str]:
    """Non-finite numbers in the report's visible text (images and markup removed)."""
    text = re.sub(r"data:[^\"')\s]+", "", html)
    text = re.sub(r"<(script|style)\b.*?</\1>", "", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return [m.group(0).strip() for m in NONFINITE.finditer(text)]


def study_problems(design: StudyDesign, study: Path, cores: int = 2) -> tuple[str, list[str]]:
    """Write ``design`` into ``study``, run it, and list what breaks the properties.

    Returns the outcome kind and the problems: a crash; an input error on a study drawn
    as runnable; a declared output missing; a cell with NaN/inf.
    """
    write_study(design, study)
    outcome = run_outcome(study, cores=cores)
    if outcome.kind == "crash":
        return outcome.kind, [f"crash: {outcome.message}"]
    if outcome.kind == "input_error":
        if not expects_input_error(design):
            return outcome.kind, [f"input error on a runnable study: {outcome.message}"]
        return outcome.kind, []
    problems = [f"missing {p}" for p in missing_outputs(study, design.viability)]
    problems += nonfinite_cells(study)
    problems += verdict_problems(study)
    return outcome.kind, problems


def verdict_problems(study: Path) -> list[str]:
    """Curves tables without ``verdict``/``verdict_reasons`` columns, or curves without a
    verdict (``valid``, ``limited`` or ``invalid``)."""
    from killcurve.fit.verdict import VERDICTS

    found = []
    tables = study / "results/tables"
    for frame, where in (
        (pl.read_parquet(tables / "curves.parquet"), "curves.parquet"),
        (pl.read_csv(tables / "curves.csv", infer_schema=False), "curves.csv"),
    ):
        missing = [c for c in ("verdict", "verdict_reasons") if c not in frame.columns]
        if missing:
            found.append(f"{where}: no column {', '.join(missing)}")
            continue
        bad = frame.filter(~pl.col("verdict").is_in(list(VERDICTS)).fill_null(False))
        if bad.height:
            example = bad["curve_id"][0]
            found.append(f"{where}: {bad.height} curves without a verdict, e.g. {example}")
    return found


def expects_input_error(design: StudyDesign) -> bool:
    """A drawn study the run refuses by design: a curve titrated at a single level."""
    return any(len(t.levels) < 2 for t in design.targets)
