"""What a discussion asks about, from cheap rules on its question: coding, creative, advice, factual, other.

Each category has its own leaderboard (a model good at code may be poor at stories). The rules look for
strong signals only and are checked in that order; a question they cannot place is "other", which an
optional tagging model (`[arena] category_model`) may then place instead.
"""

from __future__ import annotations

import re

from bot.kinds import Category

__all__ = ["TAGGING_PROMPT", "category_from_reply", "category_of"]

_WORD = r"(?<![\w-]){}(?![\w-])"


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns), re.IGNORECASE)


RULES: tuple[tuple[Category, re.Pattern[str]], ...] = (
    (Category.CODING, _any(
        r"```", r"\btraceback\b", r"\bstack ?trace\b", r"\bsegfault\b", r"\bcompil(e|er|ing)\b", r"\bdebug",
        r"\brefactor", r"\bregex\b", r"\bunit tests?\b", r"\bfunction\s*\(", r"\bdef \w+\(", r"=>", r"\w+\(\)",
        r"\b(python|javascript|typescript|rust|golang|java|kotlin|swift|c\+\+|c#|sql|bash|haskell|ruby|php|"
        r"html|css|react|django|docker|kubernetes|git|npm|pip|linux|api|json|yaml|asyncio)\b",
        r"\b(code|coding|program|script|algorithm|bug|exception|syntax|library|framework|endpoint|database)\b")),
    (Category.CREATIVE, _any(
        r"\b(write|compose|draft|invent|imagine)\b.{0,40}\b(poem|story|song|lyrics|haiku|limerick|sonnet|"
        r"tale|fable|joke|script|scene|dialogue|verse|slogan|tagline|names?)\b",
        r"\b(poem|short story|haiku|limerick|lyrics|fan ?fiction|fiction|rhyme|worldbuilding|plot twist)\b",
        r"\bbrainstorm\b")),
    (Category.ADVICE, _any(
        r"\bshould (i|we)\b", r"\b(advice|advise|recommend|recommendation|tips?)\b", r"\bis it worth\b",
        r"\bhow (do|can|should) (i|we) (deal|handle|cope|choose|decide|tell|ask|convince|prepare|get better)\b",
        r"\bwhat would you do\b", r"\bpros and cons\b", r"\b(my|our) (boss|partner|wife|husband|friend|team|"
        r"career|manager|landlord|kid|son|daughter|parents?)\b")),
    (Category.FACTUAL, _any(
        r"^\s*(what|who|when|where|which|why|how (many|much|far|long|old|does|do|did|is|are))\b",
        r"^\s*(is|are|was|were|does|do|did|can|has|have) [^?]{3,}\?\s*$", r"\b(explain|define|definition of|"
        r"history of|difference between|meaning of|capital of|population of|how does .* work)\b")),
)

TAGGING_PROMPT = ("Classify the member's question into exactly one category: coding, creative, factual, advice or "
                  "other. Reply with that one word and nothing else.")


def category_of(question: str) -> Category:
    """The first category whose rule matches the question; OTHER when none does."""
    for category, rule in RULES:
        if rule.search(question):
            return category
    return Category.OTHER


def category_from_reply(reply: str) -> Category | None:
    """A tagging model's one-word answer as a category, or None when it said something else."""
    words = re.findall(r"[a-z]+", reply.lower())
    known = [Category(w) for w in words if w in Category.__members__.values()]
    return known[0] if len(set(known)) == 1 else None
