"""Shared fixtures: one real JetStream-enabled NATS server per test session, clients and KV buckets."""

from __future__ import annotations

import itertools
import logging
import os
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from synthmarket.infra import nats_auth
from synthmarket.infra.embedded_cluster import EmbeddedCluster
from synthmarket.infra.embedded_nats import EmbeddedNats

log = logging.getLogger(__name__)

DOCKER_PING_SECONDS = 2.0


def _docker_answers(timeout: float = DOCKER_PING_SECONDS) -> bool:
    """True only when a Docker engine replies to a ping within ``timeout`` seconds.

    The ping runs in a daemon thread so a hung socket cannot hold up the test session.
    """
    result: list[bool] = []

    def ping() -> None:
        try:
            import docker

            client = docker.from_env(timeout=int(max(1, timeout)))
            try:
                result.append(bool(client.ping()))
            finally:
                client.close()
        except Exception:  # noqa: BLE001 - any failure means "no usable engine"
            result.append(False)

    thread = threading.Thread(target=ping, name="docker-ping", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def _nats_container(config_dir: Path):
    """The NATS image run with the same authorization config as the embedded server."""
    from testcontainers.core.container import DockerContainer

    return (DockerContainer("nats:2.10-alpine")
            .with_exposed_ports(4222)
            .with_volume_mapping(str(config_dir), "/etc/synthmarket", "ro")
            .with_command("-c /etc/synthmarket/nats-server.conf"))


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A JetStream NATS server with the product's authorization, as a URL carrying the operator identity.

    ``NATS_URL`` when set (give it credentials), else a container where a Docker engine answers,
    else an embedded ``nats-server``. Anonymous connections are refused by all but the first.
    """
    env_url = os.environ.get("NATS_URL")
    if env_url:
        yield env_url
        return

    if _docker_answers():
        passwords = nats_auth.generate_passwords()
        config_dir = tmp_path_factory.mktemp("nats-conf")
        config = nats_auth.server_config(passwords, "0.0.0.0", 4222, "/data/jetstream")
        nats_auth.write_private(config_dir / "nats-server.conf", config).chmod(0o644)
        container = _nats_container(config_dir)
        try:
            container.start()
            host, port = container.get_container_host_ip(), container.get_exposed_port(4222)
        except Exception as exc:  # noqa: BLE001 - fall back to the embedded server
            log.warning("NATS container did not start (%s); using embedded nats-server", exc)
        else:
            try:
                yield f"nats://{nats_auth.OPERATOR}:{passwords[nats_auth.OPERATOR]}@{host}:{port}"
            finally:
                container.stop()
            return

    server = EmbeddedNats(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server.url_as(nats_auth.OPERATOR)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def nats_cluster() -> Iterator[EmbeddedCluster]:
    """A three-node JetStream cluster on loopback with the product's authorization, one per test module.

    Modules kill and restart its nodes (``kill``/``restart``), so it is not shared wider than that.
    Connect to ``url`` (every node) with ``user``/``password`` options from ``passwords``: a client
    that reconnects to a node it learnt of from the cluster does not reuse credentials in a URL.
    """
    with EmbeddedCluster(size=3) as cluster:
        yield cluster


@pytest.fixture
async def nats_client(nats_url: str) -> AsyncIterator[Client]:
    nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        yield nc
    finally:
        await nc.close()


@pytest.fixture
async def js(nats_client: Client) -> JetStreamContext:
    return nats_client.jetstream(timeout=5)


_bucket_counter = itertools.count(1)


@pytest.fixture
def unique_bucket_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Build KV bucket names no other test (or earlier run against a shared server) uses."""
    test_part = re.sub(r"[^A-Za-z0-9_-]", "_", request.node.name)[:40]

    def make(prefix: str = "t") -> str:
        return f"{prefix}_{test_part}_{os.getpid()}_{next(_bucket_counter)}"

    return make


@pytest.fixture
async def make_kv(
    js: JetStreamContext, unique_bucket_name: Callable[[str], str]
) -> AsyncIterator[Callable[..., Awaitable[KeyValue]]]:
    """Factory creating a fresh KV bucket per call; every bucket is deleted after the test."""
    created: list[str] = []

    async def make(prefix: str = "kv", history: int = 64) -> KeyValue:
        name = unique_bucket_name(prefix)
        kv = await js.create_key_value(bucket=name, history=history)
        created.append(name)
        return kv

    yield make
    for name in created:
        try:
            await js.delete_key_value(name)
        except Exception as exc:  # noqa: BLE001 - cleanup must not mask the test result
            log.warning("could not delete KV bucket %s: %s", name, exc)
