"""Autocomplete for model and project options."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.db.models import Project
from bot.panel import MODEL_SEPARATORS

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot

MAX_CHOICES = 25


def _label(bot: MoaiBot, alias: str) -> str:
    model = bot.config.models[alias]
    return f"{model.name} ({alias}) · {model.model}"[:100]


async def model_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    bot: MoaiBot = interaction.client  # type: ignore[assignment]
    wanted = current.strip().lower()
    return [app_commands.Choice(name=_label(bot, alias), value=alias)
            for alias, model in bot.config.models.items()
            if wanted in alias or wanted in model.name.lower()][:MAX_CHOICES]


async def models_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Comma-separated list: completes the last name, keeps the ones already typed."""
    bot: MoaiBot = interaction.client  # type: ignore[assignment]
    *done, last = MODEL_SEPARATORS.split(current) if current else [""]
    chosen = [d for d in done if d]
    prefix = ", ".join(chosen)
    choices = []
    for alias, model in bot.config.models.items():
        if alias in chosen or not (last.lower() in alias or last.lower() in model.name.lower()):
            continue
        value = f"{prefix}, {alias}" if prefix else alias
        choices.append(app_commands.Choice(name=value[:100], value=value[:100]))
    return choices[:MAX_CHOICES]


async def project_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    names = await Project.filter(guild__discord_id=interaction.guild_id,
                                 name__icontains=current.strip()).order_by("name").limit(MAX_CHOICES)
    return [app_commands.Choice(name=p.name, value=p.name) for p in names]
