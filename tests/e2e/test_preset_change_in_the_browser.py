"""The whole stack as `synthmarket up` runs it: sign in through the printed link, change the preset in
the drawer, and no quote on the screen jumps by more than an ordinary move."""

from __future__ import annotations

import math
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from synthmarket.domain.calendar import trading_day_for
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.session_clock import SessionClock
from synthmarket.domain.universe import DEFAULT_SYMBOLS
from synthmarket.engine import underlying_path
from synthmarket.infra import nats_auth
from synthmarket.infra.embedded_nats import free_port

pytestmark = pytest.mark.e2e

SIGNIN = re.compile(r"operator sign-in: (\S+)")
TERMINAL = re.compile(r"open the web terminal at (\S+)")


class Up:
    """`synthmarket up` in the background, its output read line by line."""

    def __init__(self, tmp: Path) -> None:
        passwords = nats_auth.generate_passwords()
        auth = nats_auth.write_private(tmp / "nats-passwords", nats_auth.format_passwords(passwords))
        env = {**os.environ, "NATS_PORT": str(free_port()), "GATEWAY_PORT": str(free_port()),
               "WEBUI_PORT": str(free_port()), "REGIME_GRPC_ADDR": f"127.0.0.1:{free_port()}",
               "SYNTH_DATA_DIR": str(tmp / "data"), "NATS_AUTH_FILE": str(auth), "SYNTH_SPEED": "1",
               "SYNTHETIC_CONTROL_ENABLED": "1", "SYNTHETIC_ADMIN_TOKEN": "e2e-token-change-me-0123456789",
               "NEXT_PUBLIC_SYNTHETIC_ADMIN": "1"}
        env.pop("NATS_URL", None)
        env.pop("METRICS_PORT", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "synthmarket_cli", "up"], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, pattern: re.Pattern[str] | str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.seen.append(line)
            found = pattern.search(line) if isinstance(pattern, re.Pattern) else (line if pattern in line else None)
            if found:
                return found.group(1) if isinstance(found, re.Match) else line
        raise AssertionError(f"`synthmarket up` never printed {pattern!r}:\n{''.join(self.seen[-40:])}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def up(tmp_path_factory) -> Iterator[tuple[Up, str, str]]:
    stack = Up(tmp_path_factory.mktemp("up"))
    try:
        signin = stack.wait_for(SIGNIN, 90)
        terminal = stack.wait_for(TERMINAL, 90)
        stack.wait_for("ready;", 30)
        yield stack, signin, terminal
    finally:
        stack.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    try:
        yield pg
    finally:
        context.close()


def board(page: Page) -> dict[str, float]:
    """Symbol -> last price on the quote board."""
    cells = page.eval_on_selector_all(
        "#quotes tr.q", "rows => rows.map(r => [r.dataset.symbol, r.querySelector('.last').textContent])")
    out = {}
    for symbol, text in cells:
        try:
            out[symbol] = float(text.replace(",", ""))
        except ValueError:
            continue
    return out


def farthest_preset(now: int) -> str:
    """The preset whose own paths lie farthest from the running one's now: without the stitching the
    board would jump by that gap."""
    at = np.array([now])
    gaps = {}
    for preset in SyntheticControlPresetId:
        if preset is DEFAULT_CONTROL.preset_id:
            continue
        other = DEFAULT_CONTROL.with_update(preset_id=preset)
        gaps[preset.value] = float(np.median([
            abs(math.log(underlying_path(s, at, other)["price"][0] / underlying_path(s, at, DEFAULT_CONTROL)["price"][0]))
            for s in DEFAULT_SYMBOLS]))
    return max(gaps, key=gaps.__getitem__)


def test_signed_in_by_the_printed_link_a_preset_change_moves_no_quote(up, page: Page) -> None:
    _stack, signin, terminal = up
    page.goto(signin)
    expect(page).to_have_url(re.compile(re.escape(terminal)))
    # A locator, not wait_for_function: the page's CSP forbids the eval that polling needs.
    expect(page.locator("#quotes tr.q").nth(14)).to_be_attached()
    page.wait_for_timeout(2_000)
    clock = SessionClock(speed=1.0)
    target = farthest_preset(clock.ts(int(time.time() * 1000)) + 2_000)
    before, before_ts = board(page), clock.ts(int(time.time() * 1000))

    page.locator("#gear").click()
    expect(page.locator("#ctl-preset")).to_be_enabled()      # signed in: the drawer is live
    page.select_option("#ctl-preset", target)
    expect(page.locator("#save-state")).to_contain_text("saved")
    expect(page.locator("#st-preset")).to_have_text(target.replace("_", " "))
    page.wait_for_timeout(3_500)   # the change's one-second lead, then fresh quotes on the board
    after, after_ts = board(page), clock.ts(int(time.time() * 1000))

    day = trading_day_for(before_ts)
    span = max(after_ts - before_ts, 1_000)
    marks = np.arange(day.open_ms, day.close_ms, span)
    checked, jumped = 0, []
    for symbol in sorted(set(before) & set(after)):
        ordinary = np.abs(np.diff(np.log(underlying_path(symbol, marks, DEFAULT_CONTROL)["price"])))
        # Tolerance: the board's move across the change within the day's 99.5th percentile of moves
        # over the same span, plus two cents of quote rounding.
        tolerance = float(np.quantile(ordinary, 0.995)) + 0.02 / before[symbol]
        move = abs(math.log(after[symbol] / before[symbol]))
        if move > tolerance:
            jumped.append(f"{symbol} {move:.4%} (tolerance {tolerance:.4%})")
        checked += 1
    assert checked >= 15
    # A change without the stitching moves every name by its gap between the presets' paths. One
    # name past its 99.5th percentile is chance: of 20 names that happens on one run in ten.
    assert len(jumped) <= 1, f"quotes jumped on {target}: {', '.join(jumped)}"

