"""Assay chemistry: % lysis from each readout's controls, and plate quality control."""
