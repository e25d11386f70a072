"""/open: every model answers the same question at once, each streaming into a new thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.db.models import DiscussionMode
from bot.panel import clean_question, resolve_panel
from bot.usage import released_on_error
from cogs.utils.autocomplete import models_autocomplete, project_autocomplete
from cogs.utils.threads import begin_thread_discussion, discussion_channel

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot


class Open(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="open", description="Every model answers your question at once, in a new thread")
    @app_commands.describe(question="What to ask the models",
                           models="Models to ask, comma-separated (default: the configured panel)",
                           project="Run under a project's panel, topic and system prompt")
    @app_commands.autocomplete(models=models_autocomplete, project=project_autocomplete)
    @app_commands.guild_only()
    async def open(self, interaction: discord.Interaction, question: str, models: str | None = None,
                   project: str | None = None) -> None:
        config = self.bot.config
        question = clean_question(question, config)
        panel = await resolve_panel(config, interaction.guild_id, models, project, interaction.channel_id)
        channel = discussion_channel(interaction, "open", "mention the models instead")
        hold = await self.bot.orchestrator.admit(interaction.guild_id, interaction.user.id, panel.models, len(question))
        async with released_on_error(hold):
            names = ", ".join(m.name for m in panel.models)
            await begin_thread_discussion(
                self.bot, interaction, channel, mode=DiscussionMode.OPEN, question=question, panel=panel, rounds=1,
                intro=f"**{interaction.user.display_name}** asked {names}:",
                announce=f"🧵 {len(panel.models)} models are answering in {{thread}}", hold=hold)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Open(bot))
