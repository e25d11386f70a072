"""Conformity benchmark: does a debate keep the correct minority when the others drift to a wrong majority?

Scripted models (seeded, no network) write real answers with stance blocks in the formats models use; moai's
own pipeline reads them — stance parsing, position grouping by direction, conformity flags, the weighted
score, the minority report kept against a moderator who writes "none" in its many wordings — and, for the
models that react to the debate, the transcript each would be sent (`bot.engine.transcript.anonymise` when
the debate is anonymous).

- **drift** (40 items): five seats; one holds the correct answer throughout, confidently; two more start
  with it and may drift; two well-known models hold the wrong answer (and sometimes name themselves: "As
  GPT-5, …"). Success: the outcome, or the minority report moai keeps, holds the correct answer.
- **control** (20 items): the majority is right; a well-known model dissents at lower confidence; another
  wrong seat changes its mind to the right answer with an argument. Success: the outcome is right.

The reacting seats are scripted sycophants, as the literature describes them: they defer to a well-known
model they can *see* holding another position (p = 0.85 per round), and otherwise to a majority of the others
(p = 0.25). The size of the gap between names and anonymised is the script's; what the benchmark measures is
that moai's anonymised transcript leaves them no name to defer to (names written inside answers included —
`names_seen` counts any that get through) and what moai's verdict keeps either way.

Configurations: names vs anonymised transcripts, times the outcome as the last round's plain majority vs the
confidence-weighted score. Target: the correct minority survives in >= 95% of drift items in every
configuration; the weighted score loses <= 2 control points against the plain majority.

    .venv/bin/python -m bench.conformity [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.config import ModelConfig
from bot.consensus_sections import minority_report
from bot.db.models import Discussion
from bot.engine.prompts import Turn
from bot.engine.transcript import anonymise, panelist_labels
from bot.positions import same_position
from bot.stances import Stance, Timeline, split_stance, timeline, weighted_positions

SIMILARITY = 0.5
ROUNDS = (1, 2, 3)
PAIRS = [("Use Rust", "Don’t use Rust"), ("Rust, not Go", "Go, not Rust"), ("Prefer Postgres over MySQL",
         "Prefer MySQL over Postgres"), ("Keep the monolith", "Split into microservices"), ("Yes", "No"),
         ("Tabs", "Spaces, not tabs"), ("Ship on Friday", "Don't ship on Friday"), ("SQLite is enough",
         "SQLite is not enough"), ("Rewrite in TypeScript", "Keep JavaScript instead of TypeScript"),
         ("Buy the server", "Rent instead of buying")]
CONFORMING = ["I was persuaded by the consensus of the other participants", "I defer to the others",
              "the others made a compelling case", "everyone agrees, so I do too", "yes, on reflection the majority"
              " is right"]
ARGUED = ["the benchmark shows 3x lower tail latency under load", "our team already runs two services in it",
          "the licence forbids the other option for us", "migration costs four engineer-weeks less"]
NONES = ["None.", "None — everyone converged.", "- None", "No one dissented.", "N/A", "There was no real minority; "
         "all participants agreed.", "**None**"]
FORMATS: list[Callable[[str, int, str], str]] = [
    lambda p, c, ch: f"STANCE: {p}\nCONFIDENCE: {c}\nCHANGED: {ch}",
    lambda p, c, ch: f"**Stance:** {p}\n**Confidence:** {c}%\n**Changed:** {ch}",
    lambda p, c, ch: f"## Stance\n{p}\n## Confidence\n{c / 10:g}/10\n## Changed\n{ch}",
    lambda p, c, ch: f"1. Stance — {p}\n2. Confidence — {c} %\n3. Changed — {ch}",
]
FAMOUS = {"gpt-5": "GPT-5", "claude": "Claude"}  # the names a sycophant defers to


def panel(*aliases: str) -> tuple[ModelConfig, ...]:
    return tuple(ModelConfig(alias=alias, provider="bench", model=alias, display_name=FAMOUS.get(alias, alias.title()))
                 for alias in aliases)


DRIFT_PANEL = panel("mistral", "llama", "qwen", "gpt-5", "claude")
CONTROL_PANEL = panel("mistral", "llama", "qwen", "gpt-5", "deepseek")
FAMOUS_RE = re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in FAMOUS.values()) + r")(?![\w-])", re.I)
DEFER, FOLLOW = 0.85, 0.25


@dataclass(frozen=True, slots=True)
class Said:
    seat: ModelConfig
    text: str


def answer_text(rng: random.Random, seat: ModelConfig, position: str, confidence: int, changed: str) -> str:
    opening = f"As {seat.name}, I have weighed this." if seat.alias in FAMOUS and rng.random() < 0.5 else \
        "My reasoning, at some length."
    return f"{opening}\n\n{rng.choice(FORMATS)(position, confidence, changed)}"


def visible(said: Sequence[Said], seats: Sequence[ModelConfig], anonymous: bool) -> list[Turn]:
    """What a reacting model is sent of the earlier rounds: moai's own anonymisation when it is on."""
    turns = [Turn(s.seat.name, s.text, s.seat.alias) for s in said]
    if not anonymous:
        return turns
    return anonymise(turns, panelist_labels(Discussion(models=[m.alias for m in seats]), turns), seats)


