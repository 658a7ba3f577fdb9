"""Non-finite numbers at the table boundary (killcurve.report.finite) and in every writer."""

from __future__ import annotations

import math
from pathlib import Path

import fastexcel
import polars as pl

from killcurve.pipeline import steps
from killcurve.report.finite import finite_frame
from killcurve.report.html import table_html
from killcurve.report.numbers import num
from killcurve.report.tables import sig, write_workbook

INF, NAN = float("inf"), float("nan")


def curves() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "curve_id": ["a", "b", "c"],
            "et50": [3.0, 17.1, NAN],
            "et50_upper": [5.0, INF, None],
            "flags": [[], ["ci_unbounded"], None],
        }
    )


def test_inf_and_nan_become_empty_with_a_flag_saying_why() -> None:
    out = finite_frame(curves())
    assert out["et50"].to_list() == [3.0, 17.1, None]
    assert out["et50_upper"].to_list() == [5.0, None, None]
    assert out["flags"].to_list() == [
        [],
        ["ci_unbounded", "et50_upper_unbounded"],
        ["et50_not_estimable"],
    ]
    assert out.columns == curves().columns
    # applied twice: nothing more happens
    assert finite_frame(out).equals(out)


def test_text_reasons_go_to_notes_or_reasons() -> None:
    table = pl.DataFrame(
        {"metric": ["r", "r", "r"], "upper": [2.0, INF, -INF], "notes": [None, "", "one lot"]}
    )
    out = finite_frame(table)
    assert out["upper"].to_list() == [2.0, None, None]
    assert out["notes"].to_list() == [None, "upper unbounded", "one lot; upper unbounded"]
    qc = finite_frame(pl.DataFrame({"cv": [NAN], "reasons": ["z_prime"]}))
    assert qc.row(0) == (None, "z_prime; cv not estimable")


def test_a_table_without_an_explanation_column_is_only_emptied() -> None:
    out = finite_frame(pl.DataFrame({"x": [1.0, INF], "xs": [[1.0, NAN], [2.0]]}))
    assert out.to_dict(as_series=False) == {"x": [1.0, None], "xs": [[1.0, None], [2.0]]}
    clean = pl.DataFrame({"x": [1.0, 2.0], "flags": [["a"], []]})
    assert finite_frame(clean) is clean


def test_every_writer_writes_no_nan_or_inf(tmp_path: Path) -> None:
    """The bug of issue 25: an unbounded et50 interval stopped the workbook (xlsxwriter
    refuses NaN/inf) and the failed run then removed every table."""
    frame = curves()
    steps.write_csv(frame, tmp_path / "c.csv")
    text = (tmp_path / "c.csv").read_text()
    assert "inf" not in text.lower().replace("_unbounded", "").replace("ci_", "")
    assert text.splitlines()[2] == "b,17.1,,ci_unbounded;et50_upper_unbounded"
    steps.write_parquet(frame, tmp_path / "c.parquet")
    back = pl.read_parquet(tmp_path / "c.parquet")
    assert back["et50_upper"].to_list() == [5.0, None, None]
    write_workbook({"curves": frame}, tmp_path / "t.xlsx")
    sheet = fastexcel.read_excel(str(tmp_path / "t.xlsx")).load_sheet(0).to_polars()
    assert sheet["et50_upper"].to_list() == [5.0, None, None]
    assert sheet["flags"].to_list()[1] == "ci_unbounded; et50_upper_unbounded"


def test_numbers_in_text_are_never_inf() -> None:
    assert (num(INF), num(NAN), num(12.4)) == ("–", "–", "12")
    assert (sig(-INF), sig(0.031249)) == ("", "0.0312")
    html = table_html(pl.DataFrame({"et50": [INF, 2.0], "p": [NAN, 0.5]}))
    assert "inf" not in html.lower() and "nan" not in html.lower()
    assert "<td>2</td>" in html.replace(' class="num"', "") or ">2<" in html
    assert math.isinf(INF)  # the inputs really were non-finite
