"""What ``synthmarket up`` runs: the embedded NATS server and one ``python -m <service>`` child each."""

from __future__ import annotations

import collections
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from synthmarket.infra import nats_auth, nats_connection
from synthmarket.infra.child_processes import die_with_parent, terminate
from synthmarket.infra.embedded_cluster import EmbeddedCluster
from synthmarket.infra.embedded_nats import EmbeddedNats, EmbeddedNatsError
from synthmarket.names import status_key
from synthmarket.settings import Settings
from synthmarket_cli.status import http_ok, regime_serving, status_written_probe

log = logging.getLogger(__name__)

WEBUI_LABEL = "web terminal"
LOG_TAIL = 20


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

    def __init__(self, host: str, port: int, store_dir: str | None,
                 passwords: Mapping[str, str] | None = None) -> None:
        self.name = "nats"
        self.server = EmbeddedNats(host=host, port=port, store_dir=store_dir, passwords=passwords)

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
            ("NATS identities (identity=password, mode 0600)", str(self.server.auth_file)),
        ]

    @property
    def url(self) -> str:
        return self.server.url


class NatsClusterChild:
    """An embedded JetStream cluster of ``size`` nodes on loopback (``up --cluster 3``)."""

    def __init__(self, size: int, host: str, port: int, store_dir: str | None,
                 passwords: Mapping[str, str] | None = None) -> None:
        self.name = "nats"
        # Client ports from NATS_PORT upwards, so a restarted `up` keeps its addresses.
        self.server = EmbeddedCluster(size, host, store_dir, passwords, ports=[port + i for i in range(size)])
        self._reported: set[int] = set()

    def start(self) -> None:
        try:
            self.server.start()
        except EmbeddedNatsError as exc:
            raise ChildFailed(f"nats: {exc}") from exc
        if self.server.ports_changed:
            print(f"NATS ports from {self.server.requested_ports[0]} are taken; the cluster uses "
                  f"{self.server.url} instead", flush=True)

    def wait_healthy(self, timeout: float) -> None:
        pass  # start() returns only once every node reports JetStream healthy

    def exit_code(self) -> int | None:
        """None while a majority of the nodes runs (the cluster serves on); a dead node is reported once."""
        codes = {i: node.process.poll() for i, node in enumerate(self.server.nodes) if node.process is not None}
        dead = {i: code for i, code in codes.items() if code is not None}
        for i in sorted(set(dead) - self._reported):
            self._reported.add(i)
            print(f"NATS node {self.server.names[i]} exited with code {dead[i]}; "
                  f"{self.server.size - len(dead)} of {self.server.size} nodes serve on", flush=True)
        if len(dead) > self.server.size // 2:
            return next(iter(dead.values()))
        return None

    def stop(self, timeout: float) -> None:
        self.server.stop(timeout)

    def urls(self) -> Sequence[tuple[str, str]]:
        pids = ", ".join(str(pid) for pid in self.server.pids)
        auth_file = self.server.nodes[0].auth_file if self.server.nodes else None
        return [
            (f"NATS (embedded {self.server.size}-node JetStream cluster, pids {pids})", self.server.url),
            ("NATS monitoring (/jsz, /routez, /healthz)", ",".join(self.server.monitor_urls)),
            ("JetStream stores", str(self.server.store_dir)),
            ("NATS identities (identity=password, mode 0600)", str(auth_file)),
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
    # Its last lines, to say in a ChildFailed what it was doing (with ``prefix_output``).
    recent: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=LOG_TAIL), init=False)
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
                target=_pump_lines, args=(self.process.stdout, f"[{self.name}] ", self.recent),
                name=f"{self.name}-log", daemon=True,
            )
            self._pump.start()

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        probes, slowest = 0, 0.0
        while time.monotonic() < deadline:
            code = self.exit_code()
            if code is not None:
                raise ChildFailed(f"{self.name} exited with code {code} while starting")
            asked = time.monotonic()
            if self.ready():
                return
            probes, slowest = probes + 1, max(slowest, time.monotonic() - asked)
            if self.cancelled():
                raise StartCancelled(f"stopped while waiting for {self.name}")
            time.sleep(0.1)
        tail = "\n".join(self.recent)
        # How the probes went tells a child that never got ready from probes that never got an answer.
        raise ChildFailed(f"{self.name} was not healthy within {timeout:.0f}s ({probes} readiness probes, "
                          f"the slowest took {slowest:.1f}s)" + (f"; its last lines:\n{tail}" if tail else ""))

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float) -> None:
        proc, self.process = self.process, None
        if proc is not None:
            terminate(proc, self.name, timeout)
        # Its last lines are printed before `up` says it stopped.
        if self._pump is not None:
            self._pump.join(timeout=2)
            self._pump = None

    def urls(self) -> Sequence[tuple[str, str]]:
        return self.served


def _die_with_up() -> None:
    die_with_parent(signal.SIGKILL)


