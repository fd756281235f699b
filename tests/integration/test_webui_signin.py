"""Operator sign-in in front of the admin proxy: sessions, one-time links, the password, CSRF and the limiter.

A recording stand-in gateway shows what reached it (nothing, without a session) and with which
headers; the proxy against the real gateway is tests/integration/test_webui_proxy.py.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from flask import Flask, Response
from flask import request as flask_request

from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.infra.embedded_nats import free_port
from synthmarket.settings import Settings, load_settings
from tests.support.webui_backend import OPERATOR_PASSWORD, page_csrf, sign_in
from webui.app import create_app
from webui.local_servers import ThreadedServer
from webui.operator_auth import CSRF_HEADER, SignInLimiter, signin_link

pytestmark = pytest.mark.integration

ADMIN_TOKEN = "tok-9a41-signin-admin-secret"
STATUS = "/api/admin/synthetic/status"
CONTROL = "/api/admin/synthetic/control"
COOKIE = "synth_operator"
BODY = {"preset_id": "event_day", "coverage_assist": True, "coverage_window_minutes": 20,
        "profile_weights": dict.fromkeys(PUBLIC_PROFILE_IDS, 1.0)}


class RecordingGateway:
    """Answers the admin routes with a fixed control and records every request it is sent."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        app = Flask("recording-gateway")

        def admin() -> Response:
            self.seen.append((flask_request.method, flask_request.path, dict(flask_request.headers)))
            body = json.dumps({"shared_seed": 7, "preset_id": "balanced_demo", "enabled": True})
            return Response(body, 200, {"ETag": '"3"', "Content-Type": "application/json"})

        app.add_url_rule("/admin/synthetic/status", "status", admin, methods=["GET"])
        app.add_url_rule("/admin/synthetic/control", "control", admin, methods=["GET", "PUT"])
        self.server = ThreadedServer(app).start()
        self.url = self.server.url

    def puts(self) -> list[dict[str, str]]:
        return [headers for method, _, headers in self.seen if method == "PUT"]


@pytest.fixture(scope="module")
def recording() -> Iterator[RecordingGateway]:
    gw = RecordingGateway()
    yield gw
    gw.server.stop()


@pytest.fixture
def gateway(recording: RecordingGateway) -> RecordingGateway:
    recording.seen.clear()
    return recording


def terminal_settings(gateway_url: str, **env: str) -> Settings:
    return load_settings({"NEXT_PUBLIC_API_URL": gateway_url, "NEXT_PUBLIC_SYNTHETIC_ADMIN": "1",
                          "SYNTHETIC_ADMIN_TOKEN": ADMIN_TOKEN, "SYNTH_OPERATOR_PASSWORD": OPERATOR_PASSWORD, **env})


@pytest.fixture
def app(gateway: RecordingGateway) -> Flask:
    return create_app(terminal_settings(gateway.url))


def link_path(app: Flask) -> str:
    return signin_link(app, "http://localhost").removeprefix("http://localhost")


def form_csrf(client: Any) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").get_data(as_text=True))
    assert match is not None
    return match.group(1)


def password_client(app: Flask, address: str = "127.0.0.1") -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    r = client.post("/signin", data={"csrf_token": form_csrf(client), "password": OPERATOR_PASSWORD})
    assert r.status_code == 303, r.get_data(as_text=True)
    client.environ_base["HTTP_X_CSRF_TOKEN"] = page_csrf(client)
    return client


def assert_sign_in_required(r: Any, what: object) -> None:
    assert r.status_code == 401, (what, r.status_code, r.get_data(as_text=True))
    if r.request.method != "HEAD":
        assert r.get_json()["error"] == "sign_in_required", what


# --- no session, no admin route ------------------------------------------------------------------


def test_every_admin_route_is_401_without_a_session(app: Flask, gateway: RecordingGateway) -> None:
    client = app.test_client()
    # What a page on another site, or a script that learned the page's layout, can send.
    forged = {"Origin": "http://localhost", "Referer": "http://localhost/", "Sec-Fetch-Site": "same-origin",
              CSRF_HEADER: "guessed", "X-Operator": "operator"}
    for headers in ({}, forged):
        for method, path in [("GET", STATUS), ("GET", CONTROL), ("PUT", CONTROL), ("HEAD", STATUS),
                             ("POST", CONTROL), ("DELETE", CONTROL), ("GET", "/api/admin/synthetic/other")]:
            r = client.open(path, method=method, json=BODY, headers=headers)
            assert_sign_in_required(r, (method, path, headers))
        # An HTML form can post or (through method override tricks) put urlencoded fields.
        for method in ("POST", "PUT"):
            r = client.open(CONTROL, method=method, data={"preset_id": "event_day", "csrf_token": "guessed"},
                            headers=headers)
            assert_sign_in_required(r, (method, "form", headers))
    # A session cookie signed by another key (another web terminal, or a forgery) is no session.
    other = create_app(terminal_settings(gateway.url)).test_client()
    sign_in(other)
    client.set_cookie(COOKIE, other.get_cookie(COOKIE).value)
    assert_sign_in_required(client.get(STATUS), "foreign cookie")
    assert gateway.seen == [], "nothing reaches the gateway without a session"


