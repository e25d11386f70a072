"""What an export is made of, whatever its format: the sections of messages, stances, reports, votes, files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.attachments import describe_file
from bot.chart_style import Palette
from bot.config import DebateConfig
from bot.db.models import (
    AttachmentRecord,
    ConsensusReport,
    Discussion,
    ForecastRecord,
    Message,
    Prediction,
    Round,
    SourceRecord,
    StanceRecord,
    Vote,
    VoteRound,
)
from bot.forecasting.scores import Scored
from bot.kinds import AuthorKind, MessageStatus, MinoritySource, PredictionKind
from bot.llm.types import is_cut_off, is_filtered
from bot.stances import split_stance

__all__ = [
    "REPORT_FIELDS",
    "Extras",
    "Look",
    "Section",
    "blind_numbers",
    "claim_lines",
    "extras",
    "field_title",
    "model_names",
    "models_line",
    "sections",
    "usage_text",
    "vote_lines",
    "vote_records",
    "when",
]


@dataclass(frozen=True, slots=True)
class Look:
    """How the server groups stances and colours models, so an export's timeline matches the thread's."""

    similarity: float = DebateConfig().similarity
    palette: Palette = field(default_factory=Palette)


@dataclass
class Section:
    title: str
    round: Round | None
    messages: list[Message]


REPORT_FIELDS = (("agreement", "Agreement"), ("disagreements", "Disagreements"),
                 ("unique_insights", "Unique insights"), ("blind_spots", "Blind spots"),
                 ("minority_report", "Minority report"), ("final_answer", "Final answer"))


@dataclass
class Extras:
    """What is stored beside the messages: debate stances (by message id) and structured consensus reports."""

    stances: dict[int, StanceRecord]
    reports: list[ConsensusReport]
    votes: list[dict[str, Any]]
    hidden: bool  # a blind discussion not revealed yet: no model names, no aliases
    files: dict[int, list[AttachmentRecord]]  # by message id
    sources: dict[int, list[SourceRecord]] = field(default_factory=dict)  # by message id, numbered
    predictions: list[dict[str, Any]] = field(default_factory=list)  # forecasts, resolution and scores

    def file_lines(self, message: Message) -> list[str]:
        return [f"📎 {f.name} ({describe_file(f)})" for f in self.files.get(message.id, [])]
    def body(self, message: Message) -> str:
        """A debate answer without its stance block (the stance is exported as its own field)."""
        return split_stance(message.content)[0] if message.id in self.stances else message.content

    def stance_text(self, message: Message) -> str:
        row = self.stances.get(message.id)
        if row is None:
            return ""
        if row.position is None:
            return "stance: unknown"
        text = f"stance: {row.position}" + (f" ({row.confidence}%)" if row.confidence is not None else "")
        if row.changed:
            text += f" · changed: {row.reason or 'no reason given'}"
        return text + (f" · role: {row.role}" if row.role else "")


async def extras(discussion: Discussion) -> Extras:
    stances = {row.message_id: row for row in await StanceRecord.filter(discussion=discussion)}  # type: ignore[attr-defined]
    hidden = discussion.masked
    files: dict[int, list[AttachmentRecord]] = {}
    for record in await AttachmentRecord.filter(discussion=discussion).order_by("id"):
        files.setdefault(record.message_id, []).append(record)  # type: ignore[attr-defined]
    sources: dict[int, list[SourceRecord]] = {}
    for source in await SourceRecord.filter(discussion=discussion).order_by("message_id", "number"):
        sources.setdefault(source.message_id, []).append(source)  # type: ignore[attr-defined]
    return Extras(stances, await ConsensusReport.filter(discussion=discussion).order_by("id"),
                  await vote_records(discussion, hidden), hidden, files, sources, await prediction_records(discussion))


async def prediction_records(discussion: Discussion) -> list[dict[str, Any]]:
    """Each question of the discussion: outcomes, times, the truth, and every forecast with its scores once
    resolved (members by the name they had; a forgotten member's forecast stays, nameless; a blind forecast's
    models by their labels until the reveal)."""
    found = []
    labels = discussion.blind_names if discussion.masked else {}
    for row in await Prediction.filter(discussion=discussion).order_by("id"):
        truth = None if row.void or row.outcome is None else ("right" if row.kind is PredictionKind.DEBATE
                                                              else row.outcome)
        forecasts = []
        for forecast in await ForecastRecord.filter(prediction_id=row.id).order_by("round_number", "id"):
            scored = Scored(forecast.probabilities, truth) if truth is not None and forecast.final else None
            author = labels.get(forecast.model_alias or "", forecast.author_name) if labels else forecast.author_name
            forecasts.append({"author": author or "(forgotten)", "model": None if labels else forecast.model_alias,
                              "kind": forecast.author_kind.value, "round": forecast.round_number or None,
                              "final": forecast.final, "probabilities": forecast.probabilities,
                              "normalised": forecast.normalised,
                              "brier": scored.brier if scored else None, "log": scored.log if scored else None})
        found.append({"kind": row.kind.value, "outcomes": row.outcomes,
                      "resolves_at": when(row.resolves_at) if row.resolves_at else None,
                      "closes_at": when(row.closes_at) if row.closes_at else None,
                      "outcome": row.outcome, "void": row.void,
                      "resolved_at": when(row.resolved_at) if row.resolved_at else None, "forecasts": forecasts})
    return found


def prediction_lines(predictions: list[dict[str, Any]]) -> list[str]:
    """The forecasts as Markdown, for the Markdown and HTML exports."""
    lines: list[str] = []
    for item in predictions:
        state = ("void" if item["void"] else f"resolved: **{item['outcome']}**" if item["resolved_at"]
                 else f"resolves {item['resolves_at']}")
        lines += [f"- Outcomes: {', '.join(item['outcomes'])} · {state}", ""]
        for forecast in item["forecasts"]:
            said = " · ".join(f"{o} {forecast['probabilities'].get(o, 0.0):.0%}" for o in item["outcomes"])
            where = f"round {forecast['round']}" if forecast["round"] else "member"
            score = (f" → Brier {forecast['brier']:.3f}, log {forecast['log']:.2f}"
                     if forecast["brier"] is not None else "")
            final = "" if forecast["final"] else " (revised later)"
            lines.append(f"  - {forecast['author']} ({where}): {said}{score}{final}")
        lines.append("")
    return lines


async def vote_records(discussion: Discussion, hidden: bool) -> list[dict[str, Any]]:
    """Each vote's tally as members saw it (and, once revealed, who was who)."""
    found = []
    for row in await VoteRound.filter(discussion=discussion).order_by("id").prefetch_related("round"):
        choices = [str(c) for c in await Vote.filter(vote_round=row).values_list("choice", flat=True)]
        found.append({
            "round": row.round.number, "blind": row.blind, "closed": row.closed_at is not None,
            "labels": row.labels, "models": None if hidden else row.answered, "voided": row.voided or None,
            "tally": {label: choices.count(alias) for alias, label in zip(row.answered, row.labels, strict=True)},
            "ties": choices.count("tie"), "all_bad": choices.count("bad")})
    return found


