"""`synthmarket up` end to end: every service starts, `status` shows the regime, prints and events flow, SIGINT stops all."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
from pathlib import Path

import nats
import pytest

from synthmarket.embedded_nats import free_port
from synthmarket.presets import REGIME_IDS
from synthmarket.status import stream_state
from tests.integration.test_cli_up import Running, _pid_gone, _port_closed, _synthmarket_exe

pytestmark = pytest.mark.integration

SERVICES = ("regime_svc", "options_svc", "equities_svc", "flow_svc", "admin_gateway", "webui")


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, grandchildren: gunicorn workers, nats-server)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


async def _prints_and_events(url: str) -> tuple[int, int]:
    nc = await nats.connect(url, connect_timeout=5)
    seen = {"options": 0, "equities": 0}

    async def count(msg) -> None:  # noqa: ANN001
        seen["options" if msg.subject.startswith("md.options.") else "equities"] += 1

    await nc.subscribe("md.>", cb=count)
    try:
        for _ in range(150):
            state = await stream_state(url)
            if seen["options"] and seen["equities"] and state and state[0] > 0:
                return seen["options"], state[0]
            await asyncio.sleep(0.1)
        raise AssertionError(f"no prints or no smart-money events within 15s: {seen}, stream {state}")
    finally:
        await nc.close()


@pytest.fixture
def stack_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NATS_URL"}
    env.update(
        NATS_PORT=str(free_port()), REGIME_GRPC_ADDR=f"127.0.0.1:{free_port()}", GATEWAY_PORT=str(free_port()),
        WEBUI_PORT=str(free_port()), SYNTH_DATA_DIR="", LOG_LEVEL="INFO", PYTHONUNBUFFERED="1",
        # A small universe at a raised speed: events within seconds, light on two cores.
        SYNTH_SYMBOLS="SPY,QQQ,AAPL,TSLA,NVDA",
    )
    return env


def test_up_runs_every_service_and_sigint_stops_them_all(stack_env):
    up = Running("--speed", "120", "--interval", "1", env=stack_env)
    children: set[int] = set()
    try:
        for name in SERVICES:
            up.wait_for(rf"synthmarket\.stack: {name} is up", timeout=40)
        terminal = up.wait_for(r"open the web terminal at (http://\S+)")
        assert terminal.group(1) == f"http://127.0.0.1:{stack_env['WEBUI_PORT']}"
        up.wait_for(r"^ready; Ctrl-C stops everything \(session clock speed 120x\)")
        children = _descendants(up.proc.pid)
        # nats-server, six services, a gunicorn worker under each of the two web servers.
        assert len(children) >= 1 + len(SERVICES) + 2, children

        url = f"nats://127.0.0.1:{stack_env['NATS_PORT']}"
        option_prints, events = asyncio.run(_prints_and_events(url))
        assert option_prints > 0 and events > 0

        env = {**stack_env, "SYNTH_SPEED": "120"}
        done = subprocess.run([_synthmarket_exe(), "status", "--json"], env=env, capture_output=True, text=True,
                              timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr
        status = json.loads(done.stdout)
        regime = status["regime_svc"]
        assert regime["up"] and regime["regime"] and regime["session_phase"], regime
        assert {"options_svc.0", "equities_svc.0"} <= set(status["ingest"]), status["ingest"]
        for report in status["ingest"].values():
            assert report["regime"] and report["prints_published"] > 0, report
        assert status["flow_svc"]["events"] > 0 and status["admin_gateway"]["up"] and status["webui"]["up"]

        lines = subprocess.run([_synthmarket_exe(), "status"], env=env, capture_output=True, text=True, timeout=30)
        assert lines.returncode == 0
        assert re.search(rf"^regime_svc \S+: up \| .*\| regime ({'|'.join(REGIME_IDS)}) \|", lines.stdout, re.M), lines.stdout
        assert "options_svc.0: control rev 0" in lines.stdout, lines.stdout
    finally:
        code = up.stop(signal.SIGINT, timeout=30)
    assert code == 0, "\n".join(up.lines[-40:])
    assert up.lines[-1] == "stopped"
    # Stopped in reverse order of start, each one's last words printed before `up` says "stopped".
    stop_marks = {"webui": "Handling signal: term", "admin_gateway": "Handling signal: term"}
    first_stop = {
        name: next(i for i, line in enumerate(up.lines)
                   if line.startswith(f"[{name}]") and stop_marks.get(name, "shutting down") in line)
        for name in SERVICES
    }
    assert sorted(SERVICES, key=first_stop.get) == list(reversed(SERVICES)), first_stop
    alive = sorted(pid for pid in children if not _pid_gone(pid))
    assert not alive, f"still running after SIGINT: {alive}"
    for port in (stack_env["NATS_PORT"], stack_env["GATEWAY_PORT"], stack_env["WEBUI_PORT"]):
        assert _port_closed(int(port))
