"""Internal operator routes: /admin/synthetic/status and /admin/synthetic/control (GET, PUT)."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import re
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from admin_gateway.errors import (
    AdapterConflict,
    InvalidBody,
    PreconditionFailed,
    Unauthorized,
    Unavailable,
    UnsupportedMedia,
    not_found_response,
)
from synthmarket.domain.control import UPDATED_BY_MAX_LEN, ControlValidationError, SyntheticControlState, control_from_json
from synthmarket.infra.control_store import RevisionConflict
from synthmarket.settings import Settings

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/admin"
MAX_BODY_BYTES = 16 * 1024
DEFAULT_OPERATOR = "operator"
_ETAG_RE = re.compile(r'^(?:W/)?"?(\d{1,19})"?$')

bp = Blueprint("admin", __name__, url_prefix="/admin/synthetic")


def _settings() -> Settings:
    return current_app.extensions["gateway.settings"]


def _clients():
    return current_app.extensions["gateway.clients"]


def adapter_reason(settings: Settings) -> str | None:
    """Why operator control cannot apply, or None when both hosted adapters are synthetic."""
    if settings.backend_mode == "synthetic":
        return None
    return (
        f"synthetic control needs both market-data adapters to be synthetic; backend mode is "
        f"{settings.backend_mode} (options adapter {settings.options_adapter!r}, "
        f"equities adapter {settings.equities_adapter!r})"
    )


def guard_admin_routes() -> Response | None:
    """App-wide before_request: admin paths vanish (plain 404) unless control is enabled.

    Runs for every request, including ones that match no admin rule or method, so a disabled
    deployment answers exactly as for an unknown path (never 401/405 that would reveal it).
    """
    path = request.path
    if path != ADMIN_PREFIX and not path.startswith(ADMIN_PREFIX + "/"):
        return None
    if not _settings().synthetic_control_enabled:
        return not_found_response()
    return None


def _check_token() -> None:
    expected = _settings().synthetic_admin_token
    header = request.headers.get("Authorization", "")
    scheme, _, supplied = header.partition(" ")
    if expected is None or scheme.lower() != "bearer" or not supplied:
        raise Unauthorized()
    # Constant-time comparison on bytes; neither value is ever logged.
    if not hmac.compare_digest(supplied.strip().encode("utf-8"), expected.encode("utf-8")):
        raise Unauthorized()


def _check_adapters() -> None:
    reason = adapter_reason(_settings())
    if reason is not None:
        raise AdapterConflict(reason)


def _etag(revision: int | None) -> str:
    return f'"{revision or 0}"'


def _control_response(state: SyntheticControlState, revision: int | None) -> Response:
    response = jsonify(state.to_dict())
    response.headers["ETag"] = _etag(revision)
    return response


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/status")
def status() -> Response:
    _check_token()
    settings = _settings()
    clients = _clients()
    reason = adapter_reason(settings)
    control, _revision = clients.load_control()
    body: dict[str, Any] = {
        "enabled": reason is None,
        "backend_mode": settings.backend_mode,
        "adapters": {"options": settings.options_adapter, "equities": settings.equities_adapter},
        "control": control.to_dict(),
        "derived": None,
    }
    if reason is not None:
        body["disabled_reason"] = reason
    else:
        try:
            body["derived"] = clients.derived_status(control).to_dict()
        except Unavailable as exc:
            body["disabled_reason"] = f"derived status unavailable: {exc.message}"
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/control")
def get_control() -> Response:
    _check_token()
    _check_adapters()
    state, revision = _clients().load_control()
    return _control_response(state, revision)


def _read_json_body() -> bytes:
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not (mimetype.startswith("application/") and mimetype.endswith("+json")):
        raise UnsupportedMedia(
            f"Content-Type must be application/json, got {request.content_type or 'nothing'!r}"
        )
    # MAX_CONTENT_LENGTH makes Werkzeug answer 413 for larger bodies, declared or chunked.
    return request.get_data(cache=False)


def _operator() -> str:
    raw = request.headers.get("X-Operator")
    if raw is None or not raw.strip():
        return DEFAULT_OPERATOR
    name = raw.strip()
    if len(name) > UPDATED_BY_MAX_LEN or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidBody([{
            "field": "updated_by",
            "message": f"X-Operator header must be at most {UPDATED_BY_MAX_LEN} printable characters",
        }])
    return name


def _expected_revision() -> int | str | None:
    """None = no If-Match (last writer wins); "*" = any existing entry; else the revision."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    raw = raw.strip()
    if raw == "*":
        return "*"
    match = _ETAG_RE.match(raw)
    if match is None:
        return -1  # matches no revision: answered with 412 and the current state
    return int(match.group(1))


def _precondition_failed(message: str) -> Response:
    state, revision = _clients().load_control()
    exc = PreconditionFailed(message, control=state.to_dict(), revision=revision or 0)
    exc.headers["ETag"] = _etag(revision)
    raise exc


@bp.put("/control")
def put_control() -> Response:
    _check_token()
    _check_adapters()
    body = _read_json_body()
    try:
        state = control_from_json(body)
    except ControlValidationError as exc:
        raise InvalidBody([e.to_dict() for e in exc.errors]) from None
    except RecursionError:
        raise InvalidBody([{"field": "$", "message": "JSON nested too deeply"}]) from None
    state = state.with_update(
        updated_at=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        updated_by=_operator(),
    )
    expected = _expected_revision()
    clients = _clients()
    if expected == "*":
        _, current = clients.load_control()
        if current is None:
            _precondition_failed("If-Match: * but no control entry exists yet")
        expected = None
    if isinstance(expected, int) and expected < 0:
        _precondition_failed("If-Match is not an ETag this API issued")
    try:
        revision = clients.write_control(state, expected)
    except RevisionConflict as exc:
        _precondition_failed(str(exc))
    log.info("control updated to revision %s by %s", revision, state.updated_by)
    return _control_response(state, revision)


def init_admin(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.before_request(guard_admin_routes)
    app.register_blueprint(bp)
