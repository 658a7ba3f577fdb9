"""A time-resolved study whose % lysis is known exactly at every time point (no noise).

Impedance plates (``cell_index_csv``): a well seeded with ``seed`` cells grows as
g(t) = 1 + 0.05 t (t = hours since the first sweep); a sample well at E:T e has
CI(t) = seed · g(t) · (1 − L(t, e)/100) with L(t, e) = min(90, k(e) · (t − t_add)) after the
effector addition at ``t_add`` and 0 before. Normalised at addition, nCI = CI/CI(t_add), so that
100 · (1 − nCI_sample / mean nCI_target) = L exactly, whatever the seeds. Sweeps every hour,
with a 3 h pause after t_add (the addition is found from it: ``addition`` = ``pause``).

A release plate (death signal, read raw at every time point; same long-table format) has
targets alone at T(t) = 100 + t (spontaneous release rising), max-lysis wells (row G) at
M = 1000 and samples at S = T(t) + (M − T(t)) · L/100, so that 100 · (S − T)/(M − T) = L.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Hours since the first sweep of the sweeps (3 h pause after the addition at 4 h).
SWEEPS = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0])
T_ADD = 4.0
#: Killing rate (% per h) per E:T.
RATES = {20.0: 30.0, 10.0: 20.0, 5.0: 12.0, 2.5: 8.0, 1.25: 3.0}


def lysis(t: np.ndarray, rate: float) -> np.ndarray:
    """L(t) in % (hours since the first sweep)."""
    return np.where(t >= T_ADD, np.minimum(90.0, rate * (t - T_ADD)), 0.0)


def growth(t: np.ndarray) -> np.ndarray:
    return 1.0 + 0.05 * t


def layout(
    product: str, lot: str, target: str = "SHP-77", cryo: str = "fresh", max_lysis: bool = False
) -> str:
    """Targets alone A1–A3; E:T 20 … 1.25 in rows B–F, columns 1–3; max lysis G1–G3 (release
    plates)."""
    lines = [
        "[expt]",
        f'product = "{product}"',
        f'lot = "{lot}"',
        f'target = "{target}"',
        f'cryo = "{cryo}"',
        "[block.3x1.A1]",
        'role = "target_only"',
    ]
    for row, et in zip("BCDEF", RATES, strict=True):
        lines += [f"[block.3x1.{row}1]", 'role = "sample"', f"et_ratio = {et:g}"]
    if max_lysis:
        lines += ["[block.3x1.G1]", 'role = "max_lysis"']
    return "\n".join(lines) + "\n"


def seed(well: str) -> float:
    """Seeding factor of a well: 1 + 0.1 × column − 0.05 × row index (all different)."""
    return 1.0 + 0.1 * int(well[1:]) - 0.05 * "ABCDEFG".index(well[0])


def plate_csv(
    readout: str = "impedance", sweeps: np.ndarray = SWEEPS, rates: dict[float, float] = RATES
) -> str:
    """The long table of one plate (``well,time_h,cell_index``) for ``impedance`` or
    ``release`` (module docstring)."""
    rows = ["well,time_h,cell_index"]
    for t in sweeps:
        spontaneous = 100.0 + t
        for col in (1, 2, 3):
            values = {}
            for row, et in zip("BCDEF", RATES, strict=True):
                killed = float(lysis(np.array(t), rates[et])) / 100
                values[f"{row}{col}"] = (
                    seed(f"{row}{col}") * growth(t) * (1 - killed)
                    if readout == "impedance"
                    else spontaneous + (1000.0 - spontaneous) * killed
                )
            if readout == "impedance":
                values[f"A{col}"] = seed(f"A{col}") * growth(t)
                values[f"G{col}"] = seed(f"G{col}") * growth(t) * 0.05
            else:
                values[f"A{col}"] = spontaneous
                values[f"G{col}"] = 1000.0
            rows += [f"{w},{t:g},{v:.12g}" for w, v in sorted(values.items())]
    return "\n".join(rows) + "\n"


def write_study(
    root: Path,
    plates: dict[str, tuple[str, str]],
    config_extra: str = "",
    addition: str = "pause",
    readout: str = "impedance",
) -> Path:
    """A study in ``root`` with one plate per entry ``plate_id → (product, lot)``."""
    (root / "config/layouts").mkdir(parents=True, exist_ok=True)
    (root / "config/data").mkdir(parents=True, exist_ok=True)
    sheet = ["plate_id\tfile\tformat\tlayout\treadout\tbatch\ttime\taddition"]
    for plate, (product, lot) in plates.items():
        (root / f"config/layouts/{plate}.toml").write_text(
            layout(product, lot, max_lysis=readout == "release")
        )
        (root / f"config/data/{plate}.csv").write_text(plate_csv(readout))
        sheet.append(
            f"{plate}\tconfig/data/{plate}.csv\tcell_index_csv\tconfig/layouts/{plate}.toml\t"
            f"{readout}\tB1\tall\t{addition}"
        )
    (root / "config/plates.tsv").write_text("\n".join(sheet) + "\n")
    products = sorted({p for p, _ in plates.values()})
    comparison = (
        f"comparisons:\n  - name: cmp\n    test: {products[0]}\n    reference: {products[-1]}\n"
        "    by: [target, cryo]\n"
        if len(products) > 1
        else "comparisons: []\n"
    )
    (root / "config/config.yaml").write_text(
        f'study: "known time course"\nplates: config/plates.tsv\n{comparison}'
        f"timecourse:\n  times_h: [2, 5]\n{config_extra}"
    )
    return root
