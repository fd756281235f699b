"""The one way every process connects to NATS: the reconnect policy, probes and teardown.

Long-lived connections reconnect forever (every ``RECONNECT_WAIT_S``) and log one warning per
outage; short probes try once and give up. Nothing else calls ``nats.connect``. A URL may name
several servers separated by commas (a cluster): every connection gets the whole list, so it can
start while any one of them is up and moves to a survivor when its server dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from nats.aio.client import Client as NatsClient

from synthmarket.infra.tasks import cancel_and_wait
from synthmarket.settings import Settings, nats_servers

log = logging.getLogger(__name__)

# The connect keywords of one NATS identity (user, password); none when the URL carries them.
Credentials = Mapping[str, Any]

CONNECT_TIMEOUT_S = 2.0
RECONNECT_WAIT_S = 0.5
DRAIN_TIMEOUT_S = 5.0
# Room for a burst at high speed before a publisher blocks on a slow server.
PENDING_BYTES = 16 * 1024 * 1024


def identity(settings: Settings) -> dict[str, Any]:
    """The connect keywords for this process's NATS identity (none: credentials may be in the URL)."""
    if settings.nats_user is None:
        return {}
    return {"user": settings.nats_user, "password": settings.nats_password or ""}


def servers(url: str) -> list[str]:
    """The server list of a NATS_URL value (one URL, or several separated by commas)."""
    return list(nats_servers(url)) or [url]


async def connect(url: str, name: str, *,
                  on_disconnected: Callable[[], None] | None = None,
                  on_reconnected: Callable[[], None] | None = None,
                  credentials: Credentials | None = None) -> NatsClient:
    """A connection that waits for the server and then reconnects forever, one warning per outage."""
    nc = NatsClient()
    down = [False]

    async def error_cb(exc: Exception) -> None:
        if not down[0] and not nc.is_closed:
            down[0] = True
            log.warning("%s: NATS at %s unavailable (%s: %s); retrying", name, url, type(exc).__name__, exc)

    async def disconnected_cb() -> None:
        if not nc.is_closed and not nc.is_draining:
            if not down[0]:
                down[0] = True
                log.warning("%s: disconnected from NATS at %s; reconnecting", name, url)
            if on_disconnected is not None:
                on_disconnected()

    async def reconnected_cb() -> None:
        down[0] = False
        log.info("%s: reconnected to NATS at %s", name, url)
        if on_reconnected is not None:
            on_reconnected()

    # nats-py annotates the timeouts as int but takes seconds as any number.
    policy: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S, "reconnect_time_wait": RECONNECT_WAIT_S}
    await nc.connect(
        servers(url),
        name=name,
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        error_cb=error_cb,
        disconnected_cb=disconnected_cb,
        reconnected_cb=reconnected_cb,
        pending_size=PENDING_BYTES,
        **policy,
        **(credentials or {}),
    )
    down[0] = False   # a first connect that had to wait is not an outage the next one should hide
    return nc


async def connect_unless_stopped(url: str, name: str, stop: asyncio.Event,
                                 on_reconnected: Callable[[], None] | None = None,
                                 credentials: Credentials | None = None) -> NatsClient | None:
    """Connect, waiting as long as NATS is down, unless ``stop`` is set first (then None).

    Without NATS there is no tape to serve, but a stop signal must still end the wait.
    """
    connecting = asyncio.create_task(connect(url, name, on_reconnected=on_reconnected, credentials=credentials))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not connecting.done():
        log.info("stopped before NATS at %s was reachable", url)
        await cancel_and_wait([connecting, stopping], DRAIN_TIMEOUT_S)
        return None
    stopping.cancel()
    nc = connecting.result()
    log.info("%s: connected to NATS at %s", name, url)
    return nc


async def _silent(exc: Exception) -> None:
    pass  # a probe reports its own failure once


async def connect_once(url: str, timeout: float = 1.0, credentials: Credentials | None = None) -> NatsClient:
    """One attempt that never retries: for probes and one-shot reads. Raises when unreachable."""
    # nats-py's first connect loops over max_reconnect_attempts, where 0 would mean forever: 1 gives
    # up after one quick retry.
    nc = NatsClient()
    policy: dict[str, Any] = {"connect_timeout": timeout, "reconnect_time_wait": 0.1}
    await nc.connect(servers(url), allow_reconnect=False, max_reconnect_attempts=1, error_cb=_silent, **policy,
                     **(credentials or {}))
    return nc


async def wait_reachable(url: str, stop: asyncio.Event, timeout: float,
                         credentials: Credentials | None = None) -> bool:
    """Probe once a second until NATS answers (True), ``stop`` is set (False) or ``timeout`` passes.

    Each probe ends on its own: cancelling nats-py's built-in connect-retry loop is not reliable
    (it can swallow the cancellation and retry forever).
    """
    deadline = time.monotonic() + timeout
    while not stop.is_set():
        try:
            probe = await connect_once(url, timeout=CONNECT_TIMEOUT_S, credentials=credentials)
        except Exception as exc:  # noqa: BLE001 - any failure means "not reachable yet"
            log.warning("NATS at %s not reachable yet: %s", url, exc or type(exc).__name__)
        else:
            await probe.close()
            return True
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no NATS server answered within {timeout:.0f}s")
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except TimeoutError:
            pass
    return False


async def drain(nc: NatsClient, timeout: float = DRAIN_TIMEOUT_S) -> None:
    """Flush what was published and close; bounded, since a dead server would stall a drain."""
    try:
        async with asyncio.timeout(timeout):
            await nc.drain()
    except Exception as exc:  # noqa: BLE001 - the connection is going away either way
        log.debug("draining NATS: %s", exc)
        if not nc.is_closed:
            with contextlib.suppress(Exception):
                await nc.close()
