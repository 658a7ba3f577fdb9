"""Fuzzing every reader: random bytes and mutated real exports raise only KillcurveInputError.

A reader meeting input it cannot read must say so with the documented error type
(naming the file), never crash with another exception. Hypothesis drives two
kinds of input through every format in READERS and through ``auto``: random
bytes, and real exports cut short, with bytes flipped, or with a line dropped
or duplicated. The real exports are the bundled ones (tests/data/readers) and,
when the shared folder is present, every file of the second corpus (text files
cut to their first 16 KB) (Gen5 xlsx and per-well table, MARS table, SparkControl CSV, i-control,
VICTOR Nivo and X3, kinetic SoftMax Pro) and the Incucyte text exports of
``timecourse_more``, so every reader meets its own format.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from killcurve.errors import KillcurveInputError
from killcurve.io.readers import READERS, read_export

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "readers"
MORE = REPO / ".." / "shared" / "reference" / "plate_readers_more"
TIMECOURSE = REPO / ".." / "shared" / "reference" / "timecourse_more"
SEEDS = (
    sorted(
        p for p in DATA.iterdir() if p.is_file() and not p.name.startswith(("LICENSE", "README"))
    )
    + sorted(p for p in MORE.rglob("*") if p.is_file() and p.parent != MORE)
    + sorted(TIMECOURSE.glob("incucyte*/*.txt"))
)
FORMATS = ["auto", *sorted(READERS)]
FUZZ = settings(
    max_examples=200, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip


def _read_only_with_documented_errors(data: bytes, fmt: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"plate{suffix}"
        path.write_bytes(data)
        try:
            export = read_export(path, fmt)
        except KillcurveInputError as err:
            assert str(path) in str(err) or path.name in str(err), f"message names no file: {err}"
            return
        assert export.data.height >= 0


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".csv", ".txt", ".xlsx", ".CSV"]))
def test_random_bytes(fmt: str, data: bytes, suffix: str) -> None:
    _read_only_with_documented_errors(data, fmt, suffix)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, str]:
    seed = draw(st.sampled_from(SEEDS))
    whole = seed.read_bytes()
    data = bytearray(whole if seed.suffix == ".xlsx" else whole[:16384])  # a zip cut is broken
    kind = draw(st.sampled_from(["truncate", "flip", "drop_line", "repeat_line"]))
    if kind == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    else:
        lines = bytes(data).split(b"\n")
        i = draw(st.integers(0, len(lines) - 1))
        lines = lines[:i] + lines[i + 1 :] if kind == "drop_line" else lines[: i + 1] + lines[i:]
        data = bytearray(b"\n".join(lines))
    return bytes(data), seed.suffix


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(case=mutated())
def test_mutated_real_exports(fmt: str, case: tuple[bytes, str]) -> None:
    data, suffix = case
    _read_only_with_documented_errors(data, fmt, suffix)
