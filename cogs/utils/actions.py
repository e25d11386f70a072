"""What /continue, /consensus, /stop and /export do, shared by the commands and the buttons under each round
(cogs do not import each other; both reach these). Every permission, budget and state check lives here, so a
button can do nothing a member could not do by command."""

from __future__ import annotations

import io
import random
import re
from typing import TYPE_CHECKING

import discord

from bot.config import ModelConfig
from bot.engine.transcript import transcript_chars
from bot.errors import UserError
from bot.export import export
from bot.kinds import DiscussionStatus
from bot.modes import continuation
from bot.modes.consensus import ConsensusMode, reviewers_for
from bot.panel import parse_models
from bot.policy import check_rounds, require_steer
from bot.services.budget import anyone_steers
from cogs.utils.send import NO_MENTIONS
from cogs.utils.threads import STILL_ANSWERING, start_in_thread, thread_discussion

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot
    from bot.services.discussions import Discussion


def panel_of(bot: MoaiBot, discussion: Discussion) -> list[ModelConfig]:
    known = [alias for alias in discussion.models if alias in bot.config.models]
    if not known:
        raise UserError("None of this discussion's models are configured any more.")
    return parse_models(bot.config, " ".join(known))


async def continue_discussion(interaction: discord.Interaction[MoaiBot], discussion_id: int, *,
                              rounds: int | None, from_button: bool = False) -> None:
    """/continue, One more round, or Resume (which only resumes an interrupted discussion, once)."""
    bot = interaction.client
    services = bot.services
    discussion = await services.store.get(discussion_id)
    thread = interaction.channel
    if discussion is None or not isinstance(thread, discord.Thread) or discussion.thread_id != thread.id:
        raise UserError("This discussion no longer exists.")
    if services.runs.is_running(thread.id) or discussion.status is DiscussionStatus.RUNNING:
        raise UserError(STILL_ANSWERING)
    if from_button and discussion.status is not DiscussionStatus.INTERRUPTED:
        raise UserError("This discussion was already resumed. Use /continue for more rounds.")
    require_steer(discussion.created_by, interaction.user.id, action="continue",
                  manages_threads=interaction.permissions.manage_threads,
                  anyone=await anyone_steers(interaction.guild_id))
    panel = panel_of(bot, discussion)
    done = await services.store.completed_rounds(discussion)
    if rounds is None:
        left = discussion.rounds_planned - done
        paused = bool(discussion.blind_names)  # a blind round 1 left the rest of the planned rounds for later
        rounds = left if (discussion.status is DiscussionStatus.INTERRUPTED or paused) and left > 0 else 1
    rounds = check_rounds(rounds)
    if not await services.store.claim(discussion):
        raise UserError(STILL_ANSWERING)
    try:  # claimed: until the run starts, any failure gives the claim, the money and the cooldown back
        ticket = await services.admission.admit(interaction.guild_id, interaction.user.id, panel,
                                                await transcript_chars(discussion), rounds)
        async with ticket.refunded_on_error():
            await services.store.plan_rounds(discussion, done + rounds)
            await interaction.response.send_message(
                f"▶️ {interaction.user.display_name} continued the discussion: {rounds} more round(s).",
                allowed_mentions=NO_MENTIONS)
    except BaseException:
        await services.store.unclaim(discussion)
        raise
    mode = continuation(discussion, panel, rounds, done, bot.config.debate)
    start_in_thread(bot, thread, discussion, mode, ticket, interaction.user.id)


async def start_consensus(interaction: discord.Interaction[MoaiBot], *, peer_review: bool) -> None:
    bot = interaction.client
    services, config = bot.services, bot.config
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
                         random.Random(discussion.id * 7919 + len(answers)),
                         await services.store.latest_stances(discussion), config.debate.similarity)
    start_in_thread(bot, thread, discussion, mode, ticket, interaction.user.id)


async def stop_here(interaction: discord.Interaction[MoaiBot]) -> None:
    """Stop the discussion running in this channel, else an /ask there (the member's own first)."""
    runs = interaction.client.services.runs
    channel_id = interaction.channel_id or 0
    asks = sorted(runs.in_channel(channel_id), key=lambda r: r.info.started_by != interaction.user.id)
    run = runs.get(channel_id) or (asks[0] if asks else None)
    if run is None:
        raise UserError("Nothing is running in this channel. Use /stop inside a discussion thread "
                        "while the models are answering.")
    require_steer(run.discussion.created_by, interaction.user.id, action="stop",
                  manages_threads=interaction.permissions.manage_threads,
                  anyone=await anyone_steers(interaction.guild_id))
    await interaction.response.defer(thinking=True)
    await runs.stop(run.key)
    await interaction.followup.send(f"⏹️ Stopped by {interaction.user.display_name}. "
                                    "Partial answers are kept.", allowed_mentions=NO_MENTIONS)


def file_name(discussion: Discussion, fmt: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", discussion.question.lower())[:40].strip("-") or "discussion"
    return f"moai-{discussion.id}-{slug}.{fmt}"


async def export_file(interaction: discord.Interaction[MoaiBot], fmt: str) -> None:
    bot = interaction.client
    discussion = await bot.services.store.in_thread(interaction.channel_id, "export")
    await interaction.response.defer(thinking=True)
    text = await export(discussion, fmt)
    data = io.BytesIO(bot.redact(text).encode("utf-8"))
    file = discord.File(data, filename=file_name(discussion, fmt))
    await interaction.followup.send(f"📄 Transcript ({fmt})", file=file, allowed_mentions=NO_MENTIONS)
