"""The gateway and the web terminal answer only to their configured host names (no DNS rebinding)."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest

from tests.support.served import Served, serve

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def servers(nats_url) -> Iterator[dict[str, Served]]:
    hosts = {"ALLOWED_HOSTS": "localhost,127.0.0.1,demo.example"}
    with serve("admin_gateway", "/openapi.json", {"NATS_URL": nats_url, **hosts}) as gateway, \
            serve("webui", "/healthz", {"NATS_URL": nats_url, "NEXT_PUBLIC_API_URL": gateway.base, **hosts}) as webui:
        yield {"gateway": gateway, "webui": webui}


def _status(port: int, path: str, host: str, headers: dict[str, str] | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


PATHS = {"gateway": ["/flow/smart-money", "/openapi.json"], "webui": ["/", "/healthz"]}
UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


@pytest.mark.parametrize("server", ["gateway", "webui"])
def test_a_configured_name_is_served_and_any_other_gets_400(servers, server):
    served = servers[server]
    for path in PATHS[server]:
        assert _status(served.port, path, f"127.0.0.1:{served.port}") == 200
        assert _status(served.port, path, "demo.example") == 200
        assert _status(served.port, path, "attacker.example") == 400
        assert _status(served.port, path, f"attacker.example:{served.port}") == 400


@pytest.mark.parametrize(("server", "path"), [("gateway", "/ws/smart-money"), ("webui", "/ws/market")])
def test_a_websocket_upgrade_for_another_name_gets_400(servers, server, path):
    served = servers[server]
    assert _status(served.port, path, f"127.0.0.1:{served.port}", UPGRADE) == 101
    assert _status(served.port, path, "attacker.example", UPGRADE) == 400
