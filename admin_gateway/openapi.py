"""The OpenAPI 3 document for every gateway route, served at /openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify

from admin_gateway.params import (
    DIRECTIONS,
    FLOW_LIMIT_DEFAULT,
    FLOW_LIMIT_MAX,
    HISTORY_LIMIT_DEFAULT,
    HISTORY_LIMIT_MAX,
    REPLAY_SPEED_MAX,
)
from synthmarket.domain.control import ALLOWED_WEIGHTS, ALLOWED_WINDOWS, SEED_MAX, UPDATED_BY_MAX_LEN
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


FILTERS = [
    _query("profile", {"type": "string"}, "Comma-separated public profile ids: " + ", ".join(PUBLIC_PROFILE_IDS)),
    _query("symbol", {"type": "string"}, "Comma-separated underlying symbols"),
    _query("direction", {"type": "string"}, "Comma-separated directions: " + ", ".join(DIRECTIONS)),
    _query("min_premium", {"type": "number", "minimum": 0}, "Only events with at least this premium (USD)"),
]
RANGE = [
    _query("start", {"type": "integer", "format": "int64"}, "Range start, epoch ms UTC (inclusive)", True),
    _query("end", {"type": "integer", "format": "int64"}, "Range end, epoch ms UTC (inclusive)", True),
]
ETAG = {"ETag": {"description": "The control entry's KV revision, quoted", "schema": {"type": "string"}}}
AUTH_ERRORS = {
    "401": _error("Missing or wrong bearer token"),
    "404": _error("Admin control is disabled (SYNTHETIC_CONTROL_ENABLED is not 1)"),
    "503": _error("NATS is unreachable"),
}


def _schemas() -> dict[str, Any]:
    weights = {"type": "number", "enum": list(ALLOWED_WEIGHTS)}
    return {
        "SmartMoneyEvent": {
            "type": "object",
            "additionalProperties": False,
            "required": ["event_id", "ts", "profile_id", "underlying", "direction", "premium", "contracts",
                         "print_ids", "reason", "contract", "expiry", "strike", "right", "spot"],
            "properties": {
                "event_id": {"type": "string"},
                "ts": {"type": "integer", "format": "int64", "description": "epoch ms UTC"},
                "profile_id": {"type": "string", "enum": list(PUBLIC_PROFILE_IDS)},
                "underlying": {"type": "string"},
                "direction": {"type": "string", "enum": list(DIRECTIONS)},
                "premium": {"type": "number"},
                "contracts": {"type": "integer"},
                "print_ids": {"type": "array", "items": {"type": "string"}},
                "reason": {"type": "string"},
                "contract": {"type": "string"},
                "expiry": {"type": "string"},
                "strike": {"type": "number"},
                "right": {"type": "string"},
                "spot": {"type": "number"},
            },
        },
        "ControlState": {
            "type": "object",
            "additionalProperties": False,
            "required": ["preset_id", "coverage_assist", "coverage_window_minutes", "shared_seed", "profile_weights"],
            "properties": {
                "preset_id": {"type": "string", "enum": [p.value for p in SyntheticControlPresetId]},
                "coverage_assist": {"type": "boolean"},
                "coverage_window_minutes": {"type": "integer", "enum": list(ALLOWED_WINDOWS)},
                "shared_seed": {"type": "integer", "minimum": 0, "maximum": SEED_MAX},
                "profile_weights": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": list(PUBLIC_PROFILE_IDS),
                    "properties": dict.fromkeys(PUBLIC_PROFILE_IDS, weights),
                },
                "updated_at": {"type": ["string", "null"], "description": "Set by the server (ISO-8601 UTC)"},
                "updated_by": {"type": ["string", "null"], "maxLength": UPDATED_BY_MAX_LEN,
                               "description": "Set by the server from X-Operator"},
            },
        },
        "DerivedStatus": {
            "type": "object",
            "properties": {
                "session_phase": {"type": "string"},
                "regime": {"type": "string"},
                "focus_symbols": {"type": "array", "items": {"type": "string"}},
                "profile_hit_counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                "coverage_window_minutes": {"type": "integer"},
            },
        },
        "SyntheticStatus": {
            "type": "object",
            "required": ["enabled", "backend_mode", "adapters", "control", "derived"],
            "properties": {
                "enabled": {"type": "boolean"},
                "backend_mode": {"type": "string", "enum": ["synthetic", "mixed", "live"]},
                "adapters": {
                    "type": "object",
                    "properties": {"options": {"type": "string"}, "equities": {"type": "string"}},
                },
                "control": _ref("ControlState"),
                "derived": {"oneOf": [_ref("DerivedStatus"), {"type": "null"}]},
                "disabled_reason": {"type": "string"},
            },
        },
        "Error": {
            "type": "object",
            "required": ["error", "message"],
            "properties": {
                "error": {"type": "string"},
                "message": {"type": "string"},
                "parameter": {"type": "string"},
                "disabled_reason": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"field": {"type": "string"},
                                                               "message": {"type": "string"}}},
                },
            },
        },
    }


def _events_list(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"events": {"type": "array", "items": _ref("SmartMoneyEvent")}, "count": {"type": "integer"}}
    props.update(extra or {})
    return {"type": "object", "properties": props}


def build_openapi() -> dict[str, Any]:
    admin_security: list[dict[str, list[str]]] = [{"bearerAuth": []}]
    paths: dict[str, Any] = {
        "/flow/smart-money": {"get": {
            "summary": "Most recent smart-money events, newest first",
            "parameters": [_query("limit", {"type": "integer", "minimum": 1, "maximum": FLOW_LIMIT_MAX,
                                            "default": FLOW_LIMIT_DEFAULT}, "How many events")] + FILTERS,
            "responses": {"200": _json(_events_list(), "Events"), "400": _error("A bad query parameter"),
                          "503": _error("NATS is unreachable")},
        }},
        "/history/smart-money": {"get": {
            "summary": "Events in a time range from the stream, oldest first, paginated",
            "parameters": RANGE + [
                _query("limit", {"type": "integer", "minimum": 1, "maximum": HISTORY_LIMIT_MAX,
                                 "default": HISTORY_LIMIT_DEFAULT}, "Page size"),
                _query("cursor", {"type": "string"}, "Opaque next_cursor from the previous page"),
            ] + FILTERS,
            "responses": {
                "200": _json(_events_list({"next_cursor": {"type": ["string", "null"]}}), "One page"),
                "400": _error("A bad query parameter"), "503": _error("NATS is unreachable"),
            },
        }},
        "/replay/smart-money": {"get": {
            "summary": "A past range replayed in time order (NDJSON, or SSE with Accept: text/event-stream)",
            "parameters": RANGE + [
                _query("speed", {"type": "number", "minimum": 0, "maximum": REPLAY_SPEED_MAX},
                       "Pacing multiple of real time; absent or 0 = as fast as possible"),
            ] + FILTERS,
            "responses": {
                "200": {"description": "One SmartMoneyEvent per line (NDJSON) or per SSE event",
                        "content": {"application/x-ndjson": {"schema": _ref("SmartMoneyEvent")},
                                    "text/event-stream": {"schema": {"type": "string"}}}},
                "400": _error("A bad query parameter"),
                "503": _error("NATS is unreachable, or every stream slot (websockets and replays) is in use"),
            },
        }},
        "/ws/smart-money": {"get": {
            "summary": "Websocket: live smart-money events as JSON text messages",
            "description": "Filters are query parameters on connect. A slow client skips ahead.",
            "parameters": FILTERS,
            "responses": {"101": {"description": "Switching to the websocket protocol"},
                          "400": _error("A bad query parameter, or not a websocket request"),
                          "503": _error("Every stream slot (websockets and replays) is in use")},
        }},
        "/admin/synthetic/status": {"get": {
            "summary": "Operator view: mode, adapters, control and derived simulator status",
            "security": admin_security,
            "responses": {"200": _json(_ref("SyntheticStatus"), "Status"), **AUTH_ERRORS},
        }},
        "/admin/synthetic/control": {
            "get": {
                "summary": "The control state; its KV revision is the ETag",
                "security": admin_security,
                "responses": {"200": _json(_ref("ControlState"), "Control", ETAG),
                              "409": _error("Adapters are not both synthetic"), **AUTH_ERRORS},
            },
            "put": {
                "summary": "Replace the control state (compare-and-set with If-Match)",
                "security": admin_security,
                "parameters": [
                    {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                     "description": "ETag from GET; a stale one answers 412. Absent = last writer wins"},
                    {"name": "X-Operator", "in": "header", "required": False, "schema": {"type": "string"},
                     "description": "Stored as updated_by (default 'operator')"},
                ],
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("ControlState")}}},
                "responses": {
                    "200": _json(_ref("ControlState"), "Stored", ETAG),
                    "409": _error("Adapters are not both synthetic"),
                    "412": _error("If-Match is stale; body carries the current control and revision"),
                    "413": _error("Body over 16 KiB"), "415": _error("Not application/json"),
                    "422": _error("Invalid, partial or unknown fields (field-level errors)"),
                    **AUTH_ERRORS,
                },
            },
        },
        "/openapi.json": {"get": {
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3 document",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}},
        }},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "synthmarket gateway", "version": "1.0.0",
                 "description": "Public smart-money API and the internal synthetic-control API."},
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def init_openapi(app: Flask) -> None:
    document = build_openapi()

    @app.get("/openapi.json")
    def openapi_json() -> Response:
        return jsonify(document)
