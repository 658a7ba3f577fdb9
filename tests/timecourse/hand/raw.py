"""Independent hand computation of time-resolved % lysis from the raw exports.

Reads the four real exports with fastexcel / csv only (never killcurve code) and applies the
formulas of the issue-29 design (timecourse.md) in plain Python:

* ``time_h``: hours since the plate's first reading; ``addition_h``: the effector-addition time
  (``pause``: the last reading before the longest gap between consecutive readings);
  ``t_h = time_h − addition_h``.
* Target-cell readouts (impedance, imaging count): ``norm = S(t) / S(t_add)`` per well, then
  ``% lysis = 100 × (1 − norm / mean norm of target_only at t)``.
* Release (PI uptake): ``% lysis = 100 × (S − T)/(M − T)`` with T, M the means of the
  target_only and max_lysis wells at the same reading.
* A group's mean curve: mean over its wells of % lysis at each t ≥ 0; t50 the first crossing of
  50 % (linear between points, 0 when y(0) ≥ 50); AUC the trapezoid from t = 0 to the last point.

Run ``python tests/timecourse/hand/raw.py`` to print every number the tests hold as literals.
"""

from __future__ import annotations

import csv
import itertools
import re
from pathlib import Path

import fastexcel

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "reference"
CARRGODEX = SHARED / "real_assays" / "xcelligence_carrgodex"
MORE = SHARED / "timecourse_more"
ROWS = "ABCDEFGH"


def rtca_cell_index(path: Path) -> tuple[list[float], dict[str, list[float]]]:
    """Sweep times (h since the first sweep) and each well's cell index, from ``Cell Index``."""
    sheet = fastexcel.read_excel(path).load_sheet("Cell Index", header_row=None, dtypes="string")
    rows = sheet.to_polars().rows()
    times: list[float] = []
    wells: dict[str, list[float]] = {}
    for i, row in enumerate(rows):
        head = row[0] or ""
        if head.startswith("Cell Index at:"):
            h, m, s = (int(x) for x in head.split(":", 1)[1].strip().split(":"))
            times.append(h + m / 60 + s / 3600)
            for k, letter in enumerate(ROWS):
                cells = rows[i + 2 + k]
                assert cells[0] == letter
                for col in range(1, 13):
                    wells.setdefault(f"{letter}{col}", []).append(float(cells[col]))
    t0 = times[0]
    return [t - t0 for t in times], wells


def pause_index(times: list[float]) -> int:
    """Index of the last reading before the longest gap between consecutive readings."""
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return max(range(len(gaps)), key=lambda i: gaps[i])


def incucyte_counts(path: Path) -> tuple[list[float], dict[str, list[float | None]]]:
    """Elapsed hours and each well's count (None for Incucyte's failed-analysis −4.29e8)."""
    lines = path.read_text(encoding="ascii").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Date Time"))
    header = [h.strip() for h in lines[start].split("\t")]
    times: list[float] = []
    wells: dict[str, list[float | None]] = {}
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split("\t")]
        times.append(float(cells[1]))
        for name, value in zip(header[2:], cells[2:], strict=False):
            if "(" in name:
                continue
            number = float(value)
            wells.setdefault(name, []).append(None if number < -1e8 else number)
    return times, wells


def incucyte_layout() -> dict[str, str]:
    """Well -> plate-map cell (``c.r``, ``K`` or ``U``) from plate_map_wk1.csv."""
    text = (MORE / "incucyte_cart_killing" / "plate_map_wk1.csv").read_text(encoding="utf-8-sig")
    grid = list(csv.reader(text.splitlines()))
    return {f"{ROWS[r]}{c + 1}": grid[r][c].strip() for r in range(8) for c in range(12)}


_UNIT = re.compile(r"(\d+) h(?: (\d+) min)?")


def mars_table(path: Path, channel: str) -> tuple[list[float], dict[str, list[float]]]:
    """Cycle times (h) and each well's raw reading of one channel of ``Table All Cycles``."""
    sheet = fastexcel.read_excel(path).load_sheet(
        "Table All Cycles", header_row=None, dtypes="string"
    )
    rows = sheet.to_polars().rows()
    head = next(i for i, r in enumerate(rows) if r[0] == "Well")
    columns = [j for j, c in enumerate(rows[head]) if c and channel in c]
    times = []
    for j in columns:
        m = _UNIT.fullmatch(rows[head + 1][j].strip())
        times.append(int(m.group(1)) + int(m.group(2) or 0) / 60)
    wells = {}
    for row in rows[head + 2 :]:
        if row[0]:
            name = f"{row[0][0]}{int(row[0][1:])}"
            wells[name] = [float(row[j]) for j in columns]
    return times, wells


