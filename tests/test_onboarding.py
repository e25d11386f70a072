"""`moai init` and `moai invite`, run as an owner would, against the fake providers over real HTTP."""

from __future__ import annotations

import argparse
import base64
from pathlib import Path

import discord
import pytest

from bot.cli import build_parser, init_command
from bot.config import load_config
from bot.onboarding import application_id, chosen_presets, invite_url, pick_panel
from tests.conftest import ANTHROPIC_KEY, OPENAI_KEY, TEST_ENV
from tests.fake_llm import FakeLLM
from tests.helpers import moai

APP_ID = 1187654321098765432
TOKEN = base64.b64encode(str(APP_ID).encode()).decode().rstrip("=") + ".GhIjKl.secret-part-of-the-token"


def init_args(fake: FakeLLM, target: Path, *extra: str) -> list[str]:
    return ["--config", str(target), "init", "--providers", "openai,anthropic",
            "--base-url", f"openai={fake.openai_url}", "--base-url", f"anthropic={fake.anthropic_url}",
            "--key-env", "openai=FAKE_OPENAI_KEY", "--key-env", "anthropic=FAKE_ANTHROPIC_KEY", *extra]


async def test_init_writes_a_config_that_runs(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.listed_models = ["gpt-4o", "gpt-5-mini", "claude-haiku-4-5", "claude-sonnet-4-5"]
    target = tmp_path / "config.toml"
    code, out, err = await moai(*init_args(fake_llm, target), env={**TEST_ENV, "DISCORD_TOKEN": TOKEN})
    assert code == 0, err
    assert "ok    provider openai: key accepted, 4 models listed" in out
    assert f"invite: https://discord.com/oauth2/authorize?client_id={APP_ID}&" in out
    config = load_config(target)
    assert {alias: m.model for alias, m in config.models.items()} == {"gpt": "gpt-5-mini",
                                                                     "claude": "claude-sonnet-4-5"}
    assert config.defaults.models == ("gpt", "claude")
    assert config.providers["anthropic"].api_key_env == "FAKE_ANTHROPIC_KEY"
    text = target.read_text()
    assert OPENAI_KEY not in text and ANTHROPIC_KEY not in text and TOKEN not in text
    checked = [r for r in fake_llm.requests if r.path == "/v1/models"]
    assert {r.headers.get("Authorization") or r.headers.get("x-api-key") for r in checked} == {
        f"Bearer {OPENAI_KEY}", ANTHROPIC_KEY}
    code, out, _ = await moai("--config", str(target), "check", env=TEST_ENV)
    assert code == 0 and "ok    model claude: $3 in / $15 out" in out


async def test_a_rejected_key_writes_nothing(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.models_status = 401
    target = tmp_path / "config.toml"
    code, out, _ = await moai(*init_args(fake_llm, target), env=TEST_ENV)
    assert code == 1 and "FAIL  provider openai:" in out and "config not written" in out
    assert not target.exists()


async def test_a_missing_key_variable_is_named(tmp_path: Path, fake_llm: FakeLLM) -> None:
    target = tmp_path / "config.toml"
    code, out, _ = await moai(*init_args(fake_llm, target), env={"FAKE_OPENAI_KEY": OPENAI_KEY})
    assert code == 1
    assert "FAIL  provider anthropic: FAKE_ANTHROPIC_KEY is not set" in out and not target.exists()


async def test_init_never_overwrites_without_force(tmp_path: Path, fake_llm: FakeLLM) -> None:
    target = tmp_path / "config.toml"
    target.write_text("# mine\n")
    code, _, err = await moai(*init_args(fake_llm, target), env=TEST_ENV)
    assert code == 2 and "already exists; pass --force" in err and target.read_text() == "# mine\n"


async def test_init_asks_when_run_at_a_terminal(tmp_path: Path, fake_llm: FakeLLM,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    fake_llm.listed_models = ["llama3.2", "qwen2.5"]
    answers = iter(["ollama"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    target = tmp_path / "config.toml"
    args: argparse.Namespace = build_parser().parse_args(
        ["--config", str(target), "init", "--base-url", f"ollama={fake_llm.openai_url}"])
    assert await init_command(args, {}, interactive=True) == 0
    config = load_config(target)
    assert [m.model for m in config.models.values()] == ["llama3.2", "qwen2.5"]
    assert config.providers["ollama"].api_key_env == ""


async def test_invite_prints_the_url_alone(tmp_path: Path) -> None:
    code, out, _ = await moai("--config", str(tmp_path / "none.toml"), "invite", env={"DISCORD_TOKEN": TOKEN})
    assert code == 0 and out.strip() == invite_url(APP_ID)
    code, _, err = await moai("--config", str(tmp_path / "none.toml"), "invite", env={})
    assert code == 2 and "DISCORD_TOKEN is not set" in err


def test_the_invite_asks_for_exactly_what_moai_uses() -> None:
    """The permission bits, checked against discord.py's own table."""
    expected = discord.Permissions(view_channel=True, send_messages=True, send_messages_in_threads=True,
                                   create_public_threads=True, manage_threads=True, manage_webhooks=True,
                                   embed_links=True, attach_files=True, read_message_history=True)
    url = invite_url(APP_ID)
    assert f"permissions={expected.value}" in url and "scope=bot+applications.commands" in url
    assert application_id(TOKEN) == APP_ID
    with pytest.raises(ValueError, match="does not look like a Discord bot token"):
        application_id("sk-not-a-token")


def test_the_panel_takes_one_model_per_vendor() -> None:
    presets = chosen_presets(["openrouter", "anthropic"], {}, {})
    seats = pick_panel(presets, {"openrouter": ["openai/gpt-5-mini", "anthropic/claude-sonnet-4.5",
                                                "google/gemini-2.5-flash", "meta-llama/llama-3.3-70b-instruct",
                                                "deepseek/deepseek-chat-v3.1"],
                                 "anthropic": ["claude-sonnet-4-5"]})
    assert [(s.alias, s.provider, s.model, s.display_name) for s in seats] == [
        ("claude", "anthropic", "claude-sonnet-4-5", "Claude"),
        ("gpt", "openrouter", "openai/gpt-5-mini", "GPT"),
        ("gemini", "openrouter", "google/gemini-2.5-flash", "Gemini"),
        ("llama", "openrouter", "meta-llama/llama-3.3-70b-instruct", "Llama")]
