"""The process around the ingest loop: NATS connection, replica arguments and ``python -m`` entry point."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
from collections.abc import Sequence

from synthmarket.infra.ingest import IngestService, TapeFactory, partition
from synthmarket.infra.metrics import serve_metrics_if_configured
from synthmarket.infra.nats_connection import connect_unless_stopped, drain, identity
from synthmarket.infra.process import stop_on_signal
from synthmarket.names import status_key
from synthmarket.settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)


def replica_from(args_replica: int | None, args_replicas: int | None, env_pair: tuple[int, int]) -> tuple[int, int]:
    """Command-line ``--replica/--replicas`` over the environment's pair."""
    replica = env_pair[0] if args_replica is None else args_replica
    replicas = env_pair[1] if args_replicas is None else args_replicas
    if replicas < 1 or not 0 <= replica < replicas:
        raise ValueError(f"--replica must be in 0..{replicas - 1} with --replicas >= 1, got {replica} of {replicas}")
    return replica, replicas


async def run_service(service: str, tape_factory: TapeFactory, settings: Settings,
                      replica: int, replicas: int) -> None:
    """The body of ``python -m <service>``: connect, run until SIGTERM/SIGINT, stop in reverse."""
    stop = stop_on_signal()
    url = settings.nats_url
    holder: list[IngestService] = []

    def reconnected() -> None:
        if holder:
            holder[0].nats_reconnected()

    nc = await connect_unless_stopped(url, status_key(service, replica), stop, reconnected,
                                      credentials=identity(settings))
    if nc is None:
        return
    svc = IngestService(service, settings, nc, tape_factory, replica=replica, replicas=replicas)
    holder.append(svc)
    await svc.start()
    metrics_server = serve_metrics_if_configured(svc.registry, settings.metrics_port, settings.metrics_host)
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        await svc.stop()
        if metrics_server is not None:
            metrics_server.stop()
        await drain(nc)


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
