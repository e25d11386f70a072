"""/open: every model answers the same question at once, each streaming into a new thread."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.kinds import DiscussionMode
from bot.roundtable import NewDiscussion, Opening
from cogs.delivery.render import member_name
from cogs.utils.confirm import confirmed_or_asked
from cogs.utils.files import read_with_deferral
from cogs.utils.stages import ThreadVenue
from cogs.utils.threads import actor_of, discussion_channel
from cogs.utils.transformers import Models, Project

if TYPE_CHECKING:
    from cogs.client import MoaiBot


def intro(opening: Opening) -> str:
    models = opening.panel.models
    names = f"{len(models)} models, blind" if opening.blind else ", ".join(m.name for m in models)
    searching = " (searching the web)" if opening.search else ""
    return f"**{member_name(opening.actor.name)}** asked {names}{searching}:"


class Open(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="open", description="Every model answers your question at once, in a new thread")
    @app_commands.describe(question="What to ask the models",
                           models="Models to ask, comma-separated (default: the configured panel)",
                           project="Run under a project's panel, topic and system prompt",
                           blind="Models answer as Model A, B… until the vote reveals them",
                           search="Search the web and cite sources (default: the project's or the server's setting)",
                           file1="An image, text or code file, or PDF for the models", file2="Another file",
                           file3="Another file", file4="Another file")
    @app_commands.guild_only()
    async def open(self, interaction: discord.Interaction[MoaiBot], question: str, models: Models | None = None,
                   project: Project | None = None, blind: bool | None = None, search: bool | None = None,
                   file1: discord.Attachment | None = None, file2: discord.Attachment | None = None,
                   file3: discord.Attachment | None = None, file4: discord.Attachment | None = None) -> None:
        channel = discussion_channel(interaction, "open", "mention the models instead")
        files = await read_with_deferral(interaction, [file1, file2, file3, file4], self.bot.config.attachments)
        request = NewDiscussion(DiscussionMode.OPEN, question, actor_of(interaction), models=models,
                                project=project, channel_id=interaction.channel_id, blind=blind, files=files,
                                search=search)

        async def start(asked: discord.Interaction[MoaiBot], confirmed: bool) -> None:
            venue = ThreadVenue(asked, channel, intro)
            run = await self.bot.services.roundtable.open(replace(request, confirmed=confirmed), venue)
            await venue.announce(f"🧵 {len(run.discussion.models)} models are answering in {{thread}}")

        await confirmed_or_asked(interaction, start)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Open(bot))
