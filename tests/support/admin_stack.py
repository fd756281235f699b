"""A gateway with admin routes on, a real regime server and NATS buckets of its own."""

from __future__ import annotations

import asyncio
import json
import uuid

from nats.js.errors import NoKeysError

from admin_gateway.app import create_app
from admin_gateway.backend import GatewayClients
from admin_gateway.bridge import AsyncBridge
from synthmarket.infra.control_store import ensure_status_bucket
from synthmarket.names import CONTROL_KEY
from synthmarket.settings import load_settings
from synthmarket.v1 import status_pb2
from tests.support.waiting import wait_until

TOKEN = "gateway-test-token"


AUTH = {"Authorization": f"Bearer {TOKEN}"}


CONTROL = "/admin/synthetic/control"


STATUS = "/admin/synthetic/status"


class Stack:
    """NATS-backed gateway + a real regime server following the same (per-module) control bucket."""

    def __init__(self, nats_url: str, **env: str) -> None:
        self.bridge = AsyncBridge("test-admin-stack")
        suffix = uuid.uuid4().hex[:10]
        self.control_bucket = f"gw_control_{suffix}"
        self.status_bucket = f"gw_status_{suffix}"
        self.nats_url = nats_url
        import nats

        self.nc = self.bridge.run(nats.connect(nats_url), 10)
        self.js = self.nc.jetstream(timeout=5)
        self.regime = None
        base = {"NATS_URL": nats_url, "SYNTHETIC_CONTROL_ENABLED": "1", "SYNTHETIC_ADMIN_TOKEN": TOKEN}
        if "REGIME_GRPC_ADDR" not in env:
            from regime_svc.server import serve

            regime_settings = load_settings({"NATS_URL": nats_url})
            self.regime = self.bridge.run(
                serve(regime_settings, nc=self.nc, addr="127.0.0.1:0", control_bucket=self.control_bucket), 10
            )
            base["REGIME_GRPC_ADDR"] = self.regime.address
        base.update(env)
        self.settings = load_settings(base)
        self.clients = GatewayClients(
            self.settings, control_bucket=self.control_bucket, status_bucket=self.status_bucket
        ).start()
        wait_until(lambda: self.clients.nats_connected, what="gateway NATS connection")
        self.app = create_app(self.settings, self.clients)
        self.client = self.app.test_client()

    def kv_history(self) -> list[tuple[int, dict]]:
        async def go():
            kv = await self.js.key_value(self.control_bucket)
            # nats-py's history() reads through a fresh watcher; on a busy server that watcher can
            # report "no more" before the first entry arrives (NoKeysError). The entries exist, so
            # read again.
            for attempt in range(5):
                try:
                    return [(e.revision, json.loads(e.value)) for e in await kv.history(CONTROL_KEY)]
                except NoKeysError:
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.2)

        return self.bridge.run(go(), 10)

    def put_status(self, key: str, report: status_pb2.StatusReport) -> None:
        async def go():
            kv = await ensure_status_bucket(self.js, self.status_bucket)
            await kv.put(key, report.SerializeToString())

        self.bridge.run(go(), 10)

    def close(self) -> None:
        self.clients.close()

        async def shutdown():
            if self.regime is not None:
                await self.regime.stop(0)
            for bucket in (self.control_bucket, self.status_bucket):
                try:
                    await self.js.delete_key_value(bucket)
                except Exception:  # noqa: BLE001 - the bucket may never have been made
                    pass
            await self.nc.close()

        self.bridge.close(shutdown())
