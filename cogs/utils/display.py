"""The Discord side of the core's Display: each model's answer streamed into its own message, paced per
rate-limit bucket, with the round's status line and the run's notices posted in the thread."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.charts import stance_chart
from bot.config import DiscordConfig, ModelConfig
from bot.engine.display import RoundView
from bot.engine.notices import Notice, StanceTimeline, VoteCall
from bot.engine.rounds import (
    Answer,
    ModelDelta,
    ModelFailed,
    ModelFinished,
    ModelStopped,
    RoundEvent,
    RoundResult,
)
from bot.kinds import RoundKind
from bot.services.discussions import DiscussionStore
from bot.stances import split_stance, visible_part
from cogs.utils.live import (
    EditScheduler,
    EmbedPoster,
    InteractionPoster,
    LiveMessage,
    Poster,
    WebhookPoster,
    thread_gone,
)
from cogs.utils.reasoning import reasoning_view, view_kwargs
from cogs.utils.render import (
    STOPPED_SUFFIX,
    answer_line,
    failed_suffix,
    notice_text,
    round_summary,
    stance_line,
    stop_note,
)
from cogs.utils.round_buttons import add_round_actions
from cogs.utils.send import NO_MENTIONS, send_text
from cogs.utils.vote_buttons import vote_text, vote_view
from cogs.utils.webhooks import WebhookCache

if TYPE_CHECKING:
    from bot.engine.rounds import Round


log = logging.getLogger(__name__)
STEERABLE_KINDS = (RoundKind.OPEN, RoundKind.DISCUSS)


class SchedulerPool:
    """One edit scheduler per rate-limit bucket, shared by the rounds using it; closed when the last ends."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.schedulers: dict[int, EditScheduler] = {}
        self._users: dict[int, int] = {}

    def take(self, bucket: int) -> EditScheduler:
        if bucket not in self.schedulers:
            self.schedulers[bucket] = EditScheduler(self.interval)
        self._users[bucket] = self._users.get(bucket, 0) + 1
        return self.schedulers[bucket]

    def give_back(self, bucket: int) -> None:
        self._users[bucket] -= 1
        if not self._users[bucket]:
            del self._users[bucket]
            self.schedulers.pop(bucket).close()

    @property
    def idle(self) -> bool:
        return not self.schedulers and not self._users

    def close(self) -> None:
        for scheduler in self.schedulers.values():
            scheduler.close()


class LiveRound:
    """One round on Discord: a LiveMessage per model; at the end, the Discord ids of each answer are stored."""

    def __init__(self, answers: Sequence[Answer], posters: Mapping[str, Poster], scheduler: EditScheduler,
                 release: Callable[[], None], store: DiscussionStore, headers: Mapping[str, str],
                 on_gone: Callable[[], None] | None = None, stances: bool = False) -> None:
        def remember(row_id: int) -> Callable[[list[int]], Awaitable[None]]:
            return lambda ids: store.remember_discord_messages(row_id, ids)

        self.lives = {a.model.alias: LiveMessage(posters[a.model.alias], scheduler, headers.get(a.model.alias, ""),
                                                 on_sent=remember(a.row.id), on_gone=on_gone)
                      for a in answers}
        self.rows = {a.model.alias: a.row.id for a in answers}
        self.max_tokens = {a.model.alias: a.model.max_tokens for a in answers}
        self.scheduler = scheduler
        self.store = store
        self._release = release
        self.stances = stances  # a debate round: each answer's stance block becomes a compact line under it

    def on_event(self, event: RoundEvent) -> None:
        live = self.lives[event.alias]
        if isinstance(event, ModelDelta):
            live.update(visible_part(event.text) if self.stances else event.text)
        elif isinstance(event, ModelFinished):
            text, under = event.text, stop_note(event.stop_reason, self.max_tokens[event.alias])
            if self.stances:
                text, stance = split_stance(text)
                under = stance_line(stance) + under
            live.update(text + under, final=True)
        elif isinstance(event, ModelFailed) and event.text:
            live.update(self._partial(event.text) + failed_suffix(event.reason), final=True)
        elif isinstance(event, ModelStopped) and event.text:
            live.update(self._partial(event.text) + STOPPED_SUFFIX, final=True)

    def _partial(self, text: str) -> str:
        return split_stance(text)[0] if self.stances else text

    async def settle(self) -> None:
        """Let the last edits land, then remember which Discord messages hold each answer."""
        try:
            await self.scheduler.drain()
            for alias, live in self.lives.items():
                if live.message_ids:
                    await self.store.remember_discord_messages(self.rows[alias], live.message_ids)
        finally:
            self._release()


