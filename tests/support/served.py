"""The gateway and the web terminal as their real ``python -m`` processes (gunicorn), for black-box tests."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from synthmarket.infra.child_processes import terminate
from synthmarket.infra.embedded_nats import free_port
from tests.support.waiting import wait_until


@dataclass
class Served:
    proc: subprocess.Popen
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pid(self) -> int:
        """The gunicorn worker (the one child of the master), where requests are served."""
        children: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            children += [int(p) for p in (task / "children").read_text().split()]
        assert len(children) == 1, children
        return children[0]

    def worker_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.worker_pid()}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")


def _answers(url: str, proc: subprocess.Popen) -> bool:
    if proc.poll() is not None:
        raise AssertionError(f"{url}: the server exited while starting")
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@contextmanager
def serve(module: str, ready_path: str, env: dict[str, str], args: tuple[str, ...] = ()) -> Iterator[Served]:
    """``python -m module`` on a free loopback port (GATEWAY_PORT and WEBUI_PORT both set to it)."""
    port = free_port()
    full_env = {**os.environ, "GATEWAY_HOST": "127.0.0.1", "WEBUI_HOST": "127.0.0.1", "LOG_LEVEL": "WARNING",
                "GATEWAY_PORT": str(port), "WEBUI_PORT": str(port), **env}
    proc = subprocess.Popen([sys.executable, "-m", module, *args], env=full_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    served = Served(proc, port)
    try:
        wait_until(lambda: _answers(served.base + ready_path, proc), 30, f"{module} to serve {ready_path}", 0.1)
        yield served
    finally:
        terminate(proc, module, 10)


def open_websocket(port: int, path: str, *, source: str = "127.0.0.1", offer_deflate: bool = False,
                   timeout: float = 10.0) -> tuple[socket.socket, bytes]:
    """A raw websocket handshake on 127.0.0.1:port from ``source``: the socket and the answer's head.

    The head is empty when the server refused or dropped the connection; the caller judges it.
    """
    sock = socket.socket()
    sock.bind((source, 0))
    sock.settimeout(timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if offer_deflate else ""
    head = b""
    try:
        sock.connect(("127.0.0.1", port))
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"{offer}\r\n").encode())
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
    except OSError:
        pass
    return sock, head
