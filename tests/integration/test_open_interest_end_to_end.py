"""Open interest from the simulator to the public API: options and events JSONL, the wire, the gateway JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from admin_gateway.app import create_app
from admin_gateway.backend import GatewayClients
from synthmarket.domain import chain
from synthmarket.domain.marketdata import SmartMoneyEvent
from synthmarket.settings import load_settings
from synthmarket.wire import smart_money_event_from_proto, smart_money_event_to_proto
from tests.support.gateway import StreamPublisher
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

RUN = [sys.executable, "-m", "synthmarket_cli.main", "simulate", "--date", "2026-11-18", "--start", "10:00",
       "--minutes", "12", "--symbols", "SPY,AAPL,NVDA,TSLA,JPM", "--seed", "11"]


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("oi")
    done = subprocess.run([*RUN, "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


def test_prints_carry_open_interest_and_a_condition(run: Path):
    prints = _jsonl(run / "options.jsonl")
    assert prints
    by_contract: dict[str, set[int]] = {}
    for p in prints:
        assert isinstance(p["open_interest"], int) and p["open_interest"] >= 0, p
        assert p["condition"] in chain.OPTION_CONDITIONS, p
        by_contract.setdefault(p["contract"], set()).add(p["open_interest"])
    # Published once before the open: one figure per contract all day.
    assert all(len(v) == 1 for v in by_contract.values())
    assert sum(next(iter(v)) > 0 for v in by_contract.values()) / len(by_contract) >= 0.95


def test_events_carry_their_lead_contracts_open_interest(run: Path):
    oi = {p["contract"]: p["open_interest"] for p in _jsonl(run / "options.jsonl")}
    events = _jsonl(run / "events.jsonl")
    assert len(events) >= 20
    for e in events:
        assert e["open_interest"] == oi[e["contract"]], e
    # Volume above open interest (flow tools' opening inference) happens, and is not the rule.
    opening = sum(e["volume"] > e["open_interest"] for e in events) / len(events)
    assert 0.0 < opening < 0.8, opening


def test_the_gateway_serves_open_interest_as_a_number(run: Path, nats_url):
    events = [SmartMoneyEvent(**{**e, "print_ids": tuple(e["print_ids"])}) for e in _jsonl(run / "events.jsonl")]
    # The wire keeps it, and keeps "unknown" apart from zero.
    assert all(smart_money_event_from_proto(smart_money_event_to_proto(e)) == e for e in events)
    legacy = smart_money_event_from_proto(smart_money_event_to_proto(
        SmartMoneyEvent(**{**events[0].__dict__, "open_interest": None})))
    assert legacy.open_interest is None
    publisher = StreamPublisher(nats_url)
    publisher.purge()
    clients = None
    try:
        publisher.publish(events)
        settings = load_settings({"NATS_URL": nats_url})
        clients = GatewayClients(settings).start()
        wait_until(lambda: clients.cache.primed.is_set(), what="events cache to load")
        client = create_app(settings, clients).test_client()
        wanted = {e.event_id: e.open_interest for e in events}

        window = {"start": min(e.ts for e in events), "end": max(e.ts for e in events) + 1, "limit": 500}

        def served() -> dict:
            out, cursor = {}, None
            while True:
                r = client.get("/history/smart-money", query_string={**window, **({"cursor": cursor} if cursor else {})})
                assert r.status_code == 200, r.get_data(as_text=True)
                body = r.get_json()
                out.update((e["event_id"], e["open_interest"]) for e in body["events"])
                cursor = body["next_cursor"]
                if cursor is None:
                    return out

        wait_until(lambda: wanted.items() <= served().items(), what="events with open interest in /history")
        assert all(isinstance(v, int) for v in served().values())
    finally:
        if clients is not None:
            clients.close()
        publisher.close()
