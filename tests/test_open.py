"""/open through the real command tree: thread, concurrent streaming answers, status line, DB rows."""

from __future__ import annotations

import time

import pytest

from bot.db.models import (
    Discussion,
    DiscussionStatus,
    Guild,
    Message,
    MessageStatus,
    Project,
    Round,
    RoundStatus,
)
from tests.discord_harness import DiscordHarness
from tests.fake_llm import FakeLLM, Script


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


async def test_models_answer_concurrently(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    """Three models that each take 0.6 s finish together in about 0.6 s, not 1.8 s."""
    for model in ("gpt-test", "claude-test", "llama-test"):
        fake_llm.script(model, Script(latency=0.6))
    started = time.monotonic()
    await harness.slash("open", question="Concurrent?")
    elapsed = time.monotonic() - started
    assert elapsed < 1.2, elapsed  # sequential would be >= 1.8
    first_requests = [r.at for r in fake_llm.requests]
    assert max(first_requests) - min(first_requests) < 0.3  # all three were asked at once


async def test_failing_model_does_not_hide_the_others(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("llama-test", Script(status=401, error_message="bad key"))
    fake_llm.script("claude-test", Script(text="Claude starts but", chunk_chars=6, error_after_chunks=2,
                                          error_message="Overloaded"))
    await harness.slash("open", question="Who survives?")
    [thread] = harness.threads
    answers = harness.answers_by_model(thread.id)
    assert answers["GPT"] == "gpt-test answers: [Alice]: Who survives?"
    assert answers["Claude"].startswith("Claude start")
    assert "cut off: stream failed from fakeanthropic: Overloaded" in answers["Claude"]
    assert "Llama" not in answers  # nothing streamed, so no message of its own
    status = harness.bot_messages(thread)[-1].content
    assert "Round 1: 1/3 answered" in status
    assert "❌ **Llama** · authentication failed (HTTP 401) from fakeopenai: bad key" in status
    assert "❌ **Claude** · stream failed from fakeanthropic: Overloaded (partial answer kept)" in status

    discussion = await Discussion.get(thread_id=thread.id)
    rows = {r.model_alias: r for r in await Message.filter(discussion=discussion, author_kind="model")}
    assert rows["gpt"].status == MessageStatus.COMPLETE
    assert rows["claude"].status == MessageStatus.FAILED and rows["claude"].content == "Claude start"
    assert rows["llama"].status == MessageStatus.FAILED and "HTTP 401" in (rows["llama"].error or "")
    assert discussion.status == DiscussionStatus.COMPLETED


async def test_embed_fallback_without_manage_webhooks(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    harness.revoke_bot_permissions("manage_webhooks")
    await harness.slash("open", question="No webhooks here", models="gpt, claude")
    [thread] = harness.threads
    assert harness.webhook_messages(thread.id) == []
    embeds = [m.embeds[0] for m in harness.bot_messages(thread) if m.embeds]
    assert {e.author.name for e in embeds} == {"GPT", "Claude"}
    assert any(e.description == "gpt-test answers: [Alice]: No webhooks here" for e in embeds)


async def test_webhook_pool_per_channel_reused(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    """Changed on purpose (issue 15): a channel has a small pool of webhooks (two streams each), made once."""
    await harness.slash("open", question="First")  # three models: two webhooks
    made = [h["id"] for h in harness.webhooks[harness.channel.id]]
    await harness.slash("open", question="Second")
    assert [h["id"] for h in harness.webhooks[harness.channel.id]] == made and len(made) == 2
    assert len(harness.threads) == 2
    users = {m.username for thread in harness.threads for m in harness.webhook_messages(thread.id)}
    assert users == {"GPT", "Claude", "Llama"}


async def test_explicit_models_and_aliases(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("open", question="Only two", models="ChatGPT claude")
    [thread] = harness.threads
    assert set(harness.answers_by_model(thread.id)) == {"GPT", "Claude"}
    assert {r.body["model"] for r in fake_llm.requests} == {"gpt-test", "claude-test"}


async def test_system_prompt_names_the_table(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("open", question="Hi all", models="gpt,llama")
    [request] = fake_llm.requests_for("gpt-test")
    system = request.body["messages"][0]["content"]
    assert "You are GPT" in system and "Participants: GPT, Llama." in system


async def test_project_panel_topic_and_prompt(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    guild = await Guild.create(discord_id=harness.guild.id, name="g")
    await Project.create(guild=guild, name="physics", models=["claude"], topic="Quantum gravity",
                         system_prompt="Cite papers.")
    await harness.slash("open", question="Strings?", project="physics")
    [request] = fake_llm.requests
    assert request.body["model"] == "claude-test"
    assert "Project topic: Quantum gravity" in request.body["system"] and "Cite papers." in request.body["system"]
    discussion = await Discussion.get(thread_id=harness.threads[0].id).prefetch_related("project")
    assert discussion.project is not None and discussion.project.name == "physics"


@pytest.mark.parametrize(("options", "expected"), [
    ({"question": "   "}, "The question is empty."),
    ({"question": "x" * 501}, "The question is 501 characters long; the limit is 500."),
    ({"question": "hi", "models": "gpt, gpt5"}, "Unknown model: `gpt5`. Available: `gpt`, `claude`, `llama`."),
    ({"question": "hi", "project": "nope"}, "No project named `nope` in this server."),
])
async def test_bad_input_is_ephemeral_and_starts_nothing(harness: DiscordHarness, fake_llm: FakeLLM,
                                                         options: dict[str, str], expected: str) -> None:
    call = await harness.slash("open", **options)
    [text] = call.ephemeral_texts
    assert text.startswith(expected)
    assert harness.threads == [] and fake_llm.requests == []
    assert await Discussion.all().count() == 0


async def test_open_inside_a_thread_is_refused(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("open", question="Start here")
    call = await harness.slash("open", question="And again", channel=harness.threads[0])
    [text] = call.ephemeral_texts
    assert "Use /open in a text channel" in text


async def test_missing_thread_permission_is_explained(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    harness.revoke_bot_permissions("create_public_threads")
    call = await harness.slash("open", question="Can you?")
    [text] = call.ephemeral_texts
    assert "missing Create Public Threads" in text
    assert fake_llm.requests == []


async def test_models_autocomplete(harness: DiscordHarness) -> None:
    choices = await harness.autocomplete("open", "models", question="q", models="gpt, cl")
    assert [c["value"] for c in choices] == ["gpt, claude"]
    choices = await harness.autocomplete("open", "models", question="q", models="")
    assert [c["value"] for c in choices] == ["gpt", "claude", "llama"]


async def test_a_long_answer_stores_its_messages_without_a_statement_each(harness: DiscordHarness,
                                                                          fake_llm: FakeLLM) -> None:
    """An answer streamed into four Discord messages: their ids reach the database with the checkpoints and
    the final save (a restart and a reply find them), not in a statement per message as it used to."""
    from tests.statements import counting_statements

    harness.bot.services.orchestrator.runner.checkpoint_interval = 0.05
    fake_llm.script("gpt-test", Script(text="word " * 1400, chunk_chars=70, token_interval=0.01))
    with counting_statements() as statements:
        await harness.slash("open", question="Long?", models="gpt")
    [thread] = harness.threads
    shown = [m.id for m in harness.webhook_messages(thread.id)]
    assert len(shown) >= 4
    [row] = await Message.filter(author_kind="model")
    assert row.discord_message_ids == shown and row.status == MessageStatus.COMPLETE
    alone = [sql for sql in statements.sql if 'SET "discord_message_ids"' in sql]
    assert len(alone) <= 1, alone  # at most the parts posted after the final save
