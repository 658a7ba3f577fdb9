"""Statistics on fitted curves: product comparisons."""
