"""The web terminal in real Chromium against the real gateway, regime server, market feed and NATS."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from admin_gateway.app import create_app as create_gateway
from regime_svc.server import serve as serve_regime
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.marketdata import EquityQuote, EquityTrade
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.settings import load_settings
from tests.support.waiting import wait_until
from tests.support.webui_backend import (
    BIG_SEED,
    OPERATOR_PASSWORD,
    TOKEN,
    Backend,
    GatewayUnderTest,
    gateway_settings,
    sample_event,
    sample_print,
    webui_settings,
)
from webui.app import create_app
from webui.local_servers import ThreadedServer
from webui.market_feed import MarketFeed
from webui.operator_auth import print_signin_link, signin_link

pytestmark = pytest.mark.e2e
expect.set_options(timeout=10_000)  # generous for a loaded 2-core machine; passing runs never wait it out

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
FOCUS = ["NVDA", "AAPL", "TSLA"]
HITS = {"institutional_directional": 7, "retail_whale": 4, "event_driven": 2, "vol_seller": 3,
        "arbitrage": 1, "hedge_reactive": 5}
CONTROL_PUT = "/api/admin/synthetic/control"
STATUS_URL = "/api/admin/synthetic/status"


@dataclass
class Stack:
    backend: Backend
    regime: Any
    gateway: GatewayUnderTest
    feed: MarketFeed
    webui_app: Flask
    webui: ThreadedServer
    public_feed: MarketFeed
    public_webui: ThreadedServer  # the same terminal with the admin flag off
    market_t0: int = 0
    market_round: int = 0

    def report(self) -> None:
        self.backend.report_status(HITS, "midday", "dealer_gamma", FOCUS, int(time.time() * 1000))

    def publish_tape(self, n: int, start: int) -> list[str]:
        ts = int(time.time() * 1000)
        events = [sample_event(start + i, ts + i, profile) for i, profile in
                  zip(range(n), ["institutional_directional", "retail_whale", "event_driven", "vol_seller",
                                 "arbitrage", "hedge_reactive"] * 10)]
        for ev in events:
            self.backend.publish_event(ev)
        return [ev.event_id for ev in events]

    def publish_market(self, rounds: int = 30) -> None:
        items: list[Any] = []
        for r in range(rounds):
            self.market_round += 1
            n = self.market_round
            t = self.market_t0 + n * 2000  # one sparkline bucket per round, always later than the last
            for k, (sym, px) in enumerate([("NVDA", 138.0), ("AAPL", 228.0), ("TSLA", 330.0), ("SPY", 585.0)]):
                wobble = ((n * 7 + k * 3) % 11 - 5) * 0.06 + ((n % 40) - 20) * 0.03 * (1 if k % 2 else -1)
                items.append(EquityQuote(t, sym, round(px + wobble - 0.01, 2), round(px + wobble + 0.01, 2), 3, 5))
                items.append(EquityTrade(f"t{r}{k}", t + 1, sym, round(px + wobble, 2), 100, "XNAS", r % 3 == 0))
            items.append(sample_print(r, t, price=1.0 + r / 5, size=10 + r))
        self.backend.publish_market(items)


@pytest.fixture(scope="module")
def stack(nats_url: str) -> Iterator[Stack]:
    backend = Backend.create(nats_url)
    backend.write_control(DEFAULT_CONTROL.with_update(shared_seed=BIG_SEED), 0)
    regime = backend.loop.run(serve_regime(
        load_settings({"NATS_URL": nats_url}), addr="127.0.0.1:0", control_bucket=backend.control_bucket))
    backend.loop.run(regime.wait_for_control())
    gateway = GatewayUnderTest(backend, gateway_settings(backend, regime_addr=regime.address))
    settings = webui_settings(backend, gateway.url, admin=True, SYNTH_OPERATOR_PASSWORD=OPERATOR_PASSWORD)
    feed = MarketFeed(settings, status_bucket=backend.status_bucket, control_bucket=backend.control_bucket,
                      flush_interval_s=0.1).start()
    webui_app = create_app(settings, market=feed)
    webui = ThreadedServer(webui_app).start()
    public_settings = webui_settings(backend, gateway.url, admin=False)
    public_feed = MarketFeed(public_settings, status_bucket=backend.status_bucket,
                             control_bucket=backend.control_bucket, flush_interval_s=0.1).start()
    public_webui = ThreadedServer(create_app(public_settings, market=public_feed)).start()
    s = Stack(backend, regime, gateway, feed, webui_app, webui, public_feed, public_webui,
              market_t0=int(time.time() * 1000) - 600_000)
    s.report()
    wait_until(lambda: gateway.clients.cache.primed.is_set(), 10, "the gateway to follow the stream")
    assert feed.connected.wait(5) and public_feed.connected.wait(5)
    try:
        yield s
    finally:
        for server in (webui, public_webui):
            server.stop()
        for f in (feed, public_feed):
            f.drop_all()
            f.close()
        gateway.close()
        backend.loop.run(regime.stop(0))
        backend.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.clock.install()  # real time until a test pauses it (see burst)
    pg.set_default_timeout(10_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield pg
        assert errors == [], f"uncaught errors in the page: {errors}"
    finally:
        context.close()


def sign_in(page: Page, app: Flask, url: str) -> None:
    """Follow a fresh one-time link, as an operator does with the one the terminal printed."""
    page.goto(signin_link(app, url))
    expect(page).to_have_url(url + "/")


def open_terminal(page: Page, stack: Stack, admin: bool = True, signed_in: bool = True) -> None:
    if admin and signed_in:
        sign_in(page, stack.webui_app, stack.webui.url)
    else:
        page.goto((stack.webui if admin else stack.public_webui).url + "/")
    expect(page.locator("#link-flow")).to_have_attribute("data-state", "live")
    expect(page.locator("#link-market")).to_have_attribute("data-state", "live")
    # Caught up: the relay is subscribed upstream and the recent events are on the tape.
    expect(page.locator("#flow-tape")).to_have_attribute("data-backfills", re.compile(r"[1-9]"))


def open_drawer(page: Page) -> None:
    page.locator("#gear").click()
    expect(page.locator("#drawer")).to_be_visible()
    expect(page.locator("#ctl-preset")).to_be_enabled()
    expect(page.locator("#st-regime")).not_to_have_text("—")


def burst(page: Page, *actions: Any) -> None:
    """Run UI actions as one burst: the page clock stands still meanwhile, so however slow the
    machine, the 250 ms debounce sees them together; it then runs on in real time."""
    page.clock.pause_at(page.evaluate("Date.now()") + 1)
    for action in actions:
        action()
    page.clock.resume()


def put_requests(page: Page) -> list[Any]:
    seen: list[Any] = []
    page.on("request", lambda r: seen.append(r) if r.method == "PUT" and r.url.endswith(CONTROL_PUT) else None)
    return seen


def reset_control(stack: Stack) -> None:
    _, revision = stack.backend.control()
    stack.backend.write_control(DEFAULT_CONTROL.with_update(shared_seed=BIG_SEED), revision)


# --- tests ------------------------------------------------------------------------------------


def test_flag_off_has_no_gear_and_the_proxy_answers_404(page: Page, stack: Stack) -> None:
    open_terminal(page, stack, admin=False)
    assert page.locator("#gear").count() == 0 and page.locator("#drawer").count() == 0
    assert page.locator("#ctx-regime").count() == 0, "the regime label is for operators only"
    for path in ("/api/admin/synthetic/status", CONTROL_PUT, "/signin"):
        assert page.request.get(stack.public_webui.url + path).status == 404
    r = page.request.put(stack.public_webui.url + CONTROL_PUT, data=json.dumps({"preset_id": "event_day"}),
                         headers={"Content-Type": "application/json"})
    assert r.status == 404
    expect(page.locator("#ctx-phase")).to_have_text("phase midday")


def test_a_full_drawer_session_never_exposes_the_token(page: Page, stack: Stack) -> None:
    reset_control(stack)
    bodies: list[tuple[str, str]] = []

    def on_response(response: Any) -> None:
        headers = " ".join(f"{k}: {v}" for k, v in response.all_headers().items())
        try:
            body = response.body().decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - websocket upgrades and redirects have no body
            body = ""
        bodies.append((response.url, headers + "\n" + body))

    frames: list[str] = []
    page.on("response", on_response)
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    puts = put_requests(page)
    open_terminal(page, stack)
    open_drawer(page)
    assert page.evaluate("document.activeElement.id") == "ctl-preset", "opening moves focus into the drawer"
    expect(page.locator("#st-seed")).to_have_text(str(BIG_SEED))
    expect(page.locator("#st-hits tr[data-profile=vol_seller] .hit")).to_have_text("3")

    # One burst of four edits: preset, assist, window and a weight.
    burst(page,
          lambda: page.select_option("#ctl-preset", "event_day"),
          lambda: page.locator("#ctl-assist").click(),
          lambda: page.locator('#ctl-window input[value="30"]').check(),
          lambda: page.locator('#w-retail_whale input[value="1.6"]').check())
    expect(page.locator("#save-state")).to_contain_text("saved")
    state = wait_until(lambda: (lambda s: s if s.preset_id is SyntheticControlPresetId.EVENT_DAY else None)(
        stack.backend.control()[0]), 5, "the KV entry to change")
    assert (state.coverage_assist, state.coverage_window_minutes) == (False, 30)
    assert state.profile_weights["retail_whale"] == 1.6 and state.shared_seed == BIG_SEED
    page.wait_for_timeout(400)
    assert len(puts) == 1, f"one debounced PUT per burst, saw {len(puts)}"
    assert puts[0].headers.get("if-match"), "writes carry If-Match"
    assert "shared_seed" not in json.loads(puts[0].post_data), "the page never sends the seed"

    # The status panel shows what the gateway now reports.
    expect(page.locator("#st-preset")).to_have_text("event day")
    expect(page.locator("#st-assist")).to_have_text("off")
    expect(page.locator("#st-window")).to_have_text("30m")
    expect(page.locator("#st-hits tr[data-profile=retail_whale] .wt")).to_have_text("High")
    expect(page.locator("#st-seed")).to_have_text(str(BIG_SEED))

    # Keyboard: Escape closes and gives focus back to the gear.
    page.keyboard.press("Escape")
    expect(page.locator("#drawer")).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "gear"
    page.keyboard.press("Enter")
    expect(page.locator("#drawer")).to_be_visible()
    page.keyboard.press("Escape")

    assert any(CONTROL_PUT in url for url, _ in bodies) and len(bodies) > 5
    for url, text in bodies:
        assert TOKEN not in text, f"the admin token leaked in {url}"
    assert all(TOKEN not in f for f in frames)
    assert all(TOKEN not in json.dumps(c) for c in page.context.cookies())


def test_the_drawer_writes_250_ms_after_the_last_edit_and_polls_the_status_every_5_s(
        page: Page, stack: Stack) -> None:
    reset_control(stack)
    puts = put_requests(page)
    polls: list[Any] = []
    page.on("request", lambda r: polls.append(r) if r.method == "GET" and r.url.endswith(STATUS_URL) else None)
    open_terminal(page, stack)
    open_drawer(page)
    page.clock.pause_at(page.evaluate("Date.now()") + 1)
    try:
        page.select_option("#ctl-preset", "dealer_day")
        page.clock.run_for(150)
        page.select_option("#ctl-preset", "quiet_range")      # restarts the wait
        page.clock.run_for(249)
        time.sleep(0.5)
        assert puts == [], "no write before 250 ms without an edit"
        page.clock.run_for(1)
        wait_until(lambda: len(puts) == 1, 5, "the debounced write")
        assert json.loads(puts[0].post_data)["preset_id"] == "quiet_range"
        expect(page.locator("#save-state")).to_contain_text("saved")
        time.sleep(0.5)
        # Page-clock seconds at which a poll went out, over 16 s: one every 5 s exactly.
        at: list[int] = []
        for second in range(1, 17):
            before = len(polls)
            page.clock.run_for(1_000)
            time.sleep(0.15)
            at += [second] * (len(polls) - before)
        gaps = [b - a for a, b in zip(at, at[1:])]
        assert len(at) >= 3 and set(gaps) == {5}, f"status polls at seconds {at}"
    finally:
        page.clock.resume()
    reset_control(stack)


def test_a_conflicting_change_is_shown_not_overwritten(page: Page, stack: Stack) -> None:
    reset_control(stack)
    open_terminal(page, stack)
    open_drawer(page)
    expect(page.locator("#ctl-preset")).to_have_value("balanced_demo")
    current, revision = stack.backend.control()
    # Another operator writes between this page's edit and its debounced write (the page clock
    # stands still meanwhile; a pending edit also keeps status polls from reloading the form).
    burst(page,
          lambda: page.locator('#w-arbitrage input[value="0.6"]').check(),
          lambda: stack.backend.write_control(current.with_update(
              preset_id=SyntheticControlPresetId.QUIET_RANGE, updated_by="desk-2"), revision))
    message = page.locator("#drawer-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("changed elsewhere by desk-2")
    expect(page.locator("#ctl-preset")).to_have_value("quiet_range")
    expect(page.locator('#w-arbitrage input[value="1.0"]')).to_be_checked()
    state, _ = stack.backend.control()
    assert state.preset_id is SyntheticControlPresetId.QUIET_RANGE and state.updated_by == "desk-2"
    assert state.profile_weights["arbitrage"] == 1.0, "the stale write must not land"


def test_a_failing_put_rolls_back_with_a_message(page: Page, stack: Stack) -> None:
    reset_control(stack)
    before = stack.backend.control()
    # A gateway of its own, so it can really go away under the open drawer.
    gateway = GatewayUnderTest(stack.backend, gateway_settings(stack.backend, regime_addr=stack.regime.address))
    port = gateway.server.port
    app = create_app(webui_settings(stack.backend, gateway.url, admin=True))
    webui = ThreadedServer(app).start()
    puts = put_requests(page)
    try:
        sign_in(page, app, webui.url)
        open_drawer(page)
        expect(page.locator('#ctl-window input[value="20"]')).to_be_checked()
        # The gateway goes away between the edits and their (debounced) write.
        burst(page,
              lambda: page.locator('#ctl-window input[value="10"]').check(),
              lambda: page.locator("#ctl-assist").click(),
              gateway.server.stop)
        message = page.locator("#drawer-message")
        expect(message).to_contain_text("Change not saved")
        expect(message).to_contain_text("is unreachable")
        expect(page.locator('#ctl-window input[value="20"]')).to_be_checked()
        expect(page.locator("#ctl-assist")).to_be_checked()
        expect(page.locator("#save-state")).to_have_text("not saved")
        assert len(puts) == 1, "the two edits were one burst"
        assert stack.backend.control() == before
        # 503 disables the controls with the reason until the backend answers again.
        expect(page.locator("#ctl-preset")).to_be_disabled()
        gateway.server = ThreadedServer(create_gateway(gateway.settings, gateway.clients), port=port).start()
        page.keyboard.press("Escape")
        page.locator("#gear").click()
        expect(page.locator("#ctl-preset")).to_be_enabled()
        expect(message).to_be_hidden()
    finally:
        webui.stop()
        gateway.close()


def test_tape_stays_live_beside_the_open_drawer(page: Page, stack: Stack) -> None:
    stack.report()
    open_terminal(page, stack)
    open_drawer(page)
    ids = stack.publish_tape(6, start=100)
    for event_id in ids:
        expect(page.locator(f'#flow-tape tr[data-event-id="{event_id}"]')).to_have_count(1)
    rows = page.locator("#flow-tape tbody tr")
    expect(rows.first).to_contain_text("HEDGE")
    expect(rows.first).to_contain_text("$1.25M")
    # Not covered: the tape's box ends left of the drawer and its rows are hit-testable.
    tape_box = page.locator(".panel-flow").bounding_box()
    drawer_box = page.locator("#drawer").bounding_box()
    assert tape_box["x"] + tape_box["width"] <= drawer_box["x"]
    first = page.locator(f'#flow-tape tr[data-event-id="{ids[-1]}"]')
    box = first.bounding_box()
    hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('tr')?.dataset.eventId",
                        [box["x"] + 20, box["y"] + box["height"] / 2])
    assert hit == ids[-1]
    page.locator("#flow-scroll").focus()
    assert page.evaluate("document.activeElement.id") == "flow-scroll"
    expect(page.locator("#drawer")).to_be_visible()

    stack.publish_market()
    expect(page.locator("#prints-tape tbody tr").first).to_contain_text("AAPL 12/18/26 230C")
    expect(page.locator('#quotes tr[data-symbol="NVDA"]')).to_have_class("q focus")
    points = page.locator('#quotes tr[data-symbol="NVDA"] polyline').get_attribute("points")
    assert points and len(points.split()) >= 10, "focus symbols carry a sparkline"
    expect(page.locator("#ctx-focus")).to_have_text("focus NVDA AAPL TSLA")
    expect(page.locator("#ctx-regime")).to_have_text("regime dealer gamma")


def test_market_socket_reconnects_after_loss(page: Page, stack: Stack) -> None:
    open_terminal(page, stack)
    # Playwright delivers page events only inside its own calls, so wait through it.
    with page.expect_websocket(lambda ws: ws.url.endswith("/ws/market"), timeout=10_000):
        stack.feed.drop_all()
    expect(page.locator("#link-market")).to_have_attribute("data-state", "live")
    stack.publish_market(rounds=2)
    expect(page.locator("#prints-tape tbody tr").first).to_contain_text("AAPL")


@pytest.mark.parametrize("env,reason", [
    ({"OPTIONS_ADAPTER": "live"}, "backend mode is mixed"),
    ({"SYNTHETIC_CONTROL_ENABLED": "0"}, "turned off on the backend (404)"),
])
def test_drawer_is_disabled_with_the_reason(page: Page, stack: Stack, env: dict[str, str], reason: str) -> None:
    gateway = GatewayUnderTest(stack.backend, gateway_settings(stack.backend, **env))
    app = create_app(webui_settings(stack.backend, gateway.url, admin=True))
    webui = ThreadedServer(app).start()
    try:
        sign_in(page, app, webui.url)
        page.locator("#gear").click()
        message = page.locator("#drawer-message")
        expect(message).to_contain_text(reason)
        expect(page.locator("#ctl-preset")).to_be_disabled()
        expect(page.locator('#w-vol_seller input[value="1.6"]')).to_be_disabled()
        # The drawer still opens and closes from the keyboard while disabled.
        page.keyboard.press("Escape")
        expect(page.locator("#drawer")).to_be_hidden()
    finally:
        webui.stop()
        gateway.close()


def drawer_ready(page: Page) -> None:
    """drawer.js is a dynamic import: its init disables the controls until it knows better."""
    expect(page.locator("#ctl-preset")).to_be_disabled()


def page_fetch_statuses(page: Page) -> list[Any]:
    """What the page's own scripts get from the admin API: same origin, any headers they like."""
    return page.evaluate("""async () => {
      const put = await fetch('/api/admin/synthetic/control', {method: 'PUT', body: '{"preset_id":"event_day"}',
        headers: {'Content-Type': 'application/json', 'X-CSRF-Token': 'guess', 'X-Operator': 'operator'}});
      const status = await fetch('/api/admin/synthetic/status');
      return [put.status, (await put.json()).error, status.status];
    }""")


