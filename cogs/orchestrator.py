"""The one place that queries models and writes discussion rows; every mode cog calls it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import discord
from discord.ext import commands
from tortoise.timezone import now

from bot.config import ModelConfig
from bot.db.models import (
    AuthorKind,
    BudgetHold,
    Discussion,
    DiscussionMode,
    DiscussionStatus,
    Guild,
    Message,
    MessageStatus,
    Round,
    RoundKind,
    RoundStatus,
)
from bot.discussion import active, round_context, run_rounds, set_status, trimmed_notice
from bot.errors import UserError
from bot.panel import Panel
from bot.prompts import mention_note
from bot.report import round_summary
from bot.rounds import (
    MessagesFor,
    ModelDelta,
    ModelFailed,
    ModelFinished,
    ModelStopped,
    RoundEvent,
    RoundResult,
    RoundRunner,
)
from bot.text import clean_text, split_message
from bot.usage import release_budget, reserve_budget, take_cooldown
from cogs.utils.live import NO_MENTIONS, EditScheduler, EmbedPoster, LiveMessage, Poster, WebhookPoster
from cogs.utils.webhooks import WebhookCache

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot

log = logging.getLogger(__name__)


class Orchestrator(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        assert bot.models is not None, "setup_hook creates the model clients before loading cogs"
        self.bot = bot
        self.runner = RoundRunner(bot.models)
        self.webhooks = WebhookCache(bot.config.discord.webhook_name)
        self.schedulers: dict[int, EditScheduler] = {}
        self._scheduler_users: dict[int, int] = {}
        self.running: dict[int, asyncio.Task[None]] = {}

    async def cog_unload(self) -> None:
        for task in list(self.running.values()):
            task.cancel()
        for scheduler in self.schedulers.values():
            scheduler.close()

    # --- rows ---------------------------------------------------------------------------
    async def ensure_guild(self, guild: discord.Guild) -> Guild:
        row, _ = await Guild.get_or_create(discord_id=guild.id, defaults={"name": guild.name[:100]})
        return row

    async def create_discussion(self, *, mode: DiscussionMode, question: str, panel: Panel,
                                author: discord.abc.User, guild: discord.Guild | None,
                                channel_id: int | None, thread_id: int | None = None,
                                rounds_planned: int = 1) -> Discussion:
        guild_row = await self.ensure_guild(guild) if guild is not None else None
        discussion = await Discussion.create(
            guild=guild_row, project=panel.project, channel_id=channel_id, thread_id=thread_id, mode=mode,
            question=question, models=[m.alias for m in panel.models], rounds_planned=rounds_planned,
            created_by=author.id,
        )
        await self.add_user_turn(discussion, author, question)
        return discussion

    async def admit(self, guild_id: int | None, user_id: int, panel: Sequence[ModelConfig], prompt_chars: int,
                    rounds: int = 1) -> BudgetHold | None:
        """Refuse (UserError) a run over the guild's monthly budget or inside the user's cooldown.

        Returns the budget hold for the run: pass it to start() (or release_budget it) when the run ends.
        """
        if guild_id is None:
            raise UserError("moai runs models in servers only.")
        hold = await reserve_budget(self.bot.config, guild_id, list(panel) * rounds, prompt_chars)
        try:
            await take_cooldown(self.bot.config, guild_id, user_id)
        except BaseException:
            await release_budget(hold)
            raise
        return hold

    async def add_user_turn(self, discussion: Discussion, author: discord.abc.User, content: str,
                            discord_message_id: int | None = None) -> Message:
        return await Message.create(discussion=discussion, author_kind=AuthorKind.USER, author_id=author.id,
                                    author_name=clean_text(author.display_name)[:100], content=clean_text(content),
                                    discord_message_ids=[discord_message_id] if discord_message_id else [])

    # --- display ------------------------------------------------------------------------
    def _take_scheduler(self, bucket: int) -> EditScheduler:
        """The bucket's scheduler, shared by the rounds using it at the moment; dropped when the last ends."""
        if bucket not in self.schedulers:
            self.schedulers[bucket] = EditScheduler(self.bot.config.discord.edit_interval)
        self._scheduler_users[bucket] = self._scheduler_users.get(bucket, 0) + 1
        return self.schedulers[bucket]

    def _give_back_scheduler(self, bucket: int) -> None:
        self._scheduler_users[bucket] -= 1
        if not self._scheduler_users[bucket]:
            del self._scheduler_users[bucket]
            self.schedulers.pop(bucket).close()

    async def thread_posters(self, thread: discord.Thread,
                             panel: Sequence[ModelConfig]) -> tuple[dict[str, Poster], int]:
        """Posters for each model, and the id of the rate-limit bucket they share.

        Discord limits webhook calls per webhook, and there is one webhook per parent channel, so all
        threads of a channel share one scheduler; the embed fallback is limited per thread.
        """
        parent = thread.parent
        webhook = await self.webhooks.for_channel(parent) if isinstance(parent, discord.TextChannel) else None
        if webhook is None or parent is None:
            return {m.alias: EmbedPoster(thread, m.name, m.avatar_url) for m in panel}, thread.id
        forget = lambda: self.webhooks.forget(parent.id)  # noqa: E731  # deleted by an admin: make a new one
        return {m.alias: WebhookPoster(webhook, thread, m.name, m.avatar_url, on_gone=forget)
                for m in panel}, parent.id

    async def send_text(self, channel: discord.abc.Messageable, text: str) -> None:
        for chunk in split_message(text):
            await channel.send(chunk, allowed_mentions=NO_MENTIONS)

    # --- rounds -------------------------------------------------------------------------
    async def run_round(self, discussion: Discussion, panel: Sequence[ModelConfig], kind: RoundKind,
                        messages_for: MessagesFor, posters: Mapping[str, Poster], bucket: int,
                        headers: Mapping[str, str] | None = None) -> RoundResult:
        """Run the models and stream each answer into its poster; Discord ids are stored at the end."""
        scheduler = self._take_scheduler(bucket)
        lives = {m.alias: LiveMessage(posters[m.alias], scheduler, (headers or {}).get(m.alias, ""))
                 for m in panel}

        def show(event: RoundEvent) -> None:
            live = lives[event.alias]
            if isinstance(event, ModelDelta):
                live.update(event.text)
            elif isinstance(event, ModelFinished):
                live.update(event.text, final=True)
            elif isinstance(event, ModelFailed) and event.text:
                live.update(f"{event.text}\n\n-# ⚠️ cut off: {event.reason}", final=True)
            elif isinstance(event, ModelStopped) and event.text:
                live.update(f"{event.text}\n\n-# ⏹️ stopped", final=True)

        round_, answers = await self.runner.start_round(discussion, kind, panel)
        try:
            return await self.runner.play(round_, answers, messages_for, show)
        finally:
            rows = {a.model.alias: a.row.id for a in answers}
            try:
                await asyncio.shield(self._settle(scheduler, lives, rows))
            finally:
                self._give_back_scheduler(bucket)

    async def _settle(self, scheduler: EditScheduler, lives: Mapping[str, LiveMessage],
                      rows: Mapping[str, int]) -> None:
        """Let the last edits land, then remember which Discord messages hold each answer."""
        await scheduler.drain()
        for alias, live in lives.items():
            if live.message_ids:
                await Message.filter(id=rows[alias]).update(discord_message_ids=live.message_ids)

    async def run_in_thread(self, discussion: Discussion, thread: discord.Thread, panel: Sequence[ModelConfig],
                            kind: RoundKind, messages_for: MessagesFor) -> RoundResult:
        posters, bucket = await self.thread_posters(thread, panel)
        result = await self.run_round(discussion, panel, kind, messages_for, posters, bucket)
        try:
            await self.send_text(thread, round_summary(result))
        except discord.HTTPException as error:  # thread deleted or locked meanwhile: the DB has it all
            log.warning("could not post the round summary in %s: %s", thread.id, error.status)
        return result

    async def run_discussion(self, discussion: Discussion, thread: discord.Thread, panel: Sequence[ModelConfig],
                             rounds: int) -> None:
        async def play(kind: RoundKind, messages_for: MessagesFor) -> RoundResult:
            return await self.run_in_thread(discussion, thread, panel, kind, messages_for)

        await run_rounds(discussion, panel, rounds, play, lambda text: self.send_text(thread, text))

    async def run_mention(self, discussion: Discussion, thread: discord.Thread, panel: Sequence[ModelConfig],
                          user_name: str) -> None:
        """Models addressed in the thread answer, with the whole thread as context, as a round of its own."""
        async with active(discussion):
            messages_for, dropped = await round_context(discussion, panel, mention_note(user_name))
            if dropped:
                await self.send_text(thread, trimmed_notice(panel, dropped))
            await self.run_in_thread(discussion, thread, panel, RoundKind.MENTION, messages_for)

    # --- restart recovery ---------------------------------------------------------------
    async def mark_interrupted(self, guild_ids: Sequence[int]) -> list[Discussion]:
        """Discussions this process's guilds left running when it stopped become interrupted; text is kept."""
        stale = await Discussion.filter(status=DiscussionStatus.RUNNING, guild__discord_id__in=list(guild_ids))
        stale = [d for d in stale if not (d.thread_id and self.is_running(d.thread_id))]
        for discussion in stale:
            await Round.filter(discussion=discussion, status=RoundStatus.RUNNING).update(
                status=RoundStatus.INTERRUPTED, finished_at=now())
            await Message.filter(discussion=discussion, status=MessageStatus.STREAMING).update(
                status=MessageStatus.INTERRUPTED, error="interrupted by a restart")
            await set_status(discussion, DiscussionStatus.INTERRUPTED)
        return stale

    # --- background work and /stop ------------------------------------------------------
    def start(self, key: int, work: Callable[[], Awaitable[None]], *, report_to: discord.abc.Messageable,
              hold: BudgetHold | None = None) -> None:
        """Run discussion work in the background, stoppable with /stop; work for one thread runs in turn.

        The run's budget hold is released when the work ends, however it ends.
        """
        previous = self.running.get(key)

        async def guarded() -> None:
            try:
                if previous is not None:
                    await asyncio.shield(asyncio.gather(previous, return_exceptions=True))
                await work()
            except asyncio.CancelledError:
                if previous is not None:
                    previous.cancel()
                raise
            except Exception as error:
                log.exception("discussion %s failed", key)
                try:
                    await report_to.send(f"⚠️ This discussion stopped on an internal error "
                                         f"({type(error).__name__}). What was said so far is saved.",
                                         allowed_mentions=NO_MENTIONS)
                except discord.HTTPException:
                    pass
            finally:
                await asyncio.shield(release_budget(hold))
                if self.running.get(key) is task:
                    del self.running[key]

        task = asyncio.create_task(guarded(), name=f"moai-discussion-{key}")
        self.running[key] = task

    def is_running(self, key: int) -> bool:
        task = self.running.get(key)
        return task is not None and not task.done()

    async def stop(self, key: int) -> bool:
        task = self.running.get(key)
        if task is None or task.done():
            return False
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return True

    async def wait_idle(self) -> None:
        """Wait for every background discussion (tests, shutdown)."""
        while self.running:
            await asyncio.gather(*self.running.values(), return_exceptions=True)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Orchestrator(bot))
