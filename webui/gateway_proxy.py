"""Server-side calls to the gateway: the only place the admin token is attached to a request.

The browser talks to ``/api/...`` on the web server; these functions repeat the call against
NEXT_PUBLIC_API_URL with ``Authorization: Bearer <SYNTHETIC_ADMIN_TOKEN>`` and hand back the
gateway's status, body and a short allow-list of headers (never the request's own headers).

``shared_seed`` may exceed 2^53, which a browser's JSON numbers cannot hold exactly. The page
therefore never sends it: a PUT body without ``shared_seed`` is completed here from the current
control (Python ints are exact), so the seed only ever travels as the gateway's own JSON text.
A body that does carry ``shared_seed`` is forwarded untouched.
"""

from __future__ import annotations

import email.message
import http.client
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

# Response headers a browser may see; anything else the gateway sends stays on the server.
PASSED_RESPONSE_HEADERS: tuple[str, ...] = ("Content-Type", "ETag", "Retry-After")
CONTROL_PATH = "/admin/synthetic/control"
STATUS_PATH = "/admin/synthetic/status"
FLOW_PATH = "/flow/smart-money"
HISTORY_PATH = "/history/smart-money"


@dataclass(frozen=True)
class Upstream:
    """A gateway answer, or a 503 made here when the gateway could not be asked."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> object:
        return json.loads(self.body)


def _unavailable(message: str) -> Upstream:
    body = json.dumps({"error": "service_unavailable", "message": message}).encode()
    return Upstream(503, body, {"Content-Type": "application/json", "Retry-After": "2"})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would resend the bearer token to wherever it points: refuse to follow."""

    def redirect_request(self, req, fp, code, msg, headers, _newurl):
        return None


class GatewayProxy:
    """Forwards admin and public calls to the gateway at ``base_url``."""

    def __init__(self, base_url: str, token: str | None, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect)

    def ws_url(self, path: str) -> str:
        if self.base_url.startswith("https://"):
            return "wss://" + self.base_url[len("https://"):] + path
        if self.base_url.startswith("http://"):
            return "ws://" + self.base_url[len("http://"):] + path
        return self.base_url + path

    def request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        admin: bool = False,
    ) -> Upstream:
        url = self.base_url + path + (f"?{query}" if query else "")
        req = urllib.request.Request(url, data=body, method=method)
        req.add_header("Accept", "application/json")
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        if admin:
            if not self._token:
                return _unavailable("the web server has no SYNTHETIC_ADMIN_TOKEN configured")
            req.add_header("Authorization", f"Bearer {self._token}")
        try:
            try:
                with self._opener.open(req, timeout=self.timeout) as resp:
                    return Upstream(resp.status, resp.read(), _passed(resp.headers))
            except urllib.error.HTTPError as exc:
                # The error body is read from the socket too, so it can fail like any other read.
                with exc:
                    return Upstream(exc.code, exc.read(), _passed(exc.headers))
        # http.client.HTTPException: a garbled status line or a body cut short (not an OSError).
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            reason = str(reason) or type(reason).__name__
            log.warning("gateway %s %s failed: %s", method, path, reason)
            return _unavailable(f"the gateway at {self.base_url} is unreachable ({reason})")

    # --- admin calls ------------------------------------------------------------------------

    def status(self) -> Upstream:
        return self.request("GET", STATUS_PATH, admin=True)

    def get_control(self) -> Upstream:
        return self.request("GET", CONTROL_PATH, admin=True)

    def put_control(self, body: bytes, content_type: str, if_match: str | None, operator: str) -> Upstream:
        """Forward a control write; a JSON object without ``shared_seed`` gets the current seed.

        ``operator`` is the signed-in operator's name from the session: only it travels as
        X-Operator (no header of the browser's request is ever forwarded).
        """
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            payload = None  # not our business: the gateway answers 422 with the field error
        if isinstance(payload, dict) and "shared_seed" not in payload:
            current = self.get_control()
            if current.status != 200:
                return current
            try:
                seed = current.json()["shared_seed"]  # type: ignore[index]
            except (ValueError, KeyError, TypeError):
                return _unavailable("the gateway sent a control state without shared_seed")
            # Insert the exact integer; json.dumps writes Python ints digit for digit.
            body = json.dumps({**payload, "shared_seed": seed}, separators=(",", ":")).encode()
        headers = {"Content-Type": content_type or "application/json", "X-Operator": operator}
        if if_match:
            headers["If-Match"] = if_match
        return self.request("PUT", CONTROL_PATH, body=body, headers=headers, admin=True)

    # --- public calls -----------------------------------------------------------------------

    def recent_flow(self, query: str) -> Upstream:
        return self.request("GET", FLOW_PATH, query=query)

    def flow_history(self, query: str) -> Upstream:
        return self.request("GET", HISTORY_PATH, query=query)


def _passed(headers: Mapping[str, str] | email.message.Message) -> dict[str, str]:
    out = {}
    for name in PASSED_RESPONSE_HEADERS:
        value = headers.get(name)
        if value is not None:
            out[name] = value
    return out