def _pump_lines(stream: Any, prefix: str, recent: collections.deque[str]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        recent.append(line)
        sys.stdout.write(prefix + line + "\n")
        sys.stdout.flush()
    stream.close()



def _module_runs(module: str) -> bool:
    """True when ``python -m <module>`` has an entry point in this install."""
    try:
        return importlib.util.find_spec(f"{module}.__main__") is not None
    except ImportError:
        return False


def nats_passwords(settings: Settings) -> dict[str, str] | None:
    """Every identity's password, read or made once per ``up``: NATS_AUTH_FILE's, else fresh ones for
    the embedded server, else None (an external server without the file: the environment decides).

    Raises ``nats_auth.AuthFileError`` for a file that cannot be used.
    """
    if settings.nats_auth_file is not None:
        return nats_auth.read_passwords(Path(settings.nats_auth_file))
    return None if settings.nats_url_given else nats_auth.generate_passwords()


def build_children(
    settings: Settings, passwords: Mapping[str, str] | None, speed: float | None = None,
    cancelled: Callable[[], bool] = lambda: False, cluster: int = 1,
) -> list[Child]:
    """Everything ``up`` runs, in start order: NATS, regime, ingest, flow, gateway, web terminal.

    With ``cluster`` above 1 the embedded NATS is a JetStream cluster of that many nodes, and every
    child gets all of their URLs in NATS_URL. Each service child connects to NATS as its own
    identity (``passwords``, see ``nats_passwords``); with NATS_URL and no NATS_AUTH_FILE the
    children keep the NATS_USER/NATS_PASSWORD of ``up``'s environment.
    """
    children: list[Child] = []
    nats_child: NatsChild | NatsClusterChild | None = None
    if not settings.nats_url_given:
        store = str(Path(settings.data_dir) / "nats") if settings.data_dir else None
        if cluster > 1:
            nats_child = NatsClusterChild(cluster, "127.0.0.1", settings.nats_port, store, passwords)
        else:
            nats_child = NatsChild("127.0.0.1", settings.nats_port, store, passwords)
        children.append(nats_child)
    operator = up_credentials(settings, passwords)

    def nats_url() -> str:
        return nats_child.url if nats_child is not None else settings.nats_url

    def env(identity: str) -> dict[str, str]:
        # Resolved at each child's start: the embedded server may have moved to a free port.
        out = {"NATS_URL": nats_url(), "REGIME_GRPC_ADDR": settings.regime_grpc_addr,
               "NATS_REPLICAS": str(settings.nats_replicas)}
        if passwords is not None:
            out |= {"NATS_USER": identity, "NATS_PASSWORD": passwords.get(identity, "")}
        if speed is not None:
            out["SYNTH_SPEED"] = repr(speed)
        return out

    metrics_children = 0

    def python_m(name: str, ready: Callable[[], bool], served: Sequence[tuple[str, str]] = (),
                 args: Sequence[str] = (), label: str | None = None, metrics: bool = False,
                 identity: str | None = None) -> ProcessChild:
        nonlocal metrics_children
        extra: dict[str, str] = {}
        if metrics and settings.metrics_port > 0:
            # One METRICS_PORT shared by every child would collide: each gets the next port.
            port = settings.metrics_port + metrics_children
            metrics_children += 1
            extra["METRICS_PORT"] = str(port)
            served = (*served, (f"{label or name} metrics", f"http://{settings.metrics_host}:{port}/metrics"))
        return ProcessChild(label or name, [sys.executable, "-m", name, *args], ready,
                            lambda: {**env(identity or name), **extra}, served, True, cancelled)

    def ingest(service: str, replicas: int) -> list[ProcessChild]:
        # Every replica of the configured count, so the whole symbol list is published.
        if replicas == 1:
            return [python_m(service, status_written_probe(nats_url, status_key(service), operator),
                             args=["--replica", "0", "--replicas", "1"], metrics=True)]
        return [
            python_m(service, status_written_probe(nats_url, status_key(service, i), operator),
                     args=["--replica", str(i), "--replicas", str(replicas)], label=status_key(service, i), metrics=True)
            for i in range(replicas)
        ]

    children.append(python_m(
        "regime_svc", lambda: regime_serving(settings.regime_grpc_addr),
        [("regime gRPC (health, reflection)", settings.regime_grpc_addr)], metrics=True,
    ))
    children.extend(ingest("options_svc", settings.options_replicas))
    children.extend(ingest("equities_svc", settings.equities_replicas))
    # The flow service replays the session so far before it reports: ready means the feed is full.
    children.append(python_m("synthmarket_cli", status_written_probe(nats_url, status_key("flow_svc"), operator),
                             args=["flow"], label="flow_svc", identity="flow_svc", metrics=True))
    gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"
    children.append(python_m(
        "admin_gateway", lambda: http_ok(f"{gateway}/openapi.json"),
        [("gateway HTTP", gateway), ("smart-money flow", f"{gateway}/flow/smart-money")],
    ))
    if _module_runs("webui"):
        webui = f"http://{settings.webui_host}:{settings.webui_port}"
        children.append(python_m("webui", lambda: http_ok(f"{webui}/healthz"), [(WEBUI_LABEL, webui)]))
    return children


def up_credentials(settings: Settings, passwords: Mapping[str, str] | None) -> dict[str, Any]:
    """How ``up`` itself connects: as the operator when it knows the passwords, else as its environment says."""
    if passwords is not None and nats_auth.OPERATOR in passwords:
        return {"user": nats_auth.OPERATOR, "password": passwords[nats_auth.OPERATOR]}
    return nats_connection.identity(settings)
