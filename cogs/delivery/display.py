"""The Discord side of the core's Display: each model's answer streamed into its own message, paced per
rate-limit bucket, with the round's status line and the run's notices posted in the thread."""

from __future__ import annotations

import asyncio
import io
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.chart_style import Palette
from bot.charts import stance_chart
from bot.config import DiscordConfig
from bot.engine.display import RoundView
from bot.engine.notices import ForecastsRead, Notice, StanceTimeline, VoteCall
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
from bot.seats import Seat
from bot.services.discussions import DiscussionStore
from bot.stances import split_stance, visible_part
from cogs.delivery.components import (
    add_round_actions,
    add_sources_button,
    forecast_view,
    reasoning_view,
    vote_text,
    vote_view,
)
from cogs.delivery.lanes import Lane, WindowFor, window_for
from cogs.delivery.live import LiveMessage
from cogs.delivery.pacing import CreateBudget, Where
from cogs.delivery.posters import EmbedPoster, InteractionPoster, Poster, WebhookPoster, thread_gone
from cogs.delivery.ratelimit_headers import HeaderWatch, webhook_key
from cogs.delivery.render import (
    STOPPED_SUFFIX,
    answer_line,
    failed_suffix,
    notice_text,
    round_summary,
    stance_line,
    stop_note,
)
from cogs.delivery.send import NO_MENTIONS, send_text
from cogs.delivery.webhooks import WebhookCache

if TYPE_CHECKING:
    from bot.engine.rounds import Round

__all__ = [
    "MODELS_PER_WEBHOOK",
    "STEERABLE_KINDS",
    "InteractionDisplay",
    "LanePool",
    "LiveRound",
    "Screens",
    "ThreadDisplay"
]


log = logging.getLogger(__name__)
STEERABLE_KINDS = (RoundKind.OPEN, RoundKind.DISCUSS)
MODELS_PER_WEBHOOK = 2  # streams one webhook carries well: 5 calls per 2 s is one update a second each


class LanePool:
    """One lane per rate-limit bucket, shared by every message using it; closed when the last one is done.

    Also holds what all lanes share: the header watch (Discord's answers) and the per-thread create budget.
    """

    def __init__(self, edit_interval: float, headers: HeaderWatch, creates: CreateBudget,
                 window_for: WindowFor = window_for) -> None:
        self.interval = edit_interval
        self.window_for = window_for
        self.headers = headers
        self.creates = creates
        self.lanes: dict[str, Lane] = {}
        self._users: dict[str, int] = {}

    def take(self, key: str) -> Lane:
        if key not in self.lanes:
            self.lanes[key] = Lane(key, window=self.window_for(key), creates=self.creates,
                                   edit_interval=self.interval, headers=self.headers)
        self._users[key] = self._users.get(key, 0) + 1
        return self.lanes[key]

    def give_back(self, key: str) -> None:
        self._users[key] -= 1
        if not self._users[key]:
            del self._users[key]
            self.lanes.pop(key).close()

    def streams_of(self, key: str, model: str) -> int:
        lane = self.lanes.get(key)
        return lane.streams_of(model) if lane is not None else 0

    def users(self, key: str) -> int:
        """Messages currently streaming through this bucket (how busy it is)."""
        return self._users.get(key, 0)

    @property
    def idle(self) -> bool:
        return not self.lanes and not self._users

    def close(self) -> None:
        for lane in self.lanes.values():
            lane.close()


