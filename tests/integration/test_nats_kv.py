"""JetStream KV against a real NATS server: raw entries and the control store on top of them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def test_kv_entry_round_trips_through_real_jetstream(make_kv):
    kv = await make_kv()
    first = await kv.put("global", b'{"a":1}')
    second = await kv.put("global", b'{"a":2}')
    entry = await kv.get("global")
    assert entry.value == b'{"a":2}'
    assert entry.revision == second > first
