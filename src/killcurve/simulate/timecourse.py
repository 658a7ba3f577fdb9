"""The simulated time-resolved arm: impedance (xCELLigence-like) killing over time, with truth.

**Killing model.** % lysis of a well at ``t`` hours after effector addition and E:T ``e``
(effector cells per target cell)::

    L(t, e) = top · e^h / (e^h + et50(t)^h)        for t > 0,   L(t ≤ 0) = 0
    et50(t) = et50_inf · (1 + tau / t)

``top`` is the plateau (% lysis), ``h`` the Hill slope on E:T, ``et50(t)`` the E:T that
gives ``top/2`` at time t (the midpoint of the 4PL with bottom 0, what the curve engine
fits at a time T), falling from ∞ at addition to ``et50_inf`` (E:T) with half-time
``tau`` (h): et50(tau) = 2·et50_inf. Per curve (product × lot × cryo)::

    et50_inf = et50_inf_ref[product] · exp(u_lot) · (thaw_factor[product] if post_thaw)
    top      = (top_ref + U(−top_spread, top_spread)) · (thaw_top_factor if post_thaw)
    h        = hill · exp(N(0, hill_sd_log²)),   tau = tau_h · exp(N(0, tau_sd_log²))

with one lot effect u_lot ~ N(0, lot_sd_log²) per lot, shared by its fresh and post-thaw
curves (the bundled arm reuses the endpoint study's lot effects, so a lot is as potent
over time as at the endpoint). **t50**, the first time % lysis reaches 50 %, solves
L(t, e) = 50 exactly::

    k   = (top/50 − 1)^(1/h)
    t50 = tau / (e·k/et50_inf − 1)     when top > 50 and e·k > et50_inf, else never

and is *censored* (null) when it falls after the last sweep of the run.

**Impedance signal.** Target-alone cell index (dimensionless) grows logistically,
``CI_T(t) = K / (1 + (K/C0 − 1)·exp(−r·t))`` with C0 = ``ci_start`` at addition (t = 0),
plateau K = ``ci_plateau``, rate r = ``growth_per_h`` (1/h), for t < 0 too (the seeding
phase). A well reads::

    CI(w, t) = s_w · CI_T(t) · (1 − L(t, e_w)/100) · ε(w, t)

with a seeding factor s_w ~ log-normal(``seeding_cv``) constant over the run (cancelled by
normalising at addition) and sweep noise ε ~ log-normal(``noise_cv``) independent per well
and sweep (log-normal(c) = exp(N(0, c²))). ``target_only`` wells have L = 0. Normalising at
addition, ``nS(t) = CI(t)/CI(0)``, and ``100·(1 − nS/mean nT)`` returns L(t, e) exactly
without noise; with noise its expectation is L up to terms of order noise_cv² (ε(t)/ε(0)
has median 1 and mean exp(noise_cv²) ≈ 1.001), so the mean-of-wells curve whose first
50 % crossing the workflow reports as t50 has the truth's t50 as its noise-free value.

**Defaults and why.** et50_inf 1.5 (NEUK203-13) and 3.0 (NEUK200-13) E:T fresh, × 1.4 and
× 1.8 after thaw; top 92 % (× 0.95 after thaw), h 1.2, tau 36 h; E:T 40 … 1.25 (2-fold), so
et50(24 h) = 2.5·et50_inf and et50(72 h) = 1.5·et50_inf lie inside the E:T range. tau is
long enough that the highest E:T do not cross 50 % inside the pause after addition (with
tau = 12 h, 40:1 crossed at ~0.5 h, before the first sweep after addition at 1.2 h, where no
interpolation can recover it), and the sweep noise (CV 1.5 %, an RTCA sweep-to-sweep
level; the well-to-well spread is the seeding factor) keeps the first crossing of the
3-well mean curve within 10 % of the truth in ≥ 95 % of the crossing curve × E:T groups of
40-curve studies (5 seeds measured; with CV 3 % it was 81–87 %: late crossings, where the
curve approaches 50 % slowly, are crossed early by noise).

**Sweeps** (hours since the first sweep, the ``time_h`` of the export): every
``sweep_h`` from 0 (seeding) to ``pre_h`` (the last sweep before addition; effectors are
added right after it, so t = time_h − pre_h), then a pause of ``pause_h`` (the plate is out
of the reader), then every ``sweep_h`` until the first sweep at or after ``run_h`` hours
after addition. The workflow finds addition with the samplesheet's ``addition`` = ``pause``.

**Plates** (one target × stage × cryo and one product per plate, ``curves_per_plate`` lots)::

    rows A–F        E:T from the highest (row A) to the lowest
    cols 1–3, 4–6   one curve (lot) each, triplicate wells across
    col 7, A–F      target_only (6 wells)

**Files**: ``config/data/<plate>.csv`` in format ``cell_index_csv`` (long table
``well,time_h,cell_index``, time to 4 decimals, cell index to ``decimals``),
``config/layouts/<plate>.toml``, samplesheet rows with ``readout`` impedance, ``time``
``all``, ``addition`` ``pause``, and ``config/truth_timecourse.tsv`` (see
:func:`timecourse_truth`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from killcurve.plate import row_letter
from killcurve.simulate.design import Design

#: Curve key columns, in the order of the workflow's curve_id.
CURVE_KEYS = ("product", "lot", "target", "stage", "cryo", "batch")
#: Columns of config/truth_timecourse.tsv (see :func:`timecourse_truth`).
TRUTH_COLUMNS = (
    "metric",
    "test",
    "reference",
    *CURVE_KEYS,
    "et_ratio",
    "t_h",
    "value",
    "typical_value",
    "et50_inf",
    "top",
    "hill",
    "tau_h",
    "t_last_h",
    "note",
)
#: Columns of the sample wells' curves on a plate (0-based) and the target_only column.
CURVE_COLUMNS = ((0, 1, 2), (3, 4, 5))
TARGET_ONLY_COLUMN = 6


@dataclass(frozen=True)
class TimecourseDesign:
    """What the time-resolved arm simulates (model and units in the module docstring)."""

    test: str = "NEUK203-13"
    reference: str = "NEUK200-13"
    target: str = "SHP-77"
    stage: str = "bulk"
    cryos: tuple[str, ...] = ("fresh", "post_thaw")
    #: product -> lot names (the bundled arm takes the endpoint study's first two lots)
    lots: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            "NEUK203-13": ("203-L01", "203-L02"),
            "NEUK200-13": ("200-L01", "200-L02"),
        }
    )
    #: lot -> ln et50 lot effect; lots missing here draw u ~ N(0, lot_sd_log²)
    lot_effects: dict[str, float] = field(default_factory=dict)
    lot_sd_log: float = 0.15
    #: product -> et50_inf of the typical fresh lot (E:T)
    et50_inf: dict[str, float] = field(
        default_factory=lambda: {"NEUK203-13": 1.5, "NEUK200-13": 3.0}
    )
    #: product -> et50_inf multiplier after cryopreservation and thaw
    thaw_factor: dict[str, float] = field(
        default_factory=lambda: {"NEUK203-13": 1.4, "NEUK200-13": 1.8}
    )
    top: float = 92.0
    top_spread: float = 0.0
    thaw_top_factor: float = 0.95
    hill: float = 1.2
    hill_sd_log: float = 0.0
    tau_h: float = 36.0
    tau_sd_log: float = 0.0
    #: E:T of plate rows A–F
    et_ratios: tuple[float, ...] = (40.0, 20.0, 10.0, 5.0, 2.5, 1.25)
    curves_per_plate: int = 2
    #: cell index of target-alone wells at addition, its plateau and growth rate (1/h)
    ci_start: float = 1.0
    ci_plateau: float = 2.5
    growth_per_h: float = 0.04
    #: sweep interval, seeding phase before addition, pause after it, run after it (h)
    sweep_h: float = 0.5
    pre_h: float = 24.0
    pause_h: float = 1.2
    run_h: float = 72.0
    noise_cv: float = 0.015
    seeding_cv: float = 0.05
    #: decimals of the written cell index
    decimals: int = 4
    #: hours after addition of the truth's % lysis and et50 (the config's timecourse.times_h)
    times_h: tuple[float, ...] = (24.0, 48.0, 72.0)
    #: cryo -> (batch, assay date) of its plates
    batches: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {
            "fresh": ("B1", "2026-03-02"),
            "post_thaw": ("B2", "2026-03-09"),
        }
    )
    plate_prefix: str = "TC"
    seed: int = 20261124

    @property
    def products(self) -> tuple[str, str]:
        """(test, reference)."""
        return (self.test, self.reference)

    def typical_et50_inf(self, product: str, cryo: str) -> float:
        """et50_inf of the product's typical lot (lot effect 0), E:T."""
        thaw = self.thaw_factor[product] if cryo == "post_thaw" else 1.0
        return self.et50_inf[product] * thaw

    def typical_top(self, cryo: str) -> float:
        """Plateau % lysis of a typical curve."""
        return self.top * (self.thaw_top_factor if cryo == "post_thaw" else 1.0)


