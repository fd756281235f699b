"""Operator sign-in for the web terminal: signed session cookies, CSRF tokens, one-time links, a password.

Why: the admin proxy routes attach SYNTHETIC_ADMIN_TOKEN, so whoever may call them may change the
market. With the admin flag on they answer only to a signed-in operator. Two ways in:

- a one-time link (as Jupyter does): ``python -m webui`` prints ``operator sign-in: <url>`` at
  start; the token in it works once and for at most 24 hours. Only its hash is kept;
- ``SYNTH_OPERATOR_PASSWORD``: a password form at ``/signin``.

A session is Flask's signed cookie (HttpOnly, SameSite=Strict, Secure over TLS) signed with
``SYNTH_SESSION_SECRET`` or a random key per process start; it ends after 12 hours whatever the
activity, and on sign-out (its id is remembered as revoked until it would have ended anyway).
Every state-changing route wants the session's CSRF token: the ``X-CSRF-Token`` header from the
page's scripts, or the ``csrf_token`` field of a form. Failed sign-ins are limited per client
address (5 a minute, then 429), in a table of bounded size.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.wrappers import Response as BaseResponse

from synthmarket.settings import Settings

SESSION_LIFETIME = timedelta(hours=12)
LINK_LIFETIME_S = 24 * 3600.0
# The operator name the gateway records (X-Operator → updated_by) for each way in.
PASSWORD_OPERATOR = "operator"
LINK_OPERATOR = "operator-link"
# The start of the stdout line carrying the link; keep it stable (`synthmarket up` shows it).
SIGNIN_PREFIX = "operator sign-in: "
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
FAILED_SIGNINS_ALLOWED = 5
FAILED_SIGNIN_WINDOW_S = 60.0
# Bounds on the in-memory tables, so no client can make them grow without limit.
MAX_TRACKED_CLIENTS = 10_000
MAX_LIVE_LINKS = 8
MAX_REVOKED_SESSIONS = 4096

Clock = Callable[[], float]
bp = Blueprint("operator", __name__)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class OneTimeLinks:
    """Sign-in tokens that work once and expire; only their hashes are held."""

    def __init__(self, lifetime_s: float = LINK_LIFETIME_S, clock: Clock = time.monotonic) -> None:
        self._lifetime_s = lifetime_s
        self._clock = clock
        self._live: dict[bytes, float] = {}  # hash -> expiry, oldest first
        self._lock = threading.Lock()

    def issue(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._live = {h: t for h, t in self._live.items() if t > now}
            while len(self._live) >= MAX_LIVE_LINKS:
                del self._live[next(iter(self._live))]
            self._live[_digest(token)] = now + self._lifetime_s
        return token

    def redeem(self, token: str) -> bool:
        with self._lock:
            expiry = self._live.pop(_digest(token), None)
        return expiry is not None and expiry > self._clock()


class SignInLimiter:
    """Failed sign-ins per client address over a sliding window.

    The table holds at most ``max_clients`` addresses (the least recently failed go first), each
    with at most ``allowed`` timestamps: memory stays bounded whatever the clients send.
    """

    def __init__(self, allowed: int = FAILED_SIGNINS_ALLOWED, window_s: float = FAILED_SIGNIN_WINDOW_S,
                 max_clients: int = MAX_TRACKED_CLIENTS, clock: Clock = time.monotonic) -> None:
        self._allowed = allowed
        self._window_s = window_s
        self._max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Client addresses tracked (at most ``max_clients``)."""
        return len(self._failures)

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        while times and times[0] <= now - self._window_s:
            times.popleft()
        if times is not None and not times:
            del self._failures[client]
            return None
        return times

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or None when it may try now."""
        with self._lock:
            now = self._clock()
            times = self._recent(client, now)
            if times is None or len(times) < self._allowed:
                return None
            return max(1, math.ceil(times[0] + self._window_s - now))

    def failed(self, client: str) -> None:
        with self._lock:
            now = self._clock()
            times = self._recent(client, now) or deque(maxlen=self._allowed)
            times.append(now)
            self._failures[client] = times
            self._failures.move_to_end(client)
            while len(self._failures) > self._max_clients:
                self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


class _SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the Secure flag set when this request came over TLS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


class OperatorAuth:
    """Who is signed in, and the checks the routes ask for."""

    def __init__(self, settings: Settings, clock: Clock = time.monotonic) -> None:
        self.links = OneTimeLinks(clock=clock)
        self.limiter = SignInLimiter(clock=clock)
        self._password = _digest(settings.operator_password) if settings.operator_password else None
        self._revoked: dict[str, float] = {}  # session id -> wall time it would have ended
        self._lock = threading.Lock()

    @property
    def password_enabled(self) -> bool:
        return self._password is not None

    def password_ok(self, supplied: str) -> bool:
        # Hashes of equal length, compared in constant time: the length of the password stays secret.
        return self._password is not None and hmac.compare_digest(_digest(supplied), self._password)

    def operator(self) -> str | None:
        """The signed-in operator's name, or None (no session, expired or signed out)."""
        name, started, sid = session.get("op"), session.get("at"), session.get("sid")
        if not (isinstance(name, str) and isinstance(started, int) and isinstance(sid, str)):
            return None
        # Absolute bound: the cookie's own age check restarts whenever the session is rewritten.
        if time.time() - started >= SESSION_LIFETIME.total_seconds():
            return None
        with self._lock:
            if sid in self._revoked:
                return None
        return name

    def start(self, name: str) -> None:
        """A fresh session for ``name``: new id and CSRF token, nothing kept from before."""
        session.clear()
        session.permanent = True
        session.update(op=name, at=int(time.time()), sid=secrets.token_urlsafe(16), csrf=secrets.token_urlsafe(32))

    def end(self) -> None:
        sid, started = session.get("sid"), session.get("at")
        if isinstance(sid, str) and isinstance(started, int):
            now = time.time()
            with self._lock:
                self._revoked = {s: t for s, t in self._revoked.items() if t > now}
                while len(self._revoked) >= MAX_REVOKED_SESSIONS:
                    # Full of live entries: forget the one closest to its natural end.
                    del self._revoked[min(self._revoked, key=self._revoked.__getitem__)]
                self._revoked[sid] = started + SESSION_LIFETIME.total_seconds()
        session.clear()

    @staticmethod
    def csrf_token() -> str:
        """This session's CSRF token, made on first use (an anonymous session holds one for the form)."""
        token = session.get("csrf")
        if not isinstance(token, str):
            token = session["csrf"] = secrets.token_urlsafe(32)
        return token

    @staticmethod
    def csrf_ok(supplied: str | None) -> bool:
        expected = session.get("csrf")
        return isinstance(expected, str) and isinstance(supplied, str) and hmac.compare_digest(
            supplied.encode("utf-8", "surrogatepass"), expected.encode())


