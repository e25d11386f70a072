"""Stances: the short structured position each model ends a debate round with, read tolerantly.

Pure and Discord-free. A model that ignores the format is still shown, with stance "unknown". Positions are
compared by their words (no model call), which is crude but predictable and documented in the README:
two positions are the same when their content words overlap by at least `similarity` (Jaccard) and they do
not differ in negation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

STANCE_INSTRUCTIONS = """

End your answer with your stance: exactly these three lines, last, with nothing after them.
STANCE: <your position, in one line>
CONFIDENCE: <0-100>
CHANGED: <no | yes, because <the new argument that changed your mind>>"""

POSITION_MAX = 300
KEY_RE = re.compile(
    r"^\s*(?:[-*>•]\s*)*(?:\*\*|__|\*|_)?\s*(stance|position|confidence|changed|change)\s*(?:\*\*|__|\*|_)?\s*"
    r"(?:[:：=]|\s-\s)\s*(?:\*\*|__|\*|_)?\s*(.*?)\s*(?:\*\*|__|\*|_)?\s*$", re.IGNORECASE)
FENCE_RE = re.compile(r"^\s*(```|~~~)\w*\s*$")
AGREE_RE = re.compile(r"^\s*\[AGREE\]\s*$", re.IGNORECASE)
WORD_RE = re.compile(r"[a-z0-9][a-z0-9'+.-]*", re.IGNORECASE)
NEGATIONS = {"no", "not", "never", "none", "neither", "nor", "cannot", "isn't", "aren't", "doesn't", "don't",
             "won't", "shouldn't", "can't", "wouldn't", "false", "unlikely", "against"}
STOPWORDS = {"a", "an", "the", "is", "are", "be", "to", "of", "and", "or", "in", "on", "for", "it", "that", "this",
             "with", "as", "by", "at", "we", "i", "should", "would", "will", "can", "best", "my", "position"}
CONFORMITY_RE = re.compile(r"\b(yes|the others?|other participants?|majority|consensus|everyone|convinced|persuaded|"
                           r"agree(?:d|s)? with\s+\w+|i agree|because)\b", re.IGNORECASE)
WORDS_FOR_AN_ARGUMENT = 5  # a change of mind must give at least this many words of reason beyond "I agree"


@dataclass(frozen=True, slots=True)
class Stance:
    position: str | None  # None: the model gave no stance
    confidence: int | None = None  # 0-100
    changed: bool | None = None  # as the model reported it
    reason: str = ""

    @property
    def known(self) -> bool:
        return self.position is not None


UNKNOWN = Stance(None)


def split_stance(text: str) -> tuple[str, Stance]:
    """The answer without its stance block, and the stance (UNKNOWN if there is none)."""
    lines = text.split("\n")
    start = max((i for i, line in enumerate(lines) if _key(line) in ("stance", "position")), default=None)
    if start is None:
        return text, UNKNOWN
    fields: dict[str, str] = {}
    end = start
    pending_position = False
    for index in range(start, len(lines)):
        line = lines[index]
        key = _key(line)
        if key is not None:
            value = _value(line)
            name = {"position": "stance", "change": "changed"}.get(key, key)
            fields.setdefault(name, value)
            pending_position = name == "stance" and not value
        elif pending_position and line.strip() and not FENCE_RE.match(line):
            fields["stance"] = line.strip().strip("*_`")
            pending_position = False
        elif not (not line.strip() or FENCE_RE.match(line) or AGREE_RE.match(line)):
            break
        end = index + 1
    kept_after = [line for line in lines[start:end] if AGREE_RE.match(line)] + lines[end:]
    before = lines[:start]
    if before and FENCE_RE.match(before[-1]) and any(FENCE_RE.match(line) for line in lines[start:end]):
        before = before[:-1]
    body = "\n".join(before).rstrip()
    rest = "\n".join(kept_after).strip()
    body = f"{body}\n\n{rest}" if rest and body else (body or rest)
    position = fields.get("stance", "").strip()
    if not position or position.startswith("<"):
        return text, UNKNOWN
    changed, reason = _changed(fields.get("changed", ""))
    return body, Stance(position[:POSITION_MAX], _confidence(fields.get("confidence", "")), changed, reason[:300])


def visible_part(text: str) -> str:
    """While streaming: hide a stance block as soon as its first line begins."""
    lines = text.split("\n")
    for index in range(len(lines) - 1, -1, -1):
        if _key(lines[index]) in ("stance", "position"):
            return "\n".join(lines[:index]).rstrip()
    tail = lines[-1].strip().lower().lstrip("*_-> ")
    if tail and ("stance".startswith(tail) or "position".startswith(tail)):
        return "\n".join(lines[:-1]).rstrip()  # a stance line still arriving, letter by letter
    return text


def _key(line: str) -> str | None:
    match = KEY_RE.match(line)
    return match.group(1).lower() if match else None


def _value(line: str) -> str:
    match = KEY_RE.match(line)
    return match.group(2).strip().strip("*_`").strip() if match else ""


def _confidence(value: str) -> int | None:
    words = {"very high": 90, "high": 80, "medium": 50, "moderate": 50, "low": 25, "very low": 10}
    match = re.search(r"\d+(?:\.\d+)?", value)
    if match:
        number = float(match.group())
        if number <= 1 and "." in match.group() and "%" not in value:
            number *= 100  # 0.8 means 80
        return max(0, min(100, round(number)))
    lowered = value.lower()
    for word, number_ in words.items():
        if word in lowered:
            return number_
    return None


def _changed(value: str) -> tuple[bool | None, str]:
    text = value.strip()
    match = re.match(r"^(yes|y|true|changed|no|n|false|unchanged|same|nope)\b[\s,.;:—–-]*(.*)$", text, re.IGNORECASE)
    if not match:
        return None, text
    changed = match.group(1).lower() in ("yes", "y", "true", "changed")
    return changed, match.group(2).strip()


# --- comparing positions -------------------------------------------------------------------------------------
def content_words(text: str) -> set[str]:
    return {w.lower().strip(".'") for w in WORD_RE.findall(text)} - STOPWORDS


def same_position(first: str, second: str, similarity: float) -> bool:
    a, b = content_words(first), content_words(second)
    if bool(a & NEGATIONS) != bool(b & NEGATIONS):
        return False
    a, b = a - NEGATIONS, b - NEGATIONS
    if not a or not b:
        return first.strip().lower() == second.strip().lower()
    return len(a & b) / len(a | b) >= similarity or a <= b or b <= a


def clusters(positions: Sequence[str], similarity: float) -> list[int]:
    """Each position's group number (0, 1, …), groups numbered in order of first appearance."""
    representatives: list[str] = []
    groups = []
    for position in positions:
        for number, representative in enumerate(representatives):
            if same_position(position, representative, similarity):
                groups.append(number)
                break
        else:
            representatives.append(position)
            groups.append(len(representatives) - 1)
    return groups


