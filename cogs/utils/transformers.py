"""Slash-command options that name models or projects: parsing and autocomplete in one place each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.config import ModelConfig
from bot.errors import UserError
from bot.panel import MODEL_SEPARATORS, available, parse_models, require_models

if TYPE_CHECKING:
    from cogs.client import MoaiBot

__all__ = [
    "MAX_CHOICES",
    "Choice",
    "Interaction",
    "Model",
    "ModelTransformer",
    "Models",
    "ModelsTransformer",
    "Project",
    "ProjectName",
    "Typed",
    "model_choices"
]

MAX_CHOICES = 25

Interaction = discord.Interaction[Any]  # the bot type is checked where it is used: these run for every cog
Typed = int | float | str  # what Discord sends for a focused option
Choice = app_commands.Choice[Typed]


def _bot(interaction: Interaction) -> MoaiBot:
    return interaction.client  # type: ignore[no-any-return]


def _label(model: ModelConfig) -> str:
    return f"{model.name} ({model.alias}) · {model.model}"[:100]


def _matches(model: ModelConfig, typed: str) -> bool:
    typed = typed.strip().lower()
    return typed in model.alias or typed in model.name.lower()


async def model_choices(interaction: Interaction, value: str) -> list[Choice]:
    """Configured models whose alias or name contains what was typed."""
    models = _bot(interaction).config.models
    choices: list[Choice] = [app_commands.Choice(name=_label(m), value=alias) for alias, m in models.items()
                             if _matches(m, value)]
    return choices[:MAX_CHOICES]


class ModelTransformer(app_commands.Transformer):
    """One model, by alias or extra alias, case-insensitively."""

    async def transform(self, interaction: Interaction, value: str) -> ModelConfig:
        config = _bot(interaction).config
        require_models(config)
        model = config.resolve_model(value)
        if model is None:
            raise UserError(f"Unknown model `{value[:40]}`. Available: {available(config)}.")
        return model

    async def autocomplete(self, interaction: Interaction, value: Typed) -> list[Choice]:
        return await model_choices(interaction, str(value))


class ModelsTransformer(app_commands.Transformer):
    """A comma-separated list of models; autocomplete completes the last name and keeps the ones typed."""

    async def transform(self, interaction: Interaction, value: str) -> list[ModelConfig]:
        config = _bot(interaction).config
        require_models(config)
        return parse_models(config, value)

    async def autocomplete(self, interaction: Interaction, value: Typed) -> list[Choice]:
        models = _bot(interaction).config.models
        *done, last = MODEL_SEPARATORS.split(str(value)) if value else [""]
        chosen = [d for d in done if d]
        prefix = ", ".join(chosen)
        choices: list[Choice] = []
        for alias, model in models.items():
            if alias in chosen or not _matches(model, last):
                continue
            full = f"{prefix}, {alias}" if prefix else alias
            choices.append(app_commands.Choice(name=full[:100], value=full[:100]))
        return choices[:MAX_CHOICES]


class ProjectName(app_commands.Transformer):
    """A project of this server, by name; parsed where it is used, so this only completes."""

    async def transform(self, interaction: Interaction, value: str) -> str:
        return value

    async def autocomplete(self, interaction: Interaction, value: Typed) -> list[Choice]:
        if interaction.guild_id is None:
            return []
        names = await _bot(interaction).services.projects.names_like(interaction.guild_id, str(value), MAX_CHOICES)
        return [app_commands.Choice(name=name, value=name) for name in names]


Model = app_commands.Transform[ModelConfig, ModelTransformer]
Models = app_commands.Transform[list[ModelConfig], ModelsTransformer]
Project = app_commands.Transform[str, ProjectName]
