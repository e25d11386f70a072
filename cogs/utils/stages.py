"""Where the roundtable's runs play on Discord (its Stage and Venue): a discussion thread, or the reply to /ask."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.engine.display import Display
from bot.errors import UserError
from bot.logs import log_event
from bot.roundtable import Accepted, ConsensusAsked, Continued, Opening, Stage, Stopping
from bot.services.discussions import Place
from cogs.delivery.render import crash_text, member_name, thread_title
from cogs.delivery.send import NO_MENTIONS, reply_ephemeral, send_text, try_send
from cogs.utils.files import file_note
from cogs.utils.threads import THREAD_ARCHIVE_MINUTES, delete_quietly, refusal_text

if TYPE_CHECKING:
    from cogs.client import MoaiBot

__all__ = ["AskVenue", "ThreadStage", "ThreadVenue", "accepted_text"]

log = logging.getLogger(__name__)


def accepted_text(event: Accepted, who: str) -> str:
    match event:
        case Continued(rounds):
            return f"▶️ {who} continued the discussion: {rounds} more round(s)."
        case ConsensusAsked(peer_review):
            return f"🧭 {who} asked for a consensus" + (" with peer review" if peer_review else "") + "."
        case Stopping():
            return ""


class ThreadStage:
    """A discussion thread: models speak through the parent channel's webhooks (embeds without them).

    When Discord says the thread was deleted, archived or locked, its run stops: nobody can see the answers."""

    def __init__(self, bot: MoaiBot, thread: discord.Thread, interaction: discord.Interaction[Any] | None = None,
                 place: Place | None = None) -> None:
        self.bot = bot
        self.thread = thread
        self.interaction = interaction  # the command or button that asked, if any: told when it is accepted
        self.key = thread.id
        self.place = place or Place(thread.guild.id, thread.guild.name, thread.parent_id, thread.id)

    @property
    def channel_id(self) -> int | None:
        return self.thread.id

    def display(self) -> Display:
        return self.bot.screens.thread(self.thread, self._gone)

    def _gone(self) -> None:
        run = self.bot.services.runs.get(self.thread.id)
        if run is not None and run.cancel():
            log_event(log, "run_stopped", discussion=run.discussion.id, thread=self.thread.id, reason="thread gone")

    async def accepted(self, event: Accepted) -> None:
        interaction = self.interaction
        if interaction is None:
            return
        if isinstance(event, Stopping):
            await interaction.response.defer(thinking=True)
            return
        await interaction.response.send_message(accepted_text(event, member_name(interaction.user.display_name)),
                                                allowed_mentions=NO_MENTIONS)

    async def crashed(self, error: BaseException) -> None:
        await try_send(self.thread, crash_text(error))


class ThreadVenue:
    """A new discussion's thread off a text channel, with the question posted in it as `intro` words it."""

    def __init__(self, interaction: discord.Interaction[MoaiBot], channel: discord.TextChannel,
                 intro: Callable[[Opening], str]) -> None:
        self.interaction = interaction
        self.channel = channel
        self.intro = intro
        self.thread: discord.Thread | None = None

    async def open(self, opening: Opening) -> Stage:
        interaction = self.interaction
        if not interaction.response.is_done():  # reading attached files may have deferred it already
            await interaction.response.defer(thinking=True)
        try:
            thread = await self.channel.create_thread(
                name=thread_title(opening.question), type=discord.ChannelType.public_thread,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                reason=f"moai /{opening.mode.value} by {interaction.user.id}")
        except discord.HTTPException as error:
            raise UserError(refusal_text(error, "create a thread here")) from None
        try:
            await send_text(thread, f"{self.intro(opening)}\n>>> {opening.question}{file_note(opening.files)}")
        except discord.HTTPException as error:  # nothing is stored and nothing was spent: leave no empty thread
            await delete_quietly(thread)
            raise UserError(refusal_text(error, "post your question in the thread")) from None
        self.thread = thread
        assert interaction.guild is not None
        place = Place(interaction.guild.id, interaction.guild.name, self.channel.id, thread.id)
        return ThreadStage(interaction.client, thread, place=place)

    async def abandon(self, stage: Stage) -> None:
        if self.thread is not None:
            await delete_quietly(self.thread)

    async def announce(self, text: str) -> None:
        """The reply to the command, once the run has started; "{thread}" in it becomes the thread's mention."""
        assert self.thread is not None
        try:
            await self.interaction.followup.send(text.format(thread=self.thread.mention), allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as error:  # the run has started in the thread; only the pointer to it is lost
            log.warning("could not announce the thread %s: %s", self.thread.id, error.status)


class AskVenue:
    """/ask: the answer streams into the command's own reply; it is its own stage."""

    def __init__(self, interaction: discord.Interaction[MoaiBot]) -> None:
        assert interaction.guild is not None
        self.interaction = interaction
        self.key = interaction.id
        self.place = Place(interaction.guild.id, interaction.guild.name, interaction.channel_id)

    @property
    def channel_id(self) -> int | None:
        return self.interaction.channel_id

    async def open(self, opening: Opening) -> Stage:
        if not self.interaction.response.is_done():
            await self.interaction.response.defer(thinking=True)
        return self

    async def abandon(self, stage: Stage) -> None:
        pass  # nothing was made: the reply says what went wrong

    def display(self) -> Display:
        return self.interaction.client.screens.interaction(self.interaction)

    async def accepted(self, event: Accepted) -> None:
        pass

    async def crashed(self, error: BaseException) -> None:
        await reply_ephemeral(self.interaction, crash_text(error))
