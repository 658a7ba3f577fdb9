"""Joining single-page PDFs into one document, with their shared resources stored once.

The plate maps are drawn one PDF per plate, so that an unchanged plate's page is reused
from the cache (:mod:`killcurve.common.memo`) instead of drawn again. Each of those PDFs carries
its own copy of what every map uses: the font subset (the same glyphs on most maps of a
study), the marker shapes and the colour-bar images. :func:`join_pages` copies the pages
into one document and :func:`share_resources` points every page at one copy of each
resource that is byte for byte the same, so the document is smaller than
:class:`matplotlib.backends.backend_pdf.PdfPages` writes it, and does not depend on which
pages came from the cache.

Embedding a TrueType font, matplotlib subsets it with fontTools: 0.3 s per PDF file, more
than drawing a map. :func:`reused_font_subsets` makes each (font, glyph set) subset once
per process.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pikepdf

#: The folder of a memo cache (``results/.cache``) that holds stored font subsets.
FONT_STORE = "fonts"
#: Resource categories whose entries are shared between pages (ISO 32000-1 §7.8.3).
RESOURCE_KINDS = ("/Font", "/XObject", "/ExtGState", "/Pattern", "/Shading", "/ColorSpace")


def join_pages(files: Sequence[Path]) -> bytes:
    """The pages of ``files`` (PDFs), in order, in one PDF with shared resources stored once.

    The document information says ``Producer: killcurve``; the file identifier is derived
    from the content (qpdf's deterministic ID), so the same pages give the same bytes.
    """
    import pikepdf  # here: the figure jobs use this module only for the font subsets

    joined = pikepdf.new()
    sources = [pikepdf.open(path) for path in files]
    try:
        for source in sources:
            joined.pages.extend(source.pages)
        share_resources(joined)
        joined.docinfo["/Producer"] = "killcurve"
        buffer = io.BytesIO()
        joined.save(buffer, deterministic_id=True)
    finally:
        for source in (*sources, joined):
            source.close()
    return buffer.getvalue()


def share_resources(document: pikepdf.Pdf) -> int:
    """Point every page's fonts, images, forms and graphics states at the first of the
    document's objects with the same content; returns how many references were changed.

    Two objects have the same content when their dictionaries (but ``/Length``) and their
    stream bytes, as stored, are equal, following every reference inside them. Objects no
    page uses any more are dropped when the document is saved.
    """
    import pikepdf

    digests: dict[tuple[int, int], bytes] = {}
    first: dict[bytes, pikepdf.Object] = {}
    changed = 0
    for page in document.pages:
        resources = page.obj.get("/Resources")
        if resources is None:
            continue
        for kind in RESOURCE_KINDS:
            entries = resources.get(kind)
            if not isinstance(entries, pikepdf.Dictionary):
                continue
            for name in list(entries.keys()):
                item = entries.get(name)
                if not item.is_indirect:
                    continue
                canonical = first.setdefault(_digest(item, digests), item)
                if canonical.objgen != item.objgen:
                    entries[name] = canonical
                    changed += 1
    return changed


def _digest(item: object, seen: dict[tuple[int, int], bytes]) -> bytes:
    """SHA-256 of ``item``'s content, references followed (each indirect object once).
    Numbers and booleans arrive as Python values (pikepdf converts them)."""
    import pikepdf

    if not isinstance(item, pikepdf.Object):
        return hashlib.sha256(repr(item).encode()).digest()
    indirect = item.is_indirect
    if indirect and item.objgen in seen:
        return seen[item.objgen]
    if indirect:
        seen[item.objgen] = b"cycle"  # a reference back to an object being hashed
    digest = hashlib.sha256()
    if isinstance(item, pikepdf.Stream):
        digest.update(b"stream")
        _update_dict(digest, item, seen, skip=("/Length",))
        digest.update(item.read_raw_bytes())
    elif isinstance(item, pikepdf.Dictionary):
        digest.update(b"dict")
        _update_dict(digest, item, seen)
    elif isinstance(item, pikepdf.Array):
        digest.update(b"array")
        for value in item:
            digest.update(_digest(value, seen))
    else:
        digest.update(item.unparse(resolved=True))
    value = digest.digest()
    if indirect:
        seen[item.objgen] = value
    return value


def _update_dict(
    digest: hashlib._Hash,
    item: pikepdf.Dictionary | pikepdf.Stream,
    seen: dict[tuple[int, int], bytes],
    skip: tuple[str, ...] = (),
) -> None:
    """Feed ``item``'s keys (sorted) and their values' digests into ``digest``."""
    for key in sorted(item.keys()):
        if key in skip:
            continue
        digest.update(key.encode())
        digest.update(_digest(item.get(key), seen))


#: Subsets made while :func:`reused_font_subsets` was active, in this process: the subset
#: font file's bytes and matplotlib's glyph index map, per (font file, face, glyph set).
_SUBSETS: dict[tuple[str, int, frozenset[int]], tuple[bytes, dict[int, int]]] = {}


@contextmanager
def reused_font_subsets(cache: Path | None = None) -> Iterator[None]:
    """While active, matplotlib's PDF backend gets each TrueType subset from the first time
    it was made (same font file, face and glyphs) instead of subsetting again: in this
    process, and with ``cache`` (a memo cache directory, subsets in its :data:`FONT_STORE`
    folder) in earlier runs too.

    The subset is kept as font-file bytes and handed back re-opened, also the first time,
    so a PDF has the same bytes whether its subset was made or reused. A stored subset is
    named by the SHA-256 of the font file's bytes, the face, the glyphs and the versions of
    matplotlib and fontTools; one that cannot be read or written is made again. This
    replaces ``matplotlib.backends._backend_pdf_ps.get_glyphs_subset`` (a private function;
    its ``SubsetResults`` form is matplotlib ≥ 3.11) for the duration; with another
    matplotlib the fonts are subset as usual.
    """
    from matplotlib.backends import _backend_pdf_ps as backend

    store = Path(cache) / FONT_STORE if cache is not None else None
    make = getattr(backend, "get_glyphs_subset", None)
    results = getattr(backend, "SubsetResults", None)
    if make is None or results is None:
        yield
        return

    def reuse(fontfile: Any, glyphs: Collection[int]) -> AbstractContextManager[Any]:
        from fontTools.ttLib import TTFont

        key = (str(fontfile), getattr(fontfile, "face_index", 0), frozenset(glyphs))
        if key not in _SUBSETS:
            stored = _stored_subset(store, key) if store is not None else None
            if stored is None:
                with make(fontfile, set(glyphs)) as subset:
                    stored = (
                        backend.font_as_file(subset.font).getvalue(),
                        dict(subset.glyph_index_map),
                    )
                if store is not None:
                    _store_subset(store, key, stored)
            _SUBSETS[key] = stored
        font_file, index_map = _SUBSETS[key]
        # recalcTimestamp=False: the head table keeps its date (not the time of saving).
        font = TTFont(io.BytesIO(font_file), recalcTimestamp=False)
        return results(font, dict(index_map))._as_cm()

    backend.get_glyphs_subset = reuse
    try:
        yield
    finally:
        backend.get_glyphs_subset = make


def _subset_name(key: tuple[str, int, frozenset[int]]) -> str:
    """The stored name of a subset: SHA-256 of the font's bytes, face, glyphs and versions."""
    from importlib.metadata import version

    path, face, glyphs = key
    digest = hashlib.sha256(_file_digest(path).encode())
    digest.update(f"{face}|{sorted(glyphs)}".encode())
    digest.update(f"matplotlib={version('matplotlib')} fonttools={version('fonttools')}".encode())
    return digest.hexdigest()


@cache
def _file_digest(path: str) -> str:
    """SHA-256 of a font file's bytes (once per process)."""
    from killcurve.common.hashing import sha256

    return sha256(Path(path))


def _stored_subset(
    store: Path, key: tuple[str, int, frozenset[int]]
) -> tuple[bytes, dict[int, int]] | None:
    """The subset stored under ``key``'s name in ``store``, or None."""
    name = Path(store) / _subset_name(key)
    try:
        font_file = name.with_suffix(".ttf").read_bytes()
        pairs = json.loads(name.with_suffix(".json").read_text())
        return font_file, {int(old): int(new) for old, new in pairs}
    except (OSError, ValueError, TypeError):
        return None


def _store_subset(
    store: Path, key: tuple[str, int, frozenset[int]], subset: tuple[bytes, dict[int, int]]
) -> None:
    """Write ``subset`` into ``store`` (each file under a name of this process, then renamed;
    the map last, so a subset is only read once both files are whole). Jobs running side by
    side may store the same subset at once: they write the same bytes, each to its own file."""
    name = Path(store) / _subset_name(key)
    font_file, index_map = subset
    try:
        name.parent.mkdir(parents=True, exist_ok=True)
        for suffix, data in (
            (".ttf", font_file),
            (".json", json.dumps(sorted(index_map.items())).encode()),
        ):
            partial = name.with_suffix(f"{suffix}.{os.getpid()}.partial")
            partial.write_bytes(data)
            os.replace(partial, name.with_suffix(suffix))
    except OSError:
        pass  # the store is only an optimisation
