"""The process around the ingest loop: NATS connection, replica arguments and ``python -m`` entry point."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
from typing import Callable, Sequence

from nats.aio.client import Client as NatsClient

from synthmarket.ingest import IngestService, TapeFactory, partition
from synthmarket.metrics import start_metrics_server
from synthmarket.settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


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


def replica_from(args_replica: int | None, args_replicas: int | None, env_pair: tuple[int, int]) -> tuple[int, int]:
    """Command-line ``--replica/--replicas`` over the environment's pair."""
    replica = env_pair[0] if args_replica is None else args_replica
    replicas = env_pair[1] if args_replicas is None else args_replicas
    if replicas < 1 or not 0 <= replica < replicas:
        raise ValueError(f"--replica must be in 0..{replicas - 1} with --replicas >= 1, got {replica} of {replicas}")
    return replica, replicas


def _stop_on_signal() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_service(service: str, tape_factory: TapeFactory, settings: Settings,
                      replica: int, replicas: int) -> None:
    """The body of ``python -m <service>``: connect, run until SIGTERM/SIGINT, stop in reverse."""
    stop = _stop_on_signal()
    url = settings.nats_url or DEFAULT_NATS_URL
    holder: list[IngestService] = []
    # nats-py retries the first connect forever with max_reconnect_attempts=-1; a stop signal
    # still ends the wait.
    connecting = asyncio.create_task(
        connect_nats(url, f"{service}.{replica}", lambda: holder and holder[0].nats_reconnected())
    )
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not connecting.done():
        log.info("stopped before NATS at %s was reachable", url)
        connecting.cancel()
        await asyncio.gather(connecting, return_exceptions=True)
        return
    stopping.cancel()
    nc = connecting.result()
    log.info("connected to NATS at %s", url)
    svc = IngestService(service, settings, nc, tape_factory, replica=replica, replicas=replicas)
    holder.append(svc)
    await svc.start()
    metrics_server = None
    if settings.metrics_port:
        metrics_server = start_metrics_server(svc.registry, settings.metrics_port, settings.metrics_host)
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        await svc.stop()
        if metrics_server is not None:
            metrics_server.stop()
        try:
            await nc.drain()
        except Exception as exc:  # noqa: BLE001 - the connection is going away either way
            log.debug("draining NATS: %s", exc)


def add_replica_arguments(parser: argparse.ArgumentParser, env_prefix: str) -> None:
    parser.add_argument("--replica", type=int, default=None,
                        help=f"this replica's index, 0-based (default {env_prefix}_REPLICA or 0)")
    parser.add_argument("--replicas", type=int, default=None,
                        help=f"how many replicas share the symbols (default {env_prefix}_REPLICAS or 1)")
    parser.add_argument("--speed", type=float, default=None, help="session clock speed (default SYNTH_SPEED)")


def main(service: str, tape_factory: TapeFactory, env_prefix: str, argv: Sequence[str] | None = None) -> int:
    """``python -m options_svc`` / ``python -m equities_svc``."""
    parser = argparse.ArgumentParser(prog=f"python -m {service}")
    add_replica_arguments(parser, env_prefix)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    pair = {"OPTIONS": (settings.options_replica, settings.options_replicas),
            "EQUITIES": (settings.equities_replica, settings.equities_replicas)}[env_prefix]
    try:
        replica, replicas = replica_from(args.replica, args.replicas, pair)
    except ValueError as exc:
        parser.error(str(exc))
    if not partition(settings.symbols, replica, replicas):
        parser.error(f"replica {replica} of {replicas} owns none of the {len(settings.symbols)} symbols")
    if args.speed is not None:
        if args.speed <= 0:
            parser.error("--speed must be positive")
        settings = dataclasses.replace(settings, speed=args.speed)
    asyncio.run(run_service(service, tape_factory, settings, replica, replicas))
    return 0
