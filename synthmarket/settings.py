"""Settings read from the environment: the only module that reads ``os.environ``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from synthmarket.domain.universe import DEFAULT_SYMBOLS


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if raw.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 0 or 1, got {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    # The NATS server every process uses. Unset, it is nats://127.0.0.1:$NATS_PORT everywhere, and
    # `synthmarket up` serves that itself from an embedded server.
    nats_url: str
    regime_grpc_addr: str
    gateway_host: str
    gateway_port: int
    webui_host: str
    webui_port: int
    synthetic_control_enabled: bool
    synthetic_admin_token: str | None
    options_adapter: str
    equities_adapter: str
    public_synthetic_admin: bool
    public_api_url: str
    symbols: tuple[str, ...]
    speed: float
    metrics_port: int
    data_dir: str | None
    log_level: str
    # Live services (defaults keep older callers of Settings(...) working).
    smart_money_retention_hours: float = 24.0
    regime_stream_interval_ms: int = 1000
    flow_flush_interval_ms: int = 1000
    shutdown_grace_s: float = 5.0
    # Where /metrics listens when METRICS_PORT is set; 0.0.0.0 lets a scraper on another host in.
    metrics_host: str = "127.0.0.1"
    # Port of the embedded nats-server that `synthmarket up` starts when NATS_URL is unset.
    nats_port: int = 4222
    # Ingest replicas: replica i of n publishes symbol k (in SYNTH_SYMBOLS order) when k % n == i.
    options_replica: int = 0
    options_replicas: int = 1
    equities_replica: int = 0
    equities_replicas: int = 1
    # True when NATS_URL was set: `synthmarket up` then starts no embedded server.
    nats_url_given: bool = False
    # This process's NATS identity (see synthmarket/infra/nats_auth.py); `up` sets them per child.
    nats_user: str | None = None
    nats_password: str | None = None
    # Host names the gateway and the web terminal answer to (any other Host header gets 400, which
    # defeats DNS rebinding); a leading dot allows subdomains.
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    # `identity=password` lines for every identity: `up` hands each child its own (generated when unset).
    nats_auth_file: str | None = None
    # Web terminal operator sign-in: a password form when set (the one-time link works either way),
    # and the key that signs session cookies (random per start when unset). Kept out of repr.
    operator_password: str | None = field(default=None, repr=False)
    session_secret: str | None = field(default=None, repr=False)
    # Copies JetStream keeps of the control and status buckets and the smart-money stream: 1 on a
    # single server, 3 on a three-node cluster (`synthmarket up --cluster 3` sets it).
    nats_replicas: int = 1

    @property
    def nats_servers(self) -> tuple[str, ...]:
        """Every server of NATS_URL (a comma-separated list for a cluster), in the order given."""
        return nats_servers(self.nats_url)

    @property
    def backend_mode(self) -> str:
        synthetic = [a == "synthetic" for a in (self.options_adapter, self.equities_adapter)]
        if all(synthetic):
            return "synthetic"
        return "mixed" if any(synthetic) else "live"


def _names(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    return tuple(part.strip().lower() for part in raw.split(",") if part.strip())


MAX_NATS_REPLICAS = 5   # JetStream's own limit


def nats_servers(url: str) -> tuple[str, ...]:
    """The servers of a NATS_URL value: ``nats://a:4222,nats://b:4222`` names two."""
    return tuple(part.strip() for part in url.split(",") if part.strip())


def _replicas(env: Mapping[str, str]) -> int:
    replicas = _int(env, "NATS_REPLICAS", 1)
    if not 1 <= replicas <= MAX_NATS_REPLICAS:
        raise SettingsError(f"NATS_REPLICAS must be in 1..{MAX_NATS_REPLICAS}, got {replicas}")
    return replicas


def _replica(env: Mapping[str, str], index_name: str, count_name: str) -> tuple[int, int]:
    """(index, count) of an ingest replica; 0 <= index < count."""
    index = _int(env, index_name, 0)
    count = _int(env, count_name, 1)
    if count < 1:
        raise SettingsError(f"{count_name} must be at least 1, got {count}")
    if not 0 <= index < count:
        raise SettingsError(f"{index_name} must be in 0..{count - 1}, got {index}")
    return index, count


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    symbols_raw = env.get("SYNTH_SYMBOLS", "")
    symbols = tuple(s.strip().upper() for s in symbols_raw.split(",") if s.strip()) or DEFAULT_SYMBOLS
    gateway_port = _int(env, "GATEWAY_PORT", 8080)
    nats_port = _int(env, "NATS_PORT", 4222)
    options_replica, options_replicas = _replica(env, "OPTIONS_REPLICA", "OPTIONS_REPLICAS")
    equities_replica, equities_replicas = _replica(env, "EQUITIES_REPLICA", "EQUITIES_REPLICAS")
    return Settings(
        nats_url=env.get("NATS_URL") or f"nats://127.0.0.1:{nats_port}",
        regime_grpc_addr=env.get("REGIME_GRPC_ADDR", "127.0.0.1:50051"),
        gateway_host=env.get("GATEWAY_HOST", "127.0.0.1"),
        gateway_port=gateway_port,
        webui_host=env.get("WEBUI_HOST", "127.0.0.1"),
        webui_port=_int(env, "WEBUI_PORT", 3000),
        synthetic_control_enabled=_flag(env, "SYNTHETIC_CONTROL_ENABLED", False),
        synthetic_admin_token=env.get("SYNTHETIC_ADMIN_TOKEN") or None,
        options_adapter=env.get("OPTIONS_ADAPTER", "synthetic").strip().lower() or "synthetic",
        equities_adapter=env.get("EQUITIES_ADAPTER", "synthetic").strip().lower() or "synthetic",
        public_synthetic_admin=_flag(env, "NEXT_PUBLIC_SYNTHETIC_ADMIN", False),
        public_api_url=env.get("NEXT_PUBLIC_API_URL", f"http://127.0.0.1:{gateway_port}"),
        symbols=symbols,
        speed=_float(env, "SYNTH_SPEED", 1.0),
        metrics_port=_int(env, "METRICS_PORT", 0),
        data_dir=env.get("SYNTH_DATA_DIR") or None,
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
        smart_money_retention_hours=_float(env, "SMART_MONEY_RETENTION_HOURS", 24.0),
        regime_stream_interval_ms=_int(env, "REGIME_STREAM_INTERVAL_MS", 1000),
        flow_flush_interval_ms=_int(env, "FLOW_FLUSH_INTERVAL_MS", 1000),
        shutdown_grace_s=_float(env, "SHUTDOWN_GRACE_S", 5.0),
        metrics_host=env.get("METRICS_HOST", "127.0.0.1"),
        nats_port=nats_port,
        options_replica=options_replica,
        options_replicas=options_replicas,
        equities_replica=equities_replica,
        equities_replicas=equities_replicas,
        nats_url_given=bool(env.get("NATS_URL")),
        nats_user=env.get("NATS_USER") or None,
        nats_password=env.get("NATS_PASSWORD") or None,
        nats_auth_file=env.get("NATS_AUTH_FILE") or None,
        allowed_hosts=_names(env, "ALLOWED_HOSTS", ("localhost", "127.0.0.1", "::1")),
        operator_password=env.get("SYNTH_OPERATOR_PASSWORD") or None,
        session_secret=env.get("SYNTH_SESSION_SECRET") or None,
        nats_replicas=_replicas(env),
    )
