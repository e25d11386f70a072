"""Stances: the short structured position each model ends a debate round with, read tolerantly.

Pure and Discord-free. A model that ignores the format is still shown, with stance "unknown". The block is
read however models really write it: `STANCE: …`, `**Stance:** …`, `## Stance` with the value below,
`1. Stance — …`, `- Confidence: 8/10`, `Confidence: high`, and its keys in the languages models answer in.
Positions are compared by bot/positions.py (direction as well as words).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.positions import clusters, content_words, plurality, same_position

STANCE_INSTRUCTIONS = """

End your answer with your stance: exactly these three lines, last, with nothing after them.
STANCE: <your position, in one line>
CONFIDENCE: <0-100>
CHANGED: <no | yes, because <the new argument that changed your mind>>"""

POSITION_MAX = 300
# The block's keys in English and the languages models most often answer in (es, fr, de, pt, it, nl, ru, zh,
# ja, ko), each mapped to its field.
KEYS = {
    "stance": ("stance", "position", "final position", "my stance", "my position", "postura", "posición",
               "posicion", "standpunkt", "haltung", "posição", "posicao", "posizione", "standpunt", "позиция",
               "立场", "立場", "입장"),
    "confidence": ("confidence", "certainty", "confianza", "confiance", "konfidenz", "zuversicht", "sicherheit",
                   "confiança", "confianca", "fiducia", "confidenza", "vertrouwen", "уверенность", "置信度",
                   "确信度", "確信度", "信心", "自信度", "自信", "확신도", "신뢰도", "확신"),
    "changed": ("changed", "change", "position changed", "cambiado", "cambio", "changé", "changement", "geändert",
                "änderung", "mudou", "mudança", "alterado", "cambiato", "veranderd", "изменено", "изменение",
                "изменилась", "是否改变", "改变", "变化", "変更", "변경됨", "변경"),
}
FIELD_OF = {key: field for field, keys in KEYS.items() for key in keys}
_KEYS = "|".join(re.escape(k) for k in sorted(FIELD_OF, key=len, reverse=True))
_MARK = r"(?:\*\*|__|\*|_)?"
_LEAD = r"^\s*(?:#{1,6}\s*)?(?:(?:[-*>•+]|\d+[.)])\s*)*" + _MARK + r"\s*"
KEY_RE = re.compile(_LEAD + rf"({_KEYS})\s*{_MARK}\s*(?:[:：=]|\s[-—–]\s|[—–])\s*{_MARK}\s*(.*?)\s*{_MARK}\s*$",
                    re.IGNORECASE)
BARE_KEY_RE = re.compile(r"^\s*(?:#{1,6}\s*|(?:\*\*|__))" + rf"({_KEYS})\s*(?:\*\*|__)?\s*[:：]?\s*(?:\*\*|__)?\s*$",
                         re.IGNORECASE)  # "## Stance" or "**Stance**" alone: its value on the next line
FENCE_RE = re.compile(r"^\s*(```|~~~)\w*\s*$")
AGREE_RE = re.compile(r"^\s*\[AGREE\]\s*$", re.IGNORECASE)
CONFIDENCE_WORDS = {"very high": 90, "very low": 10, "high": 80, "medium": 50, "moderate": 50, "low": 25,
                    "alta": 80, "media": 50, "baja": 25, "élevée": 80, "moyenne": 50, "faible": 25, "hoch": 80,
                    "mittel": 50, "niedrig": 25, "высокая": 80, "средняя": 50, "низкая": 25, "高": 80, "中": 50,
                    "低": 25}
YES = r"yes|y|true|changed|sí|si|oui|ja|sim|да|是|はい|예|네|sì"
NO = r"no|n|false|unchanged|same|nope|non|nein|não|nao|nee|нет|否|いいえ|아니요|아니오"
CHANGED_RE = re.compile(rf"^({YES}|{NO})(?=$|[\s,.;:!—–()-])[\s,.;:!—–-]*(.*)$", re.IGNORECASE)
YES_RE = re.compile(rf"^(?:{YES})$", re.IGNORECASE)
# A change of mind explained by the others rather than by an argument: these words add no claim.
CONFORMITY_WORDS = {
    "yes", "because", "other", "others", "participant", "participants", "panelist", "panelists", "panel",
    "colleagues", "group", "majority", "consensus", "everyone", "everybody", "convinced", "persuaded",
    "persuasive", "swayed", "defer", "deferring", "agree", "agreed", "agrees", "agreeing", "agreement", "i",
    "was", "were", "am", "by", "the", "their", "they", "them", "made", "make", "makes", "good", "great", "valid",
    "strong", "stronger", "compelling", "fair", "point", "points", "argument", "arguments", "case", "reasoning",
    "view", "views", "now", "think", "see", "mind", "changed", "change", "moved", "join", "side", "with", "well",
    "after", "reading", "considering", "reconsidered", "reconsider", "on", "reflection", "persuasion", "rest",
    "all", "most", "of", "to", "a", "an", "and", "have", "has", "been", "me", "my", "this", "that", "it", "is",
    "are", "so", "too", "also", "more", "position", "stance", "others'", "everyone's", "round", "discussion",
    "do", "not", "no", "any", "new", "just", "simply", "what", "said", "say", "says",
}
NEW_CLAIM_WORDS = 2  # a change of mind must bring at least this many content words nobody had used


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
    start = max((i for i, line in enumerate(lines) if _key(line) == "stance"), default=None)
    if start is None:
        return text, UNKNOWN
    fields: dict[str, str] = {}
    end = start
    pending: str | None = None  # a key written alone ("## Stance"): its value is the next line
    for index in range(start, len(lines)):
        line = lines[index]
        key = _key(line)
        if key is not None and key not in fields:
            value = _value(line)
            fields[key] = value
            pending = key if not value else None
        elif key is not None:  # the same key again: the block is over
            break
        elif pending is not None and line.strip() and not FENCE_RE.match(line):
            fields[pending] = _value_line(line)
            pending = None
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
        if _key(lines[index]) == "stance":
            return "\n".join(lines[:index]).rstrip()
    tail = lines[-1].strip().lower().lstrip("#*_-> ")
    if tail and ("stance".startswith(tail) or "position".startswith(tail)):
        return "\n".join(lines[:-1]).rstrip()  # a stance line still arriving, letter by letter
    return text


def _key(line: str) -> str | None:
    match = KEY_RE.match(line) or BARE_KEY_RE.match(line)
    return FIELD_OF.get(match.group(1).lower()) if match else None


def _value(line: str) -> str:
    match = KEY_RE.match(line)
    return match.group(2).strip().strip("*_`").strip() if match else ""


def _value_line(line: str) -> str:
    """A value written on the line under its key, maybe as a list item or in bold."""
    return re.sub(r"^\s*(?:[-*>•+]|\d+[.)])\s+", "", line).strip().strip("*_`").strip()


def _confidence(value: str) -> int | None:
    scale = re.search(r"(\d+(?:[.,]\d+)?)\s*/\s*(\d+)", value)
    if scale and float(scale.group(2)) > 0:  # 8/10, 4/5
        return max(0, min(100, round(float(scale.group(1).replace(",", ".")) / float(scale.group(2)) * 100)))
    match = re.search(r"\d+(?:[.,]\d+)?", value)
    if match:
        number = float(match.group().replace(",", "."))
        if number <= 1 and re.search(r"[.,]", match.group()) and "%" not in value:
            number *= 100  # 0.8 means 80
        return max(0, min(100, round(number)))
    lowered = value.lower()
    for word, number_ in CONFIDENCE_WORDS.items():
        if word in lowered:
            return number_
    return None


def _changed(value: str) -> tuple[bool | None, str]:
    text = value.strip()
    match = CHANGED_RE.match(text)
    if not match:
        return None, text
    return bool(YES_RE.match(match.group(1))), match.group(2).strip()


# --- comparing positions -------------------------------------------------------------------------------------
def new_claims(reason: str, known: set[str]) -> set[str]:
    """The content words of a change of mind's reason that neither defer to the others nor repeat what the
    debate already said."""
    return content_words(reason) - CONFORMITY_WORDS - known


def cites_an_argument(reason: str, known: set[str] | None = None) -> bool:
    """A change of mind explained by a claim of its own, not by the others' positions or their number."""
    return len(new_claims(reason, known or set())) >= NEW_CLAIM_WORDS


