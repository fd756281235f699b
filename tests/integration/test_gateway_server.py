"""``python -m admin_gateway`` under gunicorn: serves HTTP and websockets, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest
import simple_websocket

from synthmarket.infra.embedded_nats import free_port
from tests.support.gateway import StreamPublisher, make_event
from tests.support.waiting import wait_until

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
    port = free_port()
    env = {**os.environ, "NATS_URL": nats_url, "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port),
           "SYNTHETIC_CONTROL_ENABLED": "1", "SYNTHETIC_ADMIN_TOKEN": "served-token", "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "admin_gateway", "--threads", "32"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            if _get(base + "/openapi.json")[0] == 200:
                return True
        except (OSError, ValueError):
            pass
        if proc.poll() is not None:
            raise AssertionError("the gateway exited while starting")
        return False

    try:
        wait_until(answers, 20, "the gateway to serve /openapi.json", interval=0.1)
    except AssertionError as exc:
        proc.kill()
        raise AssertionError(f"gateway did not come up ({exc}): {proc.stdout.read().decode()[-2000:]}") from None
    yield proc, base, port
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)


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
