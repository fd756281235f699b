"""A gunicorn gthread worker that no client can starve: connections per address capped, reads timed out.

Stock gthread hands a connection to a pool thread as soon as its first bytes arrive and then waits
for the rest of the request with no time limit, so a few hundred half-sent requests hold every
thread. Here each socket read or write gives up after ``READ_TIMEOUT_S`` (freeing the thread), and
one client address may hold at most ``MAX_CONNECTIONS_PER_CLIENT`` connections at once: further
ones are closed as they are accepted, so one address can never occupy more than that many threads
or stream slots. Websockets clear the timeout when they take over their socket (they idle by design).
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
from collections import Counter
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import TConn, ThreadWorker

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 10.0
MAX_CONNECTIONS_PER_CLIENT = 32


class TimedSocket(socket.socket):
    """A socket whose blocking mode always carries the read timeout (gthread resets it per request)."""

    read_timeout: float = READ_TIMEOUT_S

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(self.read_timeout)
        else:
            super().setblocking(False)

    def recv(self, size: int, flags: int = 0) -> bytes:
        try:
            return super().recv(size, flags)
        except TimeoutError:
            # A client that stalls is treated like one that vanished: gunicorn drops it quietly
            # (a debug line), where a bare timeout would log a traceback per stalled client.
            raise ConnectionResetError(errno.ECONNRESET, "no data within the read timeout") from None


class ClientConnections:
    """Open connections per client address; thread-safe, since connections close on pool threads."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def admit(self, address: str) -> bool:
        with self._lock:
            if self._open[address] >= self.limit:
                return False
            self._open[address] += 1
            return True

    def release(self, address: str) -> None:
        with self._lock:
            self._open[address] -= 1
            if self._open[address] <= 0:
                del self._open[address]


class BoundedConn(TConn):
    """A connection that gives its address's place back exactly once, however it is closed."""

    def __init__(self, cfg: Any, sock: socket.socket, client: Any, server: Any, places: ClientConnections) -> None:
        super().__init__(cfg, sock, client, server)
        self._places = places
        self._released = False

    def close(self, graceful: bool = False) -> None:
        try:
            if graceful:
                _close_without_lingering(self.sock)
            else:
                super().close(False)
        finally:
            if not self._released:
                self._released = True
                self._places.release(self.client[0])


class BoundedThreadWorker(ThreadWorker):
    """gthread with per-address connection caps and timed reads (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.places = ClientConnections(MAX_CONNECTIONS_PER_CLIENT)

    def accept(self, listener: socket.socket) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        address = client_addr[0] if isinstance(client_addr, tuple) else str(client_addr)
        if not self.places.admit(address):
            log.debug("refusing a connection from %s: %d already open", address, self.places.limit)
            client_sock.close()
            return
        timed = TimedSocket(client_sock.family, client_sock.type, client_sock.proto, fileno=client_sock.detach())
        timed.setblocking(True)
        self.nr_conns += 1
        self.enqueue_req(BoundedConn(self.cfg, timed, (address, *client_addr[1:2]), listener.getsockname(),
                                     self.places))


def _close_without_lingering(sock: socket.socket) -> None:
    """Half-close, drain what already arrived, close: gunicorn's graceful close without its wait.

    gunicorn lingers up to 2 s on its main loop for the client to close first, so every client that
    keeps its socket open after a response would stall accepting for everyone else. Draining what
    is already buffered still spares the client a reset in the usual case.
    """
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.setblocking(False)   # a timed socket would wait out its timeout in recv
        for _ in range(16):
            if not sock.recv(65536):
                break
    except OSError:
        pass
    finally:
        util.close(sock)
