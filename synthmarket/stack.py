"""Run the whole synthetic market locally: start what it needs in order and report the live session."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

import nats
from nats.aio.client import Client as NatsClient

from regime_svc.engine import OutsideSessionError, get_session_state
from regime_svc.model import SessionState
from synthmarket.calendar import EXCHANGE_TZ
from synthmarket.control import SyntheticControlState
from synthmarket.control_store import ensure_control_bucket, ensure_status_bucket, watch_control
from synthmarket.embedded_nats import EmbeddedNats, EmbeddedNatsError
from synthmarket.session_clock import SessionClock
from synthmarket.settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 5.0
HEALTH_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 15.0


# -- process supervisor ---------------------------------------------------------------------


class Child(Protocol):
    """One thing ``up`` runs: started in order, health-waited, stopped in reverse."""

    name: str

    def start(self) -> None: ...
    def wait_healthy(self, timeout: float) -> None: ...
    def exit_code(self) -> int | None: ...
    def stop(self, timeout: float) -> None: ...
    def urls(self) -> Sequence[tuple[str, str]]: ...


class ChildFailed(RuntimeError):
    """A child did not start, did not become healthy in time, or exited on its own."""


class NatsChild:
    """The embedded ``nats-server -js``."""

    def __init__(self, host: str, port: int, store_dir: str | None) -> None:
        self.name = "nats"
        self.server = EmbeddedNats(host=host, port=port, store_dir=store_dir)

    def start(self) -> None:
        try:
            self.server.start()
        except EmbeddedNatsError as exc:
            raise ChildFailed(f"nats: {exc}") from exc
        if self.server.port_changed:
            print(
                f"NATS port {self.server.requested_port} is taken; the embedded server uses "
                f"free port {self.server.port} instead",
                flush=True,
            )

    def wait_healthy(self, timeout: float) -> None:
        pass  # start() returns only once the server answers the NATS protocol

    def exit_code(self) -> int | None:
        proc = self.server.process
        return None if proc is None else proc.poll()

    def stop(self, timeout: float) -> None:
        self.server.stop(timeout)

    def urls(self) -> Sequence[tuple[str, str]]:
        store = self.server.store_dir
        return [
            (f"NATS (embedded nats-server -js, pid {self.server.pid})", self.server.url),
            ("JetStream store", str(store)),
        ]

    @property
    def url(self) -> str:
        return self.server.url


def tcp_ready(host: str, port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            return False

    return check


@dataclass
class ProcessChild:
    """A service run as its own process (``python -m <module>``), healthy once ``ready()`` holds.

    ``env`` is called at start time so a child sees what earlier children resolved (NATS_URL).
    """

    name: str
    argv: Sequence[str]
    ready: Callable[[], bool]
    env: Callable[[], Mapping[str, str]] = dict
    served: Sequence[tuple[str, str]] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        self.process = subprocess.Popen(
            list(self.argv),
            env={**os.environ, **self.env()},
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches only `up`, which stops children in order
        )

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.exit_code()
            if code is not None:
                raise ChildFailed(f"{self.name} exited with code {code} while starting")
            if self.ready():
                return
            time.sleep(0.1)
        raise ChildFailed(f"{self.name} was not healthy within {timeout:.0f}s")

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s (pid %s) ignored SIGTERM; killing it", self.name, proc.pid)
            proc.kill()
            proc.wait(timeout=timeout)

    def urls(self) -> Sequence[tuple[str, str]]:
        return self.served


class Supervisor:
    """Starts children in order (each health-waited), stops them in reverse order."""

    def __init__(self, children: Sequence[Child], health_timeout: float = HEALTH_TIMEOUT_S) -> None:
        self.children = list(children)
        self.health_timeout = health_timeout
        self._started: list[Child] = []

    def start_all(self) -> None:
        try:
            for child in self.children:
                self._started.append(child)
                child.start()
                child.wait_healthy(self.health_timeout)
                log.info("%s is up", child.name)
        except BaseException:
            self.stop_all()
            raise

    def exited(self) -> list[tuple[str, int]]:
        """Children that stopped on their own, with their exit codes."""
        found = []
        for child in self._started:
            code = child.exit_code()
            if code is not None:
                found.append((child.name, code))
        return found

    def stop_all(self, timeout: float = 5.0) -> None:
        while self._started:
            child = self._started.pop()
            try:
                child.stop(timeout)
            except Exception:  # noqa: BLE001 - keep stopping the rest
                log.exception("could not stop %s cleanly", child.name)

    def urls(self) -> list[tuple[str, str]]:
        return [u for child in self._started for u in child.urls()]


# -- the live session report ------------------------------------------------------------------


def _value(x: Any) -> str:
    return str(getattr(x, "value", x))


def format_session(ts: int, state: SessionState | None, control: SyntheticControlState, revision: int | None) -> str:
    when = dt.datetime.fromtimestamp(ts / 1000, EXCHANGE_TZ).strftime("%Y-%m-%d %H:%M:%S %Z")
    rev = "defaults" if revision is None else f"rev {revision}"
    head = f"session {when} (ts {ts})"
    tail = f"control {control.preset_id.value} ({rev}) seed {control.shared_seed}"
    if state is None:
        return f"{head} | outside the regular session | {tail}"
    return " | ".join(
        [
            head,
            f"phase {_value(state.session_phase)}",
            f"regime {_value(state.regime)}",
            f"focus {','.join(state.focus_symbols) or '-'}",
            f"events {','.join(state.event_symbols) or '-'}",
            f"volatility {state.volatility_level:.2f}",
            f"liquidity {state.liquidity_level:.2f}",
            tail,
        ]
    )


def build_children(settings: Settings) -> list[Child]:
    """Everything ``up`` runs, in start order. Services join this list as they land."""
    children: list[Child] = []
    if settings.nats_url is None:
        store = str(Path(settings.data_dir) / "nats") if settings.data_dir else None
        children.append(NatsChild("127.0.0.1", settings.nats_port, store))
    return children


async def _connect(url: str, stop: asyncio.Event) -> NatsClient | None:
    """Connect, retrying while the server is down, until connected, stopped (None) or timed out.

    Each probe is a single attempt that ends on its own: cancelling nats-py's built-in
    connect-retry loop is not reliable (it can swallow the cancellation and retry forever).
    """
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        try:
            # max_reconnect_attempts=1 makes nats-py give up after one retry; 0 would mean forever.
            probe = await nats.connect(
                url,
                connect_timeout=2,
                allow_reconnect=False,
                max_reconnect_attempts=1,
                reconnect_time_wait=0.1,
                error_cb=_quiet,
            )
        except Exception as exc:  # noqa: BLE001 - any failure means "not reachable yet"
            log.warning("NATS at %s not reachable yet: %s", url, exc or type(exc).__name__)
        else:
            await probe.close()
            break
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no NATS server answered within {CONNECT_TIMEOUT_S:.0f}s")
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
            return None
        except asyncio.TimeoutError:
            pass
    if stop.is_set():
        return None

    async def on_error(exc: Exception) -> None:
        log.warning("NATS %s: %s", url, exc or type(exc).__name__)

    # Reachable: this connection keeps reconnecting for as long as `up` runs.
    return await nats.connect(
        url, connect_timeout=5, reconnect_time_wait=1, max_reconnect_attempts=-1, error_cb=on_error
    )


async def _quiet(exc: Exception) -> None:
    pass  # probe failures are reported once per attempt by _connect


async def _serve(settings: Settings, interval: float, clock: SessionClock) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    supervisor = Supervisor(build_children(settings))
    nc = None
    watcher: asyncio.Task[None] | None = None
    try:
        try:
            # In this thread on purpose: children die with the thread that forked them (see
            # embedded_nats), and a pool thread may exit long before `up` does. Signals that
            # arrive meanwhile are handled once the loop runs again.
            supervisor.start_all()
        except ChildFailed as exc:
            print(f"synthmarket up: {exc}", file=sys.stderr, flush=True)
            return 1
        nats_url = settings.nats_url or next(c.url for c in supervisor.children if isinstance(c, NatsChild))
        if settings.nats_url:
            print(f"NATS (external, NATS_URL): {nats_url}", flush=True)
        for label, url in supervisor.urls():
            print(f"{label}: {url}", flush=True)
        if stop.is_set():
            return 0

        try:
            nc = await _connect(nats_url, stop)
            if nc is None:
                return 0
            js = nc.jetstream(timeout=5)
            kv = await ensure_control_bucket(js)
            await ensure_status_bucket(js)
        except Exception as exc:  # noqa: BLE001 - any failure here means NATS is not usable
            print(f"synthmarket up: cannot use NATS at {nats_url}: {exc}", file=sys.stderr, flush=True)
            return 1
        # The watch's first item is the stored control (defaults if absent, logged once).
        updates = watch_control(kv)
        current: list[tuple[SyntheticControlState, int | None]] = [await asyncio.wait_for(anext(updates), 10)]

        async def follow() -> None:
            async for item in updates:
                if item != current[0]:
                    print(f"control changed: {item[0].preset_id.value} (rev {item[1]})", flush=True)
                current[0] = item

        watcher = asyncio.create_task(follow())
        print(f"ready; Ctrl-C stops everything (session clock speed {clock.speed:g}x)", flush=True)

        while not stop.is_set():
            dead = supervisor.exited()
            if dead:
                names = ", ".join(f"{n} (exit {c})" for n, c in dead)
                print(f"synthmarket up: stopped unexpectedly: {names}", file=sys.stderr, flush=True)
                return 1
            control, revision = current[0]
            ts = clock.ts(int(time.time() * 1000))
            try:
                state: SessionState | None = get_session_state(ts, control, symbols=settings.symbols)
            except OutsideSessionError as exc:  # the clock keeps ts inside a session; be safe anyway
                log.warning("no session state at %s: %s", ts, exc)
                state = None
            print(format_session(ts, state, control, revision), flush=True)
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass
        return 0
    finally:
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        if nc is not None and not nc.is_closed:
            await nc.close()
        supervisor.stop_all(settings.shutdown_grace_s)
        print("stopped", flush=True)


# -- the `up` command ---------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_INTERVAL_S,
        metavar="SECONDS",
        help=f"how often to print the live session state (default {DEFAULT_INTERVAL_S:g})",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=None,
        help="session clock speed, overrides SYNTH_SPEED (default 1: real time inside market hours)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"synthmarket up: {exc}", file=sys.stderr)
        return 2
    if args.interval <= 0 or (args.speed is not None and args.speed <= 0):
        print("synthmarket up: --interval and --speed must be positive", file=sys.stderr)
        return 2
    clock = SessionClock(speed=args.speed if args.speed is not None else settings.speed)
    return asyncio.run(_serve(settings, args.interval, clock))
