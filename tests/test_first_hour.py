"""The first hour of a new server admin: the shipped config, `moai init`, `moai check` and `moai run` say
what is wrong in one line, never echo a secret, and never pass a config that cannot work (issue 22)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.cli import build_parser, check, init_command, main
from bot.config import ConfigError, load_config, parse_config
from tests.conftest import TEST_ENV
from tests.fake_llm import FakeLLM
from tests.helpers import write_config

ROOT = Path(__file__).resolve().parent.parent


def init_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["init", *argv])


async def test_an_unused_provider_is_a_note_and_urls_are_masked(tmp_path: Path, fake_llm: FakeLLM,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped config failed `moai check` for everyone without Ollama; a proxy password was printed."""
    path = write_config(tmp_path / "c.toml", fake_llm, db_url=f"sqlite://{tmp_path / 'c.sqlite3'}")
    text = path.read_text().replace(f'base_url = "{fake_llm.anthropic_url}"',
                                    f'base_url = "{fake_llm.anthropic_url.replace("http://", "http://me:pw@")}"')
    text += '[providers.ollama]\nkind = "openai"\nbase_url = "http://127.0.0.1:1/v1"\napi_key_env = ""\n'
    path.write_text(text)
    assert await check(load_config(str(path)), TEST_ENV, tmp_path / "cat.json") == 0
    out = capsys.readouterr().out
    assert "note  provider ollama: no model uses it" in out and "FAIL" not in out
    assert ":pw@" not in out and "me:***@" in out


async def test_a_config_without_models_fails_check_and_run(tmp_path: Path, fake_llm: FakeLLM,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[database]\nurl = "sqlite://{tmp_path / "c.sqlite3"}"\n[providers.p]\nkind = "openai"\n'
                    f'base_url = "{fake_llm.openai_url}"\napi_key_env = ""\n')
    assert await check(load_config(str(path)), {}, tmp_path / "cat.json") == 1
    assert "FAIL  config: 1 providers and no models" in capsys.readouterr().out


def test_run_refuses_a_config_without_models(tmp_path: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[providers.p]\nkind = "openai"\nbase_url = "{fake_llm.openai_url}"\napi_key_env = ""\n')
    monkeypatch.setenv("DISCORD_TOKEN", "x.y.z")
    assert main(["run", "--config", str(path)]) == 2  # global options work after the subcommand too
    assert "no [models.<alias>] section" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["alias", "price_source"])
def test_internal_model_keys_are_refused(key: str) -> None:
    with pytest.raises(ConfigError, match=f"models.a.{key}: is set by moai"):
        parse_config({"providers": {"p": {"kind": "openai", "base_url": "http://x", "api_key_env": ""}},
                      "models": {"a": {"provider": "p", "model": "m", key: "b"}}})


async def test_init_never_echoes_a_pasted_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "sk-or-v1-0123456789abcdef0123456789abcdef"
    args = init_args("--config", str(tmp_path / "c.toml"), "--providers", "openrouter",
                     "--key-env", f"openrouter={secret}")
    assert await init_command(args, {}, interactive=False) == 2
    err = capsys.readouterr().err
    assert secret not in err and "NAME of the environment variable" in err
    assert await init_command(init_args("--config", str(tmp_path / "c.toml"), "--key-env", secret), {},
                              interactive=False) == 2
    assert secret not in capsys.readouterr().err
    assert not (tmp_path / "c.toml").exists()


async def test_init_names_a_typo_in_a_provider(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = init_args("--config", str(tmp_path / "c.toml"), "--providers", "ollama",
                     "--base-url", "olama=http://gpu:11434/v1")
    assert await init_command(args, {}, interactive=False) == 2
    assert "--base-url: unknown provider 'olama'" in capsys.readouterr().err


def test_the_readme_names_every_key_the_shipped_panel_needs() -> None:
    config = load_config(str(ROOT / "config.toml"))
    readme = (ROOT / "README.md").read_text()
    needed = {config.providers[m.provider].api_key_env for m in config.default_models()}
    setup = readme[readme.index("## Two commands"):readme.index("**Set up and run the bot:**")]
    assert needed and all(f"export {variable}=" in setup for variable in needed)


@pytest.mark.parametrize("command", [["migrate"], ["check"], ["console", "Q"]])
def test_an_sqlite_file_in_a_missing_folder_is_one_line_not_a_hang(tmp_path: Path, fake_llm: FakeLLM,
                                                                   command: list[str],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """aiosqlite fails inside Tortoise's lock and the caller used to wait forever."""
    path = write_config(tmp_path / "c.toml", fake_llm, db_url=f"sqlite://{tmp_path / 'missing' / 'moai.sqlite3'}")
    assert main([*command, "--config", str(path)]) == 1
    captured = capsys.readouterr()
    assert f"{tmp_path / 'missing'}, does not exist" in captured.out + captured.err