def test_signed_out_the_drawer_is_read_only_and_the_printed_link_opens_it(
        page: Page, stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    reset_control(stack)
    before = stack.backend.control()
    admin_calls: list[str] = []
    page.on("request", lambda r: admin_calls.append(r.url) if "/api/admin/" in r.url else None)
    open_terminal(page, stack, signed_in=False)
    drawer_ready(page)
    page.locator("#gear").click()
    expect(page.locator("#drawer")).to_be_visible()
    read_only = page.locator("#operator-out")
    expect(read_only).to_be_visible()
    expect(read_only).to_contain_text("Read only")  # in words, not only by colour
    expect(page.locator("#signin-link")).to_have_text("Sign in to change the market")
    expect(page.locator("#signin-link")).to_be_focused()
    expect(page.locator("#ctl-preset")).to_be_disabled()
    expect(page.locator('#w-vol_seller input[value="1.6"]')).to_be_disabled()
    expect(page.locator("#st-backend")).to_have_text("sign in to see the live status")
    assert admin_calls == [], "the read-only drawer asks nothing it would be refused"
    assert page_fetch_statuses(page) == [401, "sign_in_required", 401]
    assert stack.backend.control() == before

    # The link as `python -m webui` prints it at start.
    print_signin_link(stack.webui_app, stack.webui.url)
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("operator sign-in: ")]
    assert len(printed) == 1
    page.goto(printed[0].removeprefix("operator sign-in: "))
    expect(page).to_have_url(stack.webui.url + "/")
    open_drawer(page)
    expect(page.locator("#operator-in")).to_contain_text("Signed in as operator-link")
    expect(read_only).to_be_hidden()
    burst(page, lambda: page.select_option("#ctl-preset", "dealer_day"))
    expect(page.locator("#save-state")).to_contain_text("saved")
    wait_until(lambda: stack.backend.control()[0].preset_id is SyntheticControlPresetId.DEALER_DAY, 5,
               "the change to reach the KV entry")
    # The session cookie is out of the scripts' reach and never sent from another site.
    assert page.evaluate("document.cookie") == ""
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "synth_operator"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # The session ends elsewhere (signed out from another tab): the next edit says so, read-only again.
    csrf = page.evaluate("document.body.dataset.csrf")
    assert page.request.post(stack.webui.url + "/signout", form={"csrf_token": csrf}, max_redirects=0).status == 303
    page.locator('#w-arbitrage input[value="1.6"]').check()
    expect(page.locator("#drawer-message")).to_contain_text("Sign in again")
    expect(read_only).to_be_visible()
    expect(page.locator("#operator-out-text")).to_have_text("Your operator session has ended.")
    expect(page.locator("#ctl-preset")).to_be_disabled()
    assert stack.backend.control()[0].profile_weights["arbitrage"] == 1.0


