"""`moai console`: the same services and modes as the bot, shown in a terminal, stored in the same database."""

from __future__ import annotations

import asyncio
import getpass
import mimetypes
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel as Box
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from bot.attachments import Attachment, describe_file, prepare_all
from bot.config import AppConfig, AttachmentsConfig
from bot.container import Services
from bot.db.setup import close_database, open_database
from bot.engine.display import RoundView
from bot.engine.notices import (
    BlindPause,
    ConsensusWritten,
    ContextTrimmed,
    DepthDecided,
    EarlyStop,
    EveryModelFailed,
    ForecastsRead,
    ModeratorFallback,
    NoModerator,
    Notice,
    PanelistsNamed,
    PeerReviewed,
    Revealed,
    StanceTimeline,
    VoteCall,
    VoteClosed,
)
from bot.engine.rounds import (
    Answer,
    ModelDelta,
    ModelFailed,
    ModelFinished,
    ModelStopped,
    Round,
    RoundEvent,
    RoundResult,
)
from bot.errors import Hint, UserError
from bot.estimate import message_cost
from bot.kinds import DEBATE_KINDS, DiscussionMode, MessageStatus, MinoritySource, RoundKind, RunOutcome
from bot.llm.registry import ModelClients
from bot.panel import parse_models
from bot.roundtable import Accepted, Actor, ConsensusAsked, Continued, NewDiscussion, Opening, Stage, Stopping
from bot.search.shown import answer_sources, sources_text
from bot.secrets import Redactor
from bot.services.discussions import Place
from bot.services.runs import Run
from bot.stances import UNKNOWN, split_stance, timeline_text, visible_part

CONSOLE_RUN_KEY = 0


TAIL_LINES = 2  # of each streaming answer, under its name


def cost_text(answer: Answer) -> str:
    """What the answer cost, as the ledger bills it; nothing in a blind round (a price names the model)."""
    if answer.seat.blind:
        return ""
    cost = message_cost(answer.model, answer.usage)
    if cost is None:
        return ""
    return f" · {'~' if answer.usage.estimated else ''}${cost:.4f}" if answer.model.priced else " · unpriced"


def status_line(answer: Answer) -> str:
    """The panel's subtitle: short, so the border never cuts it (a failure's full text is inside the panel)."""
    name = answer.seat.label
    if answer.status is MessageStatus.COMPLETE:
        usage, about = answer.usage, "~" if answer.usage.estimated else ""
        tokens = "tokens n/a" if usage.output_tokens is None else \
            f"{about}{usage.input_tokens or 0:,} → {about}{usage.output_tokens:,} tokens"
        return f"✓ {name} · {(answer.latency_ms or 0) / 1000:.1f} s · {tokens}{cost_text(answer)}"
    if answer.status is MessageStatus.CANCELLED:
        return f"stopped {name}{cost_text(answer)}"
    return f"✗ {name} · failed" + (" (partial answer kept)" if answer.text else "") + cost_text(answer)


