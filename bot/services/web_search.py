"""Search for a round: which seats search through their provider (a request option), which read moai's own
backend results (numbered sources in their prompt), and which answer without search and say why.

One backend request per round, shared by every seat that reads it, billed as its own ledger row. A backend
that is down, slow or refusing costs nothing and loses no answer: those models answer without search, one log
line and one metric say why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp
from tortoise.timezone import now

from bot import metrics
from bot.config import AppConfig
from bot.db.models import Discussion, Message
from bot.engine.rounds import NO_SEARCH, Answer
from bot.kinds import AuthorKind, RoundKind
from bot.llm.types import WebSearch
from bot.logs import log_event
from bot.search.asked import search_query
from bot.search.backends import BACKEND_NAMES, SearchBackend, SearchFailed, SearchResult, backend_for
from bot.search.pricing import backend_fee
from bot.search.sources_prompt import results_note, unavailable_note
from bot.seats import Seat
from bot.services import ledger
from bot.services.ledger import Payer

__all__ = ["NO_ROUTE", "SEARCH_KINDS", "RoundSearch", "WebSearchService"]

log = logging.getLogger(__name__)

SEARCH_KINDS = (RoundKind.OPEN, RoundKind.DISCUSS, RoundKind.MENTION)  # rounds that answer; not the moderator
NO_ROUTE = "this model has no web search (no [search] backend is configured)"
GRACE_SECONDS = 2.0  # beyond the backend's own timeout, for what aiohttp's cannot cover (a frozen resolver)


@dataclass(frozen=True, slots=True)
class RoundSearch:
    """What search means for one round, per seat alias."""

    options: Mapping[str, WebSearch] = field(default_factory=dict)  # searched by the provider
    notes: Mapping[str, str] = field(default_factory=dict)  # appended to the seat's system prompt
    given: tuple[SearchResult, ...] = ()  # moai's results, numbered from 1, for the seats in `readers`
    readers: frozenset[str] = frozenset()
    origin: str = ""  # moai's backend ("searxng"), for the sources it gave
    unavailable: Mapping[str, str] = field(default_factory=dict)  # answers without search, and why

    def seat(self, answers: Sequence[Answer]) -> None:
        """Each answer of the round learns how it searches, before any model is asked."""
        for answer in answers:
            alias = answer.seat.alias
            answer.web_search = self.options.get(alias)
            if alias in self.readers:
                answer.given, answer.given_by = self.given, self.origin
                answer.search_note = f"read {len(self.given)} web result(s) from {BACKEND_NAMES[self.origin]}"
            elif alias in self.unavailable:
                answer.search_note = f"{NO_SEARCH}: {self.unavailable[alias]}"


class WebSearchService:
    def __init__(self, config: Callable[[], AppConfig], session: aiohttp.ClientSession | None,
                 environ: Mapping[str, str]) -> None:
        self._config = config
        self._session = session
        self._environ = environ

    def backend(self) -> SearchBackend | None:
        if self._session is None:
            return None
        return backend_for(self._config().search, self._session, self._environ)

    async def plan(self, discussion: Discussion, kind: RoundKind, panel: Sequence[Seat], payer: Payer) -> RoundSearch:
        config = self._config()
        options: dict[str, WebSearch] = {}
        unavailable: dict[str, str] = {}
        readers: list[str] = []
        for place in panel:
            route = config.search_route(place.model)
            if route == "provider":
                options[place.alias] = WebSearch(config.search.max_uses, config.search.max_results)
            elif route == "moai":
                readers.append(place.alias)
            else:
                unavailable[place.alias] = NO_ROUTE if place.model.search != "off" else "search is off for it"
        notes = {alias: unavailable_note(why) for alias, why in unavailable.items()}
        if not readers:
            return RoundSearch(options, notes, unavailable=unavailable)
        query = await self.query(discussion, kind)
        try:
            given = await self._search(config, query)
        except SearchFailed as failure:
            log_event(log, "search_failed", logging.WARNING, discussion=discussion.id, backend=config.search.backend,
                      reason=failure.reason)
            metrics.SEARCHES.labels(config.search.backend, "failed").inc()
            why = f"{failure.backend}: {failure.reason}"
            unavailable.update({alias: why for alias in readers})
            notes.update({alias: unavailable_note("the search service failed") for alias in readers})
            return RoundSearch(options, notes, unavailable=unavailable)
        metrics.SEARCHES.labels(config.search.backend, "ok").inc()
        await ledger.record_backend_search(payer, discussion.id, config.search.backend,
                                           BACKEND_NAMES[config.search.backend], backend_fee(config))
        note = results_note(query, given, now().date())
        notes.update({alias: note for alias in readers})
        return RoundSearch(options, notes, tuple(given), frozenset(readers), config.search.backend, unavailable)

    async def _search(self, config: AppConfig, query: str) -> list[SearchResult]:
        backend = self.backend()
        if backend is None:
            raise SearchFailed("search", "no backend")
        try:
            async with asyncio.timeout(config.search.timeout_seconds + GRACE_SECONDS):
                return await backend.search(query, config.search.max_results)
        except TimeoutError:
            raise SearchFailed(BACKEND_NAMES[backend.name],
                               f"no answer within {config.search.timeout_seconds:g}s") from None

    @staticmethod
    async def query(discussion: Discussion, kind: RoundKind) -> str:
        """A follow-up searches for what the member just asked; every other round for the question."""
        if kind is RoundKind.MENTION:
            last = await Message.filter(discussion=discussion, author_kind=AuthorKind.USER).order_by("-id").first()
            if last is not None and search_query(last.content):
                return search_query(last.content)
        return search_query(discussion.question) or discussion.question[:400]
