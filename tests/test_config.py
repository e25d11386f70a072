"""Config loading: the shipped config.toml is valid, and each mistake names its key in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config
from bot.secrets import Redactor

ROOT = Path(__file__).resolve().parent.parent

MINIMAL = """
[providers.p]
kind = "openai"
base_url = "http://127.0.0.1:1/v1"
api_key_env = "P_KEY"
[models.m]
provider = "p"
model = "m-1"
"""


def test_shipped_config_is_valid() -> None:
    config = load_config(ROOT / "config.toml")
    assert config.database.url == "sqlite://moai.sqlite3"
    assert [m.alias for m in config.default_models()] == ["gpt", "claude", "gemini", "llama"]
    assert config.resolve_model("@ChatGPT") is config.models["gpt"]


def test_defaults_and_alias_fill(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(MINIMAL)
    config = load_config(path)
    assert config.models["m"].alias == "m" and config.models["m"].name == "m"
    assert config.default_models() == [config.models["m"]]
    assert config.defaults.timeouts.idle == 60.0


@pytest.mark.parametrize(("extra", "message"), [
    ('[models.x]\nprovider = "nope"\nmodel = "x"\n', "config.toml: models.x.provider: unknown provider 'nope'"),
    ('[defaults]\nmodels = ["ghost"]\n', "config.toml: defaults.models: unknown model 'ghost'"),
    ('[defaults]\nrounds = 99\n', "config.toml: defaults.rounds: Input should be less than or equal to 10"),
    ('[database]\nurl = "mysql://x"\n', "config.toml: database.url: must start with sqlite:// or postgres://"),
    ('[discord]\ntokne_env = "X"\n', "config.toml: discord.tokne_env: unknown key"),
    ('[models.y]\nprovider = "p"\nmodel = "y"\naliases = ["m"]\n',
     "config.toml: models.y.aliases: 'm' is already used by 'm'"),
    ('[providers.q]\nkind = "openai"\nbase_url = "http://x"\napi_key_env = "sk-live-abc"\n',
     "config.toml: providers.q.api_key_env: must be the NAME of an environment variable, not the key itself"),
    ('[models.z]\nprovider = "p"\nmodel = "z"\nmax_tokens = 4000\ncontext_tokens = 4100\n',
     "config.toml: models.z: context_tokens must exceed max_tokens by at least 256"),
    ('[providers.r]\nkind = "cohere"\nbase_url = "http://x"\n',
     "config.toml: providers.r.kind: Input should be 'openai' or 'anthropic'"),
    ('[discord]\nwebhooks_per_channel = 16\n',
     "config.toml: discord.webhooks_per_channel: Input should be less than or equal to 15"),
    ('[arena]\nties = "quarter"\n', "config.toml: arena.ties: Input should be 'none' or 'half'"),
    ('[arena]\ncategory_model = "ghost"\n', "config.toml: arena.category_model: unknown model 'ghost'"),
    ('[debate]\nposition_judge = "ghost"\n', "config.toml: debate.position_judge: unknown model 'ghost'"),
    ('[arena]\nmin_votes = 0\n', "config.toml: arena.min_votes: Input should be greater than or equal to 1"),
])
def test_errors_name_the_key(extra: str, message: str) -> None:
    import tomllib

    with pytest.raises(ConfigError) as caught:
        parse_config(tomllib.loads(MINIMAL + extra))
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read config file"):
        load_config(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[discord\n")
    with pytest.raises(ConfigError, match=r"broken.toml: not valid TOML"):
        load_config(broken)


def test_redactor_masks_only_configured_secrets(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(MINIMAL)
    config = load_config(path)
    redact = Redactor.from_config(config, {"P_KEY": "sk-abcdef123", "DISCORD_TOKEN": "tok.en.123456", "HOME": "/root"})
    assert redact("key sk-abcdef123 token tok.en.123456 home /root") == "key [redacted] token [redacted] home /root"

