"""A stack started mid-session: the flow service as `synthmarket flow` runs it (replaying the session
from the open before going live), the real gateway and the web terminal, on a NATS server of its own.

Every process of the stack reads one shifted wall clock, so "now" is a fixed minute of a fixed
trading day (SESSION_DAY at SESSION_TIME, running on in real time from there) however the test
machine's clock reads: the session so far, and so the replayed events, are the same on every run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import nats
import numpy as np

from admin_gateway.app import create_app as create_gateway
from admin_gateway.backend import GatewayClients
from flow_svc.service import FlowService, start_flow_service
from synthmarket.domain.calendar import trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.marketdata import EquityQuote, EquityTrade, SmartMoneyEvent
from synthmarket.engine import get_session_state, underlying_path
from synthmarket.infra.control_store import ensure_status_bucket
from synthmarket.infra.embedded_nats import EmbeddedNats
from synthmarket.infra.wallclock import wall_ms
from synthmarket.names import (
    SMART_MONEY_SUBJECT,
    equity_quotes_subject,
    equity_trades_subject,
    option_prints_subject,
)
from synthmarket.settings import load_settings
from synthmarket.v1 import status_pb2
from synthmarket.wire import (
    equity_quote_to_proto,
    equity_trade_to_proto,
    option_print_to_proto,
    smart_money_event_to_proto,
)
from synthmarket_cli.flow import OptionsHistory
from tests.support.waiting import wait_until
from tests.support.webui_backend import TOKEN, LoopThread
from webui.app import create_app
from webui.local_servers import ThreadedServer
from webui.market_feed import MarketFeed

SESSION_DAY = trading_day(dt.date(2027, 3, 10))     # a Wednesday
SESSION_TIME = dt.time(10, 40)                      # 70 minutes into the session


@dataclass
class MidSession:
    nats: EmbeddedNats
    loop: LoopThread
    nc: Any
    flow: FlowService
    clients: GatewayClients
    gateway: ThreadedServer
    feed: MarketFeed
    webui_app: Any
    webui: ThreadedServer
    offset_ms: int

    @property
    def url(self) -> str:
        return self.webui.url

    def now(self) -> int:
        """The stack's session time now."""
        return wall_ms() + self.offset_ms

    def publish(self, event: SmartMoneyEvent) -> None:
        """An event into SMART_MONEY exactly as flow_svc publishes one (live, after the replay)."""
        async def go() -> None:
            await self.nc.jetstream(timeout=5).publish(
                SMART_MONEY_SUBJECT, smart_money_event_to_proto(event).SerializeToString(),
                headers={"Nats-Msg-Id": event.event_id})

        self.loop.run(go())

    def replayed(self) -> int:
        return int(self.flow.published)

    def publish_market(self, seconds: int = 90) -> None:
        """The last ``seconds`` of the market as the ingest services would have published it: the
        options tape from the generator, equity quotes and trades at the engine's prices every 2 s,
        and a status report with the engine's session state (the header's phase and focus)."""
        now = self.now()
        universe = self.flow.universe
        tape = OptionsHistory(DEFAULT_CONTROL, universe, SESSION_DAY.open_ms)
        tape.step(SESSION_DAY.open_ms, now - seconds * 1000)
        prints = tape.step(now - seconds * 1000, now)
        marks = np.arange(now - seconds * 1000, now, 2000, dtype=np.int64)
        state = get_session_state(now, DEFAULT_CONTROL, universe)
        report = status_pb2.StatusReport(service="options_svc", replica="0", session_phase=state.session_phase,
                                         regime=state.regime, focus_symbols=list(state.focus_symbols),
                                         last_publish_ts=now)

        async def go() -> None:
            kv = await ensure_status_bucket(self.nc.jetstream(timeout=5))
            await kv.put("options_svc.0", report.SerializeToString())
            # In small batches over a few seconds: the web server samples the largest prints per flush.
            for i, p in enumerate(prints):
                await self.nc.publish(option_prints_subject(p.underlying), option_print_to_proto(p).SerializeToString())
                if i % max(1, len(prints) // 20) == 0:
                    await self.nc.flush()
                    await asyncio.sleep(0.12)
            for symbol in universe:
                path = underlying_path(symbol, marks, DEFAULT_CONTROL, symbols=universe)
                for k, ts in enumerate(marks.tolist()):
                    bid, ask, price = float(path["bid"][k]), float(path["ask"][k]), round(float(path["price"][k]), 2)
                    await self.nc.publish(equity_quotes_subject(symbol), equity_quote_to_proto(
                        EquityQuote(ts, symbol, bid, ask, 3, 4)).SerializeToString())
                    await self.nc.publish(equity_trades_subject(symbol), equity_trade_to_proto(
                        EquityTrade(f"mt-{symbol}-{ts}", ts + 1, symbol, price, 100, "XNAS", False)).SerializeToString())
            await self.nc.flush()

        self.loop.run(go(), 30)


def session_now_at_start() -> int:
    hour, minute = SESSION_TIME.hour, SESSION_TIME.minute
    return SESSION_DAY.open_ms + ((hour * 60 + minute) - (9 * 60 + 30)) * 60_000


@contextmanager
def midsession_stack() -> Iterator[MidSession]:
    server = EmbeddedNats().start()
    loop = LoopThread()
    offset = session_now_at_start() - wall_ms()

    def clock() -> int:
        return wall_ms() + offset

    url = server.url_as()
    env = {"NATS_URL": url, "FLOW_FLUSH_INTERVAL_MS": "100", "LOG_LEVEL": "WARNING"}
    started: list[Any] = []
    try:
        nc = loop.run(nats.connect(url, connect_timeout=5))
        started.append(("nc", nc))
        began = time.perf_counter()
        flow = loop.run(start_flow_service(load_settings(env), nc, history=OptionsHistory, wall_clock=clock), 120)
        started.append(("flow", flow))
        assert flow.published > 100, f"the replay published only {flow.published} events"
        print(f"\nmid-session stack: replayed {flow.published} events to "
              f"{SESSION_DAY.date} {SESSION_TIME} in {time.perf_counter() - began:.1f}s")
        # The operator drawer is on, as in a hosted demo: the gear is part of the terminal.
        gateway_settings = load_settings({**env, "SYNTHETIC_CONTROL_ENABLED": "1", "SYNTHETIC_ADMIN_TOKEN": TOKEN})
        clients = GatewayClients(gateway_settings).start()
        started.append(("clients", clients))
        gateway = ThreadedServer(create_gateway(gateway_settings, clients)).start()
        started.append(("server", gateway))
        wait_until(lambda: clients.cache.primed.is_set(), 20, "the gateway to load the stream")
        settings = load_settings({**env, "NEXT_PUBLIC_API_URL": gateway.url, "NEXT_PUBLIC_SYNTHETIC_ADMIN": "1",
                                  "SYNTHETIC_ADMIN_TOKEN": TOKEN})
        feed = MarketFeed(settings, flush_interval_s=0.1).start()
        started.append(("feed", feed))
        app = create_app(settings, market=feed, wall_clock=clock)
        webui = ThreadedServer(app).start()
        started.append(("server", webui))
        yield MidSession(server, loop, nc, flow, clients, gateway, feed, app, webui, offset)
    finally:
        for kind, thing in reversed(started):
            try:
                if kind == "server":
                    thing.stop()
                elif kind == "feed":
                    thing.drop_all()
                    thing.close()
                elif kind == "clients":
                    thing.close()
                elif kind == "flow":
                    loop.run(thing.stop(grace=2), 15)
                elif kind == "nc":
                    loop.run(thing.close())
            except Exception as exc:  # noqa: BLE001 - stop the rest whatever one did
                print(f"stopping {kind} failed: {exc}")
        loop.close()
        server.stop()
