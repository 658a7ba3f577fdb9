"""Figures: one theme, one function per figure returning a plotnine ``ggplot``."""
