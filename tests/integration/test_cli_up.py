"""The ``synthmarket`` command line and ``synthmarket up`` run as a real process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import nats
import pytest

from synthmarket import __version__
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.regimes import REGIME_IDS, Regime, SessionPhase
from synthmarket.engine import get_session_state
from synthmarket.infra.control_store import load_control, write_control
from synthmarket.infra.embedded_nats import EmbeddedNats, free_port
from synthmarket.infra.nats_auth import IDENTITIES, read_passwords
from synthmarket_cli import main as cli
from synthmarket_cli.up.children import ChildFailed, ProcessChild, tcp_ready
from synthmarket_cli.up.report import REPRINT_AFTER_S, LinePrinted, format_session, session_line_due, session_news
from synthmarket_cli.up.supervisor import Supervisor
from tests.support.processes import Running, children_of, pid_gone, port_closed, synthmarket_exe

pytestmark = pytest.mark.integration

REGIME_LINE = re.compile(r"\| regime (" + "|".join(REGIME_IDS) + r") \|")
IDENTITIES_LINE = re.compile(r"^NATS identities \(identity=password, mode 0600\): (\S+)$")
NATS_LINE = re.compile(r"pid (\d+)\): nats://127\.0\.0\.1:(\d+)")
# The first session line follows every service's start, flow_svc's replay of the session so far
# included (seconds late in the day, more on a busy machine), as the ready line does.
STACK_UP_S = 60










@pytest.fixture
def up_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NATS_URL"}
    # `up` starts every service: give each its own free port so parallel runs never collide.
    # Two names: these tests are about the processes, and a smaller market starts in a fraction of
    # the time (the services replay the session so far before they are ready).
    env.update(
        SYNTH_SYMBOLS="SPY,AAPL",
        NATS_PORT=str(free_port()),
        REGIME_GRPC_ADDR=f"127.0.0.1:{free_port()}",
        GATEWAY_PORT=str(free_port()),
        WEBUI_PORT=str(free_port()),
        SYNTH_DATA_DIR="",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


async def _write_event_day(url: str, password: str) -> int:
    # Only the gateway's identity may write the control: use it, as an operator would.
    nc = await nats.connect(url, user="admin_gateway", password=password, connect_timeout=5, max_reconnect_attempts=0)
    try:
        kv = await nc.jetstream().key_value("synthetic_control")
        _, revision = await load_control(kv)
        state = DEFAULT_CONTROL.with_update(preset_id=SyntheticControlPresetId.EVENT_DAY, updated_by="test")
        return await write_control(kv, state, revision)
    finally:
        await nc.close()


def test_up_reports_the_live_regime_follows_control_and_stops_cleanly_on_sigint(up_env):
    port = int(up_env["NATS_PORT"])
    up = Running("--interval", "0.3", env=up_env)
    try:
        nats_match = up.wait_for(NATS_LINE)
        nats_pid, served_port = int(nats_match.group(1)), int(nats_match.group(2))
        assert served_port == port, "NATS_PORT must be honoured when the port is free"
        up.wait_for(REGIME_LINE, timeout=STACK_UP_S)
        assert "control balanced_demo (defaults)" in up.lines[-1]
        identities = Path(up.wait_for(IDENTITIES_LINE).group(1))
        assert identities.stat().st_mode & 0o777 == 0o600
        passwords = read_passwords(identities)
        assert set(passwords) == set(IDENTITIES)
        revision = asyncio.run(_write_event_day(f"nats://127.0.0.1:{port}", passwords["admin_gateway"]))
        up.wait_for(rf"control changed: event_day \(rev {revision}\)")
        up.wait_for(rf"control event_day \(rev {revision}\)")
    finally:
        code = up.stop(signal.SIGINT)
    assert code == 0, "\n".join(up.lines)
    assert up.lines[-1] == "stopped"
    assert pid_gone(nats_pid), "the nats-server child must not outlive `synthmarket up`"
    assert port_closed(port)




def test_no_child_outlives_up_when_it_is_killed_outright(up_env):
    up = Running("--interval", "5", env=up_env)
    try:
        up.wait_for(r"^ready;", timeout=STACK_UP_S)
        children = children_of(up.proc.pid)
        assert len(children) >= 2, "nats-server and the services run as children"
        up.proc.kill()  # SIGKILL: no chance to clean up
        up.proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not all(pid_gone(p) for p in children):
            time.sleep(0.1)
        left = sorted(p for p in children if not pid_gone(p))
        assert not left, f"orphans after SIGKILL of up: {left}"
    finally:
        up.stop(signal.SIGKILL)


def test_up_moves_to_a_free_port_when_nats_port_is_taken(up_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        up_env["NATS_PORT"] = str(busy)
        up = Running("--interval", "5", env=up_env)
        try:
            up.wait_for(rf"NATS port {busy} is taken; the embedded server uses free port \d+")
            nats_match = up.wait_for(NATS_LINE)
            assert int(nats_match.group(2)) != busy
        finally:
            code = up.stop(signal.SIGTERM)
    assert code == 0, "\n".join(up.lines)
    assert pid_gone(int(nats_match.group(1)))


def test_up_uses_an_external_nats_url_and_starts_no_server(up_env):
    with EmbeddedNats() as external:
        up_env["NATS_URL"] = external.url
        up_env["NATS_AUTH_FILE"] = str(external.auth_file)   # the services' identities on that server
        up = Running("--interval", "0.3", env=up_env)
        try:
            up.wait_for(rf"NATS \(external, NATS_URL\): {re.escape(external.url)}")
            up.wait_for(REGIME_LINE, timeout=STACK_UP_S)
        finally:
            code = up.stop(signal.SIGTERM)
        assert code == 0, "\n".join(up.lines)
        assert not any("embedded" in line for line in up.lines)
        assert external.process is not None and external.process.poll() is None, "not ours to stop"


def test_up_stops_promptly_while_still_waiting_for_nats(up_env):
    up_env["NATS_URL"] = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    up = Running(env=up_env)
    up.wait_for(r"NATS \(external, NATS_URL\)")
    started = time.monotonic()
    assert up.stop(signal.SIGINT) == 0, "\n".join(up.lines)
    assert time.monotonic() - started < 5


def test_up_rejects_bad_settings_with_exit_code_2(up_env):
    up_env["NATS_PORT"] = "not-a-port"
    done = subprocess.run([synthmarket_exe(), "up"], env=up_env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "NATS_PORT" in done.stderr


# -- the session line -----------------------------------------------------------------------


def _printed_lines(checks) -> list[tuple[float, str]]:
    """What `up`'s loop prints for a run of (monotonic second, state, control revision) checks."""
    printed, last = [], None
    for now, state, revision in checks:
        news = session_news(state, revision)
        if session_line_due(last, news, now):
            printed.append((now, format_session(state.ts if state else 0, state, DEFAULT_CONTROL, revision)))
            last = LinePrinted(news, now)
    return printed


