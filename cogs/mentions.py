"""Plain messages in discussion threads: `@claude …` or a reply to a model asks those models; the rest are
stored as the user's turns, part of every later round's context."""

from __future__ import annotations

import logging
import re
import uuid
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.config import ModelConfig
from bot.errors import UserError
from bot.kinds import DiscussionMode
from bot.roundtable import Actor, MentionOutcome
from bot.search.asked import asks_search
from bot.services.discussions import Author
from cogs.delivery.send import NO_MENTIONS, try_send
from cogs.utils.errors import member_text
from cogs.utils.files import read_files
from cogs.utils.stages import ThreadStage

if TYPE_CHECKING:
    from bot.services.discussions import Discussion
    from cogs.client import MoaiBot

log = logging.getLogger(__name__)
SEEN_MESSAGES = 2000  # message ids remembered against the gateway's duplicates
MENTION_RE = re.compile(r"(?<![\w<@])@([A-Za-z0-9][A-Za-z0-9_.-]{0,31})")
INTENT_NOTICE = ("ℹ️ I can't read messages here, so `@model` mentions are off: the bot owner must enable the "
                 "**Message Content** intent (developer portal > Bot) and set `message_content_intent = true` in "
                 "config.toml. Slash commands (/continue, /stop) still work.")


class Mentions(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot
        self._told_about_intent: set[int] = set()
        self._seen: dict[int, None] = {}  # ids of the last messages handled, oldest first
        if not bot.intents.message_content:
            log.warning("message_content intent is off: @model mentions in threads are disabled")

    async def addressed_models(self, message: discord.Message, discussion: Discussion) -> list[ModelConfig]:
        """Models named with @alias (order kept), plus the author of a replied-to model message."""
        models, _ = self.named_models(message.content)
        config = self.bot.config
        if message.reference and message.reference.message_id:
            replied_to = message.reference.message_id
            on_screen = self.bot.screens.on_screen.get(replied_to)  # streaming: maybe not stored yet
            alias = (on_screen[1] if on_screen is not None and on_screen[0] == discussion.id
                     else await self.bot.services.store.model_of_message(discussion, replied_to))
            replied = config.models.get(alias) if alias else None
            if replied is not None and replied not in models:
                models.append(replied)
        return models

    def named_models(self, content: str) -> tuple[list[ModelConfig], list[str]]:
        """Models named with @alias, as people type them ("@claude." at the end of a sentence too), and the
        @names that are no model."""
        config = self.bot.config
        models: list[ModelConfig] = []
        unknown: list[str] = []
        for name in MENTION_RE.findall(content):
            model = config.resolve_model(name) or config.resolve_model(name.rstrip("._-"))
            if model is None:
                unknown.append(name.rstrip("._-"))
            elif model not in models:
                models.append(model)
        return models, unknown

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.webhook_id or not isinstance(message.channel, discord.Thread):
            return
        if message.id in self._seen:  # the gateway may deliver a message twice (after a resume)
            return
        self._seen[message.id] = None
        while len(self._seen) > SEEN_MESSAGES:
            self._seen.pop(next(iter(self._seen)))
        try:
            await self._handle(message, message.channel)
        except Exception as error:  # a bug must not leave the member talking to silence
            reference = uuid.uuid4().hex[:8]
            log.error("thread message %s failed (ref %s)", message.id, reference, exc_info=error)
            await self._reply(message, f"Something went wrong on my side (ref `{reference}`). Send it again in a "
                                       "moment; nothing was spent on it.")

    async def _handle(self, message: discord.Message, thread: discord.Thread) -> None:
        services = self.bot.services
        discussion = await services.store.by_thread(thread.id)
        if discussion is None or discussion.mode is DiscussionMode.ASK:
            return
        if not self.bot.intents.message_content:
            await self._explain_missing_intent(thread)
            return
        if not message.content.strip() and not message.attachments:
            return
        try:
            files = await read_files(message.attachments, self.bot.config.attachments)
        except UserError as refusal:  # nothing stored, nothing asked: the member fixes it and sends it again
            await self._reply(message, f"{member_text(refusal)} Your message was not passed on.")
            return
        await services.store.add_user_turn(discussion, Author(message.author.id, message.author.display_name),
                                           message.content, message.id, attachments=files)
        models = await self.addressed_models(message, discussion)
        if not models:
            _, unknown = self.named_models(message.content)
            if unknown:
                await self._name_the_panel(message, discussion, unknown)
            return
        roles = getattr(message.author, "roles", ())
        actor = Actor(message.author.id, message.author.display_name, message.guild.id if message.guild else None,
                      role_ids=tuple(r.id for r in roles))
        try:
            outcome = await services.roundtable.mention(discussion, actor, models, ThreadStage(self.bot, thread),
                                                        search=asks_search(message.content))
        except UserError as refusal:
            await self._reply(message, member_text(refusal) or str(refusal))
            return
        if outcome is MentionOutcome.QUEUE_FULL:
            limit = self.bot.config.defaults.mention_queue_limit
            await self._reply(message, f"{limit} questions are already waiting for the models here. Wait for "
                                       "their answers, then ask again.")

    async def _reply(self, message: discord.Message, text: str) -> None:
        try:
            await message.reply(text, mention_author=False, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("could not reply in thread %s", message.channel.id)

    async def _name_the_panel(self, message: discord.Message, discussion: Discussion, unknown: list[str]) -> None:
        """One short reply: who can be asked here (the message itself is kept as the member's turn)."""
        names = ", ".join(f"`@{n[:32]}`" for n in dict.fromkeys(unknown))
        if discussion.masked:  # naming the panel would spoil the blind vote
            await self._reply(message, f"I don't know {names}. This discussion is blind until its vote closes.")
            return
        models = [self.bot.config.models[a] for a in discussion.models if a in self.bot.config.models]
        panel = ", ".join(f"{m.name} (`@{m.alias}`)" for m in models) or "none configured"
        await self._reply(message, f"I don't know {names}. This discussion's models: {panel}.")

    async def _explain_missing_intent(self, thread: discord.Thread) -> None:
        """Once per thread, not once per process: every thread's members deserve to know."""
        if thread.id in self._told_about_intent:
            return
        self._told_about_intent.add(thread.id)
        await try_send(thread, INTENT_NOTICE)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Mentions(bot))
