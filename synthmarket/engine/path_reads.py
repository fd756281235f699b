"""Reading a symbol's day path: scalars at one instant, arrays at many, and the quote around a price."""

from __future__ import annotations

import math

import numpy as np

from synthmarket.domain.calendar import MS_PER_MINUTE, SESSION_MINUTES, TradingDay
from synthmarket.engine.paths import SPREAD_Z_SCALE, SymbolPath

LAST_MINUTE = SESSION_MINUTES - 1


def quote(price: float, spread_bps: float) -> tuple[float, float]:
    half = price * spread_bps / 20000.0
    bid_ticks = math.floor((price - half) * 100.0 + 0.5)
    ask_ticks = max(math.floor((price + half) * 100.0 + 0.5), bid_ticks + 1)
    return bid_ticks / 100.0, ask_ticks / 100.0


class Scalars:
    """One SymbolPath's arrays as Python lists, for scalar reads.

    get_underlying_state reads about a dozen values per call and runs for every option print:
    indexing a list is several times cheaper than ``ndarray.item`` and gives the same floats.
    """

    __slots__ = ("path", "price", "spread", "volatility", "drift", "iv_shock", "atm_iv", "skew",
                 "is_focus", "is_event")

    def __init__(self, path: SymbolPath) -> None:
        self.path = path
        self.price = path.price_sec.tolist()
        self.spread = path.spread_sec.tolist()
        self.volatility = path.volatility.tolist()
        self.drift = path.drift_bps.tolist()
        self.iv_shock = path.iv_shock.tolist()
        self.atm_iv = path.atm_iv.tolist()
        self.skew = path.skew.tolist()
        self.is_focus = path.is_focus.tolist()
        self.is_event = path.is_event.tolist()


def fill(out: dict[str, np.ndarray], sel: np.ndarray, ts: np.ndarray, td: TradingDay,
          path: SymbolPath) -> None:
    off = ts - td.open_ms
    k = off // 1000
    frac = (off % 1000) / 1000.0
    ps = path.price_sec
    price = ps[k] + (ps[k + 1] - ps[k]) * frac
    prev_off = np.where(off > MS_PER_MINUTE, off - MS_PER_MINUTE, 0)
    kp = prev_off // 1000
    fp = (prev_off % 1000) / 1000.0
    prev = ps[kp] + (ps[kp + 1] - ps[kp]) * fp
    spread = path.spread_sec[k]
    half = price * spread / 20000.0
    bid_ticks = np.floor((price - half) * 100.0 + 0.5)
    ask_ticks = np.maximum(np.floor((price + half) * 100.0 + 0.5), bid_ticks + 1)
    m = np.minimum(off // MS_PER_MINUTE, LAST_MINUTE)
    typical = path.typical_spread_bps
    out["price"][sel] = price
    out["bid"][sel] = bid_ticks / 100.0
    out["ask"][sel] = ask_ticks / 100.0
    out["spread_bps"][sel] = spread
    out["volatility"][sel] = path.volatility[m]
    out["drift_bps_per_min"][sel] = path.drift_bps[m]
    out["underlying_move_bps"][sel] = (price - prev) / prev * 1e4
    out["nbbo_spread_z"][sel] = (spread - typical) / (SPREAD_Z_SCALE * typical)
    out["execution_iv_shock"][sel] = path.iv_shock[m]
    out["atm_iv"][sel] = path.atm_iv[m]
    out["skew"][sel] = path.skew[m]
    out["is_focus"][sel] = path.is_focus[m]
    out["is_event"][sel] = path.is_event[m]


FLOAT_KEYS = ("price", "bid", "ask", "spread_bps", "volatility", "drift_bps_per_min", "underlying_move_bps",
               "nbbo_spread_z", "execution_iv_shock", "atm_iv", "skew")
