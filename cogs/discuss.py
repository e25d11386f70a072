"""/discuss (debate rounds), /continue, One more round, and the Resume button left after a restart."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import ModelConfig
from bot.errors import UserError
from bot.kinds import Depth, DiscussionMode
from bot.modes.debate import DebateSetup
from bot.policy import MAX_ROUNDS, MIN_ROUNDS
from bot.roundtable import DebateChoices, NewDiscussion, Opening
from cogs.delivery.components import ACTIONS, RESUME, resume_view
from cogs.delivery.render import member_name
from cogs.delivery.send import NO_MENTIONS
from cogs.utils.confirm import confirmed_or_asked
from cogs.utils.errors import IdButton
from cogs.utils.files import read_with_deferral
from cogs.utils.stages import ThreadStage, ThreadVenue
from cogs.utils.threads import actor_of, discussion_channel, thread_discussion
from cogs.utils.transformers import Models, Project

if TYPE_CHECKING:
    from bot.services.discussions import Discussion
    from cogs.client import MoaiBot

log = logging.getLogger(__name__)
RESTART_NOTICE = ("⚠️ moai restarted while the models were answering. Everything they had written is kept. "
                  "Press **Resume** (or use /continue) to carry on from the last complete round.")
Rounds = app_commands.Range[int, MIN_ROUNDS, MAX_ROUNDS]


async def continue_in_thread(interaction: discord.Interaction[MoaiBot], discussion_id: int, *,
                             rounds: int | None, resume_only: bool = False) -> None:
    """/continue, One more round and Resume: only in the discussion's own thread."""
    bot = interaction.client
    discussion = await bot.services.store.get(discussion_id)
    thread = interaction.channel
    if discussion is None or not isinstance(thread, discord.Thread) or discussion.thread_id != thread.id:
        raise UserError("This discussion no longer exists.")
    async def start(asked: discord.Interaction[MoaiBot], confirmed: bool) -> None:
        await bot.services.roundtable.continue_(discussion, actor_of(asked), ThreadStage(bot, thread, asked),
                                                rounds=rounds, resume_only=resume_only, confirmed=confirmed)

    await confirmed_or_asked(interaction, start)


class ResumeButton(IdButton, discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                   template=RESUME.pattern):
    """Persistent across restarts: the discussion id lives in the custom id."""

    TEMPLATE = RESUME

    async def pressed(self, interaction: discord.Interaction[MoaiBot]) -> None:
        await continue_in_thread(interaction, self.target_id, rounds=None, resume_only=True)


class MoreRoundButton(IdButton, discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                      template=ACTIONS["more"].template.pattern):
    """"One more round" under a round's status line: /continue for one round."""

    TEMPLATE = ACTIONS["more"].template

    async def pressed(self, interaction: discord.Interaction[MoaiBot]) -> None:
        await continue_in_thread(interaction, self.target_id, rounds=1)


def roles_intro(setup: DebateSetup, models: Sequence[ModelConfig]) -> str:
    if not setup.roles:
        return ""
    names = {m.alias: m.name for m in models}
    held = ", ".join(f"{names.get(alias, alias)} as {role}" for alias, role in setup.roles.items())
    return f" ({held}{', rotating each round' if setup.rotate else ''})"


def intro(opening: Opening) -> str:
    models, rounds = opening.panel.models, opening.rounds
    assert opening.setup is not None
    names = f"{len(models)} models, round 1 blind" if opening.blind else ", ".join(m.name for m in models)
    roles = "" if opening.blind else roles_intro(opening.setup, models)
    searching = ", searching the web" if opening.search else ""
    return (f"**{member_name(opening.actor.name)}** opened a {rounds}-round roundtable with "
            f"{names}{roles}{searching}:")


class Discuss(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot
        self._recovered = False

    @app_commands.command(name="discuss", description="A roundtable debate: models answer, then respond to each other")
    @app_commands.describe(topic="What the models should discuss", rounds="How many rounds",
                           models="Models to seat, comma-separated (default: the configured panel)",
                           project="Run under a project's panel, topic and system prompt",
                           roles="model=role, comma-separated, e.g. claude=devil's advocate, gpt=skeptic",
                           rotate_roles="Move each role to the next model every round",
                           depth="auto: more rounds only if round 1 leaves the models disagreeing or unsure",
                           blind="Round 1 is blind: models answer as Model A, B… until the vote reveals them",
                           search="Search the web and cite sources (default: the project's or the server's setting)",
                           file1="An image, text or code file, or PDF for the models", file2="Another file",
                           file3="Another file", file4="Another file")
    @app_commands.guild_only()
    async def discuss(self, interaction: discord.Interaction[MoaiBot], topic: str, rounds: Rounds | None = None,
                      models: Models | None = None, project: Project | None = None, roles: str | None = None,
                      rotate_roles: bool = False, depth: Literal["fixed", "auto"] | None = None,
                      blind: bool | None = None, search: bool | None = None,
                      file1: discord.Attachment | None = None,
                      file2: discord.Attachment | None = None, file3: discord.Attachment | None = None,
                      file4: discord.Attachment | None = None) -> None:
        channel = discussion_channel(interaction, "discuss", "use /continue or mention the models")
        files = await read_with_deferral(interaction, [file1, file2, file3, file4], self.bot.config.attachments)
        request = NewDiscussion(
            DiscussionMode.DISCUSS, topic, actor_of(interaction), models=models, project=project,
            channel_id=interaction.channel_id, rounds=rounds, blind=blind, files=files, search=search,
            debate=DebateChoices(roles, rotate_roles, Depth(depth) if depth else None))

        async def start(asked: discord.Interaction[MoaiBot], confirmed: bool) -> None:
            venue = ThreadVenue(asked, channel, intro)
            run = await self.bot.services.roundtable.open(replace(request, confirmed=confirmed), venue)
            discussion = run.discussion
            auto = ", depth auto" if discussion.depth == Depth.AUTO else ""
            await venue.announce(f"🧵 {len(discussion.models)} models are discussing in {{thread}} "
                                 f"({discussion.rounds_planned} rounds{auto})")

        await confirmed_or_asked(interaction, start)

    @app_commands.command(name="continue", description="Add rounds to this thread's discussion, or resume it")
    @app_commands.describe(rounds="How many more rounds (default: what an interrupted run had left, else 1)")
    @app_commands.guild_only()
    async def continue_(self, interaction: discord.Interaction[MoaiBot], rounds: Rounds | None = None) -> None:
        discussion, _ = await thread_discussion(interaction, "continue")
        await continue_in_thread(interaction, discussion.id, rounds=rounds)

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
    bot.add_dynamic_items(ResumeButton, MoreRoundButton)
    await bot.add_cog(Discuss(bot))
