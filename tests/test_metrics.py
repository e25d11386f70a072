"""The operations endpoint: Prometheus metrics scraped during and after real rounds, and /healthz."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.ops_server import GatewayHealth, OpsServer
from cogs.client import MoaiBot, StartupFailed
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM, Script

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def scrape(port: int) -> Samples:
    """Parse the exposition format as Prometheus would; a malformed page fails here."""
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def metered(database: str, fake_llm: FakeLLM) -> AsyncIterator[DiscordHarness]:
    config = make_config(fake_llm, metrics__port=free_port(), metrics__loop_lag_interval=0.05,
                         models__gpt__input_price=1.0, models__gpt__output_price=2.0)
    harness = await make_harness(config, TEST_ENV)
    yield harness
    await harness.close()


async def test_a_round_is_visible_while_it_runs_and_counted_after(metered: DiscordHarness, fake_llm: FakeLLM) -> None:
    port = metered.bot.config.metrics.port
    before = await scrape(port)
    fake_llm.script("gpt-test", Script(text="slow and steady " * 8, chunk_chars=8, ttft=0.05, token_interval=0.03))
    await metered.slash("open", question="how fast?", models="gpt, claude", wait=False)
    await asyncio.sleep(0.2)
    during = await scrape(port)
    assert value(during, "moai_active_runs") == 1
    assert value(during, "moai_active_streams") >= 1
    await metered.bot.services.runs.wait_idle()
    after = await scrape(port)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert value(after, "moai_active_runs") == 0 and value(after, "moai_active_streams") == 0
    assert grew("moai_runs_total", mode="open", outcome="completed") == 1
    assert grew("moai_run_duration_seconds_count", mode="open") == 1
    for alias in ("gpt", "claude"):
        assert grew("moai_answers_total", model=alias, status="complete") == 1
        assert grew("moai_answer_duration_seconds_count", model=alias) == 1
        assert grew("moai_time_to_first_token_seconds_count", model=alias) == 1
    assert grew("moai_answer_duration_seconds_sum", model="gpt") >= 0.4  # 16 chunks, 30 ms apart
    assert grew("moai_tokens_total", model="gpt", direction="output") == 16
    assert grew("moai_spend_usd_total", model="gpt") == pytest.approx((11 * 1.0 + 16 * 2.0) / 1e6)
    assert value(after, "moai_event_loop_lag_seconds_count") > 0
    assert value(after, "process_resident_memory_bytes") > 0


async def test_failures_and_retries_are_counted_by_provider_and_reason(metered: DiscordHarness,
                                                                       fake_llm: FakeLLM) -> None:
    port = metered.bot.config.metrics.port
    before = await scrape(port)
    fake_llm.script("claude-test", Script(status=529, error_message="Overloaded"))
    await metered.slash("open", question="anyone there?", models="gpt, claude")
    after = await scrape(port)
    failures = ("moai_model_failures_total", {"provider": "fakeanthropic", "reason": "ServerError"})
    assert value(after, failures[0], **failures[1]) - value(before, failures[0], **failures[1]) == 1
    retries = value(after, "moai_provider_retries_total", provider="fakeanthropic")
    assert retries - value(before, "moai_provider_retries_total", provider="fakeanthropic") == 2  # max_retries
    assert value(after, "moai_answers_total", model="claude", status="failed") >= 1


async def test_healthz_says_what_is_down(metered: DiscordHarness) -> None:
    """In the harness the database is real and the gateway is not connected (there is none): 503, and why."""
    port = metered.bot.config.metrics.port
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as response:
        body = await response.json()
    assert body["database"] == "ok" and body["process"] == "up"
    assert (response.status, body["status"]) == ((200, "ok") if metered.bot.is_ready() else (503, "unhealthy"))


@pytest.mark.parametrize(("database", "connected", "status"), [
    (None, True, 200), ("ConnectionRefusedError", True, 503), (None, False, 503)])
async def test_healthz_status_follows_its_parts(database: str | None, connected: bool, status: int) -> None:
    async def check() -> str | None:
        return database

    shards = {0: 0.042, 1: 0.051} if connected else {0: 0.042, 1: None}
    server = OpsServer("127.0.0.1", 0, lambda: GatewayHealth(connected, shards), database=check)
    port = await server.start()
    try:
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as response:
            body = await response.json()
    finally:
        await server.close()
    assert response.status == status
    assert body["shards"]["0"] == {"connected": True, "latency_ms": 42.0}
    assert body["shards"]["1"]["connected"] is connected
    assert body["database"] == ("ok" if database is None else f"down: {database}")


async def test_off_by_default_and_local_by_default(fake_llm: FakeLLM) -> None:
    config = make_config(fake_llm)
    assert config.metrics.port == 0 and config.metrics.host == "127.0.0.1"


async def test_a_taken_port_stops_startup_with_one_line(fake_llm: FakeLLM) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = MoaiBot(make_config(fake_llm, metrics__port=port), environ=TEST_ENV)
        await bot._async_setup_hook()
        try:
            with pytest.raises(StartupFailed, match=rf"^metrics: cannot listen on 127.0.0.1:{port} \(.+\)$"):
                await bot.setup_hook()
        finally:
            await bot.close()
