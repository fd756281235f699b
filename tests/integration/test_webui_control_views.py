"""The web terminal's engine views follow the control entry in KV, read only, as the services do."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import numpy as np
import pytest

from synthmarket.domain.calendar import trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.engine import underlying_path
from synthmarket.infra.control_store import write_control
from synthmarket.settings import load_settings
from tests.support.waiting import eventually
from webui.app import create_app
from webui.gateway_proxy import GatewayProxy, Upstream
from webui.market_feed import MarketFeed

pytestmark = pytest.mark.integration

DAY = trading_day(dt.date(2027, 3, 10))
POLL_S = 0.1


@pytest.fixture
async def bucket(js, unique_bucket_name) -> AsyncIterator[tuple[str, object]]:
    name = unique_bucket_name("webui_ctl")
    kv = await js.create_key_value(bucket=name, history=64)
    try:
        yield name, kv
    finally:
        await js.delete_key_value(name)


async def test_the_charts_price_under_the_control_in_force(nats_url, bucket) -> None:
    name, kv = bucket
    settings = load_settings({"NATS_URL": nats_url})
    feed = MarketFeed(settings, control_bucket=name, control_poll_s=POLL_S).start()
    try:
        client = create_app(settings, market=feed, wall_clock=lambda: DAY.open_ms + 600_000).test_client()
        await eventually(lambda: feed.connected.is_set(), 10, "the feed to connect")
        await asyncio.sleep(5 * POLL_S)
        assert feed.control == DEFAULT_CONTROL, "an absent entry means the defaults"
        other = DEFAULT_CONTROL.with_update(shared_seed=4242, preset_id=SyntheticControlPresetId.DEALER_DAY)
        await write_control(kv, other, None)
        await eventually(lambda: feed.control == other, 10, "the feed to read the new control")
        last = client.get("/api/chart/TSLA").get_json()["points"][-1]
        want = underlying_path("TSLA", np.array([last[0]]), other)["price"][0]
        assert last[1] == pytest.approx(float(want), abs=1e-4)
    finally:
        feed.close()


async def test_a_backend_that_is_not_synthetic_keeps_the_defaults(nats_url, bucket) -> None:
    name, kv = bucket
    await write_control(kv, DEFAULT_CONTROL.with_update(shared_seed=99), None)
    settings = load_settings({"NATS_URL": nats_url, "EQUITIES_ADAPTER": "live"})
    feed = MarketFeed(settings, control_bucket=name, control_poll_s=POLL_S).start()
    try:
        await eventually(lambda: feed.connected.is_set(), 10, "the feed to connect")
        await asyncio.sleep(5 * POLL_S)    # several polls' worth: the entry is there and not applied
        assert feed.control == DEFAULT_CONTROL
    finally:
        feed.close()


class _Recorder(GatewayProxy):
    def __init__(self) -> None:
        super().__init__("http://gateway.invalid", None)
        self.seen: list[tuple[str, str, str]] = []

    def request(self, method, path, *, query="", body=None, headers=None, admin=False) -> Upstream:
        self.seen.append((method, path, query))
        return Upstream(200, b'{"events":[],"count":0,"next_cursor":null}', {"Content-Type": "application/json"})


def test_the_history_route_relays_the_gateways_public_history() -> None:
    proxy = _Recorder()
    client = create_app(load_settings({"NATS_URL": "nats://127.0.0.1:1"}), proxy=proxy).test_client()
    r = client.get("/api/flow/history?start=1&end=2&limit=500&cursor=djE6NTAx")
    assert r.status_code == 200 and r.get_json()["count"] == 0
    assert proxy.seen == [("GET", "/history/smart-money", "start=1&end=2&limit=500&cursor=djE6NTAx")]
