"""/history and /replay for windows that hold no event: 200 and nothing, never a 503, on real JetStream streams.

Each test has a stream of its own, so "before the first event" and "after the last" are true
of the whole stream, as they are for a fresh deployment.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import nats
import pytest
from nats.js.api import StreamConfig

from admin_gateway.app import create_app
from admin_gateway.backend import GatewayClients
from admin_gateway.bridge import AsyncBridge
from synthmarket.settings import load_settings
from synthmarket.wire import smart_money_event_to_proto
from tests.support.gateway import event_ids, make_event
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

B = 1_960_000_000_000
HOUR = 3_600_000
# Two bursts of five events with two hours between them.
EVENT_TS = [B + i * 1000 for i in range(5)] + [B + 2 * HOUR + i * 1000 for i in range(5)]
FIRST, LAST = EVENT_TS[0], EVENT_TS[-1]
EMPTY_WINDOWS = {
    "before the first event": (FIRST - HOUR, FIRST - 1),
    "long before the first event": (0, 1000),
    "in the gap": (FIRST + HOUR, FIRST + HOUR + 60_000),
    "just after a burst": (EVENT_TS[4] + 1, EVENT_TS[4] + 1000),
    "just after the last event": (LAST + 1, LAST + 1000),
    "long after the last event": (LAST + 10 * HOUR, LAST + 11 * HOUR),
}


class OwnStream:
    """A stream (subjects ``<prefix>.>``) with a gateway reading ``<prefix>.events`` from it."""

    def __init__(self, nats_url: str) -> None:
        self.bridge = AsyncBridge("empty-windows")
        self.nc = self.bridge.run(nats.connect(nats_url), 10)
        self.js = self.nc.jetstream(timeout=5)
        suffix = uuid.uuid4().hex[:8]
        self.name, self.prefix = f"EMPTYWIN_{suffix}", f"emptywin{suffix}"
        self.subject = f"{self.prefix}.events"
        self.bridge.run(self.js.add_stream(StreamConfig(name=self.name, subjects=[f"{self.prefix}.>"],
                                                        allow_direct=True)), 10)
        settings = load_settings({"NATS_URL": nats_url})
        self.clients = GatewayClients(settings, stream=self.name, subject=self.subject).start()
        wait_until(lambda: self.clients.nats_connected, what="gateway NATS connection")
        self.client = create_app(settings, self.clients).test_client()

    def publish(self, ts_list: list[int]) -> list[int]:
        async def go() -> list[int]:
            acks = []
            for i, ts in enumerate(ts_list):
                data = smart_money_event_to_proto(make_event(i, ts, prefix=self.name)).SerializeToString()
                acks.append((await self.js.publish(self.subject, data)).seq)
            return acks

        return self.bridge.run(go(), 10)

    def run(self, coro):
        return self.bridge.run(coro, 10)

    def close(self) -> None:
        self.clients.close()

        async def shutdown() -> None:
            await self.js.delete_stream(self.name)
            await self.nc.close()

        self.bridge.close(shutdown())


@pytest.fixture
def own(nats_url) -> Iterator[OwnStream]:
    s = OwnStream(nats_url)
    yield s
    s.close()


def _history(own: OwnStream, start: int, end: int, **params) -> dict:
    started = time.monotonic()
    r = own.client.get("/history/smart-money", query_string={"start": start, "end": end, **params})
    assert r.status_code == 200, r.get_data(as_text=True)
    # A scan waiting for a message that is not there would answer only at its timeout.
    assert time.monotonic() - started < 1.5, "the answer waited for a timeout"
    return r.get_json()


def _replay(own: OwnStream, start: int, end: int, sse: bool = False) -> str:
    headers = {"Accept": "text/event-stream"} if sse else {}
    r = own.client.get("/replay/smart-money", query_string={"start": start, "end": end}, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_data(as_text=True)


def _assert_empty(own: OwnStream, start: int, end: int) -> None:
    assert _history(own, start, end) == {"events": [], "count": 0, "next_cursor": None}
    assert _history(own, start, end, limit=1)["events"] == []
    assert _replay(own, start, end) == ""
    assert _replay(own, start, end, sse=True) == 'event: end\ndata: {"count": 0}\n\n'


def test_a_stream_that_never_held_an_event_answers_empty(own):
    # Its first sequence is 0, and a consumer asked to start there is refused by the server.
    for start, end in [(0, 10), (FIRST, LAST), *EMPTY_WINDOWS.values()]:
        _assert_empty(own, start, end)


@pytest.mark.parametrize("window", list(EMPTY_WINDOWS))
def test_windows_without_events_answer_empty_and_the_events_are_still_found(own, window):
    own.publish(EVENT_TS)
    _assert_empty(own, *EMPTY_WINDOWS[window])
    found = _history(own, FIRST, LAST)
    assert [e["ts"] for e in found["events"]] == EVENT_TS and found["next_cursor"] is None


@pytest.mark.parametrize("tail", ["deleted", "another subject", "purged"])
def test_windows_without_events_answer_empty_when_the_newest_sequence_is_no_event(own, tail):
    own.publish(EVENT_TS)
    if tail == "deleted":
        # Retention or an operator removed the newest message; last_seq still names it.
        extra = own.publish([LAST + 10 * HOUR])[0]
        assert own.run(own.js.delete_msg(own.name, extra))
    elif tail == "another subject":
        own.run(own.js.publish(f"{own.prefix}.other", b"not an event"))
    else:
        own.run(own.js.purge_stream(own.name))
    for start, end in EMPTY_WINDOWS.values():
        _assert_empty(own, start, end)
    if tail != "purged":
        assert event_ids(_history(own, FIRST, LAST)["events"]) == [f"{own.name}-{i:06d}" for i in range(10)]


def test_a_filter_that_matches_nothing_in_a_full_window_answers_empty(own):
    own.publish(EVENT_TS)
    assert _history(own, FIRST, LAST, symbol="NOPE")["events"] == []
    assert _replay(own, FIRST, LAST) != ""
