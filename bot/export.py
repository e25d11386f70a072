"""A discussion as a file: Markdown, HTML or JSON, round by round, with names, times and usage."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db.models import AttachmentRecord, ConsensusReport, Discussion, Message, Round, StanceRecord, Vote, VoteRound
from bot.kinds import AttachmentKind, AuthorKind, MessageStatus, MinoritySource
from bot.llm.types import is_cut_off, is_filtered
from bot.stances import split_stance

FORMATS = ("md", "html", "json")


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
    return Extras(stances, await ConsensusReport.filter(discussion=discussion).order_by("id"),
                  await vote_records(discussion, hidden), hidden, files)


def describe_file(record: AttachmentRecord) -> str:
    size = f"{len(record.data) / 1000:.0f} kB"
    if record.kind == AttachmentKind.IMAGE:
        return f"image, {record.width}×{record.height}, {size}"
    if record.kind == AttachmentKind.PDF:
        return f"PDF, {record.pages} page(s), {size}"
    return f"text, {len(record.text):,} characters"


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


def field_title(report: ConsensusReport, field_name: str, title: str) -> str:
    """A report section's heading; the minority report says when it is moai's own (the moderator wrote none)."""
    if field_name == "minority_report" and report.minority_source is MinoritySource.STANCES:
        return f"{title} (moai's, from the stances: the moderator wrote none)"
    return title


def report_markdown(report: ConsensusReport) -> list[str]:
    lines = [f"## Consensus by {report.moderator} — {_when(report.created_at)}", ""]
    if report.stances:
        lines += ["### Where each model stands", "", *(f"- **{name}**: {stance}"
                                                      for name, stance in report.stances.items()), ""]
    for field_name, title in REPORT_FIELDS:
        text = getattr(report, field_name)
        if text:
            lines += [f"### {field_title(report, field_name, title)}", "", text, ""]
    return lines


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


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _usage(message: Message) -> str:
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


def models_line(discussion: Discussion, hidden: bool) -> str:
    return f"{len(discussion.models)} models (blind, not revealed yet)" if hidden else ", ".join(discussion.models)


async def to_markdown(discussion: Discussion) -> str:
    more = await extras(discussion)
    lines = [f"# {discussion.question.splitlines()[0][:200]}", "",
             f"- mode: {discussion.mode.value} · status: {discussion.status.value}",
             f"- started: {_when(discussion.created_at)}", f"- models: {models_line(discussion, more.hidden)}", ""]
    for section in await sections(discussion):
        lines += [f"## {section.title}", ""]
        for message in section.messages:
            usage = _usage(message)
            lines += [f"### {message.author_name} — {_when(message.created_at)}" + (f" ({usage})" if usage else ""),
                      ""]
            if message.reasoning:
                lines += ["<details><summary>Reasoning</summary>", "", message.reasoning, "", "</details>", ""]
            lines += [more.body(message) or "_(no text)_", ""]
            if files := more.file_lines(message):
                lines += [*(f"- {line}" for line in files), ""]
            if stance := more.stance_text(message):
                lines += [f"> {stance}", ""]
    for report in more.reports:
        lines += report_markdown(report)
    if more.votes:
        lines += ["## Votes", "", *vote_lines(more.votes), ""]
    return "\n".join(lines)


async def to_html(discussion: Discussion) -> str:
    esc = html.escape
    more = await extras(discussion)
    body = [f"<h1>{esc(discussion.question.splitlines()[0][:200])}</h1>",
            f"<p>mode: {esc(discussion.mode.value)} · status: {esc(discussion.status.value)} · started "
            f"{esc(_when(discussion.created_at))} · models: {esc(models_line(discussion, more.hidden))}</p>"]
    for section in await sections(discussion):
        body.append(f"<h2>{esc(section.title)}</h2>")
        for message in section.messages:
            usage = _usage(message)
            reasoning = (f"<details><summary>Reasoning</summary><pre>{esc(message.reasoning)}</pre></details>"
                         if message.reasoning else "")
            body.append(f'<article class="{esc(message.author_kind.value)}"><h3>{esc(message.author_name)} '
                        f"<small>{esc(_when(message.created_at))}{' · ' + esc(usage) if usage else ''}</small></h3>"
                        f"{reasoning}<pre>{esc(more.body(message))}</pre>"
                        + "".join(file_html(f) for f in more.files.get(message.id, []))
                        + (f'<p class="stance">{esc(stance)}</p>' if (stance := more.stance_text(message)) else "")
                        + "</article>")
    for report in more.reports:
        body.append(f"<h2>Consensus by {esc(report.moderator)}</h2>")
        if report.stances:
            body.append("<h3>Where each model stands</h3><ul>" + "".join(
                f"<li><b>{esc(name)}</b>: {esc(stance)}</li>" for name, stance in report.stances.items()) + "</ul>")
        for field_name, title in REPORT_FIELDS:
            if text := getattr(report, field_name):
                body.append(f"<h3>{esc(field_title(report, field_name, title))}</h3><pre>{esc(text)}</pre>")
    if more.votes:
        body.append("<h2>Votes</h2><ul>" + "".join(f"<li>{esc(line[2:])}</li>" for line in vote_lines(more.votes))
                    + "</ul>")
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:auto;padding:1rem}"
             "pre{white-space:pre-wrap;background:#f5f5f5;padding:.75rem;border-radius:6px}"
             "article.user pre{background:#eef4ff}small{color:#666;font-weight:normal}"
             "p.stance{color:#444;border-left:3px solid #4c72b0;padding-left:.5rem}")
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{esc(discussion.question[:80])}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")


def file_html(record: AttachmentRecord) -> str:
    """Images inline (the stored, downscaled copy), other files named."""
    esc = html.escape
    if record.kind == AttachmentKind.IMAGE:
        data = base64.b64encode(bytes(record.data)).decode("ascii")
        return (f'<figure><img src="data:{esc(record.media_type)};base64,{data}" alt="{esc(record.name)}" '
                f'style="max-width:100%"><figcaption>📎 {esc(record.name)}</figcaption></figure>')
    return f"<p>📎 {esc(record.name)} ({esc(describe_file(record))})</p>"


async def to_json(discussion: Discussion) -> str:
    more = await extras(discussion)

    def message_dict(m: Message) -> dict[str, Any]:
        row = more.stances.get(m.id)
        stance = None if row is None else {"position": row.position, "confidence": row.confidence,
                                           "changed": row.changed, "reason": row.reason, "role": row.role}
        return {"author_kind": m.author_kind.value, "author": m.author_name,
                "model": m.author_name if more.hidden and m.model_alias else m.model_alias,
                "content": m.content, "status": m.status.value, "error": m.error, "created_at": _when(m.created_at),
                "input_tokens": m.input_tokens, "output_tokens": m.output_tokens, "latency_ms": m.latency_ms,
                "cost_usd": m.cost_usd, "stop_reason": m.stop_reason, "reasoning": m.reasoning,
                "reasoning_tokens": m.reasoning_tokens, "stance": stance,
                "attachments": [{"name": f.name, "kind": f.kind, "media_type": f.media_type, "bytes": len(f.data),
                                 "sha256": f.sha256, "width": f.width or None, "height": f.height or None,
                                 "pages": f.pages or None} for f in more.files.get(m.id, [])]}

    data = {
        "question": discussion.question, "mode": discussion.mode.value, "status": discussion.status.value,
        "models": None if more.hidden else discussion.models, "created_at": _when(discussion.created_at),
        "blind": bool(discussion.blind_names), "revealed": discussion.revealed,
        "blind_names": None if more.hidden else discussion.blind_names or None,
        "sections": [{"title": s.title, "round": s.round.number if s.round else None,
                      "kind": s.round.kind.value if s.round else None,
                      "status": s.round.status.value if s.round else None,
                      "messages": [message_dict(m) for m in s.messages]} for s in await sections(discussion)],
        "roles": discussion.roles, "rotate_roles": discussion.rotate_roles, "depth": discussion.depth,
        "consensus_reports": [{"moderator": r.moderator, "created_at": _when(r.created_at), "stances": r.stances,
                               **{name: getattr(r, name) for name, _ in REPORT_FIELDS},
                               "minority_source": r.minority_source.value} for r in more.reports],
        "votes": more.votes,
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


async def export(discussion: Discussion, fmt: str) -> str:
    renderers = {"md": to_markdown, "html": to_html, "json": to_json}
    return await renderers[fmt](discussion)


def package(name: str, data: bytes, limit: int) -> list[tuple[str, bytes]]:
    """An export as files of at most `limit` bytes each: as it is, else zipped, else its text cut at line
    ends into numbered zipped parts (each a readable file on its own)."""
    if len(data) <= limit:
        return [(name, data)]
    zipped = _zip(name, data)
    if len(zipped) <= limit:
        return [(f"{name}.zip", zipped)]
    parts = _halves(data, lambda part: len(_zip(name, part)) <= limit)
    stem, _, suffix = name.rpartition(".")
    inner = [f"{stem}.part{number}-of-{len(parts)}.{suffix}" for number in range(1, len(parts) + 1)]
    return [(f"{part_name}.zip", _zip(part_name, part)) for part_name, part in zip(inner, parts, strict=True)]


def _halves(data: bytes, fits: Callable[[bytes], bool]) -> list[bytes]:
    """`data` cut in two at the line end nearest its middle until every piece fits."""
    if fits(data) or len(data) < 2:
        return [data]
    middle = len(data) // 2
    cut = data.rfind(b"\n", 0, middle) + 1 or data.find(b"\n", middle) + 1 or middle
    if cut in (0, len(data)):
        cut = middle  # one long line: cut it
    return _halves(data[:cut], fits) + _halves(data[cut:], fits)


def _zip(name: str, data: bytes) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()
