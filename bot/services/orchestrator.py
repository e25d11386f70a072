"""The one place that plays modes: rounds are asked of the mode, run by the engine, shown by a display."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from bot.arena.blind import BLIND_NOTE, blind_panel
from bot.db.models import Discussion
from bot.engine.display import Display, RoundView, SilentView
from bot.engine.notices import ContextTrimmed, EveryModelFailed, ImagesSeen, SearchSeen
from bot.engine.prompts import sees_images
from bot.engine.rounds import Answer, Bill, MessagesFor, RoundResult, RoundRunner
from bot.engine.transcript import round_context, shared_images
from bot.kinds import DEBATE_KINDS, DiscussionMode, MessageStatus
from bot.llm.registry import ModelClients
from bot.logs import log_event
from bot.modes.base import Mode, ModeState, RoundPlan
from bot.search.pricing import native_fee, searches_billed
from bot.services import ledger
from bot.services.admission import Ticket
from bot.services.arena import ArenaService
from bot.services.discussions import DiscussionStore
from bot.services.judge import PositionJudge
from bot.services.ledger import Payer, SearchBill
from bot.services.runs import OnCrash, Run, RunInfo, RunRegistry
from bot.services.tagging import Tagger
from bot.services.web_search import SEARCH_KINDS, RoundSearch, WebSearchService

log = logging.getLogger(__name__)


class Orchestrator:
    def __init__(self, clients: ModelClients, store: DiscussionStore, runs: RunRegistry,
                 arena: ArenaService | None = None, tagger: Tagger | None = None,
                 judge: PositionJudge | None = None, search: WebSearchService | None = None) -> None:
        self.runner = RoundRunner(clients)
        self.search = search
        self.store = store
        self.runs = runs
        self.arena = arena
        self.tagger = tagger
        self.judge = judge

    def start(self, key: int, discussion: Discussion, mode: Mode, display: Display, *, ticket: Ticket | None,
              info: RunInfo | None = None, on_crash: OnCrash | None = None) -> Run:
        """Play the mode in the background as the key's next run, billed to the run's guild and member."""
        info = info or RunInfo(mode.name)
        payer = Payer(info.guild_id, info.started_by)
        return self.runs.start(key, discussion, lambda: self.play(discussion, mode, display, payer), ticket=ticket,
                               info=info, on_crash=on_crash)

    async def play(self, discussion: Discussion, mode: Mode, display: Display,
                   payer: Payer | None = None) -> list[RoundResult]:
        payer = payer or Payer()
        state = ModeState(discussion, self.store,
                          judge=self.judge.for_run(discussion.id, payer) if self.judge is not None else None)

        async def bill(answer: Answer) -> None:
            await ledger.charge(payer, discussion.id, answer.model, answer.usage, self._search_bill(answer))

        # A new discussion the category rules left as "other": the tagging model runs beside its first round.
        if self.tagger is not None and discussion.guild_id is not None and not await self.store.has_rounds(discussion):
            self.tagger.start(discussion, payer)
        plan = await mode.next_round(state)
        while plan is not None:
            result = await self._play_round(discussion, plan, display, bill, payer)
            state.results.append(result)
            for notice in await mode.after_round(state, plan, result):
                await display.notice(notice)
            following = await mode.next_round(state)
            # A debate round nobody answered: the next would have nothing to respond to (a consensus round
            # whose moderator failed is the mode's business: it asks the next one).
            if following is not None and plan.kind in DEBATE_KINDS and result.answers and not any(
                    a.status is MessageStatus.COMPLETE for a in result.answers):
                await display.notice(EveryModelFailed(result.round.number, tuple(
                    (a.seat.label, a.error or "failed") for a in result.answers)))
                following = None
            # A forecast is scored by the truth, not voted on (and a vote's close would reveal a blind one early).
            if following is None and plan.shown and self.arena is not None and discussion.guild_id is not None \
                    and discussion.mode is not DiscussionMode.PREDICT:
                result.vote = await self.arena.open_vote(discussion, result)  # the run's last round: vote on it
                if result.vote is not None:
                    await display.notice(result.vote)
            plan = following
        return state.results

    def _search_bill(self, answer: Answer) -> SearchBill | None:
        """The provider's searches for one answer, at the configured list prices (none if it did not search)."""
        if answer.web_search is None:
            return None
        config = self.runner.clients.config
        count = searches_billed(config, answer.model, answer.usage.web_searches, answer.searches_seen, answer.opened)
        return SearchBill(count, native_fee(config, answer.model, count)) if count else None

    async def _round_search(self, discussion: Discussion, plan: RoundPlan, payer: Payer) -> RoundSearch | None:
        wanted = (discussion.search or plan.search) and plan.kind in SEARCH_KINDS and plan.shown
        if not wanted or self.search is None or plan.messages_for is not None:
            return None
        return await self.search.plan(discussion, plan.kind, plan.panel, payer)

    async def _play_round(self, discussion: Discussion, plan: RoundPlan, display: Display,
                          bill: Bill, payer: Payer | None = None) -> RoundResult:
        # A new debate round: the last one's vote closes (and a blind panel is revealed). Mentions and a
        # consensus never do: any member may ask those, and closing a vote is the starter's (or the timer's).
        if self.arena is not None and plan.kind in DEBATE_KINDS:
            for closed in await self.arena.before_round(discussion):
                await display.notice(closed)
        if discussion.masked:  # models shown as "Model A"… until revealed
            names = discussion.blind_names
            notes = {m.alias: plan.notes.get(m.alias, "") + BLIND_NOTE.format(label=names[m.alias])
                     for m in plan.panel if m.alias in names}
            plan = replace(plan, panel=blind_panel(plan.panel, names), notes={**plan.notes, **notes})
        searching = await self._round_search(discussion, plan, payer or Payer())
        if searching is not None:
            plan = replace(plan, notes={**plan.notes, **{alias: plan.notes.get(alias, "") + note
                                                         for alias, note in searching.notes.items()}})
        messages_for: MessagesFor
        if plan.messages_for is not None:
            messages_for = plan.messages_for
        else:
            messages_for, trimmed = await round_context(discussion, plan.panel, plan.note, plan.notes,
                                                        anonymous=plan.anonymous and not discussion.masked)
            if trimmed:
                names = {s.alias: s.label for s in plan.panel}
                await display.notice(ContextTrimmed(tuple((names[a], n) for a, n in trimmed.turns.items()),
                                                    tuple((names[a], n) for a, n in trimmed.files.items())))
        debate_rounds = await self.store.completed_rounds(discussion)
        round_, answers = await self.runner.start_round(discussion, plan.kind, plan.panel)
        if searching is not None:
            searching.seat(answers)
        try:
            view: RoundView = await display.begin_round(round_, answers) if plan.shown else SilentView()
        except BaseException:  # stopped (or failed) while the display was being set up: nothing was asked yet
            await asyncio.shield(self.runner.abandon(round_, answers))
            raise
        try:
            result = await self.runner.play(round_, answers, messages_for, view.on_event, bill)
        finally:
            await asyncio.shield(view.settle())
        result.shown_number = debate_rounds + 1 if plan.kind in DEBATE_KINDS else debate_rounds
        for answer in result.answers:
            if answer.status is MessageStatus.FAILED:
                log_event(log, "model_failed", logging.WARNING, discussion=discussion.id, round=round_.number,
                          model=answer.model.alias, provider=answer.model.provider, error=answer.error_class,
                          status=answer.error_status, retries=answer.retries, reason=answer.error)
        if plan.shown and await shared_images(discussion):  # the status line says who saw the pictures
            result.images = ImagesSeen(tuple(s.label for s in plan.panel if sees_images(s.model)),
                                       tuple(s.label for s in plan.panel if not sees_images(s.model)))
        if searching is not None:
            result.search = SearchSeen(tuple((a.seat.label, a.search_note) for a in result.answers if a.search_note),
                                       sum(bool(a.sources or a.given) for a in result.answers))
        if plan.shown:
            await display.end_round(result)
        return result
