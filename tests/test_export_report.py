"""The HTML export as a report, opened in a real headless Chromium: summary on top, rounds collapsed,
answers' Markdown rendered, and nothing a model writes can run a script."""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from bot.export.html_page import render_markdown
from tests.discord_harness import DiscordHarness
from tests.fake_llm import FakeLLM, Script

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (Debian: apt install chromium)")
PWN = "document.body.setAttribute('data-pwned','1')"
MALICIOUS = (f"Here is my answer.\n\n<script>{PWN}</script>\n\n<img src=x onerror=\"{PWN}\">\n\n"
             f"[click me](javascript:{PWN}) and [also](JaVaScRiPt:alert(1)) "
             "<a href=\"javascript:alert(1)\">raw</a>\n\n"
             f"<svg onload=\"{PWN}\"></svg><iframe src=\"javascript:alert(1)\"></iframe>"
             "<form action=\"https://evil.example\"><input name=q></form>"
             "![tracker](https://evil.example/pixel.png)\n\n"
             "| model | verdict |\n| --- | --- |\n| **GPT** | `yes` |\n")


def said(text: str, position: str, confidence: int, changed: str = "no") -> Script:
    return Script(text=f"{text}\n\nSTANCE: {position}\nCONFIDENCE: {confidence}\nCHANGED: {changed}",
                  chunk_chars=40)


async def chromium(*args: str, cwd: Path) -> str:
    assert CHROMIUM is not None
    process = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        f"--user-data-dir={cwd / 'profile'}", *args, cwd=cwd, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0
    return out.decode()


async def exported_debate(harness: DiscordHarness, fake_llm: FakeLLM) -> str:
    fake_llm.script("gpt-test", said(MALICIOUS, "Use Go", 80), said("Still **Go**.", "Use Go", 85))
    fake_llm.script("claude-test", said("Rust is safer.", "Use Rust", 70),
                    said("Go, for hiring.", "Use Go", 60, "yes: the hiring data settles it"))
    fake_llm.script("llama-test", said("Go.", "Use Go", 65), said("Go.", "Use Go", 65))
    await harness.slash("discuss", topic="Rust or Go?", rounds=2, models="gpt,claude,llama")
    [thread] = harness.threads
    fake_llm.script("gpt-test", Script(text="## Agreement\nGo.\n## Minority report\nNone.\n## Final answer\n"
                                            "Use **Go**: it ships sooner."))
    await harness.slash("consensus", channel=thread)
    call = await harness.slash("export", channel=thread, format="html")
    [(_, data)] = call.followups[0].files.items()
    return data.decode()


async def test_the_export_opens_with_a_summary_and_renders_markdown(harness: DiscordHarness,
                                                                    fake_llm: FakeLLM) -> None:
    page = await exported_debate(harness, fake_llm)
    card, _, rounds = page.partition("</header>")
    assert "<h2>Consensus by GPT</h2>" in card and "<strong>Go</strong>: it ships sooner." in card
    assert "Where each model stands" in card and "<strong>Claude</strong>: Use Go (60%)" in card
    assert "<h3>Round-1 majority</h3><p>A: Use Go (2 of 3)</p>" in card  # the baseline the debate had to beat
    assert "<h3>After the debate</h3><p>A: Use Go (3 of 3)</p>" in card
    assert "in /" in card and "out tokens" in card and 'src="data:image/png;base64,' in card  # cost, timeline
    assert "GPT, Claude, Llama" in card  # display names, not aliases
    # the timeline is drawn as the thread's: the server's stance similarity and model colours
    import base64

    from bot.charts import chart_palette, stance_chart
    from bot.db.models import Discussion
    from bot.export.records import Look, extras, sections
    from bot.export.summary import summary

    config = harness.bot.config
    discussion = await Discussion.get(thread_id=harness.threads[0].id)
    look = Look(config.debate.similarity, chart_palette(config))
    found = summary(discussion, await extras(discussion), await sections(discussion), look)
    assert found.timeline is not None
    assert base64.b64encode(stance_chart(found.timeline, look.palette)).decode() in card
    # the opening, two rounds, the consensus round and its report: all collapsed (the answer is on top)
    assert rounds.count('<details class="round"') == 5 and "<details class=\"round\" open" not in rounds
    assert "<table>" in rounds and "<strong>GPT</strong>" in rounds and "<code>yes</code>" in rounds
    assert "**" not in rounds.split("Reasoning")[0].replace("**GPT**", "")  # no raw markdown left
    markdown = next(iter((await harness.slash("export", channel=harness.threads[0], format="md"))
                         .followups[0].files.values())).decode()
    top = markdown.split("## Conversation")[0]
    assert "## Summary" in top and "**Consensus by GPT:**\n\nUse **Go**: it ships sooner." in top
    assert "- **Claude**: Use Go (60%)" in top and "- Round 1 majority: A: Use Go (2 of 3); after the debate: A" in top
    assert "- Total: $" in top


