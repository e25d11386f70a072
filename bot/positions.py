"""Whether two debate positions are the same, read for direction as well as words. Pure and Discord-free.

A position is read clause by clause into what it is *for* and what it is *against*: "Use Rust, not Go" is
for {use, rust} and against {go}; "Don't use Rust" is against {use, rust}; "Prefer Rust over Go", "Rust
instead of Go", "Rust rather than Go", "Rust is better than Go" are for Rust and against Go; "Go is worse
than Rust" the same. Two positions differ when one is for what the other is against; otherwise they are the
same when their words overlap by `similarity` (Jaccard), or when one says less than the other without
dropping a word that another position of the debate is built on (the object of contention: "Rust" and "Rust
and Go" are not one position while someone holds "Go"). Two positions that each name a thing the other does
not (a capitalised or technical word: "Use PostgreSQL for the event store" and "Use MongoDB for the event
store") choose between alternatives, however many other words they share; two that are for the same named
things and nothing against each other are one choice in other words ("Use PostgreSQL for the event store",
"PostgreSQL, with a partitioned events table").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Reading", "clusters", "content_words", "plurality", "read", "same_position", "unsure"]

WORD_RE = re.compile(r"[^\W_][\w'+.#-]*", re.UNICODE)
APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "＇": "'"})
NEGATIONS = {"no", "not", "never", "none", "neither", "nor", "cannot", "isn't", "aren't", "doesn't", "don't",
             "won't", "shouldn't", "can't", "wouldn't", "mustn't", "didn't", "wasn't", "isnt", "arent", "doesnt",
             "dont", "wont", "shouldnt", "cant", "wouldnt", "false", "unlikely", "against", "avoid", "reject",
             "oppose", "nothing", "nope"}
STOPWORDS = {"a", "an", "the", "is", "are", "be", "to", "of", "and", "or", "in", "on", "for", "it", "that", "this",
             "with", "as", "by", "at", "we", "i", "you", "should", "would", "will", "can", "best", "my", "position",
             "prefer", "choose", "pick", "go with", "better", "worse", "than", "rather", "instead", "over", "use",
             "using", "do", "does", "so", "if", "but", "yes", "definitely", "probably", "clearly", "overall"}
# "X over Y", "X instead of Y", …: the left side is preferred. "X is worse than Y": the right side is.
PREFERRED_LEFT = re.compile(r"\b(?:over|instead of|rather than|in place of|before|(?:is |are )?(?:much |far )?"
                            r"(?:better|superior|preferable) (?:than|to)|beats?|trumps?|>)\s", re.IGNORECASE)
PREFERRED_RIGHT = re.compile(r"\b(?:(?:is |are )?(?:much |far )?(?:worse|inferior) (?:than|to)|<)\s",
                             re.IGNORECASE)
PREFER_TO = re.compile(r"\bprefer\s+(.+?)\s+to\s+(.+)$", re.IGNORECASE)
CLAUSES = re.compile(r"[;,.!?:()\n]|\s[—–-]\s|\bbut\b|\bwhile\b|\bwhereas\b|\band not\b", re.IGNORECASE)


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(APOSTROPHES).lower()


def content_words(text: str) -> set[str]:
    """The words that carry a position's meaning: no stopwords, no negations."""
    return {w.strip(".'") for w in WORD_RE.findall(normalise(text))} - STOPWORDS - NEGATIONS - {""}


def _negated(clause: str) -> bool:
    words = {w.strip(".'") for w in WORD_RE.findall(clause)}
    return bool(words & NEGATIONS) or "n't" in clause


@dataclass(frozen=True, slots=True)
class Reading:
    """What a position is for and against, by content words; `plain` when it has none (a bare yes/no)."""

    pro: frozenset[str]
    con: frozenset[str]
    plain: str

    @property
    def words(self) -> frozenset[str]:
        return self.pro | self.con


