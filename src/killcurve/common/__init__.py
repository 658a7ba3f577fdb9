"""Helpers every room may use: file hashing (``hashing``) and the job memo cache (``memo``)."""
