"""Show what is running: the regime server, NATS, each ingest replica's status report, flow, gateway and web terminal."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nats.js.errors import NotFoundError

from synthmarket import wire
from synthmarket.domain.calendar import EXCHANGE_TZ
from synthmarket.domain.session_clock import SessionClock
from synthmarket.infra.nats_connection import Credentials, connect_once, identity
from synthmarket.infra.process import settings_or_exit
from synthmarket.infra.status_reports import Reports, read_status_reports
from synthmarket.names import SMART_MONEY_STREAM, STATUS_BUCKET, status_key
from synthmarket.settings import Settings
from synthmarket.v1 import regime_pb2, regime_pb2_grpc

T = TypeVar("T")

INGEST_SERVICES = ("options_svc", "equities_svc")


# -- probes (also used by `synthmarket up` to wait for health) ---------------------------------


def run_async(make: Callable[[], Awaitable[T]], timeout: float) -> T:
    """Run a coroutine to completion on a private loop in a private thread.

    Callers may already be inside a running loop (``up`` starts children from one), where
    ``asyncio.run`` is not allowed.
    """
    box: list[Any] = []

    def target() -> None:
        try:
            box.append((True, asyncio.run(asyncio.wait_for(make(), timeout))))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box.append((False, exc))

    thread = threading.Thread(target=target, name="status-probe", daemon=True)
    thread.start()
    thread.join(timeout + 2)
    if not box:
        raise TimeoutError(f"no answer within {timeout:.1f}s")
    ok, value = box[0]
    if not ok:
        raise value
    return value


def regime_serving(addr: str, timeout: float = 1.0) -> bool:
    """True when the regime server's gRPC health check answers SERVING."""
    try:
        with grpc.insecure_channel(addr) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        return reply.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


def regime_snapshot(addr: str, timeout: float = 2.0) -> wire.SessionSnapshot | None:
    """The regime server's current session (its own clock), or None when it does not answer."""
    try:
        with grpc.insecure_channel(addr) as channel:
            reply = regime_pb2_grpc.RegimeServiceStub(channel).GetSessionState(
                regime_pb2.GetSessionStateRequest(ts=0), timeout=timeout
            )
        return wire.session_snapshot_from_proto(reply)
    except (grpc.RpcError, wire.WireError):
        return None


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return 200 <= reply.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


async def read_reports(nats_url: str, bucket: str = STATUS_BUCKET, credentials: Credentials | None = None) -> Reports:
    """Every status report in the bucket: key -> (report, KV revision). Empty when none yet."""
    nc = await connect_once(nats_url, credentials=credentials)
    try:
        return await read_status_reports(nc.jetstream(timeout=2), bucket)
    finally:
        await nc.close()


async def stream_state(nats_url: str, stream: str = SMART_MONEY_STREAM,
                       credentials: Credentials | None = None) -> tuple[int, int] | None:
    """(messages, last sequence) of a JetStream stream, or None when it does not exist."""
    nc = await connect_once(nats_url, credentials=credentials)
    try:
        try:
            info = await nc.jetstream(timeout=2).stream_info(stream)
        except NotFoundError:
            return None
        return int(info.state.messages), int(info.state.last_seq)
    finally:
        await nc.close()


def status_written_probe(nats_url: Callable[[], str], key: str, credentials: Credentials | None = None) -> Callable[[], bool]:
    """Ready once ``key`` in the status bucket gets a revision newer than at the first probe.

    A store kept from an earlier run still holds old reports; only a fresh write counts.
    """
    baseline: list[int] = []

    def check() -> bool:
        try:
            reports = run_async(lambda: read_reports(nats_url(), credentials=credentials), 2.0)
        except Exception:  # noqa: BLE001 - not reachable yet
            return False
        revision = reports[key][1] if key in reports else 0
        if not baseline:
            baseline.append(revision)
            return False
        return revision > baseline[0]

    return check


# -- the `status` command ----------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    nats_url: str
    credentials: Credentials | None
    regime_addr: str
    gateway_url: str
    webui_url: str


def _clock_time(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts / 1000, EXCHANGE_TZ).strftime("%Y-%m-%d %H:%M:%S %Z")


