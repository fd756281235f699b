"""A three-node JetStream cluster under kill -9 while the services run: nothing acknowledged is lost or
stored twice, the services move to the survivors, the gateway answers 503 without a quorum, a
restarted node catches up, and a restarted options replica resumes its symbols without a repeat."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import nats
import pytest
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from synthmarket import names, wire
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.infra import nats_auth
from synthmarket.infra.embedded_cluster import EmbeddedCluster
from synthmarket.infra.embedded_nats import free_port
from synthmarket.infra.jetstream_setup import ensure_jetstream, replicated_streams
from synthmarket.infra.nats_connection import servers
from synthmarket.names import ALL_OPTION_PRINTS, CONTROL_BUCKET, CONTROL_KEY, SMART_MONEY_STREAM, status_key
from synthmarket.settings import load_settings
from synthmarket.v1 import market_pb2, smart_money_pb2
from synthmarket_cli.status import status_written_probe
from synthmarket_cli.up.children import ProcessChild, build_children
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

TOKEN = "cluster-test-token"
SYMBOLS = ("SPY", "QQQ", "AAPL", "TSLA", "NVDA", "AMD")
SPEED = 20.0
# Every reason the gateway gives for a 503 while NATS or the cluster's quorum is gone.
UNAVAILABLE_REASON = re.compile(r"no JetStream leader|disconnected from NATS at \S+; reconnecting|"
                                r"NATS did not answer in time|NATS request failed: \S|still loading recent events|"
                                r"regime_svc at \S+ unavailable")
# Seconds a service gets to report healthy: an options replica replays the session so far first,
# seconds of CPU that take several times as long on two loaded cores.
START_TIMEOUT_S = 90
RUNNING = ("regime_svc", "options_svc.0", "options_svc.1", "flow_svc", "admin_gateway")


@dataclass
class Stack:
    cluster: EmbeddedCluster
    children: dict[str, ProcessChild]
    gateway: str
    flow_metrics: str


@pytest.fixture(scope="module")
def stack(nats_cluster: EmbeddedCluster) -> Iterator[Stack]:
    """The services on the cluster (options_svc as two replicas), each connected with every node's URL."""
    ports = {name: free_port() for name in ("GATEWAY_PORT", "WEBUI_PORT", "METRICS_PORT")}
    env = {
        "NATS_URL": nats_cluster.url, "NATS_REPLICAS": "3", "REGIME_GRPC_ADDR": f"127.0.0.1:{free_port()}",
        "SYNTH_SYMBOLS": ",".join(SYMBOLS), "SYNTH_SPEED": str(SPEED), "OPTIONS_REPLICAS": "2",
        "SYNTHETIC_CONTROL_ENABLED": "1", "SYNTHETIC_ADMIN_TOKEN": TOKEN, "LOG_LEVEL": "INFO",
        "METRICS_HOST": "127.0.0.1", **{k: str(v) for k, v in ports.items()},
    }
    settings = load_settings(env)
    asyncio.run(_setup_jetstream(nats_cluster))
    children: dict[str, ProcessChild] = {}
    for child in build_children(settings, nats_cluster.passwords):
        if isinstance(child, ProcessChild) and child.name in RUNNING:
            # The children take the rest of their environment from ours; this stack's comes first.
            child.env = _with_env(env, child.env)
            children[child.name] = child
    started: list[ProcessChild] = []
    try:
        # All at once (each retries its dependencies), then health-waited in order: on two cores a
        # one-by-one start would cost as much again.
        for name in RUNNING:
            children[name].start()
            started.append(children[name])
        for name in RUNNING:
            children[name].wait_healthy(START_TIMEOUT_S)
        flow_metrics = next(url for label, url in children["flow_svc"].served if label.endswith("metrics"))
        yield Stack(nats_cluster, children, f"http://127.0.0.1:{ports['GATEWAY_PORT']}", flow_metrics)
    finally:
        for child in reversed(started):
            child.stop(5)


