"""A gateway that lost its NATS connection answers 503 naming the cause, and on a cluster also why the
survivors may have no JetStream leader (the quorum may be gone with the node it was on)."""

from __future__ import annotations

from admin_gateway.app import create_app
from admin_gateway.backend import GatewayClients
from synthmarket.settings import load_settings

TOKEN = "s3cret-token"
CLUSTER = "nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224"


def _disconnected_answer(nats_url: str) -> tuple[int, dict]:
    settings = load_settings({"SYNTHETIC_CONTROL_ENABLED": "1", "SYNTHETIC_ADMIN_TOKEN": TOKEN,
                              "NATS_URL": nats_url})
    clients = GatewayClients(settings)
    # What the NATS client calls when the server it was on goes away (never started: no connection).
    clients._on_disconnected()
    response = create_app(settings, clients).test_client().get(
        "/admin/synthetic/control", headers={"Authorization": f"Bearer {TOKEN}"})
    return response.status_code, response.get_json()


def test_a_gateway_disconnected_from_a_cluster_names_the_disconnection_and_the_missing_leader():
    status, body = _disconnected_answer(CLUSTER)
    assert status == 503 and body["error"] == "service_unavailable", body
    assert f"disconnected from NATS at {CLUSTER}; reconnecting" in body["message"], body
    assert "no JetStream leader" in body["message"], body


def test_a_gateway_disconnected_from_a_single_server_names_only_the_disconnection():
    url = "nats://127.0.0.1:4222"
    status, body = _disconnected_answer(url)
    assert status == 503 and f"disconnected from NATS at {url}; reconnecting" in body["message"], body
    assert "JetStream leader" not in body["message"], body
