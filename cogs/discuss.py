"""/discuss (debate rounds), /continue, and the Resume button left after a restart."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import AppConfig, ModelConfig
from bot.errors import UserError
from bot.kinds import DiscussionMode
from bot.modes.debate import DebateMode, DebateSetup
from bot.panel import Panel, clean_question, resolve_panel
from bot.policy import check_rounds
from bot.roles import parse_roles
from cogs.utils.actions import continue_discussion
from cogs.utils.files import files_chars, read_with_deferral
from cogs.utils.round_buttons import RoundActionButton
from cogs.utils.send import NO_MENTIONS, reply_ephemeral
from cogs.utils.threads import begin_thread_discussion, discussion_channel, is_blind
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
        try:
            await continue_discussion(interaction, self.discussion_id, rounds=None, from_button=True)
        except UserError as error:
            await reply_ephemeral(interaction, str(error))


def resume_view(discussion_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ResumeButton(discussion_id))
    return view


def debate_setup_for(config: AppConfig, panel: Panel, roles: str | None, rotate: bool,
                     depth: str | None) -> DebateSetup:
    """The debate's roles and depth: the command's options, else the project's defaults."""
    aliases = [m.alias for m in panel.models]
    names = {n.lower(): m.alias for m in panel.models for n in (m.alias, m.name, *m.aliases)}
    if roles is not None:
        chosen = parse_roles(roles, aliases, config.debate.roles, names)
    else:
        stored = panel.project.roles if panel.project else {}
        chosen = {alias: role for alias, role in stored.items() if alias in aliases}
    if rotate and not chosen:
        chosen = {aliases[0]: "devil's advocate"}  # rotating with no roles given: the built-in one goes round
    return DebateSetup(config.debate, chosen, rotate, depth or (panel.project.depth if panel.project else "fixed"))


def roles_intro(setup: DebateSetup, models: Sequence[ModelConfig]) -> str:
    if not setup.roles:
        return ""
    names = {m.alias: m.name for m in models}
    held = ", ".join(f"{names.get(alias, alias)} as {role}" for alias, role in setup.roles.items())
    return f" ({held}{', rotating each round' if setup.rotate else ''})"


class Discuss(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot
        self._recovered = False

    @app_commands.command(name="discuss", description="A roundtable debate: models answer, then respond to each other")
    @app_commands.describe(topic="What the models should discuss", rounds="How many rounds (1-10)",
                           models="Models to seat, comma-separated (default: the configured panel)",
                           project="Run under a project's panel, topic and system prompt",
                           roles="model=role, comma-separated, e.g. claude=devil's advocate, gpt=skeptic",
                           rotate_roles="Move each role to the next model every round",
                           depth="auto: more rounds only if round 1 leaves the models disagreeing or unsure",
                           blind="Round 1 is blind: models answer as Model A, B… until the vote reveals them",
                           file1="An image, text or code file, or PDF for the models", file2="Another file",
                           file3="Another file", file4="Another file")
    @app_commands.guild_only()
    async def discuss(self, interaction: discord.Interaction[MoaiBot], topic: str, rounds: int | None = None,
                      models: Models | None = None, project: Project | None = None, roles: str | None = None,
                      rotate_roles: bool = False, depth: Literal["fixed", "auto"] | None = None,
                      blind: bool | None = None, file1: discord.Attachment | None = None,
                      file2: discord.Attachment | None = None, file3: discord.Attachment | None = None,
                      file4: discord.Attachment | None = None) -> None:
        config = self.bot.config
        topic = clean_question(topic, config)
        panel = await resolve_panel(config, interaction.guild_id, models, project, interaction.channel_id)
        default_rounds = (panel.project.default_rounds if panel.project else None) or config.defaults.rounds
        rounds = check_rounds(rounds if rounds is not None else default_rounds)
        setup = debate_setup_for(config, panel, roles, rotate_roles, depth)
        channel = discussion_channel(interaction, "discuss", "use /continue or mention the models")
        files = await read_with_deferral(interaction, [file1, file2, file3, file4], config.attachments)
        ticket = await self.bot.services.admission.admit(interaction.guild_id, interaction.user.id, panel.models,
                                                         len(topic) + files_chars(files), rounds)
        blind = is_blind(blind, panel)
        async with ticket.refunded_on_error():
            names = f"{len(panel.models)} models, round 1 blind" if blind else ", ".join(m.name for m in panel.models)
            await begin_thread_discussion(
                interaction, channel, mode=DiscussionMode.DISCUSS, question=topic, panel=panel, rounds=rounds,
                play=DebateMode(panel.models, rounds, setup),
                intro=f"**{interaction.user.display_name}** opened a {rounds}-round roundtable with {names}"
                      f"{'' if blind else roles_intro(setup, panel.models)}:",
                announce=f"🧵 {len(panel.models)} models are discussing in {{thread}} ({rounds} rounds"
                         f"{', depth auto' if setup.depth == 'auto' else ''})",
                ticket=ticket, debate=setup, blind=blind, files=files)

    @app_commands.command(name="continue", description="Add rounds to this thread's discussion, or resume it")
    @app_commands.describe(rounds="How many more rounds (1-10; default: what an interrupted run had left, else 1)")
    @app_commands.guild_only()
    async def continue_(self, interaction: discord.Interaction[MoaiBot], rounds: int | None = None) -> None:
        discussion = await self.bot.services.store.in_thread(interaction.channel_id, "continue")
        await continue_discussion(interaction, discussion.id, rounds=rounds)

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
    bot.add_dynamic_items(ResumeButton, RoundActionButton)
    await bot.add_cog(Discuss(bot))
