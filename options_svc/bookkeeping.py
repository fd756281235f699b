"""What the options generator keeps besides the tape: scenario records, and the session a ts belongs to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from synthmarket.domain.calendar import TradingDay, exchange_date, is_trading_date, trading_day
from synthmarket.domain.control import SyntheticControlState


@dataclass(frozen=True)
class ScenarioRecord:
    """One emitted scenario (test and bench output only; never published)."""

    ts: int
    symbol: str
    family: str
    subtype: str
    print_ids: tuple[str, ...] = ()


def neutral_profiles(control: SyntheticControlState) -> bool:
    """Whether every profile weight is 1.0, when ``arrivals.profile_rate_multiplier`` is 1.0."""
    return all(control.profile_weights[fam] == 1.0 for fam in control.profile_weights)


def session_day_at_or_after(ts: int) -> TradingDay:
    """The trading day whose session contains ts, or the next one to open after it."""
    date = exchange_date(ts)
    while True:
        if is_trading_date(date):
            td = trading_day(date)
            if ts < td.close_ms:
                return td
        date += dt.timedelta(days=1)