def _with_env(env: dict[str, str], own: Callable[[], Mapping[str, str]]) -> Callable[[], dict[str, str]]:
    return lambda: {**env, **own()}


async def _setup_jetstream(cluster: EmbeddedCluster) -> None:
    nc = await _operator(cluster)
    try:
        await ensure_jetstream(nc.jetstream(timeout=5), replicas=3)
    finally:
        await nc.close()


async def _operator(cluster: EmbeddedCluster) -> Client:
    # Credentials as options, not in the URLs: a server the client learns of from the cluster (and
    # reconnects to) comes without the URL's user and password.
    return await nats.connect(servers=servers(cluster.url), user=nats_auth.OPERATOR,
                              password=cluster.passwords[nats_auth.OPERATOR], connect_timeout=2,
                              reconnect_time_wait=0.2, max_reconnect_attempts=-1)


# -- what the test reads ------------------------------------------------------------------------------


def _flow_acknowledged(stack: Stack) -> tuple[int, int, float]:
    """(events the stream acknowledged as stored, publish errors, queue) from flow_svc's /metrics."""
    with urllib.request.urlopen(stack.flow_metrics, timeout=2) as response:
        text = response.read().decode()
    stored = errors = 0
    queue = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, value = line.rsplit(" ", 1)
        if "events_published_total" in name:
            stored += int(float(value))
        elif "publish_errors_total" in name:
            errors += int(float(value))
        elif name.endswith("publish_queue"):
            queue = float(value)
    return stored, errors, queue


async def _stored_events(nc: Client) -> list[str]:
    """Every event id in SMART_MONEY, in stream order."""
    js = nc.jetstream(timeout=5)
    state = (await js.stream_info(SMART_MONEY_STREAM)).state
    ids = []
    for seq in range(state.first_seq, state.last_seq + 1):
        msg = await js.get_msg(SMART_MONEY_STREAM, seq)
        ids.append(smart_money_pb2.SmartMoneyEvent.FromString(msg.data).event_id)
    return ids


async def _last_seq(nc: Client, stream: str = SMART_MONEY_STREAM) -> int:
    return int((await nc.jetstream(timeout=2).stream_info(stream)).state.last_seq)


