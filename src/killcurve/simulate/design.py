"""What the simulator simulates: the design (conditions, lots, E:T ratios, true curves), the
plate plan and the truth tables the tests recover (used by :mod:`killcurve.simulate.study`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

#: Plate-reader scale of each readout: (target_only, max_lysis, background) means.
READOUT_LEVELS = {"luciferase": (2.0e5, 1.0e3, 9.0e2), "release": (4.0e3, 4.0e4, 6.0e2)}
#: Sample columns of each curve on a plate (0-based), and the control columns.
CURVE_COLUMNS = ((0, 1, 2), (3, 4, 5), (6, 7, 8))
CONTROL_COLUMNS = {"target_only": 9, "max_lysis": 10, "background": 11}
#: Manufacturing process stages, in process order (the last is the fresh bulk).
STAGES = ("nk_diff_d28", "expansion_d7", "expansion_d14", "bulk")
#: DLL3-positive targets.
DLL3_TARGETS = ("SHP-77", "H82", "NALM6-DLL3")


@dataclass(frozen=True)
class Condition:
    """One assay condition: a target tested with cells of one stage and cryo state."""

    target: str
    stage: str
    cryo: str


def _conditions() -> tuple[Condition, ...]:
    """K562: fresh cells of every stage and thawed bulk; DLL3 targets: fresh and thawed bulk."""
    k562 = [Condition("K562", s, "fresh") for s in STAGES]
    k562.append(Condition("K562", "bulk", "post_thaw"))
    dll3 = [Condition(t, "bulk", c) for t in DLL3_TARGETS for c in ("fresh", "post_thaw")]
    return (*k562, *dll3)


@dataclass(frozen=True)
class Design:
    """What to simulate. E:T ratios are effector cells per target cell; et50 in E:T."""

    study: str = "NEUK203-13 vs NEUK200-13 — simulated preclinical potency package"
    test: str = "NEUK203-13"
    reference: str = "NEUK200-13"
    lots: int = 3
    days: int = 2
    first_day: str = "2026-03-02"
    #: process order of the stages, written to the config's ``stages``
    stages: tuple[str, ...] = STAGES
    conditions: tuple[Condition, ...] = field(default_factory=_conditions)
    #: target -> readout
    readouts: dict[str, str] = field(
        default_factory=lambda: {"K562": "release", **dict.fromkeys(DLL3_TARGETS, "luciferase")}
    )
    #: E:T of plate rows A–H (triplicate wells of each curve across three columns)
    et_ratios: tuple[float, ...] = tuple(40.0 * 2.0**-k for k in range(8))
    #: (product, target) -> typical et50 of fresh bulk cells
    et50: dict[tuple[str, str], float] = field(
        default_factory=lambda: {
            ("NEUK203-13", "K562"): 2.5,
            ("NEUK200-13", "K562"): 3.0,
            ("NEUK203-13", "SHP-77"): 1.0,
            ("NEUK200-13", "SHP-77"): 4.0,
            ("NEUK203-13", "H82"): 1.5,
            ("NEUK200-13", "H82"): 6.0,
            ("NEUK203-13", "NALM6-DLL3"): 0.8,
            ("NEUK200-13", "NALM6-DLL3"): 3.6,
        }
    )
    #: stage -> et50 multiplier (potency rises along the process)
    stage_factor: dict[str, float] = field(
        default_factory=lambda: {
            "nk_diff_d28": 2.2,
            "expansion_d7": 1.5,
            "expansion_d14": 1.15,
            "bulk": 1.0,
        }
    )
    #: target -> (bottom, top, hill) of fresh cells
    shape: dict[str, tuple[float, float, float]] = field(
        default_factory=lambda: {
            "K562": (2.0, 85.0, 1.2),
            **dict.fromkeys(DLL3_TARGETS, (1.0, 92.0, 1.4)),
        }
    )
    #: product -> et50 multiplier after cryopreservation and thaw; top multiplier after thaw
    thaw_factor: dict[str, float] = field(
        default_factory=lambda: {"NEUK203-13": 1.4, "NEUK200-13": 1.8}
    )
    thaw_top_factor: float = 0.95
    lot_sd_log: float = 0.15
    day_sd_log: float = 0.10
    curve_sd_log: float = 0.05
    well_cv: float = 0.03
    pipetting_cv: float = 0.03
    edge_effect: float = 0.01
    read_drift: float = 0.01
    plate_cv: float = 0.05
    plate_drift: float = 0.01
    seed: int = 20261124
    #: readout -> export format written for its plates (see :mod:`killcurve.simulate.exports`)
    formats: dict[str, str] = field(
        default_factory=lambda: {"release": "bmg_mars", "luciferase": "agilent_gen5"}
    )
    #: readings multiplied by a factor and left in (plate number, well, factor)
    outlier_wells: tuple[tuple[int, str, float], ...] = ((4, "C2", 0.55), (15, "E5", 1.4))
    #: wells written as the reader's overflow marker instead of a number: (plate number, well)
    overflow_wells: tuple[tuple[int, str], ...] = ((13, "H4"),)
    #: manual exclusions written to config/exclusions.tsv: (plate number, well, reason, who)
    manual_exclusions: tuple[tuple[int, str, str, str], ...] = (
        (15, "E5", "bubble seen in the well before reading (simulated)", "simulator"),
    )
    #: viability counts: hours after thaw, counts per lot and time point
    timepoints_h: tuple[int, ...] = (0, 24)
    count_replicates: int = 3
    #: (product, hours) -> typical viability (%) and recovery (% of viable cells frozen)
    viability_pct: dict[tuple[str, int], float] = field(
        default_factory=lambda: {
            ("NEUK203-13", 0): 91.0,
            ("NEUK203-13", 24): 86.0,
            ("NEUK200-13", 0): 87.0,
            ("NEUK200-13", 24): 76.0,
        }
    )
    recovery_pct: dict[tuple[str, int], float] = field(
        default_factory=lambda: {
            ("NEUK203-13", 0): 86.0,
            ("NEUK203-13", 24): 78.0,
            ("NEUK200-13", 0): 80.0,
            ("NEUK200-13", 24): 60.0,
        }
    )
    viability_lot_sd_logit: float = 0.3
    recovery_lot_sd_logit: float = 0.3
    count_cv: float = 0.04
    prefreeze_viable_cells: float = 5.0e7
    thaw_volume_ml: float = 10.0
    #: product -> cell-counter export format of its counts
    counter_formats: dict[str, str] = field(
        default_factory=lambda: {"NEUK203-13": "vi_cell_blu", "NEUK200-13": "chemometec_nc_view"}
    )
    thaw_time: str = "2026-03-16 09:00"
    min_viability_pct: float = 70.0
    min_recovery_pct: float = 50.0
    #: also write the time-resolved impedance arm (:mod:`killcurve.simulate.timecourse`)
    timecourse: bool = True

    @property
    def products(self) -> tuple[str, str]:
        """(test, reference)."""
        return (self.test, self.reference)

    def lot_names(self, product: str) -> list[str]:
        """``203-L01``, ``203-L02``, …: the product code's digits and the lot number."""
        code = "".join(ch for ch in product.split("-")[0] if ch.isdigit()) or product
        return [f"{code}-L{i + 1:02d}" for i in range(self.lots)]

    def typical_et50(self, product: str, c: Condition) -> float:
        """et50 of the typical lot on a typical day (all random effects 0), E:T."""
        thaw = self.thaw_factor[product] if c.cryo == "post_thaw" else 1.0
        return self.et50[(product, c.target)] * self.stage_factor[c.stage] * thaw