def install(app: Flask, settings: Settings) -> OperatorAuth:
    """Sessions, the sign-in routes and the checks, on ``app``."""
    auth = OperatorAuth(settings)
    app.config["SECRET_KEY"] = settings.session_secret or secrets.token_bytes(32)
    app.session_interface = _SessionCookies()
    app.config.update(
        SESSION_COOKIE_NAME="synth_operator",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        # The cookie is written when a session starts or ends, not on every request: its signed
        # timestamp then also bounds it (Flask rejects a cookie older than the lifetime).
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    app.extensions["webui.auth"] = auth
    app.register_blueprint(bp)
    return auth


def cross_site_write(strict: bool) -> bool:
    """A write that a browser says comes from another site (a CSRF attempt), on top of the token.

    Sec-Fetch-Site is set by the browser and cannot be forged by a page. ``strict`` also refuses
    ``Origin: null``; form posts send exactly that under this page's no-referrer policy.
    """
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    if origin == "null":
        return strict
    return urlsplit(origin).netloc != request.host


def signin_link(app: Flask, base_url: str) -> str:
    """A fresh one-time sign-in link for the terminal at ``base_url``."""
    token = app.extensions["webui.auth"].links.issue()
    return f"{base_url.rstrip('/')}/signin?token={token}"


def print_signin_link(app: Flask, base_url: str) -> None:
    """Print a fresh link on stdout, on the line `synthmarket up` shows as ``[webui] operator sign-in: ...``."""
    print(SIGNIN_PREFIX + signin_link(app, base_url), flush=True)


# --- routes ------------------------------------------------------------------------------------


def _auth() -> OperatorAuth:
    return current_app.extensions["webui.auth"]


def _page(status: int, message: str = "", kind: str = "error") -> Response:
    auth = _auth()
    html = render_template("signin.html", operator=auth.operator(), csrf=auth.csrf_token(),
                           password_enabled=auth.password_enabled, message=message, kind=kind)
    return Response(html, status, mimetype="text/html")


def _too_many(retry_after: int) -> Response:
    response = _page(429, f"Too many failed sign-ins from this address; try again in {retry_after} s.")
    response.headers["Retry-After"] = str(retry_after)
    return response


def _signed_in(auth: OperatorAuth, name: str) -> BaseResponse:
    auth.limiter.succeeded(request.remote_addr or "")
    auth.start(name)
    return redirect("/", 303)


@bp.get("/signin")
def signin_form() -> BaseResponse:
    auth = _auth()
    token = request.args.get("token")
    if token is None:
        return _page(200)
    client = request.remote_addr or ""
    wait = auth.limiter.retry_after(client)
    if wait is not None:
        return _too_many(wait)
    if auth.links.redeem(token):
        return _signed_in(auth, LINK_OPERATOR)
    auth.limiter.failed(client)
    return _page(401, "This sign-in link does not work: it was used already, it expired, "
                      "or the web terminal restarted since it was printed.")


@bp.post("/signin")
def signin_password() -> BaseResponse:
    auth = _auth()
    if cross_site_write(strict=False):
        return _page(403, "Sign-in from another site is not accepted.")
    client = request.remote_addr or ""
    wait = auth.limiter.retry_after(client)
    if wait is not None:
        return _too_many(wait)
    if not auth.csrf_ok(request.form.get(CSRF_FIELD)):
        return _page(403, "The form was stale; please enter the password again.")
    if not auth.password_enabled:
        return _page(403, "Password sign-in is off (SYNTH_OPERATOR_PASSWORD is not set).")
    if auth.password_ok(request.form.get("password", "")):
        return _signed_in(auth, PASSWORD_OPERATOR)
    auth.limiter.failed(client)
    return _page(401, "Wrong password.")


@bp.post("/signout")
def signout() -> BaseResponse:
    auth = _auth()
    supplied = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if cross_site_write(strict=False) or not auth.csrf_ok(supplied):
        return _page(403, "Sign-out needs the form from this terminal; nothing was changed.")
    auth.end()
    return redirect("/", 303)
