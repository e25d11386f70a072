"""/predict and /resolve: forecasts that resolve against the truth, members' own forecasts through a modal,
and the reminder in the thread when a question is due (exactly once, whichever process claims it)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.errors import UserError
from bot.forecasting.board import resolution_lines
from bot.forecasting.parse import parse_outcomes
from bot.forecasting.when import parse_resolves
from bot.kinds import DiscussionMode
from bot.roundtable import NewDiscussion, Opening
from bot.services.forecasts import VOID
from cogs.delivery.render import member_name
from cogs.delivery.send import NO_MENTIONS, try_send
from cogs.predict._forecast import ForecastButton
from cogs.utils.confirm import confirmed_or_asked
from cogs.utils.stages import ThreadVenue
from cogs.utils.threads import actor_of, discussion_channel, thread_discussion
from cogs.utils.transformers import Models, Project

if TYPE_CHECKING:
    from cogs.client import MoaiBot

__all__ = ["Predict"]

log = logging.getLogger(__name__)
REMIND_EVERY = 30.0  # seconds between looks for due questions


def intro(opening: Opening) -> str:
    assert opening.resolves_at is not None
    models = opening.panel.models
    names = f"{len(models)} models, blind until forecasts close," if opening.blind else ", ".join(
        m.name for m in models)
    return (f"**{member_name(opening.actor.name)}** asked {names} to forecast "
            f"({' / '.join(opening.outcomes)}), resolving <t:{int(opening.resolves_at.timestamp())}:f>:")


class Predict(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.remind_due.start()

    async def cog_unload(self) -> None:
        self.remind_due.cancel()

    @app_commands.command(name="predict", description="The models forecast a question that resolves later")
    @app_commands.describe(question="A question whose answer will be known", resolves="When: 2027-01-31, 3d, 2w, 12h",
                           outcomes="Up to 6 outcomes, comma-separated (default: Yes, No)",
                           models="Models to ask, comma-separated (default: the configured panel)",
                           project="Run under a project's panel",
                           rounds="Rounds of revising before the final forecasts",
                           blind="Models forecast as Model A, B… until forecasts close",
                           search="Search the web and cite sources (default: the project's or the server's setting)")
    @app_commands.guild_only()
    async def predict(self, interaction: discord.Interaction[MoaiBot], question: str, resolves: str,
                      outcomes: str | None = None, models: Models | None = None, project: Project | None = None,
                      rounds: app_commands.Range[int, 1, 10] | None = None, blind: bool | None = None,
                      search: bool | None = None) -> None:
        channel = discussion_channel(interaction, "predict", "use /predict in a text channel")
        try:
            when = parse_resolves(resolves, datetime.now(UTC))
            named = parse_outcomes(outcomes)
        except ValueError as error:
            raise UserError(str(error)) from None
        request = NewDiscussion(
            DiscussionMode.PREDICT, question, actor_of(interaction), models=models, project=project,
            channel_id=interaction.channel_id, rounds=rounds, blind=blind, search=search, question_outcomes=named,
            resolves_at=when)

        async def start(asked: discord.Interaction[MoaiBot], confirmed: bool) -> None:
            venue = ThreadVenue(asked, channel, intro)
            await self.bot.services.roundtable.open(replace(request, confirmed=confirmed), venue)
            await venue.announce("🔮 The models are forecasting in {thread}")

        await confirmed_or_asked(interaction, start)

    @app_commands.command(name="resolve", description="Say what happened: every forecast here is scored")
    @app_commands.describe(outcome="The outcome that happened, or void (a /discuss thread: the winning position)")
    @app_commands.guild_only()
    async def resolve(self, interaction: discord.Interaction[MoaiBot], outcome: str) -> None:
        discussion, _ = await thread_discussion(interaction, "resolve", idle=True)
        if interaction.user.id != discussion.created_by and not interaction.permissions.manage_guild:
            raise UserError("Only the member who asked, or someone with Manage Server, can resolve this.")
        if discussion.masked and discussion.mode is not DiscussionMode.PREDICT:  # the scores name the models
            raise UserError("This discussion is still blind: resolve it once its models are revealed.")
        services = self.bot.services
        forecasts = services.roundtable.forecasts
        assert forecasts is not None
        if discussion.mode is DiscussionMode.PREDICT:
            prediction = await forecasts.of_discussion(discussion.id)
            if prediction is None:
                raise UserError("This question's forecast was never stored.")
            resolution = await forecasts.resolve(prediction, outcome, interaction.user.id)
            outcomes = prediction.outcomes
            head = ("🔮 **Resolved: void**" if resolution.outcome is None else
                    f"🔮 **Resolved: {resolution.outcome}**")
            if await forecasts.reveal(discussion):  # a blind forecast whose forecasts had not closed yet
                head += "\n" + self._revealed(discussion.blind_names)
        elif discussion.mode is DiscussionMode.DISCUSS:
            config = self.bot.config
            names = {a: config.models[a].name for a in discussion.models if a in config.models}
            resolution = await forecasts.resolve_debate(discussion, outcome, await services.store.latest_stances(
                discussion), names, config.debate.similarity, interaction.user.id)
            outcomes = ["right", "wrong"]
            head = f"🔮 **Resolved: {outcome[:200]}** — each model's final stance scored as a forecast that it wins"
        else:
            raise UserError("Use /resolve in a /predict or /discuss thread.")
        text = "\n".join([head, *(f"• {line}" for line in resolution_lines(resolution, outcomes))])
        await interaction.response.send_message(text[:2000], allowed_mentions=NO_MENTIONS)

    @resolve.autocomplete("outcome")
    async def _outcomes(self, interaction: discord.Interaction[MoaiBot],
                        typed: str) -> list[app_commands.Choice[str]]:
        discussion = await self.bot.services.store.by_thread(interaction.channel_id)
        forecasts = self.bot.services.roundtable.forecasts
        if discussion is None or forecasts is None or discussion.mode is not DiscussionMode.PREDICT:
            return []
        prediction = await forecasts.of_discussion(discussion.id)
        names = [*(prediction.outcomes if prediction else []), VOID]
        return [app_commands.Choice(name=n, value=n) for n in names if typed.lower() in n.lower()][:25]

    @tasks.loop(seconds=REMIND_EVERY)
    async def remind_due(self) -> None:
        """Questions whose time has come, in this process's servers: one reminder each, in its thread."""
        forecasts = self.bot.services.roundtable.forecasts
        assert forecasts is not None
        try:
            due = await forecasts.claim_due_reminders([g.id for g in self.bot.guilds])
        except Exception:
            log.exception("looking for due questions failed; trying again in %g s", REMIND_EVERY)
            return
        for prediction in due:
            await self._say(prediction.discussion_id, "⏰ **This question resolves now.** The member who asked (or "
                                                      "someone with Manage Server): `/resolve outcome` here, or "
                                                      "`/resolve void`.")
            await forecasts.mark_reminded(prediction)
        try:
            closed = await forecasts.reveal_closed([g.id for g in self.bot.guilds])
        except Exception:
            log.exception("revealing closed blind forecasts failed; trying again in %g s", REMIND_EVERY)
            return
        for prediction, names in closed:
            await self._say(prediction.discussion_id, "🔒 Forecasts are closed. " + self._revealed(names))

    def _revealed(self, names: dict[str, str]) -> str:
        models = self.bot.config.models
        return "🎭 **Revealed:** " + ", ".join(f"{label} was **{models[alias].name if alias in models else alias}**"
                                              for alias, label in sorted(names.items(), key=lambda item: item[1]))

    async def _say(self, discussion_id: int, text: str) -> None:
        place = await self.bot.services.store.place_of(discussion_id)
        thread = self.bot.get_channel(place.thread_id) if place and place.thread_id else None
        if isinstance(thread, discord.Thread):
            await try_send(thread, text)

    @remind_due.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()


async def setup(bot: MoaiBot) -> None:
    bot.add_dynamic_items(ForecastButton)
    await bot.add_cog(Predict(bot))
