"""Runs one round: every model of a panel at once, each isolated from the others, stored as it goes.

Discord-free so the bot and the console share it. Listeners get events synchronously from the model
tasks; they must be quick (buffer and return), which keeps a slow display from slowing a model.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field

from tortoise.timezone import now

from bot import metrics
from bot.config import ModelConfig
from bot.db.models import Discussion, Message, Round, SourceRecord
from bot.db.retry import persist
from bot.engine.checkpoints import Checkpoints
from bot.engine.context import message_tokens
from bot.engine.notices import ImagesSeen, SearchSeen, VoteCall
from bot.estimate import estimate_tokens, message_cost
from bot.kinds import AuthorKind, MessageStatus, RoundKind, RoundStatus
from bot.llm.errors import BadRequest, ProviderError
from bot.llm.registry import ModelClients
from bot.llm.types import (
    ChatMessage,
    ReasoningDelta,
    SourceCited,
    StreamEnd,
    StreamOpened,
    TextDelta,
    Usage,
    WebSearch,
    WebSearched,
    is_cut_off,
    is_filtered,
)
from bot.logs import log_event
from bot.search.backends import SearchResult
from bot.search.sources_prompt import cited_numbers
from bot.seats import Seat
from bot.text import clean_text

__all__ = [  # Round: re-exported for the displays' annotations
    "NO_SEARCH", "STOPPED_REASON", "Answer", "Bill", "Listener", "MessagesFor", "ModelDelta", "ModelFailed",
    "ModelFinished", "ModelStarted", "ModelStopped", "NumberedSource", "Round", "RoundEvent", "RoundResult",
    "RoundRunner", "numbered_sources",
]

log = logging.getLogger(__name__)

STOPPED_REASON = "stopped"
NO_SEARCH = "answered without search"  # how every note of an answer that could not search begins
BLIND_SEARCHED = "searched the web"


@dataclass(frozen=True, slots=True)
class ModelStarted:
    alias: str


@dataclass(frozen=True, slots=True)
class ModelDelta:
    alias: str
    text: str  # everything so far, not just the new piece


@dataclass(frozen=True, slots=True)
class ModelFinished:
    alias: str
    text: str
    usage: Usage
    latency_ms: int
    stop_reason: str | None = None  # cut off (length/max_tokens) or filtered answers say so where shown


@dataclass(frozen=True, slots=True)
class ModelFailed:
    alias: str
    text: str  # what had arrived before the failure; kept and shown
    reason: str
    latency_ms: int


@dataclass(frozen=True, slots=True)
class ModelStopped:
    alias: str
    text: str


RoundEvent = ModelStarted | ModelDelta | ModelFinished | ModelFailed | ModelStopped
Listener = Callable[[RoundEvent], None]
Bill = Callable[["Answer"], Awaitable[None]]  # writes a finished answer's cost to the ledger
MessagesFor = Callable[[Seat], list[ChatMessage]]


@dataclass(slots=True)
class Answer:
    seat: Seat
    row: Message
    text: str = ""
    status: MessageStatus = MessageStatus.STREAMING
    error: str | None = None
    usage: Usage = field(default_factory=Usage)
    latency_ms: int | None = None
    first_token_ms: int | None = None
    reasoning: str = ""
    stop_reason: str | None = None
    error_class: str | None = None  # for operators' logs: ProviderError subclass, HTTP status, retries spent
    error_status: int | None = None
    retries: int = 0
    opened: bool = False  # the provider accepted the request: the call is billed whatever happens next
    # The front end's ids of the messages showing it (Discord message ids; set by the front end as it posts).
    # Stored with the checkpoints and the final save, so a new message part costs no statement of its own.
    shown_in: list[int] = field(default_factory=list)
    shown_stored: list[int] = field(default_factory=list)  # what the database has of `shown_in`
    sources: list[SourceCited] = field(default_factory=list)  # web sources the provider cited, first come first
    # Web search, as the round planned it: the provider searches (`web_search`), or moai gave it numbered
    # results (`given`, from `given_by`), or it answers without search and `search_note` says why.
    web_search: WebSearch | None = None
    given: tuple[SearchResult, ...] = ()
    given_by: str = ""
    search_note: str = ""
    searches_seen: int = 0  # successful searches its stream showed (billed even if the usage never arrives)

    @property
    def model(self) -> ModelConfig:
        return self.seat.model


@dataclass(slots=True)
class RoundResult:
    round: Round
    answers: list[Answer]
    vote: VoteCall | None = None  # the members' vote opened under it, if any
    # The debate round it is, as the models were told (mention and consensus rounds: the one they follow);
    # the stored round number also counts mention rounds. 0: not known (the round was run on its own).
    shown_number: int = 0
    images: ImagesSeen | None = None  # the discussion has images: which models of this round saw them
    search: SearchSeen | None = None  # the round searched the web: how it went for each answer


@dataclass(slots=True)
class RunnerStats:
    """Counters for benchmarks and tests: proves the DB is not written per token."""

    db_writes: int = 0
    deltas: int = 0


class RoundRunner:
    def __init__(self, clients: ModelClients, *, checkpoint_interval: float = 2.0) -> None:
        self.clients = clients
        self.checkpoint_interval = checkpoint_interval
        self.stats = RunnerStats()
        self.checkpoints = Checkpoints(lambda: self.checkpoint_interval, self.stats)

    async def start_round(self, discussion: Discussion, kind: RoundKind,
                          panel: Sequence[Seat]) -> tuple[Round, list[Answer]]:
        last = await Round.filter(discussion=discussion).order_by("-number").first()
        number = (last.number if last is not None else 0) + 1
        round_ = await Round.create(discussion=discussion, number=number, kind=kind)
        answers: list[Answer] = []
        try:
            for place in panel:
                row = await Message.create(discussion=discussion, round=round_, author_kind=AuthorKind.MODEL,
                                           author_name=place.label[:100], model_alias=place.alias,
                                           status=MessageStatus.STREAMING)
                answers.append(Answer(place, row))
        except BaseException:  # a /stop (or a failure) while the rows are made: none may be left mid-stream
            await asyncio.shield(self.abandon(round_, answers))
            raise
        self.stats.db_writes += 1 + len(answers)
        return round_, answers

    async def run(self, discussion: Discussion, kind: RoundKind, panel: Sequence[Seat],
                  messages_for: MessagesFor, listener: Listener = lambda event: None,
                  bill: Bill | None = None) -> RoundResult:
        round_, answers = await self.start_round(discussion, kind, panel)
        return await self.play(round_, answers, messages_for, listener, bill)

    async def play(self, round_: Round, answers: list[Answer], messages_for: MessagesFor,
                   listener: Listener = lambda event: None, bill: Bill | None = None) -> RoundResult:
        """All models concurrently; one failing or slow model never blocks or hides the others.

        Cancelling the calling task stops every model, keeps their partial text (status cancelled)
        and marks the round cancelled before CancelledError propagates.
        """
        tasks = [asyncio.create_task(self._answer(a, messages_for(a.seat), listener, bill),
                                     name=f"moai-model-{a.model.alias}") for a in answers]
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            # Shielded: a second cancel (another /stop, the thread vanishing) must not cut the saving short.
            await asyncio.shield(self._settle_cancelled(round_, tasks))
            raise
        await self._close_round(round_, RoundStatus.COMPLETED)
        return RoundResult(round_, answers)

    async def abandon(self, round_: Round, answers: list[Answer]) -> None:
        """A round stopped before any model was asked: its rows say so instead of looking mid-stream."""
        for answer in answers:
            answer.status, answer.error = MessageStatus.CANCELLED, STOPPED_REASON
            await self._save(answer)
        await self._close_round(round_, RoundStatus.CANCELLED)

    async def _settle_cancelled(self, round_: Round, tasks: list[asyncio.Task[None]]) -> None:
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._close_round(round_, RoundStatus.CANCELLED)

    async def _close_round(self, round_: Round, status: RoundStatus) -> None:
        round_.status = status
        round_.finished_at = now()
        await persist(lambda: round_.save(update_fields=["status", "finished_at"]), "close round")
        self.stats.db_writes += 1

    async def _stream(self, answer: Answer, messages: list[ChatMessage], listener: Listener, started: float) -> None:
        alias = answer.model.alias
        async with aclosing(self.clients.stream(answer.model, messages, answer.web_search)) as stream:
            async for event in stream:
                if isinstance(event, TextDelta):
                    if answer.first_token_ms is None:
                        answer.first_token_ms = _ms_since(started)
                    answer.text += clean_text(event.text)
                    self.stats.deltas += 1
                    listener(ModelDelta(alias, answer.text))
                    self.checkpoints.grew(answer)
                elif isinstance(event, ReasoningDelta):
                    answer.reasoning += clean_text(event.text)
                elif isinstance(event, SourceCited):
                    if all(source.url != event.url for source in answer.sources):
                        answer.sources.append(event)
                elif isinstance(event, WebSearched):
                    searched(answer, event)
                elif isinstance(event, StreamOpened):
                    answer.opened = True
                elif isinstance(event, StreamEnd):
                    answer.usage, answer.stop_reason = event.usage, event.stop_reason

    async def _answer(self, answer: Answer, messages: list[ChatMessage], listener: Listener,
                      bill: Bill | None) -> None:
        alias = answer.model.alias
        started = time.monotonic()
        listener(ModelStarted(alias))
        metrics.ACTIVE_STREAMS.inc()
        self.checkpoints.begin(answer)
        try:
            try:
                await self._stream(answer, messages, listener, started)
            except BadRequest as refused:
                if answer.web_search is None or answer.opened:
                    raise
                # The provider refused the request with search (no plugin, no tool for this model): once more
                # without it, and the answer says so. Nothing was billed: the request never opened.
                log_event(log, "search_refused", logging.WARNING, model=alias, provider=answer.model.provider,
                          status=refused.status, reason=refused.detail[:200] if refused.detail else refused.reason)
                metrics.SEARCHES.labels(answer.model.provider, "refused").inc()
                answer.web_search = None
                answer.search_note = f"{NO_SEARCH}: the provider refused the search request"
                await self._stream(answer, messages, listener, started)
            answer.status, answer.error = verdict(answer)
        except ProviderError as error:
            # In a blind round the provider's name (and its detail) would say who this is: the reason only.
            shown = f"{error.reason}" + (f" (HTTP {error.status})" if error.status else "")
            answer.status, answer.error = MessageStatus.FAILED, shown if answer.seat.blind else str(error)
            answer.error_class, answer.error_status, answer.retries = type(error).__name__, error.status, error.retries
        except asyncio.CancelledError:
            answer.status, answer.error = MessageStatus.CANCELLED, STOPPED_REASON
        except Exception as error:  # a bug must not take the other models down with it
            log.exception("model task %s crashed", alias)
            answer.status, answer.error = MessageStatus.FAILED, f"internal error ({type(error).__name__})"
            answer.error_class = type(error).__name__
        finally:
            metrics.ACTIVE_STREAMS.dec()
            self.checkpoints.end(answer)
        if answer.opened and answer.usage.total is None:  # stopped, broken, or a server that reports no usage
            answer.usage = estimated_usage(messages, answer.text, answer.reasoning)
        answer.latency_ms = _ms_since(started)
        if answer.web_search is not None:
            answer.search_note = answer.search_note or search_outcome(answer)
        if answer.seat.blind and answer.search_note:  # how a model searches says whose it is: one wording
            answer.search_note = NO_SEARCH if answer.search_note.startswith(NO_SEARCH) else BLIND_SEARCHED
        observe(answer)
        await _uncancellable(self._record(answer, bill))
        if answer.status is MessageStatus.COMPLETE:
            listener(ModelFinished(alias, answer.text, answer.usage, answer.latency_ms, answer.stop_reason))
        elif answer.status is MessageStatus.CANCELLED:
            listener(ModelStopped(alias, answer.text))
        else:
            listener(ModelFailed(alias, answer.text, answer.error or "", answer.latency_ms))

    async def _record(self, answer: Answer, bill: Bill | None) -> None:
        if bill is not None:  # the money record first: a crash right after must not lose a paid call
            await persist(lambda: bill(answer), "bill answer")
        await persist(lambda: self._save(answer), "save answer")
        if answer.sources or answer.given:  # one statement for all of them, only when there are any
            await persist(lambda: self._save_sources(answer), "save sources")

    async def _save(self, answer: Answer) -> None:
        row = answer.row
        row.content = answer.text
        row.status = answer.status
        row.error = answer.error[:300] if answer.error else None
        row.input_tokens = answer.usage.input_tokens
        row.output_tokens = answer.usage.output_tokens
        row.latency_ms = answer.latency_ms
        row.first_token_ms = answer.first_token_ms
        row.cost_usd = message_cost(answer.model, answer.usage)
        row.usage_estimated = answer.usage.estimated
        row.reasoning = answer.reasoning
        row.reasoning_tokens = answer.usage.reasoning_tokens
        row.stop_reason = answer.stop_reason[:32] if answer.stop_reason else None
        row.search_note = answer.search_note[:200]
        shown = list(answer.shown_in)
        row.discord_message_ids = shown
        await row.save(update_fields=["content", "status", "error", "input_tokens", "output_tokens",
                                      "latency_ms", "first_token_ms", "cost_usd", "reasoning", "reasoning_tokens",
                                      "stop_reason", "usage_estimated", "discord_message_ids", "search_note",
                                      "updated_at"])
        answer.shown_stored = shown
        self.stats.db_writes += 1

    @staticmethod
    async def _save_sources(answer: Answer) -> None:
        row = answer.row
        await SourceRecord.bulk_create([
            SourceRecord(message_id=row.id, discussion_id=row.discussion_id, number=s.number, url=s.url,
                         title=s.title, quote=s.quote, provider=s.provider[:32], cited=s.cited)
            for s in numbered_sources(answer)])


async def _uncancellable(work: Awaitable[None]) -> None:
    """Finish `work` even if this task is cancelled meanwhile (again): an answer's final row and its bill
    must be written however many stops arrive. The cancellation is not lost: the round's own task carries it."""
    task = asyncio.ensure_future(work)
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            continue
    task.result()


