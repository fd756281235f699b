"""Run the whole synthetic market locally: start what it needs in order and report the live session."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.session import SessionState
from synthmarket.domain.session_clock import SessionClock
from synthmarket.engine import OutsideSessionError, get_session_state
from synthmarket.infra import nats_auth, nats_connection
from synthmarket.infra.control_store import ensure_control_bucket, watch_control
from synthmarket.infra.jetstream_setup import ensure_jetstream
from synthmarket.infra.process import settings_or_exit
from synthmarket.settings import Settings
from synthmarket_cli.up.children import (
    WEBUI_LABEL,
    ChildFailed,
    NatsChild,
    NatsClusterChild,
    StartCancelled,
    build_children,
    nats_passwords,
    up_credentials,
)
from synthmarket_cli.up.report import (
    REPRINT_AFTER_S,
    LinePrinted,
    format_session,
    print_up,
    session_line_due,
    session_news,
)
from synthmarket_cli.up.supervisor import Supervisor

log = logging.getLogger(__name__)

# How often `up` looks at its children and the session; the line itself is printed less often.
DEFAULT_INTERVAL_S = 1.0
CONNECT_TIMEOUT_S = 15.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
CLUSTER_SIZES = (1, 3, 5)


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



async def _serve(settings: Settings, interval: float, clock: SessionClock, speed: float | None = None,
                 cluster: int = 1) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)

    interrupted = threading.Event()
    try:
        passwords = nats_passwords(settings)
    except nats_auth.AuthFileError as exc:
        print(f"synthmarket up: {exc}", file=sys.stderr, flush=True)
        return 2
    credentials = up_credentials(settings, passwords)
    supervisor = Supervisor(build_children(settings, passwords, speed, interrupted.is_set, cluster), on_up=print_up)
    nats_children = [c for c in supervisor.children if isinstance(c, NatsChild | NatsClusterChild)]
    n_nats = len(nats_children)
    if settings.nats_url_given:
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
        nats_url = nats_children[0].url if nats_children else settings.nats_url
        if stop.is_set():
            return 0

        try:
            if not await nats_connection.wait_reachable(nats_url, stop, CONNECT_TIMEOUT_S, credentials):
                return 0
            nc = await nats_connection.connect(nats_url, "synthmarket up", credentials=credentials)
            js = nc.jetstream(timeout=5)
            # Before any service: a service that found them missing would create single copies.
            await ensure_jetstream(js, settings.nats_replicas, settings.smart_money_retention_hours)
            kv = await ensure_control_bucket(js)
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

        last: LinePrinted | None = None
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
            news, now = session_news(state, revision), time.monotonic()
            if session_line_due(last, news, now):
                print(format_session(ts, state, control, revision), flush=True)
                last = LinePrinted(news, now)
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
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
        help=f"how often to check the services and the live session (default {DEFAULT_INTERVAL_S:g}); the "
             f"session line is printed when the phase, the regime or the control revision changes, and otherwise "
             f"once every {REPRINT_AFTER_S:g} s",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=None,
        help="session clock speed, overrides SYNTH_SPEED (default 1: real time inside market hours)",
    )
    parser.add_argument(
        "--cluster",
        type=int,
        default=1,
        choices=CLUSTER_SIZES,
        metavar="NODES",
        help="run the embedded NATS as a JetStream cluster of NODES nodes (3 or 5) with the control and status "
             "buckets and the smart-money stream replicated on NODES nodes (NATS_REPLICAS), so any one node "
             "may die; client ports from NATS_PORT upwards (default 1: one server)",
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_or_exit("synthmarket up")
    if args.interval <= 0 or (args.speed is not None and args.speed <= 0):
        print("synthmarket up: --interval and --speed must be positive", file=sys.stderr)
        return 2
    if args.cluster > 1:
        if settings.nats_url_given:
            print("synthmarket up: --cluster starts its own NATS cluster; unset NATS_URL", file=sys.stderr)
            return 2
        settings = dataclasses.replace(settings, nats_replicas=args.cluster)
    clock = SessionClock(speed=args.speed if args.speed is not None else settings.speed)
    return asyncio.run(_serve(settings, args.interval, clock, args.speed, args.cluster))
