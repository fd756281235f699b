"""The terminal's routes computed from the pure engine: a ticker's session chart, prior closes, catalysts.

"Now" is the session clock's reading of the wall clock at SYNTH_SPEED, as every service reads it, and
the control is the one in force (the market feed follows the control entry; defaults until it is read,
and always when the backend is not fully synthetic, as the ingest services do).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, Response

from synthmarket.domain.calendar import CalendarError
from synthmarket.domain.control_timeline import Control
from synthmarket.domain.session_clock import SessionClock
from synthmarket.infra.wallclock import WallClock
from synthmarket.settings import Settings
from webui.engine_views import catalysts, chart, prior_closes, session_window

# Longer than any symbol of the universe; anything else is answered without touching the engine.
_SYMBOL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9.\-]{0,9}$")


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = Response(json.dumps(body, separators=(",", ":")), status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def install_engine_routes(app: Flask, settings: Settings, control: Callable[[], Control],
                          wall_clock: WallClock) -> None:
    clock = SessionClock(settings.speed)
    symbols = tuple(settings.symbols)

    def window():
        return session_window(clock.ts(wall_clock()))

    def unavailable(exc: Exception) -> Response:
        return _json({"error": "session_unavailable", "message": str(exc)}, 503)

    @app.get("/api/chart/<symbol>")
    def symbol_chart(symbol: str) -> Response:
        name = symbol.upper()
        if not _SYMBOL_RE.match(symbol) or name not in symbols:
            return _json({"error": "unknown_symbol", "message": f"{symbol[:16]!r} is not a symbol of this market",
                          "symbols": list(symbols)}, 404)
        try:
            w = window()
            current = control()
            _, closes = prior_closes(w, current, symbols, only=name)
            body = {
                "symbol": name,
                "session": w.to_dict(),
                "prior_close": closes.get(name),
                "step_ms": 60_000,
                "points": chart(name, w, current, symbols),
                "catalysts": catalysts(w, current, symbols, only=name),
            }
        except CalendarError as exc:
            return unavailable(exc)
        return _json(body)

    @app.get("/api/prior-close")
    def prior_close() -> Response:
        try:
            w = window()
            date, closes = prior_closes(w, control(), symbols)
        except CalendarError as exc:
            return unavailable(exc)
        return _json({"session": w.to_dict(), "prior_date": date.isoformat(), "closes": closes})

    @app.get("/api/catalysts")
    def catalyst_calendar() -> Response:
        try:
            w = window()
            events = catalysts(w, control(), symbols)
        except CalendarError as exc:
            return unavailable(exc)
        return _json({"session": w.to_dict(), "catalysts": events})
