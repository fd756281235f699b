"""What the terminal draws from the pure engine: the session's minute chart, prior closes, today's catalysts.

Pure: the session timestamp "now" and the control are arguments, so the same call gives the same
answer in every process (the ingest services price the tape from the same engine). No clock, no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthmarket.domain.calendar import (
    MS_PER_MINUTE,
    TradingDay,
    previous_trading_date,
    trading_day,
    trading_day_for,
)
from synthmarket.domain.catalysts import (
    AFTER_CLOSE,
    BEFORE_OPEN,
    CPI,
    EARNINGS,
    EX_DIVIDEND,
    FOMC,
    JOBS,
    catalysts_between,
    next_trading_date,
)
from synthmarket.domain.control_timeline import Control, control_at
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.engine import underlying_path
from synthmarket.engine.focus import universe_day

# The catalyst calendar shown reaches this many sessions ahead (earnings week, the next macro release).
CALENDAR_SESSIONS = 5
CATALYST_NAMES = {EARNINGS: "Earnings", EX_DIVIDEND: "Ex-dividend", CPI: "CPI", JOBS: "Jobs report",
                  FOMC: "FOMC decision"}

# One point a minute from the open, plus "now": a full session is 391 marks, so a chart is bounded
# whatever the request.
MAX_CHART_POINTS = 392
PRICE_DECIMALS = 4


@dataclass(frozen=True)
class SessionWindow:
    """The session ``now`` falls in: its trading date, open, close and the instant itself."""

    day: TradingDay
    now: int

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.day.date.isoformat(), "open_ms": self.day.open_ms, "close_ms": self.day.close_ms,
                "now_ms": self.now}


def session_window(now_ts: int) -> SessionWindow:
    """``now_ts`` is a session timestamp (the session clock's reading): inside [open, close] of its day."""
    day = trading_day_for(now_ts)
    return SessionWindow(day, min(max(int(now_ts), day.open_ms), day.close_ms))


def minute_marks(window: SessionWindow) -> np.ndarray:
    """Every whole minute from the open up to now, and now itself (at most MAX_CHART_POINTS)."""
    marks = np.arange(window.day.open_ms, window.now + 1, MS_PER_MINUTE, dtype=np.int64)
    if marks[-1] != window.now:
        marks = np.append(marks, np.int64(window.now))
    return marks[-MAX_CHART_POINTS:]


def chart(symbol: str, window: SessionWindow, control: Control,
          symbols: Sequence[str]) -> list[list[float]]:
    """``[[ts, price], ...]`` of ``symbol`` at every minute of the session so far."""
    marks = minute_marks(window)
    prices = underlying_path(symbol, marks, control, symbols=tuple(symbols))["price"]
    return [[int(ts), round(float(p), PRICE_DECIMALS)] for ts, p in zip(marks.tolist(), prices.tolist())]


def prior_closes(window: SessionWindow, control: Control, symbols: Sequence[str],
                 only: str | None = None) -> tuple[dt.date, dict[str, float]]:
    """Each symbol's last price of the previous trading day (its close − 1 ms, inside that session).

    ``symbols`` is the market's whole universe (event gaps follow it); ``only`` picks one of them.
    """
    prev = trading_day(previous_trading_date(window.day.date))
    at = np.array([prev.close_ms - 1], dtype=np.int64)
    universe = tuple(symbols)
    closes = {s: round(float(underlying_path(s, at, control, symbols=universe)["price"][0]), PRICE_DECIMALS)
              for s in universe if only is None or s == only}
    return prev.date, closes


def catalysts(window: SessionWindow, control: Control, symbols: Sequence[str],
              only: str | None = None) -> list[dict[str, Any]]:
    """The day's scheduled events and the catalyst calendar of the next few sessions, in time order:
    symbol, name, session ts, upcoming or past.

    Only what a public calendar would say: the gap's size and sign stay inside the engine.
    """
    in_force = control_at(control, window.now)
    preset = SyntheticControlPresetId(in_force.preset_id)
    uday = universe_day(window.day.ordinal, int(in_force.shared_seed), preset, tuple(symbols))
    out = []
    for slot, symbol in zip(uday.day.slots, uday.slot_symbols):
        if only is not None and symbol != only:
            continue
        ts = window.day.open_ms + slot.minute * MS_PER_MINUTE
        if ts > window.day.close_ms:
            continue
        out.append({"symbol": symbol, "name": "Scheduled catalyst", "ts": ts,
                    "state": "past" if ts <= window.now else "upcoming"})
    out += _calendar(window, symbols, only)
    out.sort(key=lambda c: (c["ts"], c["symbol"]))
    return out


def _calendar(window: SessionWindow, symbols: Sequence[str], only: str | None) -> list[dict[str, Any]]:
    """Earnings, ex-dividend dates and macro releases from today through CALENDAR_SESSIONS sessions ahead."""
    horizon = window.day.date
    for _ in range(CALENDAR_SESSIONS):
        horizon = next_trading_date(horizon)
    names = (only,) if only is not None else tuple(symbols)
    out = []
    for c in catalysts_between(window.day.date, horizon, names):
        day = trading_day(c.date)
        ts = day.open_ms if c.when == BEFORE_OPEN else day.close_ms if c.when == AFTER_CLOSE else day.at(c.when)
        when = {BEFORE_OPEN: "before the open", AFTER_CLOSE: "after the close"}.get(c.when, c.when)
        out.append({"symbol": c.symbol, "name": f"{CATALYST_NAMES[c.kind]} {when}", "ts": ts,
                    "state": "past" if ts <= window.now else "upcoming"})
    return out
