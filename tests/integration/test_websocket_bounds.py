"""A websocket client cannot grow the gateway or the web terminal: push-only sockets close on client data.

Measured on the real ``python -m`` servers (gunicorn worker RSS from /proc). Bounds from the design:
the serving process grows by less than 20 MiB while a client floods it and is back within 10 MiB
of its baseline after the client has gone.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import time
import zlib
from collections.abc import Iterator

import pytest
from flask import Flask

from synthmarket.infra.websockets import MAX_INCOMING_BYTES, PushOnlySock
from tests.support.gateway import LiveServer
from tests.support.served import Served, open_websocket, serve
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

GROWTH_LIMIT_MIB = 20.0
SETTLED_LIMIT_MIB = 10.0
COMPRESSED_ZEROS = 64 * 1024 * 1024
PLAIN_BYTES = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def gateway(nats_url) -> Iterator[Served]:
    with serve("admin_gateway", "/openapi.json", {"NATS_URL": nats_url}) as served:
        yield served


@pytest.fixture(scope="module")
def webui(nats_url, gateway) -> Iterator[Served]:
    with serve("webui", "/healthz", {"NATS_URL": nats_url, "NEXT_PUBLIC_API_URL": gateway.base}) as served:
        yield served


def _handshake(port: int, path: str, deflate: bool) -> socket.socket:
    sock, head = open_websocket(port, path, offer_deflate=deflate)
    assert head.startswith(b"HTTP/1.1 101"), head[:200]
    assert b"permessage-deflate" not in head.lower(), "compression must be declined"
    return sock


def _frame(payload: bytes, *, fin: bool, opcode: int, rsv1: bool = False) -> bytes:
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", first, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else _mask_fast(payload, mask)
    return head + mask + masked


def _mask_fast(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")


def _deflated_zeros(total: int) -> bytes:
    squash = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(1024 * 1024)
    out = b"".join(squash.compress(block) for _ in range(total // len(block)))
    return out + squash.flush(zlib.Z_SYNC_FLUSH)[:-4]


def _flood(sock: socket.socket, frames: Iterator[bytes]) -> bool:
    """Send until the server closes on us; True when it did."""
    sock.settimeout(10)
    try:
        for data in frames:
            sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        return True
    # Everything went out: the server must still close (it may have read it all before refusing).
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def _compressed_frames() -> Iterator[bytes]:
    payload = _deflated_zeros(COMPRESSED_ZEROS)
    yield _frame(payload, fin=True, opcode=0x1, rsv1=True)


def _plain_frames() -> Iterator[bytes]:
    chunk = bytes(64 * 1024)
    for i in range(PLAIN_BYTES // len(chunk)):
        yield _frame(chunk, fin=i == PLAIN_BYTES // len(chunk) - 1, opcode=0x1 if i == 0 else 0x0)


def _small_messages() -> Iterator[bytes]:
    for _ in range(PLAIN_BYTES // MAX_INCOMING_BYTES):
        yield _frame(b"x" * (MAX_INCOMING_BYTES // 2), fin=True, opcode=0x1)


FLOODS = {"64 MiB of zeros, deflated": (_compressed_frames, True),
          "50 MiB in one message": (_plain_frames, False),
          "50 MiB of small messages": (_small_messages, False)}
ENDPOINTS = [("gateway", "/ws/smart-money"), ("webui", "/ws/smart-money"), ("webui", "/ws/market")]


@pytest.mark.parametrize("flood", sorted(FLOODS))
@pytest.mark.parametrize(("server", "path"), ENDPOINTS)
def test_a_flooding_client_is_disconnected_and_the_server_does_not_grow(request, server, path, flood):
    served: Served = request.getfixturevalue(server)
    frames, deflate = FLOODS[flood]
    baseline = served.worker_rss_mib()
    sock = _handshake(served.port, path, deflate)
    peak = baseline
    try:
        closed = _flood(sock, frames())
        peak = max(peak, served.worker_rss_mib())
    finally:
        sock.close()
    assert closed, f"{server}{path} kept reading {flood}"
    assert peak - baseline < GROWTH_LIMIT_MIB, f"grew {peak - baseline:.1f} MiB while flooded"
    wait_until(lambda: served.worker_rss_mib() - baseline < SETTLED_LIMIT_MIB, 10,
               f"{server} back within {SETTLED_LIMIT_MIB} MiB of its baseline")


def test_a_quiet_client_keeps_its_push_only_socket(gateway):
    sock = _handshake(gateway.port, "/ws/smart-money", deflate=False)
    try:
        time.sleep(1.0)
        sock.setblocking(False)
        try:
            data = sock.recv(1)
        except BlockingIOError:
            data = b"open"
        assert data != b"", "a client that sends nothing is not disconnected"
    finally:
        sock.close()


def test_a_client_that_vanishes_is_one_info_line_not_a_traceback(caplog):
    app = Flask("push_only_test")
    sock_app = PushOnlySock(app)

    @sock_app.route("/ws/ticks")
    def ticks(ws) -> None:
        while True:
            ws.send("x" * 512)
            time.sleep(0.01)

    server = LiveServer(app)
    try:
        with caplog.at_level(logging.INFO):
            client = _handshake(server.port, "/ws/ticks", deflate=False)
            client.recv(1024)
            # SO_LINGER 0: the close is a reset, as when a browser tab is killed.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            wait_until(lambda: any("went away" in r.getMessage() for r in caplog.records), 5, "the leave line")
        gone = [r for r in caplog.records if "went away" in r.getMessage()]
        assert len(gone) == 1 and gone[0].levelno == logging.INFO
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    finally:
        server.close()
