"""Plain messages in discussion threads: `@claude …` or a reply to a model asks those models; the rest are
stored as the user's turns, part of every later round's context."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.config import ModelConfig
from bot.db.models import AuthorKind, Discussion, DiscussionMode, Message
from bot.errors import UserError
from bot.transcript import transcript_chars
from cogs.utils.live import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot

log = logging.getLogger(__name__)
MENTION_RE = re.compile(r"(?<![\w<@])@([A-Za-z0-9][A-Za-z0-9_.-]{0,31})")
INTENT_NOTICE = ("ℹ️ I can't read messages here, so `@model` mentions are off: the bot owner must enable the "
                 "**Message Content** intent (developer portal > Bot) and set `message_content_intent = true` in "
                 "config.toml. Slash commands (/continue, /stop) still work.")


class Mentions(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot
        self._told_about_intent = False
        if not bot.intents.message_content:
            log.warning("message_content intent is off: @model mentions in threads are disabled")

    async def addressed_models(self, message: discord.Message, discussion: Discussion) -> list[ModelConfig]:
        """Models named with @alias (order kept), plus the author of a replied-to model message."""
        models: list[ModelConfig] = []
        for name in MENTION_RE.findall(message.content):
            model = self.bot.config.resolve_model(name)
            if model is not None and model not in models:
                models.append(model)
        if message.reference and message.reference.message_id:
            replied = await self.model_of(discussion, message.reference.message_id)
            if replied is not None and replied not in models:
                models.append(replied)
        return models

    async def model_of(self, discussion: Discussion, discord_message_id: int) -> ModelConfig | None:
        rows = await Message.filter(discussion=discussion, author_kind=AuthorKind.MODEL).only(
            "id", "model_alias", "discord_message_ids")
        for row in rows:
            if discord_message_id in row.discord_message_ids and row.model_alias in self.bot.config.models:
                return self.bot.config.models[row.model_alias]
        return None

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.webhook_id or not isinstance(message.channel, discord.Thread):
            return
        discussion = await Discussion.get_or_none(thread_id=message.channel.id)
        if discussion is None or discussion.mode is DiscussionMode.ASK:
            return
        if not self.bot.intents.message_content:
            await self._explain_missing_intent(message.channel)
            return
        if not message.content.strip():
            return
        orchestrator = self.bot.orchestrator
        await orchestrator.add_user_turn(discussion, message.author, message.content, message.id)
        models = await self.addressed_models(message, discussion)
        if not models:
            return
        thread = message.channel
        try:
            chars = await transcript_chars(discussion)
            hold = await orchestrator.admit(message.guild.id if message.guild else None, message.author.id, models,
                                            chars)
        except UserError as refusal:
            await message.reply(str(refusal), mention_author=False, allowed_mentions=NO_MENTIONS)
            return
        user = message.author.display_name
        orchestrator.start(thread.id, lambda: orchestrator.run_mention(discussion, thread, models, user),
                           report_to=thread, hold=hold)

    async def _explain_missing_intent(self, thread: discord.Thread) -> None:
        if self._told_about_intent:
            return
        self._told_about_intent = True
        try:
            await thread.send(INTENT_NOTICE, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            pass


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Mentions(bot))
