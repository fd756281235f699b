"""Who may do what on NATS: one identity per service with only its subjects, and the server config for it.

Writes are the point: only the gateway writes the control entry, only flow publishes smart-money
events, each ingest service publishes only its own tape and status key. Reading (JetStream info,
consumers, direct gets) is open to every identity, since every service reads the market. The
``operator`` identity is the deployment's own, for ``synthmarket up``/``status`` and the ``nats``
CLI. A connection without a known identity is refused.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from synthmarket import names

OPERATOR = "operator"
SERVICES = ("regime_svc", "options_svc", "equities_svc", "flow_svc", "admin_gateway", "webui")
IDENTITIES = (*SERVICES, OPERATOR)
# The user cluster nodes authenticate their routes with: not a client identity (a client cannot log
# in with it), so it is in no passwords file; a deployment keeps it in NATS_PASSWORD_ROUTE.
ROUTE_USER = "route"
CLUSTER_NAME = "synthmarket"

_INBOX = "_INBOX.>"
# JetStream reads: stream and consumer info, ephemeral consumers and their flow control, direct gets.
_READ_JS = [
    "$JS.API.INFO",
    "$JS.API.STREAM.INFO.>",
    "$JS.API.STREAM.NAMES",
    "$JS.API.STREAM.LIST",
    "$JS.API.CONSUMER.CREATE.>",
    "$JS.API.CONSUMER.DELETE.>",
    "$JS.API.CONSUMER.INFO.>",
    "$JS.API.CONSUMER.MSG.NEXT.>",
    "$JS.API.DIRECT.GET.>",
    "$JS.API.STREAM.MSG.GET.>",
    "$JS.FC.>",
    "$JS.ACK.>",
]
_MARKET_DATA = [names.ALL_OPTION_PRINTS, names.ALL_EQUITY_TRADES, names.ALL_EQUITY_QUOTES]


def _kv_stream(bucket: str) -> str:
    return f"KV_{bucket}"


def _create(stream: str) -> str:
    return f"$JS.API.STREAM.CREATE.{stream}"


def _kv_put(bucket: str, key: str) -> str:
    return f"$KV.{bucket}.{key}"


def _publishes(identity: str) -> list[str]:
    control = _create(_kv_stream(names.CONTROL_BUCKET))
    status = _create(_kv_stream(names.STATUS_BUCKET))
    if identity == "regime_svc":
        return [control]
    if identity == "options_svc":
        return [control, status, names.ALL_OPTION_PRINTS, _kv_put(names.STATUS_BUCKET, "options_svc.>")]
    if identity == "equities_svc":
        return [control, status, names.ALL_EQUITY_TRADES, names.ALL_EQUITY_QUOTES,
                _kv_put(names.STATUS_BUCKET, "equities_svc.>")]
    if identity == "flow_svc":
        return [control, status, _create(names.SMART_MONEY_STREAM), f"$JS.API.STREAM.UPDATE.{names.SMART_MONEY_STREAM}",
                names.SMART_MONEY_SUBJECT, _kv_put(names.STATUS_BUCKET, "flow_svc.>")]
    if identity == "admin_gateway":
        return [control, status, _kv_put(names.CONTROL_BUCKET, names.CONTROL_KEY)]
    if identity == "webui":
        return []
    raise ValueError(f"unknown NATS identity {identity!r}")


def permissions(identity: str) -> dict[str, dict[str, list[str]]]:
    """The nats-server permission block of one identity."""
    if identity == OPERATOR:
        return {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}
    subscribe = [_INBOX]
    if identity in ("flow_svc", "webui"):
        subscribe += _MARKET_DATA
    return {"publish": {"allow": _READ_JS + _publishes(identity)}, "subscribe": {"allow": subscribe}}


def generate_passwords() -> dict[str, str]:
    """A fresh random password for every identity."""
    # A letter first, then hex: nats-server parses an environment variable's value as config, so a
    # password starting with a digit or a dash would read as a number and stop the server.
    return {identity: "k" + secrets.token_hex(24) for identity in IDENTITIES}


@dataclass(frozen=True)
class ClusterNode:
    """One node's part in a cluster: its unique name, its route port and every node's ``host:port``
    for routes. A node accepts routes only from ``ROUTE_USER`` with ``route_password`` and dials
    the others with the same."""

    server_name: str
    route_port: int
    routes: Sequence[str]
    route_password: str
    monitor_port: int | None = None


def _cluster_block(host: str, node: ClusterNode) -> dict[str, object]:
    # A node lists itself among the routes too; nats-server notices and drops that one.
    return {"name": CLUSTER_NAME, "host": host, "port": node.route_port,
            "authorization": {"user": ROUTE_USER, "password": node.route_password},
            "routes": [f"nats://{ROUTE_USER}:{node.route_password}@{where}" for where in node.routes]}


def server_config(passwords: Mapping[str, str], host: str, port: int, store_dir: str,
                  cluster: ClusterNode | None = None) -> str:
    """A nats-server config: JetStream on, every identity with its permissions, no anonymous access;
    with ``cluster``, one named node of a JetStream cluster whose routes need the route password."""
    users = [{"user": identity, "password": passwords[identity], "permissions": permissions(identity)}
             for identity in IDENTITIES]
    # JSON is valid nats-server config syntax, and json.dumps quotes every string safely.
    body: dict[str, object] = {"host": host, "port": port, "jetstream": {"store_dir": store_dir},
                               "authorization": {"users": users}}
    if cluster is not None:
        body["server_name"] = cluster.server_name
        body["cluster"] = _cluster_block(host, cluster)
        if cluster.monitor_port is not None:
            body["http"] = f"{host}:{cluster.monitor_port}"
    return json.dumps(body, indent=2) + "\n"


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` readable by its owner only (created 0600, never world-readable for a moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def format_passwords(passwords: Mapping[str, str]) -> str:
    """The passwords file: one ``identity=password`` line each."""
    return "".join(f"{identity}={passwords[identity]}\n" for identity in IDENTITIES if identity in passwords)


class AuthFileError(ValueError):
    """The NATS passwords file is missing, unreadable or incomplete."""


def read_passwords(path: Path) -> dict[str, str]:
    """``identity=password`` lines (blank lines and ``#`` comments allowed)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuthFileError(f"cannot read NATS passwords file {path}: {exc.strerror}") from None
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        identity, sep, password = line.partition("=")
        if not sep or not password or identity not in IDENTITIES:
            raise AuthFileError(f"{path}:{number}: expected <identity>=<password> with identity one of "
                                f"{', '.join(IDENTITIES)}")
        out[identity] = password
    return out


def password_variable(identity: str) -> str:
    """The environment variable a deployment keeps one identity's password in."""
    return f"NATS_PASSWORD_{identity.upper()}"


ROUTE_PASSWORD_VARIABLE = "NATS_PASSWORD_ROUTE"
SERVER_NAME_VARIABLE = "NATS_SERVER_NAME"
# The compose cluster's nodes, by service name (the first is the single server's `nats`).
COMPOSE_NODES = ("nats", "nats-2", "nats-3")
ROUTE_PORT = 6222


def route_variable(index: int) -> str:
    """The environment variable holding the route URL of the compose cluster's node ``index`` (from 0)."""
    return f"NATS_ROUTE_{index + 1}"


def _deployment_users() -> str:
    users = ",\n".join(
        f'    {{"user": "{identity}", "password": ${password_variable(identity)}, '
        f'"permissions": {json.dumps(permissions(identity))}}}'
        for identity in IDENTITIES
    )
    return f"authorization {{\n  users: [\n{users}\n  ]\n}}\n"


def deployment_config(store_dir: str = "/data", monitor_port: int = 8222) -> str:
    """The compose server's config: the same users and permissions, passwords from the environment.

    nats-server resolves an unquoted ``$NAME`` from its environment, so no secret is in the file.
    """
    return (
        "# Generated by `python -m synthmarket.infra.nats_auth > deploy/nats-server.conf`; a test keeps it in step.\n"
        f'jetstream {{ store_dir: "{store_dir}" }}\n'
        f"http_port: {monitor_port}\n"
        + _deployment_users()
    )


def cluster_deployment_config(store_dir: str = "/data", monitor_port: int = 8222,
                              nodes: Sequence[str] = COMPOSE_NODES, route_port: int = ROUTE_PORT) -> str:
    """One config for every node of the compose cluster: the single server's users and permissions,
    plus routes to every node. Each node's name, the route password and the route URLs (which must
    carry that password: nats-server substitutes whole values only) come from its environment."""
    routes = ", ".join(f"${route_variable(i)}" for i in range(len(nodes)))
    return (
        "# Generated by `python -m synthmarket.infra.nats_auth --cluster > deploy/nats-cluster.conf`; "
        "a test keeps it in step.\n"
        f"server_name: ${SERVER_NAME_VARIABLE}\n"
        f'jetstream {{ store_dir: "{store_dir}" }}\n'
        f"http_port: {monitor_port}\n"
        f'cluster {{\n  name: "{CLUSTER_NAME}"\n  port: {route_port}\n'
        f'  authorization {{ user: "{ROUTE_USER}", password: ${ROUTE_PASSWORD_VARIABLE} }}\n'
        f"  routes: [{routes}]\n}}\n"
        + _deployment_users()
    )


if __name__ == "__main__":
    import sys

    # python -m synthmarket.infra.nats_auth > deploy/nats-server.conf
    # python -m synthmarket.infra.nats_auth --cluster > deploy/nats-cluster.conf
    print(cluster_deployment_config() if sys.argv[1:] == ["--cluster"] else deployment_config(), end="")
