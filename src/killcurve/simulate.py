"""A seeded simulator that writes a whole study directory with known truth.

:func:`write_study` writes ``config/config.yaml``, ``config/plates.tsv``,
one wellmap layout and one plate-reader export per plate (in the format the
design names for its readout: BMG MARS CSV and Agilent Gen5 text by default), and
``config/truth.tsv`` (the true 4PL parameters of every curve), so that tests
can check the pipeline recovers what was put in.

Plate design (96 wells, one target × cryo state × lot pair per plate)::

    rows A–C, cols 1–8   test product, one lot, E:T from the highest (col 1) down
    rows D–F, cols 1–8   reference product, one lot
    rows A–F, cols 9–10  target_only (12 wells)
    rows A–F, cols 11–12 max_lysis (12 wells)
    row G, cols 1–6      background (medium only)
    row G, cols 7–12     effector_only at the highest E:T (3 per product)

True % lysis: ``L(x) = bottom + (top − bottom)/(1 + (et50/x)^hill)``. Signals:
luciferase ``S = B + (T − B)(1 − L/100)``, release ``S = T + (M − T)L/100``,
each multiplied by log-normal well noise (``well_cv``) and a log-normal plate
factor (``plate_cv``), rounded to whole counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from killcurve.exports import SUFFIX, WRITERS

#: Plate-reader scale of each readout: (target_only, max_lysis, background) means.
READOUT_LEVELS = {"luciferase": (2.0e5, 1.0e3, 9.0e2), "release": (4.0e3, 4.0e4, 6.0e2)}


@dataclass(frozen=True)
class Design:
    """What to simulate. E:T ratios are effector cells per target cell."""

    study: str = "NEUK203-13 vs NEUK200-13 — simulated example"
    test: str = "NEUK203-13"
    reference: str = "NEUK200-13"
    lots: int = 2
    #: target -> readout
    targets: dict[str, str] = field(
        default_factory=lambda: {"K562": "release", "SHP-77": "luciferase"}
    )
    cryo_states: tuple[str, ...] = ("fresh", "post_thaw")
    stage: str = "bulk"
    et_ratios: tuple[float, ...] = tuple(40.0 * 2.0**-k for k in range(8))
    replicates: int = 3
    #: (product, target) -> true et50 of a fresh lot, E:T
    et50: dict[tuple[str, str], float] = field(
        default_factory=lambda: {
            ("NEUK203-13", "K562"): 2.5,
            ("NEUK200-13", "K562"): 3.0,
            ("NEUK203-13", "SHP-77"): 1.2,
            ("NEUK200-13", "SHP-77"): 4.0,
        }
    )
    top: float = 90.0
    bottom: float = 1.0
    hill: float = 1.3
    #: et50 multiplier after cryopreservation and thaw (less potent), top multiplier
    thaw_et50_factor: float = 1.6
    thaw_top_factor: float = 0.95
    lot_sd_log: float = 0.10
    well_cv: float = 0.015
    plate_cv: float = 0.05
    seed: int = 20261124
    #: readout -> export format written for its plates (see :mod:`killcurve.exports`)
    formats: dict[str, str] = field(
        default_factory=lambda: {"release": "bmg_mars", "luciferase": "agilent_gen5"}
    )
    #: wells written as the reader's overflow marker instead of a number: (plate_id, well)
    overflow_wells: tuple[tuple[str, str], ...] = (("P07", "C8"),)
    #: manual exclusions written to config/exclusions.tsv: (plate_id, well, reason, who)
    manual_exclusions: tuple[tuple[str, str, str, str], ...] = (
        ("P06", "B4", "bubble seen in the well before reading (simulated)", "simulator"),
    )


def _lot_names(product: str, n: int) -> list[str]:
    code = "".join(ch for ch in product.split("-")[0] if ch.isdigit()) or product
    return [f"{code}-L{i + 1:02d}" for i in range(n)]


def truth_table(design: Design, rng: np.random.Generator) -> pl.DataFrame:
    """True 4PL parameters of every curve (one row per product × lot × target × cryo)."""
    rows = []
    lot_effect = {
        lot: float(np.exp(rng.normal(0.0, design.lot_sd_log)))
        for product in (design.test, design.reference)
        for lot in _lot_names(product, design.lots)
    }
    batch = {cryo: f"B{i + 1}" for i, cryo in enumerate(design.cryo_states)}
    for target in design.targets:
        for cryo in design.cryo_states:
            thawed = cryo == "post_thaw"
            for product in (design.test, design.reference):
                for lot in _lot_names(product, design.lots):
                    et50 = design.et50[(product, target)] * lot_effect[lot]
                    rows.append(
                        {
                            "product": product,
                            "lot": lot,
                            "target": target,
                            "stage": design.stage,
                            "cryo": cryo,
                            "batch": batch[cryo],
                            "bottom": design.bottom,
                            "top": design.top * (design.thaw_top_factor if thawed else 1.0),
                            "hill": design.hill,
                            "et50": et50 * (design.thaw_et50_factor if thawed else 1.0),
                        }
                    )
    return pl.DataFrame(rows)


def true_lysis(row: dict, x: np.ndarray) -> np.ndarray:
    """True % lysis of a truth-table row at E:T ``x``."""
    return row["bottom"] + (row["top"] - row["bottom"]) / (1.0 + (row["et50"] / x) ** row["hill"])


def _layout_toml(design: Design, target: str, cryo: str, lots: tuple[str, str]) -> str:
    lines = [
        "# Plate layout (wellmap TOML): see config/README.md for the fields.",
        "[expt]",
        f'target = "{target}"',
        f'stage = "{design.stage}"',
        f'cryo = "{cryo}"',
        "",
    ]
    for first_row, product, lot in (("A", design.test, lots[0]), ("D", design.reference, lots[1])):
        lines += [
            f"[block.8x3.{first_row}1]",
            'role = "sample"',
            f'product = "{product}"',
            f'lot = "{lot}"',
            "",
        ]
    for j, et in enumerate(design.et_ratios, start=1):
        lines += [f"[block.1x6.A{j}]", f"et_ratio = {et:g}", ""]
    lines += [
        "[block.2x6.A9]",
        'role = "target_only"',
        "",
        "[block.2x6.A11]",
        'role = "max_lysis"',
        "",
    ]
    lines += ["[block.6x1.G1]", 'role = "background"', ""]
    for col, product, lot in ((7, design.test, lots[0]), (10, design.reference, lots[1])):
        lines += [
            f"[block.3x1.G{col}]",
            'role = "effector_only"',
            f'product = "{product}"',
            f'lot = "{lot}"',
            f"et_ratio = {max(design.et_ratios):g}",
            "",
        ]
    return "\n".join(lines)


def _plate_signals(
    design: Design, readout: str, curves: list[dict], rng: np.random.Generator
) -> np.ndarray:
    """8 × 12 array of simulated readings for one plate."""
    t_level, m_level, b_level = READOUT_LEVELS[readout]

    def signal(lysis: np.ndarray) -> np.ndarray:
        frac = np.asarray(lysis) / 100.0
        if readout == "luciferase":
            return b_level + (t_level - b_level) * (1.0 - frac)
        return t_level + (m_level - t_level) * frac

    grid = np.full((8, 12), b_level)
    x = np.array(design.et_ratios)
    for block, truth in enumerate(curves):
        for r in range(design.replicates):
            grid[block * 3 + r, : len(x)] = signal(true_lysis(truth, x))
    grid[0:6, 8:10] = signal(np.zeros((6, 2)))
    grid[0:6, 10:12] = m_level if readout == "release" else b_level * 1.05
    grid[6, 0:6] = b_level
    grid[6, 6:12] = b_level * 1.1 if readout == "luciferase" else t_level * 0.15
    grid[7, :] = b_level
    noise = np.exp(rng.normal(0.0, design.well_cv, grid.shape))
    plate = float(np.exp(rng.normal(0.0, design.plate_cv)))
    return np.round(grid * noise * plate)


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
# Products to compare: ratio of et50 test/reference per group of the `by` columns.
comparisons:
  - name: {slug}_by_target_and_thaw
    test: {test}
    reference: {reference}
    by: [target, cryo]
  - name: {slug}_by_target
    test: {test}
    reference: {reference}
    by: [target]
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


def write_study(out: Path, design: Design | None = None) -> pl.DataFrame:
    """Write a simulated study into ``out`` and return its truth table.

    Files: ``config/config.yaml``, ``config/plates.tsv``,
    ``config/layouts/<plate>.toml``, ``config/data/<plate>.<suffix>``,
    ``config/exclusions.tsv``, ``config/truth.tsv``. The same design and seed give
    byte-identical files.
    """
    design = design or Design()
    rng = np.random.default_rng(design.seed)
    truth = truth_table(design, rng)
    out = Path(out)
    for sub in ("config/layouts", "config/data"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    sheet = []
    dates = {cryo: f"2026-03-{2 + 7 * i:02d}" for i, cryo in enumerate(design.cryo_states)}
    n = 0
    test_lots = _lot_names(design.test, design.lots)
    ref_lots = _lot_names(design.reference, design.lots)
    for target, readout in design.targets.items():
        for cryo in design.cryo_states:
            for lot_t, lot_r in zip(test_lots, ref_lots, strict=True):
                n += 1
                plate = f"P{n:02d}"
                curves = [
                    truth.filter(
                        (pl.col("lot") == lot)
                        & (pl.col("target") == target)
                        & (pl.col("cryo") == cryo)
                    ).row(0, named=True)
                    for lot in (lot_t, lot_r)
                ]
                values = _plate_signals(design, readout, curves, rng)
                overflow = {w for p, w in design.overflow_wells if p == plate}
                fmt = design.formats.get(readout, "grid_csv")
                meta = {
                    "plate_id": plate,
                    "run": str(n),
                    "test": f"{target} killing ({readout})",
                    "date_us": _us_date(dates[cryo]),
                    "time": f"{9 + n % 8}:{15 + n:02d}:00 AM",
                }
                file = f"config/data/{plate}{SUFFIX[fmt]}"
                (out / file).write_bytes(WRITERS[fmt](values, overflow, meta).encode("utf-8"))
                (out / f"config/layouts/{plate}.toml").write_text(
                    _layout_toml(design, target, cryo, (lot_t, lot_r))
                )
                sheet.append(
                    {
                        "plate_id": plate,
                        "file": file,
                        "format": fmt,
                        "layout": f"config/layouts/{plate}.toml",
                        "readout": readout,
                        "batch": curves[0]["batch"],
                        "assay_date": dates[cryo],
                        "operator": "simulated",
                    }
                )
    pl.DataFrame(sheet).write_csv(out / "config/plates.tsv", separator="\t")
    slug = "".join(ch for ch in design.test.split("-")[0].lower() if ch.isalnum())
    slug += "_vs_" + "".join(ch for ch in design.reference.split("-")[0].lower() if ch.isalnum())
    (out / "config/config.yaml").write_text(
        CONFIG_TEMPLATE.format(
            study=design.study, slug=slug, test=design.test, reference=design.reference
        )
    )
    pl.DataFrame(
        list(design.manual_exclusions),
        schema=["plate_id", "well", "reason", "who"],
        orient="row",
    ).write_csv(out / "config/exclusions.tsv", separator="\t")
    truth.write_csv(out / "config/truth.tsv", separator="\t", float_precision=6)
    return truth
