"""The arena: vote buttons under rounds, votes closing on time, /leaderboard and /modelstats."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.charts import calibration_chart, chart_palette, leaderboard_chart
from bot.forecasting.board import accuracy_lines
from bot.kinds import AuthorKind, Category
from bot.leaderboard import board_notes, board_table, money, percent
from bot.services.arena import BoardScope, ModelRecord
from cogs.arena._votes import VoteButton
from cogs.delivery.render import notice_text
from cogs.delivery.send import NO_MENTIONS, try_send
from cogs.utils.transformers import Model, Project

if TYPE_CHECKING:
    from cogs.client import MoaiBot

log = logging.getLogger(__name__)
CLOSE_EVERY = 15.0  # seconds between looks for votes whose time is up
Period = Literal["week", "month", "all"]
CategoryName = Literal["coding", "creative", "factual", "advice", "other"]


def record_text(record: ModelRecord, board_size: int) -> str:
    row = record.row
    lines = [f"**{row.name}**"]
    if row.rating is not None and row.ranked:
        lines.append(f"Rating **{row.rating.rating:.0f}** (95% CI {row.rating.low:.0f}–{row.rating.high:.0f}), "
                     f"rank {record.rank} of {board_size}")
    elif row.rating is not None:
        lines.append(f"Unranked, {row.votes} vote(s): a model is ranked from {record.board.min_votes}.")
    else:
        lines.append("Not rated yet: no closed votes with it.")
    lines.append(f"Votes: {row.votes} · best answer {row.wins} time(s) ({percent(row.win_rate)})")
    lines.append(f"Answers: {row.answers} · median latency "
                 f"{f'{row.median_latency_s:.1f} s' if row.median_latency_s is not None else '–'} · "
                 f"${money(row.cost_per_answer)} per answer · failures {percent(row.failure_rate)}")
    for other, (won, lost) in record.head_to_head.items():
        lines.append(f"• vs {other}: {won} won, {lost} lost")
    return "\n".join(lines)


class Arena(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.close_due.start()

    async def cog_unload(self) -> None:
        self.close_due.cancel()

    @tasks.loop(seconds=CLOSE_EVERY)
    async def close_due(self) -> None:
        """Votes whose time is up, in this process's servers: closed once, tallied (and revealed) in the thread."""
        try:
            closed = await self.bot.services.arena.close_expired([g.id for g in self.bot.guilds])
        except Exception:
            log.exception("closing due votes failed; trying again in %g s", CLOSE_EVERY)
            return
        for item in closed:
            thread = self.bot.get_channel(item.thread_id) if item.thread_id else None
            if isinstance(thread, discord.Thread):
                await try_send(thread, notice_text(item.notice))

    @close_due.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()

    @app_commands.command(name="leaderboard", description="Which models this server's members rate best")
    @app_commands.describe(project="Only discussions of this project", period="week, month or all (default)",
                           category="Only questions of this kind (coding, creative, factual, advice, other)",
                           raw="Ratings without style control (length and markdown not weighed out)",
                           metric="rating: members' votes (default); accuracy: resolved forecasts (/predict)")
    @app_commands.guild_only()
    async def leaderboard(self, interaction: discord.Interaction[MoaiBot], project: Project | None = None,
                          period: Period = "all", category: CategoryName | None = None, raw: bool = False,
                          metric: Literal["rating", "accuracy"] = "rating") -> None:
        assert interaction.guild_id is not None
        if metric == "accuracy":
            await self._accuracy(interaction)
            return
        project_row = await self.bot.services.projects.get(interaction.guild_id, project) if project else None
        await interaction.response.defer(thinking=True)
        scope = BoardScope(project_row.id if project_row else None, period,
                           Category(category) if category else None, raw)
        board = await self.bot.services.arena.board(interaction.guild_id, scope)
        where = ", ".join(part for part in (project_row.name if project_row else "", category or "", period,
                                            "raw" if raw else "") if part)
        title = f"Leaderboard ({where}): {board.ballots} vote(s)"
        if not board.rows:
            await interaction.followup.send(f"**{title}**\nNo answers yet. Vote under /open or /discuss rounds "
                                            "to rate the models.", allowed_mentions=NO_MENTIONS)
            return
        text = f"**{title}**\n{board_table(board)}"
        if not board.ballots:
            text += "\n-# No votes yet: press the buttons under a round to rate the models."
        text += "".join(f"\n-# {note}" for note in board_notes(board, self.bot.config.arena.ties))
        charted = [r for r in board.rows if r.ranked or r.alias in board.peer]
        if not charted:
            await interaction.followup.send(text, allowed_mentions=NO_MENTIONS)
            return
        human = [(r.rating.rating, r.rating.low, r.rating.high) if r.rating and r.ranked else None for r in charted]
        peer = [(p.rating, p.low, p.high) if (p := board.peer.get(r.alias)) else None for r in charted]
        png = await asyncio.to_thread(leaderboard_chart, [r.name for r in charted], human, peer, title,
                                      chart_palette(self.bot.config))
        await interaction.followup.send(text, file=discord.File(io.BytesIO(png), "leaderboard.png"),
                                        allowed_mentions=NO_MENTIONS)

    async def _accuracy(self, interaction: discord.Interaction[MoaiBot]) -> None:
        """Who called it right: models and members by mean Brier score over resolved questions (lower wins)."""
        forecasts = self.bot.services.roundtable.forecasts
        assert forecasts is not None and interaction.guild_id is not None
        config = self.bot.config
        lines = await forecasts.accuracy(interaction.guild_id, {a: m.name for a, m in config.models.items()})
        text = "\n".join(["**Accuracy** — mean Brier score over resolved questions (0 is perfect, 0.25 a coin "
                          "flip), 95% interval, log score:", *accuracy_lines(lines, config.predict.min_resolved)])
        await interaction.response.send_message(text[:2000], allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="modelstats", description="One model's track record in this server")
    @app_commands.describe(model="The model", period="week, month or all (default)",
                           category="Only questions of this kind")
    @app_commands.guild_only()
    async def modelstats(self, interaction: discord.Interaction[MoaiBot], model: Model,
                         period: Period = "all", category: CategoryName | None = None) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(thinking=True)
        scope = BoardScope(period=period, category=Category(category) if category else None)
        record = await self.bot.services.arena.record(interaction.guild_id, model.alias, scope)
        peer = record.board.peer.get(model.alias)
        text = record_text(record, len(record.board.ranked))
        if peer is not None:
            text += f"\nPeer-review rating: {peer.rating:.0f} (95% CI {peer.low:.0f}–{peer.high:.0f})"
        forecasts = self.bot.services.roundtable.forecasts
        assert forecasts is not None
        mine = [line for line in await forecasts.accuracy(interaction.guild_id, {model.alias: model.name})
                if line.kind is AuthorKind.MODEL and line.name == model.name]
        summary = mine[0].summary if mine else None
        if summary is None:
            await interaction.followup.send(text, allowed_mentions=NO_MENTIONS)
            return
        text += (f"\nForecasts: {summary.count} resolved · Brier {summary.mean_brier:.3f} "
                 f"(95% CI {summary.low:.3f}–{summary.high:.3f}) · log {summary.mean_log:.2f}")
        png = await asyncio.to_thread(calibration_chart, summary.buckets, model.name,
                                      f"{model.name}: calibration over {summary.count} resolved forecast(s)",
                                      chart_palette(self.bot.config))
        await interaction.followup.send(text, file=discord.File(io.BytesIO(png), "calibration.png",
                                                                description="Calibration chart"),
                                        allowed_mentions=NO_MENTIONS)


async def setup(bot: MoaiBot) -> None:
    bot.add_dynamic_items(VoteButton)
    await bot.add_cog(Arena(bot))
