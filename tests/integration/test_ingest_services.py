"""options_svc and equities_svc live: regime stream, control from KV, publishing, status reports, no hidden labels."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest

from equities_svc.service import start_equities_service
from options_svc.families import ALL_SUBTYPES
from options_svc.service import start_options_service
from regime_svc.server import serve
from synthmarket import engine
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.profiles import FAMILY_IDS
from synthmarket.domain.session_clock import SessionClock
from synthmarket.infra.control_store import write_control
from synthmarket.infra.ingest import IngestService, partition
from synthmarket.settings import load_settings
from synthmarket.v1 import market_pb2, status_pb2
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

# Starting to publish follows the open interest replay of the previous session (seconds of CPU,
# more on a busy machine); the claims timed here come after it.
STARTUP_S = 45

SYMBOLS = "SPY,QQQ,AAPL,TSLA,NVDA"


class FakeWall:
    """A wall clock the test moves by hand, shared by the regime server and both services."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def _settings(nats_url: str, **env: str):
    base = {"SYNTH_SYMBOLS": SYMBOLS, "REGIME_STREAM_INTERVAL_MS": "100", **env}
    return dataclasses.replace(load_settings(base), nats_url=nats_url)


@pytest.fixture
async def stack(nats_url, nats_client, make_kv):
    """Start a regime server and both ingest services on fresh KV buckets; yields a builder."""
    started: list = []

    async def build(*, speed: float = 1.0, wall: FakeWall | None = None, control_kv=None, **env: str):
        control_kv = control_kv or await make_kv("ctl")
        status_kv = await make_kv("status", history=1)
        settings = dataclasses.replace(_settings(nats_url, **env), speed=speed)
        clock = SessionClock(speed=speed)
        wall_kw = {"wall_clock": wall} if wall is not None else {}
        regime = await serve(settings, nc=nats_client, addr="127.0.0.1:0", control_bucket=control_kv._name,
                             clock=clock, **wall_kw)
        started.append(regime)
        common = dict(regime_addr=regime.address, clock=clock, control_bucket=control_kv._name,
                      status_bucket=status_kv._name, status_interval_s=0.2, **wall_kw)
        options = await start_options_service(settings, nats_client, **common)
        started.append(options)
        equities = await start_equities_service(settings, nats_client, **common)
        started.append(equities)
        return regime, options, equities, control_kv, status_kv

    yield build
    for item in reversed(started):
        if isinstance(item, IngestService):
            await item.stop()
        else:
            await item.stop(0.5)


async def _report(status_kv, key: str) -> status_pb2.StatusReport | None:
    try:
        entry = await status_kv.get(key)
    except Exception:  # noqa: BLE001 - not written yet
        return None
    return status_pb2.StatusReport.FromString(entry.value)


def _ts_with_another_regime(clock: SessionClock, wall: int, symbols: tuple[str, ...]) -> int:
    """A wall instant, later than ``wall``, whose session regime or focus differs from ``wall``'s."""
    first = engine.get_session_state(clock.ts(wall), DEFAULT_CONTROL, symbols)
    for minutes in range(10, 390, 10):
        later = wall + minutes * 60_000
        state = engine.get_session_state(clock.ts(later), DEFAULT_CONTROL, symbols)
        if (state.regime, state.focus_symbols) != (first.regime, first.focus_symbols):
            return later
    raise AssertionError("the whole session ran in one regime with one focus set")


async def test_both_services_report_the_regime_servers_session_for_the_same_ts(stack):
    wall = FakeWall(1_795_000_000_000)
    _regime, options, equities, _, status_kv = await stack(wall=wall)
    symbols = options.universe
    assert options.universe == equities.universe == tuple(SYMBOLS.split(","))
    for target in (wall.ms, _ts_with_another_regime(options.clock, wall.ms, symbols)):
        wall.ms = target
        ts = options.clock.ts(target)
        expected = engine.get_session_state(ts, DEFAULT_CONTROL, symbols)
        # Both follow the regime server's stream: same session ts, same answer as the engine's.
        await eventually(lambda ts=ts: all(s.status.session is not None and s.status.session.ts == ts
                                     for s in (options, equities)), 5, f"both services saw session ts {ts}")
        for svc in (options, equities):
            assert svc.status.session.regime == expected.regime
            assert svc.status.session.focus_symbols == expected.focus_symbols

        async def reports_agree(expected=expected) -> bool:
            reports = [await _report(status_kv, k) for k in ("options_svc.0", "equities_svc.0")]
            return all(r is not None and r.regime == expected.regime.value
                       and tuple(r.focus_symbols) == expected.focus_symbols
                       and r.session_phase == expected.session_phase.value for r in reports)

        await eventually(reports_agree, 5, f"status KV reports regime {expected.regime.value} for ts {ts}")


