"""Admin route rules that are decided before any NATS call: 404 when off, 401, 409, 415, 413, 422."""

from __future__ import annotations

import json

import pytest

from admin_gateway.admin import MAX_BODY_BYTES
from admin_gateway.app import create_app
from admin_gateway.backend import GatewayClients
from synthmarket.domain.control import DEFAULT_CONTROL, SEED_MAX
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.settings import load_settings

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ADMIN_ROUTES = [
    ("GET", "/admin/synthetic/status"),
    ("GET", "/admin/synthetic/control"),
    ("PUT", "/admin/synthetic/control"),
    ("DELETE", "/admin/synthetic/control"),
    ("POST", "/admin/synthetic/status"),
    ("GET", "/admin/synthetic/unknown"),
    ("GET", "/admin"),
]


def _client(**env: str):
    # No NATS_URL and clients never started: any request reaching NATS would answer 503.
    base = {"SYNTHETIC_CONTROL_ENABLED": "1", "SYNTHETIC_ADMIN_TOKEN": TOKEN}
    base.update(env)
    settings = load_settings(base)
    return create_app(settings, GatewayClients(settings)).test_client()


def _valid() -> dict:
    return DEFAULT_CONTROL.to_dict()


def _put(client, body, headers=None, raw: bytes | None = None, content_type="application/json"):
    data = raw if raw is not None else json.dumps(body).encode()
    return client.put("/admin/synthetic/control", data=data, content_type=content_type,
                      headers={**AUTH, **(headers or {})})


def _fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.get_data(as_text=True)
    return {f["field"]: f["message"] for f in response.get_json()["fields"]}


# --- 404 when disabled -----------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["0", ""])
@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
def test_disabled_admin_is_indistinguishable_from_an_unknown_route(flag, method, path):
    client = _client(SYNTHETIC_CONTROL_ENABLED=flag)
    unknown = client.open("/no/such/route", method=method, headers=AUTH)
    for headers in (AUTH, {}):
        r = client.open(path, method=method, headers=headers, json=_valid())
        assert r.status_code == 404
        assert r.get_json() == unknown.get_json()
        assert "WWW-Authenticate" not in r.headers and "Allow" not in r.headers


# --- 401 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong"},
    {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": "Bearer"},
    {"Authorization": f"Bearer {TOKEN}x"},
    {"Authorization": f"Bearer {TOKEN[:-1]}"},
])
@pytest.mark.parametrize("method,path", ADMIN_ROUTES[:3])
def test_missing_or_wrong_token_is_401(headers, method, path):
    client = _client()
    r = client.open(path, method=method, headers=headers, json=_valid())
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert TOKEN not in r.get_data(as_text=True)


def test_unset_token_rejects_every_caller():
    client = _client(SYNTHETIC_ADMIN_TOKEN="")
    assert client.get("/admin/synthetic/control", headers={"Authorization": "Bearer "}).status_code == 401
    assert client.get("/admin/synthetic/control", headers=AUTH).status_code == 401


# --- 409 when adapters are not both synthetic ---------------------------------------------------


@pytest.mark.parametrize("env,mode", [
    ({"OPTIONS_ADAPTER": "polygon"}, "mixed"),
    ({"EQUITIES_ADAPTER": "iex"}, "mixed"),
    ({"OPTIONS_ADAPTER": "opra", "EQUITIES_ADAPTER": "iex"}, "live"),
])
def test_non_synthetic_adapters_answer_409_with_reason(env, mode):
    client = _client(**env)
    for r in (client.get("/admin/synthetic/control", headers=AUTH), _put(client, _valid())):
        assert r.status_code == 409
        body = r.get_json()
        assert mode in body["disabled_reason"]
        for adapter in env.values():
            assert adapter in body["disabled_reason"]


def test_auth_is_checked_before_the_adapter_conflict():
    client = _client(OPTIONS_ADAPTER="opra")
    assert client.get("/admin/synthetic/control").status_code == 401


# --- 415 / 413 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""])
def test_non_json_content_type_is_415(content_type):
    r = _put(_client(), _valid(), content_type=content_type)
    assert r.status_code == 415
    assert "application/json" in r.get_json()["message"]


def test_json_with_charset_is_accepted_as_json():
    # A body error (422) proves the content type passed.
    r = _put(_client(), {"nope": 1}, content_type="application/json; charset=utf-8")
    assert r.status_code == 422


def test_body_over_16_kib_is_413():
    body = _valid()
    body["updated_by"] = "x" * (MAX_BODY_BYTES + 10)
    r = _put(_client(), body)
    assert r.status_code == 413
    assert r.get_json()["error"] == "payload_too_large"


