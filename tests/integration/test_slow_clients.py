"""Half-sent requests from one address starve neither the gateway nor the web terminal.

2,000 connections from 127.0.0.2 each send a request line and one header, then nothing, for 12 s
(longer than the servers' read timeout, so both the cap and the timeout are exercised); requests
from 127.0.0.1 meanwhile must answer with p99 under 1 s.
"""

from __future__ import annotations

import resource
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.support.served import Served, serve

pytestmark = pytest.mark.integration

HALF_SENT = 2000
HOLD_S = 12.0
P99_LIMIT_S = 1.0
ATTACKER = "127.0.0.2"
TOKEN = "slow-client-token"


@pytest.fixture(scope="module")
def servers(nats_url) -> Iterator[dict[str, Served]]:
    admin = {"SYNTHETIC_CONTROL_ENABLED": "1", "SYNTHETIC_ADMIN_TOKEN": TOKEN}
    with serve("admin_gateway", "/openapi.json", {"NATS_URL": nats_url, **admin}) as gateway, \
            serve("webui", "/healthz", {"NATS_URL": nats_url, "NEXT_PUBLIC_API_URL": gateway.base}) as webui:
        yield {"gateway": gateway, "webui": webui}


def _half_sent(port: int, n: int) -> list[socket.socket]:
    held = []
    for _ in range(n):
        sock = socket.socket()
        sock.bind((ATTACKER, 0))
        sock.connect(("127.0.0.1", port))
        try:
            sock.sendall(b"GET /flow/smart-money HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        except OSError:
            pass   # refused at once: the cap at work
        held.append(sock)
    return held


def _latency(url: str, headers: dict[str, str] | None = None) -> float:
    began = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as resp:
            resp.read()
    except OSError:
        return float("inf")
    return time.monotonic() - began


@pytest.fixture
def enough_file_descriptors() -> None:
    # Two thousand held sockets per server, from this one process.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * HALF_SENT + 256
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= needed, "raise the open-files limit to run this test"


def test_half_sent_requests_do_not_starve_other_clients(servers, enough_file_descriptors):
    gateway, webui = servers["gateway"], servers["webui"]
    probes = {
        "flow": (f"{gateway.base}/flow/smart-money", None),
        "history": (f"{gateway.base}/history/smart-money?start=1700000000000&end=1700000600000", None),
        "admin status": (f"{gateway.base}/admin/synthetic/status", {"Authorization": f"Bearer {TOKEN}"}),
        "web terminal": (f"{webui.base}/", None),
    }
    for name, (url, headers) in probes.items():
        assert _latency(url, headers) < P99_LIMIT_S, f"{name} does not answer before the test"
    held: list[socket.socket] = []
    attack = [threading.Thread(target=lambda p=s.port: held.extend(_half_sent(p, HALF_SENT)))
              for s in (gateway, webui)]
    for thread in attack:
        thread.start()
    latencies: dict[str, list[float]] = {name: [] for name in probes}
    try:
        deadline = time.monotonic() + HOLD_S
        while time.monotonic() < deadline:
            for name, (url, headers) in probes.items():
                latencies[name].append(_latency(url, headers))
            time.sleep(0.2)
    finally:
        for thread in attack:
            thread.join()
        for sock in held:
            sock.close()
    for name, samples in latencies.items():
        samples.sort()
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        assert p99 < P99_LIMIT_S, f"{name}: p99 {p99:.3f} s over {len(samples)} requests (limit {P99_LIMIT_S} s)"
