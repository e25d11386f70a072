"""Where provider limits are counted when several processes share them: PostgreSQL, or Redis if configured.

Both use the server's clock, not each process's, so processes on different hosts agree on expiry and windows.
`provider_limits(config)` picks the store: Redis when `[redis] url` is set, the database on PostgreSQL, memory
(one process) on SQLite.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from bot.config import AppConfig
from bot.llm.limits import STORE_TIMEOUT, LimitStore, MemoryStore, ProviderLimits
from bot.services.budget import PROCESS_ID

log = logging.getLogger(__name__)


class DatabaseStore:
    """Leases and request starts in PostgreSQL tables, each decision under a per-provider advisory lock."""

    async def try_lease(self, provider: str, capacity: int, lease: str, ttl: float) -> bool:
        async with in_transaction() as connection:
            await connection.execute_query("SELECT pg_advisory_xact_lock(hashtext($1))", [f"moai-lease:{provider}"])
            await connection.execute_query(
                "DELETE FROM provider_lease WHERE provider = $1 AND expires_at < clock_timestamp()", [provider])
            _, rows = await connection.execute_query(
                "SELECT count(*) AS held FROM provider_lease WHERE provider = $1", [provider])
            if rows[0]["held"] >= capacity:
                return False
            await connection.execute_query(
                "INSERT INTO provider_lease (lease, provider, owner, expires_at) "
                "VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4))",
                [lease, provider, PROCESS_ID, float(ttl)])
            return True

    async def release(self, provider: str, lease: str) -> None:
        await connections.get("default").execute_query("DELETE FROM provider_lease WHERE lease = $1", [lease])

    async def renew(self, leases: Sequence[tuple[str, str]], ttl: float) -> None:
        await connections.get("default").execute_query(
            "UPDATE provider_lease SET expires_at = clock_timestamp() + make_interval(secs => $2) "
            "WHERE lease = ANY($1::varchar[])", [[lease for _, lease in leases], float(ttl)])

    async def try_start(self, provider: str, limit: int, window: float, token: str) -> float:
        async with in_transaction() as connection:
            await connection.execute_query("SELECT pg_advisory_xact_lock(hashtext($1))", [f"moai-rate:{provider}"])
            await connection.execute_query(
                "DELETE FROM provider_start WHERE provider = $1 "
                "AND started_at <= clock_timestamp() - make_interval(secs => $2)", [provider, float(window)])
            _, rows = await connection.execute_query(
                "SELECT count(*) AS started, EXTRACT(EPOCH FROM min(started_at) + make_interval(secs => $2) "
                "- clock_timestamp()) AS wait FROM provider_start WHERE provider = $1", [provider, float(window)])
            if rows[0]["started"] >= limit:
                return max(0.01, float(rows[0]["wait"] or 0.01))
            await connection.execute_query(
                "INSERT INTO provider_start (provider, started_at) VALUES ($1, clock_timestamp())", [provider])
            return 0.0

    async def close(self) -> None:
        return None


# Redis: a sorted set of leases scored by expiry, and one of starts scored by time; the server's TIME decides.
LEASE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return 1
"""
RENEW_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + tonumber(ARGV[1]), ARGV[i + 1])
  redis.call('PEXPIRE', key, tonumber(ARGV[1]) * 2)
end
return 1
"""
START_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


class RedisStore:
    """The same counts in Redis, for deployments that already run it (`[redis] url`)."""

    def __init__(self, url: str, prefix: str = "moai", timeout: float = STORE_TIMEOUT) -> None:
        import redis.asyncio as redis

        # Bounded: redis-py waits for ever on a frozen (not dead) server by default.
        self._redis: Any = redis.Redis.from_url(url, socket_timeout=timeout,
                                                  socket_connect_timeout=min(timeout, 3.0))
        self._prefix = prefix
        self._lease = self._redis.register_script(LEASE_SCRIPT)
        self._renew = self._redis.register_script(RENEW_SCRIPT)
        self._start = self._redis.register_script(START_SCRIPT)

    def _key(self, provider: str, what: str) -> str:
        return f"{self._prefix}:provider:{provider}:{what}"

    async def try_lease(self, provider: str, capacity: int, lease: str, ttl: float) -> bool:
        won = await self._lease(keys=[self._key(provider, "leases")], args=[lease, capacity, int(ttl * 1000)])
        return bool(won)

    async def release(self, provider: str, lease: str) -> None:
        await self._redis.zrem(self._key(provider, "leases"), lease)

    async def renew(self, leases: Sequence[tuple[str, str]], ttl: float) -> None:
        if leases:
            await self._renew(keys=[self._key(p, "leases") for p, _ in leases],
                              args=[int(ttl * 1000), *(lease for _, lease in leases)])

    async def try_start(self, provider: str, limit: int, window: float, token: str) -> float:
        wait_ms = await self._start(keys=[self._key(provider, "starts")], args=[limit, int(window * 1000), token])
        return float(wait_ms) / 1000

    async def close(self) -> None:
        await self._redis.aclose()


def limit_store(config: AppConfig) -> LimitStore:
    if config.redis.url:
        return RedisStore(config.redis.url, timeout=config.redis.timeout)
    if config.database.url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        return DatabaseStore()
    return MemoryStore()


def provider_limits(config: AppConfig) -> ProviderLimits:
    """The limits every process sharing this config's database (or Redis) enforces together."""
    store = limit_store(config)
    log.info("provider limits counted in %s", type(store).__name__)
    return ProviderLimits(config.providers, store, store_timeout=config.redis.timeout)
