"""The catalyst calendar: earnings, ex-dividend dates and macro releases per symbol and date.

Deterministic and independent of the market's seed, as a real calendar is: a company reports four
times a year, each quarter a few weeks after the quarter ends, always before the open or always
after the close; dividend payers go ex four times a year; the index ETFs have the monthly CPI and
jobs reports (08:30, before the open) and the eight FOMC decisions (14:00). Dates are trading
dates (a release that would fall on a closed day moves to the next trading day).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from synthmarket.domain import rng
from synthmarket.domain.calendar import is_trading_date
from synthmarket.domain.universe import UNIVERSE

EARNINGS = "earnings"
EX_DIVIDEND = "ex_dividend"
CPI = "cpi"
JOBS = "jobs"
FOMC = "fomc"

BEFORE_OPEN = "before_open"
AFTER_CLOSE = "after_close"
FOMC_TIME = "14:00"

# Quarterly dividend payers of the universe (index ETFs included).
DIVIDEND_PAYERS = frozenset({"SPY", "QQQ", "IWM", "AAPL", "MSFT", "JPM", "BAC", "XOM", "UNH", "WMT", "AVGO"})
# Earnings land this many calendar days after the quarter's end (the reporting season).
SEASON_FIRST_DAY, SEASON_LAST_DAY = 16, 42
# FOMC decision days: (month, which Wednesday; -1 = the last).
FOMC_WEDNESDAYS = ((1, -1), (3, 3), (5, 1), (6, 2), (7, -1), (9, 3), (11, 1), (12, 2))


@dataclass(frozen=True)
class Catalyst:
    symbol: str
    date: dt.date
    kind: str       # earnings | ex_dividend | cpi | jobs | fomc
    when: str       # before_open | after_close | HH:MM (New York)

    @property
    def reaction_date(self) -> dt.date:
        """The session that trades the news: the next one for an after-close release."""
        return next_trading_date(self.date) if self.when == AFTER_CLOSE else self.date


def next_trading_date(date: dt.date) -> dt.date:
    date += dt.timedelta(days=1)
    while not is_trading_date(date):
        date += dt.timedelta(days=1)
    return date


def _on_or_after(date: dt.date) -> dt.date:
    while not is_trading_date(date):
        date += dt.timedelta(days=1)
    return date


def _weekday_in_month(year: int, month: int, weekday: int, nth: int) -> dt.date:
    """The nth (1-based; -1 = last) given weekday of a month."""
    if nth > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


@lru_cache(maxsize=256)
def _symbol_year(symbol: str, year: int) -> tuple[Catalyst, ...]:
    spec = UNIVERSE[symbol]
    out: list[Catalyst] = []
    if spec.sector != "index_etf":
        when = BEFORE_OPEN if rng.uniform("earnings-when", symbol) < 0.5 else AFTER_CLOSE
        slot = rng.uniform("earnings-slot", symbol)    # early or late reporter, every quarter
        for quarter_end in (dt.date(year - 1, 12, 31), dt.date(year, 3, 31), dt.date(year, 6, 30),
                            dt.date(year, 9, 30)):
            jitter = rng.uniform("earnings-jitter", symbol, year, quarter_end.month) - 0.5
            days = SEASON_FIRST_DAY + (slot + 0.15 * jitter) * (SEASON_LAST_DAY - SEASON_FIRST_DAY)
            day = quarter_end + dt.timedelta(days=int(max(SEASON_FIRST_DAY, min(SEASON_LAST_DAY, days))))
            if day.weekday() >= 5:
                day += dt.timedelta(days=7 - day.weekday())
            out.append(Catalyst(symbol, _on_or_after(day), EARNINGS, when))
    if symbol in DIVIDEND_PAYERS:
        for month in (3, 6, 9, 12):
            if spec.sector == "index_etf":     # the ETFs go ex on the quarter's third Friday
                day = _weekday_in_month(year, month, 4, 3)
            else:
                lead = int(rng.uniform("ex-div-month", symbol) * 3)  # 0-2 months before the quarter end
                day = dt.date(year, month - lead, 1 + int(rng.uniform("ex-div-day", symbol) * 25))
            out.append(Catalyst(symbol, _on_or_after(day), EX_DIVIDEND, BEFORE_OPEN))
    if spec.sector == "index_etf":
        for month in range(1, 13):
            jobs = _weekday_in_month(year, month, 4, 1)
            out.append(Catalyst(symbol, jobs if is_trading_date(jobs) else jobs - dt.timedelta(days=1), JOBS, "08:30"))
            cpi = dt.date(year, month, 10 + int(rng.uniform("cpi-day", year, month) * 5))
            out.append(Catalyst(symbol, _on_or_after(cpi), CPI, "08:30"))
        for month, nth in FOMC_WEDNESDAYS:
            out.append(Catalyst(symbol, _on_or_after(_weekday_in_month(year, month, 2, nth)), FOMC, FOMC_TIME))
    return tuple(sorted(out, key=lambda c: (c.date, c.kind)))


def catalysts_between(start: dt.date, end: dt.date, symbols: tuple[str, ...]) -> tuple[Catalyst, ...]:
    """Every catalyst of ``symbols`` dated in [start, end], in date order."""
    out = [c for s in symbols for year in range(start.year, end.year + 1) for c in _symbol_year(s, year)
           if start <= c.date <= end]
    return tuple(sorted(out, key=lambda c: (c.date, c.symbol, c.kind)))
