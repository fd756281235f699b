"""The sign-in pieces without a server: one-time links, the failed sign-in limiter, the cross-site check."""

from __future__ import annotations

import pytest
from flask import Flask

from webui.__main__ import link_base
from webui.operator_auth import MAX_LIVE_LINKS, OneTimeLinks, SignInLimiter, cross_site_write


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_a_link_works_once_and_only_before_it_expires() -> None:
    clock = Clock()
    links = OneTimeLinks(lifetime_s=60, clock=clock)
    token = links.issue()
    assert len(token) >= 43, "256 random bits"
    assert links.redeem(token) and not links.redeem(token)
    late = links.issue()
    clock.now += 60
    assert not links.redeem(late)
    assert not links.redeem("") and not links.redeem("not-a-token")


def test_only_the_newest_links_stay_live() -> None:
    links = OneTimeLinks()
    tokens = [links.issue() for _ in range(MAX_LIVE_LINKS + 2)]
    assert not links.redeem(tokens[0]) and not links.redeem(tokens[1])
    assert all(links.redeem(t) for t in tokens[2:])


def test_the_limiter_blocks_the_sixth_attempt_for_the_rest_of_the_minute() -> None:
    clock = Clock()
    limiter = SignInLimiter(allowed=5, window_s=60, clock=clock)
    for _ in range(5):
        assert limiter.retry_after("a") is None
        limiter.failed("a")
        clock.now += 10
    # Failures at 500, 510, ..., 540; now 550: the oldest leaves the window at 560.
    assert limiter.retry_after("a") == 10
    assert limiter.retry_after("b") is None
    clock.now = 560.0
    assert limiter.retry_after("a") is None, "a sliding window: the oldest failure has aged out"
    limiter.failed("a")
    assert limiter.retry_after("a") == 10
    limiter.succeeded("a")
    assert limiter.retry_after("a") is None and len(limiter) == 0


@pytest.mark.parametrize("clients", [10, 10_000])
def test_the_limiter_table_stays_bounded(clients: int) -> None:
    clock = Clock()
    limiter = SignInLimiter(allowed=5, window_s=60, max_clients=50, clock=clock)
    for i in range(clients):
        for _ in range(7):
            limiter.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) == min(clients, 50)
    # The most recent offender is still held; forgotten entries expire anyway.
    assert limiter.retry_after(f"10.0.{(clients - 1) // 256}.{(clients - 1) % 256}") is not None
    clock.now += 61
    limiter.failed("fresh")
    assert limiter.retry_after("fresh") is None


@pytest.mark.parametrize("headers,strict,refused", [
    ({}, True, False),
    ({"Origin": "http://localhost"}, True, False),
    ({"Origin": "http://evil.example"}, False, True),
    ({"Origin": "http://localhost:9999"}, False, True),
    ({"Origin": "null"}, True, True),
    ({"Origin": "null"}, False, False),  # a form post under Referrer-Policy: no-referrer
    ({"Sec-Fetch-Site": "cross-site"}, False, True),
    ({"Sec-Fetch-Site": "same-site", "Origin": "http://localhost"}, False, True),
    ({"Sec-Fetch-Site": "same-origin", "Origin": "null"}, False, False),
])
def test_cross_site_writes(headers: dict[str, str], strict: bool, refused: bool) -> None:
    with Flask("t").test_request_context("/signin", method="POST", headers=headers):
        assert cross_site_write(strict) is refused


@pytest.mark.parametrize("host,allowed,base", [
    ("127.0.0.1", ("localhost",), "http://127.0.0.1:3000"),
    ("0.0.0.0", ("localhost", "127.0.0.1"), "http://localhost:3000"),
    ("0.0.0.0", (".example.com", "terminal.example.com"), "http://terminal.example.com:3000"),
    ("::", (".example.com",), "http://127.0.0.1:3000"),
    ("::1", ("::1",), "http://[::1]:3000"),
])
def test_the_printed_link_names_a_host_the_browser_can_use(host: str, allowed: tuple[str, ...], base: str) -> None:
    assert link_base(host, 3000, allowed) == base
