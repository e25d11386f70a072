"""The HTML export: a report to read, not a log.

A summary card on top (the answer, where each model stands, the round-1 majority, cost and tokens, the
stance timeline, the vote), then each round collapsed under its title. Answers are Markdown rendered by
markdown-it-py (CommonMark and tables, raw HTML off) and then sanitised by nh3, so nothing a model or a
member wrote can add a script, an event handler, a `javascript:` link, a form or an outside image; and the
page's Content-Security-Policy allows no script and no outside fetch at all, should anything slip through.
"""

from __future__ import annotations

import asyncio
import base64
import html

import nh3
from markdown_it import MarkdownIt

from bot.attachments import describe_file
from bot.charts import stance_chart
from bot.db.models import AttachmentRecord, Discussion, Message, SourceRecord
from bot.export.records import (
    REPORT_FIELDS,
    Extras,
    Look,
    Section,
    claim_lines,
    extras,
    field_title,
    model_names,
    models_line,
    prediction_lines,
    sections,
    usage_text,
    when,
)
from bot.export.summary import Summary, summary, totals_text
from bot.kinds import AttachmentKind

__all__ = ["render_markdown", "to_html"]

RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])
ALLOWED_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
                "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "code": {"class"}, "ol": {"start"}, "th": {"style"},
                      "td": {"style"}}
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
STYLE = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1e1f22;--muted:#5c5e66;--card:#f2f3f5;--line:#d9dadc;
--accent:#5865f2;--code:#ebedef}
@media (prefers-color-scheme:dark){:root{--bg:#313338;--fg:#f2f3f5;--muted:#b5bac1;--card:#2b2d31;
--line:#3f4147;--code:#1e1f22}}
body{background:var(--bg);color:var(--fg);font:16px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;
max-width:62rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.6rem;margin:.2rem 0 .4rem}.meta,small{color:var(--muted);font-weight:normal}
.card{background:var(--card);border-radius:12px;padding:1.2rem 1.4rem;margin:1rem 0 1.5rem}
.final{border-left:4px solid var(--accent);padding-left:1rem;margin:.8rem 0}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:.4rem 1.5rem}
.facts h3{font-size:.8rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);margin:.8rem 0 .2rem}
.card img{max-width:100%;border-radius:8px;margin-top:.8rem}
details.round{border:1px solid var(--line);border-radius:10px;margin:.7rem 0;padding:.2rem 1rem}
details.round>summary{cursor:pointer;font-weight:600;padding:.5rem 0}
article{border-top:1px solid var(--line);padding:.6rem 0}article h3{margin:.3rem 0;font-size:1.05rem}
article.user{background:color-mix(in srgb,var(--accent) 8%,transparent);border-radius:8px;padding:.6rem .8rem}
pre,code{background:var(--code);border-radius:6px}pre{padding:.7rem;overflow:auto}code{padding:.1em .3em}
pre code{padding:0}table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid var(--line);padding:.3rem .6rem}blockquote{border-left:3px solid var(--line);margin:.5rem 0;
padding-left:.8rem;color:var(--muted)}.stance{color:var(--muted);font-size:.92rem}
ol.sources{font-size:.9rem;color:var(--muted)}ol.sources a{color:var(--accent)}
"""


def render_markdown(text: str) -> str:
    """Markdown from a model or a member as safe HTML: rendered without raw HTML, then sanitised."""
    return nh3.clean(RENDERER.render(text), tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow ugc")


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def summary_card(found: Summary, chart: bytes | None, meta: str) -> str:
    parts = [f"<header class=\"card\"><h1>{esc(found.question.splitlines()[0][:200])}</h1>"
             f"<p class=\"meta\">{esc(meta)}</p>"]
    if found.final:
        parts.append(f"<h2>{esc(found.final_by)}</h2><div class=\"final\">{render_markdown(found.final)}</div>")
    facts = []
    if found.standings:
        facts.append("<div><h3>Where each model stands</h3><ul>" + "".join(
            f"<li><strong>{esc(s.name)}</strong>: {esc(s.position)}"
            + (f" ({s.confidence}%)" if s.confidence is not None else "") + "</li>" for s in found.standings)
            + "</ul></div>")
    if found.majority:
        facts.append(f"<div><h3>Round-1 majority</h3><p>{esc(found.majority)}</p>"
                     + (f"<h3>After the debate</h3><p>{esc(found.after)}</p>" if found.after else "") + "</div>")
    facts.append(f"<div><h3>Cost</h3><p>{esc(totals_text(found))}</p></div>")
    if found.votes:
        facts.append("<div><h3>Vote</h3><ul>" + "".join(f"<li>{esc(v[2:])}</li>" for v in found.votes)
                     + "</ul></div>")
    parts.append(f"<div class=\"facts\">{''.join(facts)}</div>")
    if chart:
        data = base64.b64encode(chart).decode("ascii")
        parts.append(f'<img src="data:image/png;base64,{data}" alt="Stance timeline: who held which position, '
                     'round by round">')
    return "".join(parts) + "</header>"


def message_html(message: Message, more: Extras) -> str:
    usage = usage_text(message)
    reasoning = (f"<details><summary>Reasoning</summary>{render_markdown(message.reasoning)}</details>"
                 if message.reasoning else "")
    body = more.body(message)
    stance = more.stance_text(message)
    return (f'<article class="{esc(message.author_kind.value)}"><h3>{esc(message.author_name)} '
            f"<small>{esc(when(message.created_at))}{' · ' + esc(usage) if usage else ''}</small></h3>"
            f"{reasoning}{render_markdown(body) if body else '<p><em>(no text)</em></p>'}"
            + "".join(file_html(f) for f in more.files.get(message.id, []))
            + (f'<p class="stance">🔎 {esc(message.search_note)}</p>' if message.search_note else "")
            + sources_html(more.sources.get(message.id, []))
            + (f'<p class="stance">{esc(stance)}</p>' if stance else "") + "</article>")


def rounds_html(parts: list[Section], more: Extras, open_last: bool) -> str:
    shown = []
    for index, part in enumerate(parts):
        opened = " open" if open_last and index == len(parts) - 1 else ""
        answers = sum(1 for m in part.messages if m.model_alias)
        count = f" <small>· {answers} answer(s)</small>" if part.round else ""
        shown.append(f'<details class="round"{opened}><summary>{esc(part.title)}{count}</summary>'
                     + "".join(message_html(m, more) for m in part.messages) + "</details>")
    return "".join(shown)


def reports_html(more: Extras, names: dict[str, str]) -> str:
    shown = []
    for report in more.reports:
        moderator = names.get(report.moderator, report.moderator)
        fields = "".join(f"<h3>{esc(field_title(report, name, title))}</h3>{render_markdown(text)}"
                         for name, title in REPORT_FIELDS if (text := getattr(report, name)))
        if report.claims:
            fields += f"<h3>Claims</h3>{render_markdown(chr(10).join(claim_lines(report)))}"
        shown.append(f'<details class="round"><summary>Consensus report by {esc(moderator)} '
                     f"<small>· {esc(when(report.created_at))}</small></summary>{fields}</details>")
    return "".join(shown)


async def to_html(discussion: Discussion, look: Look) -> str:
    more = await extras(discussion)
    parts = await sections(discussion)
    found = summary(discussion, more, parts, look)
    chart = await asyncio.to_thread(stance_chart, found.timeline, look.palette) if found.timeline else None
    meta = (f"{discussion.mode.value} · {discussion.status.value} · started {when(discussion.created_at)} · "
            f"{models_line(discussion, more.hidden, parts)}")
    body = summary_card(found, chart, meta) + rounds_html(parts, more, open_last=not found.final) + reports_html(
        more, model_names(parts))
    if more.predictions:
        body += ('<details class="round" open><summary>Forecasts</summary>'
                 f"{render_markdown(chr(10).join(prediction_lines(more.predictions)))}</details>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{esc(discussion.question[:80])}</title><style>{STYLE}</style></head><body>{body}</body></html>")


def sources_html(cited: list[SourceRecord]) -> str:
    """The answer's numbered sources as links (http and https only: nothing else was ever stored)."""
    items = [f'<li value="{s.number}"><a href="{esc(s.url)}" rel="noopener noreferrer nofollow ugc">'
             f"{esc(s.title or s.url)}</a>" + (f" <q>{esc(s.quote[:300])}</q>" if s.quote else "")
             + ("" if s.cited else " <small>(given, not cited)</small>") + "</li>"
             for s in cited if s.url.lower().startswith(("https://", "http://"))]
    return f'<ol class="sources">{"".join(items)}</ol>' if items else ""


def file_html(record: AttachmentRecord) -> str:
    """Images inline (the stored, downscaled copy, re-encoded on upload), other files named."""
    if record.kind == AttachmentKind.IMAGE:
        data = base64.b64encode(bytes(record.data)).decode("ascii")
        return (f'<figure><img src="data:{esc(record.media_type)};base64,{data}" alt="{esc(record.name)}" '
                f'style="max-width:100%"><figcaption>📎 {esc(record.name)}</figcaption></figure>')
    return f"<p>📎 {esc(record.name)} ({esc(describe_file(record))})</p>"
