"""Run the whole synthetic market locally: start what it needs in order and report the live session."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

import nats
from nats.aio.client import Client as NatsClient

from regime_svc.engine import OutsideSessionError, get_session_state
from regime_svc.model import SessionState
from synthmarket.calendar import EXCHANGE_TZ
from synthmarket.control import SyntheticControlState
from synthmarket.control_store import ensure_control_bucket, ensure_status_bucket, watch_control
from synthmarket.embedded_nats import EmbeddedNats, EmbeddedNatsError, die_with_parent
from synthmarket.process import settings_or_exit
from synthmarket.session_clock import SessionClock
from synthmarket.settings import Settings
from synthmarket.status import http_ok, regime_serving, status_written_probe, stream_probe

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 5.0
HEALTH_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 15.0
WEBUI_LABEL = "web terminal"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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


class StartCancelled(ChildFailed):
    """A stop signal arrived while children were starting."""


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
    With ``prefix_output`` its stdout and stderr are read line by line and printed as
    ``[name] line`` so interleaved logs stay readable.
    """

    name: str
    argv: Sequence[str]
    ready: Callable[[], bool]
    env: Callable[[], Mapping[str, str]] = dict
    served: Sequence[tuple[str, str]] = ()
    prefix_output: bool = False
    cancelled: Callable[[], bool] = lambda: False
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _pump: threading.Thread | None = field(default=None, init=False, repr=False)

    def start(self) -> None:
        piped = subprocess.PIPE if self.prefix_output else None
        self.process = subprocess.Popen(
            list(self.argv),
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env()},
            stdin=subprocess.DEVNULL,
            stdout=piped,
            stderr=subprocess.STDOUT if self.prefix_output else None,
            start_new_session=True,  # Ctrl-C reaches only `up`, which stops children in order
            # If `up` itself is killed outright, its children go too. SIGKILL, not SIGTERM: NATS
            # dies at the same moment, and a graceful stop may wait on it forever.
            preexec_fn=_die_with_up if sys.platform.startswith("linux") else None,
        )
        if self.prefix_output:
            self._pump = threading.Thread(
                target=_pump_lines, args=(self.process.stdout, f"[{self.name}] "), name=f"{self.name}-log", daemon=True
            )
            self._pump.start()

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.exit_code()
            if code is not None:
                raise ChildFailed(f"{self.name} exited with code {code} while starting")
            if self.ready():
                return
            if self.cancelled():
                raise StartCancelled(f"stopped while waiting for {self.name}")
            time.sleep(0.1)
        raise ChildFailed(f"{self.name} was not healthy within {timeout:.0f}s")

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s (pid %s) ignored SIGTERM; killing it", self.name, proc.pid)
                proc.kill()
                proc.wait(timeout=timeout)
        # Its last lines are printed before `up` says it stopped.
        if self._pump is not None:
            self._pump.join(timeout=2)
            self._pump = None

    def urls(self) -> Sequence[tuple[str, str]]:
        return self.served


def _die_with_up() -> None:
    die_with_parent(signal.SIGKILL)


def _pump_lines(stream: Any, prefix: str) -> None:
    for raw in iter(stream.readline, b""):
        sys.stdout.write(prefix + raw.decode("utf-8", "replace").rstrip("\n") + "\n")
        sys.stdout.flush()
    stream.close()


class Supervisor:
    """Starts children in order (each health-waited), stops them in reverse order."""

    def __init__(
        self,
        children: Sequence[Child],
        health_timeout: float = HEALTH_TIMEOUT_S,
        on_up: Callable[[Child], None] | None = None,
    ) -> None:
        self.children = list(children)
        self.health_timeout = health_timeout
        self.on_up = on_up
        self._started: list[Child] = []

    def start_all(self, upto: int | None = None, cancelled: Callable[[], bool] = lambda: False) -> None:
        """Start the children not started yet (only the first ``upto`` of them when given).

        ``cancelled`` is checked between children; a cancelled start unwinds like a failed one.
        """
        try:
            for child in self.children[len(self._started):upto]:
                if cancelled():
                    raise StartCancelled("stopped while starting")
                self._started.append(child)
                child.start()
                child.wait_healthy(self.health_timeout)
                log.info("%s is up", child.name)
                if self.on_up is not None:
                    self.on_up(child)
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


def _module_runs(module: str) -> bool:
    """True when ``python -m <module>`` has an entry point in this install."""
    try:
        return importlib.util.find_spec(f"{module}.__main__") is not None
    except ImportError:
        return False


