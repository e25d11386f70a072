"""Discussion threads: where a new one may start, starting it, and finding the one a command was used in."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import discord

from bot.attachments import Attachment
from bot.errors import UserError
from bot.kinds import DiscussionMode
from bot.logs import log_event
from bot.modes.base import Mode
from bot.modes.debate import DebateSetup
from bot.panel import Panel
from bot.services.admission import Ticket
from bot.services.discussions import Author, Place
from bot.services.runs import Run, RunInfo
from cogs.utils.files import file_note
from cogs.utils.render import crash_text, thread_title
from cogs.utils.send import NO_MENTIONS, send_text, try_send

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot
    from bot.services.discussions import Discussion

log = logging.getLogger(__name__)
THREAD_ARCHIVE_MINUTES: Final = 1440
AUTOMOD_CODES = {200000, 200001}  # message, or thread title, blocked by AutoMod
STILL_ANSWERING = "The models are still answering here. Wait for them, or /stop first."


def author_of(user: discord.abc.User) -> Author:
    return Author(user.id, user.display_name)


def require_thread_permissions(channel: discord.TextChannel) -> None:
    permissions = channel.permissions_for(channel.guild.me)
    missing = [name for name, ok in (("Create Public Threads", permissions.create_public_threads),
                                     ("Send Messages in Threads", permissions.send_messages_in_threads))
               if not ok]
    if missing:
        raise UserError(f"I can't start a discussion here: I'm missing {' and '.join(missing)} in "
                        f"{channel.mention}. Ask an admin to grant it, or use another channel.")


def discussion_channel(interaction: discord.Interaction[MoaiBot], command: str,
                       inside_hint: str) -> discord.TextChannel:
    """The text channel a new discussion thread will hang off, or a UserError saying where to go instead."""
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        raise UserError(f"Use /{command} in a text channel: it starts its own thread. "
                        f"Inside a discussion thread, {inside_hint}.")
    if not isinstance(channel, discord.TextChannel):
        raise UserError(f"/{command} works in server text channels.")
    require_thread_permissions(channel)
    return channel


async def thread_discussion(interaction: discord.Interaction[MoaiBot], command: str, *,
                            idle: bool = False) -> tuple[Discussion, discord.Thread]:
    """The discussion of the thread the command was used in; with `idle`, only while no models answer there."""
    thread = interaction.channel
    discussion = await interaction.client.services.store.in_thread(interaction.channel_id, command)
    if not isinstance(thread, discord.Thread):
        raise UserError(f"Use /{command} inside a discussion thread started with /open or /discuss.")
    if idle and interaction.client.services.runs.is_running(thread.id):
        raise UserError(STILL_ANSWERING)
    return discussion, thread


def start_in_thread(bot: MoaiBot, thread: discord.Thread, discussion: Discussion, mode: Mode, ticket: Ticket,
                    started_by: int) -> Run:
    """Play the mode in the thread in the background; an internal error is reported in the thread."""
    async def report(error: BaseException) -> None:
        await try_send(thread, crash_text(error))

    def gone() -> None:  # deleted, archived or locked under us: stop paying for answers nobody can see
        run = bot.services.runs.get(thread.id)
        if run is not None and run.cancel():
            log_event(log, "run_stopped", discussion=discussion.id, thread=thread.id, reason="thread gone")

    info = RunInfo(mode.name, thread.guild.id, started_by, thread.id)
    return bot.services.orchestrator.start(thread.id, discussion, mode, bot.screens.thread(thread, gone),
                                           ticket=ticket, info=info, on_crash=report)


async def begin_thread_discussion(interaction: discord.Interaction[MoaiBot], channel: discord.TextChannel, *,
                                  mode: DiscussionMode, question: str, panel: Panel, rounds: int, play: Mode,
                                  intro: str, announce: str, ticket: Ticket, debate: DebateSetup | None = None,
                                  blind: bool = False, files: Sequence[Attachment] = ()) -> None:
    """Thread, stored discussion, the question posted in the thread, then the rounds in the background.

    `announce` is the reply to the command; "{thread}" in it becomes the thread's mention.
    """
    bot = interaction.client
    if not interaction.response.is_done():  # reading attached files may have deferred it already
        await interaction.response.defer(thinking=True)
    try:
        thread = await channel.create_thread(name=thread_title(question), type=discord.ChannelType.public_thread,
                                             auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                                             reason=f"moai /{mode.value} by {interaction.user.id}")
    except discord.HTTPException as error:
        raise UserError(refusal_text(error, "create a thread here")) from None
    try:
        await send_text(thread, f"{intro}\n>>> {question}{file_note(files)}")
    except discord.HTTPException as error:  # nothing is stored and nothing was spent: leave no empty thread
        await delete_quietly(thread)
        raise UserError(refusal_text(error, "post your question in the thread")) from None
    assert interaction.guild is not None
    place = Place(interaction.guild.id, interaction.guild.name, channel.id, thread.id)
    discussion = await bot.services.store.create(mode=mode, question=question, panel=panel,
                                                 author=author_of(interaction.user), place=place,
                                                 rounds_planned=rounds, roles=debate.roles if debate else None,
                                                 rotate_roles=debate.rotate if debate else False,
                                                 depth=debate.depth if debate else "fixed", blind=blind,
                                                 attachments=files)
    start_in_thread(bot, thread, discussion, play, ticket, interaction.user.id)
    try:
        await interaction.followup.send(announce.format(thread=thread.mention), allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as error:  # the run has started in the thread; only the pointer to it is lost
        log.warning("could not announce the thread %s: %s", thread.id, error.status)


def is_blind(asked: bool | None, panel: Panel) -> bool:
    """The member's choice, else the project's default; a blind round needs two models to compare."""
    blind = asked if asked is not None else bool(panel.project and panel.project.blind)
    if blind and len(panel.models) < 2:
        raise UserError("A blind round needs at least two models to compare.")
    return blind


def refusal_text(error: discord.HTTPException, doing: str) -> str:
    """Why Discord said no, in words a member can act on (AutoMod blocks named as such)."""
    if error.code in AUTOMOD_CODES:
        return f"Discord's AutoMod in this server blocked me when I tried to {doing}. Rephrase and try again."
    if isinstance(error, discord.Forbidden):
        return f"Discord refused to let me {doing} (missing permission)."
    return f"Discord would not let me {doing} right now (HTTP {error.status}). Nothing was spent; try again."


async def delete_quietly(thread: discord.Thread) -> None:
    try:
        await thread.delete(reason="moai: the discussion could not start")
    except discord.HTTPException:
        log.warning("could not delete the empty thread %s", thread.id)
