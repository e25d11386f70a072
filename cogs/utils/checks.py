"""Real permission checks (default_permissions is only a hint that admins can override)."""

from __future__ import annotations

from typing import Any

import discord

from bot.errors import UserError

__all__ = ["require_manage_guild"]


def require_manage_guild(interaction: discord.Interaction[Any], what: str) -> None:
    if not interaction.permissions.manage_guild:
        raise UserError(f"{what} needs the Manage Server permission.")