def read(position: str) -> Reading:
    text = normalise(position)
    pro: set[str] = set()
    con: set[str] = set()
    for clause in (c for c in CLAUSES.split(text) if c and c.strip()):
        preferred = PREFER_TO.search(clause)
        left_right = PREFERRED_LEFT.split(clause, maxsplit=1)
        right_left = PREFERRED_RIGHT.split(clause, maxsplit=1)
        if preferred:
            winner, loser = preferred.group(1), preferred.group(2)
        elif len(left_right) == 2:
            winner, loser = left_right
        elif len(right_left) == 2:
            loser, winner = right_left
        else:
            (con if _negated(clause) else pro).update(content_words(clause))
            continue
        if _negated(winner):  # "not X over Y" reads as a preference for Y
            winner, loser = loser, winner
        pro.update(content_words(winner))
        con.update(content_words(loser))
    shared = pro & con  # "don't use Rust; use Go": "use" is on both sides and decides nothing
    plain = " ".join(w.strip(".'") for w in WORD_RE.findall(text))
    return Reading(frozenset(pro - shared), frozenset(con - shared), plain)


def named_words(position: str) -> frozenset[str]:
    """Words that name a thing: capitalised past the first word ("Use PostgreSQL"), capitals inside a word
    ("MongoDB", "gRPC"), or digits and symbols ("C++", "k8s", "node.js")."""
    found = set()
    for index, match in enumerate(WORD_RE.finditer(unicodedata.normalize("NFKC", position).translate(APOSTROPHES))):
        word = match.group().strip(".'")
        inner_capital = any(c.isupper() for c in word[1:])
        if (index > 0 and word[:1].isupper()) or inner_capital or any(c.isdigit() or c in "+#." for c in word):
            found.add(word.lower())
    return frozenset(found) - STOPWORDS - NEGATIONS


def _alternatives(first: str, second: str, a: Reading, b: Reading) -> bool:
    """Each is for a named thing the other does not mention at all: a choice between them."""
    return bool((named_words(first) & a.pro) - b.words and (named_words(second) & b.pro) - a.words)


def _opposed(a: Reading, b: Reading) -> bool:
    return bool(a.pro & b.con or a.con & b.pro)


def same_position(first: str, second: str, similarity: float, contended: frozenset[str] = frozenset()) -> bool:
    """The same position, by direction and words. `contended`: words other positions of the debate are built
    on; a position that is for one of them is not the same as one that is not."""
    a, b = read(first), read(second)
    if _opposed(a, b) or (a.pro ^ b.pro) & contended or _alternatives(first, second, a, b):
        return False
    if not a.words or not b.words:  # a bare "yes" or "no": the same when both say no, or say the same
        return not a.words and not b.words and (a.plain == b.plain or (_negated(a.plain) and _negated(b.plain)))
    if bool(a.pro) != bool(b.pro):  # one only against something, the other for something
        return False
    named = named_words(first) & a.pro
    if named and named == named_words(second) & b.pro:  # the same named choice, said in other words
        return True
    if len(a.words & b.words) / len(a.words | b.words) >= similarity:
        return True
    return (a.pro <= b.pro and a.con <= b.con) or (b.pro <= a.pro and b.con <= a.con)


def clusters(positions: Sequence[str], similarity: float) -> list[int]:
    """Each position's group number (0, 1, …), groups numbered in order of first appearance.

    A word is contended when a position is that word alone, or a position argues against it: "go" among
    "Rust", "Go", "Rust and Go"."""
    readings = [read(p) for p in positions]
    contended = frozenset(w for r in readings for w in (r.words if len(r.words) == 1 else r.con))
    representatives: list[str] = []
    groups = []
    for position in positions:
        for number, representative in enumerate(representatives):
            if same_position(position, representative, similarity, contended):
                groups.append(number)
                break
        else:
            representatives.append(position)
            groups.append(len(representatives) - 1)
    return groups


def unsure(positions: Sequence[str], similarity: float) -> bool:
    """The rules put two positions apart without either being against what the other is for: a judge may
    read them better (`[debate] position_judge`)."""
    groups = clusters(positions, similarity)
    readings = [read(p) for p in positions]
    return any(groups[i] != groups[j] and not _opposed(readings[i], readings[j])
               for i in range(len(positions)) for j in range(i + 1, len(positions)))


def plurality(groups: Sequence[int]) -> int | None:
    """The group more positions are in than any other; None when there are none or two lead together."""
    sizes = {g: groups.count(g) for g in set(groups)}
    if not sizes:
        return None
    most = max(sizes.values())
    leaders = [g for g, size in sizes.items() if size == most]
    return leaders[0] if len(leaders) == 1 else None
