"""``python -m admin_gateway`` under gunicorn: serves HTTP and websockets, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
import uuid

import pytest
import simple_websocket

from tests.support.gateway import StreamPublisher, make_event
from tests.support.served import serve

pytestmark = pytest.mark.integration


def _get(url: str, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def served_gateway(nats_url):
    env = {"NATS_URL": nats_url, "SYNTHETIC_CONTROL_ENABLED": "1", "SYNTHETIC_ADMIN_TOKEN": "served-token"}
    with serve("admin_gateway", "/openapi.json", env, ("--threads", "32")) as served:
        yield served.proc, served.base, served.port


def test_module_serves_http_and_websocket_then_stops_on_sigterm(served_gateway, nats_url):
    proc, base, port = served_gateway
    status, doc = _get(base + "/openapi.json")
    assert status == 200 and "/ws/smart-money" in doc["paths"]
    status, body = _get(base + "/admin/synthetic/control", {"Authorization": "Bearer served-token"})
    assert status == 200 and body["preset_id"]
    assert _get(base + "/admin/synthetic/control")[0] == 401

    publisher = StreamPublisher(nats_url)
    symbol = "ZSRV"
    ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{port}/ws/smart-money?symbol={symbol}")
    try:
        prefix = f"srv{uuid.uuid4().hex[:8]}"
        ts = 1_950_000_000_000
        # The subscription is registered right after the handshake; publish until one arrives.
        received = None
        for i in range(50):
            publisher.publish([make_event(i, ts + i, symbol=symbol, prefix=prefix)])
            received = ws.receive(timeout=0.2)
            if received:
                break
        assert received is not None, "no live event over the websocket"
        assert json.loads(received)["underlying"] == symbol
    finally:
        ws.close()
        publisher.close()

    # An open websocket must not hold the shutdown for gunicorn's whole graceful timeout (10 s).
    lingering = simple_websocket.Client.connect(f"ws://127.0.0.1:{port}/ws/smart-money")
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    assert time.monotonic() - started < 8, "open websockets are ended on SIGTERM"
    with pytest.raises(simple_websocket.ConnectionClosed):
        lingering.receive(timeout=2)