def mars_layout() -> dict[str, str]:
    """Well -> content of plate_GP1.csv (strain, ``Non infected``, ``Complete lysis``)."""
    with open(MORE / "bmg_mars_pi_kinetics" / "plate_GP1.csv", encoding="utf-8") as f:
        grid = list(csv.reader(f))
    return {f"{r[0]}{c}": r[c].strip() for r in grid[1:] for c in range(1, 13)}


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def t50(t: list[float], y: list[float], level: float = 50.0) -> float | None:
    """First crossing of ``level`` by y(t), linear between points; 0 when y(0) ≥ level."""
    if y[0] >= level:
        return 0.0
    for i in range(len(t) - 1):
        if y[i] < level <= y[i + 1]:
            return t[i] + (level - y[i]) * (t[i + 1] - t[i]) / (y[i + 1] - y[i])
    return None


def value_at(t: list[float], y: list[float], when: float) -> float | None:
    """y at ``when`` by linear interpolation between the two points around it (None beyond)."""
    for i in range(len(t) - 1):
        if t[i] <= when <= t[i + 1]:
            return y[i] + (y[i + 1] - y[i]) * (when - t[i]) / (t[i + 1] - t[i])
    return None


def auc(t: list[float], y: list[float]) -> float:
    """Trapezoid of y over t (%·h)."""
    return sum((t[i + 1] - t[i]) * (y[i] + y[i + 1]) / 2 for i in range(len(t) - 1))


def target_cell_lysis(
    times: list[float],
    wells: dict[str, list[float | None]],
    add: int,
    controls: list[str],
    points: list[tuple[str, int]],
    groups: dict[str, list[str]],
    at_h: tuple[float, ...],
) -> dict:
    """Hand values of a target-cell readout (impedance, imaging count).

    ``add`` is the index of the addition reading; ``points`` are (well, reading index) pairs;
    ``groups`` name lists of wells whose mean curve gives t50 and AUC.
    """

    def norm(well: str, i: int) -> float | None:
        s = wells[well][i]
        return None if s is None else s / wells[well][add]

    def control(i: int) -> float:
        return mean([n for n in (norm(c, i) for c in controls) if n is not None])

    def lysis(well: str, i: int) -> float | None:
        n = norm(well, i)
        return None if n is None else 100 * (1 - n / control(i))

    out: dict = {"addition_h": times[add], "points": {}, "groups": {}}
    for well, i in points:
        out["points"][(well, i)] = {
            "time_h": times[i],
            "t_h": times[i] - times[add],
            "signal": wells[well][i],
            "norm_signal": norm(well, i),
            "target_only_mean": control(i),
            "pct_lysis": lysis(well, i),
        }
    t = [x - times[add] for x in times[add:]]
    for name, members in groups.items():
        y = [mean([lysis(w, i) for w in members]) for i in range(add, len(times))]
        out["groups"][name] = {
            "t_last_h": t[-1], "t50_h": t50(t, y), "auc_pct_h": auc(t, y),
            "at": {when: value_at(t, y, when) for when in at_h},
        }  # fmt: skip
    return out


def release_lysis(
    times: list[float],
    wells: dict[str, list[float]],
    spontaneous: list[str],
    maximum: list[str],
    points: list[tuple[str, int]],
    groups: dict[str, list[str]],
    at_h: tuple[float, ...],
) -> dict:
    """Hand values of a release readout (PI uptake), addition at the first reading."""

    def lysis(well: str, i: int) -> float:
        t_mean = mean([wells[c][i] for c in spontaneous])
        m_mean = mean([wells[c][i] for c in maximum])
        return 100 * (wells[well][i] - t_mean) / (m_mean - t_mean)

    out: dict = {"addition_h": 0.0, "points": {}, "groups": {}}
    for well, i in points:
        out["points"][(well, i)] = {
            "time_h": times[i],
            "t_h": times[i],
            "signal": wells[well][i],
            "norm_signal": wells[well][i],
            "target_only_mean": mean([wells[c][i] for c in spontaneous]),
            "max_lysis_mean": mean([wells[c][i] for c in maximum]),
            "pct_lysis": lysis(well, i),
        }
    for name, members in groups.items():
        y = [mean([lysis(w, i) for w in members]) for i in range(len(times))]
        out["groups"][name] = {
            "t_last_h": times[-1], "t50_h": t50(times, y), "auc_pct_h": auc(times, y),
            "at": {when: value_at(times, y, when) for when in at_h},
        }  # fmt: skip
    return out


