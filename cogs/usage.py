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
from bot.kinds import LimitScope
from bot.services.access import access_rules, allow_role, every_rule, revoke_role
from bot.services.arena import unrevealed_discussions
from bot.services.budget import (
    guild_budget,
    member_limits,
    member_month,
    set_anyone_steers,
    set_guild_budget,
    set_member_limit,
)
from bot.services.ledger import month_total, usage_report
from cogs.delivery.send import NO_MENTIONS
from cogs.utils.checks import require_manage_guild
from cogs.utils.transformers import Model, Project

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
        if member is not None:
            mine, cap = await member_month(interaction.guild_id, member.id, [r.id for r in member.roles])
            if cap is not None:
                lines.append(f"{member.display_name}'s limit: ${mine:.2f} of ${cap.amount:.2f} this month "
                             f"(spent or in use; {cap.source.replace('your', 'their')})")
        if not report.lines:
            await interaction.response.send_message("\n".join(lines), ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)  # the chart takes a moment to draw
        server = interaction.guild.name if interaction.guild else "this server"
        png = await asyncio.to_thread(month_chart, report, f"Spend for {whose if member else server}",
                                      chart_palette(self.bot.config))
        await interaction.followup.send("\n".join(lines), file=discord.File(io.BytesIO(png), "usage.png"),
                                        ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="budget", description="Monthly USD limits: the server's, a member's, a role's "
                                                     "(Manage Server)")
    @app_commands.describe(amount="USD per calendar month; 0 removes the limit; leave empty to see every limit",
                           member="A limit on what this member's runs may cost",
                           role="A limit for every member with this role",
                           per_member="A limit for every member (the server's default per member)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def budget(self, interaction: discord.Interaction[MoaiBot], amount: float | None = None,
                     member: discord.Member | None = None, role: discord.Role | None = None,
                     per_member: bool = False) -> None:
        require_manage_guild(interaction, "Setting the budget")
        assert interaction.guild_id is not None
        if amount is None:
            await interaction.response.send_message(await self._limits_text(interaction.guild_id), ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
            return
        if not 0 <= amount <= 1_000_000:
            raise UserError("The budget must be between 0 and 1,000,000 USD.")
        if sum((member is not None, role is not None, per_member)) > 1:
            raise UserError("Set one limit at a time: member, role or per_member.")
        if member is not None or role is not None or per_member:
            scope, target, who = (
                (LimitScope.MEMBER, member.id, member.mention) if member is not None else
                (LimitScope.ROLE, role.id, role.mention) if role is not None else
                (LimitScope.EVERYONE, 0, "every member"))
            await set_member_limit(interaction.guild_id, scope, target, amount)
            text = (f"💰 Monthly limit for {who}: ${amount:.2f} (the tightest limit that applies to a member wins)."
                    if amount else f"💰 No monthly limit for {who} now.")
            await interaction.response.send_message(text, allowed_mentions=NO_MENTIONS)
            return
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


    async def _limits_text(self, guild_id: int) -> str:
        budget = await guild_budget(self.bot.config, guild_id)
        lines = [f"💰 **Server budget**: {f'${budget:.2f} a month' if budget else 'none'}"]
        for row in await member_limits(guild_id):
            who = {LimitScope.MEMBER: f"<@{row.target_id}>", LimitScope.ROLE: f"<@&{row.target_id}>",
                   LimitScope.EVERYONE: "every member"}[row.scope]
            lines.append(f"• {who}: ${row.amount_usd:.2f} a month")
        if len(lines) == 1:
            lines.append("No member or role limits. `/budget member:@x amount:5`, `role:@r`, `per_member:true`.")
        models = self.bot.config.models
        for (project, alias), roles in (await every_rule(guild_id)).items():
            name = models[alias].name if alias in models else alias
            where = f" (project {project})" if project else ""
            lines.append(f"🔒 {name}{where}: only for " + ", ".join(f"<@&{role}>" for role in roles))
        return "\n".join(lines)

    @app_commands.command(name="access", description="Keep a model for members with a role (Manage Server)")
    @app_commands.describe(model="The model", role="Members with this role may run it (others may not)",
                           remove="Take this role's access away; without a role: the model is for everyone again",
                           project="Only in this project's discussions (default: the whole server)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def access(self, interaction: discord.Interaction[MoaiBot], model: Model, role: discord.Role | None = None,
                     remove: bool = False, project: Project | None = None) -> None:
        require_manage_guild(interaction, "Choosing who may run a model")
        assert interaction.guild_id is not None
        project_id = (await self.bot.services.projects.get(interaction.guild_id, project)).id if project else None
        if remove:
            await revoke_role(interaction.guild_id, model.alias, role.id if role else None, project_id)
        elif role is None:
            raise UserError("Name the role that may run it (or remove:true to open it to everyone).")
        else:
            await allow_role(interaction.guild_id, model.alias, role.id, project_id)
        roles = (await access_rules(interaction.guild_id, project_id)).get(model.alias, [])
        where = f" in project {project}" if project else " here"
        text = (f"🔒 {model.name} is now only for " + ", ".join(f"<@&{r}>" for r in roles) + f"{where}." if roles
                else f"🔓 {model.name} is for everyone{where}.")
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
