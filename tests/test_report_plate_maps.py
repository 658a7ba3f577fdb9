"""Which plate maps the report embeds and which it links (config key report.max_plate_maps)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import polars as pl
import pytest
import yaml

from killcurve.report.html import PlateMaps, plate_maps_html, plates_to_embed

PLATES = [f"P{i:02d}" for i in range(1, 8)]


def test_up_to_the_limit_every_map_is_embedded() -> None:
    assert plates_to_embed(PLATES, {"P03"}, limit=7) == (PLATES, [])
    assert plates_to_embed([], set(), limit=0) == ([], [])


def test_above_the_limit_plates_needing_attention_come_first_in_plate_order() -> None:
    embedded, linked = plates_to_embed(PLATES, {"P06", "P02", "P04"}, limit=2)
    assert embedded == ["P02", "P04"]
    assert linked == ["P01", "P03", "P05", "P06", "P07"]
    # no plate needs attention: every map is linked
    assert plates_to_embed(PLATES, set(), limit=6) == ([], PLATES)


def test_linked_maps_are_listed_with_why_and_where(tmp_path: Path) -> None:
    maps = PlateMaps(
        embedded=[],
        linked=[("P01", "figures/plates/P01.png"), ("A&B", "figures/plates/A&B.png")],
        limit=1,
        pdf="figures/plate_maps.pdf",
    )
    text = "".join(plate_maps_html(maps))
    assert "0 of 2 plate maps are shown above" in text
    assert "more than 1 plates (config key report.max_plate_maps)" in text
    assert '<a href="figures/plate_maps.pdf">plate_maps.pdf</a>' in text
    assert '<a href="figures/plates/A&amp;B.png">A&amp;B</a>' in text
    assert plate_maps_html(PlateMaps()) == []


@pytest.mark.workflow
def test_report_of_a_study_above_the_limit_embeds_the_plates_needing_attention(
    example_run: Path, tmp_path: Path
) -> None:
    """The example's 22 plates all pass QC; P13 (an overflow well) and P15 (a manual
    exclusion) hold excluded wells. With the limit at 1 only P13's map is embedded; every
    other map is a link that resolves to its PNG from the report's folder."""
    from killcurve.pipeline import steps

    results = example_run / "results"
    wells = pl.read_parquet(results / "tables/wells.parquet")
    assert sorted(wells.filter("excluded")["plate_id"].unique()) == ["P13", "P15"]
    out = tmp_path / "report.html"
    tables = results / "tables"
    config = yaml.safe_load((example_run / "config/config.yaml").read_text())
    steps.report(
        study="capped", qc=results / "tables/plate_qc.csv",
        curves=results / "tables/curves.parquet", wells=results / "tables/wells.parquet",
        comparisons=tables / "comparisons.csv", figure_dir=results / "figures",
        provenance=results / "provenance.json", html_out=out,
        tables={"trend": tables / "stage_trend.csv", "retention": tables / "thaw_retention.csv",
                "viability_lots": tables / "viability.csv",
                "viability_products": tables / "viability_products.csv"},
        settings={**config, "report": {**config["report"], "max_plate_maps": 1}},
        timecourse={"metrics": tables / "timecourse_metrics.parquet",
                    "comparisons": tables / "timecourse_comparisons.csv", "config": config},
    )  # fmt: skip
    page = out.read_text()
    embedded = re.findall(r'alt="Figure \d+, plate (\w+)"', page)
    assert embedded == ["P13"]
    links = dict(re.findall(r'<a href="([^"]+\.png)">(\w+)</a>', page))
    assert sorted(links.values()) == [f"P{i:02d}" for i in range(1, 23) if i != 13]
    for href, plate in links.items():
        assert (out.parent / html.unescape(href)).resolve() == (
            results / f"figures/plates/{plate}.png"
        ).resolve()
    assert "1 of 22 plate maps are shown above" in page
    # the example's own report (limit 24) embeds all 22 maps, each over 30 kB of base64
    assert page.count("<img") == (results / "report.html").read_text().count("<img") - 21
    assert (results / "report.html").stat().st_size - out.stat().st_size > 21 * 30_000