class Sycophant:
    """A seat that starts with `position` and, each later round, may give it up for what it sees."""

    def __init__(self, rng: random.Random, position: str, confidence: int) -> None:
        self.rng, self.position, self.confidence = rng, position, confidence

    def turn(self, me: str, last_round: Sequence[Turn], names_seen: list[int]) -> tuple[str, int, str]:
        """`last_round`: the previous round's answers as this model is sent them (its own included)."""
        others = [(turn, split_stance(turn.content)[1]) for turn in last_round if turn.model_alias != me]
        differing = [(turn, s.position or "") for turn, s in others
                     if not same_position(s.position or "", self.position, SIMILARITY)]
        famous = [(FAMOUS_RE.search(f"{turn.author_name} {turn.content}"), position) for turn, position in differing]
        names_seen[0] += sum(1 for turn, _ in others if FAMOUS_RE.search(f"{turn.author_name} {turn.content}"))
        for match, position in famous:
            if match and self.rng.random() < DEFER:
                return self._move(position, f"yes, I defer to {match.group(1)}")
        if len(differing) * 2 > len(others) and self.rng.random() < FOLLOW:
            return self._move(differing[0][1], f"yes, {self.rng.choice(CONFORMING)}")
        return self.position, self.confidence, "no"

    def _move(self, position: str, why: str) -> tuple[str, int, str]:
        self.position, self.confidence = position, self.rng.randint(60, 80)
        return position, self.confidence, why


Script = Callable[[int, str, Sequence[Turn], list[int]], tuple[str, int, str]]
Item = tuple[Timeline, str, dict[str, Stance]]  # the debate, the correct answer, each seat's last stance


def fixed(turns: Sequence[tuple[str, int, str]]) -> Script:
    return lambda number, me, seen, names_seen: turns[number - 1]


def sycophant(rng: random.Random, position: str) -> Script:
    seat = Sycophant(rng, position, rng.randint(70, 85))
    return lambda number, me, seen, names_seen: (seat.position, seat.confidence, "no") if number == 1 else \
        seat.turn(me, seen, names_seen)


def debate(rng: random.Random, seats: Sequence[ModelConfig], scripts: Sequence[Script], anonymous: bool,
           names_seen: list[int]) -> Timeline:
    said: list[Said] = []
    held: dict[tuple[str, int], Stance] = {}
    for number in ROUNDS:
        last_round = visible(said, seats, anonymous)[-len(seats):] if said else []
        this_round = [Said(seat, answer_text(rng, seat, *script(number, seat.alias, last_round, names_seen)))
                      for seat, script in zip(seats, scripts, strict=True)]
        held |= {(s.seat.name, number): split_stance(s.text)[1] for s in this_round}
        said += this_round
    return timeline(held, [m.name for m in seats], list(ROUNDS), SIMILARITY)


def outcome(line: Timeline, weighted: bool) -> str | None:
    if weighted:
        scores = weighted_positions(line)
        return line.positions[scores[0][0]] if scores else None
    group = line.majority(line.rounds[-1])
    return None if group is None else line.positions[group]


REPORT_RE = re.compile(r"^[^:]+: (.*?)(?: \(\d+%\))?(?: — .*)?$")


def holds(text: str | None, position: str) -> bool:
    """The outcome, or moai's minority report ("M0: Use Rust (90%) — …"), is that position."""
    if text is None:
        return False
    match = REPORT_RE.match(text)
    return same_position(match.group(1) if match else text, position, SIMILARITY)


