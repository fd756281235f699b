"""The web server against a misbehaving gateway: garbled or cut answers, a websocket upgrade never answered."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest
from simple_websocket import Client as WsClient
from simple_websocket import ConnectionClosed

from synthmarket.settings import load_settings
from tests.support.webui_backend import sign_in
from webui import relay
from webui.app import create_app
from webui.gateway_proxy import GatewayProxy
from webui.local_servers import ThreadedServer

pytestmark = pytest.mark.integration


class RawServer:
    """A TCP server that answers every connection with ``handle(conn)``; closes what it accepted."""

    def __init__(self, handle: Callable[[socket.socket], None]) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._handle = handle
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def close(self) -> None:
        self._listener.close()
        for conn in self._conns:
            conn.close()
        self._thread.join(2)


def _answer(raw: bytes) -> Callable[[socket.socket], None]:
    def handle(conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(raw)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass    # the client gave up on the garbage and the test closed the socket first

    return handle


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"cut",
    b"HTTP/1.1 503 Busy\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"cut",
    b"this is not http at all\r\n\r\n",
], ids=["body-cut-short", "error-body-cut-short", "garbled-status-line"])
def test_a_broken_gateway_answer_is_a_503_not_a_500(raw: bytes) -> None:
    server = RawServer(_answer(raw))
    try:
        settings = load_settings({"NEXT_PUBLIC_API_URL": server.url, "SYNTHETIC_ADMIN_TOKEN": "t",
                                  "NEXT_PUBLIC_SYNTHETIC_ADMIN": "1"})
        client = create_app(settings, proxy=GatewayProxy(server.url, "t", timeout=2.0)).test_client()
        sign_in(client)
        for path in ("/api/flow/smart-money", "/api/admin/synthetic/control"):
            r = client.get(path)
            assert r.status_code == 503, (path, r.status_code, r.data)
            assert r.headers["Retry-After"] == "2" and "unreachable" in r.get_json()["message"]
    finally:
        server.close()


def test_relay_gives_up_on_an_upgrade_that_is_never_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    # The silent gateway reads the upgrade request and then says nothing, like one whose
    # worker threads are all busy; the relay must free its thread and tell the browser.
    monkeypatch.setattr(relay, "HANDSHAKE_TIMEOUT_S", 0.5)
    silent = RawServer(lambda conn: conn.recv(65536))
    try:
        settings = load_settings({"NEXT_PUBLIC_API_URL": silent.url})
        with ThreadedServer(create_app(settings)) as webui:
            started = time.monotonic()
            ws = WsClient.connect(webui.url.replace("http", "ws") + "/ws/smart-money")
            with pytest.raises(ConnectionClosed) as closed:
                ws.receive(timeout=5)
            # Tolerance: the 0.5 s handshake bound plus generous scheduling slack.
            assert time.monotonic() - started < 4.0
            assert closed.value.reason == relay.UPSTREAM_GONE
    finally:
        silent.close()
