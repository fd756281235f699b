"""The live gateway against its own OpenAPI document: schemathesis, positive data, a fixed seed, bounded.

The gateway is the real ``python -m admin_gateway`` (gunicorn) with admin control on, its
SMART_MONEY stream holding a few known events. Schemathesis generates requests that the
document allows (positive mode) for every operation but the websocket route, once with the
bearer token and, for the admin operations, once without it. Every answer is checked:

- no 5xx;
- conformance: the status code is documented, the content type is the documented one, the
  documented headers are there and match, and the body matches its schema (NDJSON replay
  lines are validated one by one, since schemathesis skips media types it cannot parse);
- no schema-valid request is refused: a 4xx is a failure, except
  - 401 on the admin operations in the run without the token: the document makes them
    require bearer auth, so 401 is the documented answer to a request without it;
  - 412 on PUT control when the request carries If-Match: the document lets a client send
    any well-formed ETag, but only the stored revision can match, and which one that is is
    server state, not something a schema can state. 412 is the compare-and-set working.
  409 is never allowed: both adapters are synthetic here, so control must never be refused.
  And without the token every admin answer must be that 401.

One cross-field rule the document states in words (end must not be before start) cannot be
said in JSON Schema; the generated ranges are put in order before they are sent. A time is epoch
milliseconds or an ISO-8601 time with an offset, so the two are compared as the instants they name.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import hypothesis
import jsonschema_rs
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.infra.embedded_nats import free_port
from tests.support.gateway import StreamPublisher, make_event
from tests.support.served import Served, serve
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

TOKEN = "schema-test-token"
SEED = 20260101
EXAMPLES_WITH_TOKEN = 150
EXAMPLES_WITHOUT_TOKEN = 50
# One event time for every seeded event: a paced replay (speed > 0) then never has to wait
# between two events, so no generated speed can stretch a request past its timeout.
EVENT_TS = 1_950_000_000_000
SKIPPED_PATHS = {"/ws/smart-money"}   # an upgrade, then a long-lived socket: not an HTTP exchange
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance, schemathesis.checks.response_headers_conformance,
          schemathesis.checks.response_schema_conformance]


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    nonconforming: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.requests} requests, statuses {dict(sorted(self.statuses.items()))}, "
                f"{len(self.server_errors)} 5xx, {len(self.nonconforming)} nonconforming, "
                f"{len(self.rejected)} schema-valid but rejected")


@pytest.fixture(scope="module")
def gateway(nats_url) -> Iterator[Served]:
    publisher = StreamPublisher(nats_url)
    try:
        publisher.purge()
        publisher.publish(make_event(i, EVENT_TS, prefix="schema") for i in range(12))
    finally:
        publisher.close()
    env = {"NATS_URL": nats_url, "SYNTHETIC_CONTROL_ENABLED": "1", "SYNTHETIC_ADMIN_TOKEN": TOKEN,
           "REGIME_GRPC_ADDR": f"127.0.0.1:{free_port()}"}
    with serve("admin_gateway", "/openapi.json", env) as served:
        wait_until(lambda: requests.get(served.base + "/flow/smart-money", timeout=5).json().get("count") == 12,
                   20, "the gateway to load the seeded events")
        yield served


def _instant_ms(value) -> int:
    """Epoch ms of a generated time: an integer, or an ISO-8601 time with an offset."""
    if isinstance(value, int):
        return value
    return (dt.datetime.fromisoformat(value.upper()) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(
        milliseconds=1)


def _in_order(case) -> None:
    """The documented cross-field rule: a range's end is not before its start."""
    query = case.query or {}
    if "start" in query and "end" in query and _instant_ms(query["end"]) < _instant_ms(query["start"]):
        query["start"], query["end"] = query["end"], query["start"]


def _ndjson_problems(response, validator: jsonschema_rs.Validator) -> list[str]:
    problems = []
    for line in response.text.splitlines():
        try:
            errors = [e.message for e in validator.iter_errors(json.loads(line))]
        except ValueError as exc:
            errors = [f"not JSON: {exc}"]
        problems += errors
    return problems


def _allowed_4xx(case, status: int, with_token: bool) -> bool:
    if status == 401 and not with_token and case.path.startswith("/admin/"):
        return True
    return status == 412 and case.method == "PUT" and "If-Match" in (case.headers or {})


def _run(served: Served, operation, examples: int, with_token: bool, tally: Tally, event_schema: dict) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"} if with_token else {}
    validator = jsonschema_rs.Draft202012Validator(event_schema)
    session = requests.Session()

    @hypothesis.seed(SEED)
    @hypothesis.settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
                         suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def exchange(case) -> None:
        _in_order(case)
        response = case.call(base_url=served.base, session=session, headers=headers, timeout=15)
        label = f"{case.method} {case.formatted_path} {case.query or ''} -> {response.status_code}"
        tally.requests += 1
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            tally.server_errors.append(f"{label}: {response.text[:300]}")
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as exc:
            tally.nonconforming.append(f"{label}: {exc.message[:600]}")
        if response.status_code == 200 and case.path == "/replay/smart-money":
            tally.nonconforming += [f"{label}: {p}" for p in _ndjson_problems(response, validator)]
        if 400 <= response.status_code < 500 and not _allowed_4xx(case, response.status_code, with_token):
            tally.rejected.append(f"{label}: {response.text[:300]}")
        if not with_token and case.path.startswith("/admin/") and response.status_code != 401:
            tally.nonconforming.append(f"{label}: an admin route answered without the bearer token")

    exchange()


def test_the_gateway_keeps_every_promise_of_its_openapi_document(gateway):
    schema = schemathesis.openapi.from_url(gateway.base + "/openapi.json")
    document = requests.get(gateway.base + "/openapi.json", timeout=5).json()
    event_schema = document["components"]["schemas"]["SmartMoneyEvent"]
    assert event_schema["properties"]["profile_id"]["enum"] == list(PUBLIC_PROFILE_IDS)
    # Schemathesis leaves out the operation that serves the document it was loaded from.
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if op.path not in SKIPPED_PATHS]
    assert {f"{op.method.upper()} {op.path}" for op in operations} == {
        "GET /flow/smart-money", "GET /history/smart-money", "GET /replay/smart-money",
        "GET /admin/synthetic/status", "GET /admin/synthetic/control", "PUT /admin/synthetic/control"}
    tally = Tally()
    started = time.monotonic()
    for op in operations:
        _run(gateway, op, EXAMPLES_WITH_TOKEN, True, tally, event_schema)
        if op.path.startswith("/admin/"):
            _run(gateway, op, EXAMPLES_WITHOUT_TOKEN, False, tally, event_schema)
    elapsed = time.monotonic() - started
    print(f"schemathesis: {tally.summary()} in {elapsed:.1f} s")
    assert not tally.server_errors, "\n".join(tally.server_errors[:10])
    assert not tally.nonconforming, "\n".join(tally.nonconforming[:10])
    assert not tally.rejected, "\n".join(tally.rejected[:10])
    assert tally.statuses[200] > tally.requests // 2, tally.summary()