async def test_a_control_write_reaches_regime_and_both_ingest_services_within_a_second(stack):
    regime, options, equities, control_kv, status_kv = await stack(speed=30)
    await regime.wait_for_control()
    await eventually(lambda: options.control_ready.is_set() and equities.control_ready.is_set(), 5, "controls loaded")
    await eventually(lambda: options.publishing.is_set() and equities.publishing.is_set(), STARTUP_S, "both publishing")
    state = DEFAULT_CONTROL.with_update(preset_id=SyntheticControlPresetId.DEALER_DAY, shared_seed=7, updated_by="test")
    revision = await write_control(control_kv, state, 0)
    await eventually(
        lambda: (regime.control.revision == revision and options.status.applied_revision == revision
                 and equities.status.applied_revision == revision),
        1.0, f"revision {revision} applied by regime_svc, options_svc and equities_svc",
    )
    assert options.control == equities.control == regime.control.state == state
    # The generators run under it from their next step on.
    await eventually(lambda: options.tape.generator.control == equities.tape.generator.control == state, 1,
               "both generators run under the new control")

    async def reported() -> bool:
        reports = [await _report(status_kv, k) for k in ("options_svc.0", "equities_svc.0")]
        return all(r is not None and r.applied_control_revision == revision for r in reports)

    await eventually(reported, 2, "status KV carries the applied revision")
    # The same figures on /metrics.
    for svc in (options, equities):
        name = svc.service
        assert svc.registry.value(f"synthmarket_{name}_control_revision") == revision
        assert svc.registry.value(f"synthmarket_{name}_messages_published_total") == svc.status.published > 0
        assert svc.registry.value(f"synthmarket_{name}_regime_connected") == 1
    report = options.report()  # refreshes the coverage gauge from the same hit counts
    debt = options.registry.value("synthmarket_options_svc_coverage_debt")
    assert debt == sum(1 for v in report.profile_hit_counts.values() if v == 0)
    # The regime stream is pushed on a control change too: both services see the new revision there.
    await eventually(lambda: options.status.snapshot_revision == equities.status.snapshot_revision == revision,
               2, "regime snapshots carry the new revision")


@pytest.mark.parametrize("stored, message", [(None, "absent"), (b"{not json", "unreadable")])
async def test_absent_or_corrupt_control_means_defaults_and_a_warning(stack, make_kv, caplog, stored, message):
    control_kv = await make_kv("ctl")
    revision = 0
    if stored is not None:
        revision = await control_kv.put("global", stored)
    with caplog.at_level(logging.WARNING, logger="synthmarket.infra.control_store"):
        _regime, options, equities, _, _ = await stack(control_kv=control_kv)
        await eventually(lambda: options.control_ready.is_set() and equities.control_ready.is_set(), 5, "controls loaded")
    for svc in (options, equities):
        assert svc.control == DEFAULT_CONTROL
        # A corrupt entry keeps its revision so a compare-and-set write can replace it.
        assert svc.status.applied_revision == revision
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(message in w and "using defaults" in w for w in warnings), warnings


