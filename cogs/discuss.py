"""/discuss (debate rounds), /continue, and the Resume button left after a restart."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import ModelConfig
from bot.engine.transcript import transcript_chars
from bot.errors import UserError
from bot.kinds import DiscussionMode, DiscussionStatus
from bot.modes import continuation
from bot.modes.debate import DebateMode
from bot.panel import clean_question, parse_models, resolve_panel
from bot.policy import check_rounds, require_steer
from bot.services.budget import anyone_steers
from cogs.utils.send import NO_MENTIONS, reply_ephemeral
from cogs.utils.threads import STILL_ANSWERING, begin_thread_discussion, discussion_channel, start_in_thread
from cogs.utils.transformers import Models, Project

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot
    from bot.services.discussions import Discussion

log = logging.getLogger(__name__)
RESTART_NOTICE = ("⚠️ moai restarted while the models were answering. Everything they had written is kept. "
                  "Press **Resume** (or use /continue) to carry on from the last complete round.")


class ResumeButton(discord.ui.DynamicItem[discord.ui.Button["discord.ui.View"]],
                   template=r"moai:resume:(?P<id>[0-9]+)"):
    """Persistent across restarts: the discussion id lives in the custom id."""

    def __init__(self, discussion_id: int) -> None:
        super().__init__(discord.ui.Button(label="Resume", emoji="▶️", style=discord.ButtonStyle.primary,
                                           custom_id=f"moai:resume:{discussion_id}"))
        self.discussion_id = discussion_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[MoaiBot],  # type: ignore[override]
                             item: discord.ui.Item[discord.ui.View], match: re.Match[str]) -> ResumeButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction[MoaiBot]) -> None:  # type: ignore[override]
        cog = interaction.client.get_cog(Discuss.__cog_name__)
        assert isinstance(cog, Discuss)
        try:
            await cog.resume(interaction, self.discussion_id, rounds=None, from_button=True)
        except UserError as error:
            await reply_ephemeral(interaction, str(error))


def resume_view(discussion_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ResumeButton(discussion_id))
    return view


class Discuss(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot
        self._recovered = False

    @app_commands.command(name="discuss", description="A roundtable debate: models answer, then respond to each other")
    @app_commands.describe(topic="What the models should discuss", rounds="How many rounds (1-10)",
                           models="Models to seat, comma-separated (default: the configured panel)",
                           project="Run under a project's panel, topic and system prompt")
    @app_commands.guild_only()
    async def discuss(self, interaction: discord.Interaction[MoaiBot], topic: str, rounds: int | None = None,
                      models: Models | None = None, project: Project | None = None) -> None:
        config = self.bot.config
        topic = clean_question(topic, config)
        panel = await resolve_panel(config, interaction.guild_id, models, project, interaction.channel_id)
        default_rounds = (panel.project.default_rounds if panel.project else None) or config.defaults.rounds
        rounds = check_rounds(rounds if rounds is not None else default_rounds)
        channel = discussion_channel(interaction, "discuss", "use /continue or mention the models")
        ticket = await self.bot.services.admission.admit(interaction.guild_id, interaction.user.id, panel.models,
                                                         len(topic), rounds)
        async with ticket.refunded_on_error():
            names = ", ".join(m.name for m in panel.models)
            await begin_thread_discussion(
                interaction, channel, mode=DiscussionMode.DISCUSS, question=topic, panel=panel, rounds=rounds,
                play=DebateMode(panel.models, rounds),
                intro=f"**{interaction.user.display_name}** opened a {rounds}-round roundtable with {names}:",
                announce=f"🧵 {len(panel.models)} models are discussing in {{thread}} ({rounds} rounds)",
                ticket=ticket)

    @app_commands.command(name="continue", description="Add rounds to this thread's discussion, or resume it")
    @app_commands.describe(rounds="How many more rounds (1-10; default: what an interrupted run had left, else 1)")
    @app_commands.guild_only()
    async def continue_(self, interaction: discord.Interaction[MoaiBot], rounds: int | None = None) -> None:
        discussion = await self.bot.services.store.in_thread(interaction.channel_id, "continue")
        await self.resume(interaction, discussion.id, rounds=rounds)

    async def resume(self, interaction: discord.Interaction[MoaiBot], discussion_id: int, *,
                     rounds: int | None, from_button: bool = False) -> None:
        """/continue, or the Resume button (which only resumes an interrupted discussion, once)."""
        services = self.bot.services
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
        panel = self.panel_of(discussion)
        done = await services.store.completed_rounds(discussion)
        if rounds is None:
            left = discussion.rounds_planned - done
            rounds = left if discussion.status is DiscussionStatus.INTERRUPTED and left > 0 else 1
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
        start_in_thread(self.bot, thread, discussion, continuation(discussion, panel, rounds, done), ticket,
                        interaction.user.id)

    def panel_of(self, discussion: Discussion) -> list[ModelConfig]:
        known = [alias for alias in discussion.models if alias in self.bot.config.models]
        if not known:
            raise UserError("None of this discussion's models are configured any more.")
        return parse_models(self.bot.config, " ".join(known))

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Once per process: discussions cut off by a restart get a notice and a Resume button."""
        if self._recovered:
            return
        self._recovered = True
        await self.recover([g.id for g in self.bot.guilds])

    async def recover(self, guild_ids: list[int]) -> list[Discussion]:
        await self.bot.services.recovery.release_holds(guild_ids)
        stale = await self.bot.services.recovery.mark_interrupted(guild_ids)
        for discussion in stale:
            thread = self.bot.get_channel(discussion.thread_id) if discussion.thread_id else None
            if not isinstance(thread, discord.Thread):
                continue
            try:
                await thread.send(RESTART_NOTICE, view=resume_view(discussion.id), allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as error:
                log.warning("could not post the resume notice in thread %s: %s", thread.id, error.status)
        return stale


async def setup(bot: MoaiBot) -> None:
    bot.add_dynamic_items(ResumeButton)
    await bot.add_cog(Discuss(bot))
