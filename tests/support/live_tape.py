"""The live ingest services (and, when asked, the flow service) on one NATS server, on a session
clock standing at a chosen day's open until released and then running at a raised speed; every
print they publish is recorded from NATS, and records of every kind have one canonical text so
live and offline tapes compare byte for byte."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

import nats
from google.protobuf.message import DecodeError
from nats.aio.client import Client
from nats.aio.subscription import Subscription

from equities_svc.service import start_equities_service
from options_svc.service import start_options_service
from regime_svc.server import RegimeServer, serve
from synthmarket import names, wire
from synthmarket.domain.calendar import TradingDay
from synthmarket.domain.marketdata import EquityQuote, EquityTrade, OptionPrint, SmartMoneyEvent
from synthmarket.domain.session_clock import SessionClock
from synthmarket.infra.ingest import IngestService
from synthmarket.settings import Settings, load_settings
from synthmarket.v1 import market_pb2, smart_money_pb2, status_pb2
from tests.support.waiting import eventually


class ReleasedWall:
    """A wall clock standing at ``start_ms`` until ``release()``, then moving with the real clock.

    Standing at 09:30 New York of a trading day, a session clock of any speed reads that day's
    open; every service built before the release starts its tape exactly there.
    """

    def __init__(self, start_ms: int) -> None:
        self.start_ms = start_ms
        self._released_at: float | None = None

    def release(self) -> None:
        self._released_at = time.monotonic()

    def __call__(self) -> int:
        if self._released_at is None:
            return self.start_ms
        return self.start_ms + int((time.monotonic() - self._released_at) * 1000)


def live_settings(nats_url: str, speed: float, **env: str) -> Settings:
    base = {"REGIME_STREAM_INTERVAL_MS": "100", "FLOW_FLUSH_INTERVAL_MS": "100", **env}
    return dataclasses.replace(load_settings(base), nats_url=nats_url, speed=speed)


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False)


def ts_of(line: str) -> int:
    return int(json.loads(line)["ts"])


def decode(subject: str, data: bytes) -> tuple[str, OptionPrint | EquityTrade | EquityQuote]:
    """(kind, record) of one market-data message: kind is ``options`` or ``equities``."""
    if subject.startswith(names.OPTION_PRINTS_PREFIX + "."):
        return "options", wire.option_print_from_proto(market_pb2.OptionPrint.FromString(data))
    if subject.startswith(names.EQUITY_TRADES_PREFIX + "."):
        return "equities", wire.equity_trade_from_proto(market_pb2.EquityTrade.FromString(data))
    if subject.startswith(names.EQUITY_QUOTES_PREFIX + "."):
        return "equities", wire.equity_quote_from_proto(market_pb2.EquityQuote.FromString(data))
    raise AssertionError(f"unexpected subject {subject}")


class TapeRecorder:
    """Every option print, equity trade and quote published on the server, as received."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._nc: Client | None = None
        self._subs: list[Subscription] = []

    async def start(self, nats_url: str) -> None:
        self._nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=0)

        async def keep(msg: Any) -> None:
            self.messages.append((msg.subject, msg.data))

        for subject in (names.ALL_OPTION_PRINTS, names.ALL_EQUITY_TRADES, names.ALL_EQUITY_QUOTES):
            self._subs.append(await self._nc.subscribe(subject, cb=keep, pending_msgs_limit=10_000_000,
                                                       pending_bytes_limit=1 << 30))
        await self._nc.flush()

    async def stop(self) -> None:
        """Call once the publishers have flushed: everything they sent is then taken in."""
        assert self._nc is not None
        await self._nc.flush()
        await eventually(lambda: all(s.pending_msgs == 0 for s in self._subs), 10, "the recorder drained")
        await self._nc.close()

    def tape(self, until: int) -> dict[str, list[str]]:
        """Canonical lines of the records with ts < ``until``, per kind, sorted."""
        out: dict[str, list[str]] = {"options": [], "equities": []}
        for subject, data in self.messages:
            kind, record = decode(subject, data)
            if record.ts < until:
                out[kind].append(canonical(record.to_dict()))
        return {k: sorted(v) for k, v in out.items()}


