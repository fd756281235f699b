"""Operator routes against real NATS KV and a real regime gRPC server: CAS, status, outages, fuzz."""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from admin_gateway.app import create_app
from admin_gateway.backend import GatewayClients
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.infra.embedded_nats import free_port
from synthmarket.names import CONTROL_KEY
from synthmarket.settings import load_settings
from synthmarket.v1 import status_pb2
from tests.support.admin_stack import AUTH, CONTROL, STATUS, TOKEN, Stack
from tests.support.gateway import LiveServer
from tests.support.logs import warning_messages
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration





@pytest.fixture(scope="module")
def stack(nats_url):
    s = Stack(nats_url)
    yield s
    s.close()


def _body(seed: int = 7, **changes) -> dict:
    body = DEFAULT_CONTROL.to_dict()
    body.update(shared_seed=seed, **changes)
    return body


def _put(client, body, **headers):
    return client.put(CONTROL, json=body, headers={**AUTH, **headers})


def test_get_control_carries_the_revision_as_etag_and_put_bumps_it(stack):
    c = stack.client
    r = c.get(CONTROL, headers=AUTH)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    etag = r.headers["ETag"]
    r2 = _put(c, _body(11, preset_id="event_day"), **{"If-Match": etag})
    assert r2.status_code == 200, r2.get_json()
    saved = r2.get_json()
    assert saved["preset_id"] == "event_day" and saved["shared_seed"] == 11
    assert saved["updated_by"] == "admin-token"
    assert saved["updated_at"].endswith("Z") and saved["updated_at"][:4].isdigit()
    new_etag = r2.headers["ETag"]
    assert int(new_etag.strip('"')) > int(etag.strip('"'))
    r3 = c.get(CONTROL, headers=AUTH)
    assert r3.get_json() == saved and r3.headers["ETag"] == new_etag


@pytest.mark.parametrize(("operator", "recorded"), [
    (None, "admin-token"), ("operator-link", "operator-link"), ("o" * 500, "admin-token"),
    ("mal lory", "admin-token"), ("", "admin-token"),
])
def test_server_sets_updated_fields_whatever_the_body_says(stack, operator, recorded):
    # The token holder (the web terminal's proxy) names its signed-in operator in X-Operator; a
    # body's updated_by is never taken, and a header that is not a plain name records the token.
    headers = {} if operator is None else {"X-Operator": operator}
    r = _put(stack.client, _body(12, updated_at="1999-01-01T00:00:00Z", updated_by="mallory"), **headers)
    assert r.status_code == 200
    saved = r.get_json()
    assert saved["updated_by"] == recorded
    assert not saved["updated_at"].startswith("1999")
    assert stack.kv_history()[-1][1]["updated_by"] == recorded


def test_x_operator_without_the_token_changes_nothing(stack):
    r = stack.client.put(CONTROL, json=_body(13), headers={"X-Operator": "mallory"})
    assert r.status_code == 401


def test_stale_if_match_is_412_with_the_current_state(stack):
    c = stack.client
    etag = c.get(CONTROL, headers=AUTH).headers["ETag"]
    assert _put(c, _body(21), **{"If-Match": etag}).status_code == 200
    r = _put(c, _body(22), **{"If-Match": etag})
    assert r.status_code == 412
    body = r.get_json()
    assert body["control"]["shared_seed"] == 21
    assert r.headers["ETag"] == f'"{body["revision"]}"'
    for bad in ('"abc"', "W/", '"-3"'):
        assert _put(c, _body(23), **{"If-Match": bad}).status_code == 412
    assert c.get(CONTROL, headers=AUTH).get_json()["shared_seed"] == 21


def test_without_if_match_the_last_writer_wins(stack):
    c = stack.client
    assert _put(c, _body(31)).status_code == 200
    assert _put(c, _body(32)).status_code == 200
    assert c.get(CONTROL, headers=AUTH).get_json()["shared_seed"] == 32
    assert _put(c, _body(33), **{"If-Match": "*"}).status_code == 200


