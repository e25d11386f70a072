"""/help: every command with one line, read from the command tree so it never goes stale."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.delivery.send import NO_MENTIONS

if TYPE_CHECKING:
    from cogs.client import MoaiBot


AnyCommand = app_commands.Command[Any, ..., Any]


def walk(commands_: Sequence[AnyCommand | app_commands.Group | app_commands.ContextMenu]) -> Iterator[AnyCommand]:
    for command in commands_:
        if isinstance(command, app_commands.Group):
            yield from walk(command.commands)
        elif isinstance(command, app_commands.Command):
            yield command


def help_text(tree: app_commands.CommandTree[Any]) -> str:
    lines = ["**moai** — multi-model roundtables. In a discussion thread, `@model` mentions ask models directly."]
    for command in sorted(walk(tree.get_commands()), key=lambda c: c.qualified_name):
        lines.append(f"`/{command.qualified_name}` — {command.description}")
    return "\n".join(lines)


class Help(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="List every moai command")
    async def help(self, interaction: discord.Interaction[MoaiBot]) -> None:
        await interaction.response.send_message(help_text(self.bot.tree), ephemeral=True,
                                                allowed_mentions=NO_MENTIONS)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Help(bot))
