"""The OpenAPI document's component schemas: events, control state, status and every error body."""

from __future__ import annotations

from typing import Any

from admin_gateway.json_body import ACCEPTED_CONTENT_TYPES, MAX_BODY_BYTES
from admin_gateway.params import CURSOR_PATTERN, DIRECTIONS
from synthmarket.domain.control import ALLOWED_WEIGHTS, ALLOWED_WINDOWS, SEED_MAX, UPDATED_BY_MAX_LEN
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.domain.regimes import REGIME_IDS, SessionPhase

_REF = "#/components/schemas/"
PRESET_IDS: tuple[str, ...] = tuple(p.value for p in SyntheticControlPresetId)


def ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """A closed object: the server sends (or takes) no property beyond those listed."""
    return {"type": "object", "additionalProperties": False, "required": list(required or properties),
            "properties": properties}


def _error(code: str, description: str, **extra: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {"error": {"type": "string", "const": code}, "message": {"type": "string"}, **extra}
    return {**_object(properties), "description": description}


def _control_fields() -> dict[str, Any]:
    weight = {"type": "number", "enum": list(ALLOWED_WEIGHTS), "description": "0.6 low, 1.0 normal, 1.6 high"}
    return {
        "preset_id": {"type": "string", "enum": list(PRESET_IDS)},
        "coverage_assist": {"type": "boolean"},
        "coverage_window_minutes": {"type": "integer", "enum": list(ALLOWED_WINDOWS)},
        "shared_seed": {"type": "integer", "minimum": 0, "maximum": SEED_MAX, "description": "unsigned 64-bit"},
        "profile_weights": _object(dict.fromkeys(PUBLIC_PROFILE_IDS, weight)),
    }


def _server_fields(note: str) -> dict[str, Any]:
    return {
        "updated_at": {"type": ["string", "null"], "readOnly": True,
                       "description": "When the entry was written (ISO-8601 UTC, ms). " + note},
        "updated_by": {"type": ["string", "null"], "maxLength": UPDATED_BY_MAX_LEN, "readOnly": True,
                       "description": "Who wrote it: the authenticated caller ('admin-token' for the bearer "
                                      "token), never a name the client sends. " + note},
    }


def _event() -> dict[str, Any]:
    return _object({
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
        # "" on events stored before these fields existed.
        "side": {"type": "string", "enum": ["ask", "above_ask", "bid", "below_bid", "mid", ""],
                 "description": "where the lead contract traded against its quote (\"\" when unknown)"},
        "order_type": {"type": "string", "enum": ["sweep", "block", "split", "multi_leg", ""],
                       "description": "\"\" when unknown"},
        "price": {"type": "number", "description": "average price per contract on the lead contract"},
        "iv": {"type": "number", "description": "implied volatility of the lead print, 0.25 = 25%"},
        "volume": {"type": "integer", "description": "contracts of the lead contract traded today so far"},
        "open_interest": {"type": ["integer", "null"], "minimum": 0,
                          "description": "open interest of the lead contract at today's open (OCC, published "
                                         "before it); volume above it suggests opening trades. null on events "
                                         "stored before the field existed"},
    })


def _status() -> dict[str, Any]:
    derived = _object({
        "session_phase": {"type": "string", "enum": [p.value for p in SessionPhase]},
        "regime": {"type": "string", "enum": list(REGIME_IDS)},
        "focus_symbols": {"type": "array", "items": {"type": "string"}},
        "profile_hit_counts": _object({p: {"type": "integer", "minimum": 0} for p in PUBLIC_PROFILE_IDS}),
        "coverage_window_minutes": {"type": "integer", "enum": list(ALLOWED_WINDOWS)},
    })
    status = _object({
        "enabled": {"type": "boolean"},
        "backend_mode": {"type": "string", "enum": ["synthetic", "mixed", "live"]},
        "adapters": _object({"options": {"type": "string"}, "equities": {"type": "string"}}),
        "control": ref("ControlState"),
        "derived": {"oneOf": [ref("DerivedStatus"), {"type": "null"}]},
        "disabled_reason": {"type": "string", "description": "Why control is off, or why derived is null"},
    }, required=["enabled", "backend_mode", "adapters", "control", "derived"])
    return {"DerivedStatus": derived, "SyntheticStatus": status}


def _errors() -> dict[str, Any]:
    field_error = _object({"field": {"type": "string", "description": "'$' is the whole body; a.b a nested key"},
                           "message": {"type": "string"}})
    return {
        "BadParameter": _error(
            "bad_parameter",
            "Query parameters that are malformed, out of range, repeated, missing or unknown: every one at once",
            parameter={"type": "string", "description": "The first bad parameter"},
            parameters={"type": "array", "minItems": 1, "items": ref("ParameterError"),
                        "description": "Every bad parameter, each with what is wrong with it"}),
        "ParameterError": _object({"parameter": {"type": "string"}, "message": {"type": "string"}}),
        "WebsocketRequired": _error("websocket_required", "A plain HTTP request to the websocket route"),
        "UnreadableBody": _error("unreadable_body", "The body broke off, or its chunked framing is malformed"),
        "Unauthorized": _error("unauthorized", "Missing or wrong bearer token"),
        "NotFound": _error("not_found", "No such resource (admin routes too, while admin control is disabled)"),
        "AdapterConflict": _error("synthetic_control_unavailable", "The market-data adapters are not both synthetic",
                                  disabled_reason={"type": "string"}),
        "RevisionMismatch": _error("revision_mismatch", "If-Match names another revision than the stored one",
                                   control=ref("ControlState"), revision={"type": "integer", "minimum": 0}),
        "PayloadTooLarge": _error("payload_too_large", f"The body is over {MAX_BODY_BYTES} bytes, declared or chunked",
                                  max_bytes={"const": MAX_BODY_BYTES}),
        "UnsupportedMediaType": _error("unsupported_media_type", "The body is not declared as application/json",
                                       accepted={"const": list(ACCEPTED_CONTENT_TYPES)}),
        "InvalidControlState": _error(
            "invalid_control_state",
            "Every problem at once: not UTF-8 JSON, duplicate keys, and unknown, missing or invalid fields",
            fields={"type": "array", "minItems": 1, "items": ref("FieldError")}),
        "FieldError": field_error,
        "ServiceUnavailable": _error("service_unavailable", "NATS or regime_svc is unreachable, or every stream "
                                                            "slot is in use; retry after Retry-After seconds"),
    }


def component_schemas() -> dict[str, Any]:
    control_fields = _control_fields()
    return {
        "SmartMoneyEvent": _event(),
        "ControlState": _object({**control_fields, **_server_fields("Set by the server on every write.")}),
        "ControlUpdate": {
            **_object({**control_fields, **_server_fields("Ignored in a request: the server sets it.")},
                      required=list(control_fields)),
            "description": "The whole control state (no partial updates); what GET answered may be sent back as is.",
        },
        **_status(),
        "EventList": _object({"events": {"type": "array", "items": ref("SmartMoneyEvent")},
                              "count": {"type": "integer", "minimum": 0}}),
        "HistoryPage": _object({
            "events": {"type": "array", "items": ref("SmartMoneyEvent")},
            "count": {"type": "integer", "minimum": 0},
            "next_cursor": {"oneOf": [{"type": "string", "pattern": CURSOR_PATTERN}, {"type": "null"}],
                            "description": "Pass as cursor for the next page; null when the range is exhausted"},
        }),
        **_errors(),
    }
