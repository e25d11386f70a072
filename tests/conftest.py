"""Shared fixtures: fake LLM server, test config, and a migrated database on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest

from bot.config import AppConfig, parse_config
from bot.llm.registry import ModelClients
from bot.secrets import Redactor
from tests.db import fresh_database, postgres_reachable
from tests.discord_emulator import DiscordEmulator
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM

OPENAI_KEY = "sk-test-openai-SECRET-0123456789"
ANTHROPIC_KEY = "sk-ant-test-SECRET-9876543210"
DISCORD_TOKEN = "discord-token-SECRET-abcdefghijklmnop"
TEST_ENV = {"FAKE_OPENAI_KEY": OPENAI_KEY, "FAKE_ANTHROPIC_KEY": ANTHROPIC_KEY, "DISCORD_TOKEN": DISCORD_TOKEN}

def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` starts two workers per core: about half of a worker's time is spent waiting (loopback HTTP,
    PostgreSQL, subprocesses, real rate-limit windows), so a second worker per core cuts the wall time by a fifth."""
    return 2 * (os.cpu_count() or 1)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this process's PostgreSQL template database (tests/db.py), if it made one."""
    import asyncio

    from tests.db import SCRATCH, drop_emptied, drop_template

    if postgres_reachable():
        asyncio.run(drop_emptied())
        asyncio.run(drop_template())
    shutil.rmtree(SCRATCH, ignore_errors=True)


BACKENDS = [b.strip() for b in os.environ.get("MOAI_TEST_DATABASES", "sqlite,postgres").split(",") if b.strip()]
REQUIRE_POSTGRES = os.environ.get("MOAI_REQUIRE_POSTGRES") == "1"


def make_config(fake: FakeLLM, **overrides: object) -> AppConfig:
    """Three models on two providers of the fake server, with timeouts short enough for tests."""
    data: dict[str, object] = {
        "discord": {"sync_commands": False, "edit_interval": 0.0},
        "database": {"url": "sqlite://:memory:"},
        "arena": {"votes": False},  # on by default; tests/test_arena.py turns it on, the rest read status lines last
        "defaults": {
            "models": ["gpt", "claude", "llama"],
            "max_question_chars": 500,
            "timeouts": {"connect": 2.0, "idle": 0.5, "total": 10.0},
        },
        "providers": {
            "fakeopenai": {"kind": "openai", "base_url": fake.openai_url, "api_key_env": "FAKE_OPENAI_KEY",
                           "max_concurrency": 8, "retry_backoff": 0.01, "max_retry_after": 2.0},
            "fakeanthropic": {"kind": "anthropic", "base_url": fake.anthropic_url,
                              "api_key_env": "FAKE_ANTHROPIC_KEY", "retry_backoff": 0.01, "max_retry_after": 2.0},
        },
        "models": {
            "gpt": {"provider": "fakeopenai", "model": "gpt-test", "display_name": "GPT",
                    "avatar_url": "https://example.invalid/gpt.png", "aliases": ["chatgpt"]},
            "claude": {"provider": "fakeanthropic", "model": "claude-test", "display_name": "Claude",
                       "avatar_url": "https://example.invalid/claude.png"},
            "llama": {"provider": "fakeopenai", "model": "llama-test", "display_name": "Llama"},
        },
    }
    for dotted, value in overrides.items():
        target = data
        *path, last = dotted.split("__")
        for part in path:
            target = target.setdefault(part, {})  # type: ignore[assignment]
        target[last] = value  # type: ignore[index]
    return parse_config(data)


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLM]:
    server = await FakeLLM().start()
    yield server
    await server.stop()


@pytest.fixture
def config(fake_llm: FakeLLM) -> AppConfig:
    return make_config(fake_llm)


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def redactor(config: AppConfig) -> Redactor:
    return Redactor.from_config(config, TEST_ENV)


@pytest.fixture
def clients(config: AppConfig, http_session: aiohttp.ClientSession, redactor: Redactor) -> ModelClients:
    return ModelClients(config, http_session, environ=TEST_ENV, redact=redactor)


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A fresh database with the real migrations applied; PostgreSQL is skipped only where unreachable."""
    backend = request.param
    if backend == "postgres" and not postgres_reachable():
        if REQUIRE_POSTGRES:
            pytest.fail("PostgreSQL is required (MOAI_REQUIRE_POSTGRES=1) but not reachable")
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    async with fresh_database(backend) as url:
        yield url


@pytest.fixture
async def harness(database: str, config: AppConfig) -> AsyncIterator[DiscordHarness]:
    """The real bot in dpytest, on a migrated database, talking to the fake LLM server."""
    discord_harness = await make_harness(config, TEST_ENV)
    yield discord_harness
    await discord_harness.close()


@pytest.fixture
async def discord_emulator(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordEmulator]:
    """Discord's REST API on loopback, with its rate limits (tests/discord_emulator.py); discord.py talks to it."""
    server = await DiscordEmulator().start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.base)
    yield server
    await server.stop()


@pytest.fixture
async def emulated(database: str, config: AppConfig,
                   discord_emulator: DiscordEmulator) -> AsyncIterator[DiscordHarness]:
    """The harness with moai's webhook traffic going over HTTP, through discord.py, to the Discord emulator.

    Its webhook window is 0.5 s instead of Discord's 2 s, for speed: the lanes learn it from the headers."""
    discord_emulator.bucket_window = 0.5
    discord_harness = await make_harness(config, TEST_ENV, emulator=discord_emulator)
    yield discord_harness
    await discord_harness.close()

