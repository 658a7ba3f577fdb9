"""The config schema: required keys, defaults, typos."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

REPO = Path(__file__).resolve().parents[1]
SCHEMA = str(REPO / "workflow/schemas/config.schema.yaml")


def _config() -> dict:
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def test_bundled_config_is_valid_and_defaults_are_filled() -> None:
    config = _config()
    config.pop("qc", None)
    config.pop("fit", None)
    validate(config, SCHEMA)
    assert config["qc"] == {
        "min_z_prime": 0.5,
        "max_control_cv_pct": 20,
        "min_signal_to_background": 2,
        "max_spontaneous_pct": 30,
        "position_alpha": 0.01,
        "position_min_effect_pct": 10,
        "exclude_failed_plates": True,
    }
    assert config["fit"] == {
        "model": "4pl",
        "fixed": {},
        "se": "jtj",
        "ci_level": 0.95,
        "profile": True,
        "bootstrap": {"n": 0, "method": "residual", "seed": 1},
        "lu_percents": [20, 30],
        "weighting": "none",
        "outliers": {"method": "none", "q": 0.01, "weighting": "signal"},
        "targets_per_well": 10000,
        "flags": {
            "flat_p": 0.05,
            "hill_range": [0.2, 8],
            "ci_factor": 100,
            "top_fraction": 0.8,
            "min_levels": 5,
            "negative_lysis": -10,
            "min_plateau_levels": 1,
        },
        "withhold": [],
        "verdict": {
            "invalid": [
                "no_usable_points",
                "too_few_levels",
                "not_converged",
                "flat",
                "below_min_efficacy",
            ],
            "limited": [
                "top_not_reached",
                "et50_above_range",
                "et50_below_range",
                "ci_unbounded",
                "hill_extreme",
                "negative_lysis",
                "few_points",
            ],
            "min_efficacy": 20,
            "use": ["valid"],
        },
    }
    assert config["axis"] == {"variable": "et_ratio"}


def test_missing_plates_is_refused_naming_the_key() -> None:
    config = _config()
    del config["plates"]
    with pytest.raises(WorkflowError, match="'plates' is a required property"):
        validate(config, SCHEMA)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.update(plate="x"), "'plate' was unexpected"),
        (lambda c: c["comparisons"][0]["by"].append("colour"), "'colour' is not one of"),
        (lambda c: c["fit"].update(model="6pl"), "'6pl' is not one of"),
        (lambda c: c["fit"].update(se="sandwich"), "'sandwich' is not one of"),
        (lambda c: c["qc"].update(min_z_prime="high"), "'high' is not of type 'number'"),
    ],
)
def test_typos_and_wrong_types_are_refused(edit, message: str) -> None:
    config = _config()
    edit(config)
    with pytest.raises(WorkflowError, match=message):
        validate(config, SCHEMA)


def test_samplesheet_schema_lists_every_reader_format() -> None:
    from killcurve.assay.readouts import READOUTS
    from killcurve.io.readers import READERS

    sheet_schema = yaml.safe_load((REPO / "workflow/schemas/plates.schema.yaml").read_text())
    assert set(sheet_schema["properties"]["format"]["enum"]) == {"auto", *READERS}
    assert set(sheet_schema["properties"]["readout"]["enum"]) == set(READOUTS) == {
        "luciferase", "release", "ldh", "flow", "impedance", "imaging_count",
        "imaging_confluence", "pct_lysis", "pct_survival",
    }  # fmt: skip


def test_samplesheet_rows_are_checked_as_snakemake_validate_does() -> None:
    """killcurve's row check and snakemake's validate accept and refuse the same rows."""
    import pandas as pd

    from killcurve.config import samplesheet_errors

    good = {"plate_id": "P1", "file": "a.csv", "layout": "a.toml", "readout": "release",
            "batch": "B1", "plate_index": None, "donor": "D7"}  # fmt: skip
    cases = [
        (good, None),
        ({**good, "plate_id": "P 1"}, "plate P 1 column plate_id: 'P 1' does not match"),
        ({**good, "readout": "chromium"}, "plate P1 column readout: 'chromium' is not one of"),
        ({**good, "batch": None}, "plate P1 column (row): 'batch' is a required property"),
        ({**good, "plate_index": "two"}, "plate P1 column plate_index: 'two' does not match"),
    ]
    schema = str(REPO / "workflow/schemas/plates.schema.yaml")
    for row, message in cases:
        errors = samplesheet_errors([row], "config/plates.tsv")
        frame = pd.DataFrame([row])
        if message is None:
            assert errors == []
            validate(frame, schema=schema)
        else:
            assert len(errors) == 1 and errors[0].startswith("samplesheet config/plates.tsv ")
            assert message in errors[0], errors[0]
            with pytest.raises(WorkflowError):
                validate(frame, schema=schema)


def test_the_new_batch_configs_commented_options_are_valid_keys() -> None:
    """Uncommented, the optional keys `killcurve new-batch` suggests pass the schema."""
    import re

    from killcurve.cli.scaffold import CONFIG

    lines = []
    for line in CONFIG.splitlines():
        option = re.match(r"^(\s*)#( +)((?:weighting|outliers|report|questions"
                          r"|nonspecific_targets|antigen)\b.*)$", line)  # fmt: skip
        indent = option and option[1] + option[2][1:]
        lines.append(f"{indent}{option[3].split('  #')[0]}" if option else line)
    config = yaml.safe_load("\n".join(lines))
    validate(config, SCHEMA)
    assert config["fit"]["weighting"] == "signal"
    assert config["fit"]["outliers"] == {"method": "rout", "q": 0.01, "weighting": "signal"}
    assert config["report"]["questions"] == ["specific"]
    assert config["report"]["antigen"] == "DLL3"
