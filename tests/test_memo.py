"""Memoised outputs: reused only when the data they were made from is the same."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from killcurve.common.memo import memo_key, memoised
from killcurve.errors import KillcurveInputError
from killcurve.pipeline import steps
from killcurve.pipeline.target_figures import _screen_copy
from killcurve.study.axis import read_curves


def test_memoised_makes_once_then_copies_until_the_key_changes(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    made: list[str] = []

    def make(text: str):
        return lambda: (made.append(text), out.write_text(text))

    entry = tmp_path / "cache/fig"
    assert memoised(entry, "k1", {"out.txt": out}, make("first")) is False
    out.write_text("something else")  # the job deleted/overwrote its output meanwhile
    assert memoised(entry, "k1", {"out.txt": out}, make("never")) is True
    assert out.read_text() == "first" and made == ["first"]
    assert memoised(entry, "k2", {"out.txt": out}, make("second")) is False
    assert out.read_text() == "second" and made == ["first", "second"]
    # One entry per name: the cache holds the last key only.
    assert (entry / "key").read_text() == "k2"
    assert memoised(entry, "k1", {"out.txt": out}, make("third")) is False


def test_a_damaged_entry_is_remade_not_trusted(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    entry = tmp_path / "cache/fig"
    memoised(entry, "k", {"out.txt": out}, lambda: out.write_text("a"))
    (entry / "out.txt").unlink()
    assert memoised(entry, "k", {"out.txt": out}, lambda: out.write_text("b")) is False
    assert out.read_text() == "b" and (entry / "out.txt").read_text() == "b"


def test_key_follows_table_content_not_identity() -> None:
    a = pl.DataFrame({"x": [1.0, 2.0], "s": ["p", "q"]})
    same = pl.DataFrame({"x": [1.0, 2.0], "s": ["p", "q"]})
    assert memo_key([a, "t"]) == memo_key([same, "t"])
    assert memo_key([a, "t"]) != memo_key([a.with_columns(pl.col("x") + 1e-12), "t"])
    assert memo_key([a, "t"]) != memo_key([a, "u"])
    # Parts are delimited: moving text between parts changes the key.
    assert memo_key(["ab", "c"]) != memo_key(["a", "bc"])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_target_figures_are_copied_only_while_their_target_data_is_unchanged(
    small_run: Path, tmp_path: Path
) -> None:
    """The small study has K562 and SHP-77 curves: a change to SHP-77's curves leaves the
    K562 figures' data alone (copied, same bytes), a change to K562's redraws them."""
    tables = small_run / "results/tables"
    wells, curves = tables / "wells.parquet", tables / "curves.parquet"
    fits = pl.read_parquet(curves)
    assert set(fits["target"].to_list()) == {"K562", "SHP-77"}
    out = {
        name: tmp_path / f"{name.replace('_', '.')}"
        for name in ("curves_pdf", "curves_png", "residuals_pdf", "residuals_png")
    }
    cache = tmp_path / "cache"
    args = {"wells": wells, "slug": "K562", "order": ["NEUK203-13", "NEUK200-13"], "cache": cache}
    assert steps.plot_target_figures(curves=curves, **args, **out) is False
    # The same figures as the workflow drew without a cache.
    figures = small_run / "results/figures"
    assert _digest(out["curves_pdf"]) == _digest(figures / "curves_K562.pdf")
    assert _digest(out["residuals_png"]) == _digest(figures / "residuals_K562.png")
    first = {k: _digest(p) for k, p in out.items()}

    other = tmp_path / "other.parquet"
    fits.with_columns(
        pl.when(pl.col("target") == "SHP-77").then(pl.col("top") + 1).otherwise(pl.col("top"))
    ).write_parquet(other)
    for path in out.values():
        path.unlink()
    assert steps.plot_target_figures(curves=other, **args, **out) is True
    assert {k: _digest(p) for k, p in out.items()} == first

    moved = tmp_path / "moved.parquet"
    fits.with_columns(
        pl.when(pl.col("target") == "K562").then(pl.col("top") + 1).otherwise(pl.col("top"))
    ).write_parquet(moved)
    assert steps.plot_target_figures(curves=moved, **args, **out) is False
    assert _digest(out["curves_pdf"]) != first["curves_pdf"]

    # A target the curves no longer hold is an error naming it, not an empty figure.
    with pytest.raises(KillcurveInputError, match="no target named 'H82'"):
        steps.plot_target_figures(curves=curves, **{**args, "slug": "H82"}, **out)


def test_figure_jobs_leave_the_report_its_screen_copies(
    small_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A figure job with a cache scales each PNG for the report from the pixels it drew;
    the report then copies that (no decoding), the bytes it would make from the PNG."""
    from PIL import Image

    from killcurve.report.html import MAX_WIDTH_PX, screen_png

    tables = small_run / "results/tables"
    out = {
        name: tmp_path / f"K562_{name}.{name[-3:]}" for name in ("c_pdf", "c_png", "r_pdf", "r_png")
    }
    cache = tmp_path / "cache"
    steps.plot_target_figures(
        tables / "wells.parquet", tables / "curves.parquet", "K562", out["c_pdf"], out["c_png"],
        out["r_pdf"], out["r_png"], ["NEUK203-13", "NEUK200-13"], cache,
    )  # fmt: skip
    copies = {name: cache / "screen" / out[name].name for name in ("c_png", "r_png")}
    for name, copy in copies.items():
        assert copy.read_bytes() == screen_png(out[name])
        assert Image.open(copy).width == MAX_WIDTH_PX < Image.open(out[name]).width
    monkeypatch.setattr("killcurve.report.html.screen_png", lambda *_: pytest.fail("decoded"))
    assert _screen_copy(out["c_png"], cache) == copies["c_png"]