def build_children(
    settings: Settings, speed: float | None = None, cancelled: Callable[[], bool] = lambda: False
) -> list[Child]:
    """Everything ``up`` runs, in start order: NATS, regime, ingest, flow, gateway, web terminal."""
    children: list[Child] = []
    nats_child: NatsChild | None = None
    if settings.nats_url is None:
        store = str(Path(settings.data_dir) / "nats") if settings.data_dir else None
        nats_child = NatsChild("127.0.0.1", settings.nats_port, store)
        children.append(nats_child)

    def nats_url() -> str:
        return settings.nats_url or (nats_child.url if nats_child is not None else "")

    def env() -> dict[str, str]:
        # Resolved at each child's start: the embedded server may have moved to a free port.
        out = {"NATS_URL": nats_url(), "REGIME_GRPC_ADDR": settings.regime_grpc_addr}
        if speed is not None:
            out["SYNTH_SPEED"] = repr(speed)
        return out

    metrics_children = 0

    def python_m(name: str, ready: Callable[[], bool], served: Sequence[tuple[str, str]] = (),
                 args: Sequence[str] = (), label: str | None = None, metrics: bool = False) -> ProcessChild:
        nonlocal metrics_children
        child_env = env
        if metrics and settings.metrics_port > 0:
            # One METRICS_PORT shared by every child would collide: each gets the next port.
            port = settings.metrics_port + metrics_children
            metrics_children += 1
            child_env = lambda: {**env(), "METRICS_PORT": str(port)}  # noqa: E731
            served = (*served, (f"{label or name} metrics", f"http://{settings.metrics_host}:{port}/metrics"))
        return ProcessChild(label or name, [sys.executable, "-m", name, *args], ready, child_env, served, True, cancelled)

    def ingest(service: str, replicas: int) -> list[ProcessChild]:
        # Every replica of the configured count, so the whole symbol list is published.
        if replicas == 1:
            return [python_m(service, status_written_probe(nats_url, f"{service}.0"),
                             args=["--replica", "0", "--replicas", "1"], metrics=True)]
        return [
            python_m(service, status_written_probe(nats_url, f"{service}.{i}"),
                     args=["--replica", str(i), "--replicas", str(replicas)], label=f"{service}.{i}", metrics=True)
            for i in range(replicas)
        ]

    children.append(python_m(
        "regime_svc", lambda: regime_serving(settings.regime_grpc_addr),
        [("regime gRPC (health, reflection)", settings.regime_grpc_addr)], metrics=True,
    ))
    children.extend(ingest("options_svc", settings.options_replicas))
    children.extend(ingest("equities_svc", settings.equities_replicas))
    children.append(python_m("flow_svc", stream_probe(nats_url), metrics=True))
    gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"
    children.append(python_m(
        "admin_gateway", lambda: http_ok(f"{gateway}/openapi.json"),
        [("gateway HTTP", gateway), ("smart-money flow", f"{gateway}/flow/smart-money")],
    ))
    if _module_runs("webui"):
        webui = f"http://{settings.webui_host}:{settings.webui_port}"
        children.append(python_m("webui", lambda: http_ok(f"{webui}/healthz"), [(WEBUI_LABEL, webui)]))
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


@contextmanager
def _signals_while_blocking(
    loop: asyncio.AbstractEventLoop, stop: asyncio.Event, interrupted: threading.Event
) -> Iterator[None]:
    """While the loop is blocked (children start synchronously), SIGINT/SIGTERM set ``interrupted``.

    The loop's own handlers only run between loop iterations; a plain handler runs between
    bytecodes, so a health wait notices a Ctrl-C within its poll period.
    """
    # Replace the handler in one step: removing the loop's handler first would leave a window
    # with Python's default SIGINT handler (a KeyboardInterrupt traceback instead of a stop).
    # The loop keeps its registration and also sets ``stop`` once it runs again.
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda *_: interrupted.set())
    try:
        yield
    finally:
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stop.set)
        if interrupted.is_set():
            stop.set()


def _print_up(child: Child) -> None:
    for label, url in child.urls():
        print(f"{label}: {url}", flush=True)


async def _serve(settings: Settings, interval: float, clock: SessionClock, speed: float | None = None) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)

    interrupted = threading.Event()
    supervisor = Supervisor(build_children(settings, speed, interrupted.is_set), on_up=_print_up)
    n_nats = sum(isinstance(c, NatsChild) for c in supervisor.children)
    if settings.nats_url:
        print(f"NATS (external, NATS_URL): {settings.nats_url}", flush=True)
    nc = None
    watcher: asyncio.Task[None] | None = None
    try:
        try:
            # In this thread on purpose: children die with the thread that forked them (see
            # embedded_nats), and a pool thread may exit long before `up` does.
            with _signals_while_blocking(loop, stop, interrupted):
                supervisor.start_all(upto=n_nats, cancelled=interrupted.is_set)
        except StartCancelled:
            return 0
        except ChildFailed as exc:
            print(f"synthmarket up: {exc}", file=sys.stderr, flush=True)
            return 1
        nats_url = settings.nats_url or next(c.url for c in supervisor.children if isinstance(c, NatsChild))
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
        # The services, once NATS answers: each is health-waited before the next starts.
        try:
            with _signals_while_blocking(loop, stop, interrupted):
                supervisor.start_all(cancelled=interrupted.is_set)
        except StartCancelled:
            return 0
        except ChildFailed as exc:
            print(f"synthmarket up: {exc}", file=sys.stderr, flush=True)
            return 1
        if stop.is_set():
            return 0
        # The watch's first item is the stored control (defaults if absent, logged once).
        updates = watch_control(kv)
        current: list[tuple[SyntheticControlState, int | None]] = [await asyncio.wait_for(anext(updates), 10)]

        async def follow() -> None:
            async for item in updates:
                if item != current[0]:
                    print(f"control changed: {item[0].preset_id.value} (rev {item[1]})", flush=True)
                current[0] = item

        watcher = asyncio.create_task(follow())
        terminal = next((url for label, url in supervisor.urls() if label == WEBUI_LABEL), None)
        if terminal:
            print(f"open the web terminal at {terminal}", flush=True)
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
    settings = settings_or_exit("synthmarket up")
    if args.interval <= 0 or (args.speed is not None and args.speed <= 0):
        print("synthmarket up: --interval and --speed must be positive", file=sys.stderr)
        return 2
    clock = SessionClock(speed=args.speed if args.speed is not None else settings.speed)
    return asyncio.run(_serve(settings, args.interval, clock, args.speed))
