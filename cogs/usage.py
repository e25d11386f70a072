"""/usage (tokens and estimated cost this month) and /budget (a guild's monthly limit)."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.charts import chart_palette, month_chart
from bot.errors import UserError
from bot.services.arena import unrevealed_discussions
from bot.services.budget import guild_budget, set_anyone_steers, set_guild_budget
from bot.services.ledger import month_total, usage_report
from cogs.delivery.send import NO_MENTIONS
from cogs.utils.checks import require_manage_guild

if TYPE_CHECKING:
    from cogs.client import MoaiBot


class Usage(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="usage", description="Tokens and estimated cost this month, for the server or a member")
    @app_commands.describe(member="Only runs this member started")
    @app_commands.guild_only()
    async def usage(self, interaction: discord.Interaction[MoaiBot], member: discord.Member | None = None) -> None:
        assert interaction.guild_id is not None
        report = await usage_report(interaction.guild_id, member.id if member else None,
                                    blind=await unrevealed_discussions(interaction.guild_id))
        whose = member.display_name if member else "this server"
        lines = [f"**Usage for {whose} since {report.since:%Y-%m-%d}**"]
        for line in sorted(report.lines.values(), key=lambda item: item.cost, reverse=True):
            tokens = (f" · {line.input_tokens:,} in / {line.output_tokens:,} out tokens"
                      if line.messages else "")
            lines.append(f"• {line.name}: {line.counted}{tokens} · ${line.cost:.4f}")
        total = report.total
        lines.append(f"**Total**: {total.counted} · {total.input_tokens + total.output_tokens:,} tokens · "
                     f"${total.cost:.4f}")
        budget = await guild_budget(self.bot.config, interaction.guild_id)
        if budget:
            spent = await month_total(interaction.guild_id)
            lines.append(f"Server budget: ${spent:.2f} of ${budget:.2f} this month")
        if not report.lines:
            await interaction.response.send_message("\n".join(lines), ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)  # the chart takes a moment to draw
        server = interaction.guild.name if interaction.guild else "this server"
        png = await asyncio.to_thread(month_chart, report, f"Spend for {whose if member else server}",
                                      chart_palette(self.bot.config))
        await interaction.followup.send("\n".join(lines), file=discord.File(io.BytesIO(png), "usage.png"),
                                        ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="budget", description="Set this server's monthly model budget in USD (0: no limit)")
    @app_commands.describe(amount="USD per calendar month; 0 removes the limit")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def budget(self, interaction: discord.Interaction[MoaiBot], amount: float) -> None:
        require_manage_guild(interaction, "Setting the budget")
        if not 0 <= amount <= 1_000_000:
            raise UserError("The budget must be between 0 and 1,000,000 USD.")
        assert interaction.guild_id is not None
        await set_guild_budget(interaction.guild_id, amount)
        text = f"💰 Monthly budget set to ${amount:.2f}." if amount else "💰 No monthly budget limit now."
        unpriced = [m.name for m in self.bot.config.models.values() if not m.priced]
        if amount and unpriced:
            allowed = self.bot.config.defaults.allow_unpriced
            text += (f"\n⚠️ No price is known for {', '.join(unpriced)}: "
                     + ("their spend counts as $0 against the budget (allow_unpriced is on)." if allowed else
                        "they will be refused while the budget is set. The bot owner can price them in config.toml "
                        "or with `moai models sync`."))
        await interaction.response.send_message(text, allowed_mentions=NO_MENTIONS)


    @app_commands.command(name="steering", description="Who may stop, continue or resume discussions (Manage Server)")
    @app_commands.describe(who="starter: the member who started it, or Manage Threads (default); everyone: anyone")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def steering(self, interaction: discord.Interaction[MoaiBot],
                       who: Literal["starter", "everyone"]) -> None:
        require_manage_guild(interaction, "Choosing who steers discussions")
        assert interaction.guild_id is not None
        await set_anyone_steers(interaction.guild_id, who == "everyone")
        text = ("🧭 Anyone may now /stop, /continue or resume any discussion here." if who == "everyone" else
                "🧭 Only the member who started a discussion, or someone with Manage Threads, may steer it.")
        await interaction.response.send_message(text, allowed_mentions=NO_MENTIONS)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Usage(bot))
