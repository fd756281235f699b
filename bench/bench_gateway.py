"""Gateway latency: GET /flow/smart-money at a fixed request rate, and websocket fan-out publish→receipt.

Run from the repository root: .venv/bin/python -m bench.bench_gateway [--rate 200] [--seconds 10] [--clients 500]
It starts its own nats-server and `python -m admin_gateway` (gunicorn) on free 127.0.0.1 ports.
Targets on the 2-core reference machine: flow p99 < 50 ms at 200 req/s (latency counted from each
request's scheduled send time, so queueing is included); websocket publish→receipt p99 < 250 ms
with 500 clients connected.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid

import simple_websocket

from synthmarket.infra.embedded_nats import EmbeddedNats, free_port
from tests.support.gateway import StreamPublisher, make_event


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def start_gateway(nats_url: str, port: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "NATS_URL": nats_url, "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port),
           "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "admin_gateway", "--threads", str(threads)], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/flow/smart-money?limit=1")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("gateway did not start")


def bench_flow(port: int, rate: float, seconds: float, workers: int = 16) -> dict[str, float]:
    """Open-loop: request i is due at t0 + i/rate; latency = completion - due time."""
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    next_index = [0]
    t0 = time.perf_counter() + 0.2

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= total:
                break
            due = t0 + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            try:
                conn.request("GET", "/flow/smart-money?limit=50")
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            done = time.perf_counter()
            with lock:
                if ok:
                    latencies.append((done - due) * 1000)
                else:
                    errors[0] += 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return {"requests": total, "errors": errors[0], "achieved_rps": len(latencies) / elapsed,
            "p50_ms": pct(latencies, 50), "p99_ms": pct(latencies, 99), "max_ms": max(latencies)}


def _fanout_child(port: int, n_clients: int, n_events: int, symbol: str, conn) -> None:
    """One client process: connect, report ready, drain to the sync marker, then time receipts."""
    clients = [simple_websocket.Client.connect(f"ws://127.0.0.1:{port}/ws/smart-money?symbol={symbol}")
               for _ in range(n_clients)]
    ready = [False] * n_clients
    deadline = time.monotonic() + 60
    while not all(ready) and time.monotonic() < deadline:
        for idx, ws in enumerate(clients):
            if not ready[idx] and ws.receive(timeout=0) is not None:
                ready[idx] = True
        time.sleep(0.02)
    conn.send(sum(ready))
    sync_id = conn.recv()
    for ws in clients:
        while True:
            msg = ws.receive(timeout=10)
            if msg is None or json.loads(msg)["event_id"] == sync_id:
                break
    # From here the clients' own reader threads stamp each message as it is parsed, so the
    # figure is not inflated by a second thread per client waking up in this process.
    buffers = []
    for ws in clients:
        buf = _StampedBuffer()
        ws.input_buffer = buf
        buffers.append(buf)
    conn.send("synced")
    deadline = time.monotonic() + 60
    while any(len(b.stamps) < n_events for b in buffers) and time.monotonic() < deadline:
        time.sleep(0.05)
    receipts: list[tuple[str, float]] = []
    missing = 0
    for buf in buffers:
        missing += max(0, n_events - len(buf.stamps))
        receipts.extend((json.loads(msg)["event_id"], t) for msg, t in buf.stamps)
    for ws in clients:
        ws.close()
    conn.send((receipts, missing))


class _StampedBuffer(list):
    """simple-websocket's input buffer, recording when each message was appended."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[tuple[str, float]] = []

    def append(self, item) -> None:
        self.stamps.append((item, time.time()))


def bench_fanout(port: int, publisher: StreamPublisher, n_clients: int, n_events: int,
                 rate: float = 10.0, procs: int = 2) -> dict[str, float]:
    """Clients live in ``procs`` other processes so their threads do not share the bench's GIL."""
    symbol = "ZFAN"
    prefix = f"fan{uuid.uuid4().hex[:6]}"
    base_ts = 1_990_000_000_000
    ctx = multiprocessing.get_context("spawn")
    pipes, children = [], []
    for i in range(procs):
        parent_end, child_end = ctx.Pipe()
        share = n_clients // procs + (1 if i < n_clients % procs else 0)
        child = ctx.Process(target=_fanout_child, args=(port, share, n_events, symbol, child_end), daemon=True)
        child.start()
        pipes.append(parent_end)
        children.append(child)
    # Warm up: publish markers until every child says all its clients saw one.
    counts: dict[int, int] = {}
    k = 0
    deadline = time.monotonic() + 120
    while len(counts) < procs and time.monotonic() < deadline:
        publisher.publish([make_event(k, base_ts + k, symbol=symbol, prefix=prefix + "w")])
        k += 1
        for i, pipe in enumerate(pipes):
            if i not in counts and pipe.poll(0.05):
                counts[i] = pipe.recv()
    if sum(counts.values()) != n_clients:
        raise SystemExit(f"only {sum(counts.values())} of {n_clients} websocket clients became ready")
    sync = make_event(0, base_ts + 5_000, symbol=symbol, prefix=prefix + "s")
    for pipe in pipes:
        pipe.send(sync.event_id)
    publisher.publish([sync])
    for pipe in pipes:
        assert pipe.recv() == "synced"

    sent: dict[str, float] = {}
    for i in range(n_events):
        event = make_event(i, base_ts + 10_000 + i, symbol=symbol, prefix=prefix)
        sent[event.event_id] = time.time()
        publisher.publish([event])
        time.sleep(1.0 / rate)
    received: list[float] = []
    missing = 0
    for pipe, child in zip(pipes, children):
        receipts, lost = pipe.recv()
        missing += lost
        received.extend((t - sent[eid]) * 1000 for eid, t in receipts if eid in sent)
        child.join(10)
    return {"clients": n_clients, "events": n_events, "deliveries": len(received), "missing": missing,
            "p50_ms": pct(received, 50), "p99_ms": pct(received, 99), "max_ms": max(received),
            "mean_ms": statistics.fmean(received)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--client-procs", type=int, default=2)
    args = parser.parse_args()
    nats_server = EmbeddedNats(host="127.0.0.1", port=0)
    nats_server.start()
    gateway = None
    publisher = None
    try:
        publisher = StreamPublisher(nats_server.url_as())
        publisher.publish([make_event(i, 1_980_000_000_000 + i * 1000, prefix="seed") for i in range(1000)])
        port = free_port()
        gateway = start_gateway(nats_server.url_as(), port, threads=args.clients + 64)
        flow = bench_flow(port, args.rate, args.seconds)
        print(f"GET /flow/smart-money?limit=50 at {args.rate:g} req/s for {args.seconds:g} s: "
              f"p50 {flow['p50_ms']:.1f} ms, p99 {flow['p99_ms']:.1f} ms, max {flow['max_ms']:.1f} ms, "
              f"achieved {flow['achieved_rps']:.0f} req/s, errors {flow['errors']}")
        fan = bench_fanout(port, publisher, args.clients, args.events, procs=args.client_procs)
        print(f"websocket fan-out to {fan['clients']} clients ({args.client_procs} client processes), "
              f"{fan['events']} events at 10/s: "
              f"publish->receipt p50 {fan['p50_ms']:.1f} ms, p99 {fan['p99_ms']:.1f} ms, "
              f"max {fan['max_ms']:.1f} ms, {fan['deliveries']} deliveries, {fan['missing']} missing")
    finally:
        if publisher is not None:
            publisher.close()
        if gateway is not None:
            gateway.terminate()
            try:
                gateway.wait(20)
            except subprocess.TimeoutExpired:
                gateway.kill()
        nats_server.stop()


if __name__ == "__main__":
    main()
