"""The one mapping from domain errors to gRPC status codes, used by every gRPC servicer.

Error tree (what a caller sees):

    INVALID_ARGUMENT   the request named something that does not exist or is out of range:
                       UnknownSymbolError, a timestamp outside the trading session
                       (any ValueError, e.g. the engine's OutsideSessionError, CalendarError),
                       an unset/unknown enum (WireError), an invalid control (ControlValidationError)
    ABORTED            a compare-and-set write lost (RevisionConflict)
    UNAVAILABLE        a dependency (NATS) is not reachable right now
    INTERNAL           anything else: the trace goes to the server log, never to the caller
"""

from __future__ import annotations

import asyncio
import logging

import grpc

from synthmarket.domain.universe import UnknownSymbolError

log = logging.getLogger(__name__)


class UnavailableError(RuntimeError):
    """A dependency the call needs is down; the caller may retry."""


def _is_revision_conflict(exc: BaseException) -> bool:
    # Imported lazily: the control store pulls in nats, which a pure gRPC client need not load.
    try:
        from synthmarket.infra.control_store import RevisionConflict
    except ImportError:  # pragma: no cover - control store always ships with the package
        return False
    return isinstance(exc, RevisionConflict)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, UnknownSymbolError):
        return f"unknown symbol {exc.args[0]!r}" if exc.args else "unknown symbol"
    text = str(exc)
    return text if text else type(exc).__name__


def status_for(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status code and a one-line, trace-free detail for ``exc``."""
    if isinstance(exc, UnknownSymbolError):
        return grpc.StatusCode.INVALID_ARGUMENT, _describe(exc)
    if _is_revision_conflict(exc):
        return grpc.StatusCode.ABORTED, _describe(exc)
    if isinstance(exc, (UnavailableError, ConnectionError, asyncio.TimeoutError)):
        return grpc.StatusCode.UNAVAILABLE, _describe(exc)
    # Every domain validation error in this code base is a ValueError (OutsideSessionError,
    # CalendarError, WireError, ControlValidationError, an unknown profile id).
    if isinstance(exc, ValueError):
        return grpc.StatusCode.INVALID_ARGUMENT, _describe(exc)
    return grpc.StatusCode.INTERNAL, "internal error"


async def abort_with(context: grpc.aio.ServicerContext, exc: BaseException, method: str = "") -> None:
    """Abort the call with the status for ``exc``; unexpected errors are logged with their trace."""
    code, detail = status_for(exc)
    if code == grpc.StatusCode.INTERNAL:
        log.error("%s failed", method or "gRPC call", exc_info=exc)
    else:
        log.info("%s rejected: %s %s", method or "gRPC call", code.name, detail)
    await context.abort(code, detail)