class ThreadDisplay:
    """A discussion thread: models speak through the parent channel's webhook (embeds without it).

    `on_gone` is called when Discord says the thread was deleted, archived or locked: the run stops.
    """

    def __init__(self, thread: discord.Thread, screens: Screens, on_gone: Callable[[], None] | None = None) -> None:
        self.thread = thread
        self.screens = screens
        self.on_gone = on_gone

    async def begin_round(self, round_: Round, answers: Sequence[Answer]) -> RoundView:
        posters, bucket = await self.screens.thread_posters(self.thread, [a.model for a in answers])
        return LiveRound(answers, posters, self.screens.pool.take(bucket), lambda: self.screens.pool.give_back(bucket),
                         self.screens.store, {}, self.on_gone, stances=round_.kind is RoundKind.DISCUSS)

    async def end_round(self, result: RoundResult) -> None:
        view = reasoning_view(result.answers, reserve=5)  # the last row is the actions
        if result.round.kind in STEERABLE_KINDS:  # One more round, Consensus, Stop, Export
            view = add_round_actions(view or discord.ui.View(timeout=None), result.round.discussion_id)
        await self._post(round_summary(result), view)

    async def notice(self, notice: Notice) -> None:
        if isinstance(notice, StanceTimeline):
            png = await asyncio.to_thread(stance_chart, notice.timeline)
            await self._post(notice_text(notice), file=discord.File(io.BytesIO(png), "stance-timeline.png",
                                                                    description="Stance timeline chart"))
            return
        if isinstance(notice, VoteCall):
            await self._post(vote_text(notice), vote_view(notice))
            return
        await self._post(notice_text(notice))

    async def _post(self, text: str, view: discord.ui.View | None = None, file: discord.File | None = None) -> None:
        try:
            await send_text(self.thread, text, view, file=file)
        except discord.HTTPException as error:
            log.warning("could not post in thread %s: %s %s", self.thread.id, error.status, error.code)
            if thread_gone(error) and self.on_gone is not None:
                self.on_gone()


class InteractionDisplay:
    """/ask: the answer streams into the command's own reply; the status line follows it."""

    def __init__(self, interaction: discord.Interaction[Any], screens: Screens) -> None:
        self.interaction = interaction
        self.screens = screens

    async def begin_round(self, round_: Round, answers: Sequence[Answer]) -> RoundView:
        bucket = self.interaction.id
        poster = InteractionPoster(self.interaction)
        return LiveRound(answers, {a.model.alias: poster for a in answers}, self.screens.pool.take(bucket),
                         lambda: self.screens.pool.give_back(bucket), self.screens.store,
                         {a.model.alias: f"**{a.model.name}**\n" for a in answers})

    async def end_round(self, result: RoundResult) -> None:
        [answer] = result.answers
        footer = f"-# {answer_line(answer)}"
        try:
            if answer.text:
                await self.interaction.followup.send(footer, allowed_mentions=NO_MENTIONS,
                                                     **view_kwargs(result.answers))
            else:
                await self.interaction.edit_original_response(content=footer, allowed_mentions=NO_MENTIONS,
                                                              **view_kwargs(result.answers))
        except discord.HTTPException:
            pass  # the interaction token expired (15 min): the answer itself is shown and stored

    async def notice(self, notice: Notice) -> None:
        try:
            await self.interaction.followup.send(notice_text(notice), allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            pass


class Screens:
    """The bot's Discord display machinery: webhooks per channel and schedulers per rate-limit bucket."""

    def __init__(self, config: DiscordConfig, store: DiscussionStore) -> None:
        self.webhooks = WebhookCache(config.webhook_name)
        self.pool = SchedulerPool(config.edit_interval)
        self.store = store

    def thread(self, thread: discord.Thread, on_gone: Callable[[], None] | None = None) -> ThreadDisplay:
        return ThreadDisplay(thread, self, on_gone)

    def interaction(self, interaction: discord.Interaction[Any]) -> InteractionDisplay:
        return InteractionDisplay(interaction, self)

    async def thread_posters(self, thread: discord.Thread,
                             models: Sequence[ModelConfig]) -> tuple[dict[str, Poster], int]:
        """Posters for each model, and the id of the rate-limit bucket they share.

        Discord limits webhook calls per webhook, and there is one webhook per parent channel, so all
        threads of a channel share one scheduler; the embed fallback is limited per thread.
        """
        parent = thread.parent
        webhook = await self.webhooks.for_channel(parent) if isinstance(parent, discord.TextChannel) else None
        if webhook is None or parent is None:
            return {m.alias: EmbedPoster(thread, m.label, m.avatar_url) for m in models}, thread.id
        parent_id = parent.id

        def forget() -> None:  # deleted by an admin: make a new one next time
            self.webhooks.forget(parent_id)

        return {m.alias: WebhookPoster(webhook, thread, m.label, m.avatar_url, on_gone=forget)
                for m in models}, parent_id

    def close(self) -> None:
        self.pool.close()

