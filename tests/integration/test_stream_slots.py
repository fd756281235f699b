"""Stream slots (websockets and replays) are shared fairly: capped per client address, freed when a client leaves."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request

import pytest

from synthmarket.infra.bounded_worker import MAX_CONNECTIONS_PER_CLIENT
from tests.support.gateway import StreamPublisher, make_event
from tests.support.served import open_websocket, serve
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
# Ready once the history answers: it reads the stream, so the gateway's NATS connection is up (the
# OpenAPI document needs none, and a replay asked before the connection is a 503).
READY = "/history/smart-money?start=1700000000000&end=1700000600000"

FREED_WITHIN_S = 2.0
BASE_TS = 1_990_000_000_000


def _websocket(port: int, source: str) -> socket.socket | None:
    """A /ws/smart-money handshake from ``source``; None when the server refused the connection."""
    sock, head = open_websocket(port, "/ws/smart-money", source=source, timeout=5)
    if not head.startswith(b"HTTP/1.1 101"):
        sock.close()
        return None
    return sock


def test_one_client_address_holds_at_most_its_share_of_stream_slots(nats_url):
    with serve("admin_gateway", READY, {"NATS_URL": nats_url}) as gateway:
        sockets = [_websocket(gateway.port, "127.0.0.3") for _ in range(MAX_CONNECTIONS_PER_CLIENT + 8)]
        try:
            opened = [s for s in sockets if s is not None]
            assert len(opened) == MAX_CONNECTIONS_PER_CLIENT
            other = _websocket(gateway.port, "127.0.0.4")   # another address still gets a slot
            assert other is not None
            other.close()
        finally:
            for sock in sockets:
                if sock is not None:
                    sock.close()


def test_a_paced_replay_whose_client_left_frees_its_slot_within_two_seconds(nats_url):
    StreamPublisher(nats_url).publish([make_event(i, BASE_TS + i * 600_000, prefix="pace") for i in range(3)])
    replay = f"/replay/smart-money?start={BASE_TS}&end={BASE_TS + 1_800_000}&speed=1"
    # Two threads leave exactly one stream slot.
    with serve("admin_gateway", READY, {"NATS_URL": nats_url}, ("--threads", "2")) as gateway:
        first = urllib.request.urlopen(gateway.base + replay, timeout=5)
        assert first.readline()                      # the first event; the next is ten minutes away
        with pytest.raises(urllib.error.HTTPError) as busy:
            urllib.request.urlopen(gateway.base + replay, timeout=5)
        assert busy.value.code == 503
        first.close()
        left = time.monotonic()

        def second_replay_starts() -> bool:
            try:
                with urllib.request.urlopen(gateway.base + replay, timeout=5) as again:
                    return again.status == 200   # answered: the slot was free
            except urllib.error.HTTPError as exc:
                assert exc.code == 503
                return False

        wait_until(second_replay_starts, 10, "the slot of the replay whose client left", interval=0.1)
        assert time.monotonic() - left < FREED_WITHIN_S
