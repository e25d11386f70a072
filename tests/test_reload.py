"""Config reload without a restart: /admin reload and SIGHUP; a broken file changes nothing."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import discord

from bot.config import AppConfig
from bot.db.models import Discussion
from bot.kinds import DiscussionStatus
from tests.discord_harness import DiscordHarness
from tests.fake_llm import FakeLLM, Script


def config_toml(fake: FakeLLM, *, rounds: int = 3, gpt_name: str = "GPT", extra: str = "") -> str:
    return f"""
[discord]
sync_commands = false
edit_interval = 0.0

[database]
url = "sqlite://:memory:"

[defaults]
models = ["gpt", "claude", "llama"]
rounds = {rounds}
max_question_chars = 500

[defaults.timeouts]
connect = 2.0
idle = 0.5
total = 10.0

[providers.fakeopenai]
kind = "openai"
base_url = "{fake.openai_url}"
api_key_env = "FAKE_OPENAI_KEY"
max_concurrency = 8
retry_backoff = 0.01
max_retry_after = 2.0

[providers.fakeanthropic]
kind = "anthropic"
base_url = "{fake.anthropic_url}"
api_key_env = "FAKE_ANTHROPIC_KEY"
retry_backoff = 0.01
max_retry_after = 2.0

[models.gpt]
provider = "fakeopenai"
model = "gpt-test"
display_name = "{gpt_name}"
avatar_url = "https://example.invalid/gpt.png"
aliases = ["chatgpt"]

[models.claude]
provider = "fakeanthropic"
model = "claude-test"
display_name = "Claude"
avatar_url = "https://example.invalid/claude.png"

[models.llama]
provider = "fakeopenai"
model = "llama-test"
display_name = "Llama"
{extra}
"""


def owned(harness: DiscordHarness, path: Path) -> None:
    harness.bot.config_path = path
    harness.bot.owner_id = harness.member.id


async def test_owner_reloads_and_new_runs_use_it(harness: DiscordHarness, fake_llm: FakeLLM,
                                                 tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_toml(fake_llm, rounds=2, gpt_name="GPT-5", extra="""
[models.mistral]
provider = "fakeopenai"
model = "mistral-test"
display_name = "Mistral"
"""))
    owned(harness, path)
    call = await harness.slash("admin reload")
    [reply] = call.ephemeral_texts
    assert reply.startswith("🔄 Config reloaded. Changed: models, defaults.\n") and "restart" not in reply
    assert harness.bot.config.defaults.rounds == 2 and "mistral" in harness.bot.config.models
    assert harness.bot.services.admission.config is harness.bot.config
    await harness.slash("open", question="hi there", models="mistral, gpt")
    assert fake_llm.requests_for("mistral-test")
    names = {m.username for m in harness.adapter.messages.values() if m.kind == "webhook"}
    assert "GPT-5" in names


async def test_display_limits_reload_live(harness: DiscordHarness, fake_llm: FakeLLM, tmp_path: Path) -> None:
    """The webhook pool size, the thread create budget and the edit interval apply to the next rounds."""
    path = tmp_path / "config.toml"
    path.write_text(config_toml(fake_llm).replace("edit_interval = 0.0", "edit_interval = 0.25\n"
                                                  "webhooks_per_channel = 1\nthread_creates_per_minute = 12"))
    owned(harness, path)
    call = await harness.slash("admin reload")
    assert call.ephemeral_texts[0].startswith("🔄 Config reloaded.") and "restart" not in call.ephemeral_texts[0]
    screens = harness.bot.screens
    assert (screens.pool.interval, screens.webhooks.size, screens.pool.creates.limit) == (0.25, 1, 12)
    await harness.slash("open", question="three models, one webhook")
    assert len(harness.webhooks[harness.channel.id]) == 1  # three models would take two


async def test_a_broken_file_keeps_the_running_config(harness: DiscordHarness, fake_llm: FakeLLM,
                                                      tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_toml(fake_llm).replace('model = "claude-test"', 'model = "claude-test"\nbogus = 1'))
    owned(harness, path)
    before: AppConfig = harness.bot.config
    call = await harness.slash("admin reload")
    assert call.ephemeral_texts == [f"Config not reloaded, the running config stays: {path}: models.claude.bogus: "
                                    "unknown key"]
    assert harness.bot.config is before
    path.write_text("[[[ not toml")
    call = await harness.slash("admin reload")
    assert "not valid TOML" in call.ephemeral_texts[0] and harness.bot.config is before


async def test_only_the_owner_reloads(harness: DiscordHarness, fake_llm: FakeLLM, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_toml(fake_llm, rounds=5))
    harness.bot.config_path = path
    harness.bot.owner_id = harness.member.id + 1
    call = await harness.slash("admin reload", permissions=discord.Permissions(administrator=True))
    assert call.ephemeral_texts == ["Only the bot's owner can reload its config."]
    assert harness.bot.config.defaults.rounds == 3


async def test_restart_only_keys_wait_and_are_named(harness: DiscordHarness, fake_llm: FakeLLM,
                                                    tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_toml(fake_llm).replace('url = "sqlite://:memory:"', 'url = "sqlite://other.db"'))
    owned(harness, path)
    call = await harness.slash("admin reload")
    assert "⏳ Kept until a restart: database.url." in call.ephemeral_texts[0]
    assert harness.bot.config.database.url == "sqlite://:memory:"


async def test_a_running_discussion_is_not_disturbed(harness: DiscordHarness, fake_llm: FakeLLM,
                                                     tmp_path: Path) -> None:
    """Mid-discussion the file drops a model and changes its provider: the run finishes as it started."""
    fake_llm.script("llama-test", Script(text="slow answer " * 20, chunk_chars=6, token_interval=0.01))
    path = tmp_path / "config.toml"
    path.write_text(config_toml(fake_llm).replace('[models.llama]\nprovider = "fakeopenai"\nmodel = "llama-test"\n'
                                                  'display_name = "Llama"\n', "")
                    .replace('models = ["gpt", "claude", "llama"]', 'models = ["gpt", "claude"]'))
    owned(harness, path)
    await harness.slash("discuss", topic="a long one", rounds=2, models="llama, gpt", wait=False)
    await asyncio.sleep(0.1)
    reload = await harness.slash("admin reload", wait=False)
    assert reload.ephemeral_texts[0].startswith("🔄")
    await harness.bot.services.runs.wait_idle()
    discussion = await Discussion.get()
    assert discussion.status == DiscussionStatus.COMPLETED
    assert len(fake_llm.requests_for("llama-test")) == 2  # both rounds, after the model left the file
    assert "llama" not in harness.bot.config.models


async def test_sighup_reloads(harness: DiscordHarness, fake_llm: FakeLLM, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_toml(fake_llm, rounds=4))
    harness.bot.config_path = path
    harness.bot.reload_on_sighup()
    os.kill(os.getpid(), signal.SIGHUP)
    for _ in range(100):
        if harness.bot.config.defaults.rounds == 4:
            break
        await asyncio.sleep(0.02)
    assert harness.bot.config.defaults.rounds == 4