def plate_plan(design: Design) -> list[dict]:
    """The plates: number, condition, batch (assay day) and the (product, lot) of each curve.

    Per condition the curves test lot 1, reference lot 1, test lot 2, … are
    dealt three to a plate; the plates of a condition go to the assay days in
    turn, starting one day later for each next condition, so every lot meets
    every day.
    """
    plates = []
    for ci, cond in enumerate(design.conditions):
        curves = [
            (product, design.lot_names(product)[i])
            for i in range(design.lots)
            for product in design.products
        ]
        for k in range(0, len(curves), len(CURVE_COLUMNS)):
            day = (ci + k // len(CURVE_COLUMNS)) % design.days
            plates.append(
                {
                    "number": len(plates) + 1,
                    "condition": cond,
                    "batch": f"B{day + 1}",
                    "day": day,
                    "curves": curves[k : k + len(CURVE_COLUMNS)],
                }
            )
    return plates


def scaled_design(n_plates: int, seed: int = Design.seed) -> Design:
    """The example's design with as many lots as make at least ``n_plates`` plates.

    Each condition takes ⌈2·lots/3⌉ plates; the assay days grow with the study
    (about 12 plates a day, at least 2 days), so plate drift stays as in the example. Without
    the time-resolved arm: these studies benchmark the endpoint path.
    """
    base = Design(seed=seed, timecourse=False)

    def plates(lots: int) -> int:
        return len(base.conditions) * -(-2 * lots // len(CURVE_COLUMNS))

    lots = 1
    while plates(lots) < n_plates:
        lots += 1
    n = plates(lots)
    return replace(base, lots=lots, days=max(2, -(-n // 12)))


def plate_id(design: Design, number: int, n_plates: int) -> str:
    """``P01`` … (at least two digits, as many as the largest number needs)."""
    return f"P{number:0{max(2, len(str(n_plates)))}d}"


def truth_table(design: Design, plan: list[dict], rng: np.random.Generator) -> pl.DataFrame:
    """True parameters of every curve, in plate order (formulas in the module docstring)."""
    lot_effect = {
        lot: float(rng.normal(0.0, design.lot_sd_log))
        for product in design.products
        for lot in design.lot_names(product)
    }
    day_effect = [float(rng.normal(0.0, design.day_sd_log)) for _ in range(design.days)]
    rows = []
    for plate in plan:
        cond: Condition = plate["condition"]
        bottom, top, hill = design.shape[cond.target]
        for product, lot in plate["curves"]:
            typical = design.typical_et50(product, cond)
            u, v = lot_effect[lot], day_effect[plate["day"]]
            e = float(rng.normal(0.0, design.curve_sd_log))
            rows.append(
                {
                    "product": product,
                    "lot": lot,
                    "target": cond.target,
                    "stage": cond.stage,
                    "cryo": cond.cryo,
                    "batch": plate["batch"],
                    "plate_id": plate_id(design, plate["number"], len(plan)),
                    "bottom": bottom,
                    "top": top * (design.thaw_top_factor if cond.cryo == "post_thaw" else 1.0),
                    "hill": hill,
                    "et50": typical * math.exp(u + v + e),
                    "typical_et50": typical,
                    "lot_log_effect": u,
                    "day_log_effect": v,
                    "curve_log_effect": e,
                }
            )
    return pl.DataFrame(rows)


def comparison_truth(design: Design) -> pl.DataFrame:
    """True et50 ratio test/reference per target × stage × cryo: typical_et50 ratio."""
    rows = []
    for c in design.conditions:
        t, r = design.typical_et50(design.test, c), design.typical_et50(design.reference, c)
        rows.append(
            {
                "test": design.test,
                "reference": design.reference,
                "target": c.target,
                "stage": c.stage,
                "cryo": c.cryo,
                "metric": "et50_ratio",
                "typical_et50_test": t,
                "typical_et50_reference": r,
                "ratio": t / r,
            }
        )
    return pl.DataFrame(rows)


def true_lysis(row: dict, x: np.ndarray) -> np.ndarray:
    """True % lysis of a truth-table row at E:T ``x``."""
    return row["bottom"] + (row["top"] - row["bottom"]) / (1.0 + (row["et50"] / x) ** row["hill"])
