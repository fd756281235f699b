"""Reading what the code under test logged."""

from __future__ import annotations

import logging

import pytest


def warning_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages captured at exactly WARNING level, oldest first."""
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
