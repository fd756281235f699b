"""Reading a request body whole or not at all: over the limit is an error, chunked or not, never a cut."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import get_input_stream

_READ_CHUNK = 8 * 1024


class BodyTooLarge(ValueError):
    """The body is longer than the limit (declared, or found while reading a chunked one)."""


class BodyUnreadable(ValueError):
    """The server could not read the body (broken chunked framing, a client gone mid-body)."""


def read_limited(environ: Mapping[str, Any], declared: int | None, limit: int) -> bytes:
    """The whole body, or ``BodyTooLarge`` when it is longer than ``limit`` bytes.

    Werkzeug's own MAX_CONTENT_LENGTH stream stops at the limit and hands back what it read, so
    a longer chunked body would be cut at the limit and used as if complete. One byte past the
    limit is read here instead, and the body is refused when it arrives.
    """
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit)
    # Bounded by Content-Length, or by the server's own end of a chunked body.
    stream = get_input_stream(dict(environ), max_content_length=None)
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = stream.read(min(_READ_CHUNK, limit + 1 - size))
        except HTTPException:
            raise
        except Exception as exc:  # noqa: BLE001 - each server's body reader raises its own parse errors
            raise BodyUnreadable(f"the request body could not be read: {exc or type(exc).__name__}") from None
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
