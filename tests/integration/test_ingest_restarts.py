"""The ingest services ride out a regime_svc restart and a NATS server restart without restarting themselves."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
from pathlib import Path

import nats
import pytest

from equities_svc.service import start_equities_service
from options_svc.service import start_options_service
from regime_svc.server import serve
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.infra.control_store import ensure_control_bucket, load_control, write_control
from synthmarket.infra.embedded_nats import find_nats_server, free_port
from synthmarket.infra.nats_connection import connect
from synthmarket.settings import load_settings
from synthmarket.v1 import status_pb2
from tests.support.waiting import eventually, wait_until

pytestmark = pytest.mark.integration


class Counter:
    """Messages per service seen by a separate subscriber connection."""

    def __init__(self) -> None:
        self.options = 0
        self.equities = 0

    async def on_message(self, msg) -> None:
        if msg.subject.startswith("md.options."):
            self.options += 1
        else:
            self.equities += 1


async def _grows(counter: Counter, timeout: float, what: str) -> None:
    before = (counter.options, counter.equities)
    await eventually(lambda: counter.options > before[0] and counter.equities > before[1], timeout, what)


class NatsProcess:
    """``nats-server -js`` on a fixed port and store, restartable on the same port.

    Spawned without a pre-exec hook: forking a process that runs gRPC threads can abort it,
    and the old server's connections in TIME_WAIT would make a plain bind probe move the port.
    """

    def __init__(self, port: int, store: Path) -> None:
        self.port = port
        self.url = f"nats://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [find_nats_server(), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_until(self._greets, 15, f"nats-server to start on port {port}", interval=0.05)
        except AssertionError:
            self.stop()
            raise

    def _greets(self) -> bool:
        """The server accepts a connection and sends its INFO line."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                return sock.recv(4) == b"INFO"
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


async def test_publishing_resumes_after_regime_and_nats_restarts(tmp_path):
    port, grpc_port = free_port(), free_port()
    store = tmp_path / "jetstream"
    server = NatsProcess(port, store)
    url = server.url
    base = load_settings({"SYNTH_SYMBOLS": "SPY,QQQ,AAPL,TSLA", "REGIME_STREAM_INTERVAL_MS": "100"})
    # Fast enough that option prints (the sparser tape) keep coming every fraction of a second.
    addr = f"127.0.0.1:{grpc_port}"
    settings = dataclasses.replace(base, nats_url=url, speed=60, regime_grpc_addr=addr)
    services: list = []
    nc = await connect(url, "ingest-test", on_reconnected=lambda: [s.nats_reconnected() for s in services])
    watcher = await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.2, error_cb=_quiet)
    counter = Counter()
    await watcher.subscribe("md.>", cb=counter.on_message)
    regime = await serve(settings, addr=addr)
    try:
        services.append(await start_options_service(settings, nc, status_interval_s=0.2))
        services.append(await start_equities_service(settings, nc, status_interval_s=0.2))
        options, equities = services
        await eventually(lambda: options.regime_connected.is_set() and equities.regime_connected.is_set(), 10,
                   "regime stream up")
        await _grows(counter, 10, "publishing at first")

        # regime_svc goes away and comes back on the same address.
        await regime.stop(0)
        await eventually(lambda: not options.regime_connected.is_set() and not equities.regime_connected.is_set(), 5,
                   "the services notice the regime stream is gone")
        regime = await serve(settings, addr=addr)
        await eventually(lambda: options.regime_connected.is_set() and equities.regime_connected.is_set(), 10,
                   "regime stream back (reconnect with backoff)")
        await _grows(counter, 5, "publishing after the regime restart")

        # The NATS server goes away and comes back on the same port with the same store.
        server.stop()
        await eventually(lambda: not nc.is_connected, 5, "the services notice NATS is gone")
        server = NatsProcess(port, store)
        await eventually(lambda: nc.is_connected and watcher.is_connected, 15, "reconnected to NATS")
        await _grows(counter, 10, "publishing after the NATS restart")
        published = options.status.published, equities.status.published

        # The control watch is back too: a write after the restart is applied by both.
        check = await nats.connect(url, error_cb=_quiet)
        try:
            kv = await ensure_control_bucket(check.jetstream())
            current, revision = await load_control(kv)
            assert current == DEFAULT_CONTROL
            state = DEFAULT_CONTROL.with_update(preset_id=SyntheticControlPresetId.QUIET_RANGE, updated_by="test")
            new_rev = await write_control(kv, state, revision or 0)
            await eventually(lambda: options.status.applied_revision == equities.status.applied_revision == new_rev, 10,
                       f"revision {new_rev} applied after the NATS restart")
            # Status reports land in the (persisted) status bucket again.
            status = await check.jetstream().key_value("synthetic_status")
            await eventually(lambda: _report_revision(status, "options_svc.0", new_rev), 5, "status report after restart")
        finally:
            await check.close()
        await eventually(lambda: options.status.published > published[0] and equities.status.published > published[1],
                   10, "both keep publishing under the new control")
    finally:
        for svc in reversed(services):
            await svc.stop()
        await regime.stop(0)
        await watcher.close()
        await nc.close()
        server.stop()


async def _quiet(exc: Exception) -> None:
    pass  # the outage is the point of the test


async def _report_revision(kv, key: str, revision: int) -> bool:
    try:
        entry = await kv.get(key)
    except Exception:  # noqa: BLE001 - not written yet
        return False
    return status_pb2.StatusReport.FromString(entry.value).applied_control_revision == revision
