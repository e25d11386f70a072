"""/ask: one model, answered in place with a thinking indicator while it streams."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import ModelConfig
from bot.db.models import DiscussionMode, DiscussionStatus, RoundKind
from bot.discussion import round_context, set_status
from bot.errors import UserError
from bot.panel import Panel, available, clean_question, require_models
from bot.report import answer_line
from bot.usage import release_budget
from cogs.utils.autocomplete import model_autocomplete
from cogs.utils.live import NO_MENTIONS, InteractionPoster

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot


class Ask(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask", description="Ask one model; the answer streams in right here")
    @app_commands.describe(model="Which model", question="What to ask")
    @app_commands.autocomplete(model=model_autocomplete)
    @app_commands.guild_only()
    async def ask(self, interaction: discord.Interaction, model: str, question: str) -> None:
        config = self.bot.config
        require_models(config)
        chosen = config.resolve_model(model)
        if chosen is None:
            raise UserError(f"Unknown model `{model[:40]}`. Available: {available(config)}.")
        question = clean_question(question, config)
        hold = await self.bot.orchestrator.admit(interaction.guild_id, interaction.user.id, [chosen], len(question))
        try:
            await self.answer(interaction, chosen, question)
        finally:
            await release_budget(hold)

    async def answer(self, interaction: discord.Interaction, chosen: ModelConfig, question: str) -> None:
        await interaction.response.defer(thinking=True)

        orchestrator = self.bot.orchestrator
        panel = Panel([chosen])
        discussion = await orchestrator.create_discussion(
            mode=DiscussionMode.ASK, question=question, panel=panel, author=interaction.user,
            guild=interaction.guild, channel_id=interaction.channel_id,
        )
        messages_for, _ = await round_context(discussion, panel.models)
        poster = InteractionPoster(interaction)
        status = DiscussionStatus.CANCELLED
        try:
            result = await orchestrator.run_round(discussion, panel.models, RoundKind.OPEN, messages_for,
                                                  {chosen.alias: poster}, interaction.id,
                                                  headers={chosen.alias: f"**{chosen.name}**\n"})
            status = DiscussionStatus.COMPLETED
        finally:
            await set_status(discussion, status)
        [answer] = result.answers
        footer = f"-# {answer_line(answer)}"
        if answer.text:
            await interaction.followup.send(footer, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.edit_original_response(content=footer, allowed_mentions=NO_MENTIONS)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Ask(bot))
