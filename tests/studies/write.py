"""Writing a drawn :class:`~tests.studies.design.StudyDesign` as a study directory.

Plates: each target × run × cryo × stage gets its curves (product × lot) packed well
by well, row by row: every curve's levels × replicates, then that plate's controls
(4 wells per role on 96-well plates, 8 on 384). A group that does not fit spills onto
more plates, each with its own controls. Each plate's layout lists every used well
(wellmap ``[well.X]`` tables). Signals follow the readout's % lysis formula in reverse
(``config/README.md``, % lysis) with log-normal well noise; overflow wells carry the
reader's marker. Gen5 plates are packed ``plates_per_file`` to a file (``plate_index``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from killcurve.plate import row_letter
from killcurve.simulate.exports import (
    ANALYSED_ML,
    COUNTER_WRITERS,
    SUFFIX,
    WRITERS,
    Count,
    grid_csv,
)

from .design import READOUT_CONTROLS, Shape, StudyDesign


def true_lysis(shape: Shape, x: float) -> float:
    """% lysis of ``shape`` at ``x``: bottom + (top − bottom)/(1 + (mid/x)^hill)."""
    return shape.bottom + (shape.top - shape.bottom) / (1.0 + (shape.mid / x) ** shape.hill)


def _grid(wells: int) -> tuple[int, int]:
    return (8, 12) if wells == 96 else (16, 24)


def _well_name(index: int, cols: int) -> str:
    return f"{row_letter(index // cols)}{index % cols + 1}"


def _plan(design: StudyDesign) -> list[dict]:
    """Plates: id, target, batch, readout, cryo, stage, and the wells each holds."""
    rows, cols = _grid(design.wells)
    n_ctrl = 4 if design.wells == 96 else 8
    plates: list[dict] = []
    for target in design.targets:
        for batch, readout in target.readouts.items():
            for cryo in target.cryo:
                for stage in target.stages or (None,):
                    roles = [
                        r
                        for r in READOUT_CONTROLS[readout]
                        if r != "background" or target.background or readout == "release"
                    ]
                    controls = [(role, None) for role in roles for _ in range(n_ctrl)]
                    room = rows * cols - len(controls)
                    wells: list[tuple] = []
                    for product in design.products:
                        for lot in design.lots[product]:
                            curve = [
                                ("sample", (product, lot, x))
                                for x in target.levels
                                for _ in range(design.replicates)
                            ]
                            if len(wells) + len(curve) > room and wells:
                                plates.append(_plate(plates, target, batch, readout, cryo, stage,
                                                     wells + controls))  # fmt: skip
                                wells = []
                            wells += curve
                    plates.append(
                        _plate(plates, target, batch, readout, cryo, stage, wells + controls)
                    )
    return plates


def _plate(plates: list, target, batch, readout, cryo, stage, wells) -> dict:
    return {
        "plate_id": f"P{len(plates) + 1:03d}",
        "target": target,
        "batch": batch,
        "readout": readout,
        "cryo": cryo,
        "stage": stage,
        "wells": wells,
    }


def _layout(design: StudyDesign, plate: dict) -> str:
    _, cols = _grid(design.wells)
    t = plate["target"]
    lines = ["[expt]", f'target = "{t.name}"']
    if plate["cryo"]:
        lines.append(f'cryo = "{plate["cryo"]}"')
    if plate["stage"]:
        lines.append(f'stage = "{plate["stage"]}"')
    for i, (role, what) in enumerate(plate["wells"]):
        lines += ["", f"[well.{_well_name(i, cols)}]", f'role = "{role}"']
        if what is not None:
            product, lot, x = what
            lines += [f'product = "{product}"', f'lot = "{lot}"']
            if design.axis == "concentration":
                lines += [f"concentration = {x!r}", f"et_ratio = {design.fixed_et!r}"]
            else:
                lines.append(f"et_ratio = {x!r}")
    return "\n".join(lines) + "\n"


def _signals(design: StudyDesign, plate: dict, rng: np.random.Generator) -> np.ndarray:
    """Readings of one plate (unused wells read like medium)."""
    rows, cols = _grid(design.wells)
    readout = plate["readout"]
    t_level = float(10 ** rng.uniform(3.5, 6.0))
    m_level = t_level * float(rng.uniform(5.0, 15.0))
    b_level = t_level / float(rng.uniform(50.0, 500.0))
    dead = float(rng.uniform(2.0, 15.0))  # flow: % dead targets alone
    values = np.full(rows * cols, b_level)
    for i, (role, what) in enumerate(plate["wells"]):
        lysis = 0.0
        if what is not None:
            product, _, x = what
            lysis = true_lysis(design.shapes[(product, plate["target"].name)], x)
        if readout == "luciferase":
            level = {"background": b_level, "target_only": t_level}.get(
                role, b_level + (t_level - b_level) * (1 - lysis / 100)
            )
        elif readout == "release":
            level = {"background": b_level, "target_only": t_level, "max_lysis": m_level}.get(
                role, t_level + (m_level - t_level) * lysis / 100
            )
        elif readout == "flow":
            level = dead if role == "target_only" else dead + (100 - dead) * lysis / 100
        else:  # pct_lysis
            level = lysis
        values[i] = level
    if readout in ("flow", "pct_lysis"):
        values = values + rng.normal(0.0, 100 * design.noise_cv / 4, values.shape)
        if readout == "flow":
            values = np.clip(values, 0.1, 99.9)
        return np.round(values, 2).reshape(rows, cols)
    return np.round(values * np.exp(rng.normal(0.0, design.noise_cv, values.shape))).reshape(
        rows, cols
    )


def _fail_controls(values: np.ndarray, plate: dict, cols: int, rng: np.random.Generator) -> None:
    """Scatter a plate's target_only wells (CV ≫ 20 %): the plate fails QC."""
    for i, (role, _) in enumerate(plate["wells"]):
        if role == "target_only":
            r, c = divmod(i, cols)
            values[r, c] *= float(rng.choice((0.3, 1.0, 1.9)))