def estimated_usage(messages: Sequence[ChatMessage], text: str, reasoning: str) -> Usage:
    """What the provider bills for a call whose usage never arrived: the prompt as sent, and every token it
    streamed (reasoning included), by moai's pessimistic estimate."""
    return Usage(input_tokens=sum(message_tokens(m) for m in messages),
                 output_tokens=estimate_tokens(text) + (estimate_tokens(reasoning) if reasoning else 0),
                 reasoning_tokens=estimate_tokens(reasoning) if reasoning else None, estimated=True)


def verdict(answer: Answer) -> tuple[MessageStatus, str | None]:
    """A stream that ended: complete, unless it ended with no answer text because of a limit or a filter."""
    if answer.text.strip():
        return MessageStatus.COMPLETE, None
    if is_cut_off(answer.stop_reason):
        limit = f"hit max_tokens ({answer.model.max_tokens})"
        if answer.reasoning:
            return MessageStatus.FAILED, f"thought but gave no answer ({limit})"
        return MessageStatus.FAILED, f"gave no answer ({limit})"
    if is_filtered(answer.stop_reason):
        return MessageStatus.FAILED, "the provider's content filter stopped the answer"
    if answer.reasoning:
        return MessageStatus.FAILED, "thought but gave no answer"
    return MessageStatus.COMPLETE, None


