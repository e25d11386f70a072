"""Grounded roundtables (issue 27): search:true through each route — Anthropic's web search tool, OpenRouter's
web plugin, moai's own SearXNG/Brave/Tavily backend — over real loopback HTTP in the recorded wire shapes;
sources stored, shown (Sources button), exported and forgotten; searches billed and held; every failure of a
search isolated from the answer."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from bot.config import AppConfig
from bot.db.models import ConsensusReport, Discussion, Message, SourceRecord, Spend
from bot.kinds import MessageStatus, SpendKind
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM, Script
from tests.fake_search import BRAVE_KEY, RESULTS, TAVILY_KEY, FakeSearch

CITED = (("https://www.python.org/downloads/release/python-3140/", "Python 3.14.0", "Python 3.14.0 is out"),
         ("https://docs.python.org/3.14/whatsnew/3.14.html", "What's new in Python 3.14", "free-threaded"))


@pytest.fixture
async def fake_search() -> AsyncIterator[FakeSearch]:
    server = await FakeSearch().start()
    yield server
    await server.stop()


def admin() -> discord.Permissions:
    return discord.Permissions(manage_guild=True)


def search_config(fake_llm: FakeLLM, fake_search: FakeSearch, **overrides: object) -> AppConfig:
    """GPT on an OpenRouter-like provider (its web plugin), Claude on Anthropic (its tool), Llama on a local
    OpenAI-compatible server (moai's SearXNG backend)."""
    values: dict[str, object] = {
        "search__backend": "searxng", "search__url": fake_search.base, "search__timeout_seconds": 1.0,
        "providers__fakeopenai__search": "provider",
        "providers__fakelocal": {"kind": "openai", "base_url": fake_llm.openai_url, "retry_backoff": 0.01},
        "models__llama__provider": "fakelocal", "discord__message_content_intent": True,
    }
    return make_config(fake_llm, **{**values, **overrides})


@pytest.fixture
def config(fake_llm: FakeLLM, fake_search: FakeSearch) -> AppConfig:
    return search_config(fake_llm, fake_search)


def status_line(harness: DiscordHarness, thread: object) -> object:
    [summary] = [m for m in harness.bot_messages(thread) if (m.content or "").startswith("-# Round 1")]  # type: ignore[arg-type]
    return summary


def system_text(body: dict[str, object]) -> str:
    system = body.get("system")
    if isinstance(system, str):
        return system
    return "\n".join(str(m["content"]) for m in body["messages"] if m["role"] == "system")  # type: ignore[index, union-attr]


async def test_each_route_asks_the_way_its_provider_searches(harness: DiscordHarness, fake_llm: FakeLLM,
                                                             fake_search: FakeSearch) -> None:
    fake_llm.script("gpt-test", Script(text="Python 3.14 is out.", citations=CITED))
    fake_llm.script("claude-test", Script(text="It shipped in October.", citations=CITED, searches=2))
    fake_llm.script("llama-test", Script(text="3.14.0 is the newest release [1]; see the notes [2], not [9]."))
    await harness.slash("open", question="What is the latest Python?", models="gpt,claude,llama", search=True)
    [thread] = harness.threads
    assert harness.errors == []

    [gpt] = [r.body for r in fake_llm.requests_for("gpt-test")]
    assert gpt["plugins"] == [{"id": "web", "max_results": 5}] and "tools" not in gpt
    [claude] = [r.body for r in fake_llm.requests_for("claude-test")]
    assert claude["tools"] == [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]
    [llama] = [r.body for r in fake_llm.requests_for("llama-test")]
    assert "plugins" not in llama and "tools" not in llama
    prompt = system_text(llama)
    assert "[1] Python Release Python 3.14.0 — https://www.python.org/downloads/release/python-3140/" in prompt
    assert "Python 3.14.0 is the newest major release" in prompt and "<strong>" not in prompt  # markup dropped
    assert "javascript:" not in prompt and "[3] PEP 745" in prompt  # a non-http result is never given
    assert "What is the latest Python?" in fake_search.requests[0].query["q"]
    assert fake_search.requests[0].query["format"] == "json"

    notes = dict(await Message.filter(model_alias__not_isnull=True).values_list("model_alias", "search_note"))
    assert notes == {"gpt": "searched the web", "claude": "searched the web 2×",
                     "llama": "read 3 web result(s) from SearXNG"}
    rows = await SourceRecord.all().order_by("message_id", "number").values_list(
        "message__model_alias", "number", "url", "provider", "cited")
    assert [r for r in rows if r[0] == "llama"] == [
        ("llama", 1, RESULTS[0][0], "searxng", True), ("llama", 2, RESULTS[1][0], "searxng", True),
        ("llama", 3, RESULTS[3][0], "searxng", False)]
    assert [r[1:] for r in rows if r[0] == "claude"] == [(1, CITED[0][0], "fakeanthropic", True),
                                                        (2, CITED[1][0], "fakeanthropic", True)]
    assert "3.14.0 is the newest release [1]" in harness.answers_by_model(thread.id)["Llama"]  # markers readable

    summary = status_line(harness, thread)
    assert "-# 🔎 Web search — GPT: searched the web; Claude: searched the web 2×; Llama: read 3 web result(s) " \
           "from SearXNG" in summary.content  # type: ignore[attr-defined]
    buttons = {b.label: b.custom_id for b in summary.components[-1].children}  # type: ignore[attr-defined]
    assert list(buttons) == ["One more round", "Consensus", "Stop", "Export", "Sources"]
    call = await harness.click(summary, buttons["Sources"], wait=False)  # type: ignore[arg-type]
    [shown] = call.ephemeral_texts
    assert "**Llama** — read 3 web result(s) from SearXNG\n1. Python Release Python 3.14.0 — " \
           f"<{RESULTS[0][0]}>\n2. What's new in Python 3.14 — <{RESULTS[1][0]}>\n3. PEP 745 – Python 3.14 " \
           f"Release Schedule — <{RESULTS[3][0]}> *(given, not cited)*" in shown
    assert f"**Claude** — searched the web 2×\n1. Python 3.14.0 — <{CITED[0][0]}>" in shown


async def test_searches_are_billed_as_rows_of_their_own(database: str, fake_llm: FakeLLM,
                                                        fake_search: FakeSearch) -> None:
    config = search_config(fake_llm, fake_search, **{f"models__{m}__{side}_price": 1.0 for m in ("gpt", "claude",
                                                                                                  "llama")
                                                    for side in ("input", "output")})
    harness = await make_harness(config, TEST_ENV)
    try:
        fake_llm.script("claude-test", Script(text="Found it.", citations=CITED, searches=2))
        await harness.slash("open", question="Latest Python?", models="gpt,claude,llama", search=True)
        searches = {r.model_alias: (r.searches, r.cost_usd, r.model_name)
                    for r in await Spend.filter(kind=SpendKind.SEARCH)}
        assert searches == {
            "claude:search": (2, pytest.approx(0.02), "Claude · web search"),  # $10 per 1,000 searches
            "gpt:search": (1, pytest.approx(0.02), "GPT · web search"),  # 5 results at $4 per 1,000
            "search:searxng": (1, 0.0, "Web search · SearXNG"),  # self-hosted: free, still counted
        }
        tokens = await Spend.filter(kind=SpendKind.TOKENS).count()
        assert tokens == 3  # and each answer's tokens as before
        usage = await harness.slash("usage")
        text = "\n".join(usage.texts)
        assert "• Claude · web search: 2 searches · $0.0200" in text and "GPT · web search: 1 search ·" in text
        assert "**Total**: 3 answers · 4 searches ·" in text
    finally:
        await harness.close()


async def test_the_hold_counts_search_at_its_limits(database: str, fake_llm: FakeLLM,
                                                    fake_search: FakeSearch) -> None:
    """A budget that fits the answers but not their searches' worst case: refused with search, run without."""
    from bot.estimate import run_cost
    from bot.search.pricing import search_estimate

    prices = {f"models__claude__{side}_price": 0.0 for side in ("input", "output")}
    config = search_config(fake_llm, fake_search, **prices, defaults__monthly_budget_usd=0.02)
    claude = config.models["claude"]
    assert run_cost([claude], 40) == 0.0 and search_estimate(config, [claude], 1) == pytest.approx(0.03)
    harness = await make_harness(config, TEST_ENV)
    try:
        refused = await harness.slash("open", question="Latest Python?", models="claude", search=True)
        [text] = refused.ephemeral_texts
        assert "budget" in text.lower() and not harness.threads
        assert await Discussion.all().count() == 0
        await harness.slash("open", question="Latest Python?", models="claude", search=False)
        assert len(harness.threads) == 1 and not fake_llm.requests_for("claude-test")[0].body.get("tools")
    finally:
        await harness.close()


@pytest.mark.parametrize("failure", ["status", "delay", "html", "huge", "json_disabled"])
async def test_a_failing_backend_loses_no_answer_and_bills_no_search(harness: DiscordHarness, fake_llm: FakeLLM,
                                                                     fake_search: FakeSearch, failure: str,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    from bot import metrics

    setattr(fake_search, {"status": "status", "delay": "delay", "html": "html", "huge": "huge",
                          "json_disabled": "json_enabled"}[failure],
            {"status": 502, "delay": 3.0, "html": True, "huge": True, "json_disabled": False}[failure])
    before = metrics.SEARCHES.labels("searxng", "failed")._value.get()
    fake_llm.script("llama-test", Script(text="From memory: 3.13, I could not search."))
    with caplog.at_level(logging.WARNING):
        await harness.slash("open", question="Latest Python?", models="llama,gpt", search=True)
    [thread] = harness.threads
    row = await Message.get(model_alias="llama")
    assert row.status is MessageStatus.COMPLETE and row.content.startswith("From memory")
    assert row.search_note.startswith("answered without search: SearXNG: ")
    assert "unavailable for you in this round" in system_text(fake_llm.requests_for("llama-test")[0].body)
    assert await Spend.filter(model_alias="search:searxng").count() == 0
    assert await SourceRecord.filter(message_id=row.id).count() == 0
    assert metrics.SEARCHES.labels("searxng", "failed")._value.get() == before + 1
    assert len([r for r in caplog.records if r.getMessage().startswith("search_failed")]) == 1
    assert (await Message.get(model_alias="gpt")).status is MessageStatus.COMPLETE  # the others unaffected
    assert "Llama: answered without search: SearXNG:" in status_line(harness, thread).content  # type: ignore[attr-defined]


async def test_a_provider_that_refuses_search_answers_without_it(harness: DiscordHarness,
                                                                 fake_llm: FakeLLM) -> None:
    """An OpenAI-compatible server that is no OpenRouter (OpenAI refuses `plugins`), an Anthropic organisation
    without web search: asked again without it, answered, said, not billed for search."""
    fake_llm.openrouter = False
    fake_llm.anthropic_web_search = False
    await harness.slash("open", question="Latest Python?", models="gpt,claude", search=True)
    for alias, model in (("gpt", "gpt-test"), ("claude", "claude-test")):
        first, second = fake_llm.requests_for(model)
        assert ("plugins" in first.body or "tools" in first.body) and not {"plugins", "tools"} & set(second.body)
        row = await Message.get(model_alias=alias)
        assert row.status is MessageStatus.COMPLETE
        assert row.search_note == "answered without search: the provider refused the search request"
    assert await Spend.filter(kind=SpendKind.SEARCH).count() == 0


async def test_anthropic_search_errors_go_on_without_search(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("claude-test", Script(text="Without search: Python 3.13.", search_error="unavailable"))
    await harness.slash("open", question="Latest Python?", models="claude", search=True)
    row = await Message.get(model_alias="claude")
    assert row.status is MessageStatus.COMPLETE
    assert row.search_note == "a web search failed (unavailable); the model went on without it"
    assert await Spend.filter(kind=SpendKind.SEARCH).count() == 0  # a failed search is not billed


async def test_a_stream_broken_after_its_search_bills_the_search(database: str, fake_llm: FakeLLM,
                                                                 fake_search: FakeSearch) -> None:
    """Its usage never arrives; the search ran: billed from the stream, never retried (and searched again)."""
    harness = await make_harness(search_config(fake_llm, fake_search), TEST_ENV)
    try:
        fake_llm.script("claude-test", Script(text="word " * 40, citations=CITED, reset_after_chunks=3))
        await harness.slash("open", question="Latest Python?", models="claude", search=True)
        assert len(fake_llm.requests_for("claude-test")) == 1
        [row] = await Spend.filter(kind=SpendKind.SEARCH)
        assert (row.model_alias, row.searches) == ("claude:search", 1)
    finally:
        await harness.close()


async def test_search_asked_where_it_cannot_run_is_refused_with_nothing_made(
        database: str, fake_llm: FakeLLM, fake_search: FakeSearch) -> None:
    no_backend = search_config(fake_llm, fake_search, search__backend="", search__url="",
                               providers__fakeopenai__search="moai")
    harness = await make_harness(no_backend, TEST_ENV)
    try:
        call = await harness.slash("open", question="Latest?", models="gpt,llama", search=True)
        assert call.ephemeral_texts == ["None of these models can search the web: their providers have no search "
                                        "of their own and no [search] backend (SearXNG, Brave or Tavily) is "
                                        "configured."]
        assert not harness.threads and await Discussion.all().count() == 0
        await harness.slash("open", question="Latest?", models="gpt,claude", search=True)  # Claude can
        assert (await Message.get(model_alias="gpt")).search_note.startswith("answered without search: this "
                                                                             "model has no web search")
        assert "unavailable for you" in system_text(fake_llm.requests_for("gpt-test")[0].body)
    finally:
        await harness.close()
    fake_llm.script("claude-test", Script(text="It shipped.", citations=CITED))
    asked = await harness_ask(fake_llm, fake_search)
    assert "-# 🔎 Web search — Claude: searched the web 1×" in asked
    off = await make_harness(search_config(fake_llm, fake_search, search__enabled=False), TEST_ENV)
    try:
        call = await off.slash("ask", model="claude", question="Latest?", search=True)
        assert call.ephemeral_texts == ["Web search is turned off for this bot ([search] enabled = false in "
                                        "config.toml)."]
    finally:
        await off.close()


async def harness_ask(fake_llm: FakeLLM, fake_search: FakeSearch) -> str:
    """/ask with search: what its footer says."""
    harness = await make_harness(search_config(fake_llm, fake_search), TEST_ENV)
    try:
        call = await harness.slash("ask", model="claude", question="Latest Python?", search=True)
        return "\n".join(call.texts)
    finally:
        await harness.close()


async def test_a_mention_can_ask_for_search(harness: DiscordHarness, fake_llm: FakeLLM,
                                            fake_search: FakeSearch) -> None:
    await harness.slash("open", question="Tabs or spaces?", models="gpt,llama")
    [thread] = harness.threads
    assert not fake_search.requests and "plugins" not in fake_llm.requests_for("gpt-test")[0].body
    await harness.say("@llama search: what does PEP 8 say now?", channel=thread)
    assert fake_search.requests[0].query["q"] == "what does PEP 8 say now?"
    assert "Web search results for" in system_text(fake_llm.requests_for("llama-test")[-1].body)
    await harness.say("@llama and without it?", channel=thread)
    assert len(fake_search.requests) == 1  # the discussion itself does not search


async def test_a_project_searches_by_default(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("project create", permissions=admin(), name="news", models="claude", search=True)
    await harness.slash("open", question="Today's news?", project="news")
    assert fake_llm.requests_for("claude-test")[0].body["tools"][0]["name"] == "web_search"
    await harness.slash("open", question="Without?", project="news", search=False)
    assert "tools" not in fake_llm.requests_for("claude-test")[1].body
    info = await harness.slash("project info", name="news")
    assert "Web search: on by default" in info.texts[0]


async def test_blind_sources_never_name_the_model(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("claude-test", Script(text="It shipped.", citations=CITED))
    fake_llm.script("gpt-test", Script(text="It is out.", citations=CITED))
    await harness.slash("open", question="Latest Python?", models="gpt,claude", search=True, blind=True)
    [thread] = harness.threads
    summary = status_line(harness, thread)
    assert "Claude" not in summary.content and "GPT" not in summary.content  # type: ignore[attr-defined]
    [sources] = [b.custom_id for b in summary.components[-1].children if b.label == "Sources"]  # type: ignore[attr-defined]
    shown = (await harness.click(summary, sources, wait=False)).ephemeral_texts[0]  # type: ignore[arg-type]
    assert "Model A" in shown and "Model B" in shown
    for leak in ("Claude", "GPT", "anthropic", "openai", "×"):  # "searched 2×" is Anthropic's alone
        assert leak not in shown
    export = await harness.slash("export", channel=thread, format="json")
    data = json.loads(next(iter(export.followups[0].files.values())))
    sources_out = [s for sec in data["sections"] for m in sec["messages"] for s in m.get("sources", [])]
    assert sources_out and all(s["provider"] is None for s in sources_out)


async def test_consensus_tags_each_claim_with_its_sources(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("claude-test", Script(text="3.14 shipped in October.", citations=CITED))
    fake_llm.script("llama-test", Script(text="3.14.0 is newest [1], on schedule [3]."))
    await harness.slash("open", question="Latest Python?", models="claude,llama", search=True)
    [thread] = harness.threads
    moderator = ("**Agreement**\nBoth say 3.14.\n**Disagreements**\nNone.\n**Unique insights**\n-\n"
                 "**Blind spots**\n-\n**Minority report**\nNone.\n**Final answer**\nPython 3.14 is the newest.\n"
                 "**Claims**\n- Python 3.14.0 is the newest release [1][3]\n- It was released in October [2]\n"
                 "- It is twice as fast ⚠️ unsupported\n- It has a JIT [42]\n")
    fake_llm.script("gpt-test", Script(text=moderator))
    await harness.slash("consensus", channel=thread)
    prompt = system_text(fake_llm.requests_for("gpt-test")[-1].body)
    assert "**Claims**" in prompt and f"[1] Python 3.14.0 — {CITED[0][0]}" in prompt
    assert f"[3] PEP 745 – Python 3.14 Release Schedule — {RESULTS[3][0]}" in prompt and "[4]" not in prompt
    report = await ConsensusReport.get()
    assert report.claims == [{"text": "Python 3.14.0 is the newest release", "sources": [1, 3]},
                             {"text": "It was released in October", "sources": [2]},
                             {"text": "It is twice as fast", "sources": []},
                             {"text": "It has a JIT", "sources": []}]
    assert [s["url"] for s in report.claim_sources] == [CITED[0][0], CITED[1][0], RESULTS[3][0]]  # each URL once
    assert report.final_answer == "Python 3.14 is the newest."
    shown = "\n".join(m.content or "" for m in harness.bot_messages(thread))
    assert "🔎 **Claims: 2 of 4 backed by a source · ⚠️ unsupported: It is twice as fast; It has a JIT**" in shown
    assert f"-# [3] PEP 745 – Python 3.14 Release Schedule — <{RESULTS[3][0]}>" in shown
    markdown = next(iter((await harness.slash("export", channel=thread, format="md")).followups[0].files.values()))
    assert "- It is twice as fast — ⚠️ unsupported" in markdown.decode()
    assert f"- Python 3.14.0 is the newest release — [1] <{CITED[0][0]}>, [3] <{RESULTS[3][0]}>" in markdown.decode()


async def test_sources_go_with_a_forgotten_discussion(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("claude-test", Script(text="It shipped.", citations=CITED))
    await harness.slash("open", question="Latest Python?", models="claude,llama", search=True)
    [thread] = harness.threads
    assert await SourceRecord.all().count() == 5
    await harness.slash("forget discussion", channel=thread, permissions=admin(), confirm=True)
    assert await SourceRecord.all().count() == 0
    assert await Spend.filter(kind=SpendKind.SEARCH, discussion_id__not_isnull=True).count() == 0  # anonymised
    assert await Spend.filter(kind=SpendKind.SEARCH).count() == 2  # never given back


@pytest.mark.parametrize("backend", ["brave", "tavily"])
async def test_hosted_backends_with_and_without_their_key(database: str, fake_llm: FakeLLM, fake_search: FakeSearch,
                                                          backend: str, caplog: pytest.LogCaptureFixture) -> None:
    key_env = {"brave": "BRAVE_API_KEY", "tavily": "TAVILY_API_KEY"}[backend]
    key = {"brave": BRAVE_KEY, "tavily": TAVILY_KEY}[backend]
    url = {"brave": fake_search.brave_url, "tavily": fake_search.tavily_url}[backend]
    config = search_config(fake_llm, fake_search, search__backend=backend, search__url=url,
                           search__api_key_env=key_env)
    for environ, works in (({**TEST_ENV, key_env: key}, True), ({**TEST_ENV, key_env: key + "x"}, False)):
        harness = await make_harness(config, environ)
        try:
            with caplog.at_level(logging.DEBUG):
                await harness.slash("open", question="Latest Python?", models="llama", search=True)
            row = await Message.filter(model_alias="llama").order_by("-id").first()
            assert row is not None
            label = {"brave": "Brave Search", "tavily": "Tavily"}[backend]
            assert row.search_note == (f"read 3 web result(s) from {label}" if works
                                       else f"answered without search: {label}: HTTP 401")
        finally:
            await harness.close()
    assert all(key not in r.getMessage() for r in caplog.records)
    from bot.secrets import Redactor

    assert key not in Redactor.from_config(config, {key_env: key})(f"GET ?token={key}")


async def test_backend_answers_are_read_as_bounded_results(fake_search: FakeSearch) -> None:
    import aiohttp

    from bot.config import SearchConfig
    from bot.search.backends import SearchFailed, SearxngBackend

    async with aiohttp.ClientSession() as session:
        engine = SearxngBackend(session, SearchConfig(backend="searxng", url=fake_search.base, timeout_seconds=0.5),
                                None)
        found = await engine.search("python", 2)
        assert [r.url for r in found] == [RESULTS[0][0], RESULTS[1][0]]
        assert found[1].title == "What's new in Python 3.14" and "&amp;" not in found[1].snippet
        fake_search.delay = 2.0
        with pytest.raises(SearchFailed, match=r"no answer within 0\.5s"):
            await engine.search("python", 2)


def test_citation_markers_and_claims_are_read_as_written() -> None:
    from bot.claims import parse_claims
    from bot.search.sources_prompt import cited_numbers

    assert cited_numbers("a [2] b [1][3] c [2, 4] d [5-7] e [0] f [99] g [4]", 6) == [2, 1, 3, 4, 5, 6]
    assert cited_numbers("see [link](https://x) and [a]", 3) == []
    claims = parse_claims("1. First [1]\n* Second (unsupported)\nThird claim [2–3]\n\n- **Fourth** ⚠️", 3)
    assert [(c.text, c.sources) for c in claims] == [("First", (1,)), ("Second", ()), ("Third claim", (2, 3)),
                                                    ("**Fourth**", ())]


@pytest.mark.slow  # the real CLI in a subprocess
async def test_console_search(tmp_path: Path, fake_llm: FakeLLM, fake_search: FakeSearch) -> None:
    from tests.helpers import moai, write_config

    config = write_config(tmp_path / "c.toml", fake_llm)
    config.write_text(config.read_text() + f'[search]\nbackend = "searxng"\nurl = "{fake_search.base}"\n')
    fake_llm.script("gpt-test", Script(text="3.14 [1]."))
    fake_llm.script("claude-test", Script(text="Shipped.", citations=CITED))
    code, out, err = await moai("--config", str(config), "console", "Latest Python?", "--models", "gpt,claude",
                                "--search", env=TEST_ENV)
    assert code == 0, err
    assert out.startswith("moai · open, searching the web · asking gpt, claude: Latest Python?")
    flat = " ".join(out.split())
    assert "🔎 Web search — gpt: read 3 web result(s) from SearXNG; claude: searched the web 1×" in flat
    assert RESULTS[0][0] in flat and CITED[1][0] in flat and "(given, not cited)" in flat


@pytest.mark.slow  # the real CLI in a subprocess
async def test_check_asks_searxng_and_never_queries_a_paid_api(tmp_path: Path, fake_llm: FakeLLM,
                                                              fake_search: FakeSearch) -> None:
    from tests.helpers import moai, write_config

    config = write_config(tmp_path / "c.toml", fake_llm)
    base = config.read_text()
    config.write_text(base + f'[search]\nbackend = "searxng"\nurl = "{fake_search.base}"\n')
    code, out, _ = await moai("--config", str(config), "check", env=TEST_ENV)
    assert code == 0 and f"ok    search: SearXNG at {fake_search.base} (3 results for a test query)" in out, out
    fake_search.json_enabled = False
    code, out, _ = await moai("--config", str(config), "check", env=TEST_ENV)
    assert code == 1 and "FAIL  search: SearXNG: HTTP 403 (models it serves answer without search)" in out
    config.write_text(base + '[search]\nbackend = "brave"\napi_key_env = "BRAVE_API_KEY"\n'
                      f'url = "{fake_search.brave_url}"\n')
    asked = len(fake_search.requests)
    code, out, _ = await moai("--config", str(config), "check", env=TEST_ENV)
    assert code == 1 and "FAIL  search: Brave Search needs its key in BRAVE_API_KEY" in out
    code, out, _ = await moai("--config", str(config), "check", env={**TEST_ENV, "BRAVE_API_KEY": BRAVE_KEY})
    assert code == 0 and len(fake_search.requests) == asked and BRAVE_KEY not in out


async def test_a_searching_discussion_searches_again_when_continued(harness: DiscordHarness, fake_llm: FakeLLM,
                                                                   fake_search: FakeSearch) -> None:
    await harness.slash("discuss", topic="Is Python 3.14 ready?", rounds=1, models="claude,llama", search=True)
    [thread] = harness.threads
    assert (await Discussion.get()).search and len(fake_search.requests) == 1
    await harness.slash("continue", channel=thread)
    assert len(fake_search.requests) == 2
    assert all(r.body.get("tools") for r in fake_llm.requests_for("claude-test"))
    await harness.slash("consensus", channel=thread)  # the moderator reads sources; it does not search
    assert len(fake_search.requests) == 2 and "tools" not in fake_llm.requests_for("gpt-test")[-1].body


def test_a_broken_search_config_names_its_key(fake_llm: FakeLLM, fake_search: FakeSearch) -> None:
    from bot.config import ConfigError

    for overrides, message in (
            ({"search__url": "ftp://search"}, "search.url: must start with http:// or https://"),
            ({"search__url": ""}, "search: backend 'searxng' needs url"),
            ({"search__backend": "brave", "search__api_key_env": ""}, "search: backend 'brave' needs api_key_env"),
            ({"search__api_key_env": "BSA-secret-key"}, "search.api_key_env: must be the NAME of an environment"),
            ({"search__backend": "bing"}, "search.backend: Input should be"),
            ({"providers__fakeopenai__search": "always"}, "providers.fakeopenai.search: Input should be")):
        with pytest.raises(ConfigError, match=message):
            search_config(fake_llm, fake_search, **overrides)
    config = search_config(fake_llm, fake_search, models__gpt__search="moai")
    assert [config.search_route(m) for m in config.models.values()] == ["moai", "provider", "moai"]
    assert search_config(fake_llm, fake_search, search__backend="", search__url="").search_route(
        config.models["llama"]) == "off"
