"""The optional operations endpoint ([metrics] port): Prometheus `/metrics` and `/healthz`, plus the event-loop
lag probe that feeds `moai_event_loop_lag_seconds`.

Bound to 127.0.0.1 unless configured otherwise: metrics name models, providers and spend, which are an
operator's business, not the internet's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from tortoise import connections

from bot import metrics
from bot.logs import log_event

log = logging.getLogger(__name__)

DATABASE_TIMEOUT = 2.0  # seconds; a database slower than this counts as down for /healthz


@dataclass(frozen=True, slots=True)
class GatewayHealth:
    connected: bool  # logged in and every shard of this process connected
    shards: dict[int, float | None] = field(default_factory=dict)  # shard id -> heartbeat latency (s), None if down


async def check_database() -> str | None:
    """None if the database answers `SELECT 1` in time, else what went wrong in one line."""
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            await connections.get("default").execute_query("SELECT 1")
    except TimeoutError:
        return f"no answer within {DATABASE_TIMEOUT:g}s"
    except Exception as error:
        return type(error).__name__
    return None


class OpsServer:
    def __init__(self, host: str, port: int, gateway: Callable[[], GatewayHealth], *,
                 database: Callable[[], Awaitable[str | None]] = check_database, lag_interval: float = 0.5) -> None:
        self.host = host
        self.port = port
        self._gateway = gateway
        self._database = database
        self._lag_interval = lag_interval
        self._runner: web.AppRunner | None = None
        self._probe: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Serve; returns the bound port (the configured one, or the one picked for port 0)."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._probe = asyncio.get_running_loop().create_task(self._measure_lag(), name="moai-loop-lag")
        log_event(log, "ops_server_started", host=self.host, port=self.port)
        return self.port

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
        if self._runner is not None:
            await self._runner.cleanup()

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        database = await self._database()
        gateway = self._gateway()
        healthy = database is None and gateway.connected
        body = {
            "status": "ok" if healthy else "unhealthy",
            "process": "up",
            "database": "ok" if database is None else f"down: {database}",
            "gateway": "connected" if gateway.connected else "disconnected",
            "shards": {str(shard): {"connected": latency is not None,
                                    "latency_ms": None if latency is None else round(latency * 1000, 1)}
                       for shard, latency in sorted(gateway.shards.items())},
        }
        return web.json_response(body, status=200 if healthy else 503)

    async def _measure_lag(self) -> None:
        """Sleep, and record how much later than asked the loop woke us: the loop's backlog."""
        while True:
            asked = time.monotonic()
            await asyncio.sleep(self._lag_interval)
            metrics.LOOP_LAG.observe(max(0.0, time.monotonic() - asked - self._lag_interval))
