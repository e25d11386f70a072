"""One error path for everything a member triggers, commands and components alike: a mistake they can fix
gets its message (ephemeral, with the next step in Discord's words), a bug gets a reference to quote."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any, ClassVar, Self

import discord
from discord import app_commands

from bot.errors import Hint, UserError
from bot.logs import log_event
from cogs.delivery.components import Template
from cogs.delivery.send import reply_ephemeral

__all__ = ["HINTS", "Answered", "IdButton", "answer_error", "member_text"]

log = logging.getLogger(__name__)

HINTS = {  # what the core's hints say in Discord
    Hint.CONTINUE: "Use /continue for more rounds.",
    Hint.STOP: "Wait for them, or /stop first.",
    Hint.PROJECTS: "See /project list.",
    Hint.BUDGET: "An admin sets it with /budget.",
    Hint.STOP_WHERE: "Use /stop inside a discussion thread while the models are answering.",
}


def user_text(error: UserError) -> str:
    """The core's words, then its hint in Discord's."""
    text = str(error)
    return f"{text} {HINTS[error.hint]}" if error.hint is not None else text


def member_text(error: BaseException) -> str | None:
    """The member-facing text of an error, or None for a bug."""
    original = getattr(error, "original", None) or error.__cause__ or error
    if isinstance(original, UserError):
        return user_text(original)
    if isinstance(error, UserError):
        return user_text(error)
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the {', '.join(error.missing_permissions)} permission for this."
    if isinstance(error, app_commands.BotMissingPermissions):
        return f"I need the {', '.join(error.missing_permissions)} permission here."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.TransformerError | app_commands.CheckFailure):
        return str(error)
    return None


async def answer_error(interaction: discord.Interaction[Any], error: BaseException, where: str | None) -> None:
    """Tell the member what went wrong; a bug is logged with a reference they can quote."""
    message = member_text(error)
    if message is None:
        reference = uuid.uuid4().hex[:8]
        log.error("%s failed (ref %s)", where, reference, exc_info=getattr(error, "original", error))
        message = f"Something went wrong on my side (ref `{reference}`). Nothing you sent was lost."
    else:
        log_event(log, "command_refused", command=where, guild=interaction.guild_id, user=interaction.user.id,
                  reason=message[:200])
    await reply_ephemeral(interaction, message)


class Answered:
    """Mixed into a button (before `discord.ui.DynamicItem`): its `pressed` runs on a press, and any error is
    answered like a command's."""

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        raise NotImplementedError

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.pressed(interaction)
        except Exception as error:
            custom_id = getattr(self, "custom_id", "?")
            await answer_error(interaction, error, f"button {str(custom_id).rsplit(':', 1)[0]}")


class IdButton(Answered):
    """A persistent button whose custom id is `TEMPLATE` filled with the id of what it acts on (a discussion, an
    answer row). Subclass it before `discord.ui.DynamicItem[discord.ui.Button[...]]`, with that template."""

    TEMPLATE: ClassVar[Template]

    def __init__(self, target_id: int) -> None:
        button: discord.ui.Button[discord.ui.View] = discord.ui.Button(custom_id=self.TEMPLATE.custom_id(id=target_id))
        super().__init__(button)  # type: ignore[call-arg]  # DynamicItem's, next in the subclass's MRO
        self.target_id = target_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[discord.ui.View],
                             match: re.Match[str]) -> Self:
        return cls(int(match["id"]))
