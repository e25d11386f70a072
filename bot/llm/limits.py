"""Provider limits: at most `max_concurrency` requests in flight and `requests_per_minute` started per provider.

The counting lives in a `LimitStore`. With one process (SQLite) that is memory; with several processes on one
PostgreSQL it is the database, or Redis when `[redis] url` is set, so four shard processes together send what
one provider plan allows, not four times it. A lease is renewed while its request runs and lapses
`LEASE_TTL` seconds after a crash, so a dead process cannot hold slots for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Protocol

from bot.config import ProviderConfig

log = logging.getLogger(__name__)

LEASE_TTL = 60.0  # seconds a lease outlives its last renewal (a crashed process's slots come back after this)
WINDOW = 60.0  # requests_per_minute counts starts in a sliding window of this many seconds
POLL_MIN, POLL_MAX = 0.02, 0.5  # waiting for a slot another process holds: re-ask at this pace
STORE_TIMEOUT = 5.0  # seconds any one question to the store may take: a frozen Redis or database is an error


class LimitsUnavailable(Exception):
    """The shared store (database or Redis) could not be asked; the request is not sent."""


def unavailable(error: Exception, timeout: float) -> LimitsUnavailable:
    what = f"no answer within {timeout:g}s" if isinstance(error, TimeoutError) else type(error).__name__
    return LimitsUnavailable(f"provider limits store unreachable ({what})")


class LimitStore(Protocol):
    """Where leases and request starts are counted; every method is atomic across the store's users."""

    async def try_lease(self, provider: str, capacity: int, lease: str, ttl: float) -> bool: ...

    async def release(self, provider: str, lease: str) -> None: ...

    async def renew(self, leases: Sequence[tuple[str, str]], ttl: float) -> None: ...

    async def try_start(self, provider: str, limit: int, window: float, token: str) -> float:
        """0 if a request may start now (and it is counted), else the seconds until one may."""
        ...

    async def close(self) -> None: ...


class MemoryStore:
    """One process's own counts: right for SQLite, where one process serves every shard."""

    def __init__(self) -> None:
        self._leases: dict[str, dict[str, float]] = {}
        self._starts: dict[str, deque[float]] = {}

    async def try_lease(self, provider: str, capacity: int, lease: str, ttl: float) -> bool:
        now = time.monotonic()
        held = self._leases.setdefault(provider, {})
        if len(held) >= capacity:  # full: only then look for lapsed leases (O(held) once per full try, not always)
            for key in [key for key, expiry in held.items() if expiry < now]:
                del held[key]
            if len(held) >= capacity:
                return False
        held[lease] = now + ttl
        return True

    async def release(self, provider: str, lease: str) -> None:
        self._leases.get(provider, {}).pop(lease, None)

    async def renew(self, leases: Sequence[tuple[str, str]], ttl: float) -> None:
        expiry = time.monotonic() + ttl
        for provider, lease in leases:
            held = self._leases.get(provider, {})
            if lease in held:
                held[lease] = expiry

    async def try_start(self, provider: str, limit: int, window: float, token: str) -> float:
        now = time.monotonic()
        starts = self._starts.setdefault(provider, deque())
        while starts and starts[0] <= now - window:
            starts.popleft()
        if len(starts) < limit:
            starts.append(now)
            return 0.0
        return starts[-limit] + window - now

    async def close(self) -> None:
        return None


