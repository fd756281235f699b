"""Public smart-money routes: /flow, /history and /replay over HTTP, /ws/smart-money over websocket."""

from __future__ import annotations

import json
import logging
import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request, stream_with_context
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from admin_gateway.errors import GatewayError, Unavailable, error_response
from admin_gateway.events_cache import CachedEvent
from admin_gateway.params import parse_flow, parse_history, parse_replay, parse_ws

log = logging.getLogger(__name__)

WS_ENDPOINT = "public_ws_smart_money"
WS_IDLE_POLL_S = 1.0
# One replay pause never exceeds this, so a paced replay of a quiet stretch stays responsive.
REPLAY_MAX_PAUSE_S = 60.0
# A paced replay looks for its client this often while it waits, so a gone client frees its slot.
PRESENCE_CHECK_S = 0.5

# Sent when the stream limit was reached between the pre-upgrade check and the handler.
WS_TRY_AGAIN_LATER = 1013

bp = Blueprint("public", __name__)


class StreamSlots:
    """A cap on long-lived responses (websockets, replays).

    Each holds a worker thread for as long as it lasts; without a cap, enough of them would take
    every thread and leave /flow, /history and the admin routes unanswered.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used = 0
        self._lock = threading.Lock()

    def acquire(self) -> bool:
        with self._lock:
            if self._used >= self.limit:
                return False
            self._used += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._used -= 1

    @property
    def full(self) -> bool:
        with self._lock:
            return self._used >= self.limit


def _streams_busy() -> Unavailable:
    limit = current_app.extensions["gateway.stream_slots"].limit
    return Unavailable(f"all {limit} stream slots (websockets and replays) are in use; retry shortly", 5)


def _clients():
    return current_app.extensions["gateway.clients"]


def _args() -> dict[str, list[str]]:
    return request.args.to_dict(flat=False)


def event_json(item: CachedEvent) -> dict[str, Any]:
    # SmartMoneyEvent.to_dict() holds only public fields; nothing is added here.
    return item.event.to_dict()


@bp.get("/flow/smart-money")
def flow() -> Response:
    limit, flt = parse_flow(_args())
    items = _clients().recent_events(limit, flt)
    # Each cached event carries its JSON already; splice instead of re-encoding per request.
    body = '{"events":[' + ",".join(i.json_text for i in items) + '],"count":' + str(len(items)) + "}"
    return Response(body, mimetype="application/json")


@bp.get("/history/smart-money")
def history() -> Response:
    query = parse_history(_args())
    page = _clients().history(query)
    return jsonify({
        "events": [event_json(i) for i in page.events],
        "count": len(page.events),
        "next_cursor": page.next_cursor,
    })


def _wants_sse() -> bool:
    accept = request.accept_mimetypes
    return accept.best_match(["application/x-ndjson", "text/event-stream"]) == "text/event-stream" and (
        accept["text/event-stream"] > accept["application/x-ndjson"]
    )


@bp.get("/replay/smart-money")
def replay() -> Response:
    query = parse_replay(_args())
    sse = _wants_sse()
    slots: StreamSlots = current_app.extensions["gateway.stream_slots"]
    if not slots.acquire():
        raise _streams_busy()
    try:
        # Fetch the first page before answering so a NATS outage is a clean 503, not a cut stream.
        events = _clients().replay(query)
    except BaseException:
        slots.release()
        raise

    raw = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")

    def generate() -> Iterator[str]:
        previous_ts: int | None = None
        count = 0
        try:
            for item in events:
                if query.speed > 0 and previous_ts is not None:
                    pause = (item.event.ts - previous_ts) / 1000.0 / query.speed
                    if pause > 0 and not _wait_while_present(raw, min(pause, REPLAY_MAX_PAUSE_S)):
                        log.info("replay client went away; its slot is free")
                        return
                previous_ts = item.event.ts
                count += 1
                payload = item.json_text
                if sse:
                    yield f"id: {item.seq}\nevent: smart_money\ndata: {payload}\n\n"
                else:
                    yield payload + "\n"
        except GatewayError as exc:
            # Headers are gone by now: end the stream with an error record instead.
            log.warning("replay stopped early: %s", exc.message)
            body = json.dumps(exc.body(), separators=(",", ":"))
            yield f"event: error\ndata: {body}\n\n" if sse else body + "\n"
            return
        if sse:
            yield f"event: end\ndata: {json.dumps({'count': count})}\n\n"

    mimetype = "text/event-stream" if sse else "application/x-ndjson"
    response = Response(stream_with_context(generate()), mimetype=mimetype)
    # Runs when the server closes the body: after the last chunk, or when the client went away.
    response.call_on_close(slots.release)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def validate_ws_request() -> Response | None:
    """before_request for the websocket route: bad filters (400) and a full house (503) are
    answered before the upgrade."""
    if request.endpoint != WS_ENDPOINT:
        return None
    try:
        parse_ws(_args())
        if current_app.extensions["gateway.stream_slots"].full:
            raise _streams_busy()
    except GatewayError as exc:
        return error_response(exc)
    return None


def ws_smart_money(ws) -> None:
    flt = parse_ws(_args())
    clients = _clients()
    slots: StreamSlots = current_app.extensions["gateway.stream_slots"]
    if not slots.acquire():
        ws.close(reason=WS_TRY_AGAIN_LATER, message="too many open streams")
        return
    sub = clients.cache.subscribe(flt)
    try:
        while ws.connected and not sub.closed:
            item = sub.get(timeout=WS_IDLE_POLL_S)
            if item is None:
                continue
            ws.send(item.json_text)
        if sub.closed:
            ws.close(reason=1001, message="server going away")
    except ConnectionClosed:
        pass
    finally:
        clients.cache.unsubscribe(sub)
        slots.release()


def init_public(app: Flask, sock: Sock, max_streams: int) -> None:
    app.extensions["gateway.stream_slots"] = StreamSlots(max_streams)
    app.register_blueprint(bp)
    app.before_request(validate_ws_request)
    sock.route("/ws/smart-money", endpoint=WS_ENDPOINT)(ws_smart_money)


def _wait_while_present(raw: socket.socket | None, seconds: float) -> bool:
    """Sleep ``seconds``, looking for the client every PRESENCE_CHECK_S; False once it has gone."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, PRESENCE_CHECK_S))
        if raw is not None and _client_gone(raw):
            return False
    return True


def _client_gone(raw: socket.socket) -> bool:
    # A readable socket with nothing to read is a closed one; a replay client sends nothing else.
    # select first: a socket with a timeout waits out that timeout in recv, whatever the flags.
    try:
        readable, _, _ = select.select([raw], [], [], 0)
        return bool(readable) and raw.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
