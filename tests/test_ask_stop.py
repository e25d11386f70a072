"""/ask answers in place; /stop cancels a running round and keeps the partial answers."""

from __future__ import annotations

from bot.db.models import Discussion, DiscussionMode, DiscussionStatus, Message, MessageStatus, Round, RoundStatus
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM, Script
from tests.helpers import eventually


async def test_ask_streams_into_the_reply(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("claude-test", Script(text="Forty-two, of course.", chunk_chars=5, token_interval=0.02))
    call = await harness.slash("ask", model="claude", question="Meaning of life?")
    assert harness.errors == []
    assert call.response_type == 5 and call.response is not None and not call.response.ephemeral
    assert call.response.content == "**Claude**\nForty-two, of course."
    assert call.response.edits >= 2
    [footer] = call.followups
    assert footer.content.startswith("-# ✅ **Claude** ·") and "tokens" in footer.content
    discussion = await Discussion.get(mode=DiscussionMode.ASK)
    assert discussion.status == DiscussionStatus.COMPLETED and discussion.thread_id is None
    assert discussion.channel_id == harness.channel.id
    row = await Message.get(discussion=discussion, author_kind="model")
    assert row.content == "Forty-two, of course." and row.discord_message_ids == [call.response.id]


async def test_ask_failure_shows_the_reason(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(status=429, retry_after="300", error_message="quota"))
    call = await harness.slash("ask", model="gpt", question="Hello?")
    assert call.response is not None
    assert "❌ **GPT** · rate limited (HTTP 429) from fakeopenai: quota (retry after 300s)" in call.response.content


async def test_ask_unknown_model_is_ephemeral(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    call = await harness.slash("ask", model="gpt-9", question="Hello?")
    assert call.ephemeral_texts == ["Unknown model `gpt-9`. Available: `gpt`, `claude`, `llama`."]
    assert fake_llm.requests == []


async def test_ask_with_no_models_configured(database: str, fake_llm: FakeLLM) -> None:
    config = make_config(fake_llm, models={}, defaults__models=[])
    harness = await make_harness(config, TEST_ENV)
    try:
        call = await harness.slash("ask", model="gpt", question="Anyone?")
        [text] = call.ephemeral_texts
        assert text.startswith("No models are configured.")
        call = await harness.slash("open", question="Anyone?")
        assert call.ephemeral_texts[0].startswith("No models are configured.")
    finally:
        await harness.close()


async def test_model_autocomplete(harness: DiscordHarness) -> None:
    choices = await harness.autocomplete("ask", "model", model="cla", question="q")
    assert choices == [{"name": "Claude (claude) · claude-test", "value": "claude"}]


async def test_stop_keeps_partial_answers(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="word " * 200, chunk_chars=5, token_interval=0.02))
    fake_llm.script("claude-test", Script(text="fast answer"))
    await harness.slash("open", question="Long?", models="gpt,claude", wait=False)
    [thread] = harness.threads
    await eventually(lambda: len(harness.answers_by_model(thread.id).get("GPT", "")) > 20)

    call = await harness.slash("stop", channel=thread)
    assert harness.errors == []
    assert any("Stopped by Alice" in text for text in call.texts)
    answers = harness.answers_by_model(thread.id)
    assert answers["GPT"].startswith("word word") and answers["GPT"].endswith("-# ⏹️ stopped")
    assert answers["Claude"] == "fast answer"

    discussion = await Discussion.get(thread_id=thread.id)
    assert discussion.status == DiscussionStatus.CANCELLED
    assert (await Round.get(discussion=discussion)).status == RoundStatus.CANCELLED
    rows = {r.model_alias: r for r in await Message.filter(discussion=discussion, author_kind="model")}
    assert rows["gpt"].status == MessageStatus.CANCELLED and rows["gpt"].content.startswith("word word")
    assert len(rows["gpt"].content) < len("word " * 200)
    assert rows["gpt"].discord_message_ids
    assert rows["claude"].status == MessageStatus.COMPLETE
    assert not harness.bot.services.runs.is_running(thread.id)


async def test_stop_with_nothing_running(harness: DiscordHarness) -> None:
    call = await harness.slash("stop")
    [text] = call.ephemeral_texts
    assert text.startswith("Nothing is running in this channel.")
