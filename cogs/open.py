"""/open: every model answers the same question at once, each streaming into a new thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.kinds import DiscussionMode
from bot.modes.open import OpenMode
from bot.panel import clean_question, resolve_panel
from cogs.utils.files import files_chars, read_with_deferral
from cogs.utils.threads import begin_thread_discussion, discussion_channel, is_blind
from cogs.utils.transformers import Models, Project

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot


class Open(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="open", description="Every model answers your question at once, in a new thread")
    @app_commands.describe(question="What to ask the models",
                           models="Models to ask, comma-separated (default: the configured panel)",
                           project="Run under a project's panel, topic and system prompt",
                           blind="Models answer as Model A, B… until the vote reveals them",
                           file1="An image, text or code file, or PDF for the models", file2="Another file",
                           file3="Another file", file4="Another file")
    @app_commands.guild_only()
    async def open(self, interaction: discord.Interaction[MoaiBot], question: str, models: Models | None = None,
                   project: Project | None = None, blind: bool | None = None,
                   file1: discord.Attachment | None = None, file2: discord.Attachment | None = None,
                   file3: discord.Attachment | None = None, file4: discord.Attachment | None = None) -> None:
        config = self.bot.config
        question = clean_question(question, config)
        panel = await resolve_panel(config, interaction.guild_id, models, project, interaction.channel_id)
        channel = discussion_channel(interaction, "open", "mention the models instead")
        files = await read_with_deferral(interaction, [file1, file2, file3, file4], config.attachments)
        ticket = await self.bot.services.admission.admit(interaction.guild_id, interaction.user.id, panel.models,
                                                         len(question) + files_chars(files))
        blind = is_blind(blind, panel)
        async with ticket.refunded_on_error():
            names = f"{len(panel.models)} models, blind" if blind else ", ".join(m.name for m in panel.models)
            await begin_thread_discussion(
                interaction, channel, mode=DiscussionMode.OPEN, question=question, panel=panel, rounds=1,
                play=OpenMode(panel.models), intro=f"**{interaction.user.display_name}** asked {names}:",
                announce=f"🧵 {len(panel.models)} models are answering in {{thread}}", ticket=ticket, blind=blind,
                files=files)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Open(bot))
