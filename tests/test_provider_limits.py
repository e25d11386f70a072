"""Provider limits: max_concurrency and requests_per_minute, in one process and shared by several."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from bot.config import AppConfig, ProviderConfig
from bot.db.models import BudgetHold, Discussion
from bot.llm.errors import ProviderUnavailable
from bot.llm.limits import LimitStore, MemoryStore, ProviderLimits
from bot.llm.registry import ModelClients
from bot.llm.types import ChatMessage, StreamEnd
from bot.services.limit_stores import DatabaseStore, RedisStore, limit_store, provider_limits
from tests.conftest import REQUIRE_POSTGRES, TEST_ENV, make_config
from tests.db import fresh_database, postgres_reachable, redis_test_url
from tests.discord_harness import make_harness
from tests.fake_llm import FakeLLM, Script


def provider(concurrency: int, rpm: int | None = None) -> ProviderConfig:
    return ProviderConfig(kind="openai", base_url="http://127.0.0.1:9/v1", max_concurrency=concurrency,
                          requests_per_minute=rpm)


@pytest.fixture(params=["memory", "postgres", "redis"])
async def store_pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[LimitStore, LimitStore]]:
    """Two stores as two processes would hold them (memory, SQLite's, is one process's: one store)."""
    kind = request.param
    if kind == "memory":
        store = MemoryStore()
        yield store, store
        return
    if kind == "postgres":
        if not postgres_reachable():
            if REQUIRE_POSTGRES:
                pytest.fail("PostgreSQL is required (MOAI_REQUIRE_POSTGRES=1) but not reachable")
            pytest.skip("PostgreSQL not reachable")
        async with fresh_database("postgres"):
            yield DatabaseStore(), DatabaseStore()
        return
    url = await redis_test_url()
    first, second = RedisStore(url, prefix="moai-test"), RedisStore(url, prefix="moai-test")
    yield first, second
    await first.close()
    await second.close()


async def test_concurrency_is_shared(store_pair: tuple[LimitStore, LimitStore]) -> None:
    """Two holders of max_concurrency 3: at most 3 slots in use at any moment, and all 3 get used."""
    limits = [ProviderLimits({"p": provider(3)}, store) for store in store_pair]
    using = peak = 0

    async def call(i: int) -> None:
        nonlocal using, peak
        async with limits[i % 2].slot("p"):
            using += 1
            peak = max(peak, using)
            await asyncio.sleep(0.05)
            using -= 1

    await asyncio.wait_for(asyncio.gather(*(call(i) for i in range(12))), 20)
    assert peak == 3
    for holder in limits:
        await holder.close()


async def test_requests_per_minute_is_a_sliding_window(store_pair: tuple[LimitStore, LimitStore]) -> None:
    """3 starts per (shortened) 0.5 s window across two holders: no window ever holds a 4th start."""
    limits = [ProviderLimits({"p": provider(50, rpm=3)}, store, window=0.5) for store in store_pair]
    starts: list[float] = []

    async def call(i: int) -> None:
        async with limits[i % 2].slot("p"):
            starts.append(time.monotonic())

    began = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(call(i) for i in range(7))), 20)
    starts.sort()
    assert all(later - earlier >= 0.48 for earlier, later in zip(starts, starts[3:], strict=False)), starts
    assert starts[-1] - began < 1.8  # waited for the window, not polled far past it
    for holder in limits:
        await holder.close()


async def test_a_crashed_holders_lease_lapses(store_pair: tuple[LimitStore, LimitStore]) -> None:
    """A process that dies holding the only slot does not block the provider for ever, only for the lease TTL."""
    crashed = ProviderLimits({"p": provider(1)}, store_pair[0], ttl=0.4)
    survivor = ProviderLimits({"p": provider(1)}, store_pair[1], ttl=0.4)
    slot = crashed.slot("p")
    await slot.__aenter__()  # never left: the process "died"
    await crashed.close()  # its renewals stop
    began = time.monotonic()
    async with survivor.slot("p"):
        waited = time.monotonic() - began
    assert 0.2 < waited < 2.0
    await survivor.close()


async def test_a_long_request_keeps_its_lease(store_pair: tuple[LimitStore, LimitStore]) -> None:
    """Renewal: a request longer than the TTL still holds its slot; nobody else gets in meanwhile.

    The TTL leaves 0.4 s for a renewal to arrive late on a loaded CI machine (0.3 s once did not)."""
    first = ProviderLimits({"p": provider(1)}, store_pair[0], ttl=0.6)
    second = ProviderLimits({"p": provider(1)}, store_pair[1], ttl=0.6)
    entered = asyncio.Event()

    async def long_request() -> None:
        async with first.slot("p"):
            entered.set()
            await asyncio.sleep(1.5)

    task = asyncio.create_task(long_request())
    await entered.wait()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1.2):
            async with second.slot("p"):
                pass
    await task
    async with asyncio.timeout(2):
        async with second.slot("p"):
            pass
    await first.close()
    await second.close()


async def test_a_cancelled_request_gives_its_slot_back() -> None:
    limits = ProviderLimits({"p": provider(1)}, MemoryStore())
    holder = asyncio.create_task(_hold(limits))
    await asyncio.sleep(0.05)
    holder.cancel()
    async with asyncio.timeout(1):
        async with limits.slot("p"):
            assert limits.in_flight("p") == 1
    assert limits.in_flight("p") == 0


async def _hold(limits: ProviderLimits) -> None:
    async with limits.slot("p"):
        await asyncio.sleep(60)


async def test_reconfigure_takes_new_limits() -> None:
    limits = ProviderLimits({"p": provider(1)})
    async with limits.slot("p"):
        waiting = asyncio.create_task(_enter(limits))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        limits.configure({"p": provider(2)})
        await asyncio.wait_for(waiting, 1)
    await limits.close()


async def _enter(limits: ProviderLimits) -> None:
    async with limits.slot("p"):
        pass


async def test_streams_over_http_respect_max_concurrency(fake_llm: FakeLLM) -> None:
    """Through the real client: 6 answers at once to a provider allowing 2 — the fake never sees a third."""
    fake_llm.default = Script(text="hello there", ttft=0.05, token_interval=0.01, chunk_chars=2)
    config: AppConfig = make_config(fake_llm, providers__fakeopenai__max_concurrency=2)
    async with aiohttp.ClientSession() as session:
        clients = ModelClients(config, session, environ=TEST_ENV)

        async def ask() -> bool:
            async for event in clients.stream(config.models["gpt"], [ChatMessage("user", "hi")]):
                if isinstance(event, StreamEnd):
                    return True
            return False

        assert all(await asyncio.gather(*(ask() for _ in range(6))))
    assert fake_llm.peak_streams == 2


def test_the_store_follows_the_deployment(fake_llm: FakeLLM) -> None:
    assert isinstance(limit_store(make_config(fake_llm)), MemoryStore)
    assert isinstance(limit_store(make_config(fake_llm, database__url="postgres://u@h/db")), DatabaseStore)
    redis = limit_store(make_config(fake_llm, database__url="postgres://u@h/db", redis__url="redis://127.0.0.1:1/0"))
    assert isinstance(redis, RedisStore)


async def test_an_unreachable_store_fails_the_request_clearly(fake_llm: FakeLLM) -> None:
    """Redis down: the answer fails with a reason an operator can act on, and nothing is sent to the provider."""
    config = make_config(fake_llm, providers__fakeopenai__max_retries=0)
    limits = ProviderLimits(config.providers, RedisStore("redis://127.0.0.1:1/0"))
    async with aiohttp.ClientSession() as session:
        clients = ModelClients(config, session, environ=TEST_ENV, limits=limits)
        with pytest.raises(ProviderUnavailable, match=r"provider limits store unreachable \(ConnectionError\)"):
            async for _ in clients.stream(config.models["gpt"], [ChatMessage("user", "hi")]):
                pass
    await limits.close()
    assert fake_llm.requests == []


@pytest.fixture
def frozen_redis() -> Iterator[str]:
    """A real redis-server, then SIGSTOP'd: a partitioned host that accepts connections and never answers."""
    import shutil
    import signal
    import socket
    import subprocess

    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("MOAI_REQUIRE_REDIS") == "1":
            pytest.fail("redis-server is required (MOAI_REQUIRE_REDIS=1) but not on PATH")
        pytest.skip("redis-server not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    break
            except OSError:
                time.sleep(0.05)
        process.send_signal(signal.SIGSTOP)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.send_signal(signal.SIGCONT)
        process.kill()
        process.wait()


async def test_a_frozen_redis_fails_the_answer_in_bounded_time(fake_llm: FakeLLM, frozen_redis: str) -> None:
    """It used to hang the run and every later /open: redis-py has no socket timeout by default."""
    config = make_config(fake_llm, providers__fakeopenai__max_retries=0, redis__url=frozen_redis,
                         redis__timeout=0.5)
    limits = provider_limits(config)
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        clients = ModelClients(config, session, environ=TEST_ENV, limits=limits)
        with pytest.raises(ProviderUnavailable, match=r"provider limits store unreachable \(no answer within 0.5s\)"):
            async for _ in clients.stream(config.models["gpt"], [ChatMessage("user", "hi")]):
                pass
    await limits.close()
    assert time.monotonic() - started < 3.0 and fake_llm.requests == []


async def test_a_frozen_redis_releases_the_run_s_budget_hold(database: str, fake_llm: FakeLLM,
                                                            frozen_redis: str) -> None:
    config = make_config(fake_llm, providers__fakeopenai__max_retries=0, redis__url=frozen_redis,
                         redis__timeout=0.5, defaults__monthly_budget_usd=10.0, models__gpt__input_price=1.0,
                         models__gpt__output_price=1.0)
    harness = await make_harness(config, TEST_ENV)
    try:
        await harness.slash("open", question="Frozen?", models="gpt")
        [thread] = harness.threads
        status = [m.content or "" for m in harness.bot_messages(thread) if (m.content or "").startswith("-# Round")]
        assert status and "provider limits store unreachable" in status[-1]
        assert await BudgetHold.all().count() == 0
        assert (await Discussion.get(thread_id=thread.id)).status == "completed"
    finally:
        await harness.close()


class CountingStore(MemoryStore):
    """The memory store, counting how often it is asked for a lease."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    async def try_lease(self, provider: str, capacity: int, lease: str, ttl: float) -> bool:
        self.asked += 1
        return await super().try_lease(provider, capacity, lease, ttl)


async def test_queued_requests_are_served_first_come_first_served_at_one_question_per_release() -> None:
    """400 requests queued behind 4 busy slots: slots go in arrival order, and the store is asked about once
    per request, not once per waiter per release (what made 2,000 queued streams cost minutes of CPU)."""
    store = CountingStore()
    limits = ProviderLimits({"p": provider(4)}, store)
    busy = asyncio.Event()
    served: list[int] = []

    async def blocker() -> None:
        async with limits.slot("p"):
            await busy.wait()

    async def call(i: int) -> None:
        async with limits.slot("p"):
            served.append(i)
            await asyncio.sleep(0.001)

    blockers = [asyncio.create_task(blocker()) for _ in range(4)]
    await asyncio.sleep(0.01)
    tasks = []
    for i in range(400):
        tasks.append(asyncio.create_task(call(i)))
        await asyncio.sleep(0)  # arrival order is creation order
    await asyncio.sleep(0.05)
    assert limits.waiting("p") == 400 and store.asked < 20  # only the first waiter asks, at a backed-off pace
    busy.set()
    await asyncio.wait_for(asyncio.gather(*blockers, *tasks), 30)
    assert served == list(range(400))
    assert store.asked <= 3 * 404, store.asked
    assert limits.in_flight("p") == 0 and limits.waiting("p") == 0
    await limits.close()


async def test_a_waiter_cancelled_anywhere_in_the_queue_stalls_no_one() -> None:
    limits = ProviderLimits({"p": provider(1)}, MemoryStore())
    release = asyncio.Event()

    async def hold() -> None:
        async with limits.slot("p"):
            await release.wait()

    async def call() -> str:
        async with limits.slot("p"):
            return "served"

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0.01)
    first, middle, last = (asyncio.create_task(call()) for _ in range(3))
    await asyncio.sleep(0.05)
    assert limits.waiting("p") == 3
    first.cancel()  # the head, waiting for the store
    middle.cancel()  # one in the middle, waiting for its turn
    await asyncio.sleep(0.01)
    release.set()
    assert await asyncio.wait_for(last, 5) == "served"
    await holder
    assert limits.waiting("p") == 0 and limits.in_flight("p") == 0
    await limits.close()


async def test_a_slot_freed_by_another_process_is_found_by_the_first_waiter(
        store_pair: tuple[LimitStore, LimitStore]) -> None:
    here, there = (ProviderLimits({"p": provider(1)}, store) for store in store_pair)
    release = asyncio.Event()

    async def hold() -> None:
        async with there.slot("p"):
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0.05)

    async def call() -> str:
        async with here.slot("p"):
            return "served"

    waiting = [asyncio.create_task(call()) for _ in range(3)]
    await asyncio.sleep(0.1)
    release.set()
    assert await asyncio.wait_for(asyncio.gather(*waiting), 10) == ["served"] * 3
    await holder
    for limits in (here, there):
        await limits.close()
