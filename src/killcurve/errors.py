"""The one error type users see for bad input.

Every message names the file, plate, well or config key at fault and says how
to fix it; the workflow prints it without a traceback.
"""

from __future__ import annotations


class KillcurveInputError(ValueError):
    """Bad input: a file, plate, well, sheet column or config key is wrong.

    The message is written for the scientist who owns the input: it names the
    place (``plates.tsv row 3 (plate P03)``, ``layout config/layouts/P03.toml
    well B7``) and ends with what to do about it.
    """