def elements(page: str) -> list[tuple[str, dict[str, str]]]:
    """Every start tag and its attributes, as a browser's parser sees them (the text between is harmless)."""
    from html.parser import HTMLParser

    found: list[tuple[str, dict[str, str]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, {name: value or "" for name, value in attrs}))

    Collect().feed(page)
    return found


def test_the_sanitiser_keeps_no_script_handler_or_javascript_link() -> None:
    shown = render_markdown(MALICIOUS)
    tags = elements(shown)
    assert not {tag for tag, _ in tags} & {"script", "img", "svg", "iframe", "form", "input", "object", "embed"}
    assert not [name for _, attrs in tags for name in attrs if name.startswith("on")]
    assert not [v for _, attrs in tags for k, v in attrs.items() if k in ("href", "src", "action")
                and not v.startswith(("https://", "http://", "mailto:"))]
    assert "evil.example/pixel" not in "".join(v for _, attrs in tags for v in attrs.values())  # no tracker
    assert "<table>" in shown and "<code>yes</code>" in shown
    for attack in ('<a href="javascript:alert(1)">x</a>', "[x](javascript:alert(1))", "[x](JAVASCRIPT:alert(1))",
                   "[x](java\tscript:alert(1))", "[x](data:text/html;base64,PHNjcmlwdD4=)", "[x](vbscript:msgbox)",
                   '<a href="https://ok.example" onclick="alert(1)">x</a>', "<style>body{display:none}</style>"):
        parsed = elements(render_markdown(attack))
        assert all(not k.startswith("on") and (k != "href" or v.startswith("https://"))
                   for _, attrs in parsed for k, v in attrs.items()), attack
        assert "style" not in {tag for tag, _ in parsed}, attack
    safe = render_markdown("[docs](https://example.com/a?b=1)")
    assert 'href="https://example.com/a?b=1"' in safe and 'rel="noopener noreferrer nofollow ugc"' in safe


@needs_chromium
@pytest.mark.slow  # a real browser
async def test_a_real_browser_shows_the_report_and_runs_no_script(harness: DiscordHarness, fake_llm: FakeLLM,
                                                                  tmp_path: Path) -> None:
    page = await exported_debate(harness, fake_llm)
    (tmp_path / "report.html").write_text(page)
    # The control: in this browser, on this machine, such a script does run (so the check below can fail).
    (tmp_path / "control.html").write_text(f"<!doctype html><body><script>{PWN}</script></body>")
    control = await chromium("--dump-dom", (tmp_path / "control.html").as_uri(), cwd=tmp_path)
    assert [attrs for tag, attrs in elements(control) if tag == "body"] == [{"data-pwned": "1"}]
    dom = await chromium("--dump-dom", (tmp_path / "report.html").as_uri(), cwd=tmp_path)
    assert "Consensus by GPT" in dom
    assert not [attrs for tag, attrs in elements(dom) if "data-pwned" in attrs]  # no script ran
    assert not [v for _, attrs in elements(dom) for k, v in attrs.items() if k == "href" and "javascript" in v.lower()]
    await chromium("--screenshot=shot.png", "--window-size=1200,1600", "--hide-scrollbars",
                   (tmp_path / "report.html").as_uri(), cwd=tmp_path)
    with Image.open(tmp_path / "shot.png") as shot:
        assert shot.size == (1200, 1600)
        colours = shot.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) > 50  # a rendered page, not a blank one
    assert io.BytesIO((tmp_path / "shot.png").read_bytes()).getbuffer().nbytes > 20_000