def cites_an_argument(reason: str) -> bool:
    """A change of mind explained by more than agreement with the others."""
    return len(WORD_RE.findall(CONFORMITY_RE.sub(" ", reason))) >= WORDS_FOR_AN_ARGUMENT


def agreement(stances: Mapping[str, Stance], similarity: float, min_confidence: int) -> str | None:
    """None if every model holds one known position with at least `min_confidence`, else why not."""
    if not stances or not all(s.known for s in stances.values()):
        return "some stances are unknown"
    if len(set(clusters([s.position or "" for s in stances.values()], similarity))) > 1:
        return "the stances disagree"
    if any(s.confidence is None or s.confidence < min_confidence for s in stances.values()):
        return f"confidence is below {min_confidence}"
    return None


def settled(previous: Mapping[str, Stance], current: Mapping[str, Stance], similarity: float,
            min_confidence: int) -> bool:
    """Early stop: every model agrees, confidently, and holds the same position as in its previous round."""
    if agreement(current, similarity, min_confidence) is not None or set(previous) != set(current):
        return False
    return all(previous[a].known and same_position(previous[a].position or "", s.position or "", similarity)
               for a, s in current.items())


# --- the timeline -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Cell:
    stance: Stance
    group: int | None  # the position's group (A, B, …) across the whole debate; None if unknown
    changed: bool  # a different group than the model's previous known stance (or it said so)
    flagged: bool  # changed without citing a new argument


