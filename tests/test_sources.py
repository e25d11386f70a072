"""Web sources the providers cite, in their recorded wire shapes: read from the stream, stored with the answer,
exported (issue 27's first part: no search is asked for yet; an `:online` model or a server that cites
already sends them)."""

from __future__ import annotations

import json

from bot.config import AppConfig
from bot.db.models import Discussion, DiscussionMode, Message, RoundKind, SourceRecord
from bot.engine.rounds import RoundRunner
from bot.llm.registry import ModelClients
from bot.llm.types import ChatMessage
from bot.seats import seats
from tests.discord_harness import DiscordHarness
from tests.fake_llm import FakeLLM, Script

CITED = (("https://www.python.org/downloads/release/python-3140/", "Python 3.14.0", "Python 3.14.0 is the newest"),
         ("https://docs.python.org/3.14/whatsnew/3.14.html", "What's new in Python 3.14", "free-threaded build"))
HOSTILE = (("javascript:alert(1)", "click", ""), ("data:text/html,<script>x</script>", "x", ""),
           ("https://www.python.org/downloads/release/python-3140/", "the same page again", ""))


async def test_both_wire_shapes_are_read_and_stored(database: str, config: AppConfig, clients: ModelClients,
                                                    fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="Python 3.14 is out [1][2].", citations=CITED + HOSTILE))
    fake_llm.script("claude-test", Script(text="It was released in October.", citations=CITED))
    discussion = await Discussion.create(mode=DiscussionMode.OPEN, question="Latest Python?")
    result = await RoundRunner(clients).run(discussion, RoundKind.OPEN, seats(config.default_models()[:2]),
                                            lambda seat: [ChatMessage("user", "Latest Python?")])
    for answer in result.answers:  # one per URL, only http(s), in the order they came
        assert [(s.url, s.title, s.quote) for s in answer.sources] == list(CITED), answer.model.alias
    rows = await SourceRecord.all().order_by("message_id", "number").values_list("number", "url", "provider")
    assert rows == [(1, CITED[0][0], "fakeopenai"), (2, CITED[1][0], "fakeopenai"),
                    (1, CITED[0][0], "fakeanthropic"), (2, CITED[1][0], "fakeanthropic")]
    assert (await Message.get(model_alias="gpt")).content == "Python 3.14 is out [1][2]."  # markers kept


async def test_an_answer_without_sources_costs_no_statement_for_them(database: str, config: AppConfig,
                                                                    clients: ModelClients) -> None:
    from tests.statements import counting_statements

    discussion = await Discussion.create(mode=DiscussionMode.OPEN, question="q")
    with counting_statements() as statements:
        await RoundRunner(clients).run(discussion, RoundKind.OPEN, seats(config.default_models()[:1]),
                                       lambda seat: [ChatMessage("user", "q")])
    assert not statements.matching('"source"')


async def test_sources_are_in_every_export(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="Python 3.14 is out [1].", citations=CITED + HOSTILE))
    await harness.slash("open", question="Latest Python?", models="gpt")
    [thread] = harness.threads

    async def exported(fmt: str) -> str:
        call = await harness.slash("export", channel=thread, format=fmt)
        return next(iter(call.followups[0].files.values())).decode()

    markdown = await exported("md")
    assert f"Sources:\n\n1. Python 3.14.0 — <{CITED[0][0]}>\n2. What's new in Python 3.14 — <{CITED[1][0]}>" \
        in markdown
    data = json.loads(await exported("json"))
    [answer] = [m for s in data["sections"] for m in s["messages"] if m["model"] == "gpt"]
    assert [(s["number"], s["url"], s["provider"]) for s in answer["sources"]] == [
        (1, CITED[0][0], "fakeopenai"), (2, CITED[1][0], "fakeopenai")]
    page = await exported("html")
    assert (f'<li value="1"><a href="{CITED[0][0]}" rel="noopener noreferrer nofollow ugc">Python 3.14.0</a> '
            "<q>Python 3.14.0 is the newest</q></li>") in page
    assert "javascript:" not in page and "data:text/html" not in page
