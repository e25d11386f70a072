"""/consensus and the Consensus button: a moderator model synthesises the thread; optionally the models
peer-review each other first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.delivery.components import ACTIONS
from cogs.utils.errors import IdButton
from cogs.utils.stages import ThreadStage
from cogs.utils.threads import actor_of, require_here, thread_discussion

if TYPE_CHECKING:
    from cogs.client import MoaiBot

async def consensus_here(interaction: discord.Interaction[MoaiBot], *, peer_review: bool) -> None:
    discussion, thread = await thread_discussion(interaction, "consensus", idle=True)
    stage = ThreadStage(interaction.client, thread, interaction)
    await interaction.client.services.roundtable.consensus(discussion, actor_of(interaction), stage,
                                                           peer_review=peer_review)


class ConsensusButton(IdButton, discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                      template=ACTIONS["consensus"].template.pattern):
    TEMPLATE = ACTIONS["consensus"].template

    async def pressed(self, interaction: discord.Interaction[MoaiBot]) -> None:
        await require_here(interaction, self.target_id)
        await consensus_here(interaction, peer_review=False)


class Consensus(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="consensus", description="A moderator model sums up where the models agree and differ")
    @app_commands.describe(peer_review="First let each model rank the others' answers, anonymised")
    @app_commands.guild_only()
    async def consensus(self, interaction: discord.Interaction[MoaiBot], peer_review: bool = False) -> None:
        await consensus_here(interaction, peer_review=peer_review)


async def setup(bot: MoaiBot) -> None:
    bot.add_dynamic_items(ConsensusButton)
    await bot.add_cog(Consensus(bot))
