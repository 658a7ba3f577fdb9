"""A seeded simulator that writes a whole study directory with known truth.

:func:`write_study` writes ``config/config.yaml``, ``config/plates.tsv``, one
wellmap layout and one plate-reader export per plate (BMG MARS CSV for the
release readout, Agilent Gen5 text for luciferase by default),
``config/exclusions.tsv``, the post-thaw cell counts (``config/viability/``,
Vi-CELL BLU and NC-View exports, and ``config/viability.tsv``), and three truth
tables, so that tests can check the pipeline recovers what was put in:

* ``config/truth.tsv``: one row per curve, its true 4PL parameters and the
  random effects that made its et50;
* ``config/truth_comparisons.tsv``: the true et50 ratio test/reference per
  target × stage × cryo (definition below);
* ``config/truth_viability.tsv``: true viability and recovery per product ×
  lot × hours after thaw;
* ``config/truth_timecourse.tsv`` (only with ``Design.timecourse``): the
  time-resolved impedance arm's truth (:mod:`killcurve.simulate.timecourse`).

**Curves.** True % lysis ``L(x) = bottom + (top − bottom)/(1 + (et50/x)^hill)``
at E:T ``x``. Per curve of product p, lot l, target t, stage s, cryo c, assay
day d::

    ln et50 = ln typical_et50(p, t, s, c) + u_l + v_d + e_curve
    typical_et50 = et50[p, t] · stage_factor[s] · (thaw_factor[p] if c is post-thaw)

with lot effects u_l ~ N(0, lot_sd_log²), day effects v_d ~ N(0, day_sd_log²)
and a curve effect e ~ N(0, curve_sd_log²). ``typical_et50`` is the et50 of
the population's typical lot on a typical day (all effects 0; the geometric
mean over lots and days), so the **true ratio** of a comparison is
typical_et50(test)/typical_et50(reference) = exp(fixed-effect difference of
ln et50), the value the lot and day effects average out to. bottom, top and
hill depend on the target only (top × ``thaw_top_factor`` after thaw), so the
two products' curves are parallel on log E:T.

**Plates** (96 wells; one target × stage × cryo per plate, up to three curves)::

    rows A–H            E:T from the highest (row A, 40:1) down to the lowest (row H)
    cols 1–3, 4–6, 7–9  one curve each (triplicates across the columns)
    col 10              target_only (8 wells)
    col 11              max_lysis (8 wells)
    col 12              background (medium, 8 wells)

**Signals.** Per well, effector and target pipetting errors e_E, e_T ~
log-normal(``pipetting_cv``) make the actual E:T ``x·e_E/e_T``; luciferase
``S = B + (T − B)·e_T·(1 − L/100)``, release ``S = e_T·(T + (M − T)·L/100)``
(T, M, B: :data:`READOUT_LEVELS`). S is multiplied by log-normal well noise
(``well_cv``), ``1 + edge_effect`` in the outer wells (evaporation), a
read-order drift ``1 − read_drift·k/95`` (k = 0…95, row by row), and a plate
factor: log-normal(``plate_cv``) × ``(1 − plate_drift)^j`` for the j-th plate
read that day. Then the artefacts: ``outlier_wells`` multiply a reading by a
factor, ``overflow_wells`` are written as the reader's overflow marker, and
``manual_exclusions`` go to ``config/exclusions.tsv``. Readings are rounded
to whole counts.

**Counts after thaw.** Per product × lot × time point, ``count_replicates`` counts
of separate aliquots. The lot's true viability (logit-normal around
``viability_pct``) and recovery (logit-normal around ``recovery_pct``, the viable
cells recovered as % of the viable cells frozen) give viable and total
cells/mL in ``thaw_volume_ml``; each aliquot varies by ``count_cv``
(log-normal), the counter sees Poisson(total/mL × imaged volume) objects of
which Binomial(·, viability) are viable, and reports count / imaged volume.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from killcurve.plate import row_letter
from killcurve.simulate.design import (
    CONTROL_COLUMNS,
    CURVE_COLUMNS,
    READOUT_LEVELS,
    Condition,
    Design,
    comparison_truth,
    plate_id,
    plate_plan,
    true_lysis,
    truth_table,
)
from killcurve.simulate.exports import ANALYSED_ML, COUNTER_WRITERS, SUFFIX, WRITERS, Count
from killcurve.simulate.timecourse import TIMECOURSE_CONFIG, timecourse_design, write_arm


def _layout_toml(design: Design, cond: Condition, curves: list[tuple[str, str]]) -> str:
    width = 3 * len(curves)
    lines = [
        "# Plate layout (wellmap TOML): see config/README.md for the fields.",
        "# E:T down the rows (A highest), triplicates across; controls in columns 10-12.",
        "[expt]",
        f'target = "{cond.target}"',
        f'stage = "{cond.stage}"',
        f'cryo = "{cond.cryo}"',
        "",
    ]
    for i, et in enumerate(design.et_ratios):
        lines += [f"[block.{width}x1.{row_letter(i)}1]", f"et_ratio = {et:g}", ""]
    for cols, (product, lot) in zip(CURVE_COLUMNS, curves, strict=False):
        lines += [
            f"[block.3x{len(design.et_ratios)}.A{cols[0] + 1}]",
            'role = "sample"',
            f'product = "{product}"',
            f'lot = "{lot}"',
            "",
        ]
    for role, col in CONTROL_COLUMNS.items():
        lines += [f"[block.1x8.A{col + 1}]", f'role = "{role}"', ""]
    return "\n".join(lines)


def _plate_signals(
    design: Design, readout: str, curves: list[dict], order_in_day: int, rng: np.random.Generator
) -> np.ndarray:
    """8 × 12 array of simulated readings for one plate (model in the module docstring)."""
    t_level, m_level, b_level = READOUT_LEVELS[readout]
    shape = (8, 12)
    targets = np.exp(rng.normal(0.0, design.pipetting_cv, shape))
    effectors = np.exp(rng.normal(0.0, design.pipetting_cv, shape))
    lysis = np.zeros(shape)
    x = np.array(design.et_ratios)[:, None]
    for cols, truth in zip(CURVE_COLUMNS, curves, strict=False):
        for col in cols:
            actual = x[:, 0] * effectors[:, col] / targets[:, col]
            lysis[:, col] = true_lysis(truth, actual)
    frac = lysis / 100.0
    if readout == "luciferase":
        grid = b_level + (t_level - b_level) * targets * (1.0 - frac)
        grid[:, CONTROL_COLUMNS["max_lysis"]] = b_level * 1.05
    else:
        grid = targets * (t_level + (m_level - t_level) * frac)
        grid[:, CONTROL_COLUMNS["max_lysis"]] = targets[:, CONTROL_COLUMNS["max_lysis"]] * m_level
    grid[:, CONTROL_COLUMNS["background"]] = b_level
    edge = np.zeros(shape, dtype=bool)
    edge[[0, -1], :] = edge[:, [0, -1]] = True
    grid *= np.exp(rng.normal(0.0, design.well_cv, shape))
    grid *= np.where(edge, 1.0 + design.edge_effect, 1.0)
    grid *= 1.0 - design.read_drift * np.arange(96).reshape(shape) / 95.0
    grid *= (
        float(np.exp(rng.normal(0.0, design.plate_cv))) * (1 - design.plate_drift) ** order_in_day
    )
    return grid


def _well_index(well: str) -> tuple[int, int]:
    return ord(well[0].upper()) - ord("A"), int(well[1:]) - 1


def _sample_well(plan: list[dict], number: int, well: str) -> bool:
    """Whether plate ``number`` of ``plan`` exists and uses ``well`` for a sample.

    Artefacts of a design are placed by plate number; a smaller or
    differently packed study simply leaves out those that do not land on a sample.
    """
    if not 1 <= number <= len(plan):
        return False
    row, col = _well_index(well)
    return row < 8 and col < len(CURVE_COLUMNS[0]) * len(plan[number - 1]["curves"])


def _us_date(iso: str) -> str:
    """``2026-03-02`` → ``3/2/2026``, as US-locale reader software writes dates."""
    year, month, day = iso.split("-")
    return f"{int(month)}/{int(day)}/{year}"


CONFIG_TEMPLATE = """\
# killcurve study configuration (schema: workflow/schemas/config.schema.yaml;
# every key is described in config/README.md).
study: "{study}"
# Samplesheet: one row per plate (path relative to the study directory).
plates: config/plates.tsv
# Wells excluded by hand, with reason and name (optional).
exclusions: config/exclusions.tsv
# Products to compare: et50 ratio test/reference per target x process stage x cryo state.
comparisons:
  - name: {slug}
    test: {test}
    reference: {reference}
    by: [target, stage, cryo]
