"""One webhook per parent channel, reused for every model (Discord allows 15 per channel)."""

from __future__ import annotations

import logging

import discord

log = logging.getLogger(__name__)


class WebhookCache:
    def __init__(self, name: str) -> None:
        self.name = name
        self._hooks: dict[int, discord.Webhook] = {}

    async def for_channel(self, channel: discord.TextChannel) -> discord.Webhook | None:
        """The channel's moai webhook, created on first use; None without Manage Webhooks."""
        if channel.id in self._hooks:
            return self._hooks[channel.id]
        me = channel.guild.me
        if me is None or not channel.permissions_for(me).manage_webhooks:
            return None
        try:
            hooks = await channel.webhooks()
            hook = next((h for h in hooks if h.name == self.name and h.token and h.user and h.user.id == me.id),
                        None)
            if hook is None:
                hook = await channel.create_webhook(name=self.name, reason="moai: models speak under their names")
        except discord.Forbidden:
            return None
        except discord.HTTPException as error:
            log.warning("webhook setup failed in channel %s: %s", channel.id, error.status)
            return None
        self._hooks[channel.id] = hook
        return hook

    def forget(self, channel_id: int) -> None:
        self._hooks.pop(channel_id, None)