def _report_line(key: str, r: dict[str, Any], session_now: int) -> str:
    last_ts = r["last_publish_ts"]
    hits = ", ".join(f"{k} {v}" for k, v in sorted(r["profile_hit_counts"].items())) or "-"
    last = "never" if not last_ts else f"{_clock_time(last_ts)} ({(session_now - last_ts) / 1000:.0f}s of session ago)"
    return (
        f"{key}: control rev {r['applied_control_revision']} | phase {r['session_phase'] or '-'} | "
        f"regime {r['regime'] or '-'} | focus {','.join(r['focus_symbols']) or '-'} | "
        f"published {r['prints_published']} | last {last} | hits {hits}"
    )


def collect(settings: Settings, where: Where) -> dict[str, Any]:
    """Everything `status` shows, as plain data (the --json output)."""
    out: dict[str, Any] = {"nats": {"url": where.nats_url}, "regime_svc": {"addr": where.regime_addr}}
    snapshot = regime_snapshot(where.regime_addr)
    if snapshot is None:
        out["regime_svc"]["up"] = False
    else:
        s = snapshot.session
        out["regime_svc"].update(
            up=True, ts=s.ts, session_phase=s.session_phase.value, regime=s.regime.value,
            focus_symbols=list(s.focus_symbols), event_symbols=list(s.event_symbols),
            control_revision=snapshot.control_revision,
            preset=snapshot.control.preset_id.value if snapshot.control else None,
        )
    try:
        reports = run_async(lambda: read_reports(where.nats_url, credentials=where.credentials), 3.0)
        out["nats"]["up"] = True
    except Exception as exc:  # noqa: BLE001 - shown as down
        reports = {}
        out["nats"].update(up=False, error=str(exc) or type(exc).__name__)
    out["ingest"] = {
        key: {
            "service": r.service, "replica": r.replica, "applied_control_revision": r.applied_control_revision,
            "session_phase": r.session_phase, "regime": r.regime, "focus_symbols": list(r.focus_symbols),
            "last_publish_ts": r.last_publish_ts, "prints_published": r.prints_published,
            "profile_hit_counts": dict(r.profile_hit_counts), "control_timeline": r.control_timeline,
        }
        for key, (r, _rev) in reports.items() if r.service in INGEST_SERVICES
    }
    stream = None
    if out["nats"]["up"]:
        try:
            stream = run_async(lambda: stream_state(where.nats_url, credentials=where.credentials), 3.0)
        except Exception:  # noqa: BLE001
            stream = None
    flow_report = reports.get(status_key("flow_svc"))
    out["flow_svc"] = {"stream": SMART_MONEY_STREAM, "up": stream is not None,
                       "events": stream[0] if stream else 0, "live": flow_report is not None,
                       "published": flow_report[0].prints_published if flow_report else 0,
                       "control_timeline": flow_report[0].control_timeline if flow_report else ""}
    out["admin_gateway"] = {"url": where.gateway_url, "up": http_ok(where.gateway_url + "/openapi.json")}
    out["webui"] = {"url": where.webui_url, "up": http_ok(where.webui_url + "/healthz")}
    out["session_now"] = SessionClock(speed=settings.speed).ts(time.time_ns() // 1_000_000)
    return out


def render(data: dict[str, Any]) -> list[str]:
    """The human-readable lines of ``synthmarket status``."""
    lines = []
    regime = data["regime_svc"]
    if regime.get("up"):
        lines.append(
            f"regime_svc {regime['addr']}: up | session {_clock_time(regime['ts'])} | phase {regime['session_phase']} "
            f"| regime {regime['regime']} | focus {','.join(regime['focus_symbols']) or '-'} "
            f"| events {','.join(regime['event_symbols']) or '-'} | control {regime['preset']} "
            f"(rev {regime['control_revision']})"
        )
    else:
        lines.append(f"regime_svc {regime['addr']}: not reachable")
    nats_info = data["nats"]
    lines.append(f"NATS {nats_info['url']}: " + ("up" if nats_info["up"] else f"not reachable ({nats_info['error']})"))
    for service in INGEST_SERVICES:
        keys = [k for k in data["ingest"] if k.split(".", 1)[0] == service]
        if not keys:
            lines.append(f"{service}: no status report")
        for key in keys:
            lines.append(_report_line(key, data["ingest"][key], data["session_now"]))
    timelines = {r["control_timeline"] for r in data["ingest"].values() if r["control_timeline"]}
    if data["flow_svc"]["control_timeline"]:
        timelines.add(data["flow_svc"]["control_timeline"])
    if len(timelines) == 1:
        lines.append(f"control timeline today (every service): {timelines.pop()}")
    elif timelines:
        lines.append("control timelines DISAGREE: " + " | ".join(sorted(timelines)))
    flow = data["flow_svc"]
    live = f"live, {flow['published']} events published since start" if flow["live"] else "no status report"
    lines.append(f"flow_svc: {live} | stream {flow['stream']} "
                 + (f"holds {flow['events']} events" if flow["up"] else "missing"))
    for name in ("admin_gateway", "webui"):
        lines.append(f"{name} {data[name]['url']}: " + ("up" if data[name]["up"] else "not reachable"))
    return lines


# An ingest replica whose newest message is older than this (session time) counts as stalled.
STALE_SESSION_MS = 10 * 60_000


def check(settings: Settings, where: Where, service: str) -> tuple[bool, str]:
    """One service's health, for container health checks: (healthy, why)."""
    if service == "regime_svc":
        ok = regime_serving(where.regime_addr)
        return ok, f"gRPC health at {where.regime_addr}: {'SERVING' if ok else 'not serving'}"
    if service == "nats":
        try:
            run_async(lambda: read_reports(where.nats_url, credentials=where.credentials), 3.0)
            return True, f"NATS at {where.nats_url} answers"
        except Exception as exc:  # noqa: BLE001
            return False, f"NATS at {where.nats_url}: {exc or type(exc).__name__}"
    if service in INGEST_SERVICES:
        replica = settings.options_replica if service == "options_svc" else settings.equities_replica
        key = status_key(service, replica)
        try:
            reports = run_async(lambda: read_reports(where.nats_url, credentials=where.credentials), 3.0)
        except Exception as exc:  # noqa: BLE001
            return False, f"NATS at {where.nats_url}: {exc or type(exc).__name__}"
        if key not in reports:
            return False, f"no status report under {key}"
        report = reports[key][0]
        now = SessionClock(speed=settings.speed).ts(time.time_ns() // 1_000_000)
        if report.last_publish_ts and now - report.last_publish_ts > STALE_SESSION_MS:
            return False, f"{key} last published {(now - report.last_publish_ts) / 1000:.0f}s of session ago"
        return True, f"{key} reported {report.prints_published} messages published"
    if service == "flow_svc":
        # The flow service reports once the session so far is replayed and it is live.
        try:
            reports = run_async(lambda: read_reports(where.nats_url, credentials=where.credentials), 3.0)
        except Exception as exc:  # noqa: BLE001
            return False, f"NATS at {where.nats_url}: {exc or type(exc).__name__}"
        key = status_key("flow_svc")
        if key not in reports:
            return False, f"no status report under {key} (still replaying the session so far, or not running)"
        return True, f"{key} reported {reports[key][0].prints_published} events published"
    if service == "admin_gateway":
        ok = http_ok(where.gateway_url + "/openapi.json")
        return ok, f"{where.gateway_url}/openapi.json " + ("answers" if ok else "does not answer")
    if service == "webui":
        ok = http_ok(where.webui_url + "/healthz")
        return ok, f"{where.webui_url}/healthz " + ("answers" if ok else "does not answer")
    raise ValueError(f"unknown service {service!r}")


CHECKABLE = ("nats", "regime_svc", *INGEST_SERVICES, "flow_svc", "admin_gateway", "webui")


def _reachable(host: str) -> str:
    # A server bound to every interface is asked on the loopback one.
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nats-url", help="NATS server (default NATS_URL, else the embedded server's port)")
    parser.add_argument("--regime-addr", help="regime gRPC address (default REGIME_GRPC_ADDR)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    parser.add_argument("--check", choices=CHECKABLE, metavar="SERVICE",
                        help=f"only check one service and exit 0 when healthy ({', '.join(CHECKABLE)}); "
                             "for container health checks")


def run(args: argparse.Namespace) -> int:
    settings = settings_or_exit("synthmarket status")
    where = Where(
        nats_url=args.nats_url or settings.nats_url,
        credentials=identity(settings),
        regime_addr=args.regime_addr or settings.regime_grpc_addr,
        gateway_url=f"http://{_reachable(settings.gateway_host)}:{settings.gateway_port}",
        webui_url=f"http://{_reachable(settings.webui_host)}:{settings.webui_port}",
    )
    if args.check:
        healthy, why = check(settings, where, args.check)
        print(f"{args.check}: {'healthy' if healthy else 'unhealthy'} ({why})")
        return 0 if healthy else 1
    data = collect(settings, where)
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        for line in render(data):
            print(line)
    # Healthy enough to trade: the regime answers and NATS is reachable.
    return 0 if data["regime_svc"].get("up") and data["nats"]["up"] else 1