def test_the_session_line_is_printed_on_a_change_and_otherwise_once_a_minute():
    assert REPRINT_AFTER_S == 60
    calm = get_session_state(1_795_186_800_000, DEFAULT_CONTROL)     # 2026-11-20 10:00 New York
    # The clock, volatility, liquidity and focus move at every check; none of that is news.
    def drifted(seconds: float):
        return replace(calm, ts=calm.ts + int(seconds * 1000), volatility_level=calm.volatility_level + seconds / 1000,
                       liquidity_level=calm.liquidity_level / 2, focus_symbols=("SPY",) if seconds % 10 else ())

    other_regime = next(r for r in Regime if r != calm.regime)
    other_phase = next(p for p in SessionPhase if p != calm.session_phase)
    steps = [(float(t), drifted(t), None) for t in range(0, 150, 5)]            # a check every 5 s
    steps += [(150.0, replace(drifted(150), regime=other_regime), None)]           # a new regime
    steps += [(155.0 + t, replace(drifted(155 + t), regime=other_regime), None) for t in range(0, 30, 5)]
    steps += [(185.0, replace(drifted(185), regime=other_regime), 9)]              # the control changed
    steps += [(186.0, replace(drifted(186), regime=other_regime, session_phase=other_phase), 9)]  # a new phase
    steps += [(187.0, None, 9), (188.0, None, 9)]                                 # outside the session
    printed = _printed_lines(steps)
    assert [when for when, _ in printed] == [0.0, 60.0, 120.0, 150.0, 185.0, 186.0, 187.0]
    assert f"regime {other_regime.value}" in printed[3][1] and "(rev 9)" in printed[4][1]
    assert f"phase {other_phase.value}" in printed[5][1] and "outside the regular session" in printed[6][1]


