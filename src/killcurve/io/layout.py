"""Plate layouts: wellmap TOML files that say what each well holds.

Well fields (see ``config/README.md``): ``role`` for every used well, and for
``sample`` wells ``product``, ``lot``, ``target``, ``et_ratio`` (effector cells
per target cell: 10 means 10:1) or, on a concentration axis, ``concentration``
(antibody or engager, in the config's ``axis.unit``), optionally ``stage`` and
``cryo``. Fields may also come from the samplesheet (one value for the whole plate). A
``[platemap]`` table takes wells, fields and roles from an Incucyte ``.PlateMap``
(:func:`killcurve.io.platemap.platemap_wells`; ``config/README.md``, Layouts).
"""

from __future__ import annotations

import json
import tempfile
import tomllib
from pathlib import Path

import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.io.platemap import platemap_wells

#: Roles a well may have.
ROLES = (
    "sample",
    "target_only",
    "max_lysis",
    "background",
    "effector_only",
    "volume_correction",
)
#: Values the ``cryo`` field may take.
CRYO_STATES = ("fresh", "post_thaw")
#: Fields every sample well needs (from the layout or the samplesheet).
SAMPLE_FIELDS = ("product", "lot", "target", "et_ratio")
#: Numeric well fields; a sample well needs ``et_ratio`` or ``concentration`` (> 0 where set).
NUMERIC_FIELDS = {"et_ratio": "(10 means 10:1)", "concentration": "(in the axis unit)"}
#: Curve-defining text fields that are filled with null when a study does not use them.
OPTIONAL_TEXT_FIELDS = ("stage", "cryo")

_WELLMAP_INTERNAL = ("well0", "row_i", "col_j")


def read_layout(path: Path, cache: Path | None = None) -> pl.DataFrame:
    """Load a wellmap layout as one row per defined well.

    Columns: ``well`` (``A1``), ``row`` (``A``), ``col`` (Int32), ``role`` and
    every field the layout defines. With a ``[platemap]`` table the PlateMap's wells that a role
    rule chooses join the layout's own, a field the layout sets in a well wins over the
    PlateMap's, and wells left without a role are left out. ``et_ratio`` and
    ``concentration`` are Float64 when present.
    Raises :class:`KillcurveInputError` naming the file when it cannot be read.

    With ``cache`` (a directory), the table read last time is reused while the layout and
    every file it includes (wellmap's ``meta.include`` and the like, and a ``[platemap]``
    table's PlateMap) keep their bytes
    (:func:`killcurve.common.memo.memo_table_from_files`): re-reading an unchanged chunk of
    plates then neither imports wellmap and pandas (~0.8 s) nor parses its TOML files.
    """
    path = Path(path)
    if not path.is_file():
        raise KillcurveInputError(
            f"layout {path}: file not found. Check the samplesheet's layout column "
            "(paths are relative to the study directory)."
        )
    if cache is None:
        return _parse_layout(path)[0]
    import hashlib

    from killcurve.common.memo import memo_table_from_files, portable_path

    name = portable_path(path)
    entry = Path(cache) / "layouts" / hashlib.sha256(name.encode()).hexdigest()[:32]
    return memo_table_from_files(entry, f"layout {name}", lambda: _parse_layout(path))


def _parse_layout(path: Path) -> tuple[pl.DataFrame, set[Path]]:
    """:func:`read_layout` without a cache, and the files it read (the layout too)."""
    spec = _platemap_spec(path)
    if spec is None:
        frame, files, extras = _wellmap_frame(path, path)
        if "platemap" in extras:
            raise KillcurveInputError(
                f"layout {path}: a [platemap] table comes from an included file; write it in "
                "the layout file itself."
            )
        if frame.height == 0:
            raise KillcurveInputError(
                f"layout {path}: defines no wells. Add [block]/[well] tables."
            )
        return frame, files
    wells, constants, platemap = platemap_wells(spec, path, ROLES)
    for name, hint in NUMERIC_FIELDS.items():
        if name in wells.columns and not wells.schema[name].is_numeric():
            raise KillcurveInputError(
                f"layout {path} [platemap]: field {name} must be a number {hint}; the PlateMap "
                f"gives {wells[name].drop_nulls()[0]!r}. Map it to a numeric column."
            )
        if name in constants and not isinstance(constants[name], int | float):
            raise KillcurveInputError(
                f"layout {path} [platemap] key set.{name}: must be a number {hint}, got "
                f"{constants[name]!r}."
            )
    # wellmap reads the layout through a wrapper that includes it and defines the wells a role
    # rule chose, so the layout's row/col/expt tables reach them as they reach its own wells.
    chosen = wells.filter(pl.col("role").is_not_null())["well"]
    with tempfile.TemporaryDirectory() as folder:
        wrapper = Path(folder) / "platemap_wells.toml"
        wrapper.write_text(
            f"[meta]\ninclude = {json.dumps(str(path.resolve()))}\n"
            + "".join(f"[well.{well}]\n" for well in chosen)
        )
        frame, files, _ = _wellmap_frame(wrapper, path)
        files = {f for f in files if f.resolve() != wrapper.resolve()}
    layout = _merge_platemap(frame, wells, constants)
    if layout.height == 0:
        raise KillcurveInputError(_no_role(path))
    return layout, files | {path, platemap}