def test_screen_copies_of_opaque_figures_are_scaled_as_rgb() -> None:
    """Dropping a constant 255 alpha before Lanczos changes no pixel (Pillow premultiplies
    by alpha), only the time and the file; a figure with transparency keeps its alpha."""
    import io

    import numpy as np
    from PIL import Image

    from killcurve.report.html import scaled_png

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (300, 500, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    image = Image.fromarray(pixels, "RGBA")
    small = Image.open(io.BytesIO(scaled_png(image, 200)))
    assert small.mode == "RGB" and small.size == (200, 120)
    rgba = np.asarray(image.resize((200, 120), Image.Resampling.LANCZOS))
    assert (np.asarray(small) == rgba[..., :3]).all()
    pixels[0, 0, 3] = 0
    assert Image.open(io.BytesIO(scaled_png(Image.fromarray(pixels, "RGBA"), 200))).mode == "RGBA"


def test_report_with_screen_copies_is_the_same_page(small_run: Path, tmp_path: Path) -> None:
    """Screen-size copies made once and reused give the report the bytes it has without."""
    from killcurve.config import load_config

    config = load_config(small_run / "config/config.yaml")
    tables = small_run / "results/tables"
    optional = {"trend": "stage_trend.csv", "retention": "thaw_retention.csv"}
    args = {
        "study": config["study"],
        "qc": tables / "plate_qc.csv",
        "curves": tables / "curves.parquet",
        "wells": tables / "wells.parquet",
        "comparisons": tables / "comparisons.csv",
        "figure_dir": small_run / "results/figures",
        "provenance": small_run / "results/provenance.json",
        "tables": {k: tables / v for k, v in optional.items() if (tables / v).exists()},
        "settings": {k: config.get(k) for k in ("stages", "thaw", "comparisons", "report")},
    }
    pages = []
    for i, cache in enumerate((None, tmp_path / "cache", tmp_path / "cache")):
        steps.report(html_out=tmp_path / f"r{i}.html", cache=cache, **args)
        pages.append((tmp_path / f"r{i}.html").read_bytes())
    assert pages[0] == pages[1] == pages[2]
    assert pages[0] == (small_run / "results/report.html").read_bytes()
    copies = sorted(p.name for p in (tmp_path / "cache/screen").glob("*.png"))
    assert "curves_K562.png" in copies and "forest.png" in copies


def test_dossier_figure_is_copied_while_its_table_is_unchanged(
    small_run: Path, tmp_path: Path
) -> None:
    """The forest plot is drawn from comparisons.csv: same rows, same bytes copied; one
    estimate changed, redrawn."""
    from killcurve.config import load_config

    config = load_config(small_run / "config/config.yaml")
    tables = small_run / "results/tables"
    settings = {k: config.get(k) for k in ("stages", "thaw", "comparisons", "report")}
    order = ["NEUK203-13", "NEUK200-13"]
    pdf, png = tmp_path / "forest.pdf", tmp_path / "forest.png"

    def draw(comparisons: Path) -> bool:
        return steps.plot_dossier(
            "forest", tables / "curves.parquet", {"comparisons": comparisons}, pdf, png,
            order, settings, cache=tmp_path / "cache",
        )  # fmt: skip

    assert draw(tables / "comparisons.csv") is False
    assert pdf.read_bytes() == (small_run / "results/figures/forest.pdf").read_bytes()
    assert draw(tables / "comparisons.csv") is True
    assert png.read_bytes() == (small_run / "results/figures/forest.png").read_bytes()
    edited = tmp_path / "comparisons.csv"
    table = pl.read_csv(tables / "comparisons.csv", infer_schema_length=None)
    table.with_columns(pl.col("estimate") * 1.01).write_csv(edited)
    assert draw(edited) is False
    assert pdf.read_bytes() != (small_run / "results/figures/forest.pdf").read_bytes()


def test_viability_figure_needs_only_the_products_not_the_curves(
    example_run: Path, tmp_path: Path
) -> None:
    """The workflow draws the viability figure with the product list of results/targets
    (so that a changed curve does not rerun it); from the curve table it is the same."""
    from killcurve.config import load_config

    config = load_config(example_run / "config/config.yaml")
    keys = ("stages", "thaw", "comparisons", "viability", "report")
    settings = {k: config.get(k) for k in keys}
    tables = example_run / "results/tables"
    counts = {
        "viability_lots": tables / "viability.csv",
        "viability_products": tables / "viability_products.csv",
    }
    order = ["NEUK203-13", "NEUK200-13"]
    drawn = (example_run / "results/figures/viability.png").read_bytes()
    png = tmp_path / "from_curves.png"
    steps.plot_dossier(
        "viability", tables / "curves.parquet", counts, tmp_path / "a.pdf", png, order, settings
    )
    assert png.read_bytes() == drawn
    products = example_run / "results/targets/products.txt"
    assert products.read_text() == "NEUK200-13\nNEUK203-13\n"
    png = tmp_path / "from_products.png"
    steps.plot_dossier(
        "viability", None, counts, tmp_path / "b.pdf", png, order, settings, products=products
    )
    assert png.read_bytes() == drawn
    with pytest.raises(KillcurveInputError, match="forest figure needs the fitted curves"):
        steps.plot_dossier("forest", None, {}, tmp_path / "c.pdf", png, order, settings)


def test_comparison_groups_are_recomputed_only_where_their_data_changed(
    small_run: Path, tmp_path: Path
) -> None:
    """comparisons.csv through the cache is the workflow's, byte for byte; after one target's
    curves change, only that target's groups are computed again."""
    from killcurve.common.memo import memo_json, memo_key
    from killcurve.config import load_config
    from killcurve.stats.compare import compare_products

    config = load_config(small_run / "config/config.yaml")
    tables = small_run / "results/tables"
    out = tmp_path / "comparisons.csv"
    steps.compare(tables / "curves.parquet", config["comparisons"], out,
                  tables / "wells.parquet", cache=tmp_path / "cache")  # fmt: skip
    assert out.read_bytes() == (tables / "comparisons.csv").read_bytes()
    steps.compare(tables / "curves.parquet", config["comparisons"], out,
                  tables / "wells.parquet", cache=tmp_path / "cache")  # fmt: skip
    assert out.read_bytes() == (tables / "comparisons.csv").read_bytes()

    computed: list[str] = []

    def memo(name, parts, make):
        def counted():
            computed.append(name)
            return make()

        return memo_json(tmp_path / "memo" / str(abs(hash(name))), memo_key(parts), counted)

    fits, axis = read_curves(tables / "curves.parquet")
    points = steps.read_points(tables / "wells.parquet", axis)
    first = compare_products(fits, config["comparisons"], points, memo=memo)
    n_groups = len(computed)
    assert n_groups >= 2
    again = compare_products(fits, config["comparisons"], points, memo=memo)
    assert len(computed) == n_groups and again.equals(first)
    moved = points.with_columns(
        pl.when(pl.col("target") == "SHP-77")
        .then(pl.col("pct_lysis") + 1.0)
        .otherwise(pl.col("pct_lysis"))
    )
    compare_products(fits, config["comparisons"], moved, memo=memo)
    recomputed = computed[n_groups:]
    assert recomputed and all("SHP-77" in name for name in recomputed)


def test_figure_keys_follow_the_users_matplotlibrc(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    def digest(rc: str | None) -> str:
        env = dict(os.environ)
        if rc is not None:
            (tmp_path / "matplotlibrc").write_text(rc)
            env["MATPLOTLIBRC"] = str(tmp_path / "matplotlibrc")
        probe = "from killcurve.common.memo import style_digest; print(style_digest())"
        return subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()

    default = digest(None)
    assert len(default) == 64 and digest(None) == default
    # A setting that changes how figures look changes the key, so they are drawn again.
    assert digest("lines.linewidth: 3\n") != default
    # The backend does not change a saved file: it is left out.
    assert digest("backend: pdf\n") == default


def _write_layout(folder: Path, target: str = "K562") -> Path:
    """A layout that takes its target from an included file (wellmap's ``meta.include``)."""
    (folder / "common.toml").write_text(f'[col.1-3]\ntarget = "{target}"\n')
    layout = folder / "plate.toml"
    layout.write_text(
        '[meta]\ninclude = "common.toml"\n\n'
        '[row.A]\nrole = "sample"\nproduct = "P"\nlot = "L1"\n\n'
        "[col.1]\net_ratio = 1\n[col.2]\net_ratio = 3\n[col.3]\net_ratio = 10\n"
    )
    return layout


def test_parsed_layout_is_reused_until_it_or_an_included_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from killcurve.io import layout as layout_module

    layout = _write_layout(tmp_path)
    cache = tmp_path / "cache"
    parses: list[Path] = []
    parse = layout_module._parse_layout

    def counted(path: Path):
        parses.append(path)
        return parse(path)

    monkeypatch.setattr(layout_module, "_parse_layout", counted)
    fresh = layout_module.read_layout(layout)
    assert fresh["target"].to_list() == ["K562"] * 3
    assert fresh["et_ratio"].to_list() == [1.0, 3.0, 10.0]
    first = layout_module.read_layout(layout, cache)
    again = layout_module.read_layout(layout, cache)
    # The cached table is the parsed one, schema and values (Int32 columns, Float64 E:T).
    assert first.equals(fresh) and again.equals(fresh) and again.schema == fresh.schema
    assert len(parses) == 2  # once without the cache, once to fill it
    # Editing the included file (not the layout itself) is seen.
    (tmp_path / "common.toml").write_text('[col.1-3]\ntarget = "SHP-77"\n')
    assert layout_module.read_layout(layout, cache)["target"].to_list() == ["SHP-77"] * 3
    assert len(parses) == 3
    # An included file that is gone is reported as without the cache, not served stale.
    (tmp_path / "common.toml").unlink()
    with pytest.raises(KillcurveInputError, match="not a valid wellmap layout"):
        layout_module.read_layout(layout, cache)


def test_a_layout_that_fails_is_not_cached(tmp_path: Path) -> None:
    from killcurve.io.layout import read_layout

    layout = tmp_path / "plate.toml"
    layout.write_text('[row.A]\nrole = "sample"\n[col.1]\net_ratio = "ten"\n')
    for _ in range(2):
        with pytest.raises(KillcurveInputError, match="et_ratio must be a number"):
            read_layout(layout, tmp_path / "cache")
    assert not list((tmp_path / "cache").rglob("key"))
