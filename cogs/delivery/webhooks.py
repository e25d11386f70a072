"""moai's webhooks per parent channel: a small pool reused for every model and thread of the channel.

Discord limits calls per webhook (5 per 2 s), so one webhook for a busy channel makes every model and every
thread queue behind each other. The pool grows with demand up to `size` (Discord allows 15 per channel,
shared with other integrations) and is found again after a restart by name and owner.
"""

from __future__ import annotations

import asyncio
import logging

import discord

from cogs.delivery.ratelimit_headers import webhook_key

__all__ = ["MAX_WEBHOOKS", "WebhookCache"]

log = logging.getLogger(__name__)
MAX_WEBHOOKS = 30007  # Discord's error code: the channel already has 15 webhooks


class WebhookCache:
    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self._hooks: dict[int, list[discord.Webhook]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._full: set[int] = set()  # channels where Discord refused another webhook

    def keys(self, channel_id: int) -> list[str]:
        """The rate-limit buckets of the channel's webhooks known so far."""
        return [webhook_key(h.id, h.token or "") for h in self._hooks.get(channel_id, [])]

    async def for_channel(self, channel: discord.TextChannel, want: int = 1) -> list[discord.Webhook]:
        """At least one and up to `want` (capped by `size`) of the channel's moai webhooks, made as needed;
        none without Manage Webhooks."""
        want = max(1, min(want, self.size))
        known = self._hooks.get(channel.id)
        if known and (len(known) >= want or channel.id in self._full):
            return known
        me = channel.guild.me
        if me is None or not channel.permissions_for(me).manage_webhooks:
            return []
        async with self._locks.setdefault(channel.id, asyncio.Lock()):
            hooks = self._hooks.get(channel.id)
            try:
                if hooks is None:
                    hooks = [h for h in await channel.webhooks()
                             if h.name == self.name and h.token and h.user and h.user.id == me.id]
                    self._hooks[channel.id] = hooks
                while len(hooks) < want and channel.id not in self._full:
                    hooks.append(await channel.create_webhook(name=self.name,
                                                              reason="moai: models speak under their names"))
            except discord.Forbidden:
                pass
            except discord.HTTPException as error:
                if error.code == MAX_WEBHOOKS:
                    self._full.add(channel.id)  # use the ones we have
                else:
                    log.warning("webhook setup failed in channel %s: %s", channel.id, error.status)
            return list(hooks or [])

    def forget(self, channel_id: int) -> None:
        self._hooks.pop(channel_id, None)
        self._full.discard(channel_id)
