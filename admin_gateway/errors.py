"""The gateway's error tree and its one mapping onto JSON HTTP responses.

    GatewayError                 any failure the gateway answers on purpose
    ├── BadParameter        400  query parameters (each named, all at once) are malformed or unknown
    ├── UnreadableBody      400  the request body broke off or its chunked framing is malformed
    ├── Unauthorized        401  missing or wrong bearer token
    ├── AdapterConflict     409  the hosted adapters are not both synthetic
    ├── PreconditionFailed  412  If-Match names a stale revision (carries the current state)
    ├── PayloadTooLarge     413  the body is over the limit (carries ``max_bytes``)
    ├── UnsupportedMedia    415  not application/json (carries the ``accepted`` types)
    ├── InvalidBody         422  field-level validation errors
    └── Unavailable         503  NATS or regime_svc cannot be reached

Disabled admin routes answer ``not_found_response()``, the same body as an unknown route.
Anything else that escapes a view becomes a plain 500 JSON body without a trace.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.routing.exceptions import WebsocketMismatch

log = logging.getLogger(__name__)


class GatewayError(Exception):
    status = 500
    error = "internal_error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "message": self.message, **self.extra}


class BadParameter(GatewayError):
    """One or more bad query parameters. ``parameters`` lists every problem, each with its
    parameter; ``parameter`` names the first, and ``message`` joins them all."""

    status = 400
    error = "bad_parameter"

    def __init__(self, parameter: str, message: str, *more: tuple[str, str]) -> None:
        self.problems: list[tuple[str, str]] = [(parameter, message), *more]
        super().__init__("; ".join(f"{name}: {text}" for name, text in self.problems), parameter=parameter,
                         parameters=[{"parameter": name, "message": text} for name, text in self.problems])


class UnreadableBody(GatewayError):
    status = 400
    error = "unreadable_body"


class Unauthorized(GatewayError):
    status = 401
    error = "unauthorized"

    def __init__(self, message: str = "a valid bearer token is required") -> None:
        super().__init__(message)
        self.headers["WWW-Authenticate"] = 'Bearer realm="synthetic-admin"'


class AdapterConflict(GatewayError):
    status = 409
    error = "synthetic_control_unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(reason, disabled_reason=reason)


class PreconditionFailed(GatewayError):
    status = 412
    error = "revision_mismatch"


class PayloadTooLarge(GatewayError):
    status = 413
    error = "payload_too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the request body is larger than {max_bytes} bytes", max_bytes=max_bytes)


class UnsupportedMedia(GatewayError):
    status = 415
    error = "unsupported_media_type"


class InvalidBody(GatewayError):
    status = 422
    error = "invalid_control_state"

    def __init__(self, fields: list[dict[str, str]]) -> None:
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        super().__init__(summary, fields=fields)


class Unavailable(GatewayError):
    status = 503
    error = "service_unavailable"

    def __init__(self, message: str, retry_after_s: int = 2) -> None:
        super().__init__(message)
        self.headers["Retry-After"] = str(retry_after_s)


def error_response(exc: GatewayError) -> Response:
    response = jsonify(exc.body())
    response.status_code = exc.status
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


def not_found_response() -> Response:
    """The one 404 body: unknown routes and disabled admin routes must be indistinguishable."""
    response = jsonify({"error": "not_found", "message": "no such resource"})
    response.status_code = 404
    return response


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(GatewayError, error_response)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        if exc.code == 404:
            return not_found_response()
        if isinstance(exc, WebsocketMismatch):
            response = jsonify({"error": "websocket_required", "message": "this route needs a websocket upgrade"})
            response.status_code = 400
            return response
        if exc.code == 413:
            return error_response(PayloadTooLarge(current_app.config["MAX_CONTENT_LENGTH"] or 0))
        response = jsonify({"error": (exc.name or "error").lower().replace(" ", "_"), "message": exc.description})
        response.status_code = exc.code or 500
        allowed = getattr(exc, "valid_methods", None)   # MethodNotAllowed carries it
        if exc.code == 405 and allowed:
            response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Logged with the trace server-side only; the client sees a plain body.
        log.error("unhandled error in gateway view", exc_info=exc)
        response = jsonify({"error": "internal_error", "message": "internal error"})
        response.status_code = 500
        return response
