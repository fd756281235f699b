"""The NATS resources, gateway and settings a web terminal under test runs against."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import nats
from nats.js.api import StreamConfig

from admin_gateway.app import create_app as create_gateway
from admin_gateway.backend import GatewayClients
from synthmarket.domain.control import SEED_MAX
from synthmarket.domain.marketdata import EquityQuote, EquityTrade, OptionPrint, SmartMoneyEvent
from synthmarket.infra.control_store import ensure_control_bucket, ensure_status_bucket, load_control, write_control
from synthmarket.infra.embedded_nats import free_port
from synthmarket.names import equity_quotes_subject, equity_trades_subject, option_prints_subject
from synthmarket.settings import Settings, load_settings
from synthmarket.v1 import status_pb2
from synthmarket.wire import (
    equity_quote_to_proto,
    equity_trade_to_proto,
    option_print_to_proto,
    smart_money_event_to_proto,
)
from webui.local_servers import ThreadedServer
from webui.operator_auth import signin_link

T = TypeVar("T")


TOKEN = "tok-3b9f0c51-webui-proxy-secret"


BIG_SEED = SEED_MAX - 58  # far above 2^53: a JS number would round it


OPERATOR_PASSWORD = "pw-5d0e-operator-sign-in"


_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{next(_names)}_{int(time.time() * 1000) % 1_000_000}"


class LoopThread:
    """An asyncio loop on a daemon thread so synchronous tests can await NATS calls."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@dataclass
class Backend:
    """NATS resources one stack uses, all under names no other test shares."""

    nats_url: str
    loop: LoopThread
    nc: Any
    control_bucket: str
    status_bucket: str
    stream: str
    subject: str

    @classmethod
    def create(cls, nats_url: str) -> Backend:
        loop = LoopThread()
        backend = cls(nats_url, loop, None, unique("ctl"), unique("st"), unique("SMW"), "")
        backend.subject = f"flow.smart_money.{backend.stream.lower()}"

        async def setup() -> Any:
            nc = await nats.connect(nats_url, connect_timeout=5)
            js = nc.jetstream(timeout=5)
            await js.add_stream(StreamConfig(name=backend.stream, subjects=[backend.subject]))
            await ensure_control_bucket(js, backend.control_bucket)
            await ensure_status_bucket(js, backend.status_bucket)
            return nc

        backend.nc = loop.run(setup())
        return backend

    def close(self) -> None:
        async def teardown() -> None:
            js = self.nc.jetstream(timeout=5)
            for op in (js.delete_stream(self.stream), js.delete_key_value(self.control_bucket),
                       js.delete_key_value(self.status_bucket)):
                try:
                    await op
                except Exception:  # noqa: BLE001 - cleanup must not mask a result
                    pass
            await self.nc.close()

        self.loop.run(teardown())
        self.loop.close()

    # --- reading and writing what the services would -----------------------------------------

    def control(self):
        async def go():
            return await load_control(await self.nc.jetstream(timeout=5).key_value(self.control_bucket))

        return self.loop.run(go())

    def write_control(self, state, expected=None) -> int:
        async def go() -> int:
            kv = await self.nc.jetstream(timeout=5).key_value(self.control_bucket)
            return await write_control(kv, state, expected)

        return self.loop.run(go())

    def report_status(self, hits: dict[str, int], phase: str, regime: str, focus: list[str], ts: int) -> None:
        report = status_pb2.StatusReport(
            service="options_svc", replica="0", profile_hit_counts=hits, session_phase=phase,
            regime=regime, focus_symbols=focus, last_publish_ts=ts,
        )

        async def go() -> None:
            kv = await self.nc.jetstream(timeout=5).key_value(self.status_bucket)
            await kv.put("options_svc.0", report.SerializeToString())

        self.loop.run(go())

    def publish_event(self, event: SmartMoneyEvent) -> None:
        async def go() -> None:
            await self.nc.jetstream(timeout=5).publish(
                self.subject, smart_money_event_to_proto(event).SerializeToString())

        self.loop.run(go())

    def publish_market(self, items: list[OptionPrint | EquityTrade | EquityQuote]) -> None:
        async def go() -> None:
            for item in items:
                if isinstance(item, OptionPrint):
                    await self.nc.publish(option_prints_subject(item.underlying),
                                          option_print_to_proto(item).SerializeToString())
                elif isinstance(item, EquityTrade):
                    await self.nc.publish(equity_trades_subject(item.symbol),
                                          equity_trade_to_proto(item).SerializeToString())
                else:
                    await self.nc.publish(equity_quotes_subject(item.symbol),
                                          equity_quote_to_proto(item).SerializeToString())
            await self.nc.flush()

        self.loop.run(go())


