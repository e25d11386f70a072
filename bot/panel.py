"""Turning what a user typed (question, model list, project) into a validated panel, or a clear error."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import AppConfig, ModelConfig
from bot.db.models import ChannelDefault, Project
from bot.errors import Hint, UserError
from bot.text import clean_text, is_blank

MODEL_SEPARATORS = re.compile(r"[,\s]+")


@dataclass(frozen=True, slots=True)
class Panel:
    models: list[ModelConfig]
    project: Project | None = None


def clean_question(text: str, config: AppConfig) -> str:
    question = clean_text(text).strip()
    if is_blank(question):
        raise UserError("The question is empty.")
    limit = config.defaults.max_question_chars
    if len(question) > limit:
        raise UserError(f"The question is {len(question):,} characters long; the limit is {limit:,}. "
                        "Shorten it and try again.")
    return question


def parse_models(config: AppConfig, text: str) -> list[ModelConfig]:
    names = [name for name in MODEL_SEPARATORS.split(text) if name]
    models: list[ModelConfig] = []
    unknown: list[str] = []
    for name in names:
        model = config.resolve_model(name)
        if model is None:
            unknown.append(name)
        elif model not in models:
            models.append(model)
    if unknown:
        raise UserError(f"Unknown model{'s' if len(unknown) > 1 else ''}: {', '.join(f'`{n[:40]}`' for n in unknown)}. "
                        f"Available: {available(config)}.")
    return models


def available(config: AppConfig) -> str:
    return ", ".join(f"`{alias}`" for alias in config.models) or "none"


def require_models(config: AppConfig) -> None:
    if not config.models:
        raise UserError("No models are configured. Add [models.<alias>] entries to config.toml and restart.")


async def resolve_panel(config: AppConfig, guild_id: int | None, models: Sequence[ModelConfig] | None,
                        project_name: str | None, channel_id: int | None = None) -> Panel:
    """Explicit models win, then the named project's panel, then the channel's default project, then the
    configured defaults."""
    require_models(config)
    project = None
    if project_name:
        project = await find_project(guild_id, project_name)
    elif channel_id is not None:
        default = await ChannelDefault.get_or_none(channel_id=channel_id).prefetch_related("project")
        project = default.project if default is not None else None
    if models:
        chosen = list(models)
    elif project is not None and project.models:
        chosen = parse_models(config, " ".join(project.models))
    else:
        chosen = config.default_models()
    if not chosen:
        raise UserError(f"Name at least one model. Available: {available(config)}.")
    return Panel(chosen, project)


async def find_project(guild_id: int | None, name: str) -> Project:
    project = await Project.get_or_none(guild__discord_id=guild_id, name=name.strip())
    if project is None:
        raise UserError(f"No project named `{name[:64]}` in this server.", Hint.PROJECTS)
    return project
