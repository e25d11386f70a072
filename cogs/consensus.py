"""/consensus: a moderator model synthesises the thread; optionally the models peer-review each other first."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.engine.transcript import transcript_chars
from bot.errors import UserError
from bot.modes.consensus import ConsensusMode, reviewers_for
from cogs.utils.send import NO_MENTIONS
from cogs.utils.threads import start_in_thread, thread_discussion

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot


class Consensus(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="consensus", description="A moderator model sums up where the models agree and differ")
    @app_commands.describe(peer_review="First let each model rank the others' answers, anonymised")
    @app_commands.guild_only()
    async def consensus(self, interaction: discord.Interaction[MoaiBot], peer_review: bool = False) -> None:
        services, config = self.bot.services, self.bot.config
        discussion, thread = await thread_discussion(interaction, "consensus", idle=True)
        answers = await services.store.latest_answers(discussion)
        if not answers:
            raise UserError("There are no complete answers to sum up yet.")
        moderators = config.moderators()
        reviewers = reviewers_for(config.models, answers) if peer_review else []
        ticket = await services.admission.admit(interaction.guild_id, interaction.user.id,
                                                [moderators[0], *reviewers], await transcript_chars(discussion))
        async with ticket.refunded_on_error():
            await interaction.response.send_message(
                f"🧭 {interaction.user.display_name} asked for a consensus"
                + (" with peer review" if peer_review else "") + ".", allowed_mentions=NO_MENTIONS)
        mode = ConsensusMode(config.models, moderators, answers, reviewers,
                             random.Random(discussion.id * 7919 + len(answers)))
        start_in_thread(self.bot, thread, discussion, mode, ticket, interaction.user.id)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Consensus(bot))
