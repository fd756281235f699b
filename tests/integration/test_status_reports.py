"""`synthmarket status` reading the status bucket: one bad report does not hide the others."""

from __future__ import annotations

import pytest

from synthmarket.v1 import status_pb2
from synthmarket_cli.status import read_reports

pytestmark = pytest.mark.integration


async def test_an_unreadable_report_is_skipped_not_read_as_nats_down(nats_url, make_kv):
    kv = await make_kv("status")
    good = status_pb2.StatusReport(service="equities_svc", replica="0", prints_published=42)
    await kv.put("equities_svc.0", good.SerializeToString())
    await kv.put("options_svc.0", b"\xff\xff not a protobuf")
    reports = await read_reports(nats_url, (await kv.status()).bucket)
    assert list(reports) == ["equities_svc.0"]
    assert reports["equities_svc.0"][0].prints_published == 42