def drift_scripts(rng: random.Random, right: str, wrong: str, index: int) -> list[Script]:
    """A confident keeper of the right answer, two sycophants, two famous wrong seats. Even items: both
    sycophants start right (a right round-1 majority only names can turn); odd items: one starts wrong (a
    wrong round-1 majority to drift to)."""
    return [fixed([(right, rng.randint(80, 95), "no")] * 3), sycophant(rng, right),
            sycophant(rng, right if index % 2 == 0 else wrong),
            *(fixed([(wrong, rng.randint(55, 75), "no")] * 3) for _ in range(2))]


def control_scripts(rng: random.Random, right: str, wrong: str, index: int) -> list[Script]:
    """A wrong seat converted by an argument, two sycophants holding the right answer, a famous less sure
    wrong dissenter, a sure right seat."""
    argued = rng.choice(ARGUED)
    return [fixed([(wrong, rng.randint(50, 70), "no"), (right, rng.randint(70, 85), f"yes, {argued}"),
                   (right, rng.randint(70, 85), "no")]), sycophant(rng, right), sycophant(rng, right),
            fixed([(wrong, rng.randint(50, 70), "no")] * 3), fixed([(right, rng.randint(70, 90), "no")] * 3)]


def items(seed: int, anonymous: bool, count: int, seats: Sequence[ModelConfig],
          build: Callable[[random.Random, str, str, int], list[Script]]) -> tuple[list[Item], int]:
    """The same seeded questions and scripts for either configuration; and how often a famous name was seen."""
    rng, names_seen, found = random.Random(seed), [0], []
    for index in range(count):
        right, wrong = rng.choice(PAIRS) if rng.random() < 0.5 else rng.choice(PAIRS)[::-1]
        line = debate(rng, seats, build(rng, right, wrong, index), anonymous, names_seen)
        found.append((line, right, {model: line.cells[(model, ROUNDS[-1])].stance for model in line.models}))
    return found, names_seen[0]


def run(seed: int = 7) -> dict[str, dict[str, float]]:
    nones = [random.Random(seed + 1).choice(NONES) for _ in range(40)]
    found: dict[str, dict[str, float]] = {}
    for anonymous in (False, True):
        drift, drift_names = items(seed, anonymous, 40, DRIFT_PANEL, drift_scripts)
        control, control_names = items(seed + 2, anonymous, 20, CONTROL_PANEL, control_scripts)
        prefix = "anonymised" if anonymous else "names"
        if not anonymous:  # the moderator's minority report taken as written, the outcome by plain majority
            found["baseline"] = {
                "drift_kept": sum(holds(outcome(line, False), right) or holds(none, right)
                                  for (line, right, _), none in zip(drift, nones, strict=True)) / len(drift),
                "drift_outcome_right": sum(holds(outcome(line, False), r) for line, r, _ in drift) / len(drift),
                "control_right": sum(holds(outcome(line, False), r) for line, r, _ in control) / len(control),
                "names_seen": drift_names + control_names}
        for weighted in (False, True):
            kept = sum(holds(outcome(line, weighted), right) or holds(
                minority_report({"minority_report": none}, last, SIMILARITY).text, right)
                for (line, right, last), none in zip(drift, nones, strict=True))
            found[f"{prefix}/{'weighted' if weighted else 'majority'}"] = {
                "drift_kept": kept / len(drift),
                "drift_outcome_right": sum(holds(outcome(line, weighted), r) for line, r, _ in drift) / len(drift),
                "control_right": sum(holds(outcome(line, weighted), r) for line, r, _ in control) / len(control),
                "names_seen": drift_names + control_names}
    return found


def met(found: dict[str, dict[str, float]]) -> bool:
    configurations = [name for name in found if name != "baseline"]
    return all(found[name]["drift_kept"] >= 0.95 for name in configurations) and all(
        found[f"{p}/weighted"]["control_right"] >= found[f"{p}/majority"]["control_right"] - 0.02
        for p in ("names", "anonymised")) and found["anonymised/majority"]["names_seen"] == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    found = run()
    if options.json:
        print(json.dumps({**found, "met": met(found)}))
    else:
        for name, r in found.items():
            print(f"{name:>19}: correct minority kept (outcome or minority report) {r['drift_kept']:.0%}, outcome"
                  f" right on drift items {r['drift_outcome_right']:.0%}, control right {r['control_right']:.0%},"
                  f" famous names the models saw {r['names_seen']:.0f}")
    return 0 if met(found) else 1


if __name__ == "__main__":
    sys.exit(main())
