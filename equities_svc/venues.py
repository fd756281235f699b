"""Where prints happen: lit exchanges, the FINRA TRF for off-exchange volume, and the routing odds."""

from __future__ import annotations

import numpy as np

OFF_EXCHANGE_VENUE = "FINRA_TRF"

# Lit venue codes and their rough share of on-exchange volume (public market-share tables).
LIT_VENUES: tuple[str, ...] = (
    "NASDAQ", "NYSE", "ARCA", "CBOE_BZX", "CBOE_EDGX", "MEMX", "IEX", "MIAX_PEARL", "CBOE_BYX", "NASDAQ_BX",
)
_LIT_SHARES = np.array([0.26, 0.17, 0.11, 0.11, 0.10, 0.08, 0.06, 0.04, 0.04, 0.03])
# ETFs list on Arca and do most of their primary-market volume there.
_ETF_LIT_SHARES = np.array([0.24, 0.05, 0.24, 0.12, 0.11, 0.08, 0.06, 0.04, 0.03, 0.03])

VENUES: tuple[str, ...] = LIT_VENUES + (OFF_EXCHANGE_VENUE,)
OFF_EXCHANGE_INDEX = len(LIT_VENUES)

# Probability that a print is reported to the TRF, before the regime shift.
OFF_EXCHANGE_BASE = 0.40
# Retail odd lots are internalised by wholesalers; blocks go to dark pools.
ODD_LOT_OFF_EXCHANGE_BONUS = 0.17
BLOCK_SIZE = 10_000
BLOCK_OFF_EXCHANGE_BONUS = 0.12
OFF_EXCHANGE_MIN = 0.05
OFF_EXCHANGE_MAX = 0.90


def lit_shares(sector: str) -> np.ndarray:
    shares = _ETF_LIT_SHARES if sector == "index_etf" else _LIT_SHARES
    return shares / shares.sum()


EVENT_NAME_SHIFT = -0.05


def off_exchange_prob(
    sizes: np.ndarray, regime_shift: float | np.ndarray, event_name: bool | np.ndarray = False
) -> np.ndarray:
    """Per-print probability of an off-exchange (TRF) report."""
    p = OFF_EXCHANGE_BASE + np.asarray(regime_shift, dtype=float) + np.zeros(sizes.shape)
    p += np.where(sizes < 100, ODD_LOT_OFF_EXCHANGE_BONUS, 0.0)
    p += np.where(sizes >= BLOCK_SIZE, BLOCK_OFF_EXCHANGE_BONUS, 0.0)
    # News on the name draws flow to the lit books where price discovery happens.
    p += np.where(event_name, EVENT_NAME_SHIFT, 0.0)
    return np.clip(p, OFF_EXCHANGE_MIN, OFF_EXCHANGE_MAX)


_LIT_CUM = {False: np.cumsum(lit_shares("")), True: np.cumsum(lit_shares("index_etf"))}


def venue_indices(u: np.ndarray, off_exchange: np.ndarray, sector: str) -> np.ndarray:
    """Venue index per print (into ``VENUES``) from one uniform each; off-exchange prints get the TRF."""
    cum = _LIT_CUM[sector == "index_etf"]
    lit = np.minimum(np.searchsorted(cum, u, side="right"), len(LIT_VENUES) - 1)
    return np.where(off_exchange, OFF_EXCHANGE_INDEX, lit).astype(np.int64)
