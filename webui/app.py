"""The web terminal's Flask app factory: the page, its websockets and the server-side gateway proxy."""

from __future__ import annotations

import json
import threading
from urllib.parse import urlsplit

from flask import Flask, Response, render_template, request

from synthmarket.domain.control import ALLOWED_WEIGHTS, ALLOWED_WINDOWS, WEIGHT_LABELS
from synthmarket.domain.presets import PRESETS
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.infra.websockets import PushOnlySock
from synthmarket.settings import Settings
from webui.gateway_proxy import GatewayProxy, Upstream
from webui.market_feed import MarketFeed
from webui.relay import pump_market, relay_smart_money

ADMIN_API_PREFIX = "/api/admin"
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
# No inline script or style: the page's config travels in data- attributes.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
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


def _same_origin() -> bool:
    """A write must come from this page: a foreign Origin (a CSRF attempt) is refused."""
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


def create_app(settings: Settings, market: MarketFeed | None = None, proxy: GatewayProxy | None = None) -> Flask:
    """Build the app. ``market`` is started and closed by the caller (an unstarted feed stays empty)."""
    app = Flask("webui", static_folder="static", template_folder="templates")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 0
    admin = settings.public_synthetic_admin
    market = market or MarketFeed(settings)
    proxy = proxy or GatewayProxy(settings.public_api_url, settings.synthetic_admin_token)
    app.extensions["webui.market"] = market
    app.extensions["webui.proxy"] = proxy
    stopping = app.extensions["webui.stopping"] = threading.Event()
    sock = PushOnlySock(app)

    @app.before_request
    def _hide_admin_api() -> Response | None:
        # Every method on every admin path, matched or not, answers like an unknown path.
        path = request.path
        if not admin and (path == ADMIN_API_PREFIX or path.startswith(ADMIN_API_PREFIX + "/")):
            return not_found()
        return None

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
        return render_template(
            "index.html",
            admin=admin,
            presets=[(p.value, spec.label) for p, spec in PRESETS.items()],
            windows=ALLOWED_WINDOWS,
            profiles=[(p, PROFILE_LABELS.get(p, p)) for p in PUBLIC_PROFILE_IDS],
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

    @app.get("/api/admin/synthetic/status")
    def admin_status() -> Response:
        return _relay(proxy.status())

    @app.get("/api/admin/synthetic/control")
    def admin_get_control() -> Response:
        return _relay(proxy.get_control())

    @app.put("/api/admin/synthetic/control")
    def admin_put_control() -> Response:
        if not _same_origin():
            return _json_error(403, "forbidden", "cross-origin writes are not accepted")
        upstream = proxy.put_control(
            request.get_data(cache=False),
            request.content_type or "",
            request.headers.get("If-Match"),
            request.headers.get("X-Operator"),
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
