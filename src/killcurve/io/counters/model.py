"""The common result of every cell-counter reader, and the checks every export passes.

A reader finds where each value sits in its export and hands the texts to
:func:`build_export` as :class:`RawCount` rows, with a :class:`Source` saying
which header each value came from and in what unit. :func:`build_export`
turns texts into numbers, converts concentrations to cells/mL, decides a
viability written without a unit, parses times, and refuses exports whose
values cannot be right (a unit that is not stated, viable above total,
viability outside 0–100 %).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.io.counters.values import parse_count, parse_number, parse_times

#: Columns of :attr:`CounterExport.data` and their types.
COLUMNS: dict[str, pl.DataType] = {
    "sample": pl.String(),
    "total_cells_per_ml": pl.Float64(),
    "viable_cells_per_ml": pl.Float64(),
    "viability_pct": pl.Float64(),
    "total_count": pl.Int64(),
    "viable_count": pl.Int64(),
    "measured_at": pl.Datetime("us"),
    "instrument": pl.String(),
    "note": pl.String(),
}

#: Concentrations outside this range (cells/mL) are no count any counter makes:
#: the unit of the column must be other than the header says.
PLAUSIBLE_CELLS_PER_ML = (1e3, 1e10)
#: Viable may exceed total by this fraction (both rounded in the export) before it is an error.
ROUNDING = 0.02


@dataclass(frozen=True)
class CounterExport:
    """What a reader found in one cell-counter export.

    ``data`` has one row per sample with :data:`COLUMNS`:

    - ``sample``: the instrument's sample ID as written;
    - ``total_cells_per_ml``, ``viable_cells_per_ml``: cells/mL (Float64),
      converted from the export's 10^6 or 10^5 cells/mL where its header says so;
    - ``viability_pct``: viable / total in % (0–100) as the instrument reports it;
    - ``total_count``, ``viable_count``: cells counted in the images (Int64,
      null when the export has none);
    - ``measured_at``: the measurement time as the instrument's clock wrote it
      (no time zone; null when the export has none);
    - ``instrument``: the instrument family;
    - ``note``: the instrument's own warning or error text, and any value that
      was not a plain number (that value is then null); null for a clean row.

    ``metadata`` keeps file-level facts as strings: ``format``, ``instrument``,
    ``units`` (which header became which column, and the factor), and where the
    export has them ``software``, ``software_version``, ``serial_number``,
    ``timestamp_format``, ``timestamp_ambiguity``, ``time_zone``,
    ``duplicate_samples``, ``derived`` and ``format_detection``.
    """

    data: pl.DataFrame
    metadata: dict[str, str] = field(default_factory=dict)
    format: str = ""
    path: Path | None = None


@dataclass(frozen=True)
class RawCount:
    """One sample as the export writes it: cell texts, not numbers yet.

    ``where`` places it in the file for messages (``row 7``, ``sheet 'Run data
    summary' row 9``); an empty text means the export has no such value.
    """

    where: str
    sample: str
    total: str = ""
    viable: str = ""
    viability: str = ""
    total_count: str = ""
    viable_count: str = ""
    measured_at: str = ""
    note: str = ""


@dataclass(frozen=True)
class Source:
    """How one export states its values.

    ``total``, ``viable`` and ``viability`` are the headers (or keys) as
    written, ``""`` when the export lacks the value; ``*_scale`` is cells/mL per
    exported unit (1e6 for "x10^6 cells/mL"). ``viability_in_percent`` is True
    when the header says % and False when it says nothing (then
    :func:`viability_factor` decides from the data). ``time_formats`` are
    ``strptime`` formats, the instrument's own first. ``fill_missing`` derives
    viable or viability in rows where that cell is empty (hand-made files),
    not only where the whole column is absent.
    """

    instrument: str
    total: str
    viable: str
    viability: str
    total_scale: float = 1.0
    viable_scale: float = 1.0
    viability_in_percent: bool = True
    time_formats: tuple[str, ...] = ()
    fill_missing: bool = False


def build_export(
    path: Path, fmt: str, source: Source, raws: list[RawCount], metadata: dict[str, str]
) -> CounterExport:
    """The :class:`CounterExport` of ``raws``, or a :class:`KillcurveInputError` saying why not.

    Concentrations become cells/mL (exported value × scale). A viability or
    viable concentration the export lacks is derived from the other two:
    viability_pct = min(100, 100 · viable / total), viable = total ·
    viability_pct / 100 (noted under ``metadata["derived"]``; see :func:`_derive`).
    """
    if not raws:
        raise KillcurveInputError(
            f"{path}: no sample rows found in this {fmt} export. Export the sample results "
            "(one row per sample) from the counter software."
        )
    for raw in raws:
        if not raw.sample.strip():
            raise KillcurveInputError(
                f"{_place(path, raw)}: a result without a sample ID. Give every counted sample "
                "an ID in the counter software (or in the file) and export again."
            )
    notes: list[list[str]] = [[raw.note.strip()] if raw.note.strip() else [] for raw in raws]
    total = _numbers(raws, "total", source.total, notes)
    viable = _numbers(raws, "viable", source.viable, notes)
    viability = _numbers(raws, "viability", source.viability, notes)
    for raw, note in zip(raws, notes, strict=True):
        for name in ("total_count", "viable_count"):
            text = getattr(raw, name).strip()
            if text and parse_count(text) is None:
                note.append(f"{name}: {text}")
    total = [_scaled(v, source.total_scale) for v in total]
    viable = [_scaled(v, source.viable_scale) for v in viable]
    marked = any(r.viability.strip().endswith("%") for r in raws)
    told = bool(source.viability) and not (source.viability_in_percent or marked)
    if told:
        factor = viability_factor(path, source.viability, viability, viable, total)
    else:
        factor = 1.0
        _refuse_fractions(path, source.viability, viability, viable, total)
    viability = [_scaled(v, factor) for v in viability]

    metadata = {"format": fmt, "instrument": source.instrument, **metadata}
    metadata["units"] = _units(source, factor, told)
    derived = _derive(source, total, viable, viability)
    if derived:
        metadata["derived"] = derived
    _check(path, source, raws, total, viable, viability)

    times: list[datetime | None] = [None] * len(raws)
    if source.time_formats and any(r.measured_at.strip() for r in raws):
        times, chosen, also = parse_times([r.measured_at for r in raws], source.time_formats)
        if chosen:
            metadata["timestamp_format"] = chosen
        if also:
            metadata["timestamp_ambiguity"] = (
                f"every timestamp also reads as {', '.join(also)}; read as {chosen}, "
                "the instrument's own format"
            )
        for raw, time, note in zip(raws, times, notes, strict=True):
            if raw.measured_at.strip() and time is None:
                note.append(f"timestamp {raw.measured_at.strip()!r} is not a valid date")

    duplicates = [f"{s} ({n} rows)" for s, n in Counter(r.sample for r in raws).items() if n > 1]
    if duplicates:
        metadata["duplicate_samples"] = ", ".join(duplicates)
    data = pl.DataFrame(
        {
            "sample": [r.sample.strip() for r in raws],
            "total_cells_per_ml": total,
            "viable_cells_per_ml": viable,
            "viability_pct": viability,
            "total_count": [parse_count(r.total_count) for r in raws],
            "viable_count": [parse_count(r.viable_count) for r in raws],
            "measured_at": times,
            "instrument": [source.instrument] * len(raws),
            "note": ["; ".join(n) if n else None for n in notes],
        },
        schema=COLUMNS,
    )
    return CounterExport(data=data, metadata=metadata, format=fmt, path=Path(path))


def viability_factor(
    path: Path,
    label: str,
    viability: list[float | None],
    viable: list[float | None],
    total: list[float | None],
) -> float:
    """100 when a unit-less viability column holds fractions, 1 when it holds %.

    Decided from the export's own numbers: the median of viability /
    (viable / total) over the samples with all three is about 1 for fractions
    (Matrix xlsx writes 0.87) and about 100 for % (Cedex writes 95.29). Anything
    else is an error: the column's unit cannot be told.

    >>> viability_factor(Path("m.xlsx"), "Viability", [0.87], [2.28e6], [2.62e6])
    100.0
    >>> viability_factor(Path("c.csv"), "Viability", [95.29], [4.53e6], [4.75e6])
    1.0
    """
    median = _ratio_median(viability, viable, total)
    if median is not None and 0.5 <= median <= 2:
        return 100.0
    if median is not None and 50 <= median <= 200:
        return 1.0
    raise KillcurveInputError(
        f"{path}: cannot tell whether column {label!r} holds viability as a fraction (0–1) "
        "or in % (0–100): its header states no unit and its values do not match viable / "
        "total. Export viability with its unit (%), or use the generic_csv format with a "
        "viability_pct column."
    )


def _scaled(value: float | None, scale: float) -> float | None:
    """``value × scale`` in decimal, so 4.03 × 10^6 gives 4030000.0, not 4030000.0000000005."""
    return None if value is None else float(Decimal(repr(value)) * Decimal(repr(scale)))


def _ratio_median(
    viability: list[float | None], viable: list[float | None], total: list[float | None]
) -> float | None:
    """Median of viability / (viable / total) over samples with all three (None if none)."""
    ratios = [
        v / (alive / tot)
        for v, alive, tot in zip(viability, viable, total, strict=True)
        if v is not None and alive and tot
    ]
    return statistics.median(ratios) if ratios else None


def _refuse_fractions(
    path: Path,
    label: str,
    viability: list[float | None],
    viable: list[float | None],
    total: list[float | None],
) -> None:
    """Stop when a column said to be in % holds fractions (viability ≈ viable / total)."""
    median = _ratio_median(viability, viable, total)
    if median is not None and 0.5 <= median <= 2:
        raise KillcurveInputError(
            f"{path}: column {label!r} should hold viability in % (0–100) but holds "
            "fractions (its values equal viable / total). Multiply them by 100, or drop the "
            "column and let viability be computed from viable and total."
        )


def _numbers(
    raws: list[RawCount], field_name: str, label: str, notes: list[list[str]]
) -> list[float | None]:
    """The numbers of one field; text that is not a plain number is noted and left empty."""
    values: list[float | None] = []
    for raw, note in zip(raws, notes, strict=True):
        text = getattr(raw, field_name).strip()
        value = parse_number(text.removesuffix("%")) if text else None
        if text and value is None:
            note.append(f"{label}: {text}")
        values.append(value)
    return values


def _units(source: Source, viability_factor: float, told: bool) -> str:
    """Which header became which column, and by what factor (for the provenance).

    ``told``: the viability unit was not in the header but told from the data.
    """
    parts = []
    for column, label, scale in (
        ("total_cells_per_ml", source.total, source.total_scale),
        ("viable_cells_per_ml", source.viable, source.viable_scale),
    ):
        if label:
            factor = "" if scale == 1 else f" × {scale:g}"
            parts.append(f"{column} = {label!r}{factor} (cells/mL)")
    if source.viability:
        how = " (fraction) × 100" if viability_factor == 100 else " (%)"
        if told:
            how += ", unit not in the header: told by comparing with viable / total"
        parts.append(f"viability_pct = {source.viability!r}{how}")
    return "; ".join(parts)


def _derive(
    source: Source,
    total: list[float | None],
    viable: list[float | None],
    viability: list[float | None],
) -> str:
    """Fill viability or viable cells/mL from the other two, in place; say what was derived.

    Only where the export has no such column, or (``source.fill_missing``) the
    cell is empty; a value the instrument wrote as text stays empty.
    """
    derive_viability = not source.viability or source.fill_missing
    derive_viable = not source.viable or source.fill_missing
    n_viability = n_viable = 0
    for i, (tot, alive, pct) in enumerate(zip(total, viable, viability, strict=True)):
        if derive_viability and pct is None and alive is not None and tot:
            viability[i] = min(100.0, 100 * alive / tot)  # viable > total only by rounding
            n_viability += 1
        elif derive_viable and alive is None and pct is not None and tot is not None:
            viable[i] = tot * pct / 100
            n_viable += 1
    parts = []
    if n_viability:
        parts.append(f"viability_pct = 100 · viable / total ({n_viability} rows)")
    if n_viable:
        parts.append(f"viable_cells_per_ml = total · viability_pct / 100 ({n_viable} rows)")
    return "; ".join(parts)


def _check(
    path: Path,
    source: Source,
    raws: list[RawCount],
    total: list[float | None],
    viable: list[float | None],
    viability: list[float | None],
) -> None:
    """Refuse values no counter reports: unit out of range, viable > total, viability > 100 %."""
    if all(v is None for v in (*total, *viable, *viability)):
        raise KillcurveInputError(
            f"{path}: no sample has a number for total, viable or viability "
            f"({source.total or '-'!r}, {source.viable or '-'!r}, {source.viability or '-'!r}). "
            "Export the results with numbers (decimal point, not comma)."
        )
    has_total = any(v is not None for v in total)
    label, values = (source.total, total) if has_total else (source.viable, viable)
    largest = max((v for v in values if v is not None), default=None)
    low, high = PLAUSIBLE_CELLS_PER_ML
    if largest is not None and largest > 0 and not low <= largest <= high:
        raise KillcurveInputError(
            f"{path}: the largest concentration in column {label!r} reads as {largest:g} "
            f"cells/mL; counters report {low:g} to {high:g} cells/mL, so the column's unit "
            "is not what its header says (or says nothing). Export concentrations with their "
            "unit in the header (cells/mL, x10^6 cells/mL or x10^5 cells/mL)."
        )
    for raw, tot, alive, pct in zip(raws, total, viable, viability, strict=True):
        place = f"{_place(path, raw)} (sample {raw.sample.strip()})"
        if pct is not None and not 0 <= pct <= 100:
            raise KillcurveInputError(
                f"{place}: viability {pct:g} % is outside 0–100 %. Check column "
                f"{source.viability!r} (a fraction should be exported as %)."
            )
        if tot is not None and alive is not None and alive > tot * (1 + ROUNDING):
            raise KillcurveInputError(
                f"{place}: viable {alive:g} cells/mL ({source.viable!r}) is more than total "
                f"{tot:g} cells/mL ({source.total!r}); the export is internally inconsistent. "
                "Re-export the results from the counter software, or correct the file."
            )


def _place(path: Path, raw: RawCount) -> str:
    """``path line 7`` for messages; just the path for a single-sample file."""
    return f"{path} {raw.where}" if raw.where else str(path)
