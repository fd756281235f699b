"""PUT /admin/synthetic/control bodies over real sockets to the gunicorn-served gateway: size, framing, encoding.

Chunked bodies are the point: the Flask test client never frames a body the way a socket
does, and the bug this guards against (a chunked body cut at the limit, then parsed and
stored) lived in how the server's de-chunked stream met Werkzeug's size limit.
"""

from __future__ import annotations

import codecs
import http.client
import json
import socket
from collections.abc import Iterator

import pytest

from admin_gateway.json_body import MAX_BODY_BYTES
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.infra.embedded_nats import free_port
from tests.support.served import Served, serve
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

TOKEN = "bodies-test-token"
CONTROL = "/admin/synthetic/control"


@pytest.fixture(scope="module")
def gateway(nats_url) -> Iterator[Served]:
    env = {"NATS_URL": nats_url, "SYNTHETIC_CONTROL_ENABLED": "1", "SYNTHETIC_ADMIN_TOKEN": TOKEN,
           "REGIME_GRPC_ADDR": f"127.0.0.1:{free_port()}"}
    with serve("admin_gateway", "/openapi.json", env) as served:
        # Serving the OpenAPI document needs no NATS; the control store does (503 until connected).
        wait_until(lambda: _control_status(served) == 200, 30, "the gateway's control store", 0.1)
        yield served


def _valid_json(size: int, seed: int) -> bytes:
    """A valid control body, padded with spaces to exactly ``size`` bytes."""
    raw = json.dumps({**DEFAULT_CONTROL.to_dict(), "shared_seed": seed}).encode()
    assert len(raw) <= size
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


def _chunked(body: bytes, chunk: int = 4096) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + chunk]), body[i:i + chunk]) for i in range(0, len(body), chunk)]
    return b"".join(parts) + b"0\r\n\r\n"


def _exchange(port: int, head: dict[str, str], payload: bytes) -> tuple[int, dict]:
    """Send one PUT with exactly ``payload`` after the headers; the status and JSON body of the answer."""
    lines = [f"PUT {CONTROL} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {TOKEN}",
             *(f"{name}: {value}" for name, value in head.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock, method="PUT")
        response.begin()
        return response.status, json.loads(response.read())


def _put_chunked(port: int, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    return _exchange(port, {"Content-Type": content_type, "Transfer-Encoding": "chunked"}, _chunked(body))


def _put_sized(port: int, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    return _exchange(port, {"Content-Type": content_type, "Content-Length": str(len(body))}, body)


def _get_control(served: Served) -> tuple[int, str | None]:
    """GET the control: the status and the ETag (the entry's revision)."""
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    try:
        conn.request("GET", CONTROL, headers={"Authorization": f"Bearer {TOKEN}"})
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("ETag")
    finally:
        conn.close()


def _control_status(served: Served) -> int:
    return _get_control(served)[0]


def _revision(served: Served) -> str:
    status, etag = _get_control(served)
    assert status == 200 and etag is not None
    return etag


def test_an_80_kib_chunked_body_whose_first_16_kib_are_valid_json_is_413_and_nothing_is_stored(gateway):
    before = _revision(gateway)
    body = _valid_json(MAX_BODY_BYTES, seed=8080) + b" " * (80 * 1024 - MAX_BODY_BYTES)
    status, answer = _put_chunked(gateway.port, body)
    assert status == 413, answer
    assert answer["error"] == "payload_too_large" and answer["max_bytes"] == MAX_BODY_BYTES
    assert _revision(gateway) == before, "an oversized body must never be stored, not even its first 16 KiB"


def test_a_declared_length_over_the_limit_is_413_and_nothing_is_stored(gateway):
    before = _revision(gateway)
    status, answer = _put_sized(gateway.port, _valid_json(MAX_BODY_BYTES + 1, seed=8081))
    assert status == 413, answer
    assert _revision(gateway) == before


@pytest.mark.parametrize("send", [_put_chunked, _put_sized], ids=["chunked", "content-length"])
def test_a_body_of_exactly_the_limit_is_stored(gateway, send):
    before = _revision(gateway)
    status, answer = send(gateway.port, _valid_json(MAX_BODY_BYTES, seed=8082))
    assert status == 200, answer
    assert answer["shared_seed"] == 8082 and answer["updated_by"] == "admin-token"
    assert int(_revision(gateway).strip('"')) > int(before.strip('"'))


def test_broken_chunked_framing_is_a_400_not_a_500(gateway):
    head = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    status, answer = _exchange(gateway.port, head, b"zz\r\n{}\r\n0\r\n\r\n")
    assert status == 400, answer
    assert answer["error"] == "unreadable_body"


_TEXT = json.dumps({**DEFAULT_CONTROL.to_dict(), "shared_seed": 8083})


@pytest.mark.parametrize("body,content_type,expected,words", [
    (_TEXT[:-1].encode() + b', "shared_seed": 1}', "application/json", 422, "duplicate key"),
    (codecs.BOM_UTF16_LE + _TEXT.encode("utf-16-le"), "application/json", 422, "UTF-16LE"),
    (_TEXT.encode("utf-16-le"), "application/json", 422, "UTF-16"),
    (_TEXT.encode(), "application/merge-patch+json", 415, "application/json"),
    (_TEXT.encode(), "application/json; charset=utf-16", 415, "application/json"),
], ids=["duplicate-key", "utf16-bom", "utf16-no-bom", "merge-patch", "utf16-charset"])
@pytest.mark.parametrize("send", [_put_chunked, _put_sized], ids=["chunked", "content-length"])
def test_bodies_that_are_not_strict_json_are_refused_and_not_stored(gateway, send, body, content_type, expected, words):
    before = _revision(gateway)
    status, answer = send(gateway.port, body, content_type)
    assert status == expected, answer
    assert words in json.dumps(answer)
    assert _revision(gateway) == before