def test_body_just_under_the_limit_is_read():
    raw = json.dumps(_valid()).encode()
    raw = raw[:-1] + b" " * (MAX_BODY_BYTES - len(raw)) + b"}"
    assert len(raw) == MAX_BODY_BYTES
    # Reaches NATS (unset here), so it is a 503 and not a 413.
    assert _put(_client(), None, raw=raw).status_code == 503


# --- 422: every validation rule --------------------------------------------------------------------


def _without(key: str) -> dict:
    body = _valid()
    del body[key]
    return body


def _with(path: str, value) -> dict:
    body = _valid()
    if path.startswith("profile_weights."):
        body["profile_weights"][path.split(".", 1)[1]] = value
    else:
        body[path] = value
    return body


@pytest.mark.parametrize("body,field,words", [
    ({**_valid(), "surprise": 1}, "surprise", "unknown"),
    (_without("preset_id"), "preset_id", "missing"),
    (_without("coverage_assist"), "coverage_assist", "missing"),
    (_without("coverage_window_minutes"), "coverage_window_minutes", "missing"),
    (_without("shared_seed"), "shared_seed", "missing"),
    (_without("profile_weights"), "profile_weights", "missing"),
    (_with("preset_id", "crash_day"), "preset_id", "must be one of"),
    (_with("preset_id", 1), "preset_id", "expected a string"),
    (_with("preset_id", None), "preset_id", "expected a string"),
    (_with("coverage_assist", "true"), "coverage_assist", "expected a boolean"),
    (_with("coverage_assist", 1), "coverage_assist", "expected a boolean"),
    (_with("coverage_window_minutes", 15), "coverage_window_minutes", "10, 20, 30"),
    (_with("coverage_window_minutes", 20.0), "coverage_window_minutes", "expected an integer"),
    (_with("coverage_window_minutes", True), "coverage_window_minutes", "expected an integer"),
    (_with("shared_seed", -1), "shared_seed", "between 0"),
    (_with("shared_seed", SEED_MAX + 1), "shared_seed", "between 0"),
    (_with("shared_seed", 1.5), "shared_seed", "expected an integer"),
    (_with("shared_seed", False), "shared_seed", "expected an integer"),
    (_with("shared_seed", "7"), "shared_seed", "expected an integer"),
    (_with("profile_weights", [1.0] * 6), "profile_weights", "expected an object"),
    (_with("profile_weights.vol_seller", 1.2), "profile_weights.vol_seller", "0.6"),
    (_with("profile_weights.arbitrage", "1.0"), "profile_weights.arbitrage", "expected a number"),
    (_with("profile_weights.arbitrage", None), "profile_weights.arbitrage", "expected a number"),
    (_with("profile_weights.arbitrage", True), "profile_weights.arbitrage", "expected a number"),
    (_with("profile_weights.whales", 1.0), "profile_weights.whales", "unknown profile"),
    (_with("updated_by", 5), "updated_by", "expected a string"),
    (_with("updated_at", ["now"]), "updated_at", "expected a string"),
])
def test_each_invalid_field_is_a_422_naming_it(body, field, words):
    fields = _fields(_put(_client(), body))
    assert field in fields, fields
    assert words in fields[field]


def test_partial_profile_weights_name_every_missing_profile():
    body = _valid()
    body["profile_weights"] = {"retail_whale": 1.6}
    fields = _fields(_put(_client(), body))
    missing = {p for p in PUBLIC_PROFILE_IDS if p != "retail_whale"}
    assert {f"profile_weights.{p}" for p in missing} <= set(fields)


def test_every_error_is_reported_at_once():
    body = {"preset_id": "x", "coverage_assist": "no", "extra": 1}
    fields = _fields(_put(_client(), body))
    assert {"preset_id", "coverage_assist", "extra", "shared_seed", "coverage_window_minutes",
            "profile_weights"} <= set(fields)


@pytest.mark.parametrize("raw", [b"", b"{", b"not json", b"[]", b"null", b'"text"', b"42", b"\xff\xfe{",
                                 b"[" * 5000 + b"]" * 5000, b'{"preset_id": NaN}'])
def test_bodies_that_are_not_a_json_object_are_422_on_the_root(raw):
    fields = _fields(_put(_client(), None, raw=raw))
    assert fields, "at least one field error"
    assert "$" in fields or "preset_id" in fields


def test_too_long_operator_header_is_422():
    fields = _fields(_put(_client(), _valid(), headers={"X-Operator": "o" * 129}))
    assert "X-Operator" in fields["updated_by"]
