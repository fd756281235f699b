"""An operator's PUT through the gateway reaches the KV entry, regime_svc and both ingest services.

Everything is real: NATS, the regime gRPC server, the options and equities ingest services and
the gateway app; only the HTTP layer is Flask's test client.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from equities_svc.service import start_equities_service
from options_svc.service import start_options_service
from synthmarket.settings import load_settings
from synthmarket.v1 import status_pb2
from tests.support.admin_stack import AUTH, CONTROL, STATUS, Stack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def live(nats_url):
    stack = Stack(nats_url)
    settings = dataclasses.replace(
        load_settings({"SYNTH_SYMBOLS": "SPY,AAPL,TSLA", "REGIME_STREAM_INTERVAL_MS": "100"}),
        nats_url=nats_url, speed=30.0,
    )
    common = dict(regime_addr=stack.regime.address, control_bucket=stack.control_bucket,
                  status_bucket=stack.status_bucket, status_interval_s=0.2)
    services = [stack.bridge.run(start(settings, stack.nc, **common), 15)
                for start in (start_options_service, start_equities_service)]
    try:
        yield stack, services
    finally:
        for service in services:
            stack.bridge.run(service.stop(), 15)
        stack.close()


def test_a_put_reaches_kv_regime_and_both_ingest_services_within_a_second(live):
    stack, (options, equities) = live
    wait_until(lambda: options.publishing.is_set() and equities.publishing.is_set(), 15, "both services publishing")
    before = stack.client.get(STATUS, headers=AUTH).get_json()
    assert before["derived"]["coverage_window_minutes"] == 20

    current = stack.client.get(CONTROL, headers=AUTH)
    body = {**current.get_json(), "preset_id": "dealer_day", "coverage_window_minutes": 10, "shared_seed": 99}
    sent = time.monotonic()
    put = stack.client.put(CONTROL, json=body, headers={**AUTH, "If-Match": current.headers["ETag"]})
    assert put.status_code == 200, put.get_json()
    revision = int(put.headers["ETag"].strip('"'))

    # The KV entry holds it.
    assert stack.kv_history()[-1] == (revision, put.get_json())

    def applied_everywhere() -> bool:
        return (stack.regime.control.revision == revision and options.status.applied_revision == revision
                and equities.status.applied_revision == revision)

    def derived_follows() -> bool:
        status = stack.client.get(STATUS, headers=AUTH).get_json()
        return status["control"]["shared_seed"] == 99 and status["derived"]["coverage_window_minutes"] == 10

    def reports_carry_revision() -> bool:
        async def go() -> list[int]:
            kv = await stack.js.key_value(stack.status_bucket)
            entries = [await kv.get(key) for key in ("options_svc.0", "equities_svc.0")]
            return [status_pb2.StatusReport.FromString(e.value).applied_control_revision for e in entries]

        return stack.bridge.run(go(), 5) == [revision, revision]

    # Within a second of the PUT: every service applied it, their status reports say so, and the
    # operator's derived status shows the new control.
    wait_until(lambda: applied_everywhere() and reports_carry_revision() and derived_follows(), 1.0,
               f"revision {revision} applied, reported and derived")
    assert time.monotonic() - sent < 1.5
    assert options.control.preset_id.value == equities.control.preset_id.value == "dealer_day"
