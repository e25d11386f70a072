"""The roundtable's use cases. Each validates everything it can before admitting, and from admission until
the run has started, any error gives back the budget hold, the cooldown and any claim: one place, not one per
front end."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Literal

from tortoise.timezone import now

from bot.arena.categories import category_of
from bot.attachments import files_chars
from bot.config import AppConfig, ModelConfig
from bot.db.models import Discussion
from bot.engine.transcript import transcript_chars
from bot.errors import CostConfirmation, Hint, UserError
from bot.kinds import Depth, DiscussionMode, DiscussionStatus
from bot.modes import continuation
from bot.modes.base import Mode
from bot.modes.consensus import ConsensusMode, reviewers_for
from bot.modes.debate import DebateMode
from bot.modes.mention import MentionBatch, MentionMode
from bot.modes.open import OpenMode
from bot.modes.predict import PredictMode
from bot.panel import Panel, clean_question, parse_models, resolve_panel
from bot.policy import check_rounds, require_steer
from bot.roundtable.choices import blind_choice, debate_setup_for, require_search, search_choice
from bot.roundtable.requests import (
    Actor,
    ConsensusAsked,
    Continued,
    MentionOutcome,
    NewDiscussion,
    Opening,
    Stopping,
)
from bot.roundtable.stage import Stage, Venue
from bot.services.admission import Admission, Ticket
from bot.services.budget import anyone_steers
from bot.services.discussions import DiscussionStore
from bot.services.forecasts import ForecastService
from bot.services.judge import judge_cost, judge_for
from bot.services.orchestrator import Orchestrator
from bot.services.runs import Run, RunInfo, RunRegistry
from bot.services.tagging import tagger_for, tagging_cost

__all__ = ["STILL_ANSWERING", "Roundtable"]

STILL_ANSWERING = "The models are still answering here."


class Roundtable:
    def __init__(self, config: AppConfig, store: DiscussionStore, admission: Admission, runs: RunRegistry,
                 orchestrator: Orchestrator) -> None:
        self.config = config
        self.store = store
        self.admission = admission
        self.runs = runs
        self.orchestrator = orchestrator
        self._mentions: dict[int, tuple[MentionBatch, Run]] = {}  # per stage: mentions waiting for one round
        self.forecasts: ForecastService | None = None  # /predict and /resolve (set by the container)

    # --- a new discussion ---------------------------------------------------------------
    async def validate(self, request: NewDiscussion) -> Opening:
        """Every check a new discussion needs, none of which takes anything: UserError on the first that fails."""
        config = self.config
        question = clean_question(request.question, config)
        if request.mode is DiscussionMode.ASK:
            if not request.models:
                raise UserError("Name the model to ask.")
            panel = Panel(list(request.models))
            return Opening(request.mode, question, request.actor, panel, 1, None, False, request.files,
                           search_choice(config, request.search, panel))
        panel = await resolve_panel(config, request.actor.guild_id, request.models, request.project,
                                    request.channel_id)
        rounds, setup = 1, None
        if request.mode is DiscussionMode.DISCUSS:
            default = (panel.project.default_rounds if panel.project else None) or config.defaults.rounds
            rounds = check_rounds(request.rounds if request.rounds is not None else default)
            setup = debate_setup_for(config, panel, request.debate)
        if request.mode is DiscussionMode.PREDICT:
            return self._prediction(request, question, panel)
        blind = blind_choice(request.blind, panel)
        return Opening(request.mode, question, request.actor, panel, rounds, setup, blind, request.files,
                       search_choice(config, request.search, panel))

    def _prediction(self, request: NewDiscussion, question: str, panel: Panel) -> Opening:
        config = self.config
        rounds = check_rounds(request.rounds if request.rounds is not None else 1)
        if rounds > config.predict.max_rounds:
            raise UserError(f"A forecast takes at most {config.predict.max_rounds} round(s) ([predict] max_rounds).")
        outcomes = list(request.question_outcomes) or ["Yes", "No"]
        if request.resolves_at is None or request.resolves_at <= now():
            raise UserError("The resolution time must be in the future.")
        if self._forecasts_close(request.resolves_at) <= now():
            raise UserError(f"Members' forecasts close {config.predict.close_before_hours:g} h before the resolution "
                            "time ([predict] close_before_hours): resolve later than that.")
        return Opening(request.mode, question, request.actor, panel, rounds, None,
                       blind_choice(request.blind, panel), request.files,
                       search_choice(config, request.search, panel), outcomes, request.resolves_at)

    async def open(self, request: NewDiscussion, venue: Venue) -> Run:
        """Validate, admit, let the venue make its place, store the discussion and start its first run."""
        opening = await self.validate(request)
        tagger = tagger_for(self.config, opening.mode, opening.question, category_of(opening.question))
        side = [(tagger, tagging_cost(tagger, opening.question))] if tagger else []
        if opening.mode is DiscussionMode.DISCUSS:
            side += self._judge_calls(len(opening.panel.models), opening.rounds)
        prompt = len(opening.question) + files_chars(opening.files)
        self._confirm(opening.actor, request.confirmed, opening.panel.models, prompt, opening.rounds, side,
                      search=opening.search)
        ticket = await self._admit(opening.actor, opening.panel.models, prompt, opening.rounds, side,
                                   search=opening.search,
                                   project_id=opening.panel.project.id if opening.panel.project else None)
        async with ticket.refunded_on_error():
            stage = await venue.open(opening)
            discussion: Discussion | None = None
            try:
                discussion = await self.store.create(
                    mode=opening.mode, question=opening.question, panel=opening.panel, author=opening.actor.author,
                    place=stage.place, rounds_planned=opening.rounds,
                    roles=opening.setup.roles if opening.setup else None,
                    rotate_roles=opening.setup.rotate if opening.setup else False,
                    depth=opening.setup.depth if opening.setup else Depth.FIXED, blind=opening.blind,
                    attachments=opening.files, search=opening.search)
                mode = await self._first_mode(opening, discussion)
            except BaseException:
                if discussion is not None:  # no half-made discussion: its question goes with it
                    await self.store.discard(discussion)
                await venue.abandon(stage)
                raise
            return self._start(stage, discussion, mode, ticket, opening.actor)

    async def _first_mode(self, opening: Opening, discussion: Discussion) -> Mode:
        if opening.mode is DiscussionMode.PREDICT:
            assert opening.resolves_at is not None and self.forecasts is not None
            prediction = await self.forecasts.create(discussion, opening.outcomes, opening.resolves_at,
                                                     self._forecasts_close(opening.resolves_at),
                                                     opening.actor.guild_id)
            return PredictMode(opening.panel.models, opening.rounds, prediction, self.forecasts)
        if opening.mode is DiscussionMode.DISCUSS:
            assert opening.setup is not None
            return DebateMode(opening.panel.models, opening.rounds, opening.setup)
        return OpenMode(opening.panel.models)

    # --- more of a discussion -----------------------------------------------------------
    async def continue_(self, discussion: Discussion, actor: Actor, stage: Stage, *, rounds: int | None = None,
                        resume_only: bool = False, confirmed: bool = False) -> Run:
        """More rounds (default 1), or what an interrupted (or blind-paused) discussion had left.

        `resume_only`: only an interrupted discussion, once (two Resume presses in any processes: one wins)."""
        if self.runs.is_running(stage.key) or discussion.status is DiscussionStatus.RUNNING:
            raise UserError(STILL_ANSWERING, Hint.STOP)
        done = await self.store.completed_rounds(discussion)
        if discussion.mode is DiscussionMode.PREDICT and (done >= discussion.rounds_planned or rounds is not None):
            raise UserError("A forecast's rounds are set when it is asked: mention a model to ask it more, and "
                            "/resolve the question when its time comes.")
        if resume_only and discussion.status is not DiscussionStatus.INTERRUPTED:
            raise UserError("This discussion was already resumed.", Hint.CONTINUE)
        await self._require_steer(discussion, actor, "continue")
        panel = self.panel_of(discussion)
        if rounds is None:
            left = discussion.rounds_planned - done
            paused = bool(discussion.blind_names)  # a blind round 1 left the rest of the planned rounds for later
            resumable = discussion.status is DiscussionStatus.INTERRUPTED or paused
            rounds = left if resumable and left > 0 else 1
        rounds = check_rounds(rounds)
        prompt = await transcript_chars(discussion)
        judged = self._judge_calls(len(panel), rounds)
        self._confirm(actor, confirmed, panel, prompt, rounds, judged, search=discussion.search)
        if not await self.store.claim(discussion):
            raise UserError(STILL_ANSWERING, Hint.STOP)
        try:  # claimed: until the run starts, any failure gives the claim, the money and the cooldown back
            ticket = await self._admit(actor, panel, prompt, rounds, judged, search=discussion.search,
                                       project_id=discussion.project_id)
            async with ticket.refunded_on_error():
                await self.store.plan_rounds(discussion, done + rounds)
                await stage.accepted(Continued(rounds))
                mode = await self._forecast_left(discussion, panel, done) if discussion.mode is \
                    DiscussionMode.PREDICT else continuation(discussion, panel, rounds, done, self.config.debate)
                return self._start(stage, discussion, mode, ticket, actor)
        except BaseException:
            await self.store.unclaim(discussion)
            raise

    async def _forecast_left(self, discussion: Discussion, panel: Sequence[ModelConfig], done: int) -> Mode:
        """An interrupted forecast goes on from its last complete round to its final one."""
        prediction = await self.forecasts.of_discussion(discussion.id) if self.forecasts is not None else None
        if prediction is None or self.forecasts is None:
            raise UserError("This forecast's question is no longer stored.")
        return PredictMode(panel, discussion.rounds_planned, prediction, self.forecasts, played=done)

    async def consensus(self, discussion: Discussion, actor: Actor, stage: Stage, *, peer_review: bool) -> Run:
        """A moderator's structured synthesis; with `peer_review`, each model ranks the others' answers first."""
        if self.runs.is_running(stage.key):
            raise UserError(STILL_ANSWERING, Hint.STOP)
        await self._require_unmasked(discussion, "A consensus waits")
        answers = await self.store.latest_answers(discussion)
        if not answers:
            raise UserError("There are no complete answers to sum up yet.")
        config = self.config
        moderators = config.moderators()
        if not moderators:
            raise UserError("No model is configured to moderate.")
        reviewers = reviewers_for(config.models, answers) if peer_review else []
        stances = await self.store.latest_stances(discussion)
        prompt = await transcript_chars(discussion)
        ticket = await self._admit(actor, [moderators[0], *reviewers, *reviewers], prompt,  # both review orders
                                   project_id=discussion.project_id)
        async with ticket.refunded_on_error():
            await stage.accepted(ConsensusAsked(peer_review))
            mode = ConsensusMode(config.models, moderators, answers, reviewers,
                                 random.Random(discussion.id * 7919 + len(answers)), stances, config.debate.similarity)
            return self._start(stage, discussion, mode, ticket, actor)

    async def mention(self, discussion: Discussion, actor: Actor, models: Sequence[ModelConfig],
                      stage: Stage, *, search: bool = False) -> MentionOutcome:
        """Members' mentions of models: answered in one round per wait, for the union of the models named.

        Each mention is admitted on its own (budget, the member's cooldown); mentions that arrive while the
        stage is busy join the round still waiting there, up to `defaults.mention_queue_limit`. `search`: this
        mention asks for web search (`search:`), whether or not the discussion searches; a mention joining a
        waiting round that does not search yet makes it search."""
        await self._require_unmasked(discussion, "Mentions and replies wait")
        limit = self.config.defaults.mention_queue_limit
        if self._waiting(stage.key, limit) is False:
            return MentionOutcome.QUEUE_FULL
        if search:
            require_search(self.config, models)
        searching = search or discussion.search
        ticket = await self._admit(actor, models, await transcript_chars(discussion), search=searching,
                                   project_id=discussion.project_id)
        async with ticket.refunded_on_error():  # nothing suspends from here on: no other mention can race this one
            waiting = self._waiting(stage.key, limit)
            if waiting is False:
                await ticket.refund()
                return MentionOutcome.QUEUE_FULL
            if waiting is not None:
                batch, run = waiting
                batch.add(models, actor.name, search=search)
                run.ticket.absorb(ticket)
                return MentionOutcome.JOINED
            batch = MentionBatch()
            batch.add(models, actor.name, search=search)
            self._mentions[stage.key] = (batch, self._start(stage, discussion, MentionMode(batch), ticket, actor))
            return MentionOutcome.STARTED

    def _waiting(self, key: int, limit: int) -> tuple[MentionBatch, Run] | Literal[False] | None:
        """The batch of mentions still waiting for its round at `key` (None if none; False if it is full)."""
        pending = self._mentions.get(key)
        if pending is None or pending[0].started or pending[1].done:
            self._mentions.pop(key, None)
            return None
        return False if pending[0].mentions >= limit else pending

    async def stop(self, channel_id: int, actor: Actor, accepted: Callable[[Stopping], Awaitable[None]]) -> Run:
        """Stop the discussion running at `channel_id`, else a single-answer run there (the actor's own first)."""
        asks = sorted(self.runs.in_channel(channel_id), key=lambda r: r.info.started_by != actor.id)
        run = self.runs.get(channel_id) or (asks[0] if asks else None)
        if run is None:
            raise UserError("Nothing is running in this channel.", Hint.STOP_WHERE)
        await self._require_steer(run.discussion, actor, "stop")
        await accepted(Stopping())
        await self.runs.stop(run.key)
        return run

    async def forget_member(self, user_id: int, *, dry_run: bool) -> tuple[int, int]:
        """/forget me: the member's own runs stop first (their rows are about to go), then everything goes.

        Returns (discussions they started, their messages elsewhere), as counted before deleting."""
        if not dry_run:
            for run in self.runs.started_by(user_id):
                await self.runs.stop(run.key)
        return await self.store.forget_member(user_id, dry_run=dry_run)

    async def _require_unmasked(self, discussion: Discussion, what: str) -> None:
        """Refuse what would unmask a blind discussion before its vote closes: a mention names a model (its
        answer under a blind label would pair the two), and no one but the starter, Manage Threads, the timer
        or the next debate round may close the vote."""
        if not await self.store.still_blind(discussion):
            return
        if discussion.mode is DiscussionMode.PREDICT:
            raise UserError(f"{what} until this blind forecast's forecasts close (or it is resolved), so no one "
                            "learns which model is which before then.")
        if await self.store.blind_vote_open(discussion):
            raise UserError(f"{what} until this blind round's vote closes, so no one learns which model is "
                            "which before it does. The starter or someone with Manage Threads can close it now; "
                            "it also closes on its own.")
        raise UserError(f"{what} until this blind discussion is revealed, so no one learns which model is which. "
                        "Its round had too few complete answers for a vote: the models are revealed when its "
                        "next round starts (/continue).")

    # --- shared steps -------------------------------------------------------------------
    def _confirm(self, actor: Actor, confirmed: bool, models: Sequence[ModelConfig], prompt_chars: int,
                 rounds: int, side_calls: Sequence[tuple[ModelConfig, float]], *, search: bool) -> None:
        """CostConfirmation when a run's worst case is above `[defaults] confirm_above_usd` and the member has
        not seen it yet (the console's operator is never asked); nothing is estimated without a threshold."""
        threshold = self.config.defaults.confirm_above_usd
        if not threshold or confirmed or actor.local:
            return
        estimate = self.admission.estimate(models, prompt_chars, rounds, side_calls, search=search)
        if estimate > threshold:
            raise CostConfirmation(estimate, threshold)

    def _forecasts_close(self, resolves_at: datetime) -> datetime:
        """Members' forecasts close `[predict] close_before_hours` before the question resolves."""
        return resolves_at - timedelta(hours=self.config.predict.close_before_hours)

    def _judge_calls(self, panel_size: int, rounds: int) -> list[tuple[ModelConfig, float]]:
        """The position judge's worst case: one call per debate round, when one is configured."""
        judge = judge_for(self.config)
        return [(judge, judge_cost(judge, panel_size))] * rounds if judge is not None else []

    def panel_of(self, discussion: Discussion) -> list[ModelConfig]:
        known = [alias for alias in discussion.models if alias in self.config.models]
        if not known:
            raise UserError("None of this discussion's models are configured any more.")
        return parse_models(self.config, " ".join(known))

    async def _require_steer(self, discussion: Discussion, actor: Actor, action: str) -> None:
        if actor.local:
            return
        require_steer(discussion.created_by, actor.id or 0, action=action, manages_threads=actor.manages_threads,
                      anyone=await anyone_steers(actor.guild_id))

    async def _admit(self, actor: Actor, models: Sequence[ModelConfig], prompt_chars: int, rounds: int = 1,
                     side_calls: Sequence[tuple[ModelConfig, float]] = (), *, search: bool = False,
                     project_id: int | None = None) -> Ticket:
        if actor.local:  # the operator's own console: no server budget, no cooldown
            return Ticket()
        return await self.admission.admit(actor.guild_id, actor.id or 0, models, prompt_chars, rounds, side_calls,
                                          search=search, role_ids=actor.role_ids, project_id=project_id)

    def _start(self, stage: Stage, discussion: Discussion, mode: Mode, ticket: Ticket, actor: Actor) -> Run:
        info = RunInfo(mode.name, actor.guild_id, actor.id, stage.channel_id)
        return self.orchestrator.start(stage.key, discussion, mode, stage.display(), ticket=ticket, info=info,
                                       on_crash=stage.crashed)