def _http(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict, int]:
    """(status, JSON body, revision from the ETag or 0)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            etag = response.headers.get("ETag") or '"0"'
            return response.status, json.loads(response.read() or b"{}"), int(etag.strip('W/"') or 0)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), 0


@dataclass
class ControlWriter:
    """Writes the control through the gateway, one distinct writer name per attempt, as fast as it answers.

    A 503 attempt is not retried with the same name: a write the stream stored after the gateway
    gave up on it must appear once, never twice.
    """

    gateway: str
    acknowledged: dict[str, int] = field(default_factory=dict)     # writer name -> revision
    statuses: list[int] = field(default_factory=list)
    unavailable_bodies: list[dict] = field(default_factory=list)
    attempts: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> ControlWriter:
        self._thread = threading.Thread(target=self._run, name="control-writer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(30)

    def _run(self) -> None:
        url = f"{self.gateway}/admin/synthetic/control"
        while not self._stop.is_set():
            status, body, revision = _http("GET", url)
            if status == 200:
                self.attempts += 1
                name = f"writer-{self.attempts}"
                status, answer, written = _http("PUT", url, body, {"X-Operator": name, "If-Match": f'"{revision}"'})
                if status == 200:
                    self.acknowledged[name] = written
                elif status == 503:
                    self.unavailable_bodies.append(answer)
            elif status == 503:
                self.unavailable_bodies.append(body)
            self.statuses.append(status)
            # Slow enough that the bucket's history (64 revisions) still holds every write of a test.
            self._stop.wait(0.25)


async def _control_history(nc: Client, through: int = 0, wait: float = 30) -> list[tuple[int, str | None]]:
    """(revision, updated_by) of every stored revision of the control entry, read from the stream leader
    once its last sequence reaches ``through`` (or ``wait`` seconds passed: then what it has).

    Not ``kv.history``: its ordered consumer is placed on any replica, and one on a node restarted a
    moment ago (even one /healthz calls current) replays that node's store as it was when it died.
    """
    js = nc.jetstream(timeout=5)
    stream = f"KV_{CONTROL_BUCKET}"
    deadline = time.monotonic() + wait
    while True:
        state = (await js.stream_info(stream)).state   # answered by the leader
        if state.last_seq >= through or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    first = max(state.first_seq, 1)
    subject = f"$KV.{CONTROL_BUCKET}.{CONTROL_KEY}"
    out: list[tuple[int, str | None]] = []
    seq = first
    while True:
        try:
            msg = await js.get_msg(stream, seq, subject=subject, next=True)   # not direct: the leader answers
        except NotFoundError:
            return out
        deleted = (msg.headers or {}).get("KV-Operation") in ("DEL", "PURGE")
        out.append((msg.seq or 0, None if deleted else json.loads(msg.data or b"{}").get("updated_by")))
        seq = (msg.seq or 0) + 1


async def _leader(nc: Client, stream: str) -> str:
    info = await nc.jetstream(timeout=2).stream_info(stream)
    assert info.cluster is not None and info.cluster.leader
    return info.cluster.leader


async def _settled(stack: Stack, nc: Client, what: str) -> list[str]:
    """Once flow has nothing queued: the stored ids, after checking every acknowledged event is among them."""
    async def drained() -> bool:
        return (await asyncio.to_thread(_flow_acknowledged, stack))[2] == 0
    await eventually(drained, 30, f"flow_svc's publish queue to drain {what}", interval=0.2)
    acknowledged, _, _ = await asyncio.to_thread(_flow_acknowledged, stack)
    ids = await _stored_events(nc)
    assert len(ids) == len(set(ids)), f"{what}: {len(ids) - len(set(ids))} events stored twice"
    # Read after the counter: the stream holds at least every event acknowledged by then.
    assert len(ids) >= acknowledged, f"{what}: flow_svc had {acknowledged} events acknowledged, the stream holds {len(ids)}"
    return ids


# -- the tests ----------------------------------------------------------------------------------------


async def test_the_buckets_and_the_stream_keep_three_copies(stack: Stack):
    nc = await _operator(stack.cluster)
    try:
        js = nc.jetstream(timeout=5)
        for stream in replicated_streams():
            info = await js.stream_info(stream)
            assert info.config.num_replicas == 3, stream
            assert info.cluster is not None and len(info.cluster.replicas or []) == 2, stream
        await eventually(lambda: _last_seq(nc), 60, "the first smart-money events", interval=0.2)
    finally:
        await nc.close()


async def test_killing_the_stream_leader_loses_no_event_and_no_control_write(stack: Stack):
    cluster = stack.cluster
    nc = await _operator(cluster)
    writer = ControlWriter(stack.gateway)
    try:
        await eventually(lambda: _last_seq(nc), 60, "smart-money events before the fault", interval=0.2)
        leader = await _leader(nc, SMART_MONEY_STREAM)
        victim = cluster.index_of(leader)
        before_history = await _control_history(nc)
        writer.start()
        await eventually(lambda: len(writer.acknowledged) >= 3, 20, "control writes before the fault")

        js = nc.jetstream(timeout=5)
        last_before = await js.get_msg(SMART_MONEY_STREAM, await _last_seq(nc))
        cluster.kill(victim)
        # Asked of a survivor once the client moved there and a new leader answers.
        killed_at = await eventually(lambda: _seq_or_none(nc), 30, "a new stream leader", interval=0.1)
        # flow_svc retries a publish whose ack the dead leader never sent with the same Nats-Msg-Id:
        # the new leader knows the id (the duplicate window is replicated state) and stores nothing.
        data = last_before.data or b""
        event_id = smart_money_pb2.SmartMoneyEvent.FromString(data).event_id
        ack = await js.publish(names.SMART_MONEY_SUBJECT, data, headers={"Nats-Msg-Id": event_id})
        assert ack.duplicate and ack.seq == last_before.seq, (ack, last_before.seq)
        writes_at_kill = len(writer.acknowledged)
        # The services move to the survivors: events keep arriving and control writes keep landing.
        await eventually(lambda: _grows(nc, killed_at), 30, "smart-money events with the stream leader dead",
                         interval=0.2)
        await eventually(lambda: len(writer.acknowledged) >= writes_at_kill + 3, 30,
                         "control writes with the stream leader dead")
        assert await _leader(nc, SMART_MONEY_STREAM) != leader

        cluster.restart(victim)
        writer.stop()
        ids = await _settled(stack, nc, "after the stream leader's kill")
        assert 500 not in writer.statuses, writer.unavailable_bodies

        # Every acknowledged control write is stored once, at the revision the gateway answered.
        history = await _control_history(nc, through=max(writer.acknowledged.values()))
        new = history[len(before_history):] if len(history) > len(before_history) else history
        written = [name for _, name in new if name and name.startswith("writer-")]
        assert len(written) == len(set(written)), "a control write stored twice"
        stored_at = {name: rev for rev, name in history}
        oldest = history[0][0]
        assert oldest <= min(writer.acknowledged.values()), "the history no longer covers the writes"
        for name, revision in writer.acknowledged.items():
            assert stored_at.get(name) == revision, f"acknowledged control write {name} (rev {revision}) is missing"

        # The restarted node holds replicas as current as the others'.
        async def caught_up() -> bool:
            last = {s: await _seq_or_none(nc, s) for s in replicated_streams()}
            mine = cluster.replica_last_seqs(victim)
            return all(seq is not None and mine.get(s) == seq for s, seq in last.items())
        # The leader's last sequence moves on while we compare: compare until one reading agrees.
        await eventually(caught_up, 30, f"{leader}'s replicas to catch up", interval=0.1)
        assert len(ids) > killed_at
    finally:
        if writer._thread is not None and writer._thread.is_alive():
            writer.stop()
        await nc.close()


async def _seq_or_none(nc: Client, stream: str = SMART_MONEY_STREAM) -> int | None:
    try:
        return await _last_seq(nc, stream)
    except Exception:  # noqa: BLE001 - no stream leader for a moment during the election
        return None


async def _grows(nc: Client, than: int) -> bool:
    return (await _seq_or_none(nc) or 0) > than


async def test_without_a_quorum_the_gateway_answers_503_with_a_reason_and_recovers(stack: Stack):
    cluster = stack.cluster
    nc = await _operator(cluster)
    try:
        survivor = 2
        for index in (0, 1):
            cluster.kill(index)
        control = f"{stack.gateway}/admin/synthetic/control"

        def write() -> tuple[int, dict, int]:
            state = DEFAULT_CONTROL.to_dict()
            return _http("PUT", control, state, {"X-Operator": "no-quorum"})

        status, body, _ = await asyncio.to_thread(write)
        assert status == 503, body
        assert body["error"] == "service_unavailable", body
        # Which 503 depends on where the gateway's own connection was: on a survivor, JetStream has no
        # leader; on a killed node, it is disconnected (and says why a cluster may have no leader).
        assert UNAVAILABLE_REASON.search(body["message"]), body
        answers: dict[str, tuple[int, str | None]] = {"PUT control": (status, body["message"])}
        for path in ("/admin/synthetic/control", "/admin/synthetic/status", "/flow/smart-money?limit=5",
                     f"/history/smart-money?start=0&end={int(time.time() * 1000)}&limit=5"):
            status, body, _ = await asyncio.to_thread(_http, "GET", stack.gateway + path)
            answers[path] = (status, body.get("message"))
            assert status != 500, (path, body)
            assert status < 500 or UNAVAILABLE_REASON.search(body.get("message") or ""), (path, body)

        print("without a quorum:", answers, "write:", status, body)
        for index in (0, 1):
            cluster.restart(index, wait=False)
        cluster.wait_healthy()
        back = time.monotonic()

        async def writes() -> bool:
            return (await asyncio.to_thread(write))[0] == 200
        # Healthy nodes elect the buckets' and stream's leaders within a few seconds.
        await eventually(writes, 20, "a control write once the quorum is back", interval=0.2)
        print(f"control writable {time.monotonic() - back:.1f}s after the nodes were healthy")
        await _settled(stack, nc, "after the quorum came back")
        assert cluster.alive(survivor)
    finally:
        await nc.close()


@dataclass
class PrintLog:
    seen: list[tuple[str, str, int, float]] = field(default_factory=list)   # (id, underlying, ts, wall)

    async def on_message(self, msg) -> None:
        p = wire.option_print_from_proto(market_pb2.OptionPrint.FromString(msg.data))
        self.seen.append((p.id, p.underlying, p.ts, time.monotonic()))

    def of(self, symbols: set[str]) -> list[tuple[str, str, int, float]]:
        return [row for row in self.seen if row[1] in symbols]


async def test_a_killed_options_replica_resumes_its_symbols_without_repeating_a_print(stack: Stack):
    replica = stack.children["options_svc.1"]
    others = set(SYMBOLS[0::2])
    mine = set(SYMBOLS[1::2])
    prints = PrintLog()
    nc = await _operator(stack.cluster)
    try:
        await nc.subscribe(ALL_OPTION_PRINTS, cb=prints.on_message)
        await eventually(lambda: prints.of(mine) and prints.of(others), 30, "prints from both replicas")
        assert replica.process is not None
        replica.process.kill()
        replica.process.wait(10)
        killed = time.monotonic()
        await asyncio.sleep(1.5)
        quiet_from = len(prints.of(mine))
        others_from = len(prints.of(others))
        await eventually(lambda: len(prints.of(others)) > others_from + 10, 20, "the other replica goes on")
        assert len(prints.of(mine)) == quiet_from, "a dead replica's symbols kept printing"

        replica.process = None
        # A probe of its own: the stack's took its baseline at the first start, so the killed
        # process's old reports would pass it before the new process has written one.
        replica.ready = status_written_probe(lambda: stack.cluster.url, status_key("options_svc", 1), {
            "user": nats_auth.OPERATOR, "password": stack.cluster.passwords[nats_auth.OPERATOR]})
        await asyncio.to_thread(replica.start)
        # As long as at the stack's start: it replays the session so far before it reports.
        await asyncio.to_thread(replica.wait_healthy, START_TIMEOUT_S)
        await eventually(lambda: any(row[3] > killed + 1.5 for row in prints.of(mine)), 30, "the replica's symbols again")
        await asyncio.sleep(1.0)
    finally:
        await nc.close()

    ids = [row[0] for row in prints.seen]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} print ids published twice"
    # The restarted replica starts its tape at the session clock's now: the prints of the restart
    # window are not published (live data does not replay). So the one gap in its symbols spans at
    # most the wall time between its last print before and first print after, at the clock's speed.
    rows = sorted(prints.of(mine), key=lambda row: row[2])
    before = [row for row in rows if row[3] < killed]
    after = [row for row in rows if row[3] > killed]
    gap_ts = after[0][2] - before[-1][2]
    window_s = after[0][3] - before[-1][3]
    assert 0 < gap_ts <= (window_s + 1.0) * SPEED * 1000, (gap_ts, window_s)
    # The other replica's symbols show no such gap: their widest spacing stays within a few steps.
    other_rows = sorted(prints.of(others), key=lambda row: row[2])
    widest = max(b[2] - a[2] for a, b in zip(other_rows, other_rows[1:], strict=False))
    assert widest < gap_ts, (widest, gap_ts)