def test_anonymous_pages_set_no_session_and_show_the_read_only_drawer(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert "Set-Cookie" not in page.headers, "a visitor who does not sign in gets no cookie"
    assert 'data-operator=""' in html and 'data-csrf=""' in html
    assert "Sign in to change the market" in html and "Read only" in html and 'id="operator-in"' not in html
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]


# --- the one-time link ---------------------------------------------------------------------------


def test_a_signin_link_signs_in_once_and_not_twice(app: Flask, gateway: RecordingGateway) -> None:
    path = link_path(app)
    first = app.test_client()
    r = first.get(path)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert first.get(STATUS).status_code == 200
    assert gateway.seen[-1][2]["Authorization"] == f"Bearer {ADMIN_TOKEN}"
    for again in (app.test_client(), first):
        r = again.get(path)
        assert r.status_code == 401
        assert "used already" in r.get_data(as_text=True)
    second = app.test_client()
    second.get(path)
    assert_sign_in_required(second.get(STATUS), "a used link")
    assert "does not work" in app.test_client().get("/signin?token=made-up").get_data(as_text=True)


# --- the password and the limiter ----------------------------------------------------------------


def test_a_wrong_password_is_refused_and_the_sixth_attempt_in_a_minute_is_429(app: Flask) -> None:
    now = [1000.0]
    app.extensions["webui.auth"].limiter = SignInLimiter(clock=lambda: now[0])
    client = app.test_client()
    csrf = form_csrf(client)
    for i in range(5):
        r = client.post("/signin", data={"csrf_token": csrf, "password": f"guess-{i}"})
        assert r.status_code == 401 and "Wrong password" in r.get_data(as_text=True)
        now[0] += 5
    # The sixth attempt is refused before the password is even looked at: the right one too.
    r = client.post("/signin", data={"csrf_token": csrf, "password": OPERATOR_PASSWORD})
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert client.get(STATUS).status_code == 401
    # A link tried from that address waits too (and stays unused).
    path = link_path(app)
    assert client.get(path).status_code == 429
    # Another address is not held up by this one.
    assert password_client(app, "10.9.8.7").get(STATUS).status_code == 200
    # A minute after the first failure the window has moved on.
    now[0] = 1000.0 + 61
    assert client.get(path).status_code == 303
    assert client.get(STATUS).status_code == 200


def test_password_sign_in_is_off_without_the_variable(gateway: RecordingGateway) -> None:
    app = create_app(terminal_settings(gateway.url, SYNTH_OPERATOR_PASSWORD=""))
    client = app.test_client()
    page = client.get("/signin").get_data(as_text=True)
    assert 'type="password"' not in page and "operator sign-in:" in page
    with client.session_transaction() as session:  # no form on the page, so no field to read it from
        csrf = session["csrf"]
    r = client.post("/signin", data={"csrf_token": csrf, "password": ""})
    assert r.status_code == 403 and "Password sign-in is off" in r.get_data(as_text=True)
    assert client.get(STATUS).status_code == 401


# --- the session cookie --------------------------------------------------------------------------


def test_the_session_cookie_is_httponly_samesite_strict_and_secure_over_tls(app: Flask) -> None:
    r = app.test_client().get(link_path(app))
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie, "plain HTTP: a Secure cookie would never come back"
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=12))) < timedelta(minutes=1)
    over_tls = app.test_client().get(link_path(app), base_url="https://localhost")
    assert "Secure" in over_tls.headers["Set-Cookie"]
    # The sign-in form's anonymous session (it holds the form's CSRF token) is flagged the same.
    form = app.test_client().get("/signin").headers["Set-Cookie"]
    assert "HttpOnly" in form and "SameSite=Strict" in form


