"""Where a model's answer appears on Discord: a webhook message under its own name, the bot's embed, or the
reply to /ask. Each poster names the rate-limit bucket its calls count against."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from cogs.delivery.pacing import Where
from cogs.delivery.ratelimit_headers import channel_key, webhook_key
from cogs.delivery.send import NO_MENTIONS
from cogs.delivery.split import DISCORD_LIMIT

__all__ = [
    "THREAD_CLOSED",
    "UNKNOWN_CHANNEL",
    "UNKNOWN_MESSAGE",
    "UNKNOWN_WEBHOOK",
    "Chunk",
    "EmbedPoster",
    "InteractionPoster",
    "Poster",
    "WebhookPoster",
    "thread_gone"
]

UNKNOWN_WEBHOOK = 10015  # Discord's error code once the webhook was deleted
UNKNOWN_MESSAGE = 10008
UNKNOWN_CHANNEL = 10003  # the thread was deleted
THREAD_CLOSED = {50083, 160005}  # "Operation on an archived thread", "Thread is locked"


@dataclass(frozen=True)
class Chunk:
    """One Discord message's worth of an answer: message content, or an embed's description."""

    text: str
    embed: bool = False


class Poster(Protocol):
    """Where one model's answer appears: a webhook message, a bot embed, or an interaction response."""

    limit: int
    key: str  # the rate-limit bucket its calls count against
    creates_in: Where | None  # webhook messages in a thread count against the hidden create limit
    embeds: bool  # can hold an answer in an embed (EMBED_LIMIT characters) instead of content

    async def send(self, chunk: Chunk) -> int: ...

    async def edit(self, message_id: int, chunk: Chunk) -> None: ...

    async def remove(self, message_id: int) -> None: ...

def thread_gone(error: discord.HTTPException) -> bool:
    """404 Unknown Channel (deleted), or refused because a moderator archived or locked the thread."""
    return (isinstance(error, discord.NotFound) and error.code == UNKNOWN_CHANNEL) or error.code in THREAD_CLOSED


class WebhookPoster:
    """The model speaks under its own name and avatar through one of the channel's webhooks."""

    limit = DISCORD_LIMIT
    embeds = True

    def __init__(self, webhook: discord.Webhook, thread: discord.abc.Snowflake, username: str,
                 avatar_url: str | None, on_gone: Callable[[], None] = lambda: None, *,
                 parent_id: int | None = None) -> None:
        self.webhook, self.thread, self.username, self.avatar_url = webhook, thread, username, avatar_url
        self.on_gone = on_gone
        self.key = webhook_key(webhook.id, webhook.token or "")
        self.creates_in: Where | None = Where(thread.id, parent_id or webhook.channel_id or thread.id)

    @staticmethod
    def _body(chunk: Chunk) -> dict[str, Any]:
        if chunk.embed:
            return {"content": "", "embed": discord.Embed(description=chunk.text)}
        return {"content": chunk.text, "embeds": []}

    async def send(self, chunk: Chunk) -> int:
        body = self._body(chunk)
        if not chunk.embed:
            body.pop("embeds")
        try:
            message = await self.webhook.send(username=self.username[:80], avatar_url=self.avatar_url,
                                              thread=self.thread, wait=True, allowed_mentions=NO_MENTIONS, **body)
        except discord.NotFound as error:
            self._check_gone(error)
            raise
        return message.id

    async def edit(self, message_id: int, chunk: Chunk) -> None:
        try:
            await self.webhook.edit_message(message_id, thread=self.thread, allowed_mentions=NO_MENTIONS,
                                            **self._body(chunk))
        except discord.NotFound as error:
            self._check_gone(error)
            raise

    async def remove(self, message_id: int) -> None:
        try:
            await self.webhook.delete_message(message_id, thread=self.thread)
        except discord.NotFound as error:
            self._check_gone(error)
            if error.code != UNKNOWN_MESSAGE:  # already gone is what was wanted
                raise

    def _check_gone(self, error: discord.NotFound) -> None:
        if error.code == UNKNOWN_WEBHOOK:
            self.on_gone()


class EmbedPoster:
    """Fallback without Manage Webhooks: the bot posts, the model's name and avatar go in the embed."""

    limit = 4000
    embeds = False  # always an embed already

    def __init__(self, channel: discord.abc.Messageable, name: str, avatar_url: str | None) -> None:
        self.channel, self.name, self.avatar_url = channel, name, avatar_url
        self._messages: dict[int, discord.Message] = {}
        channel_id = getattr(channel, "id", 0)
        self.key = channel_key(channel_id)
        self.creates_in: Where | None = None  # bot messages: only the channel's bucket applies

    def _embed(self, content: str) -> discord.Embed:
        return discord.Embed(description=content).set_author(name=self.name, icon_url=self.avatar_url)

    async def send(self, chunk: Chunk) -> int:
        message = await self.channel.send(embed=self._embed(chunk.text), allowed_mentions=NO_MENTIONS)
        self._messages[message.id] = message
        return message.id

    async def edit(self, message_id: int, chunk: Chunk) -> None:
        await self._messages[message_id].edit(embed=self._embed(chunk.text), allowed_mentions=NO_MENTIONS)

    async def remove(self, message_id: int) -> None:
        await self._messages.pop(message_id).delete(delay=None)


class InteractionPoster:
    """/ask answers in place: the deferred response first, follow-ups for the overflow."""

    limit = DISCORD_LIMIT
    embeds = False

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction
        self._original_id: int | None = None
        self.key = webhook_key(interaction.application_id, interaction.token)
        self.creates_in: Where | None = None

    async def send(self, chunk: Chunk) -> int:
        if self._original_id is None:
            message = await self.interaction.edit_original_response(content=chunk.text,
                                                                    allowed_mentions=NO_MENTIONS)
            self._original_id = message.id
            return message.id
        followup = await self.interaction.followup.send(chunk.text, wait=True, allowed_mentions=NO_MENTIONS)
        return followup.id

    async def edit(self, message_id: int, chunk: Chunk) -> None:
        if message_id == self._original_id:
            await self.interaction.edit_original_response(content=chunk.text, allowed_mentions=NO_MENTIONS)
        else:
            await self.interaction.followup.edit_message(message_id, content=chunk.text,
                                                         allowed_mentions=NO_MENTIONS)

    async def remove(self, message_id: int) -> None:
        await self.interaction.followup.delete_message(message_id)  # never the original: it is the first