async def test_published_messages_decode_and_carry_no_hidden_label(stack, nats_client):
    seen: list[tuple[str, bytes]] = []

    async def collect(msg) -> None:
        seen.append((msg.subject, msg.data))

    sub = await nats_client.subscribe("md.>", cb=collect)
    try:
        # Fast enough for a few hundred option prints in a few seconds.
        _regime, options, equities, _, status_kv = await stack(speed=120)
        await eventually(lambda: sum(s.startswith("md.options.") for s, _ in seen) >= 100, 20, "100 option prints")
        await options.stop()
        await equities.stop()
        await nats_client.flush()
    finally:
        await sub.unsubscribe()
    hidden = [name.encode() for name in (*ALL_SUBTYPES, *FAMILY_IDS)]
    kinds = {"md.options.prints": market_pb2.OptionPrint, "md.equities.trades": market_pb2.EquityTrade,
             "md.equities.quotes": market_pb2.EquityQuote}
    counts = dict.fromkeys(kinds, 0)
    for subject, data in seen:
        prefix, symbol = subject.rsplit(".", 1)
        msg = kinds[prefix].FromString(data)
        # Re-encoding gives the same bytes: nothing rides along outside the known fields.
        assert msg.SerializeToString() == data
        assert getattr(msg, "underlying", None) or msg.symbol == symbol
        assert not any(name in data for name in hidden), (subject, msg)
        text = str(msg)
        assert not any(name.decode() in text for name in hidden), (subject, text)
        counts[prefix] += 1
    assert min(counts.values()) > 0, counts
    # Labels are popped and dropped every step: none is left waiting in the generator.
    assert options.tape.generator.pop_labels() == {}
    report = await _report(status_kv, "options_svc.0")
    assert report is not None and set(report.profile_hit_counts) <= set(FAMILY_IDS) - {"neutral_noise"}


async def test_replicas_split_the_symbols_and_report_under_their_own_keys(nats_url, nats_client, make_kv):
    settings = _settings(nats_url)
    control_kv, status_kv = await make_kv("ctl"), await make_kv("status", history=1)
    universe = settings.symbols
    assert partition(universe, 0, 2) == ("SPY", "AAPL", "NVDA") and partition(universe, 1, 2) == ("QQQ", "TSLA")
    regime = await serve(settings, nc=nats_client, addr="127.0.0.1:0", control_bucket=control_kv._name)
    replicas = []
    try:
        for i in range(2):
            replicas.append(await start_equities_service(
                dataclasses.replace(settings, speed=30), nats_client, replica=i, replicas=2,
                regime_addr=regime.address, control_bucket=control_kv._name, status_bucket=status_kv._name,
                status_interval_s=0.2))
        await eventually(lambda: all(r.publishing.is_set() for r in replicas), STARTUP_S, "both replicas publishing")
        assert [r.symbols for r in replicas] == [("SPY", "AAPL", "NVDA"), ("QQQ", "TSLA")]
        for r in replicas:
            # The tape only holds the replica's own symbols; the session universe stays whole.
            assert r.tape.generator.symbols == r.symbols
            assert r.universe == universe

        async def both_reported() -> bool:
            return all([await _report(status_kv, f"equities_svc.{i}") is not None for i in range(2)])

        await eventually(both_reported, 5, "a status report per replica")
        assert (await _report(status_kv, "equities_svc.1")).replica == "1"
    finally:
        for r in replicas:
            await r.stop()
        await regime.stop(0.5)


async def test_hosted_control_does_not_apply_unless_both_adapters_are_synthetic(stack, caplog):
    with caplog.at_level(logging.WARNING, logger="synthmarket.infra.ingest"):
        regime, options, equities, control_kv, _ = await stack(OPTIONS_ADAPTER="live")
        await eventually(lambda: options.control_ready.is_set() and equities.control_ready.is_set(), 5, "controls set")
    state = DEFAULT_CONTROL.with_update(preset_id=SyntheticControlPresetId.EVENT_DAY, updated_by="test")
    revision = await write_control(control_kv, state, 0)
    # The regime server follows the entry; the ingest services, in a mixed backend, do not.
    await eventually(lambda: regime.control.revision == revision, 2, "regime_svc saw the write")
    await asyncio.sleep(0.3)
    for svc in (options, equities):
        assert svc.control == DEFAULT_CONTROL and svc.status.applied_revision == 0
    assert any("backend mode is mixed" in r.getMessage() for r in caplog.records)


def test_replica_arguments_are_checked_before_anything_starts():
    import subprocess
    import sys

    for args, message in ((["--replica", "2", "--replicas", "2"], "--replica must be in 0..1"),
                          (["--replicas", "0"], "--replicas >= 1"),
                          (["--speed", "-1"], "--speed must be positive")):
        done = subprocess.run([sys.executable, "-m", "options_svc", *args], capture_output=True, text=True, timeout=60,
                              env={"PATH": "/usr/bin:/bin", "SYNTH_SYMBOLS": SYMBOLS})
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)
    done = subprocess.run([sys.executable, "-m", "equities_svc", "--replica", "5", "--replicas", "6"],
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "SYNTH_SYMBOLS": SYMBOLS})
    assert done.returncode == 2 and "owns none of the 5 symbols" in done.stderr, done.stderr