def test_a_session_ends_after_twelve_hours_and_on_sign_out(app: Flask) -> None:
    client = app.test_client()
    csrf = sign_in(client)
    del client.environ_base["HTTP_X_CSRF_TOKEN"]
    cookie = client.get_cookie(COOKIE).value
    r = client.post("/signout", data={})
    assert r.status_code == 403 and client.get(STATUS).status_code == 200, "sign-out needs the token too"
    r = client.post("/signout", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert_sign_in_required(client.get(STATUS), "signed out")
    # A copy of the cookie taken before signing out is refused as well.
    replay = app.test_client()
    replay.set_cookie(COOKIE, cookie)
    assert_sign_in_required(replay.get(STATUS), "a replayed cookie")
    # Twelve hours after signing in, a session is over whatever it did since.
    old = app.test_client()
    sign_in(old)
    with old.session_transaction() as session:
        session["at"] -= 12 * 3600
    assert_sign_in_required(old.get(STATUS), "a session older than 12 h")


def test_a_session_secret_keeps_sessions_across_a_restart(gateway: RecordingGateway) -> None:
    fixed = terminal_settings(gateway.url, SYNTH_SESSION_SECRET="s" * 48)
    before = create_app(fixed).test_client()
    sign_in(before)
    cookie = before.get_cookie(COOKIE).value
    for settings, status in ((fixed, 200), (terminal_settings(gateway.url), 401)):
        after = create_app(settings).test_client()
        after.set_cookie(COOKIE, cookie)
        assert after.get(STATUS).status_code == status


# --- CSRF and the operator name ------------------------------------------------------------------


def test_a_write_needs_the_sessions_csrf_token(app: Flask, gateway: RecordingGateway) -> None:
    client = app.test_client()
    csrf = sign_in(client)
    del client.environ_base["HTTP_X_CSRF_TOKEN"]
    other_session = sign_in(app.test_client())
    for headers in ({}, {CSRF_HEADER: "wrong"}, {CSRF_HEADER: other_session}, {CSRF_HEADER: ""}):
        r = client.put(CONTROL, json=BODY, headers=headers)
        assert r.status_code == 403 and r.get_json()["error"] == "csrf_token_invalid", headers
    # The token in a form field is not enough for the API: only the header counts there.
    r = client.put(CONTROL, data={"csrf_token": csrf})
    assert r.status_code == 403
    # The token does not make a cross-site write acceptable.
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        assert client.put(CONTROL, json=BODY, headers={CSRF_HEADER: csrf, **headers}).status_code == 403
    assert gateway.puts() == []
    r = client.put(CONTROL, json=BODY, headers={CSRF_HEADER: csrf, "If-Match": '"3"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"3"'
    assert len(gateway.puts()) == 1 and gateway.puts()[0]["If-Match"] == '"3"'
    # Form posts carry it as a field: without it, signing in is refused (and does not count).
    fresh = app.test_client()
    r = fresh.post("/signin", data={"password": OPERATOR_PASSWORD})
    assert r.status_code == 403 and fresh.get(STATUS).status_code == 401


def test_the_operator_recorded_is_the_sessions_never_the_browsers(app: Flask, gateway: RecordingGateway) -> None:
    by_link = app.test_client()
    sign_in(by_link)
    by_password = password_client(app)
    for client, name in ((by_link, "operator-link"), (by_password, "operator")):
        r = client.put(CONTROL, json=BODY, headers={"X-Operator": "mallory", "Cookie-Probe": "x"})
        assert r.status_code == 200
        sent = gateway.puts()[-1]
        assert sent["X-Operator"] == name
        assert "mallory" not in json.dumps(sent)
        # Nothing of the browser's request travels on: no cookie, no CSRF token, no stray header.
        assert {"Cookie", CSRF_HEADER, "Cookie-Probe"}.isdisjoint(sent)
        assert client.get("/").get_data(as_text=True).count(f'data-operator="{name}"') == 1


# --- python -m webui ------------------------------------------------------------------------------


def _lines(stream: Any, out: queue.Queue[str]) -> None:
    for line in stream:
        out.put(line.rstrip("\n"))


def _get(port: int, path: str, cookie: str | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_python_m_webui_prints_a_signin_link_that_works_once(gateway: RecordingGateway, nats_url: str,
                                                              tmp_path: Any) -> None:
    port = free_port()
    env = {**os.environ, "WEBUI_HOST": "127.0.0.1", "WEBUI_PORT": str(port), "NATS_URL": nats_url,
           "NEXT_PUBLIC_SYNTHETIC_ADMIN": "1", "SYNTHETIC_ADMIN_TOKEN": ADMIN_TOKEN,
           "NEXT_PUBLIC_API_URL": gateway.url, "SYNTH_OPERATOR_PASSWORD": ""}
    stderr = (tmp_path / "webui.err").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "webui", "--threads", "8"], env=env, stdout=subprocess.PIPE,
                            stderr=stderr, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        line = ""
        while not line.startswith("operator sign-in: "):
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        match = re.fullmatch(rf"operator sign-in: http://127\.0\.0\.1:{port}(/signin\?token=[A-Za-z0-9_-]{{43}})", line)
        assert match, line
        first = _get(port, match.group(1))
        assert first.status == 303
        cookie = first.getheader("Set-Cookie").split(";")[0]
        assert _get(port, STATUS, cookie).status == 200
        assert _get(port, STATUS).status == 401
        assert _get(port, match.group(1)).status == 401, "the printed link works once"
        # Through the real server, an 80 KiB chunked PUT whose first 16 KiB are valid JSON is 413
        # and never reaches the gateway (a body cut at the limit would be forwarded as complete).
        page = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        page.request("GET", "/", headers={"Cookie": cookie})
        csrf = re.search(r'data-csrf="([^"]+)"', page.getresponse().read().decode()).group(1)
        page.close()
        valid = json.dumps(BODY).encode()
        oversized = valid + b" " * (80 * 1024)
        puts_before = len(gateway.puts())
        put = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        put.request("PUT", CONTROL, body=iter([oversized[i:i + 4096] for i in range(0, len(oversized), 4096)]),
                    headers={"Cookie": cookie, CSRF_HEADER: csrf, "Content-Type": "application/json",
                             "Origin": f"http://127.0.0.1:{port}"}, encode_chunked=True)
        answer = put.getresponse()
        assert answer.status == 413, answer.read()
        put.close()
        assert len(gateway.puts()) == puts_before
    finally:
        proc.terminate()
        proc.wait(20)
        stderr.close()
