"""A new study scaffolded with `killcurve new-batch`, filled with real exports, runs end to end."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from killcurve.cli.main import main
from killcurve.cli.scaffold import new_batch

from .conftest import run_study

# Two real 96-well exports of ../shared/reference/plate_readers: a Gen5 luminescence read and a
# BMG PHERAstar absorbance read. Neither is a killing assay; the layouts below give their wells
# killing roles so that the whole path (reader → layout → lysis → QC → fit → report) runs on
# bytes a real instrument wrote.
GEN5 = "agilent_gen5/luminescence/endpoint_singleplate_withoutStepLabel.txt"
BMG = "bmg_mars/PHERAstar output file.CSV"

LAYOUT = """\
[expt]
target = "K562"
cryo = "fresh"

[block.8x3.A1]
role = "sample"
product = "{test}"
lot = "T-L01"

[block.8x3.D1]
role = "sample"
product = "{ref}"
lot = "R-L01"

{et_blocks}
[block.1x6.A{t_col}]
role = "target_only"

[block.1x6.A{m_col}]
role = "max_lysis"
"""


def _layout(t_col: int, m_col: int) -> str:
    ets = (40, 20, 10, 5, 2.5, 1.25, 0.625, 0.3125)
    blocks = "".join(f"[block.1x6.A{c}]\net_ratio = {e:g}\n\n" for c, e in enumerate(ets, 1))
    return LAYOUT.format(
        test="PRODUCT-A", ref="PRODUCT-B", et_blocks=blocks, t_col=t_col, m_col=m_col
    )


def test_new_batch_refuses_to_overwrite(tmp_path: Path) -> None:
    new_batch(tmp_path)
    assert main(["new-batch", str(tmp_path)]) == 1


@pytest.mark.workflow
def test_new_batch_with_two_real_exports_runs_end_to_end(
    shared: Path, tmp_path: Path, capsys
) -> None:
    study = tmp_path / "batch"
    assert main(["new-batch", str(study)]) == 0
    corpus = shared / "reference" / "plate_readers"
    shutil.copy(corpus / GEN5, study / "config/data/lum.txt")
    shutil.copy(corpus / BMG, study / "config/data/abs.CSV")
    # Gen5 luminescence rises with the column: column 12 (brightest) = targets alone.
    (study / "config/layouts/lum.toml").write_text(_layout(t_col=12, m_col=11))
    # PHERAstar OD falls with the column: column 10 = spontaneous, column 12 = maximum.
    (study / "config/layouts/abs.toml").write_text(_layout(t_col=10, m_col=12))
    sheet = study / "config/plates.tsv"
    sheet.write_text(
        sheet.read_text()
        + "R1\tconfig/data/lum.txt\tauto\tconfig/layouts/lum.toml\tluciferase\tB1\t2024-02-15\n"
        + "R2\tconfig/data/abs.CSV\tauto\tconfig/layouts/abs.toml\trelease\tB2\t2026-06-18\n"
    )
    assert main(["check", str(study)]) == 0, capsys.readouterr().err
    assert "plates: 2 (luciferase 1, release 1)" in capsys.readouterr().out

    done = run_study(study)
    assert done.returncode == 0, done.stderr[-3000:]
    wells = pl.read_parquet(study / "results/tables/wells.parquet")

    # Values read by eye from the raw files: Gen5 A1 = 210530, BMG A1 = 1.691, H12 = 0.088.
    def signal(plate: str, well: str) -> float:
        return wells.filter((pl.col("plate_id") == plate) & (pl.col("well") == well))["signal"][0]

    assert signal("R1", "A1") == 210530.0
    assert signal("R2", "A1") == 1.691
    curves = pl.read_csv(study / "results/tables/curves.csv")
    assert curves.height == 4
    assert (study / "results/report.html").is_file()
    assert (study / "results/provenance.json").is_file()


def test_cli_check_reports_problems(tmp_path: Path) -> None:
    new_batch(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "killcurve.cli.main", "check", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1
    assert "no plate rows" in done.stderr
