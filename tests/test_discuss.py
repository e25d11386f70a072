"""/discuss rounds, /continue, mentions in threads, context budgets and restart recovery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.config import AppConfig
from bot.db.models import (
    Discussion,
    DiscussionMode,
    DiscussionStatus,
    Message,
    MessageStatus,
    Round,
    RoundKind,
    RoundStatus,
)
from cogs.discuss import Discuss
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM, Script
from tests.helpers import crash_mid_round, eventually, said_round, system_of


@pytest.fixture
async def chatty(database: str, fake_llm: FakeLLM) -> AsyncIterator[DiscordHarness]:
    """A harness whose bot has the message content intent, as mentions need."""
    config = make_config(fake_llm, discord__message_content_intent=True)
    harness = await make_harness(config, TEST_ENV)
    yield harness
    await harness.close()


async def test_rounds_run_in_order_and_see_earlier_rounds(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    for model in ("gpt-test", "claude-test"):
        fake_llm.script(model, Script(reply=said_round))
    call = await harness.slash("discuss", topic="Is P equal to NP?", rounds=2, models="gpt, claude")
    assert harness.errors == [] and "(2 rounds)" in call.texts[-1]
    [thread] = harness.threads
    discussion = await Discussion.get(thread_id=thread.id)
    assert discussion.mode == DiscussionMode.DISCUSS and discussion.status == DiscussionStatus.COMPLETED
    rounds = await Round.filter(discussion=discussion).order_by("number")
    assert [(r.number, r.kind, r.status) for r in rounds] == [(1, RoundKind.DISCUSS, RoundStatus.COMPLETED),
                                                              (2, RoundKind.DISCUSS, RoundStatus.COMPLETED)]
    # Round 2 was asked only after every round-1 answer was in, and it saw all of them.
    first, second = fake_llm.requests[:2], fake_llm.requests[2:]
    assert len(second) == 2 and all(s.at >= f.at for s in second for f in first)
    [gpt_round_2] = [r for r in second if r.body["model"] == "gpt-test"]
    messages = gpt_round_2.body["messages"]
    assert "This is round 2 of 2" in messages[0]["content"]
    # Debates are anonymous for the models by default (identity labels feed sycophancy): the others are
    # "Panelist A"… in the panel's order; people keep their names.
    assert messages[1:] == [
        {"role": "user", "content": "[Alice]: Is P equal to NP?"},
        {"role": "assistant", "content": "gpt-test speaking in round 1"},
        {"role": "user", "content": "[Panelist B]: claude-test speaking in round 1"},
    ]
    assert "Participants: Panelist A, Panelist B. You are Panelist A." in messages[0]["content"]
    claude_round_2 = next(r for r in second if r.body["model"] == "claude-test").body
    assert "[Panelist A]: gpt-test speaking in round 1" in claude_round_2["messages"][0]["content"]
    status_lines = [m.content for m in harness.bot_messages(thread) if "answered" in (m.content or "")]
    assert len(status_lines) == 2


async def test_early_stop_when_all_agree(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    def agree_from_round_2(body: dict[str, Any]) -> str:
        return "I agree with the others.\n[AGREE]" if "round 2 of" in system_of(body) else "My view."

    for model in ("gpt-test", "claude-test", "llama-test"):
        fake_llm.script(model, Script(reply=agree_from_round_2))
    await harness.slash("discuss", topic="Tabs or spaces?", rounds=5)
    [thread] = harness.threads
    discussion = await Discussion.get(thread_id=thread.id)
    assert await Round.filter(discussion=discussion).count() == 2
    assert discussion.status == DiscussionStatus.COMPLETED
    assert any("Every model agreed in round 2: stopping early (3 round(s) left unused)" in (m.content or "")
               for m in harness.bot_messages(thread))


async def test_no_early_stop_if_one_model_disagrees(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="Agreed.\n[AGREE]"))
    fake_llm.script("claude-test", Script(text="Not quite."))
    await harness.slash("discuss", topic="Vim or Emacs?", rounds=3, models="gpt,claude")
    assert await Round.all().count() == 3


@pytest.mark.parametrize("rounds", [0, 11, -3])
async def test_rounds_out_of_range(harness: DiscordHarness, fake_llm: FakeLLM, rounds: int) -> None:
    call = await harness.slash("discuss", topic="Anything", rounds=rounds)
    assert call.ephemeral_texts == [f"Rounds must be between 1 and 10 (got {rounds})."]
    assert harness.threads == [] and fake_llm.requests == []


async def test_continue_adds_rounds(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(reply=said_round))
    await harness.slash("discuss", topic="Continue me", rounds=1, models="gpt")
    [thread] = harness.threads
    call = await harness.slash("continue", channel=thread, rounds=2)
    assert "2 more round(s)" in call.texts[0]
    discussion = await Discussion.get(thread_id=thread.id)
    assert discussion.rounds_planned == 3 and discussion.status == DiscussionStatus.COMPLETED
    answers = await Message.filter(discussion=discussion, author_kind="model").order_by("id").values_list(
        "content", flat=True)
    assert answers == ["gpt-test speaking in round 1", "gpt-test speaking in round 2", "gpt-test speaking in round 3"]
    assert "This is round 3 of 3" in system_of(fake_llm.requests[-1].body)


async def test_continue_after_open_turns_it_into_a_debate(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("open", question="Open first", models="gpt,llama")
    [thread] = harness.threads
    await harness.slash("continue", channel=thread)
    last = fake_llm.requests_for("gpt-test")[-1].body
    assert "This is round 2 of 2" in system_of(last)
    assert any("[Panelist B]: llama-test answers" in m["content"] for m in last["messages"])  # anonymous debate


async def test_continue_outside_a_discussion(harness: DiscordHarness) -> None:
    call = await harness.slash("continue")
    assert call.ephemeral_texts == ["Use /continue inside a discussion thread started with /open or /discuss."]


async def test_stop_ends_the_remaining_rounds(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="slow " * 100, chunk_chars=5, token_interval=0.02))
    await harness.slash("discuss", topic="Stop me", rounds=3, models="gpt", wait=False)
    [thread] = harness.threads
    await eventually(lambda: harness.webhook_messages(thread.id))
    await harness.slash("stop", channel=thread)
    discussion = await Discussion.get(thread_id=thread.id)
    assert discussion.status == DiscussionStatus.CANCELLED
    assert [r.status for r in await Round.filter(discussion=discussion)] == [RoundStatus.CANCELLED]


# --- mentions ------------------------------------------------------------------------------


async def test_mention_asks_that_model_with_the_thread_as_context(chatty: DiscordHarness, fake_llm: FakeLLM) -> None:
    await chatty.slash("open", question="Best database?", models="gpt,llama")
    [thread] = chatty.threads
    await chatty.say("@Claude what do you make of their answers?", channel=thread)
    [request] = fake_llm.requests_for("claude-test")
    turns = request.body["messages"]
    assert "addressed you directly" in request.body["system"]
    assert turns == [{"role": "user", "content": "\n\n".join([
        "[Alice]: Best database?",
        "[GPT]: gpt-test answers: [Alice]: Best database?",
        "[Llama]: llama-test answers: [Alice]: Best database?",
        "[Alice]: @Claude what do you make of their answers?",
    ])}]
    discussion = await Discussion.get(thread_id=thread.id)
    kinds = await Round.filter(discussion=discussion).order_by("number").values_list("kind", flat=True)
    assert kinds == [RoundKind.OPEN, RoundKind.MENTION]
    assert "Claude" in chatty.answers_by_model(thread.id)


async def test_several_mentions_and_aliases(chatty: DiscordHarness, fake_llm: FakeLLM) -> None:
    await chatty.slash("open", question="Q", models="claude")
    [thread] = chatty.threads
    await chatty.say("@chatgpt and @llama, your turn. (cc @nobody)", channel=thread)
    assert {r.body["model"] for r in fake_llm.requests[1:]} == {"gpt-test", "llama-test"}


async def test_reply_to_a_model_message_asks_that_model(chatty: DiscordHarness, fake_llm: FakeLLM) -> None:
    await chatty.slash("open", question="Q", models="gpt,claude")
    [thread] = chatty.threads
    claude_message = next(m for m in chatty.webhook_messages(thread.id) if m.username == "Claude")
    await chatty.say("Why do you say that?", channel=thread, reply_to=claude_message.id)
    assert [r.body["model"] for r in fake_llm.requests[2:]] == ["claude-test"]


async def test_plain_messages_are_stored_and_seen_later(chatty: DiscordHarness, fake_llm: FakeLLM) -> None:
    await chatty.slash("open", question="Q", models="gpt")
    [thread] = chatty.threads
    await chatty.say("Keep in mind the budget is tiny.", channel=thread)
    assert len(fake_llm.requests) == 1  # nobody was addressed
    row = await Message.get(content="Keep in mind the budget is tiny.")
    assert row.author_kind == "user" and row.author_name == "Alice" and row.round_id is None
    await chatty.slash("continue", channel=thread)
    assert {"role": "user", "content": "[Alice]: Keep in mind the budget is tiny."} in \
        fake_llm.requests[-1].body["messages"]


async def test_messages_outside_discussions_are_ignored(chatty: DiscordHarness, fake_llm: FakeLLM) -> None:
    await chatty.say("@claude hello from the main channel")
    assert fake_llm.requests == [] and await Message.all().count() == 0


async def test_without_message_content_intent_it_says_so_once(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("open", question="Q", models="gpt")
    [thread] = harness.threads
    await harness.say("@claude are you there?", channel=thread)
    await harness.say("@claude hello?", channel=thread)
    notices = [m for m in harness.bot_messages(thread) if "Message Content" in (m.content or "")]
    assert len(notices) == 1
    assert len(fake_llm.requests) == 1
    call = await harness.slash("continue", channel=thread)  # slash commands still work
    assert "more round" in call.texts[0]


async def test_mention_while_a_round_runs_waits_its_turn(chatty: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="g" * 40, chunk_chars=4, token_interval=0.03))
    await chatty.slash("open", question="Q", models="gpt", wait=False)
    [thread] = chatty.threads
    await chatty.say("@claude jump in", channel=thread)
    claude = fake_llm.requests_for("claude-test")[0]
    gpt_answer = (await Message.get(model_alias="gpt")).content
    assert gpt_answer == "g" * 40
    assert f"[GPT]: {gpt_answer}" in claude.body["messages"][0]["content"]


# --- context budget ------------------------------------------------------------------------


async def test_small_context_budget_drops_old_turns_visibly(database: str, fake_llm: FakeLLM) -> None:
    config: AppConfig = make_config(fake_llm, discord__message_content_intent=True,
                                    models__gpt__context_tokens=700, models__gpt__max_tokens=200)
    harness = await make_harness(config, TEST_ENV)
    try:
        fake_llm.script("llama-test", Script(text="long answer " * 60))
        await harness.slash("discuss", topic="Budget", rounds=3, models="gpt,llama")
        [thread] = harness.threads
        last = fake_llm.requests_for("gpt-test")[-1].body["messages"]
        assert any("earlier messages were left out to fit your context window" in m["content"] for m in last)
        assert last[1]["content"] == "[Alice]: Budget"  # the question is always kept
        assert sum(len(m["content"]) // 3 + 1 + 4 for m in last) <= 700 - 200
        notices = [m.content for m in harness.bot_messages(thread) if "Context trimmed" in (m.content or "")]
        assert notices and "GPT:" in notices[0] and "Llama" not in notices[0]
    finally:
        await harness.close()


# --- restart recovery ----------------------------------------------------------------------


async def test_restart_mid_round_keeps_text_and_resumes(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    discussion = await crash_mid_round(harness, fake_llm)
    [thread] = harness.threads
    partial = await Message.get(discussion=discussion, model_alias="gpt", status=MessageStatus.STREAMING)
    assert partial.content.startswith("half of round two") and len(partial.content) < len("half of round two " * 20)

    cog: Discuss = harness.bot.get_cog("Discuss")  # type: ignore[assignment]  # reloaded module, new class
    [recovered] = await cog.recover([harness.guild.id])
    assert recovered.id == discussion.id
    discussion = await Discussion.get(id=discussion.id)
    assert discussion.status == DiscussionStatus.INTERRUPTED
    interrupted = await Message.get(id=partial.id)
    assert interrupted.status == MessageStatus.INTERRUPTED and interrupted.content == partial.content
    assert (await Round.get(discussion=discussion, number=2)).status == RoundStatus.INTERRUPTED

    [notice] = [m for m in harness.bot_messages(thread) if "restarted" in (m.content or "")]
    [button] = notice.components[0].children  # type: ignore[union-attr]
    assert button.custom_id == f"moai:resume:{discussion.id}"
    call = await harness.click(notice, button.custom_id)
    assert harness.errors == [] and "1 more round(s)" in call.texts[0]

    discussion = await Discussion.get(id=discussion.id)
    assert discussion.status == DiscussionStatus.COMPLETED
    rounds = await Round.filter(discussion=discussion).order_by("number").values_list("status", flat=True)
    assert rounds == [RoundStatus.COMPLETED, RoundStatus.INTERRUPTED, RoundStatus.COMPLETED]
    resumed = fake_llm.requests_for("claude-test")[-1].body
    assert "This is round 2 of 2" in resumed["system"]  # resumed from the last complete round
    context = "\n".join(m["content"] for m in resumed["messages"])
    assert f"[Panelist A]: {partial.content} [cut off]" in context  # nothing stored was lost, and it is marked
    assert (await Message.get(id=partial.id)).content == partial.content


async def test_recovery_leaves_other_guilds_and_live_discussions_alone(harness: DiscordHarness,
                                                                        fake_llm: FakeLLM) -> None:
    await crash_mid_round(harness, fake_llm)
    cog: Discuss = harness.bot.get_cog("Discuss")  # type: ignore[assignment]  # reloaded module, new class
    assert await cog.recover([harness.guild.id + 1]) == []  # another process's shard
    assert await Discussion.filter(status=DiscussionStatus.RUNNING).count() == 1
