"""Reading the status bucket: one bad report does not hide the others, and an empty bucket is no reports."""

from __future__ import annotations

import asyncio

import pytest

from synthmarket.infra.status_reports import read_status_reports
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


async def test_an_empty_deleted_or_purged_bucket_reads_as_no_reports_yet(js, make_kv):
    kv = await make_kv("status")
    bucket = (await kv.status()).bucket
    assert await read_status_reports(js, bucket) == {}   # never written
    report = status_pb2.StatusReport(service="options_svc", replica="0").SerializeToString()
    await kv.put("options_svc.0", report)
    await kv.delete("options_svc.0")
    assert await read_status_reports(js, bucket) == {}   # only a delete marker left
    await kv.put("options_svc.0", report)
    await kv.purge("options_svc.0")
    assert await read_status_reports(js, bucket) == {}   # purged


async def test_reports_read_while_the_bucket_is_emptied_again_and_again(js, make_kv):
    # Fifty rounds of write, read, purge; a reader racing the purge sees a report or none, never an error.
    kv = await make_kv("status")
    bucket = (await kv.status()).bucket
    report = status_pb2.StatusReport(service="equities_svc", replica="0", prints_published=7)
    for _ in range(50):
        await kv.put("equities_svc.0", report.SerializeToString())
        racing = asyncio.create_task(read_status_reports(js, bucket))
        await kv.purge("equities_svc.0")
        seen = await racing
        assert set(seen) <= {"equities_svc.0"}
        assert await read_status_reports(js, bucket) == {}