def carrgodex() -> dict:
    """Plate P1 (2009011552P1R), PBT1 without dexamethasone: target alone A1, A2; CAR-T at
    2,500 (E:T 0.25) B1, B2 and at 500 (E:T 0.05) D1, D2."""
    times, wells = rtca_cell_index(CARRGODEX / "2009011552P1R_Export.xlsx")
    add = pause_index(times)
    return target_cell_lysis(
        times, wells, add, ["A1", "A2"],
        [("B1", add), ("B1", add + 96), ("D2", add + 200), ("B2", len(times) - 1)],
        {"et_0.25": ["B1", "B2"], "et_0.05": ["D1", "D2"]}, (24.0, 48.0),
    )  # fmt: skip


def rtca_pro() -> dict:
    """A549 (columns 1–3): target alone H1, H2, H3; 8H3_PAB_MMAE at 100 (A2) and 8H3_cAb at
    100 (A1), one well each."""
    times, wells = rtca_cell_index(
        MORE / "xcelligence_rtca_pro/20220718_A549_HaCat_8H3_Export.xlsx"
    )
    add = pause_index(times)
    return target_cell_lysis(
        times, wells, add, ["H1", "H2", "H3"],
        [("A2", add), ("A2", add + 200), ("A2", len(times) - 1), ("B1", add + 400)],
        {"8H3_PAB_MMAE_100": ["A2"], "8H3_cAb_100": ["A1"]}, (96.0, 144.0),
    )  # fmt: skip


def incucyte() -> dict:
    """Target alone = the eight ``U`` wells; TNR9 (CAR 2) at code 4 = B2, B3; Zeta (CAR 5) at
    code 4 = E2, E3; addition at the first scan."""
    times, wells = incucyte_counts(
        MORE / "incucyte_cart_killing/20241118_TCSL248_wk0_incucyte_count.txt"
    )
    lay = incucyte_layout()
    controls = sorted(w for w, v in lay.items() if v == "U")
    assert lay["B2"] == lay["B3"] == "2.4" and lay["E2"] == lay["E3"] == "5.4"
    return target_cell_lysis(
        times, wells, 0, controls,
        [("B2", 8), ("B2", 16), ("E3", 32), ("A1", 59)],
        {"TNR9_4": ["B2", "B3"], "Zeta_4": ["E2", "E3"]}, (48.0, 96.0),
    )  # fmt: skip


def mars() -> dict:
    """PI channel 535-15/617-20 (preset ``Propidium Iodide *``); Non infected = target_only,
    Complete lysis = max_lysis; JE2 and TOX-4 wells."""
    times, wells = mars_table(
        MORE / "bmg_mars_pi_kinetics/200731 Plate GP1 n1 HeLa 40000 cell death assay 24h.xlsx",
        "535-15/617-20",
    )
    lay = mars_layout()
    spont = sorted(w for w, v in lay.items() if v == "Non infected")
    maxi = sorted(w for w, v in lay.items() if v == "Complete lysis")
    je2 = sorted(w for w, v in lay.items() if v == "JE2")
    tox4 = sorted(w for w, v in lay.items() if v == "TOX-4")
    return release_lysis(
        times, wells, spont, maxi,
        [(je2[0], 0), (je2[0], 60), (tox4[0], 120), (je2[1], 235)],
        {"JE2": je2, "TOX-4": tox4}, (6.0, 12.0),
    ) | {"wells": {"target_only": spont, "max_lysis": maxi, "JE2": je2, "TOX-4": tox4}}  # fmt: skip


if __name__ == "__main__":
    from pprint import pprint

    for name in ("carrgodex", "rtca_pro", "incucyte", "mars"):
        print(f"== {name}")
        pprint(globals()[name](), width=100, sort_dicts=False)
