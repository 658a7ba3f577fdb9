"""Choosing one plate, one read and one time point inside an export."""

from __future__ import annotations

import re
from itertools import pairwise

import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.io.readers.model import PlateExport


def available(export: PlateExport) -> str:
    """The plates/reads of an export as a readable list (for error messages).

    >>> from killcurve.io.readers.cells import cells_frame
    >>> frame = cells_frame([(1, "Lum", "A", 1, "5"), (2, "Lum", "A", 1, "6")])
    >>> available(PlateExport(data=frame))
    "plate_index 1 read 'Lum', plate_index 2 read 'Lum'"
    """
    parts = export.data.select("plate_index", "read").unique().sort("plate_index", "read")
    return ", ".join(f"plate_index {p} read {r!r}" for p, r in parts.iter_rows())


_TIME = re.compile(r"^(?P<value>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>s|sec|min|h)?$")
_UNIT_SECONDS = {None: 1.0, "s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0}


def parse_time(text: str | None) -> float | str | None:
    """The samplesheet's ``time``: seconds (a float), ``"last"``, or None when empty.

    A number is seconds since the first reading; ``min`` or ``h`` may follow it.

    >>> parse_time("90"), parse_time("45 min"), parse_time("1.5h"), parse_time("last")
    (90.0, 2700.0, 5400.0, 'last')
    >>> parse_time(""), parse_time("soon")
    (None, 'soon')
    """
    text = (text or "").strip()
    if not text:
        return None
    if text.lower() == "last":
        return "last"
    match = _TIME.match(text.lower())
    if match is None:
        return text  # the caller says what is wrong with it
    return float(match["value"]) * _UNIT_SECONDS[match["unit"]]


def select_plate(
    export: PlateExport, plate_index: int | None, read: str | None, time: str | None = None
) -> pl.DataFrame:
    """The wells of one plate/read (and time point) of ``export`` (all columns of ``export.data``).

    ``plate_index`` (1-based order of the plate in the file) and ``read``
    (read name as listed by the reader) may be None when the file holds only
    one of them. Stops with :class:`KillcurveInputError` naming the file and
    listing what it holds when the choice is missing, ambiguous or absent.

    A kinetic read holds several time points; ``time`` chooses one (see
    :func:`select_time`). For an endpoint read ``time`` must be empty or
    ``last``, and the wells come back exactly as the reader gave them.
    """
    data = one_read(export, plate_index, read)
    source = export.path or f"this {export.format or 'export'}"
    return select_time(data, time, f"{source}: {available(export)}")


def one_read(export: PlateExport, plate_index: int | None, read: str | None) -> pl.DataFrame:
    """Every row of one plate/read of ``export`` (every time point of a kinetic read); the
    choice and its errors as :func:`select_plate` describes."""
    source = export.path or f"this {export.format or 'export'}"
    data = export.data
    if plate_index is not None:
        data = data.filter(pl.col("plate_index") == int(plate_index))
    if read is not None:
        data = data.filter(pl.col("read") == str(read))
    if data.height == 0:
        wanted = " ".join(
            part
            for part in (
                f"plate_index {plate_index}" if plate_index is not None else "",
                f"read {read!r}" if read is not None else "",
            )
            if part
        )
        raise KillcurveInputError(
            f"{source}: has no {wanted}. It holds: {available(export)}. "
            "Set plate_index/read in the samplesheet to one of these."
        )
    if data.select("plate_index", "read").n_unique() > 1:
        raise KillcurveInputError(
            f"{source}: holds several plates/reads ({available(export)}). "
            "Choose one with the samplesheet's plate_index and/or read columns."
        )
    return data


_SWEEP = re.compile(r"^(?P<hours>\d+(?:\.\d*)?(?:e[-+]?\d+)?) h$")


def sweeps_as_time_points(export: PlateExport) -> PlateExport:
    """An export whose reads are sweeps named ``"<hours> h"`` (``cell_index_csv``) as one
    kinetic read ``"cell index"``: ``cycle`` numbers the sweeps in time order, ``time_s`` =
    hours × 3600, ``timestamp`` the read name. Other exports come back unchanged.

    >>> from killcurve.io.readers.cells import cells_frame
    >>> frame = cells_frame([(1, "24 h", "A", 1, "2"), (1, "0.5 h", "A", 1, "1")])
    >>> out = sweeps_as_time_points(PlateExport(data=frame)).data.sort("cycle")
    >>> out.select("read", "cycle", "time_s").rows()
    [('cell index', 1, 1800.0), ('cell index', 2, 86400.0)]
    """
    data = export.data
    reads = data["read"].unique().to_list()
    if data["cycle"].is_not_null().any() or len(reads) < 2:
        return export
    hours = {r: _SWEEP.match(str(r)) for r in reads}
    if not all(hours.values()):
        return export
    order = sorted(reads, key=lambda r: float(hours[r]["hours"]))
    sweeps = pl.DataFrame(
        {
            "read": order,
            "sweep_cycle": pl.Series(range(1, len(order) + 1), dtype=data.schema["cycle"]),
            "sweep_s": [float(hours[r]["hours"]) * 3600.0 for r in order],
        }
    )
    timed = (
        data.join(sweeps, on="read")
        .with_columns(
            pl.col("sweep_cycle").alias("cycle"),
            pl.col("sweep_s").cast(data.schema["time_s"]).alias("time_s"),
            pl.col("read").alias("timestamp"),
            pl.lit("cell index").alias("read"),
        )
        .select(data.columns)
    )
    return PlateExport(data=timed, metadata=export.metadata, format=export.format, path=export.path)


def select_time(data: pl.DataFrame, time: str | None, where: str) -> pl.DataFrame:
    """The wells of one time point of ``data`` (one plate and read) as the samplesheet's
    ``time`` chooses: ``last`` (the last time point read) or a time (s, ``min``, ``h``) since the
    first reading, matched to the time point whose first well was read nearest to it (at most
    half an interval away). Endpoint data (``cycle`` null) come back unchanged for an empty
    ``time`` or ``last``.
    """
    choice = parse_time(time)
    if isinstance(choice, str) and choice != "last":
        raise KillcurveInputError(
            f"{where}: time {time!r} is not a time. Write seconds since the first reading "
            "(e.g. 3600, or 60 min, 1 h), or last."
        )
    if data["cycle"].is_null().all():
        if isinstance(choice, float):
            raise KillcurveInputError(
                f"{where}: time {time!r} chosen but this read is an endpoint read (one time "
                "point). Leave the samplesheet's time empty (or last) for it."
            )
        return data
    starts = (
        data.group_by("cycle")
        .agg(pl.col("time_s").min(), pl.col("timestamp").first())
        .sort("cycle")
    )
    cycles, seconds = starts["cycle"].to_list(), starts["time_s"].to_list()
    span = f"{len(cycles)} time points, {_seconds(seconds[0])} to {_seconds(seconds[-1])}"
    if choice is None:
        raise KillcurveInputError(
            f"{where}: this read is a kinetic series ({span}). Choose one time point with the "
            "samplesheet's time column: last, or a time since the first reading (e.g. 3600, "
            "60 min, 1 h)."
        )
    if choice == "last":
        chosen = cycles[-1]
    else:
        known = [
            (abs(s - choice), c) for c, s in zip(cycles, seconds, strict=True) if s is not None
        ]
        gap, chosen = min(known) if known else (float("inf"), None)
        steps = [b - a for a, b in pairwise(seconds) if a is not None and b is not None]
        tolerance = max(1.0, (sorted(steps)[len(steps) // 2] if steps else 0.0) / 2)
        if chosen is None or gap > tolerance:
            raise KillcurveInputError(
                f"{where}: no time point near time {time!r} ({_seconds(choice)}); the series has "
                f"{span}. Choose one of its times, or last."
            )
    return data.filter(pl.col("cycle") == chosen)


def _seconds(value: float | None) -> str:
    """A time for messages: ``5400 s (90 min)``.

    >>> _seconds(5400.0), _seconds(30.5), _seconds(None)
    ('5400 s (90 min)', '30.5 s', 'unknown')
    """
    if value is None:
        return "unknown"
    text = f"{value:g} s"
    return f"{text} ({value / 60:g} min)" if value >= 120 else text