def _no_role(path: Path) -> str:
    """The message for a ``[platemap]`` layout in which no well has a role."""
    return (
        f"layout {path}: no well has a role: no PlateMap well matches a rule of "
        "[platemap.roles] and the layout's own wells give none. Add role rules, e.g. "
        '[platemap.roles] sample = { compound = "…" }.'
    )


def _platemap_spec(path: Path) -> object | None:
    """The layout's own ``[platemap]`` table; None when it has none or is not valid TOML (then
    wellmap reports the error)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")).get("platemap")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None


def _wellmap_frame(path: Path, shown: Path) -> tuple[pl.DataFrame, set[Path], dict]:
    """The wells wellmap reads from ``path`` (errors name ``shown``), the files it read and its
    extra tables."""
    # Imported here: wellmap loads pandas and matplotlib (~0.8 s), which parsing the
    # workflow and the steps that only merge read plates do not need.
    import pandas as pd
    import wellmap

    try:
        frame, meta = wellmap.load(str(path), meta=True)
    except Exception as err:  # wellmap reports TOML and layout errors with its own types
        message = " ".join(str(err).replace(str(path), str(shown)).split())
        if shown != path and "No wells defined" in message:
            raise KillcurveInputError(_no_role(shown)) from None
        raise KillcurveInputError(
            f"layout {shown}: not a valid wellmap layout: {message}. "
            "See https://wellmap.readthedocs.io for the file format."
        ) from None
    frame = frame.drop(columns=[c for c in _WELLMAP_INTERNAL if c in frame])
    for name, hint in NUMERIC_FIELDS.items():
        if name not in frame:
            continue
        numeric = pd.to_numeric(frame[name], errors="coerce")
        bad = frame[frame[name].notna() & numeric.isna()]
        if len(bad):
            raise KillcurveInputError(
                f"layout {shown} well {bad['well'].iloc[0]}: {name} must be a number "
                f"{hint}, got {bad[name].iloc[0]!r}."
            )
        frame[name] = numeric.astype(float)
    for column in frame.select_dtypes(include="object", exclude="str").columns:
        # A field with numbers in some wells and text in others becomes text everywhere.
        frame[column] = frame[column].map(lambda v: None if pd.isna(v) else str(v))
    layout = pl.from_pandas(frame).with_columns(pl.col("col").cast(pl.Int32))
    return layout, {Path(d) for d in meta.dependencies} | {shown}, dict(meta.extras)


def _merge_platemap(
    frame: pl.DataFrame, wells: pl.DataFrame, constants: dict[str, object]
) -> pl.DataFrame:
    """The layout's wells (``frame``) with the PlateMap's (``wells``) and the ``constants`` (for
    every well) filled in: a field the layout sets in a well wins; wells left without a role
    are dropped."""
    wells = wells.with_columns(pl.lit(v).alias(k) for k, v in constants.items())
    joined = frame.join(
        wells.drop("row", "col"), on="well", how="left", suffix="_platemap"
    ).with_columns(
        pl.col(f"{k}_platemap" if k in frame.columns else k).fill_null(pl.lit(v))
        for k, v in constants.items()
    )
    fields = []
    for name in wells.columns[3:]:
        if name not in frame.columns:
            continue
        mine, theirs = joined.schema[name], joined.schema[f"{name}_platemap"]
        if mine != theirs and not (mine.is_numeric() and theirs.is_numeric()):
            mine = theirs = pl.String
        fields.append(pl.coalesce(pl.col(name).cast(mine), pl.col(f"{name}_platemap").cast(theirs)))
    return (
        joined.with_columns(fields)
        .drop(f"{name}_platemap" for name in wells.columns[3:] if name in frame.columns)
        .filter(pl.col("role").is_not_null())
        .select("well", "row", "col", "role", pl.exclude("well", "row", "col", "role"))
        .sort(pl.col("row").str.len_chars(), "row", "col")
    )


def check_layout(layout: pl.DataFrame, where: str, titrated: bool = True) -> None:
    """Check roles and sample fields of a layout already merged with plate metadata.

    ``where`` names the plate and layout file in messages. Raises
    :class:`KillcurveInputError` on: a used well without role, an unknown role,
    a sample well missing a required field, an E:T that is missing (and no
    ``concentration`` given instead), zero, negative or not finite, a
    concentration that is not positive, or a ``cryo`` value other than fresh/post_thaw.
    ``titrated=False`` (time-resolved plates) lets sample wells have neither E:T nor
    concentration: an untitrated condition followed over time.
    """
    if "role" not in layout.columns:
        raise KillcurveInputError(f"{where}: no well has a 'role'. Give every used well a role.")
    no_role = layout.filter(pl.col("role").is_null())
    if no_role.height:
        raise KillcurveInputError(
            f"{where}: wells {_wells(no_role)} have fields but no role. "
            f"Give them one of: {', '.join(ROLES)}."
        )
    unknown = layout.filter(~pl.col("role").is_in(ROLES))
    if unknown.height:
        raise KillcurveInputError(
            f"{where} well {unknown['well'][0]}: unknown role {unknown['role'][0]!r}. "
            f"Roles are: {', '.join(ROLES)}."
        )
    samples = layout.filter(pl.col("role") == "sample")
    by_et = samples
    if "concentration" in layout.columns:
        bad_conc = samples.filter(
            pl.col("concentration").is_not_null()
            & ~(pl.col("concentration").is_finite() & (pl.col("concentration") > 0))
        )
        if bad_conc.height:
            raise KillcurveInputError(
                f"{where} well {bad_conc['well'][0]}: concentration "
                f"{bad_conc['concentration'][0]} is not a positive number (the titration is "
                "fitted on a log scale; a no-antibody well is a control, not a sample)."
            )
        by_et = samples.filter(pl.col("concentration").is_null())
    for field in SAMPLE_FIELDS:
        need = by_et if field == "et_ratio" else samples
        if field == "et_ratio" and (not titrated or (need.height == 0 and samples.height)):
            continue  # titrated by concentration (E:T optional) or a time course without x
        if field not in layout.columns:
            raise KillcurveInputError(
                f"{where}: sample wells have no {field!r}. Add it to the layout "
                "(or as a samplesheet column when it is the same for the whole plate)."
            )
        missing = need.filter(pl.col(field).is_null())
        if missing.height:
            raise KillcurveInputError(
                f"{where}: sample wells {_wells(missing)} have no {field!r}. "
                "Set it in the layout for those wells."
            )
    if "et_ratio" in layout.columns:
        bad_et = samples.filter(
            pl.col("et_ratio").is_not_null()
            & ~(pl.col("et_ratio").is_finite() & (pl.col("et_ratio") > 0))
        )
        if bad_et.height:
            raise KillcurveInputError(
                f"{where} well {bad_et['well'][0]}: et_ratio {bad_et['et_ratio'][0]} is not a "
                "positive number. E:T is effector cells per target cell (10 means 10:1)."
            )
    if "cryo" in layout.columns:
        bad_cryo = samples.filter(pl.col("cryo").is_not_null() & ~pl.col("cryo").is_in(CRYO_STATES))
        if bad_cryo.height:
            raise KillcurveInputError(
                f"{where} well {bad_cryo['well'][0]}: cryo {bad_cryo['cryo'][0]!r} is not one "
                f"of {', '.join(CRYO_STATES)}."
            )


def _wells(frame: pl.DataFrame, most: int = 6) -> str:
    wells = frame["well"].to_list()
    text = ", ".join(wells[:most])
    return text + (f" (+{len(wells) - most} more)" if len(wells) > most else "")
