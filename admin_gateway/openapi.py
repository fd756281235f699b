"""The OpenAPI 3.1 document for every gateway route, served at /openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify

from admin_gateway.json_body import ACCEPTED_CONTENT_TYPES, MAX_BODY_BYTES
from admin_gateway.openapi_schemas import component_schemas, ref
from admin_gateway.params import (
    CURSOR_PATTERN,
    DIRECTIONS,
    FLOW_LIMIT_DEFAULT,
    FLOW_LIMIT_MAX,
    HISTORY_LIMIT_DEFAULT,
    HISTORY_LIMIT_MAX,
    ISO_TIME_PATTERN,
    ISO_YEAR_MAX,
    ISO_YEAR_MIN,
    MIN_PREMIUM_MAX,
    REPLAY_SPEED_MAX,
    SYMBOL_PATTERN,
    TIME_EXAMPLE,
    TS_MAX,
)
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS

_QUERY_RULES = ("Every parameter at most once; an unknown or repeated parameter, or a value outside the rules "
                "below, is a 400 naming it. One 400 lists every bad parameter at once (`parameters`).")
_ETAG = {"ETag": {"description": "The control entry's KV revision, quoted", "required": True,
                  "schema": {"type": "string", "pattern": r'^"[0-9]+"$'}}}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", "required": True,
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "The bearer challenge", "required": True,
                                          "schema": {"type": "string", "pattern": "^Bearer "}}}


def _json(schema: dict[str, Any], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def _error(name: str, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return _json(ref(name), description, headers)


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False,
           **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description, **extra}


def _list(name: str, items: dict[str, Any], description: str) -> dict[str, Any]:
    """A filter given once as a comma-separated list (form style, not exploded): ``?profile=a,b``."""
    return _query(name, {"type": "array", "minItems": 1, "items": items}, description, style="form", explode=False)


FILTERS = [
    _list("profile", {"type": "string", "enum": list(PUBLIC_PROFILE_IDS)}, "Only these public profiles"),
    _list("symbol", {"type": "string", "pattern": SYMBOL_PATTERN}, "Only these underlyings (any case)"),
    _list("direction", {"type": "string", "enum": list(DIRECTIONS)}, "Only these directions"),
    _query("min_premium", {"type": "number", "minimum": 0, "maximum": MIN_PREMIUM_MAX},
           "Only events with at least this premium (USD)"),
]
_TS = {"oneOf": [
    {"type": "integer", "format": "int64", "minimum": 0, "maximum": TS_MAX, "description": "epoch ms UTC"},
    {"type": "string", "format": "date-time", "pattern": ISO_TIME_PATTERN,
     "description": f"ISO-8601 (RFC 3339) time with a UTC offset, years {ISO_YEAR_MIN}-{ISO_YEAR_MAX}"},
]}
_TIME_RULES = (f"epoch milliseconds UTC, or an ISO-8601 time with a UTC offset, with or without fractional seconds "
               f"(e.g. {TIME_EXAMPLE} or 2026-11-20T09:30:00-05:00; send '+' as %2B). A time without an offset is "
               f"refused (400), not guessed; a fraction beyond the millisecond is dropped")
RANGE = [
    _query("start", _TS, f"Range start (inclusive): {_TIME_RULES}", True),
    _query("end", _TS, f"Range end (inclusive): {_TIME_RULES}. Must not be before start (400 otherwise)", True),
]
_BAD_PARAMETER = _error("BadParameter", "Bad query parameters: every one listed in `parameters`, the first also "
                                         "named in `parameter`")
_NATS_DOWN = _error("ServiceUnavailable", "NATS is unreachable", _RETRY_AFTER)
_ADMIN_ERRORS = {
    "401": _error("Unauthorized", "Missing or wrong bearer token", _WWW_AUTHENTICATE),
    "404": _error("NotFound", "Admin control is disabled (SYNTHETIC_CONTROL_ENABLED is not 1)"),
    "503": _NATS_DOWN,
}
_CONFLICT = _error("AdapterConflict", "The market-data adapters are not both synthetic; the reason is given")


def _public_paths() -> dict[str, Any]:
    return {
        "/flow/smart-money": {"get": {
            "summary": "Most recent smart-money events, newest first",
            "description": _QUERY_RULES,
            "parameters": [_query("limit", {"type": "integer", "minimum": 1, "maximum": FLOW_LIMIT_MAX,
                                            "default": FLOW_LIMIT_DEFAULT}, "How many events")] + FILTERS,
            "responses": {"200": _json(ref("EventList"), "Events"), "400": _BAD_PARAMETER,
                          "503": _error("ServiceUnavailable", "NATS is unreachable before the first load",
                                        _RETRY_AFTER)},
        }},
        "/history/smart-money": {"get": {
            "summary": "Events in a time range from the stream, oldest first, paginated",
            "description": _QUERY_RULES + " A range that holds no event answers an empty page.",
            "parameters": RANGE + [
                _query("limit", {"type": "integer", "minimum": 1, "maximum": HISTORY_LIMIT_MAX,
                                 "default": HISTORY_LIMIT_DEFAULT}, "Page size"),
                _query("cursor", {"type": "string", "pattern": CURSOR_PATTERN},
                       "The next_cursor of the previous page (opaque; only values the API issued)"),
            ] + FILTERS,
            "responses": {"200": _json(ref("HistoryPage"), "One page"), "400": _BAD_PARAMETER, "503": _NATS_DOWN},
        }},
        "/replay/smart-money": {"get": {
            "summary": "A past range replayed in time order (NDJSON, or SSE with Accept: text/event-stream)",
            "description": _QUERY_RULES + " A range that holds no event answers an empty stream. A failure "
                                          "after the first line ends the stream with an error record.",
            "parameters": RANGE + [
                _query("speed", {"type": "number", "minimum": 0, "maximum": REPLAY_SPEED_MAX},
                       "Pacing multiple of real time; absent or 0 = as fast as possible"),
            ] + FILTERS,
            "responses": {
                "200": {"description": "One SmartMoneyEvent per line (NDJSON) or per SSE event",
                        "content": {"application/x-ndjson": {"schema": ref("SmartMoneyEvent")},
                                    "text/event-stream": {"schema": {"type": "string"}}}},
                "400": _BAD_PARAMETER,
                "503": _error("ServiceUnavailable", "NATS is unreachable, or every stream slot (websockets and "
                                                    "replays) is in use", _RETRY_AFTER),
            },
        }},
        "/ws/smart-money": {"get": {
            "summary": "Websocket: live smart-money events as JSON text messages",
            "description": "Filters are query parameters on connect. A slow client skips ahead. " + _QUERY_RULES,
            "parameters": FILTERS,
            "responses": {"101": {"description": "Switching to the websocket protocol"},
                          "400": _json({"oneOf": [ref("BadParameter"), ref("WebsocketRequired")]},
                                       "A bad query parameter, or not a websocket request"),
                          "503": _error("ServiceUnavailable", "Every stream slot (websockets and replays) is in use",
                                        _RETRY_AFTER)},
        }},
    }


def _put_control() -> dict[str, Any]:
    return {
        "summary": "Replace the control state (compare-and-set with If-Match)",
        "description": (
            f"The body is the whole control state as {' or '.join(ACCEPTED_CONTENT_TYPES)} (no other type, "
            f"+json types included: 415), UTF-8 without a byte order mark, at most {MAX_BODY_BYTES} bytes "
            "whether sent with Content-Length or chunked (413), with no key given twice and no field beyond the "
            "schema (422, listing every problem at once). updated_at and updated_by are set by the server: "
            "updated_by is the authenticated caller ('admin-token' for the bearer token); an updated_by in the "
            "body and any X-Operator header are ignored."),
        "security": [{"bearerAuth": []}],
        "parameters": [
            {"name": "If-Match", "in": "header", "required": False,
             "schema": {"type": "string", "pattern": r'^(?:\*|(?:W/)?"[0-9]{1,19}")$'},
             "description": "The ETag from GET: the write lands only on that revision (412 otherwise). "
                            "'*' = only if an entry exists. Absent = last writer wins"},
        ],
        "requestBody": {"required": True, "x-max-body-bytes": MAX_BODY_BYTES,
                        "content": {"application/json": {"schema": ref("ControlUpdate")}}},
        "responses": {
            "200": _json(ref("ControlState"), "Stored", _ETAG),
            "400": _error("UnreadableBody", "The body could not be read"),
            "409": _CONFLICT,
            "412": _error("RevisionMismatch", "If-Match is stale or not an ETag of this API; the body carries the "
                                              "current control and revision", _ETAG),
            "413": _error("PayloadTooLarge", f"Body over {MAX_BODY_BYTES} bytes"),
            "415": _error("UnsupportedMediaType", "Not application/json; the accepted types are listed"),
            "422": _error("InvalidControlState", "Not UTF-8 JSON, duplicate keys, or unknown, missing or "
                                                 "invalid fields: every one, by field"),
            **_ADMIN_ERRORS,
        },
    }


def _admin_paths() -> dict[str, Any]:
    return {
        "/admin/synthetic/status": {"get": {
            "summary": "Operator view: mode, adapters, control and derived simulator status",
            "security": [{"bearerAuth": []}],
            "responses": {"200": _json(ref("SyntheticStatus"), "Status"), **_ADMIN_ERRORS},
        }},
        "/admin/synthetic/control": {
            "get": {
                "summary": "The control state; its KV revision is the ETag",
                "security": [{"bearerAuth": []}],
                "responses": {"200": _json(ref("ControlState"), "Control", _ETAG), "409": _CONFLICT, **_ADMIN_ERRORS},
            },
            "put": _put_control(),
        },
    }


def build_openapi() -> dict[str, Any]:
    paths: dict[str, Any] = {
        **_public_paths(),
        **_admin_paths(),
        "/openapi.json": {"get": {
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3.1 document",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}},
        }},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "synthmarket gateway", "version": "1.0.0",
                 "description": "Public smart-money API and the internal synthetic-control API."},
        "paths": paths,
        "components": {
            "schemas": component_schemas(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def init_openapi(app: Flask) -> None:
    document = build_openapi()

    @app.get("/openapi.json")
    def openapi_json() -> Response:
        return jsonify(document)
