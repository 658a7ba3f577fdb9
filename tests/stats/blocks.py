"""Generated wells of one target read by two readouts on two days (blocks with their own scale).

Products T (test) and R (reference), ``lots`` lots each, every lot assayed in both blocks:
block ``luciferase|B1`` (bottom 1 %, top 90 %) and block ``release|B2`` (bottom 8 %, top 55 %:
a chemistry that reads less of the killing). 8 E:T ratios 40:1 to 0.3125:1 (2-fold) in
triplicate; per curve

    ln et50 = ln et50_product + u_lot + v_day,   u ~ N(0, lot_sd²), v ~ N(0, day_sd²)

(v shared by both products' curves of that day), hill ``hill_t`` for T and 1.3 for R, Gaussian
well noise of SD ``noise`` % lysis. The true potency ratio is et50_T/et50_R of the typical lot;
each well also carries ``true_log_lot``, its lot's u (the ratio of the tested lots, which a
within-assay interval estimates, is et50_T/et50_R·exp(mean u_T − mean u_R)).
Used by ``test_similarity.py`` and ``benchmarks/similarity_coverage.py``.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

ET = 40.0 * 2.0 ** -np.arange(8)
#: block -> (readout, batch, bottom %, top %).
BLOCKS = {
    "luciferase|B1": ("luciferase", "B1", 1.0, 90.0),
    "release|B2": ("release", "B2", 8.0, 55.0),
}


def two_readout_wells(
    rng: np.random.Generator,
    target: str = "K562",
    et50: tuple[float, float] = (2.0, 5.0),
    hill_t: float = 1.3,
    lots: int = 3,
    lot_sd: float = 0.15,
    day_sd: float = 0.1,
    noise: float = 3.0,
) -> pl.DataFrame:
    """Sample wells (the wells.parquet columns fit_curves and compare_products read)."""
    x = np.repeat(ET, 3)
    day = {block: rng.normal(0.0, day_sd) for block in BLOCKS}
    frames = []
    for product, mu, hill in (("T", et50[0], hill_t), ("R", et50[1], 1.3)):
        for i in range(lots):
            u = rng.normal(0.0, lot_sd)
            for block, (readout, batch, bottom, top) in BLOCKS.items():
                e50 = math.exp(math.log(mu) + u + day[block])
                y = bottom + (top - bottom) / (1.0 + (e50 / x) ** hill)
                y = y + rng.normal(0.0, noise, x.size)
                frames.append(
                    pl.DataFrame(
                        {
                            "plate_id": f"{batch}-{target}-{product}{i}",
                            "role": "sample",
                            "product": product,
                            "lot": f"{product}{i}",
                            "target": target,
                            "stage": "bulk",
                            "cryo": "fresh",
                            "batch": batch,
                            "readout": readout,
                            "et_ratio": x,
                            "signal": y,
                            "excluded": False,
                            "pct_lysis": y,
                            "true_log_lot": u,
                        }
                    )
                )
    return pl.concat(frames)
