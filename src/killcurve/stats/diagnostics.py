"""Warnings of a model fit as short, fixed sentences; the library's own text goes to the log.

statsmodels reports a troubled fit with warnings such as "Gradient optimization failed,
|grad| = 0.297 …" or "Retrying MixedLM optimization with cg". Those are for a developer. A
table's ``notes`` get one short sentence per kind of trouble (:data:`SENTENCES`), the same
for every run, and the full warning text is written to the ``killcurve`` logger (the job's
log), so nothing is lost.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable

LOG = logging.getLogger("killcurve")

#: (pattern in the library's warning text, the sentence the notes carry).
SENTENCES: tuple[tuple[str, str], ...] = (
    (r"optimization failed|failed to converge|Retrying MixedLM|did not converge",
     "the optimiser needed retries to converge"),
    (r"on the boundary of the parameter space|covariance is singular",
     "a variance component is estimated at zero (boundary fit)"),
    (r"Hessian matrix .* not positive definite",
     "the Hessian is not positive definite: standard errors are approximate"),
)  # fmt: skip
#: The sentence of a warning no pattern knows.
OTHER = "the model fit gave a warning (see the log)"


def fit_notes(caught: Iterable[warnings.WarningMessage], model: str) -> list[str]:
    """One sentence per kind of warning in ``caught`` (in :data:`SENTENCES` order); each
    warning's full text is logged, prefixed with ``model``.

    >>> w = warnings.WarningMessage("Retrying MixedLM optimization with lbfgs", UserWarning,
    ...                             "f.py", 1)
    >>> fit_notes([w, w], "ln et50 ~ product")
    ['the optimiser needed retries to converge']
    """
    found: set[str] = set()
    for item in caught:
        text = str(item.message)
        LOG.warning("%s: %s: %s", model, item.category.__name__, text)
        sentence = next((s for p, s in SENTENCES if re.search(p, text, re.IGNORECASE)), OTHER)
        found.add(sentence)
    order = [s for _, s in SENTENCES] + [OTHER]
    return [s for s in order if s in found]
