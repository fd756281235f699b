"""Admin route rules that are decided before any NATS call: 404 when off, 401, 409, 415, 413, 422."""

from __future__ import annotations

import codecs
import io
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


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "application/xml", "",
    # +json types are other types: merge-patch, for one, means a partial document.
    "application/merge-patch+json", "application/vnd.api+json", "application/problem+json",
    "text/json", "application/jsonx",
    "application/json; charset=utf-16", "application/json; charset=latin-1", "application/json; profile=x",
])
def test_anything_but_application_json_is_415_naming_the_accepted_type(content_type):
    r = _put(_client(), _valid(), content_type=content_type)
    assert r.status_code == 415, r.get_data(as_text=True)
    body = r.get_json()
    assert body["error"] == "unsupported_media_type"
    assert "application/json" in body["message"]
    assert body["accepted"] == ["application/json", "application/json; charset=utf-8"]


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/json;charset=UTF-8", "Application/JSON; Charset=utf-8"])
def test_application_json_with_or_without_utf8_charset_is_accepted(content_type):
    # A body error (422) proves the content type passed.
    r = _put(_client(), {"nope": 1}, content_type=content_type)
    assert r.status_code == 422


def test_body_over_16_kib_is_413():
    body = _valid()
    body["updated_by"] = "x" * (MAX_BODY_BYTES + 10)
    r = _put(_client(), body)
    assert r.status_code == 413
    assert r.get_json() == {"error": "payload_too_large", "message": f"the request body is larger than "
                            f"{MAX_BODY_BYTES} bytes", "max_bytes": MAX_BODY_BYTES}


def _padded(size: int) -> bytes:
    """A valid control body padded with spaces to exactly ``size`` bytes."""
    raw = json.dumps(_valid()).encode()
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


def _put_chunked(client, raw: bytes):
    # What a server that undoes chunked framing hands the app: no Content-Length, a stream
    # that ends where the body ends, and wsgi.input_terminated (gunicorn sets it).
    return client.put("/admin/synthetic/control", input_stream=io.BytesIO(raw),
                      headers={**AUTH, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                      environ_overrides={"wsgi.input_terminated": True})


def test_chunked_body_over_the_limit_is_413_even_when_its_start_is_valid_json():
    raw = _padded(MAX_BODY_BYTES) + b"x" * (64 * 1024)
    r = _put_chunked(_client(), raw)
    assert r.status_code == 413, r.get_data(as_text=True)
    assert r.get_json()["max_bytes"] == MAX_BODY_BYTES


def test_chunked_body_of_exactly_the_limit_is_read():
    # Reaches NATS (unset here), so it is a 503 and not a 413.
    assert _put_chunked(_client(), _padded(MAX_BODY_BYTES)).status_code == 503


def test_body_just_under_the_limit_is_read():
    raw = _padded(MAX_BODY_BYTES)
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
    (_with("coverage_window_minutes", 20.5), "coverage_window_minutes", "expected an integer"),
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


def test_integers_written_with_a_zero_fraction_are_integers():
    # JSON has one number type: 20.0 is the integer 20 (JSON Schema agrees), read exactly.
    raw = json.dumps(_valid()).replace('"coverage_window_minutes": 20', '"coverage_window_minutes": 20.0')
    raw = raw.replace('"shared_seed": 20260101', '"shared_seed": 18446744073709551615.0')
    assert "20.0" in raw and "615.0" in raw
    assert _put(_client(), None, raw=raw.encode()).status_code == 503, "valid: it goes on to NATS (unset here)"


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


@pytest.mark.parametrize("raw,field", [
    (b'{"preset_id": "event_day", "preset_id": "quiet_range"}', "preset_id"),
    (b'{"profile_weights": {"vol_seller": 1.0, "vol_seller": 1.6}}', "profile_weights.vol_seller"),
    (b'{"extra": [{"a": 1, "a": 2}]}', "extra[0].a"),
])
def test_a_key_given_twice_is_a_422_naming_it(raw, field):
    fields = _fields(_put(_client(), None, raw=raw))
    assert "duplicate key" in fields[field], fields


def test_duplicate_keys_are_reported_with_every_other_problem():
    # The valid body already holds shared_seed and coverage_assist once.
    body = json.dumps(_valid())[:-1] + ', "shared_seed": -1, "coverage_assist": true, "coverage_assist": 1}'
    problems = [(f["field"], f["message"]) for f in _fields_list(_put(_client(), None, raw=body.encode()))]
    assert ("shared_seed", "duplicate key: given 2 times; each key may appear once") in problems
    assert ("coverage_assist", "duplicate key: given 3 times; each key may appear once") in problems
    # The last value of each is validated as well, in the same answer.
    assert any(f == "shared_seed" and "between 0" in m for f, m in problems), problems
    assert any(f == "coverage_assist" and "expected a boolean" in m for f, m in problems), problems


def _fields_list(response) -> list[dict[str, str]]:
    assert response.status_code == 422, response.get_data(as_text=True)
    return response.get_json()["fields"]


_JSON_TEXT = json.dumps(DEFAULT_CONTROL.to_dict())


@pytest.mark.parametrize("raw,words", [
    (codecs.BOM_UTF16_LE + _JSON_TEXT.encode("utf-16-le"), "UTF-16LE byte order mark"),
    (codecs.BOM_UTF16_BE + _JSON_TEXT.encode("utf-16-be"), "UTF-16BE byte order mark"),
    (_JSON_TEXT.encode("utf-16-le"), "NUL bytes (UTF-16 or UTF-32"),
    (_JSON_TEXT.encode("utf-16-be"), "NUL bytes (UTF-16 or UTF-32"),
    (_JSON_TEXT.encode("utf-32"), "UTF-32LE byte order mark"),
    (codecs.BOM_UTF8 + _JSON_TEXT.encode(), "UTF-8 byte order mark"),
    (b'{"preset_id": "caf\xe9"}', "not UTF-8: byte 0xe9 at offset 18"),
])
def test_bodies_that_are_not_utf8_json_are_422_saying_so(raw, words):
    fields = _fields(_put(_client(), None, raw=raw))
    assert words in fields["$"], fields


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_json_numbers_are_refused(constant):
    raw = json.dumps(_valid()).replace('"shared_seed": 20260101', '"shared_seed": X').encode().replace(b"X", constant)
    fields = _fields(_put(_client(), None, raw=raw))
    assert "not a JSON value" in fields["$"]


def test_updated_by_and_x_operator_from_the_client_are_ignored():
    # Neither is checked nor kept: the request goes on to NATS (unset here: 503), whatever they hold.
    body = {**_valid(), "updated_by": "mallory", "updated_at": "1999-01-01T00:00:00Z"}
    for operator in ("dana", "o" * 500, " "):
        assert _put(_client(), body, headers={"X-Operator": operator}).status_code == 503
