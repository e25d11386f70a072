"""/open through the real command tree: thread, concurrent streaming answers, status line, DB rows."""

from __future__ import annotations

from bot.db.models import Discussion, DiscussionStatus, Message, MessageStatus, Round, RoundStatus
from tests.discord_harness import DiscordHarness
from tests.fake_llm import FakeLLM


async def test_open_answers_in_a_thread(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    call = await harness.slash("open", question="What is the best sorting algorithm?")
    assert harness.errors == []
    [thread] = harness.threads
    assert thread.name == "What is the best sorting algorithm?"
    assert call.response_type == 5  # deferred with "thinking"
    assert any(thread.mention in text for text in call.texts)

    answers = harness.answers_by_model(thread.id)
    assert answers == {
        "GPT": "gpt-test answers: [Alice]: What is the best sorting algorithm?",
        "Claude": "claude-test answers: [Alice]: What is the best sorting algorithm?",
        "Llama": "llama-test answers: [Alice]: What is the best sorting algorithm?",
    }
    by_name = {m.username: m for m in harness.webhook_messages(thread.id)}
    assert by_name["GPT"].avatar_url == "https://example.invalid/gpt.png"

    contents = [m.content for m in harness.bot_messages(thread)]
    assert contents[0].startswith("**Alice** asked GPT, Claude, Llama:")
    assert "Round 1: 3/3 answered" in contents[-1]
    assert "✅ **GPT**" in contents[-1] and "tokens" in contents[-1]

    discussion = await Discussion.get(thread_id=thread.id)
    assert discussion.status == DiscussionStatus.COMPLETED
    assert discussion.models == ["gpt", "claude", "llama"]
    round_ = await Round.get(discussion=discussion)
    assert round_.status == RoundStatus.COMPLETED and round_.finished_at is not None
    rows = await Message.filter(discussion=discussion, author_kind="model").order_by("id")
    assert [r.model_alias for r in rows] == ["gpt", "claude", "llama"]
    assert all(r.status == MessageStatus.COMPLETE and r.output_tokens and r.latency_ms is not None for r in rows)
    assert all(r.discord_message_ids for r in rows)
    user_row = await Message.get(discussion=discussion, author_kind="user")
    assert user_row.content == "What is the best sorting algorithm?" and user_row.author_id == harness.member.id
