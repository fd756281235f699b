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
    not_found_response,
)
from admin_gateway.json_body import MAX_BODY_BYTES, check_media_type, decode_json, read_body
from synthmarket.domain.control import ControlValidationError, SyntheticControlState, validate_control
from synthmarket.infra.control_store import RevisionConflict
from synthmarket.settings import Settings

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/admin"
# What updated_by records for a caller that holds the admin bearer token. An updated_by field
# in the body is never taken. X-Operator is believed only next to the valid token: the holder is
# the web terminal's proxy, which sets it from the operator's signed-in session (never from the
# browser), or an operator's own tool.
TOKEN_CALLER = "admin-token"
_OPERATOR_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
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


def _authenticate() -> str:
    """Check the bearer token; the caller's name, as writes record it in ``updated_by``.

    The one place a caller gets a name: the token holder's X-Operator when it is a plain name
    (the web terminal's proxy sends the signed-in operator's), else ``admin-token``.
    """
    expected = _settings().synthetic_admin_token
    header = request.headers.get("Authorization", "")
    scheme, _, supplied = header.partition(" ")
    if expected is None or scheme.lower() != "bearer" or not supplied:
        raise Unauthorized()
    # Constant-time comparison on bytes; neither value is ever logged.
    if not hmac.compare_digest(supplied.strip().encode("utf-8"), expected.encode("utf-8")):
        raise Unauthorized()
    operator = request.headers.get("X-Operator", "")
    return operator if _OPERATOR_RE.match(operator) else TOKEN_CALLER


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
    _authenticate()
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
    _authenticate()
    _check_adapters()
    state, revision = _clients().load_control()
    return _control_response(state, revision)


def _control_from_body() -> SyntheticControlState:
    """The control state in the request body; 415, 413 or 422 (every problem at once) otherwise."""
    check_media_type(request)
    document, problems = decode_json(read_body(request))
    try:
        state = validate_control(document)
    except ControlValidationError as exc:
        raise InvalidBody(problems + [e.to_dict() for e in exc.errors]) from None
    if problems:
        raise InvalidBody(problems)
    return state


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
    caller = _authenticate()
    _check_adapters()
    # Whatever updated_at / updated_by the body held (a GET's answer sent back, say) is replaced.
    state = _control_from_body().with_update(
        updated_at=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        updated_by=caller,
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