# -- the command table --------------------------------------------------------------------


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"synthmarket {__version__}"


@pytest.mark.parametrize(
    "argv, message",
    [([], "required: COMMAND"), (["launch"], "invalid choice: 'launch'"), (["up", "--bogus"], "--bogus")],
)
def test_bad_usage_exits_2_with_a_clear_message(capsys, argv, message):
    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    assert done.value.code == 2
    assert message in capsys.readouterr().err


def test_help_lists_commands_and_survives_a_command_that_cannot_import(capsys, monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "later", "synthmarket.not_written_yet")
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "up" in out and "Run the whole synthetic market locally" in out
    assert "later" in out and "unavailable" in out
    # Choosing `up` imports only `up`: the broken entry does not get in the way.
    assert cli.build_parser(["up"]).parse_args(["up", "--interval", "2"]).interval == 2.0


def test_a_command_is_one_line_in_the_table(monkeypatch, tmp_path):
    (tmp_path / "hello_cmd.py").write_text(
        '"""Say hello."""\n'
        "def add_arguments(parser):\n    parser.add_argument('--name', default='market')\n"
        "def run(args):\n    print('hello', args.name)\n    return 7\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.COMMANDS, "hello", "hello_cmd")
    assert cli.main(["hello", "--name", "desk"]) == 7


# -- the process supervisor ---------------------------------------------------------------


class FakeChild:
    def __init__(self, name: str, journal: list[str], healthy: bool = True) -> None:
        self.name, self.journal, self.healthy = name, journal, healthy
        self.code: int | None = None

    def start(self) -> None:
        self.journal.append(f"start {self.name}")

    def wait_healthy(self, timeout: float) -> None:
        if not self.healthy:
            raise ChildFailed(f"{self.name} unhealthy")
        self.journal.append(f"healthy {self.name}")

    def exit_code(self) -> int | None:
        return self.code

    def stop(self, timeout: float) -> None:
        self.journal.append(f"stop {self.name}")

    def urls(self):
        return [(self.name, f"tcp://{self.name}")]


def test_supervisor_starts_in_order_and_stops_in_reverse():
    journal: list[str] = []
    a, b, c = (FakeChild(n, journal) for n in "abc")
    sup = Supervisor([a, b, c])
    sup.start_all()
    assert sup.urls() == [("a", "tcp://a"), ("b", "tcp://b"), ("c", "tcp://c")]
    b.code = 3
    assert sup.exited() == [("b", 3)]
    sup.stop_all()
    assert journal == ["start a", "healthy a", "start b", "healthy b", "start c", "healthy c", "stop c", "stop b", "stop a"]


def test_supervisor_unwinds_what_it_started_when_a_child_is_unhealthy():
    journal: list[str] = []
    sup = Supervisor([FakeChild("a", journal), FakeChild("b", journal, healthy=False), FakeChild("c", journal)])
    with pytest.raises(ChildFailed, match="b unhealthy"):
        sup.start_all()
    assert journal == ["start a", "healthy a", "start b", "stop b", "stop a"]


def test_process_child_waits_for_health_and_stops_its_process():
    port = free_port()
    child = ProcessChild(
        name="http",
        argv=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        ready=tcp_ready("127.0.0.1", port),
    )
    sup = Supervisor([child], health_timeout=15)
    sup.start_all()
    assert child.process is not None
    pid = child.process.pid
    assert not port_closed(port)
    sup.stop_all()
    assert pid_gone(pid) and port_closed(port)


def test_process_child_that_exits_while_starting_is_reported():
    child = ProcessChild(name="broken", argv=[sys.executable, "-c", "raise SystemExit(4)"], ready=lambda: False)
    with pytest.raises(ChildFailed, match="broken exited with code 4"):
        Supervisor([child], health_timeout=15).start_all()
