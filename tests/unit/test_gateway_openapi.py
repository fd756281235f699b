"""The OpenAPI document is valid in shape and lists exactly the routes the app serves."""

from __future__ import annotations

import re

from admin_gateway.app import create_app
from admin_gateway.backend import GatewayClients
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
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


def _doc() -> dict:
    return _app().test_client().get("/openapi.json").get_json()


def test_control_schemas_state_the_rules_the_server_enforces():
    from admin_gateway.json_body import MAX_BODY_BYTES
    from synthmarket.domain.control import REQUIRED_FIELDS, SEED_MAX
    from synthmarket.domain.presets import SyntheticControlPresetId

    schemas = _doc()["components"]["schemas"]
    update, state = schemas["ControlUpdate"], schemas["ControlState"]
    for schema in (update, state):
        props = schema["properties"]
        assert schema["additionalProperties"] is False
        assert props["preset_id"]["enum"] == [p.value for p in SyntheticControlPresetId]
        assert props["coverage_window_minutes"]["enum"] == [10, 20, 30]
        assert (props["shared_seed"]["minimum"], props["shared_seed"]["maximum"]) == (0, SEED_MAX) == (0, 2**64 - 1)
        weights = props["profile_weights"]
        assert weights["additionalProperties"] is False and weights["required"] == list(PUBLIC_PROFILE_IDS)
        assert all(w["enum"] == [0.6, 1.0, 1.6] for w in weights["properties"].values())
        assert props["updated_by"]["readOnly"] is True and "admin-token" in props["updated_by"]["description"]
    assert update["required"] == list(REQUIRED_FIELDS)
    assert set(state["required"]) == set(state["properties"])
    put = _doc()["paths"]["/admin/synthetic/control"]["put"]
    assert put["requestBody"]["x-max-body-bytes"] == MAX_BODY_BYTES
    assert list(put["requestBody"]["content"]) == ["application/json"]
    assert [p["name"] for p in put["parameters"]] == ["If-Match"], "X-Operator is not read"
    assert schemas["PayloadTooLarge"]["properties"]["max_bytes"]["const"] == MAX_BODY_BYTES


def test_every_error_answer_is_documented_with_its_body():
    doc = _doc()
    schemas = doc["components"]["schemas"]
    put = doc["paths"]["/admin/synthetic/control"]["put"]["responses"]
    assert set(put) == {"200", "400", "401", "404", "409", "412", "413", "415", "422", "503"}
    expected_error = {"400": "unreadable_body", "401": "unauthorized", "404": "not_found",
                      "409": "synthetic_control_unavailable", "412": "revision_mismatch",
                      "413": "payload_too_large", "415": "unsupported_media_type", "422": "invalid_control_state",
                      "503": "service_unavailable"}
    for status, code in expected_error.items():
        name = put[status]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        body = schemas[name]
        assert body["properties"]["error"]["const"] == code
        assert body["additionalProperties"] is False and {"error", "message"} <= set(body["required"])
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert "application/json" in response["content"], (method, path, status)


def test_query_parameters_state_their_bounds_and_formats():
    from admin_gateway.params import (
        CURSOR_PATTERN,
        FLOW_LIMIT_MAX,
        HISTORY_LIMIT_MAX,
        ISO_TIME_PATTERN,
        MIN_PREMIUM_MAX,
        REPLAY_SPEED_MAX,
        TS_MAX,
    )

    paths = _doc()["paths"]

    def params(path: str) -> dict[str, dict]:
        return {p["name"]: p for p in paths[path]["get"]["parameters"]}

    flow, history, replay = params("/flow/smart-money"), params("/history/smart-money"), params("/replay/smart-money")
    assert (flow["limit"]["schema"]["minimum"], flow["limit"]["schema"]["maximum"]) == (1, FLOW_LIMIT_MAX)
    assert history["limit"]["schema"]["maximum"] == HISTORY_LIMIT_MAX
    assert history["cursor"]["schema"]["pattern"] == CURSOR_PATTERN
    assert replay["speed"]["schema"] == {"type": "number", "minimum": 0, "maximum": REPLAY_SPEED_MAX}
    for query in (history, replay):
        for name in ("start", "end"):
            assert query[name]["required"] is True
            millis, iso = query[name]["schema"]["oneOf"]
            assert (millis["type"], millis["minimum"], millis["maximum"]) == ("integer", 0, TS_MAX)
            assert (iso["type"], iso["format"], iso["pattern"]) == ("string", "date-time", ISO_TIME_PATTERN)
            assert "without an offset is refused" in query[name]["description"]
    for query in (flow, history, replay):
        assert query["profile"]["schema"]["items"]["enum"] == list(PUBLIC_PROFILE_IDS)
        assert query["profile"]["explode"] is False and query["profile"]["style"] == "form"
        assert query["direction"]["schema"]["items"]["enum"] == ["bullish", "bearish", "neutral"]
        assert query["min_premium"]["schema"]["maximum"] == MIN_PREMIUM_MAX
