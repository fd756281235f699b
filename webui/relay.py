"""Websocket pumps: the gateway's smart-money stream relayed to a browser, and the market feed to a browser.

Both run in the web server's thread for that websocket and end when either side goes away; the
page reconnects with backoff, so ending cleanly is always safe.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from simple_websocket import Client, ConnectionClosed

from webui.market_feed import MarketFeed

log = logging.getLogger(__name__)

POLL_S = 1.0
# Sent by the web server (never by the gateway) when the upstream cannot be reached or ends.
UPSTREAM_GONE = 1011
# Sent once the upstream subscription exists: the page fetches recent events only then, so no
# event can fall between that fetch and the live stream (duplicates are dropped by event_id).
READY_MESSAGE = '{"type":"relay_ready"}'
# A quiet tape still sends this, so the page can tell silence from a dead connection.
HEARTBEAT_MESSAGE = '{"type":"heartbeat"}'
HEARTBEAT_S = 15.0
# A gateway that accepts the connection but never answers the upgrade (every worker thread busy)
# would otherwise hold this thread for good, and each browser retry would pin one more.
HANDSHAKE_TIMEOUT_S = 5.0
# Pinging the gateway notices a silently dead peer (no FIN, e.g. a lost host) within two intervals;
# without it the relay would keep telling the browser the tape is merely quiet.
UPSTREAM_PING_S = 15.0


class UpstreamClient(Client):
    """A websocket client whose opening handshake is bounded in time."""

    def handshake(self) -> None:
        self.sock.settimeout(HANDSHAKE_TIMEOUT_S)
        try:
            super().handshake()
        except BaseException:
            self.sock.close()
            raise
        # The reader thread blocks on the socket; it must not time out once connected.
        self.sock.settimeout(None)


def relay_smart_money(ws: Any, upstream_url: str, stopping: threading.Event) -> None:
    """Copy every text frame from the gateway's ``/ws/smart-money`` to ``ws`` until one side closes
    or ``stopping`` is set (the server is shutting down)."""
    try:
        upstream = UpstreamClient(upstream_url, ping_interval=UPSTREAM_PING_S)
    except Exception as exc:  # noqa: BLE001 - refused, 400 on bad filters, DNS: all mean "not now"
        log.warning("smart-money relay cannot open %s: %s", upstream_url, exc)
        _close(ws, UPSTREAM_GONE, "gateway stream unavailable")
        return
    try:
        ws.send(READY_MESSAGE)
        quiet_polls = 0
        while ws.connected and upstream.connected and not stopping.is_set():
            try:
                message = upstream.receive(timeout=POLL_S)
            except ConnectionClosed:
                break
            if message is None:
                quiet_polls += 1
                if quiet_polls * POLL_S >= HEARTBEAT_S:
                    quiet_polls = 0
                    ws.send(HEARTBEAT_MESSAGE)
                continue
            quiet_polls = 0
            if isinstance(message, bytes):
                message = message.decode("utf-8", "replace")
            ws.send(message)
    except ConnectionClosed:
        pass  # the browser left
    finally:
        try:
            upstream.close()
        except Exception:  # noqa: BLE001
            pass
    if ws.connected:
        _close(ws, UPSTREAM_GONE, "gateway stream ended")


def pump_market(ws: Any, feed: MarketFeed, stopping: threading.Event) -> None:
    """Send the feed's snapshot, then every message for this subscriber, until the browser leaves
    or ``stopping`` is set."""
    sub = feed.subscribe()
    try:
        while ws.connected and not stopping.is_set():
            text = sub.get(timeout=POLL_S)
            if text is None:
                continue
            if text == "":  # the feed asked every browser to reconnect
                _close(ws, UPSTREAM_GONE, "market feed restarted")
                return
            ws.send(text)
    except ConnectionClosed:
        pass
    finally:
        feed.unsubscribe(sub)


def _close(ws: Any, code: int, reason: str) -> None:
    try:
        ws.close(reason=code, message=reason)
    except Exception:  # noqa: BLE001 - already closed
        pass
