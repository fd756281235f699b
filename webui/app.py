"""The web terminal's Flask app factory: the page, its websockets and the server-side gateway proxy."""

from __future__ import annotations

import json
import threading

from flask import Flask, Response, g, render_template, request

from synthmarket.domain.calendar import exchange_date, is_trading_date
from synthmarket.domain.control import ALLOWED_WEIGHTS, ALLOWED_WINDOWS, WEIGHT_LABELS
from synthmarket.domain.presets import PRESETS
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.infra.request_body import BodyTooLarge, BodyUnreadable, read_limited
from synthmarket.infra.wallclock import WallClock, wall_ms
from synthmarket.infra.websockets import PushOnlySock
from synthmarket.settings import Settings
from webui.engine_routes import install_engine_routes
from webui.gateway_proxy import GatewayProxy, Upstream
from webui.market_feed import MarketFeed
from webui.operator_auth import CSRF_HEADER, OperatorAuth, cross_site_write, install
from webui.relay import pump_market, relay_smart_money

ADMIN_API_PREFIX = "/api/admin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BODY_BYTES = 16 * 1024
# Weight choices as the drawer shows them: Low / Normal / High.
WEIGHT_CHOICES = tuple((WEIGHT_LABELS[w].capitalize(), w) for w in ALLOWED_WEIGHTS)
PROFILE_LABELS = {
    "institutional_directional": "Institutional",
    "retail_whale": "Retail whale",
    "event_driven": "Event driven",
    "vol_seller": "Vol seller",
    "arbitrage": "Arbitrage",
    "hedge_reactive": "Hedge reactive",
}
# The tape's short profile tags (static/format.js spells the same ones).
PROFILE_SHORT = {
    "institutional_directional": "INST",
    "retail_whale": "RETAIL",
    "event_driven": "EVENT",
    "vol_seller": "VOLSELL",
    "arbitrage": "ARB",
    "hedge_reactive": "HEDGE",
}
# No inline script or style: the page's config travels in data- attributes. Forms (sign-in,
# sign-out) post only to this origin.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def _json_error(status: int, error: str, message: str) -> Response:
    response = Response(json.dumps({"error": error, "message": message}), status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def not_found() -> Response:
    """One 404 for unknown paths and for the admin proxy while the admin flag is off."""
    return _json_error(404, "not_found", "no such resource")


def _relay(upstream: Upstream) -> Response:
    response = Response(upstream.body, upstream.status)
    for name, value in upstream.headers.items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def _admin_gate(auth: OperatorAuth | None) -> Response | None:
    """The admin proxy's checks, before routing, so every method on every admin path gets them.

    Flag off: the 404 of an unknown path. No operator session: 401, for reads too (the status
    names the control in force). A write also needs this session's CSRF token in X-CSRF-Token
    and must not come from another site (the token is the defence; the origin check a backstop).
    """
    path = request.path
    if not (path == ADMIN_API_PREFIX or path.startswith(ADMIN_API_PREFIX + "/")):
        return None
    if auth is None:
        return not_found()
    operator = auth.operator()
    if operator is None:
        return _json_error(401, "sign_in_required", "sign in as an operator at /signin to use the simulator controls")
    if request.method not in SAFE_METHODS:
        if cross_site_write(strict=True):
            return _json_error(403, "forbidden", "cross-origin writes are not accepted")
        if not auth.csrf_ok(request.headers.get(CSRF_HEADER)):
            return _json_error(403, "csrf_token_invalid", f"a missing or wrong {CSRF_HEADER} header")
    g.operator = operator
    return None


def create_app(settings: Settings, market: MarketFeed | None = None, proxy: GatewayProxy | None = None,
               wall_clock: WallClock = wall_ms) -> Flask:
    """Build the app. ``market`` is started and closed by the caller (an unstarted feed stays empty).

    ``wall_clock`` is what the session clock reads for the engine's views (tests pin the session).
    """
    # The exchange calendar is read once per process (it brings pandas along): at start, so the
    # server's memory is flat from its first request on.
    is_trading_date(exchange_date(wall_clock()))
    app = Flask("webui", static_folder="static", template_folder="templates")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 0
    app.config["TRUSTED_HOSTS"] = list(settings.allowed_hosts)
    admin = settings.public_synthetic_admin
    market = market or MarketFeed(settings)
    proxy = proxy or GatewayProxy(settings.public_api_url, settings.synthetic_admin_token)
    app.extensions["webui.market"] = market
    app.extensions["webui.proxy"] = proxy
    stopping = app.extensions["webui.stopping"] = threading.Event()
    sock = PushOnlySock(app)
    # Sign-in exists only with the flag on; off, /signin is an unknown path like the admin API.
    auth = install(app, settings) if admin else None
    feed = market
    install_engine_routes(app, settings, lambda: feed.control, wall_clock)

    @app.before_request
    def _guard_admin_api() -> Response | None:
        return _admin_gate(auth)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = CSP
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(404)
    def _404(_exc) -> Response:
        return not_found()

    @app.errorhandler(413)
    def _413(_exc) -> Response:
        return _json_error(413, "payload_too_large", "request body is too large")

    @app.get("/")
    def index() -> str:
        # Only a signed-in page carries a CSRF token: anonymous visitors get no session cookie.
        operator = auth.operator() if auth else None
        return render_template(
            "index.html",
            admin=admin,
            operator=operator,
            csrf=auth.csrf_token() if auth and operator else "",
            presets=[(p.value, spec.label) for p, spec in PRESETS.items()],
            windows=ALLOWED_WINDOWS,
            profiles=[(p, PROFILE_LABELS.get(p, p)) for p in PUBLIC_PROFILE_IDS],
            profile_short=PROFILE_SHORT,
            weights=WEIGHT_CHOICES,
            symbols=settings.symbols,
        )

    @app.get("/healthz")
    def healthz() -> Response:
        body = {"ok": True, "market_feed": market.connected.is_set(), "browsers": market.subscriber_count}
        return Response(json.dumps(body), 200, mimetype="application/json")

    @app.get("/api/flow/smart-money")
    def recent_flow() -> Response:
        return _relay(proxy.recent_flow(request.query_string.decode("latin-1")))

    @app.get("/api/flow/history")
    def flow_history() -> Response:
        # The session aggregates page through the day from the open (the recent list holds 500).
        return _relay(proxy.flow_history(request.query_string.decode("latin-1")))

    @app.get("/api/admin/synthetic/status")
    def admin_status() -> Response:
        return _relay(proxy.status())

    @app.get("/api/admin/synthetic/control")
    def admin_get_control() -> Response:
        return _relay(proxy.get_control())

    @app.put("/api/admin/synthetic/control")
    def admin_put_control() -> Response:
        # The operator recorded is the session's, never an X-Operator header the browser sent.
        try:
            body = read_limited(request.environ, request.content_length, MAX_BODY_BYTES)
        except BodyTooLarge:
            return _json_error(413, "payload_too_large", f"request body is larger than {MAX_BODY_BYTES} bytes")
        except BodyUnreadable as exc:
            return _json_error(400, "unreadable_body", str(exc))
        upstream = proxy.put_control(
            body,
            request.content_type or "",
            request.headers.get("If-Match"),
            g.operator,
        )
        return _relay(upstream)

    @sock.route("/ws/smart-money")
    def ws_smart_money(ws) -> None:
        query = request.query_string.decode("latin-1")
        relay_smart_money(ws, proxy.ws_url("/ws/smart-money") + (f"?{query}" if query else ""), stopping)

    @sock.route("/ws/market")
    def ws_market(ws) -> None:
        pump_market(ws, market, stopping)

    return app


def stop_streams(app: Flask) -> None:
    """End every open websocket within about a second (browsers reconnect); call on shutdown."""
    app.extensions["webui.stopping"].set()