# Manufacturing process stages in process order (layout field `stage`), for the stage trend.
stages: [{stages}]
# Killing retained after cryopreservation and thaw, paired by lot.
thaw:
  pre: fresh
  post: post_thaw
  reference_et: 10
# Viability and recovery after thaw from the cell-counter exports of config/viability.tsv.
viability:
  samplesheet: config/viability.tsv
  min_viability_pct: {min_viability:g}
  min_recovery_pct: {min_recovery:g}
# Wording of the report's first section: which targets are non-specific, the antigen.
report:
  nonspecific_targets: [K562]
  antigen: DLL3
fit:
  model: 4pl
qc:
  min_z_prime: 0.5
  max_control_cv_pct: 20
  min_signal_to_background: 2
  max_spontaneous_pct: 30
  position_alpha: 0.01
  position_min_effect_pct: 10
  exclude_failed_plates: true
"""


def _write_plates(
    out: Path, design: Design, plan: list[dict], truth: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """Plate exports, layouts and exclusions of ``plan``; returns the samplesheet rows."""
    n = len(plan)
    by_plate: dict[str, list[dict]] = {}
    for row in truth.iter_rows(named=True):
        by_plate.setdefault(row["plate_id"], []).append(row)
    first = datetime.fromisoformat(design.first_day)
    dates = [(first + timedelta(days=7 * d)).date().isoformat() for d in range(design.days)]
    read_today = [0] * design.days
    sheet = []
    for plate in plan:
        pid = plate_id(design, plate["number"], n)
        cond: Condition = plate["condition"]
        readout = design.readouts[cond.target]
        values = _plate_signals(design, readout, by_plate[pid], read_today[plate["day"]], rng)
        read_today[plate["day"]] += 1
        for number, well, factor in design.outlier_wells:
            if number == plate["number"] and _sample_well(plan, number, well):
                values[_well_index(well)] *= factor
        overflow = {
            w for p, w in design.overflow_wells if p == plate["number"] and _sample_well(plan, p, w)
        }
        fmt = design.formats.get(readout, "grid_csv")
        date = dates[plate["day"]]
        k = read_today[plate["day"]]
        meta = {
            "plate_id": pid,
            "run": str(plate["number"]),
            "test": f"{cond.target} killing ({readout})",
            "date_us": _us_date(date),
            "time": f"{9 + k // 6}:{(k * 9) % 60:02d}:00 AM",
        }
        file = f"config/data/{pid}{SUFFIX[fmt]}"
        (out / file).write_bytes(WRITERS[fmt](np.round(values), overflow, meta).encode("utf-8"))
        (out / f"config/layouts/{pid}.toml").write_text(_layout_toml(design, cond, plate["curves"]))
        sheet.append(
            {
                "plate_id": pid,
                "file": file,
                "format": fmt,
                "layout": f"config/layouts/{pid}.toml",
                "readout": readout,
                "batch": plate["batch"],
                "assay_date": date,
                "operator": "simulated",
            }
        )
    pl.DataFrame(
        [
            (plate_id(design, p, n), w, r, who)
            for p, w, r, who in design.manual_exclusions
            if _sample_well(plan, p, w)
        ],
        schema=["plate_id", "well", "reason", "who"],
        orient="row",
    ).write_csv(out / "config/exclusions.tsv", separator="\t")
    return pl.DataFrame(sheet)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _expit(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def viability_truth(design: Design, rng: np.random.Generator | None = None) -> pl.DataFrame:
    """True viability (%) and recovery (% of viable cells frozen) per product × lot × hours.

    A lot's viability and recovery are logit-normal around the product's
    typical values; one lot effect per lot shifts both time points.
    """
    rng = rng or np.random.default_rng([design.seed, 2])
    rows = []
    for product in design.products:
        for lot in design.lot_names(product):
            dv = rng.normal(0.0, design.viability_lot_sd_logit)
            dr = rng.normal(0.0, design.recovery_lot_sd_logit)
            prefreeze = int(
                round(design.prefreeze_viable_cells * math.exp(rng.normal(0, 0.05)), -5)
            )
            for hours in design.timepoints_h:
                v = design.viability_pct[(product, hours)] / 100
                r = design.recovery_pct[(product, hours)] / 100
                rows.append(
                    {
                        "product": product,
                        "lot": lot,
                        "timepoint_h": hours,
                        "viability_pct": 100 * _expit(_logit(v) + dv),
                        "recovery_pct": 100 * _expit(_logit(r) + dr),
                        "prefreeze_viable_cells": prefreeze,
                        "volume_ml": design.thaw_volume_ml,
                    }
                )
    return pl.DataFrame(rows)


def viability_counts(design: Design) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, list[Count]]]:
    """(truth, samplesheet rows, counts per file) of the counts after thaw.

    The samplesheet has the columns of ``config/viability.tsv``; counts per
    file are the :class:`~killcurve.simulate.exports.Count` rows each counter export
    holds (one file per product × time point).
    """
    rng = np.random.default_rng([design.seed, 2])
    truth = viability_truth(design, rng)
    thawed = datetime.fromisoformat(design.thaw_time)
    files: dict[str, list[Count]] = {}
    sheet = []
    for row in truth.iter_rows(named=True):
        fmt = design.counter_formats[row["product"]]
        file = f"config/viability/{row['product']}_{row['timepoint_h']}h.csv"
        counts = files.setdefault(file, [])
        viable_per_ml = row["prefreeze_viable_cells"] * row["recovery_pct"] / 100 / row["volume_ml"]
        total_per_ml = viable_per_ml / (row["viability_pct"] / 100)
        for rep in range(1, design.count_replicates + 1):
            seen = total_per_ml * math.exp(rng.normal(0.0, design.count_cv)) * ANALYSED_ML[fmt]
            total = int(rng.poisson(seen))
            viable = int(rng.binomial(total, row["viability_pct"] / 100))
            sample = f"{row['lot']}_{row['timepoint_h']}h_r{rep}"
            when = thawed + timedelta(hours=row["timepoint_h"], minutes=3 * len(counts) + 5)
            counts.append(
                Count(
                    sample=sample,
                    total_count=total,
                    viable_count=viable,
                    total_per_ml=total / ANALYSED_ML[fmt],
                    viable_per_ml=viable / ANALYSED_ML[fmt],
                    measured_at=when,
                )
            )
            sheet.append(
                {
                    "file": file,
                    "format": fmt,
                    "sample": sample,
                    "product": row["product"],
                    "lot": row["lot"],
                    "timepoint_h": row["timepoint_h"],
                    "replicate": rep,
                    "volume_ml": row["volume_ml"],
                    "prefreeze_viable_cells": row["prefreeze_viable_cells"],
                }
            )
    return truth, pl.DataFrame(sheet), files


def _write_viability(out: Path, design: Design) -> None:
    truth, sheet, files = viability_counts(design)
    (out / "config/viability").mkdir(parents=True, exist_ok=True)
    formats = dict(zip(sheet["file"], sheet["format"], strict=True))
    for file, counts in files.items():
        (out / file).write_bytes(COUNTER_WRITERS[formats[file]](counts).encode("utf-8"))
    sheet.write_csv(out / "config/viability.tsv", separator="\t", float_precision=1)
    truth.write_csv(out / "config/truth_viability.tsv", separator="\t", float_precision=4)


def write_study(out: Path, design: Design | None = None) -> pl.DataFrame:
    """Write a simulated study into ``out`` and return its truth table (one row per curve).

    Files: ``config/config.yaml``, ``config/plates.tsv``,
    ``config/layouts/<plate>.toml``, ``config/data/<plate>.<suffix>``,
    ``config/exclusions.tsv``, ``config/viability.tsv``,
    ``config/viability/<product>_<hours>h.csv``, ``config/truth.tsv``,
    ``config/truth_comparisons.tsv``, ``config/truth_viability.tsv``; with
    ``design.timecourse`` also the time-resolved impedance plates ``TC01``–``TC04``
    (their rows in ``config/plates.tsv`` with ``time`` = ``all``, ``addition`` =
    ``pause``), ``config/truth_timecourse.tsv`` and a ``timecourse`` config section (see
    :mod:`killcurve.simulate.timecourse`). The same design and seed give byte-identical files.
    """
    design = design or Design()
    out = Path(out)
    for sub in ("config/layouts", "config/data"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(design.seed)
    plan = plate_plan(design)
    truth = truth_table(design, plan, rng)
    sheet = _write_plates(out, design, plan, truth, rng)
    if design.timecourse:
        arm, _ = write_arm(out, timecourse_design(design, truth))
        sheet = pl.concat([sheet, arm], how="diagonal")
    sheet.write_csv(out / "config/plates.tsv", separator="\t")
    _write_viability(out, design)
    slug = "_vs_".join(
        "".join(ch for ch in p.split("-")[0].lower() if ch.isalnum()) for p in design.products
    )
    (out / "config/config.yaml").write_text(
        CONFIG_TEMPLATE.format(
            study=design.study,
            slug=slug,
            test=design.test,
            reference=design.reference,
            stages=", ".join(design.stages),
            min_viability=design.min_viability_pct,
            min_recovery=design.min_recovery_pct,
        )
        + (TIMECOURSE_CONFIG if design.timecourse else "")
    )
    truth.write_csv(out / "config/truth.tsv", separator="\t", float_precision=6)
    comparison_truth(design).write_csv(
        out / "config/truth_comparisons.tsv", separator="\t", float_precision=6
    )
    return truth