def test_fifty_concurrent_puts_one_winner_per_revision_and_no_lost_update(stack):
    server = LiveServer(stack.app)
    try:
        def request(method, body=None, headers=None):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            try:
                payload = None if body is None else json.dumps(body)
                hdrs = {**AUTH, **(headers or {})}
                if payload is not None:
                    hdrs["Content-Type"] = "application/json"
                conn.request(method, CONTROL, body=payload, headers=hdrs)
                resp = conn.getresponse()
                return resp.status, resp.getheader("ETag"), json.loads(resp.read())
            finally:
                conn.close()

        # Round 1: all fifty race on the same revision.
        _, etag, _ = request("GET")
        barrier = threading.Barrier(50)
        results: list[tuple[int, int, str | None]] = []
        lock = threading.Lock()

        def racer(i: int) -> None:
            barrier.wait()
            status, new_etag, _ = request("PUT", _body(1000 + i), {"If-Match": etag, "X-Operator": f"op{i}"})
            with lock:
                results.append((status, i, new_etag))

        threads = [threading.Thread(target=racer, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(s for s, _, _ in results)
        assert statuses.count(200) == 1 and statuses.count(412) == 49, statuses
        winner = next(i for s, i, _ in results if s == 200)
        _, _, current = request("GET")
        # X-Operator is ignored: the winner is known by its seed, the writer is the token's caller.
        assert current["shared_seed"] == 1000 + winner and current["updated_by"] == f"op{winner}"

        # Round 2: fifty read-modify-write increments with retry on 412; none may be lost.
        start_seed = current["shared_seed"]
        wins: list[tuple[int, int]] = []

        def incrementer(i: int) -> None:
            for _ in range(200):
                status, tag, state = request("GET")
                body = {k: state[k] for k in ("preset_id", "coverage_assist", "coverage_window_minutes",
                                              "shared_seed", "profile_weights")}
                body["shared_seed"] += 1
                status, new_tag, saved = request("PUT", body, {"If-Match": tag})
                if status == 200:
                    with lock:
                        wins.append((int(new_tag.strip('"')), saved["shared_seed"]))
                    return
                assert status == 412, (status, saved)
            raise AssertionError("incrementer never won")

        threads = [threading.Thread(target=incrementer, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(wins) == 50
        _, _, final = request("GET")
        assert final["shared_seed"] == start_seed + 50, "an increment was lost"
        wins.sort()
        assert [seed for _, seed in wins] == list(range(start_seed + 1, start_seed + 51))
        history = dict(stack.kv_history())
        for revision, seed in wins:
            assert history[revision]["shared_seed"] == seed, "each revision holds exactly its winner"
        revisions = [r for r, _ in wins]
        assert revisions == list(range(revisions[0], revisions[0] + 50)), "no write slipped in between"
    finally:
        server.close()


def test_status_reports_control_and_derived_state(stack):
    report = status_pb2.StatusReport(service="options_svc", replica="0", applied_control_revision=1,
                                     profile_hit_counts={"vol_seller": 4, "arbitrage": 2}, session_phase="open")
    stack.put_status("options_svc", report)
    stack.put_status("options_svc.1", status_pb2.StatusReport(service="options_svc", profile_hit_counts={"vol_seller": 3}))
    r = stack.client.get(STATUS, headers=AUTH)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert set(body) == {"enabled", "backend_mode", "adapters", "control", "derived"}
    assert body["enabled"] is True and body["backend_mode"] == "synthetic"
    assert body["adapters"] == {"options": "synthetic", "equities": "synthetic"}
    assert body["control"] == stack.client.get(CONTROL, headers=AUTH).get_json()
    derived = body["derived"]
    assert set(derived) == {"session_phase", "regime", "focus_symbols", "profile_hit_counts", "coverage_window_minutes"}
    assert derived["session_phase"] in ("open", "midday", "power_hour", "after_event")
    assert derived["regime"] in ("trend_up", "trend_down", "mean_revert", "retail_chase", "event_ramp",
                                 "dealer_gamma", "arb_calm")
    assert derived["profile_hit_counts"] == {p: {"vol_seller": 7, "arbitrage": 2}.get(p, 0) for p in PUBLIC_PROFILE_IDS}
    assert derived["coverage_window_minutes"] == body["control"]["coverage_window_minutes"]


def test_status_in_mixed_mode_says_why_control_is_off(stack):
    settings = load_settings({"NATS_URL": stack.nats_url, "SYNTHETIC_CONTROL_ENABLED": "1",
                              "SYNTHETIC_ADMIN_TOKEN": TOKEN, "EQUITIES_ADAPTER": "iex"})
    app = create_app(settings, stack.clients)
    body = app.test_client().get(STATUS, headers=AUTH).get_json()
    assert body["enabled"] is False and body["backend_mode"] == "mixed" and body["derived"] is None
    assert "iex" in body["disabled_reason"]
    assert app.test_client().get(CONTROL, headers=AUTH).status_code == 409


def test_regime_down_gives_null_derived_with_a_reason(nats_url):
    dead = f"127.0.0.1:{free_port()}"
    s = Stack(nats_url, REGIME_GRPC_ADDR=dead)
    try:
        r = s.client.get(STATUS, headers=AUTH)
        assert r.status_code == 200
        body = r.get_json()
        assert body["derived"] is None and dead in body["disabled_reason"]
        assert body["control"]["preset_id"] == "balanced_demo"
    finally:
        s.close()


def test_the_absent_control_entry_is_logged_once_per_absence_not_per_request(nats_url, caplog):
    # No regime server here: its own watch of the bucket would log the absence too.
    s = Stack(nats_url, REGIME_GRPC_ADDR=f"127.0.0.1:{free_port()}")

    def absences() -> int:
        return sum("absent" in m for m in warning_messages(caplog))

    def delete_entry() -> None:
        async def go():
            await (await s.js.key_value(s.control_bucket)).delete(CONTROL_KEY)

        s.bridge.run(go(), 10)

    try:
        with caplog.at_level(logging.WARNING, logger="synthmarket.infra.control_store"):
            for _ in range(3):
                assert s.client.get(CONTROL, headers=AUTH).status_code == 200
            assert s.client.get(STATUS, headers=AUTH).get_json()["control"]["preset_id"] == "balanced_demo"
            assert absences() == 1, warning_messages(caplog)
            assert _put(s.client, _body(41)).status_code == 200
            for _ in range(2):
                assert s.client.get(CONTROL, headers=AUTH).get_json()["shared_seed"] == 41
            assert absences() == 1, "a present entry is nothing to warn about"
            delete_entry()
            for _ in range(3):
                assert s.client.get(CONTROL, headers=AUTH).get_json()["shared_seed"] == DEFAULT_CONTROL.shared_seed
            assert absences() == 2, "present, then gone again: a new absence, logged once"
    finally:
        s.close()


def test_nats_down_is_503_with_a_reason_never_500():
    url = f"nats://127.0.0.1:{free_port()}"
    settings = load_settings({"NATS_URL": url, "SYNTHETIC_CONTROL_ENABLED": "1", "SYNTHETIC_ADMIN_TOKEN": TOKEN})
    clients = GatewayClients(settings, op_timeout=0.5).start()
    try:
        c = create_app(settings, clients).test_client()
        for r in (c.get(CONTROL, headers=AUTH), c.get(STATUS, headers=AUTH), _put(c, _body()),
                  c.get("/flow/smart-money"), c.get("/history/smart-money?start=0&end=1"),
                  c.get("/replay/smart-money?start=0&end=1")):
            assert r.status_code == 503, r.get_data(as_text=True)
            assert "NATS" in r.get_json()["message"]
            assert r.headers["Retry-After"]
    finally:
        clients.close()


_header_chars = st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f")
_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                       st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
_json = st.recursive(_json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)), max_leaves=12)
_field_names = st.sampled_from(["preset_id", "coverage_assist", "coverage_window_minutes", "shared_seed",
                                "profile_weights", "updated_at", "updated_by", "extra"])
_valid_body = st.fixed_dictionaries({
    "preset_id": st.sampled_from(["balanced_demo", "event_day", "dealer_day", "retail_chase", "quiet_range"]),
    "coverage_assist": st.booleans(),
    "coverage_window_minutes": st.sampled_from([10, 20, 30]),
    "shared_seed": st.integers(min_value=0, max_value=2**64 - 1),
    "profile_weights": st.fixed_dictionaries({p: st.sampled_from([0.6, 1.0, 1.6]) for p in PUBLIC_PROFILE_IDS}),
})
_near_valid = st.fixed_dictionaries({}, optional={
    "preset_id": st.one_of(st.sampled_from(["balanced_demo", "event_day", "dealer_day", "retail_chase",
                                            "quiet_range", "nope"]), _json_leaf),
    "coverage_assist": st.one_of(st.booleans(), _json_leaf),
    "coverage_window_minutes": st.one_of(st.sampled_from([10, 20, 30, 15]), _json_leaf),
    "shared_seed": st.one_of(st.integers(min_value=-5, max_value=2**64 + 5), _json_leaf),
    "profile_weights": st.one_of(
        st.fixed_dictionaries({}, optional={p: st.one_of(st.sampled_from([0.6, 1.0, 1.6, 1.2]), _json_leaf)
                                            for p in PUBLIC_PROFILE_IDS}),
        _json),
    "updated_by": st.one_of(st.text(max_size=140), _json_leaf),
    "extra": _json,
})


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "PATCH"]),
    path=st.sampled_from([CONTROL, STATUS, "/admin/synthetic", "/admin/synthetic/control/x"]),
    body=st.one_of(_valid_body, _near_valid, _json),
    content_type=st.sampled_from(["application/json", "text/plain", "application/merge-patch+json", ""]),
    # Header values as a client can send them: printable Latin-1, no line breaks.
    if_match=st.one_of(st.none(), st.text(alphabet=_header_chars, max_size=12), st.integers(0, 10_000).map(lambda n: f'"{n}"')),
    auth=st.sampled_from([AUTH["Authorization"], "Bearer nope", "", "Bearer " + TOKEN + " "]),
    operator=st.one_of(st.none(), st.text(alphabet=_header_chars, max_size=200)),
)
def test_fuzzed_admin_requests_never_get_a_5xx(stack, method, path, body, content_type, if_match, auth, operator):
    headers = {"Authorization": auth}
    if if_match is not None:
        headers["If-Match"] = if_match
    if operator is not None:
        headers["X-Operator"] = operator
    data = json.dumps(body, allow_nan=True).encode()
    r = stack.client.open(path, method=method, data=data, content_type=content_type or None, headers=headers)
    assert r.status_code < 500, (r.status_code, r.get_data(as_text=True))
    assert r.is_json


def test_derived_status_recovers_within_seconds_of_a_long_regime_outage(nats_url):
    # After 20 s down, gRPC's default backoff (1 s growing 1.6x, +-20 % jitter) would next try
    # 4-8 s after the server appears, and up to two minutes after a long outage.
    addr = f"127.0.0.1:{free_port()}"
    s = Stack(nats_url, REGIME_GRPC_ADDR=addr)
    regime = None
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert s.client.get(STATUS, headers=AUTH).get_json()["derived"] is None
            time.sleep(0.3)
        from regime_svc.server import serve

        regime = s.bridge.run(serve(load_settings({}), addr=addr, follow_control=False), 10)
        started = time.monotonic()
        wait_until(lambda: s.client.get(STATUS, headers=AUTH).get_json()["derived"] is not None, 10, "derived status")
        # Tolerance: the 1 s backoff cap plus a 2 s call timeout's worth of scheduling slack.
        waited = time.monotonic() - started
        assert waited < 2.5, f"derived status took {waited:.1f} s to recover"
    finally:
        if regime is not None:
            s.bridge.run(regime.stop(0), 10)
        s.close()