def gateway_settings(backend: Backend, regime_addr: str | None = None, **env: str) -> Settings:
    base = {
        "NATS_URL": backend.nats_url,
        "SYNTHETIC_CONTROL_ENABLED": "1",
        "SYNTHETIC_ADMIN_TOKEN": TOKEN,
        # No regime server unless one is given: a closed port makes derived status "unavailable".
        "REGIME_GRPC_ADDR": regime_addr or f"127.0.0.1:{free_port()}",
    }
    base.update(env)
    return load_settings(base)


class GatewayUnderTest:
    """The real gateway app with its real clients, served on a free port."""

    def __init__(self, backend: Backend, settings: Settings) -> None:
        self.settings = settings
        self.clients = GatewayClients(
            settings, control_bucket=backend.control_bucket, status_bucket=backend.status_bucket,
            stream=backend.stream, subject=backend.subject,
        ).start()
        self.server = ThreadedServer(create_gateway(settings, self.clients)).start()
        self.url = self.server.url

    def close(self) -> None:
        self.server.stop()
        self.clients.close()


def webui_settings(backend: Backend, gateway_url: str, admin: bool, token: str | None = TOKEN,
                   **extra: str) -> Settings:
    env = {"NATS_URL": backend.nats_url, "NEXT_PUBLIC_API_URL": gateway_url,
           "NEXT_PUBLIC_SYNTHETIC_ADMIN": "1" if admin else "0", **extra}
    if token:
        env["SYNTHETIC_ADMIN_TOKEN"] = token
    return load_settings(env)


def page_csrf(client: Any) -> str:
    """The CSRF token the terminal page hands its scripts (empty when not signed in)."""
    match = re.search(r'data-csrf="([^"]*)"', client.get("/").get_data(as_text=True))
    assert match is not None, "the admin page carries data-csrf"
    return match.group(1)


def sign_in(client: Any) -> str:
    """Sign a Flask test client in through a fresh one-time link, as an operator's browser would.

    Every later request of the client sends the session's CSRF token (returned) in X-CSRF-Token.
    """
    link = signin_link(client.application, "http://localhost")
    response = client.get(link.removeprefix("http://localhost"))
    assert response.status_code == 303, response.get_data(as_text=True)
    csrf = page_csrf(client)
    assert csrf
    client.environ_base["HTTP_X_CSRF_TOKEN"] = csrf
    return csrf


def sample_event(i: int, ts: int, profile: str = "institutional_directional") -> SmartMoneyEvent:
    return SmartMoneyEvent(
        event_id=f"ev-{i}-{ts}", ts=ts, profile_id=profile, underlying="NVDA", direction="bullish",
        premium=1_250_000.0 + i, contracts=500 + i, print_ids=(f"p{i}",), reason=f"call sweep {i} across 4 venues",
        contract="NVDA  261218C00150000", expiry="2026-12-18", strike=150.0, right="C", spot=138.2,
    )


def sample_print(i: int, ts: int, price: float = 2.5, size: int = 10) -> OptionPrint:
    return OptionPrint(
        id=f"op-{i}", ts=ts, underlying="AAPL", contract="AAPL  261218C00230000", expiry="2026-12-18",
        strike=230.0, right="C", price=price, size=size, exchange="CBOE", bid=2.4, ask=2.5, iv=0.31,
        underlying_price=228.1,
    )
