"""/open: every model answers the same question at once, each streaming into a new thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.db.models import BudgetHold, DiscussionMode
from bot.errors import UserError
from bot.panel import Panel, clean_question, resolve_panel, thread_title
from bot.usage import released_on_error
from cogs.utils.autocomplete import models_autocomplete, project_autocomplete
from cogs.utils.live import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot

THREAD_ARCHIVE_MINUTES = 1440


def require_thread_permissions(channel: discord.abc.GuildChannel) -> None:
    me = channel.guild.me
    permissions = channel.permissions_for(me)
    missing = [name for name, ok in (("Create Public Threads", permissions.create_public_threads),
                                     ("Send Messages in Threads", permissions.send_messages_in_threads))
               if not ok]
    if missing:
        raise UserError(f"I can't start a discussion here: I'm missing {' and '.join(missing)} in "
                        f"{channel.mention}. Ask an admin to grant it, or use another channel.")


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
        channel = interaction.channel
        if isinstance(channel, discord.Thread):
            raise UserError("Use /open in a text channel: it starts its own thread. "
                            "Inside a discussion thread, mention the models instead.")
        if not isinstance(channel, discord.TextChannel):
            raise UserError("/open works in server text channels.")
        require_thread_permissions(channel)
        hold = await self.bot.orchestrator.admit(interaction.guild_id, interaction.user.id, panel.models, len(question))
        async with released_on_error(hold):
            await self.start(interaction, channel, question, panel, hold)

    async def start(self, interaction: discord.Interaction, channel: discord.TextChannel, question: str,
                    panel: Panel, hold: BudgetHold | None) -> None:
        await interaction.response.defer(thinking=True)
        try:
            thread = await channel.create_thread(name=thread_title(question), type=discord.ChannelType.public_thread,
                                                 auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                                                 reason=f"moai /open by {interaction.user.id}")
        except discord.Forbidden:
            raise UserError("Discord refused to let me create a thread here (missing permission).") from None

        orchestrator = self.bot.orchestrator
        discussion = await orchestrator.create_discussion(
            mode=DiscussionMode.OPEN, question=question, panel=panel, author=interaction.user,
            guild=interaction.guild, channel_id=channel.id, thread_id=thread.id,
        )
        names = ", ".join(m.name for m in panel.models)
        await orchestrator.send_text(thread, f"**{interaction.user.display_name}** asked {names}:\n>>> {question}")
        await interaction.followup.send(f"🧵 {len(panel.models)} models are answering in {thread.mention}",
                                        allowed_mentions=NO_MENTIONS)

        orchestrator.start(thread.id, lambda: orchestrator.run_discussion(discussion, thread, panel.models, 1),
                           report_to=thread, hold=hold)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Open(bot))
