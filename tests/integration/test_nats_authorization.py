"""NATS never runs open: anonymous clients are refused, and each identity may write only its own subjects."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time

import nats
import nats.errors
import pytest
from nats.aio.client import Client

from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.infra import nats_auth
from synthmarket.infra.child_processes import terminate
from synthmarket.infra.control_store import ensure_control_bucket, ensure_status_bucket, write_control
from synthmarket.infra.embedded_nats import EmbeddedNats, find_nats_server, free_port
from synthmarket.infra.streams import ensure_smart_money_stream
from synthmarket.names import CONTROL_BUCKET, CONTROL_KEY, SMART_MONEY_SUBJECT, STATUS_BUCKET
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

# A refused publish is reported asynchronously by the server; this long is plenty on loopback.
VIOLATION_WAIT_S = 3.0


@pytest.fixture(scope="module")
def server():
    with EmbeddedNats() as running:
        yield running


class Client_:
    """A connection as one identity that keeps the server's permission errors."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.nc: Client | None = None

    async def connect(self, server: EmbeddedNats, identity: str) -> Client:
        async def on_error(exc: Exception) -> None:
            self.errors.append(str(exc))

        self.nc = await nats.connect(server.url, user=identity, password=server.passwords[identity],
                                     error_cb=on_error, allow_reconnect=False, connect_timeout=3)
        return self.nc

    async def refused(self, what: str) -> bool:
        await eventually(lambda: any("permissions violation" in e.lower() for e in self.errors),
                         VIOLATION_WAIT_S, f"a permissions violation for {what}")
        return True


async def _setup(server: EmbeddedNats) -> None:
    nc = await nats.connect(server.url_as(nats_auth.OPERATOR))
    js = nc.jetstream(timeout=5)
    await ensure_control_bucket(js)
    await ensure_status_bucket(js)
    await ensure_smart_money_stream(js)
    await nc.close()


async def test_an_anonymous_or_unknown_client_is_refused(server):
    with pytest.raises(Exception, match="Authorization Violation"):
        await nats.connect(server.url, allow_reconnect=False, max_reconnect_attempts=1, connect_timeout=3)
    with pytest.raises(Exception, match="Authorization Violation"):
        await nats.connect(server.url, user="options_svc", password="guessed", allow_reconnect=False,
                           max_reconnect_attempts=1, connect_timeout=3)


@pytest.mark.parametrize("identity", ["options_svc", "equities_svc", "regime_svc", "flow_svc", "webui"])
async def test_only_the_gateway_writes_the_control(server, identity):
    await _setup(server)
    client = Client_()
    nc = await client.connect(server, identity)
    try:
        kv = await nc.jetstream(timeout=1).key_value(CONTROL_BUCKET)
        with pytest.raises(nats.errors.TimeoutError):  # the server drops it: no ack comes
            await kv.put(CONTROL_KEY, b"{}")
        assert await client.refused("a control write")
        with pytest.raises(nats.errors.TimeoutError):
            await kv.delete(CONTROL_KEY)
    finally:
        await nc.close()


async def test_the_gateway_writes_the_control_with_compare_and_set(server):
    await _setup(server)
    client = Client_()
    nc = await client.connect(server, "admin_gateway")
    try:
        kv = await nc.jetstream(timeout=3).key_value(CONTROL_BUCKET)
        entry_revision = 0
        try:
            entry_revision = (await kv.get(CONTROL_KEY)).revision or 0
        except Exception:  # noqa: BLE001 - no entry yet
            entry_revision = 0
        revision = await write_control(kv, DEFAULT_CONTROL.with_update(updated_by="test"), entry_revision)
        assert revision > entry_revision and client.errors == []
    finally:
        await nc.close()


@pytest.mark.parametrize("identity", ["options_svc", "equities_svc", "regime_svc", "admin_gateway", "webui"])
async def test_only_flow_publishes_smart_money_events(server, identity):
    await _setup(server)
    client = Client_()
    nc = await client.connect(server, identity)
    try:
        await nc.publish(SMART_MONEY_SUBJECT, b"forged")
        await nc.flush()
        assert await client.refused("a forged smart-money event")
    finally:
        await nc.close()


async def test_flow_publishes_smart_money_events(server):
    await _setup(server)
    client = Client_()
    nc = await client.connect(server, "flow_svc")
    try:
        ack = await nc.jetstream(timeout=3).publish(SMART_MONEY_SUBJECT, b"an event")
        assert ack.seq > 0 and client.errors == []
    finally:
        await nc.close()


async def test_an_ingest_service_writes_only_its_own_tape_and_status_key(server):
    await _setup(server)
    client = Client_()
    nc = await client.connect(server, "options_svc")
    try:
        kv = await nc.jetstream(timeout=3).key_value(STATUS_BUCKET)
        await kv.put("options_svc.0", b"report")          # its own key
        await nc.publish("md.options.prints.SPY", b"print")   # its own tape
        await nc.flush()
        await asyncio.sleep(0.2)
        assert client.errors == []
        await nc.publish("md.equities.trades.SPY", b"not mine")
        await nc.flush()
        assert await client.refused("another service's tape")
        client.errors.clear()
        with pytest.raises(nats.errors.TimeoutError):
            await kv.put("equities_svc.0", b"not mine")
        assert await client.refused("another service's status key")
    finally:
        await nc.close()


def test_the_server_config_lists_every_identity_and_no_anonymous_user():
    config = nats_auth.server_config(nats_auth.generate_passwords(), "127.0.0.1", 4222, "/tmp/js")
    assert "no_auth_user" not in config
    for identity in nats_auth.IDENTITIES:
        assert f'"user": "{identity}"' in config


@pytest.fixture
def deployment_server(tmp_path):
    """The compose server's config run by the real binary, with the passwords in its environment."""
    passwords = nats_auth.generate_passwords()
    env = {nats_auth.password_variable(i): passwords[i] for i in nats_auth.IDENTITIES}
    # A free port may be taken by another process before the server binds it: then the server
    # exits, and the next attempt takes other ports. Ready means it accepts connections.
    log = tmp_path / "nats-server.log"
    for attempt in range(3):
        config = tmp_path / f"nats-{attempt}.conf"
        config.write_text(nats_auth.deployment_config(str(tmp_path / f"js-{attempt}"), monitor_port=free_port()))
        port = free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen([find_nats_server(), "-c", str(config), "-a", "127.0.0.1", "-p", str(port)],
                                    env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < deadline and not _listening(port):
            time.sleep(0.05)
        if proc.poll() is None and _listening(port):
            break
        terminate(proc, "nats-server", 5)
    else:
        raise AssertionError(f"nats-server did not start with the deployment config:\n{log.read_text()[-2000:]}")
    try:
        yield f"nats://127.0.0.1:{port}", passwords
    finally:
        terminate(proc, "nats-server", 5)


async def test_the_deployment_config_takes_its_passwords_from_the_environment(deployment_server):
    url, passwords = deployment_server
    nc = await eventually(lambda: _try_connect(url, "options_svc", passwords["options_svc"]), 20, "the server")
    await nc.close()
    with pytest.raises(Exception, match="Authorization Violation"):
        await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=1, connect_timeout=3)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


async def _try_connect(url: str, user: str, password: str) -> Client | None:
    try:
        return await nats.connect(url, user=user, password=password, allow_reconnect=False,
                                  max_reconnect_attempts=1, connect_timeout=1)
    except (OSError, nats.errors.NoServersError):
        return None
