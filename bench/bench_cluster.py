"""The whole live stack under `synthmarket up`, at several session speeds: throughput, lag, CPU,
control-write-to-applied latency and gateway latency.

Run from the repository root: .venv/bin/python -m bench.bench_cluster [--speeds 1,10,60] [--seconds 20]
                                                                       [--control-writes 20] [--cluster 3]
For each speed it starts `synthmarket up --speed S` (the process layout every deployment uses: an
embedded NATS with authorization, then regime_svc, options_svc, equities_svc, flow, gateway, webui)
on free ports, connects as the operator identity (the identities file `up` prints) and measures:

- messages per second through NATS: every option print, equity trade and quote, and smart-money
  event, as received by a subscriber of all of them;
- consumer lag over time: for each market-data message and each smart-money event, the session
  clock's now at receipt minus the record's ts, in wall ms, per second; it must not grow (the last
  third's mean may not exceed the first third's by more than one ingest step, 100 ms);
- CPU per service (cores busy over the measured window, from /proc);
- control write to applied, p50/p99 per service and across all: the bench writes the control entry
  (alternating presets, stamped now) and times the line each service logs when it applies a
  revision ("... applies control P (revision N)", regime_svc: "control now P at revision N"),
  goal p99 <= 20 ms;
- gateway GET /flow/smart-money?limit=50 p50/p99 at 200 requests/s (open loop, goal p99 <= 50 ms),
  alone and with 500 websocket clients connected to /ws/smart-money.

``--cluster N`` runs `synthmarket up --cluster N` (an embedded JetStream cluster of N nodes); the
bench connects to the URL `up` prints either way, so nothing else changes.
The reference machine has 2 shared cores: figures move with whatever else runs; the load average is
printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import http.client
import math
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import nats
import simple_websocket
import simple_websocket.ws

from bench.bench_gateway import bench_flow, pct
from synthmarket import names, wire
from synthmarket.domain.calendar import trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.session_clock import SessionClock
from synthmarket.infra import nats_auth
from synthmarket.infra.bounded_worker import MAX_CONNECTIONS_PER_CLIENT
from synthmarket.infra.control_store import write_control
from synthmarket.infra.embedded_nats import free_port
from synthmarket.infra.wallclock import wall_ms
from synthmarket.v1 import market_pb2, smart_money_pb2

CONTROL_GOAL_P99_MS = 20.0
FLOW_GOAL_P99_MS = 50.0
STEP_MS = 100
APPLIED = re.compile(r"^\[(?P<svc>[\w.]+)\].*?(?:applies control \w+ \(revision (?P<a>\d+)\)"
                     r"|control now \w+ at revision (?P<b>\d+))")
URL_LINE = re.compile(r"^NATS \(.*\): (?P<url>nats://\S+)")
IDENTITIES_LINE = re.compile(r"^NATS identities \(.*\): (?P<path>\S+)")
GATEWAY_LINE = re.compile(r"^gateway HTTP: http://127\.0\.0\.1:(?P<port>\d+)")
SERVICES = ("nats-server", "regime_svc", "options_svc", "equities_svc", "flow", "admin_gateway", "webui")


@dataclass
class Stack:
    """`synthmarket up` as a child, its output read line by line with the arrival time of each."""

    proc: subprocess.Popen
    lines: list[tuple[float, str]] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    applied: dict[int, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))

    def pump(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            now = time.monotonic()
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append((now, line))
            m = APPLIED.match(line)
            if m:
                self.applied[int(m["a"] or m["b"])].setdefault(m["svc"], now)
            if line.startswith("ready;"):
                self.ready.set()

    def find(self, pattern: re.Pattern[str]) -> re.Match[str]:
        for _t, line in self.lines:
            m = pattern.match(line)
            if m:
                return m
        raise SystemExit(f"bench: `synthmarket up` printed no line like {pattern.pattern}")


def start_stack(speed: float, cluster: int) -> Stack:
    env = {**os.environ, "NATS_PORT": str(free_port()), "GATEWAY_PORT": str(free_port()),
           "WEBUI_PORT": str(free_port()), "REGIME_GRPC_ADDR": f"127.0.0.1:{free_port()}",
           "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}
    for name in ("NATS_URL", "NATS_USER", "NATS_PASSWORD", "SYNTH_SPEED"):
        env.pop(name, None)
    args = [sys.executable, "-m", "synthmarket_cli", "up", "--speed", repr(speed)]
    if cluster > 1:
        args += ["--cluster", str(cluster)]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    stack = Stack(proc)
    threading.Thread(target=stack.pump, daemon=True).start()
    deadline = time.monotonic() + 240
    while not stack.ready.wait(0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_stack(stack)
            tail = "\n".join(line for _t, line in stack.lines[-12:])
            raise SystemExit(f"bench: `synthmarket up` did not become ready:\n{tail}")
    return stack


def wait_for_an_open(speed: float, limit_s: float) -> None:
    """Sleep until the session clock passes the next open when that is at most ``limit_s`` away: the flow
    service's replay of the session so far (part of `up`'s start) is then short."""
    reading = SessionClock(speed=speed).reading(wall_ms())
    wait_s = (trading_day(reading.trading_date).minutes - reading.minute_of_session) * 60 / speed
    if wait_s <= limit_s:
        print(f"waiting {wait_s:.0f} s for the session clock to reach an open", flush=True)
        time.sleep(wait_s + 0.5)


def stop_stack(stack: Stack) -> None:
    if stack.proc.poll() is None:
        stack.proc.terminate()
        try:
            stack.proc.wait(60)
        except subprocess.TimeoutExpired:
            stack.proc.kill()


def operator_url(stack: Stack) -> str:
    url = stack.find(URL_LINE)["url"].split(",")[0]
    identities = Path(stack.find(IDENTITIES_LINE)["path"]).read_text().splitlines()
    password = dict(line.split("=", 1) for line in identities if "=" in line)[nats_auth.OPERATOR]
    return url.replace("nats://", f"nats://{nats_auth.OPERATOR}:{password}@", 1)


# -- processes and CPU --------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append(int(entry.name))
    return out


def service_pids(up_pid: int) -> dict[str, list[int]]:
    """Service name -> pids (the service and its own children, e.g. gunicorn workers, nats nodes)."""
    found: dict[str, list[int]] = defaultdict(list)
    for pid in _children(up_pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        name = next((s for s in SERVICES if s in cmd), cmd[:40])
        found[name] += [pid, *_children(pid)]
    return found


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(pids: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(cpu_seconds(p) for p in ps) for name, ps in pids.items()}


# -- throughput and lag -------------------------------------------------------------------------


class Tap:
    """Counts every message of the tape and the smart-money events, and their lag, per wall second."""

    def __init__(self, speed: float) -> None:
        self.clock = SessionClock(speed=speed)
        self.speed = speed
        self.counts: dict[int, int] = defaultdict(int)
        self.lags: dict[str, dict[int, list[float]]] = {"market data": defaultdict(list),
                                                        "smart-money events": defaultdict(list)}

    def _lag(self, kind: str, ts: int) -> None:
        now = wall_ms()
        second = now // 1000
        self.counts[second] += 1
        self.lags[kind][second].append((self.clock.ts(now) - ts) / self.speed)

    async def on_print(self, msg) -> None:
        self._lag("market data", market_pb2.OptionPrint.FromString(msg.data).ts)

    async def on_trade(self, msg) -> None:
        self._lag("market data", market_pb2.EquityTrade.FromString(msg.data).ts)

    async def on_quote(self, msg) -> None:
        self._lag("market data", market_pb2.EquityQuote.FromString(msg.data).ts)

    async def on_event(self, msg) -> None:
        self._lag("smart-money events", wire.smart_money_event_from_proto(
            smart_money_pb2.SmartMoneyEvent.FromString(msg.data)).ts)


def lag_report(kind: str, per_second: dict[int, list[float]], seconds: list[int]) -> tuple[str, bool]:
    means = [statistics.fmean(per_second[s]) for s in seconds if per_second.get(s)]
    if len(means) < 3:
        return f"{kind}: too few samples ({len(means)} seconds)", True
    third = max(1, len(means) // 3)
    first, last = statistics.fmean(means[:third]), statistics.fmean(means[-third:])
    everything = [v for s in seconds for v in per_second.get(s, [])]
    grows = last > first + STEP_MS
    return (f"{kind} lag (wall ms): first third {first:.0f}, last third {last:.0f}, "
            f"p50 {pct(everything, 50):.0f}, p99 {pct(everything, 99):.0f}, max {max(everything):.0f}"
            f"{'  GROWING' if grows else ''}"), not grows


# -- control latency ----------------------------------------------------------------------------


async def control_latency(url: str, stack: Stack, writes: int) -> dict[str, list[float]]:
    """Write the control entry ``writes`` times; per service, ms from the write to its applied line."""
    nc = await nats.connect(url, connect_timeout=5)
    kv = await nc.jetstream(timeout=5).key_value(names.CONTROL_BUCKET)
    presets = (SyntheticControlPresetId.DEALER_DAY, SyntheticControlPresetId.BALANCED_DEMO)
    services = ("regime_svc", "options_svc", "equities_svc", "flow")
    out: dict[str, list[float]] = defaultdict(list)
    try:
        for i in range(writes):
            stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            state = DEFAULT_CONTROL.with_update(preset_id=presets[i % 2], updated_at=stamp, updated_by="bench")
            began = time.monotonic()
            revision = await write_control(kv, state, None)
            deadline = began + 10
            while time.monotonic() < deadline:
                seen = stack.applied.get(revision, {})
                if all(any(k.startswith(s) for k in seen) for s in services):
                    break
                await asyncio.sleep(0.005)
            for svc, at in stack.applied.get(revision, {}).items():
                out[svc].append((at - began) * 1000)
            # Let the services take the new control into their tapes before the next write.
            await asyncio.sleep(1.0)
    finally:
        await nc.close()
    return out


# -- websockets ---------------------------------------------------------------------------------


# The gateway admits at most MAX_CONNECTIONS_PER_CLIENT connections per client address; 500 clients
# are 500 users, so each group of them connects from its own loopback address (127.0.0.2, ...).
CLIENTS_PER_ADDRESS = MAX_CONNECTIONS_PER_CLIENT - 2


class _FromAddress(socket.socket):
    source = "127.0.0.1"

    def connect(self, address) -> None:
        self.bind((_FromAddress.source, 0))
        super().connect(address)


def _ws_child(port: int, first: int, n: int, hold: float, conn) -> None:
    simple_websocket.ws.socket.socket = _FromAddress     # this process opens websockets only
    clients = []
    refused = 0
    why = ""
    for k in range(first, first + n):
        group = k // CLIENTS_PER_ADDRESS
        _FromAddress.source = f"127.0.{1 + group // 250}.{2 + group % 250}"
        try:
            clients.append(simple_websocket.Client.connect(f"ws://127.0.0.1:{port}/ws/smart-money"))
        except Exception as exc:  # noqa: BLE001 - a refused upgrade counts as not connected
            refused += 1
            why = why or f"{type(exc).__name__}: {exc}"
    conn.send((len(clients), refused, why))
    received = 0
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:
        for ws in clients:
            while ws.receive(timeout=0) is not None:
                received += 1
        time.sleep(0.05)
    for ws in clients:
        ws.close()
    conn.send(received)


def probe_flow(port: int) -> str | None:
    """None when GET /flow/smart-money answers 200, else what it answered."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/flow/smart-money?limit=50")
        reply = conn.getresponse()
        body = reply.read()
        return None if reply.status == 200 else f"HTTP {reply.status}: {body[:200]!r}"
    except (OSError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


def flow_with_websockets(port: int, clients: int, rate: float, seconds: float, procs: int = 2) -> tuple[dict, int,
                                                                                                    int, int]:
    ctx = multiprocessing.get_context("spawn")
    pipes, children = [], []
    first = 0
    for i in range(procs):
        parent, child_end = ctx.Pipe()
        share = clients // procs + (1 if i < clients % procs else 0)
        child = ctx.Process(target=_ws_child, args=(port, first, share, seconds + 5, child_end), daemon=True)
        first += share
        child.start()
        pipes.append(parent)
        children.append(child)
    connected = refused = 0
    for pipe in pipes:
        c, r, why = pipe.recv()
        connected, refused = connected + c, refused + r
        if why:
            print(f"  a websocket client was refused: {why}", flush=True)
    probe = probe_flow(port)
    flow = bench_flow(port, rate, seconds) if probe is None else {"p50_ms": math.inf, "p99_ms": math.inf,
                                                                   "errors": probe}
    received = sum(pipe.recv() for pipe in pipes)
    for child in children:
        child.join(15)
    return flow, connected, refused, received


# -- one speed ----------------------------------------------------------------------------------


def run_speed(speed: float, args: argparse.Namespace) -> bool:
    wait_for_an_open(speed, args.near_open)
    began = time.monotonic()
    stack = start_stack(speed, args.cluster)
    ok = True
    try:
        url = operator_url(stack)
        port = int(stack.find(GATEWAY_LINE)["port"])
        print(f"\n== speed {speed:g}x{f', {args.cluster}-node cluster' if args.cluster > 1 else ''}: "
              f"`synthmarket up` ready in {time.monotonic() - began:.1f} s", flush=True)
        tap = Tap(speed)
        pids = service_pids(stack.proc.pid)

        async def measure() -> tuple[dict[str, float], dict[str, float], float, dict[str, list[float]]]:
            nc = await nats.connect(url, connect_timeout=5)
            for subject, cb in ((names.ALL_OPTION_PRINTS, tap.on_print), (names.ALL_EQUITY_TRADES, tap.on_trade),
                                (names.ALL_EQUITY_QUOTES, tap.on_quote), (names.SMART_MONEY_SUBJECT, tap.on_event)):
                await nc.subscribe(subject, cb=cb, pending_msgs_limit=10_000_000, pending_bytes_limit=1 << 30)
            await asyncio.sleep(args.warmup)
            cpu0, t0 = cpu_of(pids), time.monotonic()
            await asyncio.sleep(args.seconds)
            cpu1, t1 = cpu_of(pids), time.monotonic()
            await nc.close()
            latency = await control_latency(url, stack, args.control_writes)
            return cpu0, cpu1, t1 - t0, latency

        cpu0, cpu1, span, latency = asyncio.run(measure())
        last = max(tap.counts) if tap.counts else 0
        seconds = sorted(s for s in tap.counts if last - args.seconds - 1 <= s < last)
        rate = statistics.fmean(tap.counts[s] for s in seconds) if seconds else 0.0
        print(f"through NATS: {rate:.0f} msgs/s (prints, trades, quotes, events received by one subscriber)")
        for kind, per_second in tap.lags.items():
            line, fine = lag_report(kind, per_second, seconds)
            ok &= fine
            print(line)
        print("CPU (cores busy): " + ", ".join(f"{name} {(cpu1[name] - cpu0.get(name, 0.0)) / span:.2f}"
                                               for name in sorted(cpu1)))
        everything = [v for values in latency.values() for v in values]
        for svc in sorted(latency):
            values = latency[svc]
            print(f"control write -> applied, {svc:14} p50 {pct(values, 50):6.1f} ms  p99 {pct(values, 99):6.1f} ms"
                  f"  ({len(values)} of {args.control_writes} writes)")
        if everything:
            p99 = pct(everything, 99)
            ok &= p99 <= CONTROL_GOAL_P99_MS
            print(f"control write -> applied, all services p50 {pct(everything, 50):.1f} ms, p99 {p99:.1f} ms "
                  f"(goal p99 <= {CONTROL_GOAL_P99_MS:g} ms)")
        probe = probe_flow(port)
        if probe is not None:
            raise SystemExit(f"bench: GET /flow/smart-money failed: {probe}")
        flow = bench_flow(port, args.rate, args.flow_seconds)
        ok &= flow["p99_ms"] <= FLOW_GOAL_P99_MS
        print(f"GET /flow/smart-money?limit=50 at {args.rate:g} req/s: p50 {flow['p50_ms']:.1f} ms, "
              f"p99 {flow['p99_ms']:.1f} ms, errors {flow['errors']} (goal p99 <= {FLOW_GOAL_P99_MS:g} ms)")
        if args.websockets:
            flow, connected, refused, received = flow_with_websockets(port, args.websockets, args.rate,
                                                                      args.flow_seconds)
            ok &= flow["p99_ms"] <= FLOW_GOAL_P99_MS and connected == args.websockets
            print(f"  with {connected} websocket clients connected ({refused} refused, {received} events "
                  f"delivered): p50 {flow['p50_ms']:.1f} ms, p99 {flow['p99_ms']:.1f} ms, errors {flow['errors']}")
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    finally:
        stop_stack(stack)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeds", default="1,10,60", help="session speeds, comma-separated (default 1,10,60)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window per speed (default 20)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring (default 5)")
    parser.add_argument("--control-writes", type=int, default=20, help="control writes timed per speed")
    parser.add_argument("--rate", type=float, default=200.0, help="gateway requests per second (default 200)")
    parser.add_argument("--flow-seconds", type=float, default=10.0, help="gateway measurement (default 10 s)")
    parser.add_argument("--websockets", type=int, default=500, help="websocket clients (0: skip)")
    parser.add_argument("--near-open", type=float, default=240.0,
                        help="wait up to this many seconds for the session clock to reach an open (default 240)")
    parser.add_argument("--cluster", type=int, default=1, help="`synthmarket up --cluster N` (default: one server)")
    args = parser.parse_args()
    ok = True
    for speed in (float(s) for s in args.speeds.split(",")):
        try:
            ok &= run_speed(speed, args)
        except SystemExit as exc:     # one speed failing to start says so and leaves the others
            print(f"speed {speed:g}x: {exc}", flush=True)
            ok = False
    print(f"\nall goals met: {'yes' if ok else 'no'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
