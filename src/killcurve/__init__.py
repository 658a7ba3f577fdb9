"""killcurve: cell-killing assay analysis from plate-reader exports to potency curves."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("killcurve")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"