class LiveRound:
    """One round on Discord: a LiveMessage per model, each in its poster's lane.

    The round waits only for its own messages (other threads' traffic on the same webhooks is not its
    business); at the end, the Discord ids of each answer are stored.
    """

    def __init__(self, answers: Sequence[Answer], posters: Mapping[str, Poster], pool: LanePool,
                 store: DiscussionStore, headers: Mapping[str, str], on_gone: Callable[[], None] | None = None,
                 stances: bool = False, compact: bool = False, debate: bool = True,
                 on_screen: dict[int, tuple[int, str]] | None = None) -> None:
        self.store = store
        self.pool = pool
        self.on_screen = on_screen if on_screen is not None else {}
        self._on_screen_ids: set[int] = set()  # every id this round put there, taken out when it settles
        self.lives = {a.model.alias: LiveMessage(posters[a.model.alias], pool.take(posters[a.model.alias].key),
                                                 headers.get(a.model.alias, ""), compact=compact, model=a.model.alias,
                                                 on_sent=self._remember(a), on_gone=on_gone)
                      for a in answers}
        self.answers = {a.model.alias: a for a in answers}
        self.max_tokens = {a.model.alias: a.model.max_tokens for a in answers}
        self.replace: Callable[[str], Awaitable[Poster | None]] | None = None  # a new poster for a model
        self._moving: set[asyncio.Task[None]] = set()
        for alias, live in self.lives.items():
            live.on_lost = self._lost(alias)
        # Each answer's stance block becomes a compact line under it: in a debate round always (a missing
        # stance says so), in a mention round when a model wrote one anyway (copying the transcript's format).
        self.stances = stances
        self.debate = debate

    def _lost(self, alias: str) -> Callable[[LiveMessage], bool]:
        def lost(live: LiveMessage) -> bool:
            if self.replace is None:
                return False
            task = asyncio.create_task(self._move(alias, live))
            self._moving.add(task)
            task.add_done_callback(self._moving.discard)
            return True
        return lost

    async def _move(self, alias: str, live: LiveMessage) -> None:
        """The answer's webhook was deleted: post it again in full through a new one (or the bot's embeds)."""
        assert self.replace is not None
        try:
            poster = await self.replace(alias)
        except Exception:
            poster = None
        if poster is None:
            live.settled(gave_up=True)
            return
        old = live.poster.key
        live.move(poster, self.pool.take(poster.key))
        self.pool.give_back(old)

    @property
    def unshown(self) -> set[str]:
        """Aliases whose answer Discord never showed in full (the lane gave up on it)."""
        return {alias for alias, live in self.lives.items() if live.gave_up}

    def _remember(self, answer: Answer) -> Callable[[list[int]], None]:
        """A new message's id goes with the answer: the engine's next checkpoint (or its final save) stores it,
        so a long answer's further messages cost no statement of their own and never wait for the database.
        Until then `on_screen` says whose message it is (a member may reply to it at once)."""
        def shown(ids: list[int]) -> None:
            answer.shown_in = list(ids)
            self.on_screen.update((i, (answer.row.discussion_id, answer.model.alias)) for i in ids)
            self._on_screen_ids.update(ids)
        return shown

    def on_event(self, event: RoundEvent) -> None:
        live = self.lives[event.alias]
        if isinstance(event, ModelDelta):
            live.update(visible_part(event.text) if self.stances else event.text)
        elif isinstance(event, ModelFinished):
            text, under = event.text, stop_note(event.stop_reason, self.max_tokens[event.alias])
            if self.stances:
                text, stance = split_stance(text)
                under = (stance_line(stance) if stance.known or self.debate else "") + under
            live.update(text + under, final=True)
        elif isinstance(event, ModelFailed) and event.text:
            live.update(self._partial(event.text) + failed_suffix(event.reason), final=True)
        elif isinstance(event, ModelStopped) and event.text:
            live.update(self._partial(event.text) + STOPPED_SUFFIX, final=True)

    def _partial(self, text: str) -> str:
        return split_stance(text)[0] if self.stances else text

    async def settle(self) -> None:
        """Let this round's last edits land, then remember which Discord messages hold each answer."""
        try:
            await asyncio.gather(*(live.wait_shown() for live in self.lives.values()))
            await asyncio.gather(*list(self._moving), return_exceptions=True)
            await asyncio.gather(*(live.wait_shown() for live in self.lives.values()))
            for alias, live in self.lives.items():
                answer = self.answers[alias]
                if live.message_ids and answer.shown_stored != live.message_ids:  # posted after the final save
                    await self.store.remember_discord_messages(answer.row.id, live.message_ids)
                    answer.shown_stored = list(live.message_ids)
        finally:
            for live in self.lives.values():
                live.scheduler.detach(live)
                self.pool.give_back(live.poster.key)
            for message_id in self._on_screen_ids:  # stored now (or as good as the database allows)
                self.on_screen.pop(message_id, None)


