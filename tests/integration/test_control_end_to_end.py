"""An operator's PUT through the gateway reaches the KV entry, regime_svc and both ingest services.

Everything is real: NATS, the regime gRPC server, the options and equities ingest services and
the gateway app; only the HTTP layer is Flask's test client.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from equities_svc.service import start_equities_service
from options_svc.service import start_options_service
from synthmarket.domain.calendar import trading_day_for
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.control_timeline import ControlTimeline, change_ts
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.session_clock import SessionClock
from synthmarket.engine import underlying_path
from synthmarket.names import equity_quotes_subject
from synthmarket.settings import load_settings
from synthmarket.v1 import market_pb2, status_pb2
from tests.support.admin_stack import AUTH, CONTROL, STATUS, Stack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

# Starting to publish follows the open interest replay of the previous session (seconds of CPU,
# more on a busy machine); the claims timed here come after it.
STARTUP_S = 45


@pytest.fixture
def live(nats_url):
    stack = Stack(nats_url)
    settings = dataclasses.replace(
        load_settings({"SYNTH_SYMBOLS": "SPY,AAPL,TSLA", "REGIME_STREAM_INTERVAL_MS": "100"}),
        nats_url=nats_url, speed=30.0,
    )
    # The session starts 200 minutes in, whatever the time of day: by then the presets' paths have
    # drifted apart (over 60 dates the widest gap from balanced_demo at minute 120 was never under
    # 0.2%, twice the tolerance below), so the no-jump check always has a jump to prevent.
    clock = SessionClock(speed=settings.speed,
                         start_ms=int(time.time() * 1000) - int(200 * 60_000 / settings.speed))
    common = dict(regime_addr=stack.regime.address, control_bucket=stack.control_bucket,
                  status_bucket=stack.status_bucket, status_interval_s=0.2, clock=clock)
    services = [stack.bridge.run(start(settings, stack.nc, **common), 15)
                for start in (start_options_service, start_equities_service)]
    try:
        yield stack, services
    finally:
        for service in services:
            stack.bridge.run(service.stop(), 15)
        stack.close()


def test_a_put_reaches_kv_regime_and_both_ingest_services_within_a_second(live):
    stack, (options, equities) = live
    wait_until(lambda: options.publishing.is_set() and equities.publishing.is_set(), STARTUP_S, "both services publishing")
    before = stack.client.get(STATUS, headers=AUTH).get_json()
    assert before["derived"]["coverage_window_minutes"] == 20

    current = stack.client.get(CONTROL, headers=AUTH)
    body = {**current.get_json(), "preset_id": "dealer_day", "coverage_window_minutes": 10, "shared_seed": 99}
    sent = time.monotonic()
    put = stack.client.put(CONTROL, json=body, headers={**AUTH, "If-Match": current.headers["ETag"]})
    assert put.status_code == 200, put.get_json()
    revision = int(put.headers["ETag"].strip('"'))

    # The KV entry holds it.
    assert stack.kv_history()[-1] == (revision, put.get_json())

    def applied_everywhere() -> bool:
        return (stack.regime.control.revision == revision and options.status.applied_revision == revision
                and equities.status.applied_revision == revision)

    def derived_follows() -> bool:
        status = stack.client.get(STATUS, headers=AUTH).get_json()
        return status["control"]["shared_seed"] == 99 and status["derived"]["coverage_window_minutes"] == 10

    def reports_carry_revision() -> bool:
        async def go() -> list[int]:
            kv = await stack.js.key_value(stack.status_bucket)
            entries = [await kv.get(key) for key in ("options_svc.0", "equities_svc.0")]
            return [status_pb2.StatusReport.FromString(e.value).applied_control_revision for e in entries]

        return stack.bridge.run(go(), 5) == [revision, revision]

    # Within a second of the PUT: every service applied it, their status reports say so, and the
    # operator's derived status shows the new control.
    wait_until(lambda: applied_everywhere() and reports_carry_revision() and derived_follows(), 1.0,
               f"revision {revision} applied, reported and derived")
    assert time.monotonic() - sent < 1.5
    assert options.control.preset_id.value == equities.control.preset_id.value == "dealer_day"


def test_a_preset_change_through_the_gateway_moves_no_quote(live):
    stack, (_options, equities) = live
    wait_until(lambda: equities.publishing.is_set(), STARTUP_S, "equities publishing")
    quotes: list[tuple[int, float]] = []

    async def on_quote(msg) -> None:
        q = market_pb2.EquityQuote.FromString(msg.data)
        quotes.append((q.ts, (q.bid + q.ask) / 2))

    sub = stack.bridge.run(stack.nc.subscribe(equity_quotes_subject("SPY"), cb=on_quote), 5)
    try:
        time.sleep(1.0)
        current = stack.client.get(CONTROL, headers=AUTH)
        # The preset whose own SPY path is farthest from the running one about now: without the
        # stitching the quote would jump by that gap.
        soon = equities.clock.ts(int(time.time() * 1000)) + 2_000
        running = underlying_path("SPY", np.array([soon]), equities.timeline, symbols=equities.universe)["price"][0]
        gaps = {}
        for preset in SyntheticControlPresetId:
            raw = underlying_path("SPY", np.array([soon]), DEFAULT_CONTROL.with_update(preset_id=preset),
                                  symbols=equities.universe)["price"][0]
            gaps[preset.value] = abs(np.log(raw / running))
        target = max(gaps, key=gaps.__getitem__)
        body = {**current.get_json(), "preset_id": target}
        put = stack.client.put(CONTROL, json=body, headers={**AUTH, "If-Match": current.headers["ETag"]})
        assert put.status_code == 200, put.get_json()
        at = change_ts(put.get_json()["updated_at"], equities.clock.ts)
        assert at is not None
        wait_until(lambda: quotes and quotes[-1][0] > at + 30_000, 10, "quotes well past the change")
    finally:
        stack.bridge.run(sub.unsubscribe(), 5)
    # Every service runs the same timeline: the change at the session instant of the write plus the lead.
    assert isinstance(equities.timeline, ControlTimeline) and equities.timeline.changes[-1][0] == at
    reported = equities.report().control_timeline
    assert f"{target}/seed" in reported and reported == _options.report().control_timeline
    ts = np.array([t for t, _ in quotes])
    mid = np.array([m for _, m in quotes])
    before = np.searchsorted(ts, at - 15_000, side="right") - 1
    after = np.searchsorted(ts, at + 15_000, side="right") - 1
    assert before >= 0 and ts[after] > at
    day = trading_day_for(at)
    marks = np.arange(day.open_ms, day.close_ms, 30_000)
    ordinary = np.abs(np.diff(np.log(underlying_path("SPY", marks, equities.timeline, symbols=equities.universe)["price"])))
    # Tolerance: the 30 s across the change within the day's 99th percentile of 30 s moves under the
    # same timeline (quotes sit on a one-cent grid around the mid, hence the half-cent allowance).
    tolerance = np.quantile(ordinary, 0.99) + 0.01 / mid[before]
    assert gaps[target] > tolerance, f"the presets' paths lie too close here ({gaps}) for the check to mean anything"
    assert abs(np.log(mid[after] / mid[before])) <= tolerance
