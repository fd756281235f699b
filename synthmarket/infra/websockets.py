"""Websockets that only send: bounded whatever the client does.

Every websocket of the gateway and the web terminal pushes data and reads nothing, so a client
frame is never needed: compression is declined (an inflated frame cannot be bounded before it is
inflated), a message over ``MAX_INCOMING_BYTES`` closes the socket with 1009, and any complete
message from the client closes it with 1008. Nothing a client sends is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed, Server
from wsproto.events import CloseConnection
from wsproto.frame_protocol import CloseReason

log = logging.getLogger(__name__)

# Enough for a control frame's worth of text; push-only sockets expect none at all.
MAX_INCOMING_BYTES = 1024


class PushOnlyServer(Server):
    """A simple-websocket server that declines compression and closes on any client message."""

    def __init__(self, environ: dict[str, Any], **options: Any) -> None:
        # Without the offer in the handshake, permessage-deflate is never negotiated.
        offered = {k: v for k, v in environ.items() if k != "HTTP_SEC_WEBSOCKET_EXTENSIONS"}
        raw = environ.get("gunicorn.socket")
        if raw is not None:
            raw.settimeout(None)   # the server's read timeout is for requests; a push-only socket idles
        super().__init__(offered, max_message_size=MAX_INCOMING_BYTES, **options)

    def _handle_events(self) -> bool:
        keep_going = bool(super()._handle_events())
        if keep_going and self.input_buffer:
            self.input_buffer.clear()
            self.sock.send(self.ws.send(CloseConnection(CloseReason.POLICY_VIOLATION, "this socket only sends")))
            self.event.set()
            return False
        return keep_going


class PushOnlySock(Sock):
    """``flask_sock.Sock`` whose routes get a ``PushOnlyServer``."""

    def route(self, path: str, bp: Any = None, **kwargs: Any) -> Callable[[Callable[..., None]], None]:
        def decorator(handler: Callable[..., None]) -> None:
            @wraps(handler)
            def websocket_route(*args: Any, **view_args: Any) -> Response:
                ws = PushOnlyServer(request.environ)
                try:
                    handler(ws, *args, **view_args)
                except (ConnectionClosed, OSError) as exc:
                    # Clients leave all the time, politely or not: one line, no traceback.
                    log.info("websocket %s: the client went away (%s)", request.path, type(exc).__name__)
                try:
                    ws.close()
                except Exception:  # noqa: BLE001 - the peer may be gone already
                    pass
                return _HandledResponse(ws.mode)

            target: Flask | Any = bp if bp is not None else self.app
            target.route(path, websocket=True, **kwargs)(websocket_route)

        return decorator


class _HandledResponse(Response):
    """The socket was answered by the websocket itself: the server must write nothing more."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self._mode = mode

    def __call__(self, environ: Any, start_response: Any) -> Any:
        if self._mode == "gunicorn":
            raise StopIteration()
        if self._mode == "werkzeug":
            return super().__call__(environ, start_response)
        return []