class ThreadDisplay:
    """A discussion thread: models speak through the parent channel's webhook (embeds without it).

    `on_gone` is called when Discord says the thread was deleted, archived or locked: the run stops.
    """

    def __init__(self, thread: discord.Thread, screens: Screens, on_gone: Callable[[], None] | None = None) -> None:
        self.thread = thread
        self.screens = screens
        self.on_gone = on_gone
        self._rounds: dict[int, LiveRound] = {}  # round id -> its messages, until its status line is posted

    async def begin_round(self, round_: Round, answers: Sequence[Answer]) -> RoundView:
        posters = await self.screens.thread_posters(self.thread, [a.seat for a in answers])
        # Nothing is awaited from here on: a /stop landing now cannot leave lanes taken.
        live = LiveRound(answers, posters, self.screens.pool, self.screens.store, {}, self.on_gone,
                         on_screen=self.screens.on_screen,
                         stances=round_.kind in (RoundKind.DISCUSS, RoundKind.MENTION),
                         debate=round_.kind is RoundKind.DISCUSS,
                         compact=self.screens.compact(Where(self.thread.id, self.thread.parent_id or self.thread.id),
                                                      len(answers)))
        seats = {a.seat.alias: a.seat for a in answers}

        async def replace(alias: str) -> Poster | None:
            return (await self.screens.thread_posters(self.thread, [seats[alias]])).get(alias)

        live.replace = replace
        self._rounds[round_.id] = live
        return live

    async def end_round(self, result: RoundResult) -> None:
        view = reasoning_view(result.answers, reserve=5)  # the last row is the actions
        if result.round.kind in STEERABLE_KINDS:  # One more round, Consensus, Stop, Export
            view = add_round_actions(view or discord.ui.View(timeout=None), result.round.discussion_id)
        view = add_sources_button(view, result)
        shown = self._rounds.pop(result.round.id, None)
        await self._post(round_summary(result, shown.unshown if shown is not None else set()), view)

    async def notice(self, notice: Notice) -> None:
        if isinstance(notice, StanceTimeline):
            png = await asyncio.to_thread(stance_chart, notice.timeline, self.screens.palette)
            await self._post(notice_text(notice), file=discord.File(io.BytesIO(png), "stance-timeline.png",
                                                                    description="Stance timeline chart"))
            return
        if isinstance(notice, VoteCall):
            await self._post(vote_text(notice), vote_view(notice))
            return
        if isinstance(notice, ForecastsRead) and notice.final:
            await self._post(notice_text(notice), forecast_view(notice.prediction_id))
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
        poster = InteractionPoster(self.interaction)
        return LiveRound(answers, {a.model.alias: poster for a in answers}, self.screens.pool, self.screens.store,
                         {a.model.alias: f"**{a.model.name}**\n" for a in answers}, on_screen=self.screens.on_screen)

    async def end_round(self, result: RoundResult) -> None:
        [answer] = result.answers
        footer = f"-# {answer_line(answer)}"
        if result.search is not None and result.search.notes:
            footer += f"\n-# 🔎 {result.search.line()}"
        try:
            view = add_sources_button(reasoning_view(result.answers), result)
            extra: dict[str, Any] = {"view": view} if view is not None else {}
            if answer.text:
                await self.interaction.followup.send(footer, allowed_mentions=NO_MENTIONS, **extra)
            else:
                await self.interaction.edit_original_response(content=footer, allowed_mentions=NO_MENTIONS, **extra)
        except discord.HTTPException:
            pass  # the interaction token expired (15 min): the answer itself is shown and stored

    async def notice(self, notice: Notice) -> None:
        try:
            await self.interaction.followup.send(notice_text(notice), allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            pass


class Screens:
    """The bot's Discord display machinery: a pool of webhooks per channel, a lane per rate-limit bucket."""

    def __init__(self, config: DiscordConfig, store: DiscussionStore, headers: HeaderWatch | None = None, *,
                 window_for: WindowFor = window_for) -> None:
        self.webhooks = WebhookCache(config.webhook_name, config.webhooks_per_channel)
        self.headers = headers or HeaderWatch()
        self.pool = LanePool(config.edit_interval, self.headers, CreateBudget(config.thread_creates_per_minute),
                             window_for)
        self.store = store
        self.palette = Palette()  # the server's model colours (the bot sets them from its config)
        # Discord message id -> (discussion id, model alias) of answers being shown, before the database has them
        self.on_screen: dict[int, tuple[int, str]] = {}
        self._arriving: dict[int, int] = {}  # channel id -> models of rounds still finding their webhooks
        self._turn = 0

    def thread(self, thread: discord.Thread, on_gone: Callable[[], None] | None = None) -> ThreadDisplay:
        return ThreadDisplay(thread, self, on_gone)

    def interaction(self, interaction: discord.Interaction[Any]) -> InteractionDisplay:
        return InteractionDisplay(interaction, self)

    def compact(self, where: Where, models: int) -> bool:
        """Long answers in one embed instead of two messages, unless the thread's create budget has room for
        a continuation per model and still keeps half for the rounds that follow."""
        return not self.pool.creates.room(where, 2 * models)

    async def thread_posters(self, thread: discord.Thread, models: Sequence[Seat]) -> dict[str, Poster]:
        """Posters for each model, spread over the parent channel's webhooks by how busy each one is.

        Discord limits calls per webhook, so concurrent models and discussions of a channel use a pool of
        moai's webhooks (MODELS_PER_WEBHOOK each, up to `webhooks_per_channel`); the embed fallback is
        limited per thread.
        """
        parent = thread.parent
        if not isinstance(parent, discord.TextChannel):
            return {m.alias: EmbedPoster(thread, m.label, m.avatar_url) for m in models}
        # Rounds starting at the same moment count each other in, before any of them has taken a lane.
        self._arriving[parent.id] = self._arriving.get(parent.id, 0) + len(models)
        try:
            busy = sum(self.pool.users(key) for key in self.webhooks.keys(parent.id)) + self._arriving[parent.id]
            hooks = await self.webhooks.for_channel(parent, want=math.ceil(busy / MODELS_PER_WEBHOOK))
        finally:
            self._arriving[parent.id] -= len(models)
            if not self._arriving[parent.id]:
                del self._arriving[parent.id]
        if not hooks:
            return {m.alias: EmbedPoster(thread, m.label, m.avatar_url) for m in models}
        parent_id = parent.id

        def forget() -> None:  # deleted by an admin: make new ones next time
            self.webhooks.forget(parent_id)

        keys = {hook.id: webhook_key(hook.id, hook.token or "") for hook in hooks}
        load = {hook.id: self.pool.users(keys[hook.id]) for hook in hooks}
        # The same model in concurrent discussions starts and finishes at about the same moments: it goes to
        # the webhook carrying the fewest of its answers, then the least busy; ties rotate from round to round.
        self._turn += 1
        hooks = hooks[self._turn % len(hooks):] + hooks[: self._turn % len(hooks)]
        posters: dict[str, Poster] = {}
        for model in models:
            hook = min(hooks, key=lambda h: (self.pool.streams_of(keys[h.id], model.alias), load[h.id]))
            load[hook.id] += 1
            posters[model.alias] = WebhookPoster(hook, thread, model.label, model.avatar_url, on_gone=forget,
                                                 parent_id=parent_id)
        return posters

    def close(self) -> None:
        self.pool.close()
