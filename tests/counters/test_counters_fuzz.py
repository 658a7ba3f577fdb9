"""Fuzzing the cell-counter readers: bad bytes raise only KillcurveInputError, naming the file.

Random bytes, and real corpus exports cut short, with bytes flipped or a line
dropped or repeated, go through every format and ``auto``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from killcurve.errors import KillcurveInputError
from killcurve.io.counters import READERS, read_counter

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "cell_counters"
SEEDS = sorted(p for p in CORPUS.glob("*/*") if not p.name.startswith("LICENSE"))
FORMATS = ["auto", *READERS]
FUZZ = settings(
    max_examples=60, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip


def _read_only_with_documented_errors(data: bytes, fmt: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"counts{suffix}"
        path.write_bytes(data)
        try:
            export = read_counter(path, fmt)
        except KillcurveInputError as err:
            assert str(path) in str(err), f"message names no file: {err}"
            return
        assert export.data.height > 0


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".csv", ".txt", ".xlsx"]))
def test_random_bytes(fmt: str, data: bytes, suffix: str) -> None:
    _read_only_with_documented_errors(data, fmt, suffix)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, str]:
    seed = draw(st.sampled_from(SEEDS))
    data = bytearray(seed.read_bytes())
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


@pytest.mark.skipif(not SEEDS, reason=f"cell-counter corpus {CORPUS.resolve()} is absent")
@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(case=mutated())
def test_mutated_real_exports(fmt: str, case: tuple[bytes, str]) -> None:
    data, suffix = case
    _read_only_with_documented_errors(data, fmt, suffix)