@dataclass(frozen=True, slots=True)
class NumberedSource:
    number: int
    url: str
    title: str
    quote: str
    provider: str  # who produced it: the model's provider, or moai's backend ("searxng")
    cited: bool


def numbered_sources(answer: Answer) -> list[NumberedSource]:
    """An answer's sources as stored and shown: moai's results by the numbers the model was given (its [n]
    markers), each marked cited or not; then the provider's citations, numbered after them as they came."""
    cited = set(cited_numbers(answer.text, len(answer.given)))
    numbered = [NumberedSource(n, r.url, r.title, r.snippet, answer.given_by, n in cited)
                for n, r in enumerate(answer.given, start=1)]
    return numbered + [NumberedSource(len(answer.given) + n, s.url, s.title, s.quote, answer.model.provider, True)
                       for n, s in enumerate(answer.sources, start=1)]


def searched(answer: Answer, event: WebSearched) -> None:
    if event.failed:
        if event.failed != "max_uses_exceeded":  # the answer's limit, not a failure: its searches ran
            answer.search_note = f"a web search failed ({event.failed}); the model went on without it"
            log_event(log, "search_failed", logging.WARNING, model=answer.model.alias,
                      provider=answer.model.provider, reason=event.failed)
            metrics.SEARCHES.labels(answer.model.provider, "failed").inc()
    else:
        answer.searches_seen += 1


def search_outcome(answer: Answer) -> str:
    """How the provider's search went, in words for the status line and the exports."""
    count = max(answer.usage.web_searches, answer.searches_seen)
    if count:
        return f"searched the web {count}×"
    return "searched the web" if answer.sources else "searched the web (cited no source)"


def observe(answer: Answer) -> None:
    """Latency histograms count answers that arrived; failures are counted by provider and reason."""
    alias = answer.model.alias
    metrics.ANSWERS.labels(alias, answer.status.value).inc()
    if answer.status is MessageStatus.COMPLETE and answer.latency_ms is not None:
        metrics.ANSWER_SECONDS.labels(alias).observe(answer.latency_ms / 1000)
    if answer.first_token_ms is not None:
        metrics.FIRST_TOKEN_SECONDS.labels(alias).observe(answer.first_token_ms / 1000)
    if answer.status is MessageStatus.FAILED:
        metrics.FAILURES.labels(answer.model.provider, answer.error_class or "unknown").inc()


def _ms_since(start: float) -> int:
    return int((time.monotonic() - start) * 1000)
