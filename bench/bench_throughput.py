"""Sustained publish throughput of the live ingest services through NATS, at a raised session speed.

Run from the repository root: .venv/bin/python -m bench.bench_throughput [--speed 1000] [--seconds 30]
                                                                        [--no-flow] [--symbols SPY,QQQ,...]
Starts a nats-server (with its monitoring port) and the real services as processes, exactly as
`synthmarket up` does: regime_svc, options_svc, equities_svc and (unless --no-flow) flow_svc, which
subscribes to every print, trade and quote. Publish throughput is the server's own count of
messages received from clients (``/varz`` in_msgs; status and stream traffic, a few messages a
second, is included); delivery to subscribers is ``out_msgs``. Each ingest service's own count is
printed as well.

Target on the 2-core reference machine: >= 20,000 msgs/s sustained for the 20 default symbols,
with no growing lag: no session time skipped by the ingest loops during the measured window and
their step lag (converted to wall time) not trending up from the first to the last third.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from synthmarket.infra.embedded_nats import find_nats_server, free_port

TARGET_MSGS_PER_S = 20_000
INGEST = ("options_svc", "equities_svc")


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as reply:
        return reply.read().decode()


def _varz(port: int) -> dict:
    return json.loads(_get(f"http://127.0.0.1:{port}/varz"))


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith((name + " ", name + "{")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench: {what} not ready within {timeout:.0f}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=1000.0, help="session clock speed (default 1000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window (default 30)")
    parser.add_argument("--warmup", type=float, default=8.0, help="seconds before measuring (default 8)")
    parser.add_argument("--no-flow", action="store_true", help="without flow_svc consuming the tape")
    parser.add_argument("--symbols", default="", help="SYNTH_SYMBOLS (default: the 20-name universe)")
    args = parser.parse_args()

    nats_port, mon_port, grpc_port = free_port(), free_port(), free_port()
    metrics = {name: free_port() for name in INGEST}
    flow_port = free_port()
    tmp = tempfile.TemporaryDirectory(prefix="bench-throughput-")
    procs: list[tuple[str, subprocess.Popen]] = []
    env = {
        **os.environ,
        "NATS_URL": f"nats://127.0.0.1:{nats_port}",
        "REGIME_GRPC_ADDR": f"127.0.0.1:{grpc_port}",
        "SYNTH_SPEED": repr(args.speed),
        "SYNTH_SYMBOLS": args.symbols,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    logs = Path(tmp.name)
    try:
        server = subprocess.Popen(
            [find_nats_server(), "-js", "-a", "127.0.0.1", "-p", str(nats_port), "-m", str(mon_port),
             "-sd", str(logs / "js")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        procs.append(("nats-server", server))
        _wait(lambda: _varz(mon_port) is not None, 15, "nats-server")
        services = ["regime_svc", *INGEST] + ([] if args.no_flow else ["flow_svc"])
        for name in services:
            child_env = {**env, "METRICS_PORT": str(metrics.get(name, flow_port if name == "flow_svc" else 0))}
            out = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - the child writes to it until it is stopped
            procs.append((name, subprocess.Popen([sys.executable, "-m", name], env=child_env, stdout=out,
                                                 stderr=subprocess.STDOUT, start_new_session=True)))
        for name, port in metrics.items():
            _wait(lambda p=port, n=name: _metric(_get(f"http://127.0.0.1:{p}/metrics"),
                                                 f"synthmarket_{n}_messages_published_total") > 0, 60, name)
        time.sleep(args.warmup)

        samples = []  # (wall, in_msgs, out_msgs, {svc: (step_lag_ms, skipped_ms, published)})
        cpu0 = {name: _cpu_seconds(proc.pid) for name, proc in procs}
        end = time.monotonic() + args.seconds
        while True:
            v = _varz(mon_port)
            svc = {}
            for name, port in metrics.items():
                text = _get(f"http://127.0.0.1:{port}/metrics")
                svc[name] = (
                    _metric(text, f"synthmarket_{name}_step_lag_ms"),
                    _metric(text, f"synthmarket_{name}_skipped_ms_total"),
                    _metric(text, f"synthmarket_{name}_messages_published_total"),
                )
            if not args.no_flow:
                text = _get(f"http://127.0.0.1:{flow_port}/metrics")
                svc["flow_svc"] = (0.0, 0.0, _metric(text, "synthmarket_flow_svc_prints_consumed_total")
                                   + _metric(text, "synthmarket_flow_svc_equity_updates_total"))
            samples.append((time.monotonic(), v["in_msgs"], v["out_msgs"], svc, v.get("slow_consumers", 0)))
            if time.monotonic() >= end:
                break
            time.sleep(1.0)
        cpu = {name: _cpu_seconds(proc.pid) - cpu0[name] for name, proc in procs}
        for name, proc in procs:
            if proc.poll() is not None:
                print(f"{name} exited with code {proc.returncode}; see its log", file=sys.stderr)
                return 1
    finally:
        for _name, proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for _name, proc in reversed(procs):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    (t0, in0, out0, svc0, slow0), (t1, in1, out1, svc1, slow1) = samples[0], samples[-1]
    span = t1 - t0
    rate_in, rate_out = (in1 - in0) / span, (out1 - out0) / span
    per_second = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(samples, samples[1:])]
    third = max(1, len(samples) // 3)
    print(f"speed {args.speed:g}x, {span:.1f} s measured after {args.warmup:g} s warm-up, "
          f"symbols {args.symbols or '20 default'}, flow_svc {'off' if args.no_flow else 'consuming'}")
    print(f"published (server in_msgs): {rate_in:9.0f} msgs/s   per second min {min(per_second):.0f} "
          f"median {statistics.median(per_second):.0f} max {max(per_second):.0f}")
    print(f"delivered (server out_msgs): {rate_out:8.0f} msgs/s   slow consumers {slow1 - slow0}")
    ok = rate_in >= TARGET_MSGS_PER_S and slow1 == slow0
    for name in INGEST:
        lags = [s[3][name][0] / args.speed for s in samples]  # ms of wall time
        first, last = statistics.mean(lags[:third]), statistics.mean(lags[-third:])
        skipped = (svc1[name][1] - svc0[name][1]) / args.speed
        published = (svc1[name][2] - svc0[name][2]) / span
        print(f"{name:13} {published:9.0f} msgs/s   step lag (wall) first third {first:6.1f} ms, "
              f"last third {last:6.1f} ms, max {max(lags):6.1f} ms   skipped {skipped:.0f} ms of wall time")
        # Growing lag: time skipped, or the lag's last third well above its first (and above 2 steps).
        ok &= skipped == 0 and not (last > 2 * first and last > 200)
    if not args.no_flow:
        consumed = (svc1["flow_svc"][2] - svc0["flow_svc"][2]) / span
        print(f"flow_svc      {consumed:9.0f} msgs/s consumed (prints + equity trades and quotes)")
        # The consumer keeps up when it takes in what was published, within 10 %.
        ok &= consumed >= 0.9 * rate_in
    print("CPU (cores busy): " + ", ".join(f"{name} {used / span:.2f}" for name, used in cpu.items()))
    print(f"target >= {TARGET_MSGS_PER_S} msgs/s with no growing lag: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