# --- The model ---------------------------------------------------------------------------


def et50_at(t_h: np.ndarray | float, et50_inf: float, tau_h: float) -> np.ndarray:
    """et50(t) = et50_inf · (1 + tau/t), E:T; ∞ at t ≤ 0."""
    t = np.asarray(t_h, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(t > 0, et50_inf * (1.0 + tau_h / np.where(t > 0, t, 1.0)), np.inf)


def lysis(
    t_h: np.ndarray | float,
    et_ratio: np.ndarray | float,
    et50_inf: float,
    top: float,
    hill: float,
    tau_h: float,
) -> np.ndarray:
    """True % lysis L(t, e) = top · e^h / (e^h + et50(t)^h); 0 at t ≤ 0."""
    t = np.asarray(t_h, dtype=float)
    e = np.asarray(et_ratio, dtype=float)
    pos = np.where(t > 0, t, 1.0)
    u = (et50_inf * (1.0 + tau_h / pos) / e) ** hill
    return np.where(t > 0, top / (1.0 + u), 0.0)


def t50(et_ratio: float, et50_inf: float, top: float, hill: float, tau_h: float) -> float | None:
    """First time (h after addition) L(t, e) = 50, or None when it never gets there."""
    if top <= 50.0:
        return None
    reach = et_ratio * (top / 50.0 - 1.0) ** (1.0 / hill) / et50_inf
    return tau_h / (reach - 1.0) if reach > 1.0 else None


def target_ci(design: TimecourseDesign, t_h: np.ndarray) -> np.ndarray:
    """Target-alone cell index CI_T(t), logistic through ci_start at t = 0."""
    k, c0 = design.ci_plateau, design.ci_start
    return k / (1.0 + (k / c0 - 1.0) * np.exp(-design.growth_per_h * np.asarray(t_h)))


def sweep_times(design: TimecourseDesign) -> np.ndarray:
    """Hours since the first sweep of every sweep (addition right after ``pre_h``)."""
    n_pre = round(design.pre_h / design.sweep_h)
    n_post = math.ceil((design.run_h - design.pause_h) / design.sweep_h - 1e-9) + 1
    before = design.sweep_h * np.arange(n_pre + 1)
    after = design.pre_h + design.pause_h + design.sweep_h * np.arange(n_post)
    return np.round(np.concatenate([before, after]), 6)


def t_last_h(design: TimecourseDesign) -> float:
    """Hours after addition of the run's last sweep."""
    return float(sweep_times(design)[-1] - design.pre_h)


# --- Curves and plates -------------------------------------------------------------------


def _lot_effects(design: TimecourseDesign, rng: np.random.Generator) -> dict[str, float]:
    """The design's lot effects, the missing ones drawn (in product and lot order)."""
    effects = {}
    for product in design.products:
        for lot in design.lots[product]:
            drawn = float(rng.normal(0.0, design.lot_sd_log))
            effects[lot] = design.lot_effects.get(lot, drawn)
    return effects


def curve_table(design: TimecourseDesign) -> pl.DataFrame:
    """True parameters of every curve, one row each, in plate order (``plate_id`` first).

    Per product × cryo the lots are dealt ``curves_per_plate`` to a plate; plates are
    numbered cryo by cryo, test product first: ``TC01`` … .
    """
    rng = np.random.default_rng([design.seed, 29])
    effects = _lot_effects(design, rng)
    rows = []
    number = 0
    for cryo in design.cryos:
        batch, date = design.batches[cryo]
        for product in design.products:
            lots = design.lots[product]
            for k in range(0, len(lots), design.curves_per_plate):
                number += 1
                for lot in lots[k : k + design.curves_per_plate]:
                    top = design.top + float(rng.uniform(-design.top_spread, design.top_spread))
                    thaw_top = design.thaw_top_factor if cryo == "post_thaw" else 1.0
                    et50_inf = design.typical_et50_inf(product, cryo) * math.exp(effects[lot])
                    rows.append(
                        {
                            "plate_id": f"{design.plate_prefix}{number:02d}",
                            "product": product,
                            "lot": lot,
                            "target": design.target,
                            "stage": design.stage,
                            "cryo": cryo,
                            "batch": batch,
                            "assay_date": date,
                            "et50_inf": et50_inf,
                            "top": top * thaw_top,
                            "hill": design.hill * math.exp(rng.normal(0.0, design.hill_sd_log)),
                            "tau_h": design.tau_h * math.exp(rng.normal(0.0, design.tau_sd_log)),
                            "lot_log_effect": effects[lot],
                        }
                    )
    return pl.DataFrame(rows)


def _wells(design: TimecourseDesign, n_curves: int) -> list[tuple[str, int | None, int]]:
    """(well, curve index or None for target_only, E:T index) of a plate's used wells."""
    wells = []
    for i in range(len(design.et_ratios)):
        for c, cols in enumerate(CURVE_COLUMNS[:n_curves]):
            wells += [(f"{row_letter(i)}{col + 1}", c, i) for col in cols]
        wells.append((f"{row_letter(i)}{TARGET_ONLY_COLUMN + 1}", None, i))
    return wells


def plate_cell_index(
    design: TimecourseDesign, curves: list[dict], rng: np.random.Generator | None
) -> pl.DataFrame:
    """Cell index of every used well of a plate at every sweep: ``well, time_h, cell_index``.

    ``curves``: the plate's rows of :func:`curve_table`. ``rng`` None: no seeding factor
    and no sweep noise (every value the model's exact CI_T(t)·(1 − L/100)). Rows are in
    sweep order, wells in plate order within a sweep, as the instrument reads them.
    """
    times = sweep_times(design)
    t = times - design.pre_h
    wells = _wells(design, len(curves))
    grid = np.empty((len(wells), len(times)))
    ci_t = target_ci(design, t)
    for w, (_, c, i) in enumerate(wells):
        if c is None:
            grid[w] = ci_t
        else:
            p = curves[c]
            kill = lysis(t, design.et_ratios[i], p["et50_inf"], p["top"], p["hill"], p["tau_h"])
            grid[w] = ci_t * (1.0 - kill / 100.0)
    if rng is not None:
        grid *= np.exp(rng.normal(0.0, design.seeding_cv, (len(wells), 1)))
        grid *= np.exp(rng.normal(0.0, design.noise_cv, grid.shape))
    return pl.DataFrame(
        {
            "well": [w for _, _ in enumerate(times) for w, _, _ in wells],
            "time_h": np.repeat(times, len(wells)),
            "cell_index": grid.T.ravel(),
        }
    )


def cell_index_csv(frame: pl.DataFrame, decimals: int = 4) -> str:
    """``cell_index_csv`` text of a :func:`plate_cell_index` frame: time to 4 decimals."""
    lines = ["well,time_h,cell_index"]
    lines += [
        f"{w},{t:.4f},{ci:.{decimals}f}"
        for w, t, ci in zip(frame["well"], frame["time_h"], frame["cell_index"], strict=True)
    ]
    return "\n".join(lines) + "\n"


def layout_toml(design: TimecourseDesign, curves: list[dict]) -> str:
    """wellmap TOML of a plate holding ``curves`` (rows of :func:`curve_table`)."""
    first = curves[0]
    n_rows = len(design.et_ratios)
    lines = [
        "# Plate layout (wellmap TOML): see config/README.md for the fields.",
        "# Time-resolved impedance: E:T down the rows (A highest), triplicates across;",
        f"# target_only in column {TARGET_ONLY_COLUMN + 1}.",
        "[expt]",
        f'target = "{first["target"]}"',
        f'stage = "{first["stage"]}"',
        f'cryo = "{first["cryo"]}"',
        "",
    ]
    width = 3 * len(curves)
    for i, et in enumerate(design.et_ratios):
        lines += [f"[block.{width}x1.{row_letter(i)}1]", f"et_ratio = {et:g}", ""]
    for cols, curve in zip(CURVE_COLUMNS, curves, strict=False):
        lines += [
            f"[block.3x{n_rows}.A{cols[0] + 1}]",
            'role = "sample"',
            f'product = "{curve["product"]}"',
            f'lot = "{curve["lot"]}"',
            "",
        ]
    lines += [f"[block.1x{n_rows}.A{TARGET_ONLY_COLUMN + 1}]", 'role = "target_only"', ""]
    return "\n".join(lines)


# --- Truth -------------------------------------------------------------------------------


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def timecourse_truth(design: TimecourseDesign, curves: pl.DataFrame | None = None) -> pl.DataFrame:
    """The arm's truth as one long table (columns :data:`TRUTH_COLUMNS`), by ``metric``:

    * ``t50_h``: per curve × E:T, the exact solution of L(t, e) = 50 (h after addition);
      null when it is later than ``t_last_h`` (the last sweep) or never, with ``note``
      ``censored``;
    * ``pct_lysis``: per curve × E:T × ``t_h`` in ``times_h``, L(t_h, e) in %;
    * ``et50``: per curve × ``t_h``, et50(t_h) = et50_inf·(1 + tau/t_h), E:T;
    * ``et50_ratio``: per cryo × ``t_h``, geometric mean over lots of the test product's
      et50(t_h) / that of the reference; ``typical_value`` the ratio of typical lots;
    * ``t50_ratio``: per cryo × E:T, the same with t50; null (``note`` names the censored
      lots) when any lot of either product is censored there.

    Curve rows carry the curve's ``et50_inf``, ``top``, ``hill``, ``tau_h``; ratio rows fill
    ``test``, ``reference``, ``target``, ``stage``, ``cryo`` and leave the curve keys empty.
    """
    curves = curve_table(design) if curves is None else curves
    last = t_last_h(design)
    rows: list[dict] = []
    t50s: dict[tuple[str, str, float], list[tuple[str, float | None]]] = {}
    et50s: dict[tuple[str, str, float], list[float]] = {}
    for c in curves.iter_rows(named=True):
        keys = {k: c[k] for k in CURVE_KEYS}
        params = {k: c[k] for k in ("et50_inf", "top", "hill", "tau_h")}
        base = {**keys, **params, "t_last_h": last}
        for e in design.et_ratios:
            t = t50(e, **params)
            value = t if t is not None and t <= last else None
            t50s.setdefault((c["cryo"], c["product"], e), []).append((c["lot"], value))
            rows.append(
                {
                    **base,
                    "metric": "t50_h",
                    "et_ratio": e,
                    "value": value,
                    "note": "censored" if value is None else None,
                }
            )
            for th in design.times_h:
                rows.append(
                    {
                        **base,
                        "metric": "pct_lysis",
                        "et_ratio": e,
                        "t_h": th,
                        "value": float(lysis(th, e, **params)),
                    }
                )
        for th in design.times_h:
            et50 = float(et50_at(th, c["et50_inf"], c["tau_h"]))
            et50s.setdefault((c["cryo"], c["product"], th), []).append(et50)
            rows.append({**base, "metric": "et50", "t_h": th, "value": et50})
    test, ref = design.products
    for cryo in design.cryos:
        where = {
            "test": test,
            "reference": ref,
            "target": design.target,
            "stage": design.stage,
            "cryo": cryo,
        }
        typical = {
            p: {
                "et50_inf": design.typical_et50_inf(p, cryo),
                "top": design.typical_top(cryo),
                "hill": design.hill,
                "tau_h": design.tau_h,
            }
            for p in design.products
        }
        for th in design.times_h:
            ratio = _geomean(et50s[(cryo, test, th)]) / _geomean(et50s[(cryo, ref, th)])
            typ = [float(et50_at(th, typical[p]["et50_inf"], design.tau_h)) for p in (test, ref)]
            rows.append(
                {
                    **where,
                    "metric": "et50_ratio",
                    "t_h": th,
                    "value": ratio,
                    "typical_value": typ[0] / typ[1],
                }
            )
        for e in design.et_ratios:
            lots = t50s[(cryo, test, e)] + t50s[(cryo, ref, e)]
            censored = [lot for lot, v in lots if v is None]
            ratio = None
            if not censored:
                means = [_geomean([v for _, v in t50s[(cryo, p, e)]]) for p in (test, ref)]
                ratio = means[0] / means[1]
            typ = [t50(e, **typical[p]) for p in (test, ref)]
            ok = all(v is not None and v <= last for v in typ)
            rows.append(
                {
                    **where,
                    "metric": "t50_ratio",
                    "et_ratio": e,
                    "value": ratio,
                    "typical_value": typ[0] / typ[1] if ok else None,
                    "note": f"censored: {', '.join(censored)}" if censored else None,
                }
            )
    text = ("metric", "test", "reference", *CURVE_KEYS, "note")
    schema = {c: pl.String if c in text else pl.Float64 for c in TRUTH_COLUMNS}
    return pl.DataFrame(rows, schema=schema)


# --- Writing -----------------------------------------------------------------------------


def write_arm(out: Path, design: TimecourseDesign) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Write the arm's exports, layouts and ``config/truth_timecourse.tsv`` into ``out``.

    Returns (samplesheet rows, truth): the rows have the columns ``plate_id, file,
    format, layout, readout, batch, assay_date, operator, time, addition`` (``time`` =
    ``all``, ``addition`` = ``pause``) for the caller to add to ``config/plates.tsv``.
    """
    out = Path(out)
    for sub in ("config/layouts", "config/data"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    curves = curve_table(design)
    rng = np.random.default_rng([design.seed, 30])
    sheet = []
    for (pid,), plate in curves.group_by(["plate_id"], maintain_order=True):
        rows = list(plate.iter_rows(named=True))
        frame = plate_cell_index(design, rows, rng)
        file = f"config/data/{pid}.csv"
        (out / file).write_text(cell_index_csv(frame, design.decimals))
        (out / f"config/layouts/{pid}.toml").write_text(layout_toml(design, rows))
        sheet.append(
            {
                "plate_id": pid,
                "file": file,
                "format": "cell_index_csv",
                "layout": f"config/layouts/{pid}.toml",
                "readout": "impedance",
                "batch": rows[0]["batch"],
                "assay_date": rows[0]["assay_date"],
                "operator": "simulated",
                "time": "all",
                "addition": "pause",
            }
        )
    truth = timecourse_truth(design, curves)
    truth.write_csv(out / "config/truth_timecourse.tsv", separator="\t", float_precision=6)
    return pl.DataFrame(sheet), truth


#: The ``timecourse`` section :func:`~killcurve.simulate.study.write_study` appends to the
#: example's config.yaml when the arm is on.
TIMECOURSE_CONFIG = """\
# Time-resolved plates (samplesheet time = all): hours after effector addition at which
# % lysis is reported and E:T curves are fitted and compared; t50 = first crossing of 50 %.
timecourse:
  times_h: [24, 48, 72]
  level_pct: 50
"""


def timecourse_design(design: Design, truth: pl.DataFrame) -> TimecourseDesign:
    """The bundled example's arm: the endpoint study's products, its first two lots of each
    with their lot effects (``truth``: the endpoint truth table), thaw factors and seed;
    fresh plates on assay day ``B1``, post-thaw plates on ``B2`` (a week later)."""
    effects = dict(truth.select("lot", "lot_log_effect").unique().iter_rows())
    lots = {p: tuple(design.lot_names(p)[:2]) for p in design.products}
    first = datetime.fromisoformat(design.first_day)
    day2 = (first + timedelta(days=7 if design.days > 1 else 0)).date().isoformat()
    return TimecourseDesign(
        test=design.test,
        reference=design.reference,
        lots=lots,
        lot_effects={lot: effects[lot] for names in lots.values() for lot in names},
        lot_sd_log=design.lot_sd_log,
        thaw_factor=dict(design.thaw_factor),
        thaw_top_factor=design.thaw_top_factor,
        batches={
            "fresh": ("B1", first.date().isoformat()),
            "post_thaw": ("B2" if design.days > 1 else "B1", day2),
        },
        seed=design.seed,
    )


#: config.yaml of :func:`write_timecourse_study`.
STUDY_CONFIG = """\
# killcurve study configuration (schema: workflow/schemas/config.schema.yaml;
# every key is described in config/README.md). Simulated time-resolved impedance study.
study: "{study}"
plates: config/plates.tsv
comparisons:
  - name: {slug}
    test: {test}
    reference: {reference}
    by: [target, stage, cryo]
fit:
  model: 4pl
"""


def scaled_timecourse_design(n_curves: int, seed: int = TimecourseDesign.seed) -> TimecourseDesign:
    """A design of at least ``n_curves`` curves (2 products × 2 cryo states × lots), with
    curve-to-curve spread in top (± 4 %), Hill slope (SD 0.1 on ln) and tau (SD 0.2 on ln)."""
    base = TimecourseDesign()
    per_product = max(1, -(-n_curves // (len(base.products) * len(base.cryos))))
    lots = {}
    for product in base.products:
        code = "".join(ch for ch in product.split("-")[0] if ch.isdigit())
        lots[product] = tuple(f"{code}-L{i + 1:02d}" for i in range(per_product))
    return TimecourseDesign(lots=lots, top_spread=4.0, hill_sd_log=0.1, tau_sd_log=0.2, seed=seed)


def write_timecourse_study(
    out: Path, n_curves: int = 40, seed: int = TimecourseDesign.seed
) -> pl.DataFrame:
    """Write a time-resolved study of at least ``n_curves`` curves into ``out``; return its
    truth (:func:`timecourse_truth`).

    Files: ``config/config.yaml`` (comparison NEUK203-13 vs NEUK200-13 by target × stage ×
    cryo, ``timecourse`` times 24, 48, 72 h), ``config/plates.tsv`` (time-resolved rows
    only), ``config/layouts/TC*.toml``, ``config/data/TC*.csv``,
    ``config/truth_timecourse.tsv``. Parameters are drawn from ``seed``
    (:func:`scaled_timecourse_design`); the same arguments give byte-identical files.
    """
    design = scaled_timecourse_design(n_curves, seed)
    out = Path(out)
    sheet, truth = write_arm(out, design)
    sheet.write_csv(out / "config/plates.tsv", separator="\t")
    n = len(design.cryos) * sum(len(lots) for lots in design.lots.values())
    (out / "config/config.yaml").write_text(
        STUDY_CONFIG.format(
            study=f"Simulated time-resolved killing, {n} curves",
            slug="neuk203_vs_neuk200",
            test=design.test,
            reference=design.reference,
        )
        + TIMECOURSE_CONFIG
    )
    return truth
