"""A discussion as a file: Markdown, HTML or JSON, round by round, with names, times and usage."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db.models import Discussion, Message, Round
from bot.kinds import AuthorKind, MessageStatus
from bot.llm.types import is_cut_off, is_filtered

FORMATS = ("md", "html", "json")


@dataclass
class Section:
    title: str
    round: Round | None
    messages: list[Message]


async def sections(discussion: Discussion) -> list[Section]:
    """Messages grouped as they happened: user turns before a round go with the opening or between rounds."""
    rounds = {r.id: r for r in await Round.filter(discussion=discussion).order_by("number")}
    result: list[Section] = []
    for message in await Message.filter(discussion=discussion).order_by("id"):
        round_ = rounds.get(message.round_id) if message.round_id else None
        title = f"Round {round_.number} · {round_.kind.value}" if round_ else "Conversation"
        if not result or result[-1].round is not round_:
            result.append(Section(title, round_, []))
        result[-1].messages.append(message)
    return result


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


async def to_markdown(discussion: Discussion) -> str:
    lines = [f"# {discussion.question.splitlines()[0][:200]}", "",
             f"- mode: {discussion.mode.value} · status: {discussion.status.value}",
             f"- started: {_when(discussion.created_at)}", f"- models: {', '.join(discussion.models)}", ""]
    for section in await sections(discussion):
        lines += [f"## {section.title}", ""]
        for message in section.messages:
            usage = _usage(message)
            lines += [f"### {message.author_name} — {_when(message.created_at)}" + (f" ({usage})" if usage else ""),
                      ""]
            if message.reasoning:
                lines += ["<details><summary>Reasoning</summary>", "", message.reasoning, "", "</details>", ""]
            lines += [message.content or "_(no text)_", ""]
    return "\n".join(lines)


async def to_html(discussion: Discussion) -> str:
    esc = html.escape
    body = [f"<h1>{esc(discussion.question.splitlines()[0][:200])}</h1>",
            f"<p>mode: {esc(discussion.mode.value)} · status: {esc(discussion.status.value)} · started "
            f"{esc(_when(discussion.created_at))} · models: {esc(', '.join(discussion.models))}</p>"]
    for section in await sections(discussion):
        body.append(f"<h2>{esc(section.title)}</h2>")
        for message in section.messages:
            usage = _usage(message)
            reasoning = (f"<details><summary>Reasoning</summary><pre>{esc(message.reasoning)}</pre></details>"
                         if message.reasoning else "")
            body.append(f'<article class="{esc(message.author_kind.value)}"><h3>{esc(message.author_name)} '
                        f"<small>{esc(_when(message.created_at))}{' · ' + esc(usage) if usage else ''}</small></h3>"
                        f"{reasoning}<pre>{esc(message.content)}</pre></article>")
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:auto;padding:1rem}"
             "pre{white-space:pre-wrap;background:#f5f5f5;padding:.75rem;border-radius:6px}"
             "article.user pre{background:#eef4ff}small{color:#666;font-weight:normal}")
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{esc(discussion.question[:80])}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")


async def to_json(discussion: Discussion) -> str:
    def message_dict(m: Message) -> dict[str, Any]:
        return {"author_kind": m.author_kind.value, "author": m.author_name, "model": m.model_alias,
                "content": m.content, "status": m.status.value, "error": m.error, "created_at": _when(m.created_at),
                "input_tokens": m.input_tokens, "output_tokens": m.output_tokens, "latency_ms": m.latency_ms,
                "cost_usd": m.cost_usd, "stop_reason": m.stop_reason, "reasoning": m.reasoning,
                "reasoning_tokens": m.reasoning_tokens}

    data = {
        "question": discussion.question, "mode": discussion.mode.value, "status": discussion.status.value,
        "models": discussion.models, "created_at": _when(discussion.created_at),
        "sections": [{"title": s.title, "round": s.round.number if s.round else None,
                      "kind": s.round.kind.value if s.round else None,
                      "status": s.round.status.value if s.round else None,
                      "messages": [message_dict(m) for m in s.messages]} for s in await sections(discussion)],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


async def export(discussion: Discussion, fmt: str) -> str:
    renderers = {"md": to_markdown, "html": to_html, "json": to_json}
    return await renderers[fmt](discussion)
