"""Every service entry point turns a bad environment value into one clear line and exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("module", ["regime_svc", "options_svc", "equities_svc", "flow_svc", "admin_gateway", "webui"])
def test_a_bad_setting_is_a_message_not_a_traceback(module):
    env = {**os.environ, "GATEWAY_PORT": "eighty"}
    done = subprocess.run([sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "GATEWAY_PORT must be an integer, got 'eighty'" in done.stderr
    assert "Traceback" not in done.stderr
