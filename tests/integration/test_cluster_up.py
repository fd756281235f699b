"""`synthmarket up --cluster 3`: a three-node JetStream cluster with three copies of every bucket and the
stream, every service on the whole server list, one dead node survived, and nothing left after SIGINT."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

import nats
import pytest

from synthmarket.infra import nats_auth
from synthmarket.infra.embedded_nats import free_port
from synthmarket.infra.jetstream_setup import replicated_streams
from synthmarket.infra.nats_connection import servers
from synthmarket.names import ALL_OPTION_PRINTS
from tests.support.processes import Running, pid_gone, port_closed

pytestmark = pytest.mark.integration

CLUSTER_LINE = re.compile(r"^NATS \(embedded 3-node JetStream cluster, pids (\d+), (\d+), (\d+)\): (\S+)$")
IDENTITIES_LINE = re.compile(r"^NATS identities \(identity=password, mode 0600\): (\S+)$")


@pytest.fixture
def up_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "NATS_REPLICAS")}
    env.update(
        NATS_PORT=str(free_port()), REGIME_GRPC_ADDR=f"127.0.0.1:{free_port()}", GATEWAY_PORT=str(free_port()),
        WEBUI_PORT=str(free_port()), SYNTH_DATA_DIR="", LOG_LEVEL="INFO", PYTHONUNBUFFERED="1",
        SYNTH_SYMBOLS="SPY,QQQ,AAPL", SYNTH_SPEED="10",
    )
    return env


async def _replicas_and_prints(url: str, password: str, replicas_too: bool = True) -> tuple[dict[str, int | None], int]:
    nc = await nats.connect(servers=servers(url), user=nats_auth.OPERATOR, password=password, connect_timeout=5)
    prints = [0]

    async def count(_msg) -> None:
        prints[0] += 1

    try:
        js = nc.jetstream(timeout=5)
        replicas = {s: (await js.stream_info(s)).config.num_replicas for s in replicated_streams()} if replicas_too else {}
        await nc.subscribe(ALL_OPTION_PRINTS, cb=count)
        for _ in range(100):
            if prints[0]:
                break
            await asyncio.sleep(0.1)
        return replicas, prints[0]
    finally:
        await nc.close()


def test_up_cluster_runs_three_nodes_with_three_copies_and_rides_out_a_dead_node(up_env):
    up = Running("--cluster", "3", "--interval", "0.5", env=up_env)
    try:
        match = up.wait_for(CLUSTER_LINE, timeout=30)
        pids = [int(match.group(i)) for i in (1, 2, 3)]
        url = match.group(4)
        ports = [int(u.rsplit(":", 1)[1]) for u in url.split(",")]
        assert ports[0] == int(up_env["NATS_PORT"]) and len(set(ports)) == 3
        passwords = nats_auth.read_passwords(Path(up.wait_for(IDENTITIES_LINE).group(1)))
        up.wait_for(r"^ready;", timeout=120)
        replicas, prints = asyncio.run(_replicas_and_prints(url, passwords[nats_auth.OPERATOR]))
        assert replicas == dict.fromkeys(replicated_streams(), 3)
        assert prints > 0

        os.kill(pids[0], signal.SIGKILL)
        up.wait_for(r"^NATS node synthmarket-1 exited with code -9; 2 of 3 nodes serve on$", timeout=10)
        # The services follow the survivors: the tape still reaches a client of the other two nodes.
        # (Not the stream: a stream whose leader died answers once the survivors elected another.)
        _, prints = asyncio.run(_replicas_and_prints(",".join(url.split(",")[1:]), passwords[nats_auth.OPERATOR],
                                                     replicas_too=False))
        assert prints > 0 and up.proc.poll() is None, "\n".join(up.lines)
    finally:
        code = up.stop(signal.SIGINT, timeout=30)
    assert code == 0, "\n".join(up.lines)
    assert up.lines[-1] == "stopped"
    assert all(pid_gone(pid) for pid in pids)
    assert all(port_closed(port) for port in ports)
