"""Strict JSON request bodies: one media type, a hard size limit, UTF-8 only, no repeated keys."""

from __future__ import annotations

import codecs
import json
from decimal import Decimal
from typing import Any

from flask import Request

from admin_gateway.errors import InvalidBody, PayloadTooLarge, UnreadableBody, UnsupportedMedia
from synthmarket.infra.request_body import BodyTooLarge, BodyUnreadable, read_limited

MAX_BODY_BYTES = 16 * 1024
MEDIA_TYPE = "application/json"
ACCEPTED_CONTENT_TYPES: tuple[str, ...] = (MEDIA_TYPE, f"{MEDIA_TYPE}; charset=utf-8")
# Numbers with a zero fraction and fewer digits than this before the point are read as integers.
_INTEGRAL_DIGITS_MAX = 20
# Longest marks first: the UTF-32LE mark begins with the UTF-16LE one.
_BYTE_ORDER_MARKS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "UTF-32BE"),
    (codecs.BOM_UTF8, "UTF-8"),
    (codecs.BOM_UTF16_LE, "UTF-16LE"),
    (codecs.BOM_UTF16_BE, "UTF-16BE"),
)


def check_media_type(request: Request) -> None:
    """415 unless the body is declared as exactly application/json, at most with charset=utf-8.

    ``+json`` types are refused too: application/merge-patch+json, for one, means a partial
    document, and this API only takes the whole control state.
    """
    params = {name.lower(): value.lower() for name, value in request.mimetype_params.items()}
    if request.mimetype == MEDIA_TYPE and params in ({}, {"charset": "utf-8"}):
        return
    raise UnsupportedMedia(
        f"Content-Type must be {MEDIA_TYPE} (optionally with charset=utf-8); got {request.content_type or 'none'!r}",
        accepted=list(ACCEPTED_CONTENT_TYPES),
    )


def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, or 413 when it is longer than ``limit`` bytes, declared or chunked."""
    try:
        return read_limited(request.environ, request.content_length, limit)
    except BodyTooLarge:
        raise PayloadTooLarge(limit) from None
    except BodyUnreadable as exc:
        raise UnreadableBody(str(exc)) from None


class _JsonObject(dict):
    """A decoded JSON object that remembers the keys it was given more than once (and how often)."""

    __slots__ = ("repeated",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.repeated: dict[str, int] = {}
        for key, value in pairs:
            if key in self:
                self.repeated[key] = self.repeated.get(key, 1) + 1
            self[key] = value


def _number(text: str) -> int | float:
    """A number written with a fraction or an exponent.

    JSON has one number type, and JSON Schema counts 20.0 as the integer 20, so a zero
    fraction is read as that integer, exactly: through Decimal, so 12345678901234567890.0
    keeps every digit where a float would round it. Beyond 20 digits it stays a float (out of
    every range here anyway), so 1e999999999 never becomes a huge integer.
    """
    value = Decimal(text)
    if value.adjusted() < _INTEGRAL_DIGITS_MAX and value == value.to_integral_value():
        return int(value)
    return float(text)


def _reject_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity; JSON has neither.
    raise ValueError(f"{name} is not a JSON value")


def _utf8_text(raw: bytes) -> str:
    for mark, encoding in _BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            raise InvalidBody([{"field": "$", "message": (
                f"the body starts with a {encoding} byte order mark; send UTF-8 JSON without a byte order mark")}])
    if b"\x00" in raw:
        # No JSON text holds a raw NUL byte; UTF-16 and UTF-32 text without a mark does.
        raise InvalidBody([{"field": "$", "message": (
            "the body holds NUL bytes (UTF-16 or UTF-32 text?); send UTF-8 JSON")}])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidBody([{"field": "$", "message": (
            f"the body is not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}; send UTF-8 JSON")}]) from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _repeated_keys(document: Any) -> list[dict[str, str]]:
    """One problem per key given more than once, at any depth, named by its path."""
    problems: list[dict[str, str]] = []
    todo: list[tuple[str, Any]] = [("", document)]
    while todo:  # a loop, not recursion: the parser allows deeper nesting than a recursive walk
        path, value = todo.pop()
        if isinstance(value, _JsonObject):
            for key, count in value.repeated.items():
                problems.append({"field": _join(path, key),
                                 "message": f"duplicate key: given {count} times; each key may appear once"})
            todo.extend((_join(path, key), item) for key, item in value.items())
        elif isinstance(value, list):
            todo.extend((f"{path or '$'}[{i}]", item) for i, item in enumerate(value))
    return sorted(problems, key=lambda p: p["field"])


def decode_json(raw: bytes) -> tuple[Any, list[dict[str, str]]]:
    """The decoded document and every repeated key in it (422 problems, named by path).

    Raises ``InvalidBody`` on ``$`` when the body is not UTF-8 JSON at all.
    """
    text = _utf8_text(raw)
    try:
        document = json.loads(text, object_pairs_hook=_JsonObject, parse_float=_number,
                              parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidBody([{"field": "$", "message": "JSON nested too deeply"}]) from None
    except ValueError as exc:
        raise InvalidBody([{"field": "$", "message": f"not valid JSON: {exc}"}]) from None
    return document, _repeated_keys(document)
