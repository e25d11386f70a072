"""The one place that queries models and writes discussion rows; every mode cog calls it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.config import ModelConfig
from bot.db.models import AuthorKind, Discussion, DiscussionMode, DiscussionStatus, Guild, Message, RoundKind
from bot.panel import Panel
from bot.prompts import Turn, build_messages
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
from bot.text import split_message
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
        await Message.create(discussion=discussion, author_kind=AuthorKind.USER, author_id=author.id,
                             author_name=author.display_name[:100], content=question)
        return discussion

    async def set_status(self, discussion: Discussion, status: DiscussionStatus) -> None:
        discussion.status = status
        await discussion.save(update_fields=["status", "updated_at"])

    def opening_messages(self, question: str, author_name: str, panel: Panel) -> MessagesFor:
        """Prompt for round one: the roundtable context and the user's question."""
        topic = panel.project.topic if panel.project else ""
        project_prompt = panel.project.system_prompt if panel.project else ""
        turns = [Turn(author_name, question)]
        return lambda model: build_messages(model, panel.models, turns, topic=topic, project_prompt=project_prompt)

    # --- display ------------------------------------------------------------------------
    def scheduler_for(self, bucket: int) -> EditScheduler:
        if bucket not in self.schedulers:
            self.schedulers[bucket] = EditScheduler(self.bot.config.discord.edit_interval)
        return self.schedulers[bucket]

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
        return {m.alias: WebhookPoster(webhook, thread, m.name, m.avatar_url) for m in panel}, parent.id

    async def send_text(self, channel: discord.abc.Messageable, text: str) -> None:
        for chunk in split_message(text):
            await channel.send(chunk, allowed_mentions=NO_MENTIONS)

    # --- rounds -------------------------------------------------------------------------
    async def run_round(self, discussion: Discussion, panel: Sequence[ModelConfig], kind: RoundKind,
                        messages_for: MessagesFor, posters: Mapping[str, Poster], bucket: int,
                        headers: Mapping[str, str] | None = None) -> RoundResult:
        """Run the models and stream each answer into its poster; Discord ids are stored at the end."""
        scheduler = self.scheduler_for(bucket)
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
            await asyncio.shield(self._settle(scheduler, lives, rows))

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
        await self.send_text(thread, round_summary(result))
        return result

    # --- background work and /stop ------------------------------------------------------
    def start(self, key: int, work: Callable[[], Awaitable[None]], *, report_to: discord.abc.Messageable) -> None:
        """Run a discussion in the background, one at a time per thread, stoppable with /stop."""

        async def guarded() -> None:
            try:
                await work()
            except asyncio.CancelledError:
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
                self.running.pop(key, None)

        self.running[key] = asyncio.create_task(guarded(), name=f"moai-discussion-{key}")

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