def tail(text: str, width: int, lines: int = TAIL_LINES) -> str:
    """The last `lines` lines of what a model has written so far, each cut to `width` from its end."""
    shown = [line.strip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return "\n".join(line if len(line) <= width else "…" + line[-(width - 1):] for line in shown)


def notice_line(notice: Notice) -> str:
    match notice:
        case ContextTrimmed(dropped, files):
            parts = [f"{name}: {n} oldest message(s) left out" for name, n in dropped]
            return "Context trimmed: " + "; ".join(parts + [f"{name}: {n} older file(s) left out"
                                                            for name, n in files])
        case EarlyStop(number, unused, by_stances):
            how = "held the same agreeing stance" if by_stances else "agreed"
            return f"Every model {how} in round {number}: stopping early ({unused} round(s) left unused)."
        case DepthDecided(go_on, reason, saved, saved_usd):
            if go_on:
                return f"depth:auto: {reason} after round 1, so the debate goes on."
            return f"depth:auto: {reason} after round 1; {saved} round(s) skipped (up to ${saved_usd:.4f} saved)."
        case StanceTimeline(line):
            return timeline_text(line)
        case VoteClosed(tally, ties, all_bad, voided, _):
            votes = ", ".join(f"{label}={name}: {n}" for label, name, n in tally)
            return f"Vote closed: {votes}; tie {ties}, all bad {all_bad}" + (f" (not rated: {voided})" if voided
                                                                             else "")
        case EveryModelFailed(number, reasons):
            why = "; ".join(f"{name}: {reason}" for name, reason in reasons)
            return (f"Every model failed in round {number} ({why}), so the discussion stops here. "
                    "Use `moai console --continue ID` to try again.")
        case PanelistsNamed(names):
            return "The models read each other without names: " + ", ".join(
                f"{label} is {name}" for label, name in names) + "."
        case BlindPause(left):
            return f"That round was blind; {left} round(s) left for /continue."
        case VoteCall(_, labels, _):
            return "Vote open in Discord for: " + ", ".join(labels)
        case Revealed(names):
            return "Revealed: " + ", ".join(f"{label} was {name}" for label, name in names)
        case ConsensusWritten(stances, minority, source, claims, sources):
            lines = ["Where each model stands: " + "; ".join(f"{name}: {stance}" for name, stance in stances)
                     ] if stances else []
            whose = " (moai's, from the stances: the moderator wrote none)" if source is MinoritySource.STANCES else ""
            lines += [f"Minority report{whose}: {minority}"] if minority else []
            if claims:
                lines += [notice.claims_line(), *(f"[{s.number}] {s.url}" for s in sources)]
            return "\n".join(lines)
        case ForecastsRead(_, _, final, _, _):
            return ("Final forecasts: " if final else "Forecasts so far: ") + "; ".join(notice.lines())
        case ModeratorFallback(failed, next_):
            return f"{failed} could not moderate; asking {next_} instead."
        case NoModerator():
            return "No moderator could write the consensus."
        case PeerReviewed(record, _, _, _, _):
            return record


class RoundProgress:
    """A live table: one row per model, thinking / streaming (the tail of its text) / done / failed."""

    def __init__(self, answers: Sequence[Answer], live: Live, stances: bool = False) -> None:
        self.started = time.monotonic()
        self.state: dict[str, str] = {a.model.alias: "thinking" for a in answers}
        self.texts: dict[str, str] = dict.fromkeys(self.state, "")
        self.names = {a.model.alias: a.seat.label for a in answers}
        self.live = live
        self.stances = stances  # a debate round: its stance block is not shown while it streams

    def on_event(self, event: RoundEvent) -> None:
        if isinstance(event, ModelDelta):
            self.state[event.alias] = "streaming"
            self.texts[event.alias] = visible_part(event.text) if self.stances else event.text
        elif isinstance(event, ModelFinished):
            self.state[event.alias] = f"done in {event.latency_ms / 1000:.1f} s"
        elif isinstance(event, ModelFailed):
            self.state[event.alias] = f"failed: {event.reason}"
        elif isinstance(event, ModelStopped):
            self.state[event.alias] = "stopped"
        self.live.update(self.render())

    def render(self) -> Table:
        table = Table(show_header=False, box=None, pad_edge=False, expand=True)
        table.add_column(width=2)
        table.add_column(no_wrap=True, max_width=24)
        table.add_column(ratio=1, overflow="fold")
        width = max(20, self.live.console.width - 32)
        for alias, state in self.state.items():
            busy = state in ("thinking", "streaming")
            mark = Spinner("dots") if busy else ("✓" if state.startswith("done") else "✗")
            detail = Text(tail(self.texts[alias], width) or "…") if state == "streaming" else Text(state)
            table.add_row(mark, Text(self.names[alias]), detail)
        table.add_row("", "", f"[dim]{time.monotonic() - self.started:.1f} s[/dim]")
        return table

    async def settle(self) -> None:
        self.live.stop()


class ConsoleDisplay:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def begin_round(self, round_: Round, answers: Sequence[Answer]) -> RoundView:
        live = Live(console=self.console, refresh_per_second=8, transient=True)
        progress = RoundProgress(answers, live, stances=round_.kind in (RoundKind.DISCUSS, RoundKind.MENTION))
        live.update(progress.render())
        live.start()
        return progress

    async def end_round(self, result: RoundResult) -> None:
        self.console.rule(f"Round {result.shown_number or result.round.number}"
                          + ("" if result.round.kind in DEBATE_KINDS else f" · {result.round.kind.value}"))
        for answer in result.answers:
            text, stance = answer.text, UNKNOWN
            if result.round.kind is RoundKind.DISCUSS:
                text, stance = split_stance(text)
            parts: list[Any] = [Markdown(text) if text else Text("(no text)", style="dim")]
            if result.round.kind is RoundKind.DISCUSS:
                held = f"{stance.position} ({stance.confidence}%)" if stance.known else "unknown"
                parts.append(Text(f"stance: {held}", style="dim"))
            if answer.status is MessageStatus.FAILED:  # in full, wrapped inside the panel: the fix is in it
                parts.append(Text(f"✗ {answer.error or 'failed'}", style="red"))
            style = "green" if answer.status is MessageStatus.COMPLETE else "red"
            self.console.print(Box(Group(*parts), title=Text(answer.seat.label), subtitle=Text(status_line(answer)),
                                   border_style=style))
        if result.images is not None:
            self.console.print(Text(f"🖼️ {result.images.line()}", style="dim"))
        if result.search is not None:
            self.console.print(Text(f"🔎 {result.search.line()}", style="dim"))
            with_sources = [answer_sources(a) for a in result.answers if a.sources or a.given]
            if with_sources:
                self.console.print(Markdown(sources_text(with_sources).replace("<http", "http").replace(">", "")))

    async def notice(self, notice: Notice) -> None:
        self.console.print(Text(notice_line(notice), style="dim"))


def read_attachments(paths: Sequence[str], limits: AttachmentsConfig) -> list[Attachment]:
    """`--attach PATH` files, checked like Discord attachments (UserError names the file)."""
    files = []
    for name in paths:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise UserError(f"cannot read {name}: {error.strerror}") from None
        files.append((path.name, mimetypes.guess_type(path.name)[0], data))
    return prepare_all(files, limits)


HINTS = {  # what the core's hints say in the terminal
    Hint.CONTINUE: "Use `moai console --continue ID` for more rounds.",
    Hint.STOP: "Wait for them to finish.",
    Hint.STOP_WHERE: "Press Ctrl-C to stop a run in this terminal.",
    Hint.PROJECTS: "Projects are listed in Discord (/project list).",
    Hint.BUDGET: "An admin sets it in Discord.",
}


def user_text(error: UserError) -> str:
    return f"{error} {HINTS[error.hint]}" if error.hint is not None else str(error)


class ConsoleStage:
    """The terminal as the roundtable's stage (and venue): one run at a time, shown as it streams."""

    key = CONSOLE_RUN_KEY
    place = Place()
    channel_id: int | None = None

    def __init__(self, console: Console) -> None:
        self.console = console

    def display(self) -> ConsoleDisplay:
        return ConsoleDisplay(self.console)

    async def accepted(self, event: Accepted) -> None:
        match event:
            case Continued(rounds):
                self.console.print(f"Continuing: {rounds} more round(s).", style="dim")
            case ConsensusAsked(peer_review):
                self.console.print("Asking for a consensus" + (" with peer review" if peer_review else "") + ".",
                                   style="dim")
            case Stopping():
                pass

    async def crashed(self, error: BaseException) -> None:
        self.console.print(f"This run stopped on an internal error ({type(error).__name__}); what was stored so far "
                           "is kept.", style="red")

    async def open(self, opening: Opening) -> ConsoleStage:
        for file in opening.files:
            self.console.print(Text(f"📎 {file.name} ({describe_file(file)})", style="dim"))
        return self

    async def abandon(self, stage: Stage) -> None:
        pass


def local_actor() -> Actor:
    """The operator at the terminal: steers any discussion, spends no server's budget."""
    return Actor(None, getpass.getuser() or "you", manages_threads=True, local=True)


@asynccontextmanager
async def console_services(config: AppConfig, environ: Mapping[str, str]) -> AsyncIterator[Services]:
    await open_database(config.database.url)
    try:
        async with aiohttp.ClientSession() as session:
            clients = ModelClients(config, session, environ=environ, redact=Redactor.from_config(config, environ))
            yield Services.build(config, clients)
    finally:
        await close_database()


async def to_the_end(run: Run) -> None:
    """Wait for the run; Ctrl-C stops it as /stop does (partial answers kept, marked, billed) before the
    database closes, and the interrupt goes on to the caller."""
    try:
        await run.wait()
    except asyncio.CancelledError:
        run.cancel()
        await asyncio.shield(run.wait())
        raise


def outcome(run: Run, console: Console, config: AppConfig) -> int:
    failed = run.outcome is not RunOutcome.COMPLETED or all(
        a.status is not MessageStatus.COMPLETE for r in run.results for a in r.answers)
    console.print(f"[dim]Stored as discussion #{run.discussion.id} in {config.database.url.split('://')[0]}.[/dim]")
    return 1 if failed else 0


async def run_console(config: AppConfig, question: str, mode: str, rounds: int, models: str | None,
                      environ: Mapping[str, str], console: Console, attach: Sequence[str] = (),
                      search: bool | None = None) -> int:
    """A new discussion in the terminal: `moai console QUESTION`."""
    files = read_attachments(attach, config.attachments)
    chosen = parse_models(config, models) if models is not None else None
    if chosen is not None and not chosen:
        raise UserError("--models names no model.")
    stage = ConsoleStage(console)
    async with console_services(config, environ) as services:
        run = await services.roundtable.open(NewDiscussion(DiscussionMode(mode), question, local_actor(), models=chosen,
                                                           rounds=rounds, files=files, search=search), stage)
        await to_the_end(run)
    return outcome(run, console, config)


async def continue_console(config: AppConfig, discussion_id: int, rounds: int | None, environ: Mapping[str, str],
                           console: Console, *, consensus: bool = False, peer_review: bool = False) -> int:
    """More rounds of a stored discussion (`--continue ID`), or its consensus (`--consensus ID`)."""
    stage = ConsoleStage(console)
    async with console_services(config, environ) as services:
        discussion = await services.store.get(discussion_id)
        if discussion is None:
            raise UserError(f"There is no discussion #{discussion_id} in this database.")
        roundtable = services.roundtable
        if consensus:
            run = await roundtable.consensus(discussion, local_actor(), stage, peer_review=peer_review)
        else:
            run = await roundtable.continue_(discussion, local_actor(), stage, rounds=rounds)
        await to_the_end(run)
    return outcome(run, console, config)