def vote_lines(votes: list[dict[str, Any]]) -> list[str]:
    lines = []
    for vote in votes:
        who = vote["models"] or [None] * len(vote["labels"])
        parts = [f"{label}{f' ({alias})' if alias and vote['blind'] else ''}: {vote['tally'][label]}"
                 for label, alias in zip(vote["labels"], who, strict=True)]
        state = "closed" if vote["closed"] else "open"
        lines.append(f"- Round {vote['round']} vote ({state}): " + ", ".join(parts)
                     + f"; tie {vote['ties']}, all bad {vote['all_bad']}"
                     + (f" — not rated: {vote['voided']}" if vote["voided"] else ""))
    return lines


def claim_lines(report: ConsensusReport) -> list[str]:
    """A consensus's Claims as Markdown bullets: each claim with the sources that support it, or unsupported."""
    urls = {int(s["number"]): str(s["url"]) for s in report.claim_sources}
    lines = []
    for claim in report.claims:
        numbers = [int(n) for n in claim.get("sources", []) if int(n) in urls]
        support = ", ".join(f"[{n}] <{urls[n]}>" for n in numbers) if numbers else "⚠️ unsupported"
        lines.append(f"- {claim.get('text', '')} — {support}")
    return lines


def field_title(report: ConsensusReport, field_name: str, title: str) -> str:
    """A report section's heading; the minority report says when it is moai's own (the moderator wrote none)."""
    if field_name == "minority_report" and report.minority_source is MinoritySource.STANCES:
        return f"{title} (moai's, from the stances: the moderator wrote none)"
    return title


async def sections(discussion: Discussion) -> list[Section]:
    """Messages grouped as they happened: user turns before a round go with the opening or between rounds."""
    rounds = {r.id: r for r in await Round.filter(discussion=discussion).order_by("number")}
    result: list[Section] = []
    for message in await Message.filter(discussion=discussion).order_by("id"):
        if discussion.masked and message.author_kind is AuthorKind.MODEL:
            blind_numbers(message)
        round_ = rounds.get(message.round_id) if message.round_id else None
        title = f"Round {round_.number} · {round_.kind.value}" if round_ else "Conversation"
        if not result or result[-1].round is not round_:
            result.append(Section(title, round_, []))
        result[-1].messages.append(message)
    return result


def blind_numbers(message: Message) -> None:
    """Before the reveal, an answer's own numbers stay out of the file (never saved back): tokens, latency and
    cost give its price (hence its model) away, stop reasons and reasoning its provider or its name."""
    message.input_tokens = message.output_tokens = message.latency_ms = message.reasoning_tokens = None
    message.cost_usd = None
    message.stop_reason = None
    message.reasoning = ""


def when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def usage_text(message: Message) -> str:
    parts = []
    if message.input_tokens is not None or message.output_tokens is not None:
        parts.append(f"{message.input_tokens or 0} in / {message.output_tokens or 0} out tokens")
    if message.latency_ms is not None:
        parts.append(f"{message.latency_ms / 1000:.1f} s")
    if message.cost_usd:
        parts.append(f"${message.cost_usd:.4f}")
    if message.status is not MessageStatus.COMPLETE and message.author_kind is AuthorKind.MODEL:
        parts.append(f"{message.status.value}" + (f": {message.error}" if message.error else ""))
    elif is_cut_off(message.stop_reason):
        parts.append(f"cut off at the token limit ({message.stop_reason})")
    elif is_filtered(message.stop_reason):
        parts.append(f"stopped by the provider's content filter ({message.stop_reason})")
    if message.reasoning_tokens:
        parts.append(f"{message.reasoning_tokens} reasoning tokens")
    return " · ".join(parts)


def models_line(discussion: Discussion, hidden: bool, parts: list[Section]) -> str:
    """The panel by the names members saw (an alias only for a model that never answered)."""
    if hidden:
        return f"{len(discussion.models)} models (blind, not revealed yet)"
    names = model_names(parts)
    return ", ".join(names.get(alias, alias) for alias in discussion.models)


def model_names(parts: list[Section]) -> dict[str, str]:
    """Each model's alias -> the name its answers were shown under."""
    names: dict[str, str] = {}
    for message in (m for part in parts for m in part.messages):
        if message.model_alias and message.author_kind is AuthorKind.MODEL:
            names.setdefault(message.model_alias, message.author_name)
    return names
