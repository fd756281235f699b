"""Instant on: a flow service started mid-session publishes the session so far, exactly as the
offline runner computes it, never twice, and joins the live tape without a gap."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

import pytest

from flow_svc.service import FlowService, start_flow_service
from synthmarket import wire
from synthmarket.domain.calendar import EXCHANGE_TZ, TradingDay, trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.control_timeline import CHANGE_LEAD_MS, Control, ControlTimeline
from synthmarket.domain.marketdata import SmartMoneyEvent
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.infra import nats_auth
from synthmarket.infra.embedded_nats import EmbeddedNats
from synthmarket.names import CONTROL_KEY, option_prints_subject
from synthmarket.settings import load_settings
from synthmarket_cli.control_changes import ControlChange
from synthmarket_cli.control_changes import timeline as timeline_for
from synthmarket_cli.flow import OptionsHistory
from synthmarket_cli.offline import SimulationSpec, run_session
from tests.support.live_tape import stored_events
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

# Future trading days, one per test, so no event stored by another test is on the day or after it.
DAY = trading_day(dt.date(2027, 1, 12))
JOIN_DAY = trading_day(dt.date(2027, 1, 13))


@pytest.fixture(scope="module")
def nats_url() -> Iterator[str]:
    """A server of this module's own: a flow service resumes after the newest event stored, and other
    modules store events at any time, so a shared stream would decide what these replays publish."""
    with EmbeddedNats(host="127.0.0.1", port=0) as server:
        yield server.url_as(nats_auth.OPERATOR)


def at(hhmm: str, day: TradingDay = DAY) -> int:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return int(dt.datetime.combine(day.date, dt.time(hour, minute), EXCHANGE_TZ).timestamp() * 1000)


def offline_events(control: Control, symbols: tuple[str, ...], until: int,
                   day: TradingDay = DAY) -> list[SmartMoneyEvent]:
    """The events the offline runner decides from the open up to ``until`` (no closing flush)."""
    spec = SimulationSpec(control, day, day.open_ms, until, symbols, with_equities=False, ordinary_scale=0.0)
    return [e for step in run_session(spec) if step.t0 < until for e in step.events]


async def start_at(nats_url: str, nc, wall: int, **kwargs) -> FlowService:
    settings = load_settings({"NATS_URL": nats_url, "FLOW_FLUSH_INTERVAL_MS": "100"})
    # At speed 1 inside a session, the session clock reads the wall clock: pin it.
    return await start_flow_service(settings, nc, history=events_only, wall_clock=lambda: wall, **kwargs)


def events_only(control: Control, universe, open_ms: int) -> OptionsHistory:
    """The options tape without its ordinary flow: the same events (the classifier never reads that
    flow), at a fraction of the cost; `synthmarket flow` replays the whole tape."""
    return OptionsHistory(control, universe, open_ms, ordinary_scale=0.0)


async def test_started_at_two_times_of_day_the_stream_holds_the_offline_session_once(nats_url, nats_client, js):
    first = await start_at(nats_url, nats_client, at("10:07"))
    try:
        control, symbols = first.control, first.universe
        want = offline_events(control, symbols, at("10:07"))
        got = await stored_events(js, DAY)
        assert len(want) > 100
        assert got == want, "the replay at 10:07 is not the offline session"
    finally:
        await first.stop(grace=2)

    # A restart later in the day: what is stored stays, the rest of the session so far is added.
    second = await start_at(nats_url, nats_client, at("14:41"))
    try:
        want = offline_events(control, symbols, at("14:41"))
        got = await stored_events(js, DAY)
        duplicates = [i for i, n in Counter(e.event_id for e in got).items() if n > 1]
        assert not duplicates, duplicates[:5]
        assert sorted(got, key=lambda e: e.event_id) == sorted(want, key=lambda e: e.event_id)
        assert second.registry.value("synthmarket_flow_svc_replayed_events_total") == len(want) - len(
            offline_events(control, symbols, at("10:07")))
    finally:
        await second.stop(grace=2)


async def test_the_live_tape_joins_where_the_replay_ended(nats_url, nats_client, js):
    start, end = at("11:30", JOIN_DAY), at("11:33", JOIN_DAY)
    service = await start_at(nats_url, nats_client, start)
    try:
        control, symbols = service.control, service.universe
        # The live tape starts just after the third event past the replay's end, so the gap holds some.
        first_live = sorted(e.ts for e in offline_events(control, symbols, end, JOIN_DAY) if e.ts >= start)[2] + 1
        # The live options service's prints from then on: those between the replay's end and then
        # were published before the flow service listened. They must not be lost.
        tape = events_only(control, symbols, JOIN_DAY.open_ms)
        tape.step(JOIN_DAY.open_ms, first_live)
        live = tape.step(first_live, end)
        for p in live:
            await nats_client.publish(option_prints_subject(p.underlying), wire.option_print_to_proto(p).SerializeToString())
        await nats_client.flush()
        # The stack's clock stands still: a pattern the last prints leave open waits for a later print.
        settled = live[-1].ts - 1_000
        want = [e for e in offline_events(control, symbols, end, JOIN_DAY) if e.ts < settled]

        async def caught_up() -> bool:
            have = {e.event_id for e in await stored_events(js, JOIN_DAY)}
            return {e.event_id for e in want} <= have

        await eventually(caught_up, 20, "the events of the joined tape")
        got = [e for e in await stored_events(js, JOIN_DAY) if e.ts < settled]
        assert sorted(got, key=lambda e: e.event_id) == sorted(want, key=lambda e: e.event_id)
        assert any(start <= e.ts < first_live for e in got), "no event from the gap: the test proves nothing"
    finally:
        await service.stop(grace=2)


CHANGE_DAY = trading_day(dt.date(2027, 1, 14))


async def test_the_replay_runs_the_days_control_changes_as_simulate_does(nats_url, nats_client, js, make_kv):
    control_kv = await make_kv("ctl")
    # An operator switched to event_day at 11:00; the flow service starts at 13:15.
    written = at("11:00", CHANGE_DAY) - CHANGE_LEAD_MS
    stamp = dt.datetime.fromtimestamp(written / 1000, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event_day = DEFAULT_CONTROL.with_update(preset_id=SyntheticControlPresetId.EVENT_DAY, updated_at=stamp,
                                            updated_by="test")
    await control_kv.put(CONTROL_KEY, event_day.to_json_bytes())
    service = await start_at(nats_url, nats_client, at("13:15", CHANGE_DAY), control_bucket=control_kv._name)
    try:
        assert isinstance(service.timeline, ControlTimeline)
        assert service.timeline.at(at("11:00", CHANGE_DAY)).preset_id == SyntheticControlPresetId.EVENT_DAY
        assert service.timeline.at(at("11:00", CHANGE_DAY) - 1).preset_id == SyntheticControlPresetId.BALANCED_DEMO
        # What `simulate --control-change 11:00=event_day` runs.
        timeline = timeline_for(DEFAULT_CONTROL, [ControlChange("11:00", preset="event_day")], CHANGE_DAY)
        want = offline_events(timeline, service.universe, at("13:15", CHANGE_DAY), CHANGE_DAY)
        got = await stored_events(js, CHANGE_DAY)
        assert sorted(got, key=lambda e: e.event_id) == sorted(want, key=lambda e: e.event_id)
        # Not the same as a day run under either preset alone.
        assert want != offline_events(DEFAULT_CONTROL, service.universe, at("13:15", CHANGE_DAY), CHANGE_DAY)
    finally:
        await service.stop(grace=2)
