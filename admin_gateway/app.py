"""The gateway's Flask app factory: one settings object and one set of clients, passed in."""

from __future__ import annotations

from flask import Flask

from admin_gateway.admin import init_admin
from admin_gateway.backend import GatewayClients
from admin_gateway.errors import register_error_handlers
from admin_gateway.openapi import init_openapi
from admin_gateway.public import init_public
from admin_gateway.server import DEFAULT_THREADS, stream_limit
from synthmarket.infra.websockets import PushOnlySock
from synthmarket.settings import Settings


def create_app(settings: Settings, clients: GatewayClients, max_streams: int = stream_limit(DEFAULT_THREADS)) -> Flask:
    """Build the app. ``clients`` is started by the caller and closed by the caller.

    ``max_streams`` caps open websockets plus replays (each holds a server thread).
    """
    app = Flask("admin_gateway", static_folder=None)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # the default provider has it
    app.config["TRUSTED_HOSTS"] = list(settings.allowed_hosts)
    app.extensions["gateway.settings"] = settings
    app.extensions["gateway.clients"] = clients
    register_error_handlers(app)
    init_admin(app)
    init_public(app, PushOnlySock(app), max_streams)
    init_openapi(app)
    return app
