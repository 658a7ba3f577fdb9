"""Viability of cryopreserved cells after thaw: the counts table (``counts``) and the per-lot
and per-product estimates (``lots``)."""
