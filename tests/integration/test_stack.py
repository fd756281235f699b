"""`synthmarket up` end to end: every service starts, `status` shows the regime, prints and events flow, SIGINT stops all."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import nats
import pytest

from synthmarket.domain.regimes import REGIME_IDS
from synthmarket.infra import nats_auth
from synthmarket.infra.embedded_nats import free_port
from synthmarket.infra.nats_auth import read_passwords
from synthmarket.names import ALL_EQUITY_QUOTES, ALL_EQUITY_TRADES, ALL_OPTION_PRINTS
from synthmarket_cli.status import stream_state
from tests.support.processes import Running, children_of, pid_gone, port_closed, synthmarket_exe

pytestmark = pytest.mark.integration

SERVICES = ("regime_svc", "options_svc", "equities_svc", "flow_svc", "admin_gateway", "webui")
STATUS_S = 20


async def _prints_and_events(url: str, password: str) -> tuple[int, int]:
    # The web terminal's identity: it may read the tape and the stream, and nothing more.
    nc = await nats.connect(url, user="webui", password=password, connect_timeout=5)
    reader = {"user": "webui", "password": password}
    seen = {"options": 0, "equities": 0}

    async def count(msg) -> None:
        seen["options" if msg.subject.startswith("md.options.") else "equities"] += 1

    for subject in (ALL_OPTION_PRINTS, ALL_EQUITY_TRADES, ALL_EQUITY_QUOTES):
        await nc.subscribe(subject, cb=count)
    try:
        for _ in range(150):
            state = await stream_state(url, credentials=reader)
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
            up.wait_for(rf"synthmarket_cli\.up\.supervisor: {name} is up", timeout=40)
        terminal = up.wait_for(r"open the web terminal at (http://\S+)")
        assert terminal.group(1) == f"http://127.0.0.1:{stack_env['WEBUI_PORT']}"
        up.wait_for(r"^ready; Ctrl-C stops everything \(session clock speed 120x\)")
        children = children_of(up.proc.pid)
        # nats-server, six services, a gunicorn worker under each of the two web servers.
        assert len(children) >= 1 + len(SERVICES) + 2, children

        url = f"nats://127.0.0.1:{stack_env['NATS_PORT']}"
        identities = Path(up.wait_for(r"^NATS identities \(identity=password, mode 0600\): (\S+)$").group(1))
        passwords = read_passwords(identities)
        option_prints, events = asyncio.run(_prints_and_events(url, passwords["webui"]))
        assert option_prints > 0 and events > 0

        env = {**stack_env, "SYNTH_SPEED": "120", "NATS_USER": "operator", "NATS_PASSWORD": passwords["operator"]}
        # Each ingest service writes its status report every second: the one read may predate its first
        # publish, so read until every ingest report has one (or the deadline, and judge what it says).
        deadline = time.monotonic() + STATUS_S
        while True:
            done = subprocess.run([synthmarket_exe(), "status", "--json"], env=env, capture_output=True, text=True,
                                  timeout=30)
            assert done.returncode == 0, done.stdout + done.stderr
            status = json.loads(done.stdout)
            published = [r.get("prints_published", 0) > 0 for r in status["ingest"].values()]
            if (published and all(published)) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        regime = status["regime_svc"]
        assert regime["up"] and regime["regime"] and regime["session_phase"], regime
        assert {"options_svc.0", "equities_svc.0"} <= set(status["ingest"]), status["ingest"]
        for report in status["ingest"].values():
            assert report["regime"] and report["prints_published"] > 0, report
        assert status["flow_svc"]["events"] > 0 and status["admin_gateway"]["up"] and status["webui"]["up"]

        lines = subprocess.run([synthmarket_exe(), "status"], env=env, capture_output=True, text=True, timeout=30)
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
    alive = sorted(pid for pid in children if not pid_gone(pid))
    assert not alive, f"still running after SIGINT: {alive}"
    for port in (stack_env["NATS_PORT"], stack_env["GATEWAY_PORT"], stack_env["WEBUI_PORT"]):
        assert port_closed(int(port))


# -- compose.yaml and the Dockerfile -------------------------------------------------------------
# The docker CLI here has no compose plugin (and no engine), so `docker compose config` cannot run;
# these checks read the file with PyYAML (anchors and merge keys resolved as compose does) and
# hold it to the rules compose enforces plus our own. Where a compose binary exists it validates too.

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_SERVICES = {"nats", *SERVICES}


def _compose() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _settings_variables() -> set[str]:
    source = (ROOT / "synthmarket" / "settings.py").read_text()
    return set(re.findall(r'"([A-Z][A-Z0-9_]+)"', source))


def _check_service(name: str, spec: dict, services: dict, identity: str | None = None) -> None:
    import importlib.util

    from synthmarket_cli.status import CHECKABLE

    assert spec["image"] == "synthmarket:latest" and spec["build"] == ".", name
    assert spec["command"][:2] == ["python", "-m"], name
    module = spec["command"][2]
    assert importlib.util.find_spec(f"{module}.__main__") is not None, f"{name}: python -m {module} has no entry"
    env = spec["environment"]
    assert env["NATS_URL"] == "${NATS_URL:-nats://nats:4222}", name
    identity = identity or name
    assert env["NATS_USER"] == identity, f"{name} connects to NATS as itself"
    assert env["NATS_PASSWORD"].startswith("${" + nats_auth.password_variable(identity) + ":?"), name
    unknown = set(env) - _settings_variables()
    assert not unknown, f"{name}: variables no setting reads: {unknown}"
    test = spec["healthcheck"]["test"]
    assert test[:4] == ["CMD", "synthmarket", "status", "--check"] and test[4] in CHECKABLE, name
    for dep, cond in spec["depends_on"].items():
        assert dep in services, f"{name} depends on unknown {dep}"
        assert cond["condition"] in ("service_started", "service_healthy", "service_completed_successfully"), name
        if cond["condition"] == "service_healthy":
            assert "healthcheck" in services[dep], f"{name} waits for {dep}, which has no health check"


def test_compose_runs_nats_with_jetstream_and_every_service_from_one_image():
    compose = _compose()
    services = compose["services"]
    assert {n for n, spec in services.items() if "profiles" not in spec} == COMPOSE_SERVICES | {"nats_setup"}
    nats_spec = services["nats"]
    assert nats_spec["image"].startswith("nats:2.10") and nats_spec["command"] == ["-c", "/etc/nats/synthmarket.conf"]
    assert "healthcheck" in nats_spec and nats_spec["volumes"][0].split(":")[0] in compose["volumes"]
    # The server's users and permissions are the product's, with every password from the environment.
    assert "./deploy/${NATS_CONFIG:-nats-server.conf}:/etc/nats/synthmarket.conf:ro" in nats_spec["volumes"]
    assert (ROOT / "deploy" / "nats-server.conf").read_text() == nats_auth.deployment_config()
    assert {v for v in nats_spec["environment"] if v.startswith("NATS_PASSWORD_")} == {
        nats_auth.password_variable(i) for i in nats_auth.IDENTITIES} | {nats_auth.ROUTE_PASSWORD_VARIABLE}
    for name in SERVICES:
        _check_service(name, services[name], services)
        # Each container runs the service it is named for; flow through the command line, which
        # wires in the options tape it replays at start.
        want = ["python", "-m", "synthmarket_cli", "flow"] if name == "flow_svc" else ["python", "-m", name]
        assert services[name]["command"] == want, name
    # The servers listen on every interface inside their containers and are reached by name.
    assert services["regime_svc"]["environment"]["REGIME_GRPC_ADDR"] == "0.0.0.0:50051"
    assert all(services[n]["environment"]["REGIME_GRPC_ADDR"] == "regime_svc:50051" for n in SERVICES[1:])
    gateway, webui = services["admin_gateway"]["environment"], services["webui"]["environment"]
    assert {"SYNTHETIC_CONTROL_ENABLED", "SYNTHETIC_ADMIN_TOKEN", "OPTIONS_ADAPTER", "EQUITIES_ADAPTER"} <= set(gateway)
    assert {"NEXT_PUBLIC_SYNTHETIC_ADMIN", "NEXT_PUBLIC_API_URL", "SYNTHETIC_ADMIN_TOKEN"} <= set(webui)
    assert services["admin_gateway"]["ports"] == ["8080:8080"] and services["webui"]["ports"] == ["3000:3000"]
    assert nats_spec["ports"] == ["127.0.0.1:4222:4222"]


def test_the_commented_scaling_example_is_a_valid_second_options_replica():
    import yaml

    lines = (ROOT / "compose.yaml").read_text().splitlines()
    start = lines.index("  # options_svc_1:")
    block = []
    for line in lines[start:]:
        if not line.startswith("  #") or line.strip() == "#":
            break
        block.append(line.replace("  # ", "  ", 1))
    # Parsed in place of the comment, so its anchors resolve as they would for a user.
    text = "\n".join(lines[:start] + block + lines[start + len(block):])
    services = yaml.safe_load(text)["services"]
    replica = services["options_svc_1"]
    _check_service("options_svc_1", replica, services, identity="options_svc")
    assert replica["environment"]["OPTIONS_REPLICA"] == "1" and replica["environment"]["OPTIONS_REPLICAS"] == "2"
    assert replica["healthcheck"]["test"][-1] == "options_svc"


def test_the_dockerfile_copies_every_package_and_compose_validates_where_a_binary_exists():
    import shutil
    import tomllib

    dockerfile = (ROOT / "Dockerfile").read_text()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in config["tool"]["setuptools"]["packages"]["find"]["include"]]
    for package in packages:
        assert f"COPY {package}/ {package}/" in dockerfile, package
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and "tests" in ignored and not set(packages) & set(ignored)
    for argv in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]) is None:
            continue
        if subprocess.run([*argv, "version"], capture_output=True, timeout=30).returncode != 0:
            continue  # the docker CLI without its compose plugin
        done = subprocess.run([*argv, "-f", str(ROOT / "compose.yaml"), "config", "-q"], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
