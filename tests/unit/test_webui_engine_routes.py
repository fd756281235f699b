"""The web terminal's engine routes: a ticker's session chart, prior closes and today's catalysts.

They answer from the pure engine under the control in force, at the session clock's "now"; the
tests pin the clock (``wall_clock``) and set the feed's control directly (no NATS needed).
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from synthmarket.domain.calendar import MS_PER_MINUTE, trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.universe import DEFAULT_SYMBOLS
from synthmarket.engine import underlying_path
from synthmarket.engine.focus import universe_day
from synthmarket.settings import load_settings
from webui.app import create_app
from webui.engine_views import MAX_CHART_POINTS
from webui.market_feed import MarketFeed

MONDAY = trading_day(dt.date(2027, 3, 8))
FRIDAY = trading_day(dt.date(2027, 3, 5))
AFTER_GOOD_FRIDAY = trading_day(dt.date(2027, 3, 29))   # Good Friday 2027-03-26: NYSE closed
THURSDAY_BEFORE = trading_day(dt.date(2027, 3, 25))
EVENT_DAY = SyntheticControlPresetId.EVENT_DAY


def client_at(session_ts: int, control=DEFAULT_CONTROL, **env: str):
    """A terminal whose session clock reads ``session_ts`` (speed 1 inside a session is the wall clock)."""
    settings = load_settings({"NATS_URL": "nats://127.0.0.1:1", **env})
    feed = MarketFeed(settings)        # never started: the routes read only its control
    feed.control = control
    return create_app(settings, market=feed, wall_clock=lambda: session_ts).test_client()


def engine_price(symbol: str, ts: int, control=DEFAULT_CONTROL) -> float:
    return float(underlying_path(symbol, np.array([ts]), control, symbols=DEFAULT_SYMBOLS)["price"][0])


@pytest.mark.parametrize("symbol", ["ZZZZ", "spyy", "<script>", "A" * 40, "NVDA%00", "..", "1SPY"])
def test_an_unknown_symbol_is_a_json_404(symbol: str) -> None:
    r = client_at(MONDAY.open_ms + 3_600_000).get(f"/api/chart/{symbol}")
    assert r.status_code == 404
    assert r.mimetype == "application/json"
    body = r.get_json()
    assert body["error"] == "unknown_symbol" and "not a symbol" in body["message"]
    assert body["symbols"] == list(DEFAULT_SYMBOLS)
    assert len(r.data) < 1024, "the answer to a bad name stays small however long the name"


def test_a_symbol_outside_the_configured_universe_is_unknown_too() -> None:
    r = client_at(MONDAY.open_ms + 60_000, SYNTH_SYMBOLS="SPY,QQQ").get("/api/chart/NVDA")
    assert r.status_code == 404


def test_the_chart_is_the_engine_minute_by_minute_from_the_open_to_now() -> None:
    now = MONDAY.open_ms + 95 * MS_PER_MINUTE + 12_345
    r = client_at(now).get("/api/chart/nvda")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    body = r.get_json()
    assert body["symbol"] == "NVDA"
    assert body["session"] == {"date": "2027-03-08", "open_ms": MONDAY.open_ms, "close_ms": MONDAY.close_ms,
                               "now_ms": now}
    ts = [p[0] for p in body["points"]]
    assert ts[0] == MONDAY.open_ms and ts[-1] == now and len(ts) == 97
    assert all(b - a == MS_PER_MINUTE for a, b in zip(ts[:-2], ts[1:-1]))
    for t, price in body["points"][::10] + body["points"][-1:]:
        assert price == pytest.approx(engine_price("NVDA", t), abs=1e-4)
    assert body["prior_close"] == pytest.approx(engine_price("NVDA", FRIDAY.close_ms - 1), abs=1e-4)


@pytest.mark.parametrize("speed", ["1", "390"])
def test_the_chart_is_bounded_at_the_close_and_at_any_speed(speed: str) -> None:
    r = client_at(MONDAY.close_ms - 1, SYNTH_SPEED=speed).get("/api/chart/SPY")
    body = r.get_json()
    assert r.status_code == 200
    session = body["session"]
    assert 1 <= len(body["points"]) <= MAX_CHART_POINTS
    assert all(session["open_ms"] <= t <= session["now_ms"] for t, _ in body["points"])
    assert len(r.data) < 20_000


def test_prior_close_is_the_engine_at_the_previous_trading_days_close() -> None:
    # The Monday after a normal Friday, and the Monday after Good Friday (back to Thursday).
    for day, prev in ((MONDAY, FRIDAY), (AFTER_GOOD_FRIDAY, THURSDAY_BEFORE)):
        r = client_at(day.open_ms + 42 * MS_PER_MINUTE).get("/api/prior-close")
        assert r.status_code == 200
        body = r.get_json()
        assert body["prior_date"] == prev.date.isoformat()
        assert body["session"]["date"] == day.date.isoformat()
        assert set(body["closes"]) == set(DEFAULT_SYMBOLS)
        for symbol, close in body["closes"].items():
            assert close == pytest.approx(engine_price(symbol, prev.close_ms - 1), abs=1e-4), symbol
        assert len(r.data) < 4_000


def test_the_control_in_force_prices_the_views() -> None:
    other = DEFAULT_CONTROL.with_update(shared_seed=777, preset_id=EVENT_DAY)
    now = MONDAY.open_ms + 30 * MS_PER_MINUTE
    base = client_at(now).get("/api/prior-close").get_json()["closes"]
    moved = client_at(now, other).get("/api/prior-close").get_json()["closes"]
    assert base != moved
    assert moved["AAPL"] == pytest.approx(engine_price("AAPL", FRIDAY.close_ms - 1, other), abs=1e-4)
    point = client_at(now, other).get("/api/chart/AAPL").get_json()["points"][-1]
    assert point[1] == pytest.approx(engine_price("AAPL", now, other), abs=1e-4)


def test_a_backend_that_is_not_synthetic_uses_the_defaults_like_the_ingest_services() -> None:
    settings = load_settings({"NATS_URL": "nats://127.0.0.1:1", "OPTIONS_ADAPTER": "live"})
    assert MarketFeed(settings).hosted_control is False
    assert MarketFeed(load_settings({"NATS_URL": "nats://127.0.0.1:1"})).control == DEFAULT_CONTROL


def test_catalysts_are_the_days_event_slots_upcoming_then_past() -> None:
    control = DEFAULT_CONTROL.with_update(preset_id=EVENT_DAY)
    uday = universe_day(MONDAY.ordinal, control.shared_seed, EVENT_DAY, DEFAULT_SYMBOLS)
    want = sorted((MONDAY.open_ms + s.minute * MS_PER_MINUTE, sym) for s, sym in zip(uday.day.slots, uday.slot_symbols))
    assert len(want) >= 3
    middle = want[len(want) // 2][0]
    body = client_at(middle, control).get("/api/catalysts").get_json()
    got = [c for c in body["catalysts"] if c["name"] == "Scheduled catalyst"]
    assert [(c["ts"], c["symbol"]) for c in got] == want
    assert [c["state"] for c in got] == ["past" if ts <= middle else "upcoming" for ts, _ in want]
    # A public calendar only: no gap size or sign, nothing else about the event.
    assert all(set(c) == {"symbol", "name", "ts", "state"} for c in body["catalysts"])
    assert len(json.dumps(body)) < 8_000
    one = got[0]["symbol"]
    chart = client_at(middle, control).get(f"/api/chart/{one}").get_json()
    assert chart["catalysts"] == [c for c in body["catalysts"] if c["symbol"] == one]


def test_the_catalyst_calendar_of_the_next_sessions_is_listed() -> None:
    from synthmarket.domain.catalysts import catalysts_between

    day = trading_day(dt.date(2026, 10, 26))     # earnings season
    soon = catalysts_between(day.date, day.date + dt.timedelta(days=7), DEFAULT_SYMBOLS)
    body = client_at(day.at("11:00"), DEFAULT_CONTROL).get("/api/catalysts").get_json()
    listed = [c for c in body["catalysts"] if c["name"] != "Scheduled catalyst"]
    assert soon and {c.symbol for c in soon} >= {c["symbol"] for c in listed} and listed
    earnings = [c for c in listed if c["name"].startswith("Earnings")]
    assert earnings and all(c["name"] in ("Earnings before the open", "Earnings after the close") for c in earnings)
    assert all(c["state"] == ("past" if c["ts"] <= day.at("11:00") else "upcoming") for c in listed)
