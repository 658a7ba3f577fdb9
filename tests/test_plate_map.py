"""Plate maps: the data each map shows, a reused figure that forgets the previous plate, and
maps gathered from chunks (re-drawn where the study's QC differs from the chunk's)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from PIL import Image
from pypdf import PdfReader

from killcurve.figures.plate_map import PlateMapCanvas, colour_ticks, plate_map_data
from killcurve.pipeline import steps
from killcurve.pipeline.plate_maps import _draw_maps, _map_reasons

from .conftest import REPO


def plate(plate_id: str, signal: list[float], excluded: list[bool]) -> pl.DataFrame:
    """Four wells of a 96-well plate: A1 sample, A2 sample, H11 target_only, H12 max_lysis."""
    return pl.DataFrame(
        {
            "plate_id": [plate_id] * 4,
            "row": ["A", "A", "H", "H"],
            "col": [1, 2, 11, 12],
            "signal": signal,
            # % lysis from T = signal of H11, M = signal of H12: 100·(S − T)/(M − T).
            "pct_lysis": [
                100 * (s - signal[2]) / (signal[3] - signal[2]) for s in signal[:2]
            ] + [0.0, 100.0],
            "role": ["sample", "sample", "target_only", "max_lysis"],
            "excluded": excluded,
            "readout": ["release"] * 4,
        }
    )  # fmt: skip


def png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=50)
    return buffer.getvalue()


def test_map_data_puts_each_well_in_its_cell() -> None:
    # A1: 100·(600 − 100)/(1100 − 100) = 50 %; A2: 100·(350 − 100)/1000 = 25 %.
    data = plate_map_data(plate("P1", [600.0, 350.0, 100.0, 1100.0], [False, True, False, False]))
    assert data.shape == (8, 12)
    assert data.grids["signal"][0, 0] == 600.0 and data.grids["signal"][7, 11] == 1100.0
    assert data.grids["pct_lysis"][0, :2].tolist() == [50.0, 25.0]
    assert np.isnan(data.grids["signal"]).sum() == 96 - 4
    assert data.roles["sample"].tolist() == [[1, 1], [2, 1]]  # (column, row)
    assert data.roles["max_lysis"].tolist() == [[12, 8]]
    assert data.roles["background"].size == 0
    assert data.excluded.tolist() == [[2, 1]]
    assert data.titles == ("P1 (release): signal", "P1: specific lysis (%)")


def test_colour_ticks_cover_the_range_with_round_steps() -> None:
    values, labels = colour_ticks(100.0, 1100.0)
    assert values.tolist() == [200.0, 400.0, 600.0, 800.0, 1000.0]
    assert labels == ["200", "400", "600", "800", "1000"]
    assert colour_ticks(0.0, 100.0)[1] == ["0", "20", "40", "60", "80", "100"]


def test_reused_canvas_forgets_the_previous_plate() -> None:
    one = plate_map_data(plate("P1", [600.0, 350.0, 100.0, 1100.0], [False] * 4))
    two = plate_map_data(
        plate("P2", [9e4, 2e4, 1e3, 1e5], [True, True, False, False]), "z_prime 0.1 < 0.5"
    )
    fresh = PlateMapCanvas((8, 12))
    expected = png(fresh.show(one))
    reused = PlateMapCanvas((8, 12))
    figure = reused.show(two)
    assert figure.axes[0].get_legend().texts[-1].get_text() == "excluded"
    assert figure.texts[-1].get_text() == "QC failed: z_prime 0.1 < 0.5"
    assert reused.images[0].get_clim() == (1e3, 1e5)
    assert png(figure) != expected
    figure = reused.show(one)
    assert reused.images[0].get_clim() == (100.0, 1100.0)
    assert [t.get_text() for t in figure.axes[0].get_legend().texts] == [
        "sample", "target_only", "max_lysis",
    ]  # fmt: skip
    assert png(figure) == expected
    # Blitted pixels are what savefig draws, for both plates, in either order.
    for data in (two, one, two):
        full = np.asarray(Image.open(io.BytesIO(png(reused.show(data)))))
        assert np.array_equal(reused.pixels(50), full)
    fresh.close()
    reused.close()


@pytest.fixture
def duplicated_study(tmp_path: Path) -> tuple[Path, list[dict[str, str]]]:
    """Four plates of the example in two chunks; plate 3's export is a copy of plate 1's."""
    study = tmp_path / "study"
    shutil.copytree(REPO / "config", study / "config")
    header, *lines = (study / "config/plates.tsv").read_text().splitlines()
    rows = [dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in lines[:4]]
    rows[2] = {**rows[2], "file": rows[0]["file"], "format": rows[0]["format"]}
    rows[2]["layout"] = rows[0]["layout"]
    return study, rows


def _chunks_with_maps(study: Path, rows: list[dict[str, str]], out: Path, qc: dict) -> None:
    """Plates 1–2 and 3–4 of ``rows`` read as chunks 1 and 2 into ``out``, maps at 30 dpi."""
    for n, chunk in ((1, rows[:2]), (2, rows[2:])):
        steps.collect_chunk(chunk, study, out / f"{n}.wells.parquet", out / f"{n}.qc.parquet", qc)
        steps.plot_chunk_maps(
            out / f"{n}.wells.parquet", out / f"{n}.qc.parquet", out / f"{n}.plates",
            out / f"{n}.pdf", dpi=30,
        )  # fmt: skip


def test_maps_gathered_from_chunks_show_duplicates_across_chunks(duplicated_study) -> None:
    study, rows = duplicated_study
    out = study / "results"
    qc = {"exclude_failed_plates": True}
    _chunks_with_maps(study, rows, out, qc)
    steps.merge_wells(
        [out / "1.wells.parquet", out / "2.wells.parquet"],
        [out / "1.qc.parquet", out / "2.qc.parquet"],
        out / "wells.parquet", out / "plate_qc.csv", qc,
    )  # fmt: skip
    table = pl.read_csv(out / "plate_qc.csv")
    first, third = rows[0]["plate_id"], rows[2]["plate_id"]
    assert pl.read_parquet(out / "1.qc.parquet")["reasons"].to_list() == ["", ""]
    copies = table.filter(pl.col("plate_id").is_in([first, third]))
    assert copies["reasons"].to_list() == [
        f"duplicate data: signals identical to plate {third}",
        f"duplicate data: signals identical to plate {first}",
    ]
    steps.plot_plate_maps(
        [out / "1.plates", out / "2.plates"], [out / "1.pdf", out / "2.pdf"],
        [out / "1.qc.parquet", out / "2.qc.parquet"], out / "wells.parquet",
        out / "plate_qc.csv", out / "plates", out / "plate_maps.pdf", dpi=30,
    )  # fmt: skip
    pages = PdfReader(out / "plate_maps.pdf").pages
    assert len(pages) == 4
    texts = [page.extract_text() for page in pages]
    assert "duplicate data" in texts[0] and "duplicate data" in texts[2]
    assert "QC failed" not in texts[1] and "QC failed" not in texts[3]
    assert sorted(p.stem for p in (out / "plates").glob("*.png")) == [r["plate_id"] for r in rows]
    # Re-drawn: differs from the chunk's map; copied: the chunk's map.
    assert (out / "plates" / f"{first}.png").read_bytes() != (
        out / "1.plates" / f"{first}.png"
    ).read_bytes()
    second = rows[1]["plate_id"]
    assert (out / "plates" / f"{second}.png").read_bytes() == (
        out / "1.plates" / f"{second}.png"
    ).read_bytes()


def test_chunk_maps_reuse_unchanged_plates_maps_byte_for_byte(tmp_path: Path, monkeypatch) -> None:
    wells = [
        plate("P1", [5.0, 7.0, 1.0, 11.0], [False, False, False, False]),
        plate("P2", [3.0, 9.0, 2.0, 12.0], [False, True, False, False]),
        plate("P3", [4.0, 6.0, 1.0, 10.0], [False, False, False, False]),
    ]
    rendered: list[int] = []
    pixels = PlateMapCanvas.pixels

    def counted(self, dpi):
        rendered.append(dpi)
        return pixels(self, dpi)

    monkeypatch.setattr(PlateMapCanvas, "pixels", counted)

    def draw(tables: list[pl.DataFrame], name: str, cache: Path | None) -> Path:
        table = pl.concat(tables)
        table.write_parquet(tmp_path / f"{name}.wells.parquet")
        qc = pl.DataFrame({"plate_id": ["P1", "P2", "P3"], "reasons": ["", "", ""], "pass": True})
        qc.write_parquet(tmp_path / f"{name}.qc.parquet")
        steps.plot_chunk_maps(
            tmp_path / f"{name}.wells.parquet", tmp_path / f"{name}.qc.parquet",
            tmp_path / name, tmp_path / f"{name}.pdf", exclude_failed=False, dpi=40,
            cache=cache,
        )  # fmt: skip
        return tmp_path / name

    cache = tmp_path / "cache"
    draw(wells, "first", cache)
    assert len(rendered) == 3
    # P2 changes: only its map (PNG and PDF page) is drawn again; the others come from the cache.
    changed = [wells[0], plate("P2", [3.0, 8.0, 2.0, 12.0], [False, True, False, False]), wells[2]]
    again = draw(changed, "again", cache)
    assert len(rendered) == 4
    fresh = draw(changed, "fresh", None)
    for name in ("P1.png", "P2.png", "P3.png"):
        assert (again / name).read_bytes() == (fresh / name).read_bytes(), name
    assert (tmp_path / "again.pdf").read_bytes() == (tmp_path / "fresh.pdf").read_bytes()
    # The first P2 differs from the changed one: the cache did not hand back a stale map.
    assert (tmp_path / "first/P2.png").read_bytes() != (again / "P2.png").read_bytes()


def test_maps_cross_out_rout_outliers_marked_after_the_merge(duplicated_study) -> None:
    import yaml

    study, rows = duplicated_study
    out = study / "results"
    qc = {"exclude_failed_plates": True}
    _chunks_with_maps(study, rows, out, qc)
    fit = yaml.safe_load((study / "config/config.yaml").read_text())["fit"]
    fit["outliers"] = {"method": "rout", "q": 0.01}
    chunks = [out / "1.wells.parquet", out / "2.wells.parquet"]
    chunk_qc = [out / "1.qc.parquet", out / "2.qc.parquet"]
    steps.merge_wells(chunks, chunk_qc, out / "wells.parquet", out / "plate_qc.csv", qc, None, fit)
    wells = pl.read_parquet(out / "wells.parquet")
    outliers = wells.filter(pl.col("exclusion_reason").str.contains("outlier"))
    with_outliers = set(outliers["plate_id"].to_list())
    assert with_outliers, "ROUT found no outlier on these plates: the test checks nothing"
    steps.plot_plate_maps(
        [out / "1.plates", out / "2.plates"], [out / "1.pdf", out / "2.pdf"], chunk_qc,
        out / "wells.parquet", out / "plate_qc.csv", out / "plates", out / "plate_maps.pdf",
        dpi=30, chunk_wells=chunks,
    )  # fmt: skip
    final = dict(_map_reasons(pl.read_csv(out / "plate_qc.csv", infer_schema_length=None)))
    fresh = out / "fresh"
    fresh.mkdir()
    _draw_maps(wells, list(final.items()), fresh, 30)
    for row in rows:
        plate_id = row["plate_id"]
        png = (out / "plates" / f"{plate_id}.png").read_bytes()
        # every map shows the study's exclusions: what a drawing from wells.parquet shows
        assert png == (fresh / f"{plate_id}.png").read_bytes(), plate_id
        chunk = "1" if row in rows[:2] else "2"
        drawn_in_chunk = (out / f"{chunk}.plates" / f"{plate_id}.png").read_bytes()
        if plate_id in with_outliers:
            assert png != drawn_in_chunk, f"{plate_id}: outliers not crossed out"


def test_joined_maps_store_shared_resources_once(tmp_path: Path) -> None:
    import pikepdf

    from killcurve.figures.pdf_pages import join_pages

    # P1 and P3 use the same glyphs; P2's QC reason adds others ("QC failed: …").
    reasons = [("P1", ""), ("P2", "z_prime 0.1 < 0.5"), ("P3", "")]
    wells = pl.concat(
        [plate(p, [5.0 + i, 7.0, 1.0, 11.0], [False] * 4) for i, (p, _) in enumerate(reasons)]
    )
    joined = _draw_maps(wells, reasons, tmp_path, 30)
    singles = [_draw_maps(wells.filter(pl.col("plate_id") == p), [(p, w)], tmp_path, 30)
               for p, w in reasons]  # fmt: skip
    document = pikepdf.open(io.BytesIO(joined))
    fonts = [{n: f.objgen for n, f in page.Resources.Font.items()} for page in document.pages]
    assert fonts[0] == fonts[2] and fonts[0] != fonts[1]  # same glyphs: the same font objects
    # matplotlib's marker shapes (/P…) are forms, the same on every page.
    markers = [{n: x.objgen for n, x in page.Resources.XObject.items() if n.startswith("/P")}
               for page in document.pages]  # fmt: skip
    assert markers[0] and markers[0] == markers[1] == markers[2]
    assert len(joined) < 0.7 * sum(map(len, singles))
    # Each page shows its own plate: the pages are the single maps, in order.
    texts = [page.extract_text() for page in PdfReader(io.BytesIO(joined)).pages]
    for (plate_id, _), text in zip(reasons, texts, strict=True):
        assert f"{plate_id} (release): signal" in text, text
    assert "QC failed: z_prime 0.1 < 0.5" in texts[1]
    # The same pages give the same bytes.
    pages = []
    for i, single in enumerate(singles):
        pages.append(tmp_path / f"{i}.pdf")
        pages[-1].write_bytes(single)
    assert join_pages(pages) == join_pages(pages)


@pytest.fixture
def subset_calls(monkeypatch) -> list[frozenset]:
    """The glyph sets matplotlib's PDF backend subsets fonts for, in order, from now on."""
    from matplotlib.backends import _backend_pdf_ps as backend

    made: list[frozenset] = []
    subset = backend.get_glyphs_subset

    def counted(fontfile, glyphs):
        made.append(frozenset(glyphs))
        return subset(fontfile, glyphs)

    monkeypatch.setattr(backend, "get_glyphs_subset", counted)
    return made


