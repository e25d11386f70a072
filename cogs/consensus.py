"""/consensus: a moderator model synthesises the thread; optionally the models peer-review each other first."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import ModelConfig
from bot.consensus import MODERATOR_NOTE, format_ranking, run_peer_review
from bot.db.models import AuthorKind, Discussion, Message, MessageStatus, Round, RoundKind, RoundStatus
from bot.discussion import active, round_context
from bot.errors import UserError
from bot.transcript import transcript_chars
from bot.usage import released_on_error
from cogs.utils.live import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot


async def latest_answers(discussion: Discussion) -> dict[str, str]:
    """The complete answers of the most recent finished answering round."""
    answering = [RoundKind.OPEN, RoundKind.DISCUSS, RoundKind.MENTION]
    last = await Round.filter(discussion=discussion, status=RoundStatus.COMPLETED,
                              kind__in=answering).order_by("-number").first()
    if last is None:
        return {}
    rows = await Message.filter(round=last, status=MessageStatus.COMPLETE).exclude(content="").order_by("id")
    return {row.model_alias: row.content for row in rows if row.model_alias}


class Consensus(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="consensus", description="A moderator model sums up where the models agree and differ")
    @app_commands.describe(peer_review="First let each model rank the others' answers, anonymised")
    @app_commands.guild_only()
    async def consensus(self, interaction: discord.Interaction, peer_review: bool = False) -> None:
        thread = interaction.channel
        discussion = await Discussion.get_or_none(thread_id=interaction.channel_id or 0)
        if discussion is None or not isinstance(thread, discord.Thread):
            raise UserError("Use /consensus inside a discussion thread started with /open or /discuss.")
        orchestrator = self.bot.orchestrator
        if orchestrator.is_running(thread.id):
            raise UserError("The models are still answering here. Wait for them, or /stop first.")
        answers = await latest_answers(discussion)
        if not answers:
            raise UserError("There are no complete answers to sum up yet.")
        moderators = self.bot.config.moderators()
        reviewers = [self.bot.config.models[a] for a in answers if a in self.bot.config.models] if peer_review else []
        if peer_review and len(reviewers) < 3:
            raise UserError("Peer review needs at least three answers (each model ranks the others, not itself).")
        chars = await transcript_chars(discussion)
        hold = await orchestrator.admit(interaction.guild_id, interaction.user.id, [moderators[0], *reviewers],
                                        chars)
        async with released_on_error(hold):
            await interaction.response.send_message(
                f"🧭 {interaction.user.display_name} asked for a consensus"
                + (" with peer review" if peer_review else "") + ".", allowed_mentions=NO_MENTIONS)

        async def work() -> None:
            async with active(discussion):
                if peer_review:
                    await self.peer_review(discussion, thread, reviewers, answers)
                await self.synthesise(discussion, thread, moderators)

        orchestrator.start(thread.id, work, report_to=thread, hold=hold)

    async def peer_review(self, discussion: Discussion, thread: discord.Thread, reviewers: list[ModelConfig],
                          answers: dict[str, str]) -> None:
        orchestrator = self.bot.orchestrator
        review = await run_peer_review(orchestrator.runner, discussion, reviewers, answers,
                                       random.Random(discussion.id * 7919 + len(answers)))
        text = format_ranking(self.bot.config.models, review.scores, len(review.rankings))
        for alias, why in review.failures.items():
            text += f"\n-# {self.bot.config.models[alias].name}'s ranking was not counted: {why}"
        await Message.create(discussion=discussion, author_kind=AuthorKind.SYSTEM, author_name="moai", content=text)
        await orchestrator.send_text(thread, text)

    async def synthesise(self, discussion: Discussion, thread: discord.Thread, moderators: list[ModelConfig]) -> None:
        """The first moderator that answers writes it; on failure the next one tries."""
        orchestrator = self.bot.orchestrator
        for index, moderator in enumerate(moderators):
            messages_for, _ = await round_context(discussion, [moderator], MODERATOR_NOTE)
            result = await orchestrator.run_in_thread(discussion, thread, [moderator], RoundKind.CONSENSUS,
                                                      messages_for)
            if result.answers[0].status is MessageStatus.COMPLETE:
                return
            if index + 1 < len(moderators):
                await orchestrator.send_text(thread, f"-# {moderator.name} could not moderate; asking "
                                                     f"{moderators[index + 1].name} instead.")
        await orchestrator.send_text(thread, "⚠️ No moderator could write the consensus. Try again later.")


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Consensus(bot))
