"""Events on time: session time from a smart-money event's last print to its arrival on NATS, live.

Run from the repository root: .venv/bin/python -m bench.bench_event_lag [--seconds 120] [--speed 1]
Starts the whole stack with `synthmarket up` (embedded NATS, free ports, a temporary store), waits
for it to be ready (the flow service has replayed the session so far by then), subscribes to the
smart-money subject as the operator and, for every event that arrives afterwards, takes
``session clock now - event.ts`` (an event carries the ts of its last print). Reports the count,
p50, p99 and max, and the time from `up` printing ready to the first answer of
GET /flow/smart-money with events.

Target on the 2-core reference machine: p99 <= 1 s of session time at speed 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nats
import numpy as np

from synthmarket import names, wire
from synthmarket.domain.session_clock import SessionClock
from synthmarket.infra import nats_auth
from synthmarket.infra.embedded_nats import free_port
from synthmarket.v1 import smart_money_pb2

TARGET_P99_S = 1.0


def _start(tmp: Path, speed: float) -> tuple[subprocess.Popen, dict[str, str], int, int]:
    passwords = nats_auth.generate_passwords()
    auth = nats_auth.write_private(tmp / "nats-passwords", nats_auth.format_passwords(passwords))
    nats_port, gateway_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    env = {**os.environ, "NATS_PORT": str(nats_port), "GATEWAY_PORT": str(gateway_port),
           "WEBUI_PORT": str(free_port("127.0.0.1")), "REGIME_GRPC_ADDR": f"127.0.0.1:{free_port('127.0.0.1')}",
           "SYNTH_DATA_DIR": str(tmp / "data"), "NATS_AUTH_FILE": str(auth), "SYNTH_SPEED": repr(speed)}
    env.pop("NATS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "synthmarket_cli", "up"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    return proc, passwords, nats_port, gateway_port


def _wait_ready(proc: subprocess.Popen, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("ready"):
            return time.monotonic()
        if time.monotonic() > deadline:
            break
    raise SystemExit("synthmarket up did not print ready")


def _first_flow_answer(gateway_port: int, since: float) -> float:
    while time.monotonic() - since < 30:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{gateway_port}/flow/smart-money?limit=50", timeout=2) as r:
                if json.loads(r.read())["events"]:
                    return time.monotonic() - since
        except OSError:
            pass
        time.sleep(0.05)
    return float("nan")


async def _measure(nats_port: int, password: str, seconds: float, speed: float) -> list[float]:
    clock = SessionClock(speed=speed)
    lags: list[float] = []
    nc = await nats.connect(f"nats://127.0.0.1:{nats_port}", user=nats_auth.OPERATOR, password=password)

    async def on_event(msg) -> None:
        event = wire.smart_money_event_from_proto(smart_money_pb2.SmartMoneyEvent.FromString(msg.data))
        lags.append((clock.ts(time.time_ns() // 1_000_000) - event.ts) / 1000.0)

    await nc.subscribe(names.SMART_MONEY_SUBJECT, cb=on_event)
    await asyncio.sleep(seconds)
    await nc.close()
    return lags


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--speed", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, passwords, nats_port, gateway_port = _start(Path(tmp), args.speed)
        try:
            ready = _wait_ready(proc, 120)
            first = _first_flow_answer(gateway_port, ready)
            lags = asyncio.run(_measure(nats_port, passwords[nats_auth.OPERATOR], args.seconds, args.speed))
        finally:
            proc.terminate()
            proc.wait(30)
    if not lags:
        print("no events arrived")
        return 1
    arr = np.array(lags)
    p50, p99 = np.percentile(arr, [50, 99])
    print(f"GET /flow/smart-money had events {first:.2f} s after `up` printed ready")
    print(f"{arr.size} live events in {args.seconds:g} s at speed {args.speed:g}: publication lag (session time) "
          f"p50 {p50:.3f} s, p99 {p99:.3f} s, max {arr.max():.3f} s (target p99 <= {TARGET_P99_S:g} s)")
    return 0 if p99 <= TARGET_P99_S * max(args.speed, 1.0) else 1


if __name__ == "__main__":
    sys.exit(main())
