"""The examples in every killcurve module's docstrings hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import killcurve

MODULES = sorted(m.name for m in pkgutil.walk_packages(killcurve.__path__, "killcurve."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
