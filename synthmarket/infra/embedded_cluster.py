"""A JetStream cluster of local ``nats-server`` processes on loopback: start, kill one, restart it, stop.

Every node has the single server's authorization (the same identities and passwords), its own
name, client port, route port, monitoring port and store directory; the routes between nodes
need the cluster's own route password. A killed node comes back on the same ports with the same
store, as a crashed server restarted by its supervisor would.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from synthmarket.infra import nats_auth
from synthmarket.infra.embedded_nats import DEFAULT_HOST, EmbeddedNats, EmbeddedNatsError, free_port, port_is_free

log = logging.getLogger(__name__)

DEFAULT_SIZE = 3


def _distinct_free_ports(host: str, count: int, taken: set[int]) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port(host)
        if port not in taken:
            taken.add(port)
            ports.append(port)
    return ports


class EmbeddedCluster:
    """``size`` clustered ``nats-server -js`` nodes; use as a context manager or call start()/stop().

    ``ports`` asks for client ports (a taken one is replaced by a free one, and ``ports_changed``
    says so); by default every port is a free one.
    """

    def __init__(
        self,
        size: int = DEFAULT_SIZE,
        host: str = DEFAULT_HOST,
        store_dir: str | os.PathLike[str] | None = None,
        passwords: Mapping[str, str] | None = None,
        ports: Sequence[int] = (),
        startup_timeout: float = 30.0,
    ) -> None:
        if size < 1:
            raise ValueError(f"a cluster needs at least one node, not {size}")
        self.size = size
        self.host = host
        self.startup_timeout = startup_timeout
        self.passwords: dict[str, str] = dict(passwords) if passwords else nats_auth.generate_passwords()
        self.route_password = "k" + secrets.token_hex(24)
        self.requested_ports = tuple(ports)
        self.ports_changed = False
        self._requested_store = Path(store_dir) if store_dir is not None else None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._client_ports: list[int] = []
        self.nodes: list[EmbeddedNats] = []

    # -- public surface -------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return [f"{nats_auth.CLUSTER_NAME}-{i + 1}" for i in range(self.size)]

    @property
    def url(self) -> str:
        """Every node's URL, comma-separated: the NATS_URL services of this cluster use."""
        return ",".join(self._node_url(i) for i in range(self.size))

    def url_as(self, identity: str = nats_auth.OPERATOR) -> str:
        """Every node's URL with one identity's credentials in each."""
        return ",".join(self.node_url_as(i, identity) for i in range(self.size))

    def node_url_as(self, index: int, identity: str = nats_auth.OPERATOR) -> str:
        return f"nats://{identity}:{self.passwords[identity]}@{self.host}:{self._client_ports[index]}"

    @property
    def monitor_urls(self) -> list[str]:
        """Each node's HTTP monitoring base URL (``/jsz`` shows the meta and stream leaders)."""
        return [f"http://{self.host}:{node.cluster.monitor_port}" for node in self.nodes
                if node.cluster is not None]

    @property
    def store_dir(self) -> Path:
        if self._requested_store is not None:
            return self._requested_store
        if self._tmp is None:
            raise EmbeddedNatsError("embedded NATS cluster is not started")
        return Path(self._tmp.name)

    @property
    def pids(self) -> list[int | None]:
        return [node.pid for node in self.nodes]

    def alive(self, index: int) -> bool:
        proc = self.nodes[index].process
        return proc is not None and proc.poll() is None

    def index_of(self, server_name: str) -> int:
        return self.names.index(server_name)

    def start(self) -> EmbeddedCluster:
        if self.nodes:
            return self
        if self._requested_store is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="synthmarket-nats-cluster-")
        taken: set[int] = set()
        self._client_ports = [self._client_port(i, taken) for i in range(self.size)]
        route_ports = _distinct_free_ports(self.host, self.size, taken)
        monitor_ports = _distinct_free_ports(self.host, self.size, taken)
        routes = [f"{self.host}:{port}" for port in route_ports]
        for i, name in enumerate(self.names):
            node = nats_auth.ClusterNode(name, route_ports[i], routes, self.route_password, monitor_ports[i])
            self.nodes.append(EmbeddedNats(self.host, self._client_ports[i], self.store_dir / name,
                                           self.startup_timeout, passwords=self.passwords, cluster=node))
        try:
            for node_server in self.nodes:
                node_server.start()
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        log.info("embedded NATS cluster of %d nodes listening on %s", self.size, self.url)
        return self

    def wait_healthy(self, indexes: Sequence[int] | None = None, timeout: float | None = None) -> None:
        """Until every given running node (all by default) reports JetStream healthy: it knows the meta
        leader and its stream and consumer replicas are current."""
        wanted = [i for i in (range(self.size) if indexes is None else indexes) if self.alive(i)]
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        pending = set(wanted)
        while pending:
            pending = {i for i in pending if not self._healthy(i)}
            if not pending:
                return
            if time.monotonic() > deadline:
                names = ", ".join(self.names[i] for i in sorted(pending))
                raise EmbeddedNatsError(f"NATS cluster nodes not healthy within the timeout: {names}")
            time.sleep(0.1)

    def kill(self, index: int) -> None:
        """SIGKILL one node; its store stays for ``restart``."""
        self.nodes[index].kill()

    def restart(self, index: int, wait: bool = True) -> None:
        """Start a killed node again on its ports with its store; with ``wait``, until it is healthy
        and its stream and KV replicas hold what the other nodes' held when it came back."""
        self.nodes[index].start()
        if wait:
            self.wait_healthy([index])
            self.wait_caught_up(index)

    def wait_caught_up(self, index: int, timeout: float | None = None) -> None:
        """Until every stream replica the node holds reaches the last sequence the other running nodes'
        replicas had at the call. /healthz alone says ok while a restarted node still applies what it
        missed: a consumer placed on it then replays its store as it was when it died."""
        others = [i for i in range(self.size) if i != index and self.alive(i)]
        wanted: dict[str, int] = {}
        for other in others:
            for stream, seq in self.replica_last_seqs(other).items():
                wanted[stream] = max(wanted.get(stream, 0), seq)
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        while True:
            mine = self.replica_last_seqs(index)
            # Only the replicas it holds: a stream of fewer copies may live on the others alone.
            behind = {s: (mine[s], seq) for s, seq in wanted.items() if s in mine and mine[s] < seq}
            if not behind:
                return
            if time.monotonic() > deadline:
                raise EmbeddedNatsError(f"NATS cluster node {self.names[index]} did not catch up: {behind}")
            time.sleep(0.1)

    def replica_last_seqs(self, index: int) -> dict[str, int]:
        """The last sequence of every stream replica a node holds in its own store (not the leader's)."""
        try:
            jsz = self.monitor(index, "/jsz?accounts=true&streams=true")
        except (OSError, ValueError):
            return {}
        return {stream["name"]: int(stream["state"]["last_seq"])
                for account in jsz.get("account_details") or []
                for stream in account.get("stream_detail") or []}

    def monitor(self, index: int, path: str) -> dict[str, Any]:
        """One monitoring endpoint of a node (``/jsz``, ``/routez``...) as JSON."""
        cluster = self.nodes[index].cluster
        assert cluster is not None and cluster.monitor_port is not None
        url = f"http://{self.host}:{cluster.monitor_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                data: dict[str, Any] = json.loads(response.read())
        except urllib.error.HTTPError as exc:   # /healthz answers 503 with a JSON body
            data = json.loads(exc.read() or b"{}")
        return data

    def stop(self, timeout: float = 5.0) -> None:
        for node in reversed(self.nodes):
            node.stop(timeout)
        self.nodes = []
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> EmbeddedCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- internals ------------------------------------------------------------------------

    def _node_url(self, index: int) -> str:
        return f"nats://{self.host}:{self._client_ports[index]}"

    def _client_port(self, index: int, taken: set[int]) -> int:
        wanted = self.requested_ports[index] if index < len(self.requested_ports) else 0
        if wanted and wanted not in taken and port_is_free(self.host, wanted):
            taken.add(wanted)
            return wanted
        if wanted:
            self.ports_changed = True
            log.warning("port %s on %s is taken; NATS cluster node %d uses a free port instead",
                        wanted, self.host, index + 1)
        return _distinct_free_ports(self.host, 1, taken)[0]

    def _healthy(self, index: int) -> bool:
        if not self.alive(index):
            raise EmbeddedNatsError(f"NATS cluster node {self.names[index]} exited:\n{self.nodes[index].log_tail()}")
        try:
            return self.monitor(index, "/healthz").get("status") == "ok"
        except (OSError, ValueError):
            return False
