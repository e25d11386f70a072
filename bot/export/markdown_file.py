"""The Markdown export: the summary first, then every round as it happened."""

from __future__ import annotations

from bot.db.models import ConsensusReport, Discussion
from bot.export.records import (
    REPORT_FIELDS,
    Look,
    claim_lines,
    extras,
    field_title,
    model_names,
    models_line,
    prediction_lines,
    sections,
    usage_text,
    vote_lines,
    when,
)
from bot.export.summary import summary, summary_markdown

__all__ = ["report_markdown", "to_markdown"]


def report_markdown(report: ConsensusReport, names: dict[str, str]) -> list[str]:
    lines = [f"## Consensus by {names.get(report.moderator, report.moderator)} — {when(report.created_at)}", ""]
    if report.stances:
        lines += ["### Where each model stands", "", *(f"- **{name}**: {stance}"
                                                      for name, stance in report.stances.items()), ""]
    for field_name, title in REPORT_FIELDS:
        text = getattr(report, field_name)
        if text:
            lines += [f"### {field_title(report, field_name, title)}", "", text, ""]
    if report.claims:
        lines += ["### Claims", "", *claim_lines(report), ""]
    return lines


async def to_markdown(discussion: Discussion, look: Look) -> str:
    more = await extras(discussion)
    parts = await sections(discussion)
    lines = [f"# {discussion.question.splitlines()[0][:200]}", "",
             f"- mode: {discussion.mode.value} · status: {discussion.status.value}",
             f"- started: {when(discussion.created_at)}", f"- models: {models_line(discussion, more.hidden, parts)}",
             "", *summary_markdown(summary(discussion, more, parts, look))]
    for section in parts:
        lines += [f"## {section.title}", ""]
        for message in section.messages:
            usage = usage_text(message)
            lines += [f"### {message.author_name} — {when(message.created_at)}" + (f" ({usage})" if usage else ""),
                      ""]
            if message.reasoning:
                lines += ["<details><summary>Reasoning</summary>", "", message.reasoning, "", "</details>", ""]
            lines += [more.body(message) or "_(no text)_", ""]
            if files := more.file_lines(message):
                lines += [*(f"- {line}" for line in files), ""]
            if message.search_note:
                lines += [f"_🔎 {message.search_note}_", ""]
            if cited := more.sources.get(message.id):
                lines += ["Sources:", "", *(f"{s.number}. {s.title or s.url} — <{s.url}>"
                                            + ("" if s.cited else " (given, not cited)") for s in cited), ""]
            if stance := more.stance_text(message):
                lines += [f"> {stance}", ""]
    for report in more.reports:
        lines += report_markdown(report, model_names(parts))
    if more.predictions:
        lines += ["## Forecasts", "", *prediction_lines(more.predictions)]
    if more.votes:
        lines += ["## Votes", "", *vote_lines(more.votes), ""]
    return "\n".join(lines)