class ProviderLimits:
    """Hands out request slots per provider, honouring both limits; `configure` takes new limits on reload."""

    def __init__(self, providers: Mapping[str, ProviderConfig], store: LimitStore | None = None, *,
                 window: float = WINDOW, ttl: float = LEASE_TTL, store_timeout: float = STORE_TIMEOUT) -> None:
        self.store: LimitStore = store or MemoryStore()
        self._store_timeout = store_timeout
        self._providers = dict(providers)
        self._window = window
        self._ttl = ttl
        self._held: dict[str, str] = {}  # lease -> provider
        self._counts: dict[str, int] = {}  # provider -> leases this process holds
        # Per provider, this process's waiters in arrival order. Only the first asks the store; a release here
        # wakes that one alone (O(1), not every waiter), and each that wins a slot hands the turn on.
        self._queues: dict[str, deque[asyncio.Future[None]]] = {}
        self._rung: set[str] = set()  # providers with a release the first waiter has not seen yet
        self._renewer: asyncio.Task[None] | None = None

    def configure(self, providers: Mapping[str, ProviderConfig]) -> None:
        self._providers = dict(providers)
        for provider in list(self._queues):
            self._wake(provider)  # the limit may have grown: the first waiter asks again

    def in_flight(self, provider: str) -> int:
        """This process's requests to the provider now."""
        return self._counts.get(provider, 0)

    def waiting(self, provider: str) -> int:
        """This process's requests queued for a slot of the provider."""
        return len(self._queues.get(provider, ()))

    @contextlib.asynccontextmanager
    async def slot(self, provider: str) -> AsyncIterator[None]:
        """Wait for a concurrency lease and a rate-limit start; hold the lease for the whole request."""
        lease = await self._lease(provider)
        try:
            await self._pace(provider)
            yield
        finally:
            await asyncio.shield(self._release(provider, lease))

    async def _lease(self, provider: str) -> str:
        """A slot, first come first served among this process's requests: each waits its turn in the queue,
        and only the first asks the store (again after a release here, or at a backed-off pace for slots
        other processes free)."""
        lease = uuid.uuid4().hex
        queue = self._queues.setdefault(provider, deque())
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(turn)
        if queue[0] is turn:
            turn.set_result(None)
        try:
            await turn
            pause = POLL_MIN
            while True:
                self._rung.discard(provider)  # this try sees every release made before it
                if await self._try_lease(provider, lease):
                    break
                if provider in self._rung:  # released while the store was answering: ask again now
                    continue
                woken = asyncio.get_running_loop().create_future()
                queue[0] = woken  # still first: a release here resolves it at once
                try:
                    await asyncio.wait_for(asyncio.shield(woken), pause * random.uniform(0.8, 1.2))
                except TimeoutError:  # time to ask the store about slots other processes freed
                    pause = min(POLL_MAX, pause * 2)
                finally:
                    queue[0] = turn
        finally:
            self._leave(provider, queue, turn)
        return lease

    async def _try_lease(self, provider: str, lease: str) -> bool:
        config = self._providers.get(provider)
        capacity = config.max_concurrency if config is not None else 1
        try:
            async with asyncio.timeout(self._store_timeout):
                won = await self.store.try_lease(provider, capacity, lease, self._ttl)
        except Exception as error:
            raise unavailable(error, self._store_timeout) from error
        if won:
            self._held[lease] = provider
            self._counts[provider] = self._counts.get(provider, 0) + 1
            self._start_renewing()
        return won

    def _leave(self, provider: str, queue: deque[asyncio.Future[None]], turn: asyncio.Future[None]) -> None:
        """Out of the queue (served, failed or cancelled); if it was first, the next one's turn begins."""
        first = bool(queue) and queue[0] is turn
        if first:
            queue.popleft()
        else:
            with contextlib.suppress(ValueError):
                queue.remove(turn)  # cancelled while waiting: O(n), but only on cancellation
        if not queue:
            self._queues.pop(provider, None)
        elif first:
            self._wake(provider)

    async def _pace(self, provider: str) -> None:
        while True:
            config = self._providers.get(provider)
            if config is None or config.requests_per_minute is None:
                return
            try:
                async with asyncio.timeout(self._store_timeout):
                    wait = await self.store.try_start(provider, config.requests_per_minute, self._window,
                                                      uuid.uuid4().hex)
            except Exception as error:
                raise unavailable(error, self._store_timeout) from error
            if wait <= 0:
                return
            await asyncio.sleep(min(wait, self._window) + random.uniform(0, POLL_MIN))

    async def _release(self, provider: str, lease: str) -> None:
        if self._held.pop(lease, None) is not None:
            self._counts[provider] = self._counts.get(provider, 1) - 1
        try:
            async with asyncio.timeout(self._store_timeout):
                await self.store.release(provider, lease)
        except Exception:  # the lease lapses by itself after its TTL
            log.warning("could not release a %s lease; it lapses in %gs", provider, self._ttl)
        finally:
            self._wake(provider)

    def _wake(self, provider: str) -> None:
        """The first waiter's turn: it asks the store now (or, if it is asking already, once more after)."""
        queue = self._queues.get(provider)
        if not queue:
            return
        if queue[0].done():
            self._rung.add(provider)
        else:
            queue[0].set_result(None)

    def _start_renewing(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew_forever(), name="moai-lease-renewal")

    async def _renew_forever(self) -> None:
        while self._held:
            await asyncio.sleep(self._ttl / 3)
            try:
                async with asyncio.timeout(self._store_timeout):
                    await self.store.renew(list((p, lease) for lease, p in self._held.items()), self._ttl)
            except Exception as error:  # retried next time; a lease outlives two missed renewals
                log.warning("could not renew provider leases (%s)", type(error).__name__)

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        with contextlib.suppress(Exception):  # a frozen store must not hold up shutdown
            async with asyncio.timeout(self._store_timeout):
                await self.store.close()
