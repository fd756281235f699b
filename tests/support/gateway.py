"""Test and bench support: a live gateway on a free port, and a publisher into the smart-money stream."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import nats
from nats.aio.client import Client
from werkzeug.serving import BaseWSGIServer, make_server

from admin_gateway.bridge import AsyncBridge
from synthmarket.domain.marketdata import SmartMoneyEvent
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.infra.streams import ensure_smart_money_stream
from synthmarket.names import SMART_MONEY_STREAM, SMART_MONEY_SUBJECT
from synthmarket.wire import smart_money_event_to_proto

DIRECTIONS = ("bullish", "bearish", "neutral")


def make_event(i: int, ts: int, *, profile: str | None = None, symbol: str | None = None,
               direction: str | None = None, premium: float | None = None, prefix: str = "ev") -> SmartMoneyEvent:
    """A deterministic, fully public event; every field derives from ``i``."""
    return SmartMoneyEvent(
        event_id=f"{prefix}-{i:06d}",
        ts=ts,
        profile_id=profile or PUBLIC_PROFILE_IDS[i % len(PUBLIC_PROFILE_IDS)],
        underlying=symbol or ("AAPL", "NVDA", "SPY", "TSLA")[i % 4],
        direction=direction or DIRECTIONS[i % 3],
        premium=premium if premium is not None else 50_000.0 + 1_000.0 * (i % 17),
        contracts=10 + i % 90,
        print_ids=(f"p-{i}-a", f"p-{i}-b"),
        reason="test event",
        contract="AAPL  261218C00230000",
        expiry="2026-12-18",
        strike=230.0,
        right="C",
        spot=228.5,
    )


class StreamPublisher:
    """Publishes SmartMoneyEvent protobufs into SMART_MONEY exactly as flow_svc does."""

    def __init__(self, nats_url: str, retention_hours: float = 24.0) -> None:
        self._bridge = AsyncBridge("stream-publisher")
        self._nc: Client = self._bridge.run(nats.connect(nats_url, connect_timeout=5), 10)
        self._js = self._nc.jetstream(timeout=5)
        self._bridge.run(ensure_smart_money_stream(self._js, retention_hours), 10)

    def publish(self, events: Iterable[SmartMoneyEvent]) -> list[int]:
        """Publish in order; returns the stream sequence of each event."""
        events = list(events)

        async def go() -> list[int]:
            seqs = []
            for e in events:
                ack = await self._js.publish(
                    SMART_MONEY_SUBJECT,
                    smart_money_event_to_proto(e).SerializeToString(),
                    headers={"Nats-Msg-Id": e.event_id},
                )
                seqs.append(ack.seq)
            return seqs

        return self._bridge.run(go(), 30 + len(events) / 100)

    def publish_raw(self, payload: bytes, msg_id: str) -> int:
        async def go() -> int:
            ack = await self._js.publish(SMART_MONEY_SUBJECT, payload, headers={"Nats-Msg-Id": msg_id})
            return ack.seq

        return self._bridge.run(go(), 10)

    def purge(self) -> None:
        self._bridge.run(self._js.purge_stream(SMART_MONEY_STREAM), 10)

    def last_seq(self) -> int:
        async def go() -> int:
            return (await self._js.stream_info(SMART_MONEY_STREAM)).state.last_seq

        return self._bridge.run(go(), 10)

    def close(self) -> None:
        self._bridge.close(self._nc.close())


class LiveServer:
    """The app on a threaded Werkzeug server bound to 127.0.0.1 port 0 (websockets work on it)."""

    def __init__(self, app, host: str = "127.0.0.1") -> None:
        self.server: BaseWSGIServer = make_server(host, 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}"
        self.ws_url = f"ws://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="live-gateway", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def event_ids(items: Sequence[dict]) -> list[str]:
    return [item["event_id"] for item in items]
