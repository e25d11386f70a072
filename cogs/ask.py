"""/ask: one model, answered in place with a thinking indicator while it streams."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.kinds import DiscussionMode
from bot.roundtable import NewDiscussion
from cogs.utils.confirm import confirmed_or_asked
from cogs.utils.files import read_with_deferral
from cogs.utils.stages import AskVenue
from cogs.utils.threads import actor_of
from cogs.utils.transformers import Model

if TYPE_CHECKING:
    from cogs.client import MoaiBot


class Ask(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask", description="Ask one model; the answer streams in right here")
    @app_commands.describe(model="Which model", question="What to ask",
                           search="Search the web and cite sources (default: the server's setting)",
                           file1="An image, text or code file, or PDF for the model", file2="Another file",
                           file3="Another file", file4="Another file")
    @app_commands.guild_only()
    async def ask(self, interaction: discord.Interaction[MoaiBot], model: Model, question: str,
                  search: bool | None = None, file1: discord.Attachment | None = None,
                  file2: discord.Attachment | None = None, file3: discord.Attachment | None = None,
                  file4: discord.Attachment | None = None) -> None:
        files = await read_with_deferral(interaction, [file1, file2, file3, file4], self.bot.config.attachments)
        request = NewDiscussion(DiscussionMode.ASK, question, actor_of(interaction), models=[model], files=files,
                                search=search)

        async def start(asked: discord.Interaction[MoaiBot], confirmed: bool) -> None:
            opened = await self.bot.services.roundtable.open(replace(request, confirmed=confirmed), AskVenue(asked))
            await opened.wait()

        await confirmed_or_asked(interaction, start)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Ask(bot))
