"""What a run reports besides the answers themselves, as data: each display (Discord, terminal) words it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.claims import Claim, ConsensusSource
from bot.kinds import MinoritySource
from bot.stances import Timeline


@dataclass(frozen=True, slots=True)
class ContextTrimmed:
    """Old turns were left out of some models' prompts to fit their context windows."""

    dropped: tuple[tuple[str, int], ...]  # (model name, turns left out)
    files: tuple[tuple[str, int], ...] = ()  # (model name, files of older turns left out, their text kept)


@dataclass(frozen=True, slots=True)
class EarlyStop:
    """Every model agreed: the debate ended before its planned last round."""

    round_number: int
    rounds_unused: int
    by_stances: bool = False  # every stance unchanged and agreeing, rather than every model saying [AGREE]


@dataclass(frozen=True, slots=True)
class ModeratorFallback:
    failed: str  # the moderator that could not write the synthesis
    next: str  # the one asked instead


@dataclass(frozen=True, slots=True)
class NoModerator:
    """Every configured moderator failed."""


@dataclass(frozen=True, slots=True)
class PeerReviewed:
    """The aggregate ranking of a peer review; `record` is the stored (plain) text, each front end shows the
    ranking in its own way from the fields."""

    record: str
    scores: tuple[tuple[str, float], ...]  # (model alias, average Borda points), best first
    reviewers: int
    names: tuple[tuple[str, float], ...] = ()  # (model name, points), best first: what members see
    not_counted: tuple[tuple[str, str], ...] = ()  # (model name, why its ranking was not counted)


@dataclass(frozen=True, slots=True)
class DepthDecided:
    """depth:auto after round 1: whether the debate goes on, why, and what stopping saved."""

    go_on: bool
    reason: str  # "the stances disagree", "confidence is below 60", or "every model agrees"
    rounds_saved: int = 0
    saved_usd: float = 0.0  # the worst-case estimate of the rounds not played


@dataclass(frozen=True, slots=True)
class EveryModelFailed:
    """No model answered in a round: the run stops there instead of playing its other rounds with no answers."""

    round_number: int
    reasons: tuple[tuple[str, str], ...]  # (shown name, why it failed)


@dataclass(frozen=True, slots=True)
class BlindPause:
    """A blind round ended the run: members vote first; the remaining rounds follow with names revealed."""

    rounds_left: int


@dataclass(frozen=True, slots=True)
class PanelistsNamed:
    """An anonymous debate goes on: who is behind each "Panelist" name the models use for each other."""

    names: tuple[tuple[str, str], ...]  # ("Panelist A", "GPT")


@dataclass(frozen=True, slots=True)
class StanceTimeline:
    """After a debate: who held which position with which confidence, round by round."""

    timeline: Timeline


@dataclass(frozen=True, slots=True)
class ConsensusWritten:
    """A structured consensus was stored; `stances` and `minority` are moai's own, from the parsed stances."""

    stances: tuple[tuple[str, str], ...]  # (model name, its last stance line)
    minority_text: str  # the dissent kept even when it lost ("" when every model agreed)
    minority_source: MinoritySource = MinoritySource.MODERATOR  # STANCES: moai's own, the moderator wrote none
    claims: tuple[Claim, ...] = ()  # over searched answers: each claim with its supporting sources' numbers
    sources: tuple[ConsensusSource, ...] = ()  # the numbers the claims cite

    def claims_line(self) -> str:
        """"Claims: 3 of 4 backed by a source · ⚠️ unsupported: It is twice as fast"; "" without claims."""
        if not self.claims:
            return ""
        backed = sum(c.supported for c in self.claims)
        unsupported = [c.text for c in self.claims if not c.supported]
        return (f"Claims: {backed} of {len(self.claims)} backed by a source"
                + (" · ⚠️ unsupported: " + "; ".join(unsupported) if unsupported else ""))


@dataclass(frozen=True, slots=True)
class ImagesSeen:
    """Which models of a round could see the discussion's images (the others were told one was shared)."""

    seen: tuple[str, ...]
    not_seen: tuple[str, ...]

    def line(self) -> str:
        """In plain words, for every front end: "Images seen by GPT · not by Llama (no image input)"."""
        unseen = f" · not by {', '.join(self.not_seen)} (no image input)" if self.not_seen else ""
        return f"Images seen by {', '.join(self.seen) or 'no model'}{unseen}"


@dataclass(frozen=True, slots=True)
class ForecastsRead:
    """A forecasting round's forecasts as read from the answers (None: the model gave none); `final`: the
    last round, after which members add theirs until `closes_at`."""

    prediction_id: int
    outcomes: tuple[str, ...]
    final: bool
    forecasts: tuple[tuple[str, dict[str, float] | None, bool], ...]  # (label, probabilities, normalised)
    closes_at: datetime | None = None

    def lines(self) -> list[str]:
        shown = []
        for label, probabilities, scaled in self.forecasts:
            if probabilities is None:
                shown.append(f"{label}: no forecast given")
                continue
            said = " · ".join(f"{o} {probabilities[o]:.0%}" for o in self.outcomes)
            shown.append(f"{label}: {said}" + (" (did not add up to 100%: scaled)" if scaled else ""))
        return shown


@dataclass(frozen=True, slots=True)
class SearchSeen:
    """How web search went for each answer of a round that searched (labels as shown: blind names stay)."""

    notes: tuple[tuple[str, str], ...]  # (label, "searched the web 2×" / "answered without search: …")
    with_sources: int = 0  # answers that have sources to show

    def line(self) -> str:
        return "Web search — " + "; ".join(f"{label}: {note}" for label, note in self.notes)


@dataclass(frozen=True, slots=True)
class VoteCall:
    """A vote opened under a round: button i stands for labels[i] (what members saw: names or "Model A")."""

    id: int
    labels: tuple[str, ...]
    closes_at: datetime


@dataclass(frozen=True, slots=True)
class VoteClosed:
    """A vote's tally; in a blind discussion this is also the reveal of who was who."""

    tally: tuple[tuple[str, str, int], ...]  # (label shown, model name, votes), most votes first
    ties: int
    all_bad: int
    voided: str  # why it does not count for the ratings ("" if it does)
    blind: bool


@dataclass(frozen=True, slots=True)
class Revealed:
    """A blind discussion moved on with no vote to close: who was who."""

    names: tuple[tuple[str, str], ...]  # (label shown, model name)


Notice = (ContextTrimmed | EarlyStop | ModeratorFallback | NoModerator | PeerReviewed | DepthDecided | BlindPause
          | StanceTimeline | PanelistsNamed | EveryModelFailed
          | ConsensusWritten | VoteCall | VoteClosed | Revealed | ForecastsRead)
