"""Curve fitting: models of % lysis against the titration axis (E:T), per curve and in batches."""
