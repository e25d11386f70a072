"""Config reload without a restart: re-read and validate config.toml, keep the old config on any error.

What a running process cannot change in place (its database, its Discord connection, its metrics port, where
provider limits are counted) is kept as it was and named, so the owner knows a restart is still due.
Running discussions keep the models they started with; new runs use the new config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.catalogue import with_prices
from bot.config import AppConfig, load_config

# (section, key) pairs that only a restart applies.
RESTART_KEYS = (("database", "url"), ("redis", "url"), ("metrics", "port"), ("metrics", "host"),
                ("discord", "token_env"), ("discord", "message_content_intent"), ("discord", "sync_commands"),
                ("discord", "dev_guild_ids"), ("discord", "webhook_name"))


def catalogue_file(config: AppConfig, config_path: Path) -> Path:
    """The catalogue file, relative to the config file unless absolute."""
    path = Path(config.defaults.catalogue_file)
    return path if path.is_absolute() else config_path.parent / path


def load_priced(config_path: Path) -> tuple[AppConfig, list[str]]:
    """The config file, validated and priced; raises ConfigError with one line naming the key."""
    config = load_config(config_path)
    return with_prices(config, catalogue_file(config, config_path))


@dataclass(frozen=True, slots=True)
class Reloaded:
    config: AppConfig  # what to apply now: the new file, with restart-only keys kept as they were
    changed: tuple[str, ...]  # sections that changed (providers, models, defaults, discord.edit_interval …)
    needs_restart: tuple[str, ...]  # keys that changed in the file but wait for a restart
    unpriced: tuple[str, ...]


def reload_config(current: AppConfig, config_path: Path) -> Reloaded:
    """Read the file again; on error (ConfigError) nothing changes."""
    new, unpriced = load_priced(config_path)
    restart: list[str] = []
    sections = {section: getattr(new, section).model_dump() for section in ("database", "redis", "metrics",
                                                                            "discord")}
    for section, key in RESTART_KEYS:
        old_value = getattr(getattr(current, section), key)
        if sections[section][key] != old_value:
            restart.append(f"{section}.{key}")
            sections[section][key] = old_value
    kept = {section: type(getattr(new, section)).model_validate(values) for section, values in sections.items()}
    applied = new.model_copy(update=kept)
    changed = [name for name in ("providers", "models", "defaults") if getattr(applied, name) != getattr(current, name)]
    changed += [f"discord.{key}" for key, value in applied.discord.model_dump().items()
                if value != getattr(current.discord, key)]
    return Reloaded(applied, tuple(changed), tuple(restart), tuple(unpriced))
