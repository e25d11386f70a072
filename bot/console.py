"""`moai console`: the same orchestration as the bot, in a terminal, on the same database."""

from __future__ import annotations

import getpass
import time
from collections.abc import Mapping, Sequence

import aiohttp
from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.spinner import Spinner
from rich.table import Table

from bot.config import AppConfig, ModelConfig
from bot.db.models import AuthorKind, Discussion, DiscussionMode, Message, MessageStatus, RoundKind
from bot.db.setup import close_database, open_database
from bot.discussion import run_rounds
from bot.llm.registry import ModelClients
from bot.panel import clean_question, parse_models
from bot.report import answer_line
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
from bot.secrets import Redactor


class RoundProgress:
    """A live table: one row per model, thinking / streaming / done / failed."""

    def __init__(self, panel: Sequence[ModelConfig]) -> None:
        self.started = time.monotonic()
        self.state: dict[str, str] = {m.alias: "thinking" for m in panel}
        self.chars: dict[str, int] = dict.fromkeys(self.state, 0)
        self.names = {m.alias: m.name for m in panel}

    def on_event(self, event: RoundEvent) -> None:
        if isinstance(event, ModelDelta):
            self.state[event.alias], self.chars[event.alias] = "streaming", len(event.text)
        elif isinstance(event, ModelFinished):
            self.state[event.alias] = f"done in {event.latency_ms / 1000:.1f} s"
        elif isinstance(event, ModelFailed):
            self.state[event.alias] = f"failed: {event.reason}"
        elif isinstance(event, ModelStopped):
            self.state[event.alias] = "stopped"

    def render(self) -> Table:
        table = Table(show_header=False, box=None, pad_edge=False)
        for alias, state in self.state.items():
            busy = state in ("thinking", "streaming")
            mark = Spinner("dots") if busy else ("✓" if state.startswith("done") else "✗")
            detail = f"{state} · {self.chars[alias]} chars" if state == "streaming" else state
            table.add_row(mark, self.names[alias], detail)
        table.add_row("", "", f"[dim]{time.monotonic() - self.started:.1f} s[/dim]")
        return table


def print_round(console: Console, result: RoundResult) -> None:
    console.rule(f"Round {result.round.number}")
    for answer in result.answers:
        body = Markdown(answer.text) if answer.text else "[dim](no text)[/dim]"
        style = "green" if answer.status is MessageStatus.COMPLETE else "red"
        console.print(Panel(Group(body), title=answer.model.name, subtitle=answer_line(answer).replace("**", ""),
                            border_style=style))


async def run_console(config: AppConfig, question: str, mode: str, rounds: int, models: str | None,
                      environ: Mapping[str, str], console: Console) -> int:
    question = clean_question(question, config)
    panel = parse_models(config, models) if models else config.default_models()
    await open_database(config.database.url)
    try:
        async with aiohttp.ClientSession() as session:
            clients = ModelClients(config, session, environ=environ, redact=Redactor.from_config(config, environ))
            runner = RoundRunner(clients)
            discussion = await Discussion.create(
                mode=DiscussionMode(mode), question=question, models=[m.alias for m in panel],
                rounds_planned=rounds)
            await Message.create(discussion=discussion, author_kind=AuthorKind.USER,
                                 author_name=getpass.getuser() or "you", content=question)

            async def play(kind: RoundKind, messages_for: MessagesFor) -> RoundResult:
                progress = RoundProgress(panel)
                with Live(progress.render(), console=console, refresh_per_second=8, transient=True) as live:
                    def show(event: RoundEvent) -> None:
                        progress.on_event(event)
                        live.update(progress.render())

                    result = await runner.run(discussion, kind, panel, messages_for, show)
                print_round(console, result)
                return result

            async def notify(text: str) -> None:
                console.print(text.removeprefix("-# "), style="dim")

            results = await run_rounds(discussion, panel, rounds, play, notify)
    finally:
        await close_database()
    failed = all(a.status is not MessageStatus.COMPLETE for r in results for a in r.answers)
    console.print(f"[dim]Stored as discussion #{discussion.id} in {config.database.url.split('://')[0]}.[/dim]")
    return 1 if failed else 0
