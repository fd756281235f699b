"""Settings come from the environment in one place, with documented defaults and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthmarket.domain.universe import DEFAULT_SYMBOLS
from synthmarket.settings import SettingsError, load_settings


def test_defaults_match_the_documented_ports_and_modes():
    s = load_settings({})
    assert (s.nats_url, s.nats_url_given, s.nats_port) == ("nats://127.0.0.1:4222", False, 4222)
    assert s.regime_grpc_addr == "127.0.0.1:50051"
    assert (s.gateway_host, s.gateway_port) == ("127.0.0.1", 8080)
    assert (s.webui_host, s.webui_port) == ("127.0.0.1", 3000)
    assert s.public_api_url == "http://127.0.0.1:8080"
    assert s.synthetic_control_enabled is False
    assert s.public_synthetic_admin is False
    assert s.synthetic_admin_token is None
    assert s.backend_mode == "synthetic"
    assert s.symbols == DEFAULT_SYMBOLS
    assert s.speed == 1.0
    assert s.log_level == "INFO"


def test_environment_overrides_every_port_and_flag():
    s = load_settings(
        {
            "NATS_URL": "nats://10.0.0.5:4222",
            "NATS_PORT": "14222",
            "REGIME_GRPC_ADDR": "0.0.0.0:6000",
            "GATEWAY_PORT": "9090",
            "WEBUI_PORT": "3100",
            "SYNTHETIC_CONTROL_ENABLED": "1",
            "SYNTHETIC_ADMIN_TOKEN": "s3cret",
            "NEXT_PUBLIC_SYNTHETIC_ADMIN": "true",
            "SYNTH_SYMBOLS": " spy, qqq ,",
            "SYNTH_SPEED": "2.5",
            "LOG_LEVEL": "debug",
        }
    )
    assert s.nats_url == "nats://10.0.0.5:4222"
    assert s.nats_port == 14222
    assert s.regime_grpc_addr == "0.0.0.0:6000"
    assert s.gateway_port == 9090
    # The web terminal follows the gateway port unless told otherwise.
    assert s.public_api_url == "http://127.0.0.1:9090"
    assert s.webui_port == 3100
    assert s.synthetic_control_enabled and s.public_synthetic_admin
    assert s.synthetic_admin_token == "s3cret"
    assert s.symbols == ("SPY", "QQQ")
    assert s.speed == 2.5
    assert s.log_level == "DEBUG"


def test_unset_nats_url_is_the_local_server_on_nats_port_for_every_process():
    s = load_settings({"NATS_PORT": "4333"})
    assert (s.nats_url, s.nats_url_given) == ("nats://127.0.0.1:4333", False)
    given = load_settings({"NATS_URL": "nats://10.0.0.5:4222", "NATS_PORT": "4333"})
    assert (given.nats_url, given.nats_url_given) == ("nats://10.0.0.5:4222", True)


def test_empty_values_mean_defaults():
    s = load_settings({"NATS_URL": "", "NATS_PORT": "", "SYNTHETIC_CONTROL_ENABLED": "", "SYNTH_SYMBOLS": ""})
    assert (s.nats_url, s.nats_url_given, s.nats_port) == ("nats://127.0.0.1:4222", False, 4222)
    assert s.synthetic_control_enabled is False
    assert s.symbols == DEFAULT_SYMBOLS


@pytest.mark.parametrize(
    "options, equities, mode",
    [("synthetic", "synthetic", "synthetic"), ("live", "synthetic", "mixed"), ("polygon", "iex", "live")],
)
def test_backend_mode_follows_the_adapters(options, equities, mode):
    s = load_settings({"OPTIONS_ADAPTER": options, "EQUITIES_ADAPTER": equities})
    assert s.backend_mode == mode


@pytest.mark.parametrize(
    "env, name",
    [
        ({"NATS_PORT": "four"}, "NATS_PORT"),
        ({"GATEWAY_PORT": "80a"}, "GATEWAY_PORT"),
        ({"SYNTHETIC_CONTROL_ENABLED": "maybe"}, "SYNTHETIC_CONTROL_ENABLED"),
        ({"SYNTH_SPEED": "0"}, "SYNTH_SPEED"),
        ({"SYNTH_SPEED": "fast"}, "SYNTH_SPEED"),
    ],
)
def test_unusable_values_raise_a_clear_error_naming_the_variable(env, name):
    with pytest.raises(SettingsError, match=name):
        load_settings(env)


def test_settings_are_frozen():
    s = load_settings({})
    with pytest.raises(AttributeError):
        s.nats_port = 1  # type: ignore[misc]


ROOT = Path(__file__).resolve().parents[2]


class _RecordingEnv(dict):
    """An empty environment that remembers every variable name load_settings asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        self.asked.add(key)
        return super().__contains__(key)


def _variables_read_by_settings() -> set[str]:
    env = _RecordingEnv()
    load_settings(env)
    return env.asked


def test_readme_documents_every_environment_variable():
    names = _variables_read_by_settings()
    assert {"NATS_URL", "NATS_PORT", "GATEWAY_PORT", "SYNTH_SPEED"} <= names  # the scan found them
    readme = (ROOT / "README.md").read_text()
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert not missing, f"README.md must document: {', '.join(missing)}"


def test_operator_sign_in_settings_are_optional_and_kept_out_of_repr():
    s = load_settings({})
    assert (s.operator_password, s.session_secret) == (None, None)
    s = load_settings({"SYNTH_OPERATOR_PASSWORD": "pw-123", "SYNTH_SESSION_SECRET": "k" * 40})
    assert (s.operator_password, s.session_secret) == ("pw-123", "k" * 40)
    assert "pw-123" not in repr(s) and "k" * 40 not in repr(s)
    assert load_settings({"SYNTH_OPERATOR_PASSWORD": "", "SYNTH_SESSION_SECRET": ""}).operator_password is None
