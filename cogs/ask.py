"""/ask: one model, answered in place with a thinking indicator while it streams."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.kinds import DiscussionMode
from bot.modes.open import OpenMode
from bot.panel import Panel, clean_question
from bot.services.discussions import Place
from bot.services.runs import RunInfo
from cogs.utils.files import files_chars, read_with_deferral
from cogs.utils.render import crash_text
from cogs.utils.send import reply_ephemeral
from cogs.utils.threads import author_of
from cogs.utils.transformers import Model

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot


class Ask(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask", description="Ask one model; the answer streams in right here")
    @app_commands.describe(model="Which model", question="What to ask",
                           file1="An image, text or code file, or PDF for the model", file2="Another file",
                           file3="Another file", file4="Another file")
    @app_commands.guild_only()
    async def ask(self, interaction: discord.Interaction[MoaiBot], model: Model, question: str,
                  file1: discord.Attachment | None = None, file2: discord.Attachment | None = None,
                  file3: discord.Attachment | None = None, file4: discord.Attachment | None = None) -> None:
        services = self.bot.services
        question = clean_question(question, self.bot.config)
        files = await read_with_deferral(interaction, [file1, file2, file3, file4], self.bot.config.attachments)
        ticket = await services.admission.admit(interaction.guild_id, interaction.user.id, [model],
                                                len(question) + files_chars(files))
        async with ticket.refunded_on_error():
            if not interaction.response.is_done():
                await interaction.response.defer(thinking=True)
            assert interaction.guild is not None
            panel = Panel([model])
            discussion = await services.store.create(
                mode=DiscussionMode.ASK, question=question, panel=panel, author=author_of(interaction.user),
                place=Place(interaction.guild.id, interaction.guild.name, interaction.channel_id), attachments=files)

        async def report(error: BaseException) -> None:
            await reply_ephemeral(interaction, crash_text(error))

        run = services.orchestrator.start(
            interaction.id, discussion, OpenMode(panel.models), self.bot.screens.interaction(interaction),
            ticket=ticket, info=RunInfo("ask", interaction.guild.id, interaction.user.id, interaction.channel_id),
            on_crash=report)
        await run.wait()


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Ask(bot))
