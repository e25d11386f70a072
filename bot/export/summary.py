"""What a reader wants before the rounds: the answer, where each model ended, what the debate had to beat,
what it cost and how members voted — the same summary on top of the Markdown and the HTML export."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.models import Discussion
from bot.estimate import money_text
from bot.export.records import Extras, Look, Section, model_names, vote_lines
from bot.kinds import AuthorKind
from bot.stances import Stance, Timeline, timeline

__all__ = ["Standing", "Summary", "summary", "summary_markdown"]


@dataclass(frozen=True, slots=True)
class Standing:
    name: str
    position: str
    confidence: int | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    question: str
    final: str  # the consensus's final answer ("" if there is none yet)
    final_by: str  # "Consensus by Claude"
    standings: tuple[Standing, ...]
    majority: str  # "A: Use Go (3 of 4)": the round-1 majority, the baseline a debate must beat
    after: str  # the last debate round's majority ("" if there was one round or none)
    cost_usd: float | None  # None: hidden until a blind discussion is revealed (prices name the models)
    input_tokens: int | None
    output_tokens: int | None
    votes: tuple[str, ...]
    timeline: Timeline | None  # None: no stances (not a debate)


def summary(discussion: Discussion, more: Extras, parts: list[Section], look: Look) -> Summary:
    messages = [m for part in parts for m in part.messages]
    names = {m.id: m.author_name for m in messages}
    line = stance_timeline(more, names, look.similarity)
    report = next((r for r in reversed(more.reports) if r.final_answer), None)
    models = [m for m in messages if m.author_kind is AuthorKind.MODEL]
    return Summary(
        question=discussion.question, final=report.final_answer if report else "",
        final_by=f"Consensus by {model_names(parts).get(report.moderator, report.moderator)}" if report else "",
        standings=standings(more, names, line), majority=majority_text(line, first=True) if line else "",
        after=majority_text(line, first=False) if line and len(line.rounds) > 1 else "",
        cost_usd=None if more.hidden else sum(m.cost_usd or 0.0 for m in models),
        input_tokens=None if more.hidden else sum(m.input_tokens or 0 for m in models),
        output_tokens=None if more.hidden else sum(m.output_tokens or 0 for m in models),
        votes=tuple(vote_lines(more.votes)), timeline=line)


def stance_timeline(more: Extras, names: dict[int, str], similarity: float) -> Timeline | None:
    held = {(names.get(message_id, row.model_alias), row.round_number):
            Stance(row.position, row.confidence, row.changed, row.reason) for message_id, row in more.stances.items()}
    if not any(stance.known for stance in held.values()):
        return None
    models = list(dict.fromkeys(name for name, _ in held))
    return timeline(held, models, sorted({number for _, number in held}), similarity)


def standings(more: Extras, names: dict[int, str], line: Timeline | None) -> tuple[Standing, ...]:
    """The moderator's words where a consensus gave them, else each model's last known stance."""
    report = next((r for r in reversed(more.reports) if r.stances), None)
    if report is not None:
        return tuple(Standing(name, stance) for name, stance in report.stances.items())
    if line is None:
        return ()
    found = []
    for model in line.models:
        last = next((line.cells[(model, n)].stance for n in reversed(line.rounds)
                     if line.cells[(model, n)].stance.known), None)
        if last is not None and last.position:
            found.append(Standing(model, last.position, last.confidence))
    return tuple(found)


def majority_text(line: Timeline, *, first: bool) -> str:
    number = line.rounds[0] if first else line.rounds[-1]
    group = line.majority(number)
    if group is None:
        return "no majority"
    held = sum(1 for (_, n), cell in line.cells.items() if n == number and cell.group == group)
    told = sum(1 for (_, n), cell in line.cells.items() if n == number and cell.group is not None)
    return f"{line.label(group)}: {line.positions[group]} ({held} of {told})"


def totals_text(found: Summary) -> str:
    if found.cost_usd is None:
        return "cost and tokens hidden until the blind vote is revealed"
    return f"{money_text(found.cost_usd)} · {found.input_tokens or 0:,} in / {found.output_tokens or 0:,} out tokens"


def summary_markdown(found: Summary) -> list[str]:
    lines = ["## Summary", ""]
    if found.final:
        lines += [f"**{found.final_by}:**", "", found.final, ""]
    if found.standings:
        lines += ["**Where each model stands:**", ""]
        lines += [f"- **{s.name}**: {s.position}" + (f" ({s.confidence}%)" if s.confidence is not None else "")
                  for s in found.standings]
        lines.append("")
    if found.majority:
        lines.append(f"- Round 1 majority: {found.majority}" + (f"; after the debate: {found.after}"
                                                                 if found.after else ""))
    lines.append(f"- Total: {totals_text(found)}")
    lines += [f"- Vote: {line[2:]}" for line in found.votes]
    return [*lines, ""]
