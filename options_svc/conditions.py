"""Which OPRA sale condition each kind of order prints with, and the draws that stamp it on drafts.

The vocabulary is ``synthmarket.domain.chain.OPTION_CONDITIONS``. Most prints are plain
auto-executions; a sweep's legs are ISO fills (a few out of an ISO auction); a large block often
goes through a single-leg auction or the floor; spreads print as multi-leg electronic, auction or
floor trades; a position built against stock (a conversion, a buy-write) prints stock-tied.
Each mix lists (cumulative share, condition).
"""

from __future__ import annotations

import numpy as np

from options_svc.legs import Draft
from synthmarket.domain import chain

Mix = tuple[tuple[float, str], ...]

SWEEP_LEG: Mix = ((0.9, chain.COND_ISOI), (1.0, chain.COND_SLAI))
ACCUMULATION: Mix = ((0.85, chain.COND_AUTO), (1.0, chain.COND_SLAN))
RETAIL_BURST: Mix = ((0.95, chain.COND_AUTO), (1.0, chain.COND_SLAN))
EVENT_BURST: Mix = ((0.9, chain.COND_AUTO), (1.0, chain.COND_SLAN))
BLOCK: Mix = ((0.3, chain.COND_AUTO), (0.65, chain.COND_SLAN), (1.0, chain.COND_SLFT))
DEALER: Mix = ((0.85, chain.COND_AUTO), (1.0, chain.COND_SLAN))
DEALER_UNWIND: Mix = ((0.6, chain.COND_AUTO), (0.85, chain.COND_SLAN), (1.0, chain.COND_SLFT))
PUT_WRITE: Mix = ((0.7, chain.COND_AUTO), (0.85, chain.COND_SLAN), (1.0, chain.COND_SLFT))
# An overwrite is often sold as a buy-write: the call against a stock purchase.
OVERWRITE: Mix = ((0.25, chain.COND_TLET), (0.8, chain.COND_AUTO), (0.9, chain.COND_SLAN), (1.0, chain.COND_SLFT))
SPREAD: Mix = ((0.6, chain.COND_MLET), (0.85, chain.COND_MLAT), (1.0, chain.COND_MLFT))
STRADDLE_BUY: Mix = ((0.7, chain.COND_MLET), (0.95, chain.COND_MLAT), (1.0, chain.COND_MLFT))
# Boxes are mostly crossed on a floor or in an auction.
BOX: Mix = ((0.25, chain.COND_MLET), (0.55, chain.COND_MLAT), (1.0, chain.COND_MLFT))
# A conversion or reversal carries its stock leg.
STOCK_TIED: Mix = ((0.5, chain.COND_TLET), (0.75, chain.COND_TLAT), (1.0, chain.COND_TLFT))
# Small ordinary complex orders: nearly all electronic.
SMALL_COMPLEX: Mix = ((0.85, chain.COND_MLET), (0.97, chain.COND_MLAT), (1.0, chain.COND_MLFT))


def each(drafts: list[Draft], rng: np.random.Generator, mix: Mix) -> list[Draft]:
    """One condition per print (each print is its own order); drawn after everything else."""
    for d in drafts:
        d.condition = chain.pick_condition(float(rng.random()), mix)
    return drafts


def order(drafts: list[Draft], rng: np.random.Generator, mix: Mix) -> list[Draft]:
    """One condition for every leg of one order."""
    code = chain.pick_condition(float(rng.random()), mix)
    for d in drafts:
        d.condition = code
    return drafts