def agreement(stances: Mapping[str, Stance], similarity: float, min_confidence: int,
              groups: Sequence[int] | None = None) -> str | None:
    """None if every model holds one known position with at least `min_confidence`, else why not.
    `groups`: the positions' groups as a judge read them (default: the word rules')."""
    if not stances or not all(s.known for s in stances.values()):
        return "some stances are unknown"
    if groups is None:
        groups = clusters([s.position or "" for s in stances.values()], similarity)
    if len(set(groups)) > 1:
        return "the stances disagree"
    if any(s.confidence is None or s.confidence < min_confidence for s in stances.values()):
        return f"confidence is below {min_confidence}"
    return None


def settled(previous: Mapping[str, Stance], current: Mapping[str, Stance], similarity: float,
            min_confidence: int, groups: Sequence[int] | None = None) -> bool:
    """Early stop: every model agrees, confidently, and holds the same position as in its previous round."""
    if agreement(current, similarity, min_confidence, groups) is not None or set(previous) != set(current):
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

    def majority(self, number: int) -> int | None:
        """The position group most models held in round `number` (None: no stances, or a tie for most)."""
        return plurality([c.group for (_, n), c in self.cells.items() if n == number and c.group is not None])


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
            moved = found is not None and last is not None and found != last
            changed = moved or (found is not None and stance.changed is True)
            # Conformity: the position group moved, and the reason brings nothing the others had not said.
            flagged = moved and not cites_an_argument(stance.reason, said_by_others(stances, model, number))
            cells[(model, number)] = Cell(stance, found, changed, flagged)
            last = found if found is not None else last
    return Timeline(tuple(rounds), tuple(models), cells, tuple(positions[g] for g in sorted(positions)))