def _sample_wells(plate: dict, cols: int) -> list[str]:
    return [_well_name(i, cols) for i, (role, _) in enumerate(plate["wells"]) if role == "sample"]


def _text(design: StudyDesign, plate: dict, values: np.ndarray, overflow: set[str]) -> str:
    fmt = design.formats[plate["readout"]]
    if plate["readout"] in ("flow", "pct_lysis"):
        return grid_csv(values, overflow, {}, decimals=2)  # percentages, two decimals
    meta = {
        "plate_id": plate["plate_id"],
        "run": plate["plate_id"][1:],
        "test": f"{plate['target'].name} killing",
        "date_us": "3/2/2026",
        "time": "9:00:00 AM",
    }
    return WRITERS[fmt](values, overflow, meta)


def write_study(design: StudyDesign, out: Path) -> list[dict]:
    """Write the study into ``out`` (its ``config/``); return the plate plan."""
    out = Path(out)
    for sub in ("config/data", "config/layouts"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(design.seed)
    _, cols = _grid(design.wells)
    plates = _plan(design)
    failing = None
    if design.failed_plate:
        with_controls = [p for p in plates if READOUT_CONTROLS[p["readout"]]]
        failing = with_controls[0]["plate_id"] if with_controls else None
    sheet, exclusions, gen5 = [], [], {}
    for plate in plates:
        pid = plate["plate_id"]
        values = _signals(design, plate, rng)
        if pid == failing:
            _fail_controls(values, plate, cols, rng)
        samples = _sample_wells(plate, cols)
        overflow = set(samples[1 : 1 + design.overflow]) if len(samples) > 4 else set()
        if design.exclusions and len(samples) > 6:
            for well in samples[-design.exclusions :]:
                exclusions.append((pid, well, "bubble seen before reading (drawn)", "gen"))
        fmt = design.formats[plate["readout"]]
        if plate["readout"] in ("flow", "pct_lysis"):
            fmt = "grid_csv"
        text = _text(design, plate, values, overflow)
        (out / f"config/layouts/{pid}.toml").write_text(_layout(design, plate))
        row = {
            "plate_id": pid,
            "file": f"config/data/{pid}{SUFFIX[fmt]}",
            "format": fmt,
            "layout": f"config/layouts/{pid}.toml",
            "readout": plate["readout"],
            "batch": plate["batch"],
            "plate_index": "",
        }
        if fmt == "agilent_gen5" and design.plates_per_file > 1:
            members = gen5.setdefault(plate["readout"], [])
            number, index = divmod(len(members), design.plates_per_file)
            index += 1
            members.append(pid)
            name = f"config/data/gen5_{plate['readout']}_{number + 1}.txt"
            block = text.replace("Plate Number\tPlate 1", f"Plate Number\tPlate {index}")
            with open(out / name, "a", encoding="utf-8", newline="") as handle:
                handle.write(block)
            row.update(file=name, plate_index=str(index))
        else:
            (out / row["file"]).write_bytes(text.encode("utf-8"))
        sheet.append(row)
    frame = pl.DataFrame(sheet)
    if (frame["plate_index"] == "").all():
        frame = frame.drop("plate_index")
    else:
        # a multi-plate file needs plate_index on every one of its rows; single ones are 1
        multi = frame.group_by("file").len().filter(pl.col("len") > 1)["file"]
        frame = frame.with_columns(
            pl.when(pl.col("file").is_in(multi.implode()))
            .then(pl.col("plate_index"))
            .otherwise(pl.lit(""))
            .alias("plate_index")
        )
    frame.write_csv(out / "config/plates.tsv", separator="\t")
    pl.DataFrame(exclusions, schema=["plate_id", "well", "reason", "who"], orient="row").write_csv(
        out / "config/exclusions.tsv", separator="\t"
    )
    if design.viability:
        _write_viability(design, out, rng)
    (out / "config/config.yaml").write_text(_config(design))
    return plates


def _write_viability(design: StudyDesign, out: Path, rng: np.random.Generator) -> None:
    """Counts at 0 and 24 h after thaw, two aliquots per product × lot, one file per product."""
    (out / "config/viability").mkdir(parents=True, exist_ok=True)
    formats = tuple(COUNTER_WRITERS)
    thawed = datetime(2026, 3, 16, 9, 0)
    rows = []
    for k, product in enumerate(design.products):
        fmt = formats[k % len(formats)]
        file = f"config/viability/{product}.csv"
        counts = []
        for lot in design.lots[product]:
            for hours in (0, 24):
                viability = float(rng.uniform(0.55, 0.95))
                for rep in (1, 2):
                    total = int(rng.poisson(2.0e6 * ANALYSED_ML[fmt]))
                    viable = int(rng.binomial(total, viability))
                    sample = f"{lot}_{hours}h_r{rep}"
                    counts.append(
                        Count(
                            sample,
                            total,
                            viable,
                            total / ANALYSED_ML[fmt],
                            viable / ANALYSED_ML[fmt],
                            thawed + timedelta(hours=hours, minutes=3 * len(counts)),
                        )
                    )
                    rows.append(
                        {
                            "file": file,
                            "format": fmt,
                            "sample": sample,
                            "product": product,
                            "lot": lot,
                            "timepoint_h": hours,
                            "replicate": rep,
                            "volume_ml": 10.0,
                            "prefreeze_viable_cells": 3.0e7,
                        }
                    )
        (out / file).write_bytes(COUNTER_WRITERS[fmt](counts).encode("utf-8"))
    pl.DataFrame(rows).write_csv(out / "config/viability.tsv", separator="\t")


def _config(design: StudyDesign) -> str:
    lines = [
        f'study: "Drawn study {design.seed}"',
        "plates: config/plates.tsv",
        "exclusions: config/exclusions.tsv",
    ]
    if design.axis == "concentration":
        lines += ["axis:", "  variable: concentration", "  unit: nM"]
    lines.append("comparisons:")
    for test in design.tests:
        lines += [
            f"  - name: {test.lower()}_vs_{design.reference.lower()}",
            f"    test: {test}",
            f"    reference: {design.reference}",
            f"    by: [{', '.join(design.comparison_by)}]",
        ]
    if design.stage_order:
        lines.append(f"stages: [{', '.join(design.stage_order)}]")
    if design.viability:
        lines += ["viability:", "  samplesheet: config/viability.tsv"]
    lines += [
        "report:",
        f"  nonspecific_targets: [{design.targets[0].name}]",
        "fit:",
        "  model: 4pl",
        f"  weighting: {design.weighting}",
        f"  outliers: {{method: {design.outliers}}}",
        f"  withhold: [{', '.join(design.withhold)}]",
    ]
    return "\n".join(lines) + "\n"


__all__ = ["true_lysis", "write_study"]
