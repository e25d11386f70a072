"""Debate: rounds one after another, each model seeing every earlier round and ending with its stance.

It stops early when every model said [AGREE], or when every stance is unchanged and agreeing for a round
(`[debate] similarity`, `stop_confidence`). With depth "auto" only round 1 is sure to run: more rounds follow
only if round-1 stances disagree or someone is unsure. Roles give models standing instructions (and may rotate).
After the debate, the stance timeline is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.config import DebateConfig, ModelConfig
from bot.engine.notices import BlindPause, DepthDecided, EarlyStop, Notice, PanelistsNamed, StanceTimeline
from bot.engine.prompts import converged, discuss_note
from bot.engine.rounds import RoundResult
from bot.engine.transcript import panelist_labels
from bot.estimate import run_cost
from bot.kinds import Depth, MessageStatus, RoundKind
from bot.modes.base import ModeState, RoundPlan
from bot.positions import unsure
from bot.roles import find_role, seat_roles
from bot.seats import Seat, seat
from bot.stances import STANCE_INSTRUCTIONS, Stance, Timeline, agreement, settled, split_stance, timeline


@dataclass(frozen=True, slots=True)
class DebateSetup:
    """How a discussion debates; stored on the discussion so /continue and Resume debate alike."""

    config: DebateConfig = field(default_factory=DebateConfig)
    roles: Mapping[str, str] = field(default_factory=dict)  # model alias -> role name
    rotate: bool = False
    depth: Depth = Depth.FIXED  # auto: further rounds only when round 1 leaves something to settle


class DebateMode:
    name = "debate"

    def __init__(self, panel: Sequence[ModelConfig], rounds: int, setup: DebateSetup | None = None) -> None:
        self.panel = list(panel)
        self.rounds = rounds
        self.setup = setup or DebateSetup()
        self._next = 0  # number of the next debate round; counted from the stored rounds on the first call
        self._first = 0
        self._total = 0
        self._stop = False
        self._previous: dict[str, Stance] | None = None

    async def next_round(self, state: ModeState) -> RoundPlan | None:
        if not self._next:
            done = await state.store.completed_rounds(state.discussion)
            self._next, self._total = done + 1, done + self.rounds
            self._first = self._next
        if self._stop or self._next > self._total:
            return None
        number = self._next
        self._next += 1
        seats = self.seats(number)
        notes = {s.alias: "\n\n" + prompt for s in seats if s.role and (prompt := self._role_prompt(s.role))}
        return RoundPlan(RoundKind.DISCUSS, seats, note=discuss_note(number, self._total) + STANCE_INSTRUCTIONS,
                         notes=notes, anonymous=self.setup.config.anonymous)

    def seats(self, number: int) -> list[Seat]:
        """The panel for a round, each model in the role it holds in that round (else its standing role)."""
        held = seat_roles([m.alias for m in self.panel], self.setup.roles, self.setup.rotate, number)
        return [seat(m, held.get(m.alias) or None) for m in self.panel]

    def _role_prompt(self, role: str) -> str | None:
        found = find_role(role, self.setup.config.roles)
        return found[1] if found else None

    async def after_round(self, state: ModeState, plan: RoundPlan, result: RoundResult) -> Sequence[Notice]:
        number = self._next - 1
        stances = {a.model.alias: split_stance(a.text)[1] for a in result.answers
                   if a.status is MessageStatus.COMPLETE}
        await state.store.add_stances(result, stances)
        everyone = len(stances) == len(self.panel)
        notices: list[Notice] = []
        config = self.setup.config
        groups = await self._judged(state, stances) if everyone else None
        if self.setup.depth == Depth.AUTO and number == self._first == 1 and number < self._total:
            why = (agreement(stances, config.similarity, config.depth_confidence, groups) if everyone
                   else "some models failed")
            if why is None:
                self._stop = True
                skipped = self._total - number
                saved = run_cost(self.panel, sum(len(a.text) for a in result.answers) + len(state.discussion.question),
                                 skipped)
                notices.append(DepthDecided(False, "every model agrees, confidently", skipped, saved))
            else:
                notices.append(DepthDecided(True, why))
        elif 1 < number < self._total and everyone:
            bodies = [split_stance(a.text)[0] for a in result.answers]
            by_stances = self._previous is not None and settled(self._previous, stances, config.similarity,
                                                                 config.stop_confidence, groups)
            if by_stances or converged(bodies):
                self._stop = True
                notices.append(EarlyStop(number, self._total - number, by_stances=by_stances))
        self._previous = stances
        if (config.anonymous and number == self._first and not self._stop and number < self._total
                and not state.discussion.masked):  # people read "Panelist B" in the next answers: say who it is
            labels = panelist_labels(state.discussion, [])
            notices.append(PanelistsNamed(tuple((labels[m.alias], m.name) for m in self.panel if m.alias in labels)))
        if not self._stop and number < self._total and state.discussion.masked:
            self._stop = True  # a blind round is voted on before the debate goes on (and reveals the models)
            notices.append(BlindPause(self._total - number))
        if self._stop or number >= self._total:
            line = await self._timeline(state)
            if line.positions:  # nobody gave a stance: no timeline to show
                notices.append(StanceTimeline(line))
        return notices

    async def _judged(self, state: ModeState, stances: Mapping[str, Stance]) -> list[int] | None:
        """The judge's grouping of this round's stances where the word rules are unsure (else the rules')."""
        positions = [s.position or "" for s in stances.values()]
        if state.judge is None or not all(s.known for s in stances.values()) or \
                not unsure(positions, self.setup.config.similarity):
            return None
        return await state.judge(positions)

    async def _timeline(self, state: ModeState) -> Timeline:
        return await stored_timeline(state, self.panel, self.setup.config.similarity)


async def stored_timeline(state: ModeState, panel: Sequence[ModelConfig], similarity: float) -> Timeline:
    """The discussion's stance timeline from its stored stances (blind names while it is masked)."""
    rows = await state.store.stances(state.discussion)
    hidden = state.discussion.blind_names if not state.discussion.revealed else {}
    names = {m.alias: hidden.get(m.alias, m.name) for m in panel}
    held = {(names.get(r.model_alias, r.model_alias), r.round_number):
            Stance(r.position, r.confidence, r.changed, r.reason) for r in rows}
    models = [*names.values(), *sorted({name for name, _ in held} - set(names.values()))]
    rounds = sorted({number for _, number in held})
    return timeline(held, models, rounds, similarity)