def offline_tape(options: Iterable[OptionPrint], equities: Iterable[EquityTrade | EquityQuote],
                 until: int) -> dict[str, list[str]]:
    return {
        "options": sorted(canonical(p.to_dict()) for p in options if p.ts < until),
        "equities": sorted(canonical(r.to_dict()) for r in equities if r.ts < until),
    }


def assert_same_lines(got: list[str], want: list[str], what: str) -> None:
    """Equal as multisets of lines (both sorted); on failure name how many differ and a few of them."""
    if got == want:
        return
    have, need = Counter(got), Counter(want)
    missing, extra = list((need - have).elements()), list((have - need).elements())
    raise AssertionError(
        f"{what}: {len(got)} records, {len(want)} expected; {len(missing)} missing, {len(extra)} extra"
        f"\n  missing e.g. {missing[:2]}\n  extra e.g. {extra[:2]}"
    )


@dataclasses.dataclass
class IngestStack:
    """A regime server and n replicas of both ingest services, each replica on its own connection."""

    regime: RegimeServer
    services: list[IngestService]
    connections: list[Client]

    async def stop(self) -> None:
        for svc in self.services:
            await svc.stop()
        for nc in self.connections:
            await nc.flush()
            await nc.close()
        await self.regime.stop(0.5)


async def start_ingest(nats_url: str, settings: Settings, wall: ReleasedWall, *, replicas: int,
                       control_bucket: str, status_bucket: str) -> IngestStack:
    """Start everything and wait until each replica has its control and its tape built."""
    clock = SessionClock(speed=settings.speed)
    regime = await serve(settings, addr="127.0.0.1:0", control_bucket=control_bucket, clock=clock,
                         wall_clock=wall)
    services: list[IngestService] = []
    connections: list[Client] = []
    for start in (start_options_service, start_equities_service):
        for replica in range(replicas):
            nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=0)
            connections.append(nc)
            services.append(await start(settings, nc, replica=replica, replicas=replicas,
                                        regime_addr=regime.address, clock=clock, wall_clock=wall,
                                        control_bucket=control_bucket, status_bucket=status_bucket,
                                        status_interval_s=0.2))
    await eventually(lambda: all(s.tape is not None for s in services), 60, "every replica built its tape")
    return IngestStack(regime, services, connections)


async def tapes_reached(stack: IngestStack, wall: ReleasedWall, clock: SessionClock, ts: int) -> None:
    """Wait until every replica has published records at or after session ``ts``."""
    speed = clock.speed
    await eventually(lambda: clock.ts(wall()) >= ts, (ts - clock.ts(wall())) / speed / 1000 + 30,
                     f"the session clock reached ts {ts}")
    await eventually(lambda: all(s.status.last_publish_ts >= ts for s in stack.services), 30,
                     f"every replica published past ts {ts}")


async def read_report(status_kv: Any, key: str) -> status_pb2.StatusReport | None:
    try:
        entry = await status_kv.get(key)
    except Exception:  # noqa: BLE001 - not written yet
        return None
    return status_pb2.StatusReport.FromString(entry.value)


async def stored_events(js: Any, day: TradingDay) -> list[SmartMoneyEvent]:
    """The SMART_MONEY events of ``day``'s session, in stream order."""
    info = await js.stream_info(names.SMART_MONEY_STREAM)
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            msg = await js.get_msg(names.SMART_MONEY_STREAM, seq, direct=True)
        except Exception:  # noqa: BLE001 - removed by retention
            continue
        try:
            event = wire.smart_money_event_from_proto(smart_money_pb2.SmartMoneyEvent.FromString(msg.data))
        except (DecodeError, wire.WireError):
            continue    # another test's deliberately malformed message in the session's stream
        if day.open_ms <= event.ts < day.close_ms:
            out.append(event)
    return out


def iso_utc(wall_ms: int) -> str:
    """``updated_at`` as the gateway writes it."""
    stamp = dt.datetime.fromtimestamp(wall_ms / 1000, dt.UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")
