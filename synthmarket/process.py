"""What every ``python -m <service>`` shares: stop signals, the NATS connection and its teardown."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Callable

from nats.aio.client import Client as NatsClient

from synthmarket.settings import Settings, SettingsError, load_settings
from synthmarket.tasks import cancel_and_wait

log = logging.getLogger(__name__)

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DRAIN_TIMEOUT_S = 5.0


def settings_or_exit(prog: str) -> Settings:
    """Settings from the environment, or a one-line message and exit status 2 on a bad value."""
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def stop_on_signal() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def connect_nats(url: str, name: str, on_reconnected: Callable[[], None] | None = None) -> NatsClient:
    """A connection that reconnects forever, logging one warning per outage."""
    nc = NatsClient()
    down = [False]

    async def error_cb(exc: Exception) -> None:
        if not down[0]:
            down[0] = True
            log.warning("NATS at %s unavailable (%s: %s); retrying", url, type(exc).__name__, exc)

    async def disconnected_cb() -> None:
        if not down[0] and not nc.is_closed and not nc.is_draining:
            down[0] = True
            log.warning("disconnected from NATS at %s; reconnecting", url)

    async def reconnected_cb() -> None:
        down[0] = False
        log.info("reconnected to NATS at %s", url)
        if on_reconnected is not None:
            on_reconnected()

    await nc.connect(
        url,
        name=name,
        connect_timeout=2,
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        error_cb=error_cb,
        disconnected_cb=disconnected_cb,
        reconnected_cb=reconnected_cb,
        # Room for a burst at high speed before the client blocks on a slow server.
        pending_size=16 * 1024 * 1024,
    )
    return nc


async def connect_unless_stopped(url: str, name: str, stop: asyncio.Event,
                                 on_reconnected: Callable[[], None] | None = None) -> NatsClient | None:
    """Connect, waiting as long as NATS is down, unless ``stop`` is set first (then None).

    Without NATS there is no tape to serve, but a stop signal must still end the wait.
    """
    connecting = asyncio.create_task(connect_nats(url, name, on_reconnected))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not connecting.done():
        log.info("stopped before NATS at %s was reachable", url)
        await cancel_and_wait([connecting, stopping], DRAIN_TIMEOUT_S)
        return None
    stopping.cancel()
    nc = connecting.result()
    log.info("connected to NATS at %s", url)
    return nc


async def drain_nats(nc: NatsClient, timeout: float = DRAIN_TIMEOUT_S) -> None:
    """Flush what was published and close; bounded, since a dead server would stall a drain."""
    try:
        async with asyncio.timeout(timeout):
            await nc.drain()
    except Exception as exc:  # noqa: BLE001 - the connection is going away either way
        log.debug("draining NATS: %s", exc)
        if not nc.is_closed:
            try:
                await nc.close()
            except Exception:  # noqa: BLE001
                pass
