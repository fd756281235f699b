"""The OpenAPI document is valid in shape and lists exactly the routes the app serves."""

from __future__ import annotations

import re

from admin_gateway.app import create_app
from admin_gateway.backend import GatewayClients
from synthmarket.settings import load_settings


def _app():
    settings = load_settings({"SYNTHETIC_CONTROL_ENABLED": "1", "SYNTHETIC_ADMIN_TOKEN": "t"})
    return create_app(settings, GatewayClients(settings))


def _served(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((path, method.lower()))
    return out


def test_every_route_is_documented_and_every_documented_route_exists():
    app = _app()
    doc = app.test_client().get("/openapi.json").get_json()
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == _served(app)


def test_document_shape_and_refs_resolve():
    doc = _app().test_client().get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"]
    schemas = doc["components"]["schemas"]

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    assert value.startswith("#/components/schemas/")
                    assert value.rsplit("/", 1)[1] in schemas, value
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["responses"], f"{method} {path} has no responses"
            if path.startswith("/admin/"):
                assert op["security"] == [{"bearerAuth": []}]


def test_public_event_schema_is_exactly_the_public_fields():
    from synthmarket.domain.marketdata import SmartMoneyEvent
    from tests.support.gateway import make_event

    doc = _app().test_client().get("/openapi.json").get_json()
    schema = doc["components"]["schemas"]["SmartMoneyEvent"]
    assert set(schema["properties"]) == set(make_event(0, 0).to_dict())
    assert set(schema["properties"]) == set(SmartMoneyEvent.__dataclass_fields__)
    assert schema["additionalProperties"] is False
