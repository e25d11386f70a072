"""A round's sources as people see them (the Sources button, the console): numbered per answer, under the
label the answer was shown with, links that Discord will not unfurl."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.engine.rounds import Answer, numbered_sources

__all__ = ["AnswerSources", "ShownSource", "answer_sources", "sources_text"]


@dataclass(frozen=True, slots=True)
class ShownSource:
    number: int
    url: str
    title: str
    cited: bool = True


@dataclass(frozen=True, slots=True)
class AnswerSources:
    label: str
    note: str  # how its search went ("searched the web 2×", "answered without search: …")
    sources: tuple[ShownSource, ...]


def answer_sources(answer: Answer) -> AnswerSources:
    """A finished answer's sources numbered as they are stored: moai's results first (the answer's [n]), then
    the provider's citations."""
    return AnswerSources(answer.seat.label, answer.search_note,
                         tuple(ShownSource(s.number, s.url, s.title, s.cited) for s in numbered_sources(answer)))


def sources_text(answers: Sequence[AnswerSources], *, clean: bool = True) -> str:
    """Markdown: one block per answer; `<url>` keeps Discord from embedding every link; titles cannot break
    the list (no newlines, no markdown link syntax of their own)."""
    blocks: list[str] = []
    for answer in answers:
        lines = [f"**{_flat(answer.label)}**" + (f" — {answer.note}" if answer.note else "")]
        for source in answer.sources:
            title = _flat(source.title) if clean else source.title
            mark = "" if source.cited else " *(given, not cited)*"
            lines.append(f"{source.number}. {title or 'source'} — <{source.url}>{mark}")
        if not answer.sources:
            lines.append("no sources")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) or "No sources in this round."


def _flat(text: str) -> str:
    return " ".join(text.replace("[", "(").replace("]", ")").replace("<", "‹").replace(">", "›").split())[:200]
