"""The cluster's configuration: the generated compose config in step and accepted by nats-server, the
compose `cluster` profile and its env file, and the settings a cluster needs (server list, replicas)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from synthmarket.infra import nats_auth
from synthmarket.infra.embedded_nats import find_nats_server
from synthmarket.settings import SettingsError, load_settings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("regime_svc", "options_svc", "equities_svc", "flow_svc", "admin_gateway", "webui")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _cluster_env() -> dict[str, str]:
    lines = (ROOT / "deploy" / "cluster.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def _node_env(password: str | None = "kroute") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NATS_")}
    env |= {nats_auth.password_variable(i): "k" + i for i in nats_auth.IDENTITIES}
    env |= {nats_auth.SERVER_NAME_VARIABLE: "nats-2"}
    if password is not None:
        env[nats_auth.ROUTE_PASSWORD_VARIABLE] = password
        env |= {nats_auth.route_variable(i): f"nats://route:{password}@{node}:6222"
                for i, node in enumerate(nats_auth.COMPOSE_NODES)}
    return env


def test_the_cluster_config_is_generated_and_nats_server_accepts_it_with_the_compose_environment():
    path = ROOT / "deploy" / "nats-cluster.conf"
    assert path.read_text() == nats_auth.cluster_deployment_config()
    # The single server's users and permissions, unchanged.
    assert path.read_text().split("authorization {\n  users:")[1] == \
        nats_auth.deployment_config().split("authorization {\n  users:")[1]
    ok = subprocess.run([find_nats_server(), "-t", "-c", str(path)], env=_node_env(), capture_output=True,
                        text=True, timeout=30)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # Without the route password the node refuses to start rather than run routes open.
    missing = subprocess.run([find_nats_server(), "-t", "-c", str(path)], env=_node_env(None), capture_output=True,
                             text=True, timeout=30)
    assert missing.returncode != 0 and nats_auth.ROUTE_PASSWORD_VARIABLE in missing.stdout + missing.stderr


def test_the_compose_cluster_profile_runs_three_named_nodes_routed_to_each_other():
    services = _compose()["services"]
    nodes = nats_auth.COMPOSE_NODES
    assert [n for n, s in services.items() if "cluster" in s.get("profiles", ())] == list(nodes[1:])
    names = set()
    for index, node in enumerate(nodes):
        spec = services[node]
        env = spec["environment"]
        names.add(env[nats_auth.SERVER_NAME_VARIABLE])
        assert spec["command"] == ["-c", "/etc/nats/synthmarket.conf"]
        mount = spec["volumes"][1].rsplit(":", 2)[0]
        assert mount == ("./deploy/${NATS_CONFIG:-nats-server.conf}" if index == 0 else "./deploy/nats-cluster.conf")
        for i, other in enumerate(nodes):
            route = env[nats_auth.route_variable(i)]
            assert route.startswith(f"nats://{nats_auth.ROUTE_USER}:${{{nats_auth.ROUTE_PASSWORD_VARIABLE}")
            assert route.endswith(f"@{other}:{nats_auth.ROUTE_PORT}")
        assert {nats_auth.password_variable(i) for i in nats_auth.IDENTITIES} <= set(env)
        assert spec["volumes"][0].split(":")[0] in _compose()["volumes"]
    assert names == set(nodes)
    assert len({services[n]["volumes"][0] for n in nodes}) == 3, "each node its own store"


def test_the_cluster_env_file_points_every_service_at_every_node_with_three_copies():
    env = _cluster_env()
    assert env["COMPOSE_PROFILES"] == "cluster"
    assert (ROOT / "deploy" / env["NATS_CONFIG"]).read_text() == nats_auth.cluster_deployment_config()
    assert env["NATS_URL"].split(",") == [f"nats://{n}:4222" for n in nats_auth.COMPOSE_NODES]
    assert int(env["NATS_REPLICAS"]) == len(nats_auth.COMPOSE_NODES)
    services = _compose()["services"]
    setup = services["nats_setup"]
    assert setup["command"] == ["python", "-m", "synthmarket.infra.jetstream_setup"]
    assert setup["environment"]["NATS_USER"] == nats_auth.OPERATOR and setup["restart"] == "no"
    # Every service waits for the buckets and the stream to exist with their replicas.
    for name in APP_SERVICES:
        assert services[name]["depends_on"]["nats_setup"] == {"condition": "service_completed_successfully"}, name
        assert services[name]["environment"]["NATS_REPLICAS"] == "${NATS_REPLICAS:-1}", name


def test_settings_read_a_server_list_and_the_replica_count():
    settings = load_settings({"NATS_URL": "nats://a:4222, nats://b:4222,nats://c:4222", "NATS_REPLICAS": "3"})
    assert settings.nats_servers == ("nats://a:4222", "nats://b:4222", "nats://c:4222")
    assert settings.nats_replicas == 3
    assert load_settings({}).nats_replicas == 1 and load_settings({}).nats_servers == ("nats://127.0.0.1:4222",)
    for bad in ("0", "6", "three"):
        with pytest.raises(SettingsError, match="NATS_REPLICAS"):
            load_settings({"NATS_REPLICAS": bad})


async def test_jetstream_setup_creates_three_copies_and_scales_a_single_copy_bucket(nats_cluster):
    import asyncio
    import sys

    import nats

    from synthmarket.infra.jetstream_setup import replicated_streams
    from synthmarket.infra.nats_connection import servers
    from synthmarket.names import CONTROL_BUCKET

    operator = {"user": nats_auth.OPERATOR, "password": nats_cluster.passwords[nats_auth.OPERATOR]}
    nc = await nats.connect(servers=servers(nats_cluster.url), connect_timeout=5, **operator)
    try:
        js = nc.jetstream(timeout=5)
        # As a service that found it missing would: one copy.
        await js.create_key_value(bucket=CONTROL_BUCKET, history=64, replicas=1)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NATS_")}
        env |= {"NATS_URL": nats_cluster.url, "NATS_REPLICAS": "3", "NATS_USER": operator["user"],
                "NATS_PASSWORD": operator["password"]}
        done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "synthmarket.infra.jetstream_setup"],
                                       env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        for stream in replicated_streams():
            info = await js.stream_info(stream)
            assert info.config.num_replicas == 3, stream
    finally:
        await nc.close()
