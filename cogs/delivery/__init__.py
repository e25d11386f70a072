"""Delivery: how answers reach Discord at the limit of its rate limits.

Each model's answer is a `LiveMessage` edited in place as it streams; a `Lane` per rate-limit bucket makes that
bucket's calls when Discord's headers allow (creates and finished answers first-come-first-served, progress
edits in turns); a pool of webhooks per channel lets models speak under their own names; the per-thread create
budget keeps clear of Discord's hidden limit. `Screens` is the entry point the bot builds once; `ThreadDisplay`
and `InteractionDisplay` are the core's Display on Discord. Buttons are built here from custom-id templates
(`components`); the cogs answer them.
"""

from cogs.delivery.display import InteractionDisplay, Screens, ThreadDisplay
from cogs.delivery.ratelimit_headers import HeaderWatch
from cogs.delivery.send import NO_MENTIONS, reply_ephemeral, send_text, try_send

__all__ = ["NO_MENTIONS", "HeaderWatch", "InteractionDisplay", "Screens", "ThreadDisplay", "reply_ephemeral",
           "send_text", "try_send"]
