"""The catalyst calendar: four earnings a year per company, ex-dividend dates, CPI, jobs and FOMC."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from synthmarket.domain.calendar import is_trading_date
from synthmarket.domain.catalysts import (
    AFTER_CLOSE,
    CPI,
    DIVIDEND_PAYERS,
    EARNINGS,
    EX_DIVIDEND,
    FOMC,
    JOBS,
    catalysts_between,
)
from synthmarket.domain.universe import DEFAULT_SYMBOLS, UNIVERSE

YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def test_every_company_reports_four_times_a_year_in_its_season_always_at_the_same_time_of_day():
    calendar = catalysts_between(*YEAR, DEFAULT_SYMBOLS)
    companies = [s for s in DEFAULT_SYMBOLS if UNIVERSE[s].sector != "index_etf"]
    for symbol in companies:
        reports = [c for c in calendar if c.symbol == symbol and c.kind == EARNINGS]
        assert len(reports) == 4, symbol
        assert len({c.when for c in reports}) == 1, symbol
        for c in reports:
            # 16-45 days after a quarter's end (the reporting season), on a trading day.
            quarter_end = max(q for q in (dt.date(2025, 12, 31), dt.date(2026, 3, 31), dt.date(2026, 6, 30),
                                          dt.date(2026, 9, 30)) if q < c.date)
            assert 16 <= (c.date - quarter_end).days <= 45 and is_trading_date(c.date), c
    assert not [c for c in calendar if c.kind == EARNINGS and UNIVERSE[c.symbol].sector == "index_etf"]
    # Some report before the open, some after the close; an after-close release trades the next session.
    whens = Counter(c.when for c in calendar if c.kind == EARNINGS)
    assert len(whens) == 2
    late = next(c for c in calendar if c.kind == EARNINGS and c.when == AFTER_CLOSE)
    assert late.reaction_date > late.date and is_trading_date(late.reaction_date)


def test_macro_releases_and_dividends():
    calendar = catalysts_between(*YEAR, ("SPY", "AAPL", "TSLA"))
    spy = Counter(c.kind for c in calendar if c.symbol == "SPY")
    assert spy[CPI] == 12 and spy[JOBS] == 12 and spy[FOMC] == 8 and spy[EX_DIVIDEND] == 4
    # SPY goes ex on the third Friday of the quarter's last month (2026-06-19 is Juneteenth, a
    # market holiday: the next trading day); FOMC decides on a Wednesday.
    assert {c.date for c in calendar if c.symbol == "SPY" and c.kind == EX_DIVIDEND} == {
        dt.date(2026, 3, 20), dt.date(2026, 6, 22), dt.date(2026, 9, 18), dt.date(2026, 12, 18)}
    assert all(c.date.weekday() == 2 for c in calendar if c.kind == FOMC)
    assert "TSLA" not in DIVIDEND_PAYERS and not [c for c in calendar if c.symbol == "TSLA" and c.kind == EX_DIVIDEND]
    assert len([c for c in calendar if c.symbol == "AAPL" and c.kind == EX_DIVIDEND]) == 4
    assert all(is_trading_date(c.date) for c in calendar)


def test_the_calendar_is_the_same_whoever_asks_and_in_date_order():
    a = catalysts_between(dt.date(2026, 10, 1), dt.date(2026, 11, 30), DEFAULT_SYMBOLS)
    b = catalysts_between(dt.date(2026, 10, 1), dt.date(2026, 11, 30), tuple(reversed(DEFAULT_SYMBOLS)))
    assert a == b and [c.date for c in a] == sorted(c.date for c in a)
    assert a and all(dt.date(2026, 10, 1) <= c.date <= dt.date(2026, 11, 30) for c in a)


def test_the_days_scheduled_news_is_about_the_names_reporting():
    from synthmarket.domain.presets import SyntheticControlPresetId
    from synthmarket.engine.events import earnings_in_play
    from synthmarket.engine.focus import universe_day

    checked = 0
    day = dt.date(2026, 10, 1)
    while day < dt.date(2026, 11, 30):
        day += dt.timedelta(days=1)
        if not is_trading_date(day):
            continue
        in_play = earnings_in_play(day, DEFAULT_SYMBOLS)
        named = universe_day(day.toordinal(), 7, SyntheticControlPresetId.BALANCED_DEMO, DEFAULT_SYMBOLS).slot_symbols
        if not in_play or not named:
            continue
        checked += 1
        # The first slots go to names reporting (as many as there are), the rest to others.
        k = min(len(in_play), len(named))
        assert set(named[:k]) <= in_play, (day, named, in_play)
    assert checked >= 10