@dataclass(frozen=True, slots=True)
class Timeline:
    rounds: tuple[int, ...]
    models: tuple[str, ...]  # display names, in panel order
    cells: Mapping[tuple[str, int], Cell]  # (model name, round number) -> cell
    positions: tuple[str, ...]  # each group's first wording, by group number

    def label(self, group: int | None) -> str:
        return "?" if group is None else chr(ord("A") + group) if group < 26 else str(group)


def timeline(stances: Mapping[tuple[str, int], Stance], models: Sequence[str], rounds: Sequence[int],
             similarity: float) -> Timeline:
    """Who held what, with which confidence, per round; changes of mind without an argument flagged."""
    known = [(key, s) for key, s in sorted(stances.items(), key=lambda item: (item[0][1], models.index(item[0][0])
                                                                           if item[0][0] in models else 0))
             if s.known]
    groups = clusters([s.position or "" for _, s in known], similarity)
    group_of = {key: group for (key, _), group in zip(known, groups, strict=True)}
    positions: dict[int, str] = {}
    for (_, held), number_ in zip(known, groups, strict=True):
        positions.setdefault(number_, held.position or "")
    cells: dict[tuple[str, int], Cell] = {}
    for model in models:
        last: int | None = None
        for number in rounds:
            stance = stances.get((model, number), UNKNOWN)
            found = group_of.get((model, number))
            changed = found is not None and ((last is not None and found != last) or stance.changed is True)
            flagged = changed and not cites_an_argument(stance.reason)
            cells[(model, number)] = Cell(stance, found, changed, flagged)
            last = found if found is not None else last
    return Timeline(tuple(rounds), tuple(models), cells, tuple(positions[g] for g in sorted(positions)))


@dataclass(frozen=True, slots=True)
class TimelineRows:
    """The timeline in words, for a front end to lay out: each position's letter, each model's steps."""

    positions: tuple[tuple[str, str], ...]  # (letter, the position's first wording)
    steps: tuple[tuple[str, str], ...]  # (model name, "R1 A 80% → R2 B 60% ⚠️")
    flagged: str  # "GPT (round 2), …": changes of position that cited no new argument; "" if none


def timeline_rows(line: Timeline) -> TimelineRows:
    steps = []
    for model in line.models:
        cells = []
        for number in line.rounds:
            cell = line.cells[(model, number)]
            confidence = f" {cell.stance.confidence}%" if cell.stance.confidence is not None else ""
            mark = " ⚠️" if cell.flagged else (" ↺" if cell.changed else "")
            cells.append(f"R{number} {line.label(cell.group)}{confidence}{mark}")
        steps.append((model, " → ".join(cells)))
    flagged = ", ".join(f"{m} (round {n})" for (m, n), c in line.cells.items() if c.flagged)
    return TimelineRows(tuple((line.label(number), position[:120]) for number, position in enumerate(line.positions)),
                        tuple(steps), flagged)


FLAGGED = "changed position without citing a new argument: "


def timeline_text(line: Timeline) -> str:
    """The timeline in plain words: the chart's alt text, and what a terminal shows."""
    rows = timeline_rows(line)
    out = ["Stance timeline", *(f"  {letter}: {position}" for letter, position in rows.positions),
           *(f"{model}: {steps}" for model, steps in rows.steps)]
    if rows.flagged:
        out.append(f"  ⚠️ {FLAGGED}{rows.flagged}")
    return "\n".join(out)
