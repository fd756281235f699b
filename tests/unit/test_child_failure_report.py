"""A child that never gets ready fails with what it last printed and how its readiness probes went."""

from __future__ import annotations

import sys

import pytest

from synthmarket_cli.up.children import ChildFailed, ProcessChild
from tests.support.waiting import wait_until


def test_a_child_not_ready_in_time_is_reported_with_its_last_lines_and_its_probes():
    script = "import time\nfor i in range(30): print(f'replaying minute {i}')\ntime.sleep(30)"
    child = ProcessChild("slow", [sys.executable, "-c", script], ready=lambda: False, prefix_output=True)
    child.start()
    try:
        # Every line printed first (a loaded machine starts Python slowly), then the wait runs out.
        wait_until(lambda: "replaying minute 29" in child.recent, 30, "the child's lines")
        with pytest.raises(ChildFailed) as failed:
            child.wait_healthy(1.5)
    finally:
        child.stop(2)
    message = str(failed.value)
    assert message.startswith("slow was not healthy within 2s (")
    assert "readiness probes, the slowest took 0.0s" in message
    # The last 20 lines, the oldest dropped.
    assert "replaying minute 29" in message and "replaying minute 10" in message
    assert "replaying minute 9\n" not in message
