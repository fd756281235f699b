"""The committed synthmarket.v1 stubs are current, complete, and mirror the shared dataclasses field for field."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grpc
import pytest
from google.protobuf import __version__ as protobuf_version
from google.protobuf.descriptor import FieldDescriptor

from synthmarket.domain.control import SyntheticControlState, SyntheticDerivedStatus
from synthmarket.domain.marketdata import EquityQuote, EquityTrade, OptionPrint, SmartMoneyEvent
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS, Direction, SmartMoneyProfileId
from synthmarket.domain.regimes import Regime, SessionPhase
from synthmarket.domain.session import CoverageState, ScenarioWeights, SessionState, UnderlyingState
from synthmarket.v1 import control_pb2, market_pb2, regime_pb2, regime_pb2_grpc, smart_money_pb2, status_pb2

ROOT = Path(__file__).resolve().parents[2]
GEN_SCRIPT = ROOT / "scripts" / "gen_protos.py"
PACKAGE = "synthmarket.v1"


def load_gen_module():
    spec = importlib.util.spec_from_file_location("gen_protos", GEN_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_match_a_fresh_build():
    result = subprocess.run(
        [sys.executable, str(GEN_SCRIPT), "--check"], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, f"stale stubs:\n{result.stdout}{result.stderr}"


def test_check_lists_stale_missing_and_orphan_stubs(tmp_path):
    gen = load_gen_module()
    copy_dir = tmp_path / "synthmarket" / "v1"
    shutil.copytree(ROOT / "synthmarket" / "v1", copy_dir, ignore=shutil.ignore_patterns("__pycache__"))
    assert gen.stale_files(tmp_path) == []
    (copy_dir / "market_pb2.py").write_text((copy_dir / "market_pb2.py").read_text() + "\n# edited\n")
    (copy_dir / "regime_pb2_grpc.py").unlink()
    (copy_dir / "old_pb2.py").write_text("")
    assert gen.stale_files(tmp_path) == [
        "synthmarket/v1/market_pb2.py (stale)",
        "synthmarket/v1/old_pb2.py (no longer generated)",
        "synthmarket/v1/regime_pb2_grpc.py (missing)",
    ]


def test_package_holds_only_generated_files_and_init():
    names = {p.name for p in (ROOT / "synthmarket" / "v1").iterdir() if p.suffix in (".py", ".pyi")}
    protos = sorted(p.stem for p in (ROOT / "protos" / "synthmarket" / "v1").glob("*.proto"))
    expected = {"__init__.py"} | {f"{s}{suffix}" for s in protos for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")}
    assert names == expected


def _lower_bound(requirement: str) -> tuple[int, ...]:
    match = re.search(r"(?:>=|==)\s*([0-9.]+)", requirement)
    assert match, requirement
    return tuple(int(x) for x in match.group(1).split("."))


def _requirement(requirements: list[str], name: str) -> str:
    return next(r for r in requirements if re.match(rf"{re.escape(name)}\s*[<>=!~]", r))


def test_pinned_runtimes_satisfy_the_generated_code_version_checks():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    deps = pyproject["project"]["dependencies"]
    stub = (ROOT / "synthmarket" / "v1" / "regime_pb2.py").read_text()
    gencode = tuple(int(x) for x in re.search(r"Protobuf Python Version: ([0-9.]+)", stub).group(1).split("."))
    assert _lower_bound(_requirement(deps, "protobuf")) >= gencode, "protobuf pin allows a runtime the stubs reject"
    grpc_stub = (ROOT / "synthmarket" / "v1" / "regime_pb2_grpc.py").read_text()
    grpc_generated = tuple(int(x) for x in re.search(r"GRPC_GENERATED_VERSION = '([0-9.]+)'", grpc_stub).group(1).split("."))
    assert _lower_bound(_requirement(deps, "grpcio")) >= grpc_generated, "grpcio pin allows a runtime the stubs reject"
    # And the runtime in this environment is inside the pins.
    assert tuple(int(x) for x in protobuf_version.split(".")[:3]) >= gencode
    assert tuple(int(x) for x in grpc.__version__.split(".")[:3]) >= grpc_generated


# --- descriptor contents -------------------------------------------------------------------


def test_regime_service_and_its_rpcs():
    service = regime_pb2.DESCRIPTOR.services_by_name["RegimeService"]
    assert service.full_name == "synthmarket.v1.RegimeService"
    methods = {m.name: m for m in service.methods}
    expected = {
        "GetSessionState": ("GetSessionStateRequest", "SessionSnapshot", False),
        "GetUnderlyingState": ("GetUnderlyingStateRequest", "UnderlyingState", False),
        "GetScenarioWeights": ("GetScenarioWeightsRequest", "ScenarioWeights", False),
        "GetCoverageBoost": ("GetCoverageBoostRequest", "GetCoverageBoostResponse", False),
        "GetControl": ("GetControlRequest", "GetControlResponse", False),
        "StreamSessionState": ("StreamSessionStateRequest", "SessionSnapshot", True),
    }
    assert set(methods) == set(expected)
    for name, (request, response, server_streaming) in expected.items():
        method = methods[name]
        assert method.input_type.full_name == f"{PACKAGE}.{request}"
        assert method.output_type.full_name == f"{PACKAGE}.{response}"
        assert method.server_streaming is server_streaming and method.client_streaming is False
    assert hasattr(regime_pb2_grpc, "RegimeServiceStub") and hasattr(regime_pb2_grpc, "add_RegimeServiceServicer_to_server")


def _fields(message) -> dict[str, FieldDescriptor]:
    return {f.name: f for f in message.DESCRIPTOR.fields}


@pytest.mark.parametrize(
    "message, dataclass_type",
    [
        (control_pb2.SyntheticControlState, SyntheticControlState),
        (control_pb2.SyntheticDerivedStatus, SyntheticDerivedStatus),
        (market_pb2.OptionPrint, OptionPrint),
        (market_pb2.EquityTrade, EquityTrade),
        (market_pb2.EquityQuote, EquityQuote),
        (smart_money_pb2.SmartMoneyEvent, SmartMoneyEvent),
        (regime_pb2.SessionState, SessionState),
        (regime_pb2.UnderlyingState, UnderlyingState),
        (regime_pb2.ScenarioWeights, ScenarioWeights),
        (regime_pb2.CoverageState, CoverageState),
    ],
    ids=lambda x: getattr(x, "__name__", None),
)
def test_message_fields_mirror_the_dataclass_in_order(message, dataclass_type):
    assert message.DESCRIPTOR.full_name == f"{PACKAGE}.{dataclass_type.__name__}"
    assert list(_fields(message)) == [f.name for f in dataclasses.fields(dataclass_type)]


def test_profile_weight_message_has_the_six_public_profiles_as_doubles():
    fields = _fields(control_pb2.SyntheticProfileWeightMap)
    assert list(fields) == list(PUBLIC_PROFILE_IDS)
    assert all(f.type == FieldDescriptor.TYPE_DOUBLE for f in fields.values())


def test_field_types_that_carry_meaning():
    control = _fields(control_pb2.SyntheticControlState)
    assert control["shared_seed"].type == FieldDescriptor.TYPE_UINT64
    assert control["preset_id"].enum_type.full_name == f"{PACKAGE}.SyntheticControlPresetId"
    assert control["updated_at"].has_presence and control["updated_by"].has_presence
    prints = _fields(market_pb2.OptionPrint)
    # A missing quote must be distinguishable from a zero bid.
    assert prints["bid"].has_presence and prints["ask"].has_presence and prints["multi_leg_id"].has_presence
    assert not prints["price"].has_presence
    event = _fields(smart_money_pb2.SmartMoneyEvent)
    assert event["profile_id"].enum_type.full_name == f"{PACKAGE}.SmartMoneyProfileId"
    assert event["direction"].enum_type.full_name == f"{PACKAGE}.Direction"
    weights = _fields(regime_pb2.ScenarioWeights)["weights"]
    assert weights.message_type.GetOptions().map_entry
    assert weights.message_type.fields_by_name["value"].type == FieldDescriptor.TYPE_DOUBLE


@pytest.mark.parametrize(
    "proto_enum, prefix, py_enum",
    [
        (control_pb2.SyntheticControlPresetId, "SYNTHETIC_CONTROL_PRESET_ID_", SyntheticControlPresetId),
        (smart_money_pb2.SmartMoneyProfileId, "SMART_MONEY_PROFILE_ID_", SmartMoneyProfileId),
        (smart_money_pb2.Direction, "DIRECTION_", Direction),
        (regime_pb2.SessionPhase, "SESSION_PHASE_", SessionPhase),
        (regime_pb2.Regime, "REGIME_", Regime),
    ],
    ids=lambda x: getattr(x, "__name__", None) if isinstance(x, type) else None,
)
def test_enums_start_unspecified_and_cover_every_python_value(proto_enum, prefix, py_enum):
    values = proto_enum.DESCRIPTOR.values
    assert values[0].name == f"{prefix}UNSPECIFIED" and values[0].number == 0
    assert [v.name for v in values[1:]] == [prefix + member.value.upper() for member in py_enum]


def test_public_profile_numbers_are_stable():
    # A public contract: these numbers are on the wire and must never change.
    assert {v.name: v.number for v in smart_money_pb2.SmartMoneyProfileId.DESCRIPTOR.values} == {
        "SMART_MONEY_PROFILE_ID_UNSPECIFIED": 0,
        "SMART_MONEY_PROFILE_ID_INSTITUTIONAL_DIRECTIONAL": 1,
        "SMART_MONEY_PROFILE_ID_RETAIL_WHALE": 2,
        "SMART_MONEY_PROFILE_ID_EVENT_DRIVEN": 3,
        "SMART_MONEY_PROFILE_ID_VOL_SELLER": 4,
        "SMART_MONEY_PROFILE_ID_ARBITRAGE": 5,
        "SMART_MONEY_PROFILE_ID_HEDGE_REACTIVE": 6,
    }


def test_request_snapshot_and_status_messages():
    assert list(_fields(regime_pb2.GetSessionStateRequest)) == ["ts", "symbols"]
    assert list(_fields(regime_pb2.GetUnderlyingStateRequest)) == ["symbol", "ts"]
    assert list(_fields(regime_pb2.GetScenarioWeightsRequest)) == ["symbol", "ts"]
    assert list(_fields(regime_pb2.GetCoverageBoostRequest)) == ["profile_id", "coverage_state"]
    assert list(_fields(regime_pb2.GetCoverageBoostResponse)) == ["boost"]
    assert list(_fields(regime_pb2.GetControlRequest)) == []
    assert list(_fields(regime_pb2.GetControlResponse)) == ["control", "revision"]
    assert list(_fields(regime_pb2.StreamSessionStateRequest)) == ["symbols", "interval_ms"]
    snapshot = _fields(regime_pb2.SessionSnapshot)
    assert list(snapshot) == ["session", "underlyings", "control_revision", "control"]
    assert snapshot["underlyings"].is_repeated
    assert snapshot["control_revision"].type == FieldDescriptor.TYPE_UINT64
    status = _fields(status_pb2.StatusReport)
    assert list(status) == [
        "service", "replica", "applied_control_revision", "profile_hit_counts", "session_phase", "regime",
        "focus_symbols", "last_publish_ts", "prints_published", "control_timeline",
    ]
    assert status["profile_hit_counts"].message_type.fields_by_name["value"].type == FieldDescriptor.TYPE_INT64


def test_status_report_roundtrips_through_bytes():
    report = status_pb2.StatusReport(
        service="options_svc", replica="a1", applied_control_revision=7,
        profile_hit_counts={p: i for i, p in enumerate(PUBLIC_PROFILE_IDS)}, session_phase="open",
        regime="trend_up", focus_symbols=["NVDA", "TSLA"], last_publish_ts=1_790_000_000_000, prints_published=2**40,
    )
    assert status_pb2.StatusReport.FromString(report.SerializeToString()) == report


def test_every_message_lives_in_package_synthmarket_v1():
    for module in (control_pb2, market_pb2, regime_pb2, smart_money_pb2, status_pb2):
        assert module.DESCRIPTOR.package == PACKAGE
        assert module.DESCRIPTOR.name.startswith("synthmarket/v1/")
