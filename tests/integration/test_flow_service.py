"""The live flow service on real NATS: prints in, SMART_MONEY events out (the replay at start: test_flow_replay)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from flow_svc.classifier import SmartMoneyClassifier
from flow_svc.service import MSG_ID_HEADER, FlowService, TapeClock, start_flow_service
from synthmarket import engine, wire
from synthmarket.domain.calendar import exchange_date, trading_day_for
from synthmarket.domain.chain import occ_symbol
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.marketdata import EquityTrade, OptionPrint, SmartMoneyEvent
from synthmarket.domain.profiles import NEUTRAL_NOISE
from synthmarket.domain.session_clock import SessionClock
from synthmarket.domain.universe import UNIVERSE
from synthmarket.infra.metrics import start_metrics_server
from synthmarket.infra.streams import DUPLICATE_WINDOW_S
from synthmarket.names import (
    SMART_MONEY_STREAM,
    SMART_MONEY_SUBJECT,
    equity_trades_subject,
    option_prints_subject,
)
from synthmarket.settings import load_settings
from synthmarket.v1 import smart_money_pb2
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

VENUES = ("CBOE", "ISE", "PHLX", "ARCA")

# Every hidden family and subtype name from DESIGN.md: none may appear anywhere in an event.
HIDDEN_LABELS = (
    "call_sweep", "put_sweep", "ask_lift_accumulation", "far_dated_conviction",
    "0dte_call_chase", "short_dated_put_panic", "attention_contract_spike",
    "earnings_vol_probe", "pre_event_directional_ramp", "post_gap_followthrough",
    "covered_call_overwrite", "cash_secured_put_write", "short_straddle_harvest",
    "parity_vertical", "conversion_reversal", "box_spread",
    "gamma_pinch_call_hedge", "reactive_put_wall", "dealer_unwind",
    NEUTRAL_NOISE, "single_print_mid", "two_sided_scalp", "stale_quote_noise",
)


def now_session_ts(speed: float = 1.0) -> int:
    return SessionClock(speed=speed).ts(time.time_ns() // 1_000_000)


def sweep(ts0: int, prefix: str, *, und: str = "AAPL", spot: float = 228.0, strike: float = 237.5,
          dte: int = 32) -> list[OptionPrint]:
    """Four ISO call legs of one contract on four venues within 12 ms, at the ask: an institutional sweep
    (the default strike is ~4% out of the money)."""
    expiry = exchange_date(ts0) + dt.timedelta(days=dte)
    legs = []
    for k, venue in enumerate(VENUES):
        price = 3.00 + 0.01 * k
        legs.append(OptionPrint(
            id=f"{prefix}-{k}", ts=ts0 + 4 * k, underlying=und, contract=occ_symbol(und, expiry, "C", strike),
            expiry=expiry.isoformat(), strike=strike, right="C", price=price, size=250, exchange=venue,
            bid=round(price - 0.10, 2), ask=price, iv=0.31, underlying_price=spot, quote_age_ms=120,
            condition="ISOI",
        ))
    return legs


async def stream_events(js, start_seq: int) -> list[tuple[smart_money_pb2.SmartMoneyEvent, dict]]:
    """Every event stored in SMART_MONEY from ``start_seq`` on (direct gets: no consumer to clean up)."""
    info = await js.stream_info(SMART_MONEY_STREAM)
    out = []
    for seq in range(start_seq, info.state.last_seq + 1):
        try:
            msg = await js.get_msg(SMART_MONEY_STREAM, seq, direct=True)
        except Exception:  # noqa: BLE001 - a sequence may have been removed by retention
            continue
        out.append((smart_money_pb2.SmartMoneyEvent.FromString(msg.data), dict(msg.headers or {})))
    return out


async def last_seq(js) -> int:
    try:
        return (await js.stream_info(SMART_MONEY_STREAM)).state.last_seq
    except Exception:  # noqa: BLE001 - not created yet
        return 0


@pytest.fixture
def flow_settings(nats_url):
    return load_settings({"NATS_URL": nats_url, "FLOW_FLUSH_INTERVAL_MS": "100"})


@pytest.fixture
async def start_flow(flow_settings, nats_client) -> AsyncIterator[Callable[..., Awaitable[FlowService]]]:
    started: list[FlowService] = []

    async def start(**kwargs) -> FlowService:
        service = await start_flow_service(flow_settings, nats_client, **kwargs)
        started.append(service)
        return service

    yield start
    for service in started:
        await service.stop(grace=2)


async def publish_prints(nc, prints: list[OptionPrint]) -> None:
    for p in prints:
        await nc.publish(option_prints_subject(p.underlying), wire.option_print_to_proto(p).SerializeToString())
    await nc.flush()


async def test_a_sweep_becomes_one_institutional_event_in_the_stream(start_flow, nats_client, js):
    service = await start_flow()
    before = await last_seq(js)
    ts0 = now_session_ts()
    # Equity context first (the service reads it, the event must not depend on it).
    trade = EquityTrade(id="eq-1", ts=ts0 - 10, symbol="AAPL", price=228.0, size=100, venue="NSDQ", off_exchange=False)
    await nats_client.publish(equity_trades_subject("AAPL"), wire.equity_trade_to_proto(trade).SerializeToString())
    legs = sweep(ts0, f"sw{ts0}")
    await publish_prints(nats_client, legs)

    events: list = []

    async def landed() -> bool:
        events[:] = await stream_events(js, before + 1)
        return any(e.print_ids == [p.id for p in legs] for e, _ in events)

    await eventually(landed, 20, "the sweep's SmartMoneyEvent in SMART_MONEY")
    ours = [(e, h) for e, h in events if set(e.print_ids) & {p.id for p in legs}]
    assert len(ours) == 1, [e.reason for e, _ in ours]
    msg, headers = ours[0]
    event = wire.smart_money_event_from_proto(msg)
    assert event.profile_id == "institutional_directional"
    assert event.direction == "bullish" and event.underlying == "AAPL"
    assert event.contracts == 1000 and event.premium == pytest.approx(sum(p.price * 25_000 for p in legs))
    assert headers.get(MSG_ID_HEADER) == event.event_id
    # No hidden family or subtype name anywhere in the event, its text or its raw bytes.
    text = " ".join(str(v) for v in event.to_dict().values()).lower()
    raw = msg.SerializeToString().decode("utf-8", errors="replace").lower()
    for label in HIDDEN_LABELS:
        assert not re.search(rf"\b{re.escape(label)}\b", text), label
        assert label not in raw, label
    assert "iso" in event.reason.lower() or "sweep" in event.reason.lower()

    assert service.registry.value("synthmarket_flow_svc_prints_consumed_total") >= len(legs)
    assert service.registry.value(
        "synthmarket_flow_svc_events_published_total", {"profile_id": "institutional_directional"}
    ) >= 1
    assert service.registry.value("synthmarket_flow_svc_equity_updates_total") >= 1
    # The stream was created with the settings' retention and the dedup window.
    info = await js.stream_info(SMART_MONEY_STREAM)
    assert info.config.subjects == [SMART_MONEY_SUBJECT]
    assert info.config.max_age == pytest.approx(24 * 3600)
    assert info.config.duplicate_window == pytest.approx(DUPLICATE_WINDOW_S)


async def test_a_restart_replaying_the_tape_never_double_publishes(start_flow, nats_client, js):
    first = await start_flow()
    before = await last_seq(js)
    ts0 = now_session_ts()
    legs = sweep(ts0, f"rp{ts0}", und="MSFT", spot=425.0, strike=442.5)
    await publish_prints(nats_client, legs)

    async def count() -> int:
        return sum(1 for e, _ in await stream_events(js, before + 1) if e.print_ids == [p.id for p in legs])

    await eventually(lambda: count(), 20, "the first publish")
    await first.stop(grace=2)

    # A restarted service sees the same prints again (e.g. a replay) and emits the same event id.
    second = await start_flow()
    await publish_prints(nats_client, legs)
    await eventually(
        lambda: (second.registry.value("synthmarket_flow_svc_events_duplicate_total") or 0) >= 1,
        20, "JetStream to report the republish as a duplicate",
    )
    assert await count() == 1


async def test_undecodable_messages_are_counted_not_fatal(start_flow, nats_client):
    service = await start_flow()
    await nats_client.publish(option_prints_subject("SPY"), b"\xff\xff not a protobuf")
    ts0 = now_session_ts()
    await publish_prints(nats_client, sweep(ts0, f"ok{ts0}")[:1])
    await eventually(
        lambda: (service.registry.value("synthmarket_flow_svc_prints_consumed_total") or 0) >= 1,
        5, "the good print after the bad one",
    )
    assert service.registry.value("synthmarket_flow_svc_prints_rejected_total") == 1


def test_tape_clock_extrapolates_from_the_newest_print():
    clock = TapeClock(speed=2.0, slack_ms=500)
    assert clock.now(10_000) is None
    clock.observe(1_000_000, wall=10_000)
    clock.observe(999_000, wall=10_100)  # an older print does not move the clock back
    assert clock.now(10_400) == 1_000_000  # within the arrival slack
    assert clock.now(11_500) == 1_000_000 + 2 * 1_000  # 1 s of wall past the slack at 2x speed


async def test_metrics_are_served_over_http(start_flow, nats_client):
    service = await start_flow()
    ts0 = now_session_ts()
    await publish_prints(nats_client, sweep(ts0, f"m{ts0}")[:2])
    await eventually(
        lambda: (service.registry.value("synthmarket_flow_svc_prints_consumed_total") or 0) >= 2,
        5, "two prints consumed",
    )
    server = start_metrics_server(service.registry, 0)
    try:
        assert server.host == "127.0.0.1" and server.port > 0
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(server.url, timeout=5).read().decode())
    finally:
        server.stop()
    consumed = re.search(r"^synthmarket_flow_svc_prints_consumed_total (\S+)$", body, re.M)
    assert consumed and float(consumed.group(1)) >= 2, body
    assert "synthmarket_flow_svc_lag_ms" in body and "synthmarket_flow_svc_event_lag_seconds_bucket" in body


async def test_the_event_calendar_comes_from_the_engine_under_the_stored_control(start_flow, flow_settings,
                                                                                nats_client, js):
    # A minute of today's session whose calendar names event symbols under the default control.
    day = trading_day_for(now_session_ts())
    at = next(
        day.open_ms + m * 60_000 for m in range(0, 390, 5)
        if engine.get_session_state(day.open_ms + m * 60_000, DEFAULT_CONTROL, flow_settings.symbols).event_symbols
    )
    symbol = engine.get_session_state(at, DEFAULT_CONTROL, flow_settings.symbols).event_symbols[0]
    service = await start_flow()
    spot = UNIVERSE[symbol].ref_price
    before = await last_seq(js)
    # A short-dated sweep on an event symbol is event-driven, not institutional (rule 2).
    legs = sweep(at + 1_000, f"ev{at}", und=symbol, spot=spot, strike=round(spot * 1.03), dte=12)
    await publish_prints(nats_client, legs)
    found: list = []

    async def landed() -> bool:
        found[:] = [e for e, _ in await stream_events(js, before + 1) if e.print_ids == [p.id for p in legs]]
        return bool(found)

    await eventually(landed, 20, "the event-symbol sweep in SMART_MONEY")
    event = wire.smart_money_event_from_proto(found[0])
    assert (event.profile_id, event.underlying, event.ts) == ("event_driven", symbol, legs[-1].ts)
    assert service.control_revision >= 0


async def test_python_m_flow_svc_publishes_and_exits_cleanly_on_sigterm(nats_url, nats_client, js):
    env = {**os.environ, "NATS_URL": nats_url, "FLOW_FLUSH_INTERVAL_MS": "100"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "flow_svc", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        before = await last_seq(js)
        seen: list[str] = []
        async with asyncio.timeout(20):  # read the log until the service says it is consuming
            while not any("flow service consuming" in line for line in seen):
                line = await proc.stderr.readline()
                assert line, f"flow_svc exited while starting: {''.join(seen)[-2000:]}"
                seen.append(line.decode())
        ts0 = now_session_ts()
        legs = sweep(ts0, f"pm{ts0}")
        ids = [p.id for p in legs]
        await publish_prints(nats_client, legs)

        async def landed() -> bool:
            return any(e.print_ids == ids for e, _ in await stream_events(js, before + 1))

        try:
            await eventually(landed, 20, "python -m flow_svc to publish the sweep")
        except AssertionError:
            proc.send_signal(signal.SIGTERM)
            _, err = await proc.communicate()
            raise AssertionError("".join(seen) + err.decode()) from None
        assert sum(1 for e, _ in await stream_events(js, before + 1) if e.print_ids == ids) == 1
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            _, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()[-2000:]
        assert "shutting down" in err.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_full_publish_queue_drops_the_oldest_events_and_counts_them(flow_settings, nats_client):
    # Not started: nothing drains the queue, as when JetStream refuses every write.
    service = FlowService(flow_settings, nats_client, max_pending=3)
    events = [
        SmartMoneyEvent(
            event_id=f"q-{i}", ts=1_000 + i, profile_id="retail_whale", underlying="TSLA", direction="bullish",
            premium=500_000.0, contracts=100, print_ids=(f"p{i}",), reason="test",
            contract="TSLA  261218C00300000", expiry="2026-12-18", strike=300.0, right="C", spot=290.0,
        )
        for i in range(5)
    ]
    service._enqueue(events[:2])
    service._enqueue(events[2:])
    kept = [service._queue.get_nowait()[0].event_id for _ in range(service._queue.qsize())]
    assert kept == ["q-2", "q-3", "q-4"]
    assert service.registry.value("synthmarket_flow_svc_events_dropped_total") == 2


async def test_a_classifier_failure_on_equity_context_is_counted_and_the_tape_goes_on(start_flow, nats_client):
    class BrokenOnEquities(SmartMoneyClassifier):
        def observe_equity(self, update):
            raise RuntimeError("boom")

    nats_errors: list[Exception] = []
    previous_cb = nats_client._error_cb

    async def record(exc: Exception) -> None:
        nats_errors.append(exc)
        if previous_cb is not None:
            await previous_cb(exc)

    nats_client._error_cb = record
    try:
        service = await start_flow(classifier=BrokenOnEquities())
        ts0 = now_session_ts()
        for i in range(2):
            trade = EquityTrade(id=f"eqx-{i}", ts=ts0 + i, symbol="AAPL", price=228.0, size=100, venue="NSDQ",
                                off_exchange=False)
            await nats_client.publish(equity_trades_subject("AAPL"), wire.equity_trade_to_proto(trade).SerializeToString())
        await publish_prints(nats_client, sweep(ts0 + 10, f"eqx{ts0}")[:1])
        await eventually(
            lambda: (service.registry.value("synthmarket_flow_svc_prints_consumed_total") or 0) >= 1,
            5, "the print after the failing equity updates",
        )
        assert service.registry.value("synthmarket_flow_svc_classifier_errors_total") == 2
        # Handled in the service: nothing reaches the connection's error callback (read as an outage).
        assert not [e for e in nats_errors if "boom" in str(e)]
    finally:
        nats_client._error_cb = previous_cb
