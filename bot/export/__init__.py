"""A discussion as a file: Markdown, HTML or JSON, with a summary on top and every round as it happened."""

from __future__ import annotations

from bot.db.models import Discussion
from bot.export.html_page import to_html
from bot.export.json_file import to_json
from bot.export.markdown_file import to_markdown
from bot.export.packaging import package
from bot.export.records import Look

__all__ = ["FORMATS", "Look", "export", "package"]

FORMATS = ("md", "html", "json")


async def export(discussion: Discussion, fmt: str, look: Look | None = None) -> str:
    """`look`: the server's stance similarity and model colours (the defaults where there is no server)."""
    renderers = {"md": to_markdown, "html": to_html, "json": to_json}
    return await renderers[fmt](discussion, look or Look())