def test_password_sign_in_and_sign_out_by_keyboard(page: Page, stack: Stack) -> None:
    page.goto(stack.webui.url + "/")
    drawer_ready(page)
    page.locator("#gear").click()
    page.keyboard.press("Enter")  # the focused "Sign in to change the market" link
    expect(page).to_have_url(stack.webui.url + "/signin")
    password = page.locator("#signin-password")
    expect(password).to_be_focused()
    page.keyboard.type("not-the-password")
    page.keyboard.press("Enter")
    expect(page.locator("#signin-message")).to_have_text("Wrong password.")
    expect(password).to_be_focused()
    page.keyboard.type(OPERATOR_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(stack.webui.url + "/")
    drawer_ready(page)
    page.locator("#gear").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#ctl-preset")).to_be_enabled()
    expect(page.locator("#ctl-preset")).to_be_focused()
    expect(page.locator("#operator-name")).to_have_text("operator")
    page.locator("#signout").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#operator-out")).to_be_attached()
    expect(page.locator("#operator-in")).to_have_count(0)
    expect(page).to_have_url(stack.webui.url + "/")
    drawer_ready(page)
    page.locator("#gear").click()
    expect(page.locator("#operator-out")).to_be_visible()
    expect(page.locator("#ctl-preset")).to_be_disabled()
    assert page_fetch_statuses(page) == [401, "sign_in_required", 401]


@pytest.mark.parametrize("width,height", [(1280, 800), (1920, 1080)])
def test_screenshots_closed_and_open(browser: Browser, stack: Stack, width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        open_terminal(page, stack)
        ids = stack.publish_tape(24, start=1000 + width)
        stack.publish_market(rounds=30)
        expect(page.locator(f'#flow-tape tr[data-event-id="{ids[-1]}"]')).to_have_count(1)
        expect(page.locator("#prints-tape tbody tr").first).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        closed = ARTIFACTS / f"webui-{width}x{height}-closed.png"
        page.screenshot(path=str(closed))
        open_drawer(page)
        opened = ARTIFACTS / f"webui-{width}x{height}-open.png"
        page.screenshot(path=str(opened))
        assert closed.stat().st_size > 10_000 and opened.stat().st_size > 10_000
        # Readable: nothing of the terminal spills outside the viewport either way.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()
