"""The readouts killcurve knows: names, required control roles, formulas.

Kept apart from the maths so the samplesheet check and the documentation can
name them without importing the calculations.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Readout:
    """One assay chemistry: the control roles each plate needs and its % lysis formula."""

    name: str
    required: tuple[str, ...]
    formula: str
    signal: str


READOUTS: dict[str, Readout] = {
    r.name: r
    for r in (
        Readout(
            "luciferase",
            ("target_only",),
            "100 × (1 − (S − B)/(T − B)); T = mean target_only, B = mean background (0 if none)",
            "luminescence of living luciferase-expressing targets (RLU)",
        ),
        Readout(
            "release",
            ("target_only", "max_lysis"),
            "100 × (S − T)/(M − T); T = mean target_only (spontaneous), M = mean max_lysis",
            "label released by dead targets: calcein (RFU), europium-TDA (TRF counts), ⁵¹Cr (cpm)",
        ),
        Readout(
            "ldh",
            ("target_only", "max_lysis", "effector_only", "background"),
            "100 × (S′ − E′ − T′)/(M″ − T′); ′ = minus mean background (medium), "
            "M″ = mean max_lysis minus mean volume_correction (background if none), "
            "E′ = mean effector_only of the same product, lot and E:T",
            "LDH released into the supernatant, CytoTox 96 absorbance at 490 nm (OD)",
        ),
        Readout(
            "flow",
            ("target_only",),
            "100 × (S − T)/(100 − T); S = dead % of targets in the well, T = mean dead % "
            "of target_only wells",
            "dead target cells as % of the target population, from a flow-cytometry table",
        ),
        Readout(
            "impedance",
            ("target_only",),
            "100 × (1 − S/T); S = normalised cell index of the well, T = mean normalised cell "
            "index of target_only wells, at the analysis time",
            "cell index (xCELLigence/RTCA), normalised at the time of effector addition",
        ),
        Readout(
            "imaging_count",
            ("target_only",),
            "100 × (1 − S/T); S = the well's count of labelled target cells (e.g. red nuclei) "
            "normalised at effector addition, T = mean of target_only wells, at the same time",
            "live-cell imaging (Incucyte): target-cell objects per image",
        ),
        Readout(
            "imaging_confluence",
            ("target_only",),
            "100 × (1 − S/T); S = the well's target-cell confluence (area %) normalised at "
            "effector addition, T = mean of target_only wells, at the same time",
            "live-cell imaging (Incucyte): area covered by target cells (%)",
        ),
        Readout(
            "pct_lysis",
            (),
            "S, taken as is; S = % lysis computed upstream by another tool",
            "% specific lysis already computed elsewhere (%)",
        ),
        Readout(
            "pct_survival",
            (),
            "100 − S; S = % surviving (viable) targets computed upstream, 100 = target alone",
            "% surviving targets already normalised elsewhere (%)",
        ),
    )
}
#: Readouts whose signal counts living target cells: on a time-resolved plate each well is
#: divided by its own reading at effector addition before % lysis (removes seeding spread).
TARGET_CELL_READOUTS = ("impedance", "imaging_count", "imaging_confluence")
#: Readouts whose signal is already a percentage computed upstream: no controls needed.
PRECOMPUTED = ("pct_lysis", "pct_survival")