CONFORMED_SHARE = 0.25  # what a change of position without a new claim moves to the new position


def weighted_positions(line: Timeline) -> list[tuple[int, float]]:
    """Each position group's weight at the end of the debate, best first: every model counts its last
    confidence (0-1; unknown 0.5) for the position it ends on — but a model that got there by conformity
    (a flagged change, never argued since) moves only a quarter of it; three quarters stay with the position
    it last held on its own account. Drift to a majority without evidence cannot erase a confident dissent."""
    scores: dict[int, float] = {}
    for model in line.models:
        held: int | None = None
        anchor: int | None = None  # the last position the model held on its own account
        confidence = 0.5
        for number in line.rounds:
            cell = line.cells[(model, number)]
            if cell.group is None:
                continue
            held = cell.group
            if cell.stance.confidence is not None:
                confidence = cell.stance.confidence / 100
            if anchor is None or not cell.flagged:
                anchor = held
        if held is None or anchor is None:
            continue
        if held == anchor:
            scores[held] = scores.get(held, 0.0) + confidence
        else:
            scores[held] = scores.get(held, 0.0) + CONFORMED_SHARE * confidence
            scores[anchor] = scores.get(anchor, 0.0) + (1 - CONFORMED_SHARE) * confidence
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def said_by_others(stances: Mapping[tuple[str, int], Stance], model: str, number: int) -> set[str]:
    """The content words of the other models' stances (positions and reasons) up to round `number`."""
    return {word for (name, round_), s in stances.items() if name != model and round_ <= number and s.known
            for word in content_words(f"{s.position} {s.reason}")}


@dataclass(frozen=True, slots=True)
class TimelineRows:
    """The timeline in words, for a front end to lay out: each position's letter, each model's steps."""

    positions: tuple[tuple[str, str], ...]  # (letter, the position's first wording)
    steps: tuple[tuple[str, str], ...]  # (model name, "R1 A 80% → R2 B 60% ⚠️")
    flagged: str  # "GPT (round 2), …": changes of position that cited no new argument; "" if none
    baseline: str = ""  # "Round 1 majority: A; after the debate: B": what the debate had to beat
    weighted: str = ""  # "A 1.55 · B 0.95": confidence-weighted, conformity discounted


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
                        tuple(steps), flagged, baseline(line), weighted_text(line))


def weighted_text(line: Timeline) -> str:
    scores = weighted_positions(line)
    if len(line.rounds) < 2 or not scores:
        return ""
    return "Weighted by confidence, conformity discounted: " + " · ".join(
        f"{line.label(group)} {score:.2f}" for group, score in scores)


def baseline(line: Timeline) -> str:
    """The first round's majority beside the last round's: the plain vote a debate must beat (most of a debate's
    gain is majority voting), and whether the debate moved it."""
    if len(line.rounds) < 2:
        return ""

    def named(group: int | None) -> str:
        return "no majority" if group is None else f"{line.label(group)} ({line.positions[group][:60]})"

    first, last = line.majority(line.rounds[0]), line.majority(line.rounds[-1])
    moved = "" if first == last else " — the debate moved it"
    return f"Round {line.rounds[0]} majority: {named(first)}; after the debate: {named(last)}{moved}"


FLAGGED = "changed position without citing a new argument: "


def timeline_text(line: Timeline) -> str:
    """The timeline in plain words: the chart's alt text, and what a terminal shows."""
    rows = timeline_rows(line)
    out = ["Stance timeline", *(f"  {letter}: {position}" for letter, position in rows.positions),
           *(f"{model}: {steps}" for model, steps in rows.steps)]
    if rows.baseline:
        out.append(f"  {rows.baseline}")
    if rows.weighted:
        out.append(f"  {rows.weighted}")
    if rows.flagged:
        out.append(f"  ⚠️ {FLAGGED}{rows.flagged}")
    return "\n".join(out)