def map_pdf(canvas: PlateMapCanvas, plate_id: str) -> bytes:
    """A one-page PDF (TrueType fonts) of a four-well plate named ``plate_id`` on ``canvas``."""
    import matplotlib

    from killcurve.figures.save import PDF_METADATA

    buffer = io.BytesIO()
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        canvas.show(plate_map_data(plate(plate_id, [5.0, 7.0, 1.0, 11.0], [False] * 4)))
        canvas.figure.savefig(buffer, format="pdf", metadata=PDF_METADATA)
    return buffer.getvalue()


def test_font_subsets_are_made_once_per_glyph_set_and_give_the_same_bytes(
    subset_calls, monkeypatch
) -> None:
    from matplotlib.backends import _backend_pdf_ps as backend

    from killcurve.figures import pdf_pages

    monkeypatch.setattr(pdf_pages, "_SUBSETS", {})
    made = subset_calls
    counted = backend.get_glyphs_subset
    canvas = PlateMapCanvas((8, 12))
    with pdf_pages.reused_font_subsets():
        first = map_pdf(canvas, "P1")
        subsets = len(made)  # one per font subset of the page (matplotlib may make two)
        again = map_pdf(canvas, "P1")
        assert len(made) == subsets  # the same glyphs: nothing subset again
        other = map_pdf(canvas, "Q7")
    canvas.close()
    assert backend.get_glyphs_subset is counted  # restored on leaving
    assert first == again and first != other
    # Q7 adds a glyph (Q) to the text's subset: that one is made, the other reused.
    assert len(made) == subsets + 1 and made[-1] not in made[:subsets]
    # The subsets are embedded as TrueType (Type 42), not Type 3.
    assert b"/FontFile2" in first and b"/Type3" not in first


def test_stored_font_subsets_serve_a_later_process_with_the_same_bytes(
    tmp_path: Path, subset_calls, monkeypatch
) -> None:
    from killcurve.figures import pdf_pages

    made = subset_calls
    canvas = PlateMapCanvas((8, 12))

    def page(cache: Path | None) -> bytes:
        monkeypatch.setattr(pdf_pages, "_SUBSETS", {})  # as in a new process
        with pdf_pages.reused_font_subsets(cache):
            return map_pdf(canvas, "P1")

    cache = tmp_path / "cache"
    store = cache / pdf_pages.FONT_STORE
    plain = page(None)
    subsets = len(made)
    first = page(cache)
    assert len(made) == 2 * subsets and len(list(store.glob("*.ttf"))) == subsets
    later = page(cache)
    assert len(made) == 2 * subsets  # read from the store, not subset again
    assert later == first == plain
    # A damaged stored subset is made again, not trusted.
    for stored in store.glob("*.json"):
        stored.write_text("not json")
    assert page(cache) == plain and len(made) == 3 * subsets
    canvas.close()
