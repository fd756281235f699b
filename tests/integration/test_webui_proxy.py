"""The web server against a real gateway and real NATS: admin proxy, seed handling, websocket relays, market feed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from simple_websocket import Client as WsClient
from simple_websocket import ConnectionClosed

from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.marketdata import EquityQuote, EquityTrade
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.infra.embedded_nats import free_port
from tests.support.waiting import wait_until
from tests.support.webui_backend import (
    BIG_SEED,
    TOKEN,
    Backend,
    GatewayUnderTest,
    gateway_settings,
    sample_event,
    sample_print,
    sign_in,
    webui_settings,
)
from webui.app import create_app, stop_streams
from webui.gateway_proxy import GatewayProxy
from webui.local_servers import ThreadedServer
from webui.market_feed import MarketFeed
from webui.market_view import PrintSampler, SymbolBoard, print_side, session_view

pytestmark = pytest.mark.integration



















# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def backend(nats_url: str) -> Iterator[Backend]:
    b = Backend.create(nats_url)
    yield b
    b.close()


@pytest.fixture(scope="module")
def gateway(backend: Backend) -> Iterator[GatewayUnderTest]:
    gw = GatewayUnderTest(backend, gateway_settings(backend))
    yield gw
    gw.close()


@pytest.fixture
def admin_client(backend: Backend, gateway: GatewayUnderTest):
    """A signed-in operator's client; its requests carry the session's CSRF token."""
    client = create_app(webui_settings(backend, gateway.url, admin=True)).test_client()
    sign_in(client)
    return client


def signed_in_client(settings):
    client = create_app(settings).test_client()
    sign_in(client)
    return client


def assert_no_token(response) -> None:
    assert TOKEN not in response.get_data(as_text=True)
    for name, value in response.headers.items():
        assert TOKEN not in value, f"token leaked in header {name}"


# --- the admin flag ----------------------------------------------------------------------------


def test_flag_off_hides_gear_and_every_admin_path(backend: Backend, gateway: GatewayUnderTest) -> None:
    client = create_app(webui_settings(backend, gateway.url, admin=False)).test_client()
    unknown = client.get("/api/no-such-thing")
    assert unknown.status_code == 404
    for method in ("GET", "PUT", "POST", "DELETE", "PATCH"):
        for path in ("/api/admin", "/api/admin/synthetic/status", "/api/admin/synthetic/control",
                     "/api/admin/synthetic/other", "/signin", "/signout"):
            r = client.open(path, method=method, json={"preset_id": "event_day"})
            assert r.status_code == 404, (method, path)
            assert r.get_json() == unknown.get_json(), "disabled admin paths must look like unknown paths"
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="gear"' not in html and 'id="drawer"' not in html and "ctx-regime" not in html
    assert "data-csrf" not in html and "Set-Cookie" not in page.headers
    assert_no_token(page)
    # Nothing was written while the flag was off.
    assert backend.control()[1] is None


def test_flag_on_renders_gear_without_the_token(admin_client) -> None:
    page = admin_client.get("/")
    html = page.get_data(as_text=True)
    assert 'id="gear"' in html and 'id="drawer"' in html
    assert 'data-operator="operator-link"' in html and "Sign out" in html
    assert "Balanced Demo" in html and "Quiet Range" in html and 'value="30"' in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert_no_token(page)
    for asset in ("/static/main.js", "/static/drawer.js", "/static/terminal.css"):
        r = admin_client.get(asset)
        assert r.status_code == 200
        assert_no_token(r)


# --- admin proxy ------------------------------------------------------------------------------


def test_get_control_adds_token_and_passes_etag(admin_client, backend: Backend) -> None:
    r = admin_client.get("/api/admin/synthetic/control")
    assert r.status_code == 200, r.get_data(as_text=True)
    _, revision = backend.control()
    assert r.headers["ETag"] == f'"{revision or 0}"'
    assert r.headers["Cache-Control"] == "no-store"
    assert r.get_json()["preset_id"] in {p.value for p in SyntheticControlPresetId}
    assert_no_token(r)
    assert set(r.headers.keys()) & {"Authorization", "Www-Authenticate", "Set-Cookie"} == set()


def test_put_without_seed_keeps_a_seed_above_2_pow_53_exact(admin_client, backend: Backend) -> None:
    _, revision = backend.control()
    backend.write_control(DEFAULT_CONTROL.with_update(shared_seed=BIG_SEED), revision or 0)
    got = admin_client.get("/api/admin/synthetic/control")
    assert f'"shared_seed":{BIG_SEED}' in got.get_data(as_text=True).replace(" ", "")
    # What the page sends: no seed, weights as JS writes them (1 rather than 1.0).
    body = {"preset_id": "dealer_day", "coverage_assist": False, "coverage_window_minutes": 30,
            "profile_weights": {"institutional_directional": 1.6, "retail_whale": 0.6, "event_driven": 1,
                                "vol_seller": 1, "arbitrage": 1, "hedge_reactive": 1}}
    r = admin_client.put("/api/admin/synthetic/control", data=json.dumps(body),
                         headers={"Content-Type": "application/json", "If-Match": got.headers["ETag"]})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert_no_token(r)
    state, new_revision = backend.control()
    assert state.shared_seed == BIG_SEED, "the seed must survive the write digit for digit"
    assert state.preset_id is SyntheticControlPresetId.DEALER_DAY and state.coverage_window_minutes == 30
    assert state.profile_weights["institutional_directional"] == 1.6
    assert r.headers["ETag"] == f'"{new_revision}"'


def test_stale_if_match_is_a_412_carrying_the_current_state(admin_client, backend: Backend) -> None:
    got = admin_client.get("/api/admin/synthetic/control")
    stale = got.headers["ETag"]
    current, revision = backend.control()
    other = current.with_update(preset_id=SyntheticControlPresetId.QUIET_RANGE, updated_by="desk-2")
    newer = backend.write_control(other, revision)
    body = {**{k: v for k, v in got.get_json().items() if k in ("coverage_assist", "coverage_window_minutes",
                                                                  "profile_weights")},
            "preset_id": "retail_chase"}
    r = admin_client.put("/api/admin/synthetic/control", json=body, headers={"If-Match": stale})
    assert r.status_code == 412
    assert r.get_json()["control"]["preset_id"] == "quiet_range"
    assert r.headers["ETag"] == f'"{newer}"'
    assert backend.control()[0].preset_id is SyntheticControlPresetId.QUIET_RANGE, "a stale write must not land"


def test_invalid_body_passes_the_gateway_field_errors(admin_client) -> None:
    r = admin_client.put("/api/admin/synthetic/control",
                         json={"preset_id": "nope", "coverage_assist": True, "coverage_window_minutes": 15,
                               "profile_weights": {}})
    assert r.status_code == 422
    fields = {f["field"] for f in r.get_json()["fields"]}
    assert {"preset_id", "coverage_window_minutes", "profile_weights.vol_seller"} <= fields


def test_cross_origin_write_is_refused(admin_client, backend: Backend) -> None:
    before = backend.control()
    r = admin_client.put("/api/admin/synthetic/control", json={"preset_id": "event_day"},
                         headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    assert backend.control() == before


def test_status_is_proxied_with_the_control_and_a_disabled_reason(admin_client) -> None:
    r = admin_client.get("/api/admin/synthetic/status")
    assert r.status_code == 200
    body = r.get_json()
    assert body["backend_mode"] == "synthetic" and "control" in body
    # No regime server in this module: the gateway says why derived status is missing.
    assert body["derived"] is None and "unavailable" in body["disabled_reason"]
    assert_no_token(r)


def test_wrong_token_is_a_401_without_echoing_anything(backend: Backend, gateway: GatewayUnderTest) -> None:
    client = signed_in_client(webui_settings(backend, gateway.url, admin=True, token="wrong-token"))
    r = client.get("/api/admin/synthetic/control")
    assert r.status_code == 401
    assert r.get_json()["error"] == "unauthorized", "the gateway's 401, not the sign-in one"
    assert "wrong-token" not in r.get_data(as_text=True)
    assert all("wrong-token" not in v for v in r.headers.values())


def test_backend_404_409_and_unreachable_503(backend: Backend) -> None:
    off = GatewayUnderTest(backend, gateway_settings(backend, SYNTHETIC_CONTROL_ENABLED="0"))
    live = GatewayUnderTest(backend, gateway_settings(backend, OPTIONS_ADAPTER="live"))
    try:
        r = signed_in_client(webui_settings(backend, off.url, admin=True)).get("/api/admin/synthetic/control")
        assert r.status_code == 404
        r = signed_in_client(webui_settings(backend, live.url, admin=True)).put(
            "/api/admin/synthetic/control", json={"shared_seed": 1})
        assert r.status_code == 409 and "mixed" in r.get_json()["disabled_reason"]
    finally:
        off.close()
        live.close()
    dead = f"http://127.0.0.1:{free_port()}"
    r = signed_in_client(webui_settings(backend, dead, admin=True)).get("/api/admin/synthetic/status")
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert "unreachable" in r.get_json()["message"]


def test_admin_token_missing_on_the_web_server_is_503(backend: Backend, gateway: GatewayUnderTest) -> None:
    client = signed_in_client(webui_settings(backend, gateway.url, admin=True, token=None))
    r = client.get("/api/admin/synthetic/control")
    assert r.status_code == 503 and "SYNTHETIC_ADMIN_TOKEN" in r.get_json()["message"]


def test_proxy_does_not_follow_redirects_with_the_token() -> None:
    # A gateway URL that redirects elsewhere must not receive a second, token-bearing request.
    from flask import Flask, redirect

    seen: list[str | None] = []
    target = Flask("target")
    target.add_url_rule("/admin/synthetic/control", "c", lambda: (seen.append("hit"), "{}")[1])
    source = Flask("source")
    with ThreadedServer(target) as t:
        source.add_url_rule("/admin/synthetic/control", "c", lambda: redirect(t.url + "/admin/synthetic/control"))
        with ThreadedServer(source) as s:
            r = GatewayProxy(s.url, TOKEN).get_control()
    assert r.status == 302 and seen == []


# --- websockets ---------------------------------------------------------------------------------


def test_smart_money_relay_and_recent_flow(backend: Backend, gateway: GatewayUnderTest) -> None:
    webui = ThreadedServer(create_app(webui_settings(backend, gateway.url, admin=False))).start()
    ws = None
    try:
        wait_until(lambda: gateway.clients.cache.primed.is_set(), 10, "the gateway to follow the stream")
        ws = WsClient.connect(webui.url.replace("http", "ws") + "/ws/smart-money")
        assert json.loads(ws.receive(timeout=10)) == {"type": "relay_ready"}
        wait_until(lambda: gateway.clients.cache.subscriber_count() == 1, 10, "the relay to subscribe upstream")
        now = int(time.time() * 1000)
        backend.publish_event(sample_event(1, now))
        message = json.loads(ws.receive(timeout=10))
        assert message["event_id"] == f"ev-1-{now}" and message["premium"] == 1_250_001.0
        client = create_app(webui_settings(backend, gateway.url, admin=False)).test_client()
        recent = client.get("/api/flow/smart-money?limit=5").get_json()
        assert [e["event_id"] for e in recent["events"]] == [f"ev-1-{now}"]
        assert client.get("/api/flow/smart-money?limit=abc").status_code == 400
        ws.close()
        # The first relay lets go of its upstream subscription (each side polls once a second).
        wait_until(lambda: gateway.clients.cache.subscriber_count() == 0, 10, "the first relay to end")
        # Filters travel to the gateway with the relay.
        ws = WsClient.connect(webui.url.replace("http", "ws") + "/ws/smart-money?profile=vol_seller")
        assert json.loads(ws.receive(timeout=10)) == {"type": "relay_ready"}
        wait_until(lambda: gateway.clients.cache.subscriber_count() == 1, 10, "the filtered relay to subscribe")
        backend.publish_event(sample_event(2, now + 1, "retail_whale"))
        backend.publish_event(sample_event(3, now + 2, "vol_seller"))
        assert json.loads(ws.receive(timeout=10))["event_id"] == f"ev-3-{now + 2}"
    finally:
        if ws is not None:
            ws.close()
        webui.stop()


def test_relay_closes_the_browser_socket_when_the_gateway_is_gone(backend: Backend) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with ThreadedServer(create_app(webui_settings(backend, dead, admin=False))) as webui:
        ws = WsClient.connect(webui.url.replace("http", "ws") + "/ws/smart-money")
        with pytest.raises(ConnectionClosed) as closed:
            ws.receive(timeout=5)
        assert closed.value.reason == 1011


def test_market_websocket_thins_prints_and_reports_session(backend: Backend, gateway: GatewayUnderTest) -> None:
    settings = webui_settings(backend, gateway.url, admin=False)
    feed = MarketFeed(settings, status_bucket=backend.status_bucket, flush_interval_s=0.1, prints_per_s=20).start()
    webui = ThreadedServer(create_app(settings, market=feed)).start()
    ws = None
    try:
        assert feed.connected.wait(5)
        ts = int(time.time() * 1000)
        backend.report_status({"vol_seller": 3}, "midday", "dealer_gamma", ["AAPL", "TSLA"], ts)
        ws = WsClient.connect(webui.url.replace("http", "ws") + "/ws/market")
        snapshot = json.loads(ws.receive(timeout=5))
        assert snapshot["type"] == "snapshot"
        # The status poll may land before or after this socket opened: snapshot or session message.
        session = snapshot["session"]
        # 40 prints in one burst; a 0.1 s flush at 20/s lets 2 through per flush, the largest first.
        prints = [sample_print(i, ts + i, price=1.0 + i / 10) for i in range(40)]
        backend.publish_market([*prints, EquityQuote(ts, "AAPL", 228.0, 228.1, 3, 4),
                                EquityTrade("t1", ts + 1, "AAPL", 228.05, 100, "XNAS", False)])
        got: dict[str, list] = {"prints": [], "symbols": []}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (got["prints"] and got["symbols"] and session["session_phase"]):
            text = ws.receive(timeout=0.5)
            if text:
                msg = json.loads(text)
                got.setdefault(msg["type"], []).append(msg)
                if msg["type"] == "session":
                    session = msg["session"]
        first = got["prints"][0]["items"]
        assert 1 <= len(first) <= 2, "one flush carries at most prints_per_s * flush_interval_s prints"
        assert first[0]["premium"] == pytest.approx(first[0]["price"] * first[0]["size"] * 100)
        assert sum(len(m["items"]) for m in got["prints"]) < 40, "a burst must be thinned, not passed on whole"
        aapl = got["symbols"][0]["items"][0]
        assert aapl["symbol"] == "AAPL" and aapl["last"] == 228.05 and aapl["bid"] == 228.0 and aapl["spark"]
        assert session == {"session_phase": "midday", "focus_symbols": ["AAPL", "TSLA"]}, \
            "the regime is for operators only"
    finally:
        if ws is not None:
            ws.close()
        webui.stop()
        feed.close()


# --- the pure views --------------------------------------------------------------------------


def test_sampler_keeps_the_largest_prints_in_time_order() -> None:
    sampler = PrintSampler(max_per_drain=3, max_pending=5)
    for i, (price, size) in enumerate([(1, 1), (9, 10), (2, 1), (5, 10), (3, 100), (0.5, 1), (7, 10)]):
        sampler.offer(sample_print(i, 1000 + i, price=price, size=size))
    rows = sampler.drain()
    assert [r["id"] for r in rows] == ["op-1", "op-4", "op-6"]  # premiums 9000, 30000, 7000; by ts
    assert sampler.dropped == 4
    assert sampler.drain() == []


def test_symbol_board_buckets_the_sparkline_and_tracks_changes() -> None:
    board = SymbolBoard(spark_points=3, spark_step_ms=1000)
    board.on_quote(EquityQuote(500, "SPY", 100.0, 100.2, 1, 1))
    board.on_trade(EquityTrade("a", 900, "SPY", 100.1, 10, "X", False))
    board.on_trade(EquityTrade("b", 1500, "SPY", 100.3, 10, "X", False))
    for i in range(5):
        board.on_trade(EquityTrade(f"c{i}", 2000 + i * 1000, "SPY", 101.0 + i, 10, "X", False))
    row = board.take_changes()[0]
    assert row["spark"] == [103.0, 104.0, 105.0], "bounded to spark_points, one price per bucket"
    assert row["change_pct"] == pytest.approx((105.0 / 100.1 - 1) * 100, abs=1e-3)
    assert board.take_changes() == []


def test_print_side_and_session_view() -> None:
    assert print_side(2.5, 2.4, 2.5) == "A" and print_side(2.4, 2.4, 2.5) == "B"
    assert print_side(2.45, 2.4, 2.5) == "M" and print_side(2.45, None, 2.5) == ""
    view = session_view([
        {"session_phase": "open", "regime": "trend_up", "focus_symbols": ["SPY"], "last_publish_ts": 5},
        {"session_phase": "midday", "regime": "arb_calm", "focus_symbols": ["QQQ"], "last_publish_ts": 9},
        {"session_phase": "", "regime": "", "focus_symbols": [], "last_publish_ts": 99},
    ])
    assert view.to_dict(include_regime=True) == {"session_phase": "midday", "focus_symbols": ["QQQ"],
                                                 "regime": "arb_calm"}
    assert "regime" not in view.to_dict(include_regime=False)


def test_symbol_board_places_updates_by_timestamp_not_arrival() -> None:
    # Quotes and trades come on separate subjects: a whole batch of one may arrive before the other.
    board = SymbolBoard(spark_points=10, spark_step_ms=1000)
    quotes = [EquityQuote(1000 * i, "QQQ", 100.0 + i, 100.2 + i, 1, 1) for i in range(5)]
    trades = [EquityTrade(f"t{i}", 1000 * i + 1, "QQQ", 100.1 + i, 10, "X", False) for i in range(5)]
    for q in quotes:
        board.on_quote(q)
    for t in reversed(trades):
        board.on_trade(t)
    row = board.row("QQQ")
    assert row["spark"] == [100.1, 101.1, 102.1, 103.1, 104.1], "one trade price per bucket, in time order"
    assert row["last"] == 104.1 and row["bid"] == 104.0
    board.on_quote(EquityQuote(10, "QQQ", 90.0, 90.2, 1, 1))  # a stale quote does not move the book
    assert board.row("QQQ")["bid"] == 104.0


def test_stop_streams_ends_every_open_websocket(backend: Backend, gateway: GatewayUnderTest) -> None:
    app = create_app(webui_settings(backend, gateway.url, admin=False))
    with ThreadedServer(app) as webui:
        base = webui.url.replace("http", "ws")
        market, flow = WsClient.connect(base + "/ws/market"), WsClient.connect(base + "/ws/smart-money")
        assert json.loads(market.receive(timeout=5))["type"] == "snapshot"
        assert json.loads(flow.receive(timeout=5))["type"] == "relay_ready"
        started = time.monotonic()
        stop_streams(app)
        for ws in (market, flow):
            with pytest.raises(ConnectionClosed):
                while time.monotonic() - started < 5:
                    ws.receive(timeout=0.5)
        # Each loop notices within its 1 s poll; 3 s leaves room for a loaded machine.
        assert time.monotonic() - started < 3.0
