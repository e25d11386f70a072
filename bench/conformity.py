"""Conformity benchmark: does a debate keep the correct minority when the others drift to a wrong majority?

Scripted models (seeded, no network) write real answers with stance blocks in the formats models use; moai's
own pipeline reads them — stance parsing, position grouping by direction, conformity flags, the weighted
score, and the minority report kept against a moderator who writes "none" in its many wordings.

- **drift** (40 items): four seats; one holds the correct answer throughout, confidently; one more starts
  with it and drifts to the wrong side "persuaded by the others"; two hold the wrong answer. Success: the
  outcome, or the minority report moai keeps, holds the correct answer.
- **control** (20 items): the majority is right; one seat dissents at lower confidence; one wrong seat
  changes its mind to the right answer with an argument. Success: the outcome is the correct answer.

Configurations: the outcome as the last round's plain majority, and as the confidence-weighted score.
Target: the correct minority survives in >= 95% of drift items; the control set loses <= 2 points against
the plain majority.

    .venv/bin/python -m bench.conformity [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Callable

from bot.consensus_sections import minority_report
from bot.positions import same_position
from bot.stances import Stance, Timeline, split_stance, timeline, weighted_positions

SIMILARITY = 0.5
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


def answer(rng: random.Random, position: str, confidence: int, changed: str) -> Stance:
    text = f"My reasoning, at some length.\n\n{rng.choice(FORMATS)(position, confidence, changed)}"
    return split_stance(text)[1]


def debate(rng: random.Random, seats: list[list[tuple[str, int, str]]]) -> Timeline:
    names = [f"M{i}" for i in range(len(seats))]
    held = {(name, number + 1): answer(rng, *turn) for name, turns in zip(names, seats, strict=True)
            for number, turn in enumerate(turns)}
    return timeline(held, names, [1, 2, 3], SIMILARITY)


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


Item = tuple[Timeline, str, dict[str, Stance]]  # the debate, the correct answer, each seat's last stance


def item(rng: random.Random, build: Callable[[str, str], list[list[tuple[str, int, str]]]]) -> Item:
    right, wrong = rng.choice(PAIRS) if rng.random() < 0.5 else rng.choice(PAIRS)[::-1]
    line = debate(rng, build(right, wrong))
    return line, right, {model: line.cells[(model, 3)].stance for model in line.models}


def drift_item(rng: random.Random) -> Item:
    """A confident keeper of the right answer, a drifter persuaded by nothing, two wrong seats."""
    return item(rng, lambda right, wrong: [
        [(right, rng.randint(80, 95), "no")] * 3,
        [(right, rng.randint(70, 85), "no"), (wrong, rng.randint(60, 80), f"yes, {rng.choice(CONFORMING)}"),
         (wrong, rng.randint(60, 80), "no")],
        *([(wrong, rng.randint(55, 75), "no")] * 3 for _ in range(2))])


def control_item(rng: random.Random) -> Item:
    """A less sure wrong dissenter, a wrong seat converted by an argument, two sure right seats."""
    return item(rng, lambda right, wrong: [
        [(wrong, rng.randint(50, 70), "no")] * 3,
        [(wrong, rng.randint(50, 70), "no"), (right, rng.randint(70, 85), f"yes, {rng.choice(ARGUED)}"),
         (right, rng.randint(70, 85), "no")],
        *([(right, rng.randint(70, 90), "no")] * 3 for _ in range(2))])


def run(seed: int = 7) -> dict[str, dict[str, float]]:
    rng = random.Random(seed)
    drift = [drift_item(rng) for _ in range(40)]
    control = [control_item(rng) for _ in range(20)]
    nones = [rng.choice(NONES) for _ in drift]
    found: dict[str, dict[str, float]] = {
        "baseline": {  # the moderator's own minority report taken as written, the outcome by plain majority
            "drift_kept": sum(holds(outcome(line, False), right) or holds(none, right)
                              for (line, right, _), none in zip(drift, nones, strict=True)) / len(drift),
            "drift_outcome_right": sum(holds(outcome(line, False), r) for line, r, _ in drift) / len(drift),
            "control_right": sum(holds(outcome(line, False), r) for line, r, _ in control) / len(control)}}
    for weighted in (False, True):
        kept = 0
        for (line, right, last), none in zip(drift, nones, strict=True):
            report = minority_report({"minority_report": none}, last, SIMILARITY).text
            kept += holds(outcome(line, weighted), right) or holds(report, right)
        correct = sum(holds(outcome(line, weighted), right) for line, right, _ in control)
        found["weighted" if weighted else "majority"] = {
            "drift_kept": kept / len(drift), "drift_outcome_right": sum(holds(outcome(line, weighted), r)
                                                                        for line, r, _ in drift) / len(drift),
            "control_right": correct / len(control)}
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    found = run()
    met = all(r["drift_kept"] >= 0.95 for name, r in found.items() if name != "baseline") and \
        found["weighted"]["control_right"] >= found["majority"]["control_right"] - 0.02
    if options.json:
        print(json.dumps({**found, "met": met}))
    else:
        for name, r in found.items():
            print(f"{name:>8}: correct minority kept (outcome or minority report) {r['drift_kept']:.0%}, outcome "
                  f"right on drift items {r['drift_outcome_right']:.0%}, control right {r['control_right']:.0%}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
