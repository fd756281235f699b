"""Child processes that end with their owner: started to die with it, stopped politely then firmly."""

from __future__ import annotations

import logging
import signal
import subprocess

log = logging.getLogger(__name__)


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """``preexec_fn`` for children: they get ``sig`` once the thread that started them exits.

    Linux only. Covers an owner killed without cleaning up (SIGKILL, crash), so no orphan
    outlives it; start children from a thread that lives as long as the owner (the main one).
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(sig))  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort on non-glibc systems
        pass


def terminate(proc: subprocess.Popen, name: str, timeout: float) -> None:
    """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL (a no-op for a process that has exited)."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log.warning("%s (pid %s) ignored SIGTERM; killing it", name, proc.pid)
        proc.kill()
        proc.wait(timeout=timeout)
