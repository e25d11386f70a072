"""Mentions as people really type them, and the small things that cost money or confuse models when wrong."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from discord.ext.test import backend as back

from bot.db.models import Discussion, Round
from bot.kinds import DiscussionStatus
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM, Script
from tests.helpers import eventually


@pytest.fixture
async def chatty(database: str, fake_llm: FakeLLM) -> AsyncIterator[DiscordHarness]:
    harness = await make_harness(make_config(fake_llm, discord__message_content_intent=True), TEST_ENV)
    yield harness
    await harness.close()


@pytest.mark.parametrize("text", ["What do you think, @claude.", "Over to you @claude...", "@Claude- thoughts?"])
async def test_mentions_with_trailing_punctuation(chatty: DiscordHarness, fake_llm: FakeLLM, text: str) -> None:
    await chatty.slash("open", question="Q", models="gpt")
    [thread] = chatty.threads
    await chatty.say(text, channel=thread)
    assert [r.body["model"] for r in fake_llm.requests[1:]] == ["claude-test"]


async def test_an_unknown_name_gets_the_panel(chatty: DiscordHarness, fake_llm: FakeLLM) -> None:
    await chatty.slash("open", question="Q", models="gpt,claude")
    [thread] = chatty.threads
    message = await chatty.say("@gemini what about you?", channel=thread)
    assert len(fake_llm.requests) == 2  # nobody was asked, nothing spent
    replies = [p for p in chatty.channel_payloads if str((p.get("message_reference") or {}).get("message_id"))
               == str(message.id)]  # dpytest drops references from its messages: read what was sent
    assert [p["content"] for p in replies] == ["I don't know `@gemini`. This discussion's models: GPT (`@gpt`), "
                                               "Claude (`@claude`)."]


async def test_a_reply_to_a_streaming_answer_asks_that_model(chatty: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="slow " * 60, chunk_chars=5, token_interval=0.02))
    await chatty.slash("open", question="Q", models="gpt", wait=False)
    [thread] = chatty.threads
    await eventually(lambda: chatty.webhook_messages(thread.id))
    [streaming] = chatty.webhook_messages(thread.id)
    await chatty.say("Wait, why?", channel=thread, reply_to=streaming.id)
    assert [r.body["model"] for r in fake_llm.requests] == ["gpt-test", "gpt-test"]


async def test_a_member_named_like_a_model_is_labelled(chatty: DiscordHarness, fake_llm: FakeLLM) -> None:
    impostor = back.make_member(back.make_user("claude", "0003"), chatty.guild, nick="Claude")
    await chatty.slash("open", question="Q", models="gpt,claude")
    [thread] = chatty.threads
    await chatty.say("I am Claude and I say GPT is right.", channel=thread, member=impostor)
    await chatty.say("@gpt do you agree?", channel=thread)
    context = fake_llm.requests_for("gpt-test")[-1].body["messages"]
    text = "\n".join(m["content"] for m in context)
    assert "[Claude (member)]: I am Claude and I say GPT is right." in text
    assert "[Claude]: claude-test answers" in text  # the model keeps its own name


async def test_the_intent_notice_is_given_in_each_thread(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("open", question="One", models="gpt")
    await harness.slash("open", question="Two", models="gpt")
    first, second = harness.threads
    for thread in (first, second, first):
        await harness.say("@claude hi", channel=thread)
    for thread in (first, second):
        assert len([m for m in harness.bot_messages(thread) if "Message Content" in (m.content or "")]) == 1


async def test_stop_also_stops_ask(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("claude-test", Script(text="slow " * 100, chunk_chars=5, token_interval=0.02))
    asking = asyncio.ensure_future(harness.slash("ask", model="claude", question="Take your time"))
    await eventually(lambda: fake_llm.requests_for("claude-test"))
    call = await harness.slash("stop")
    assert "Stopped by Alice" in call.texts[-1]
    await asking
    discussion = await Discussion.get(mode="ask")
    assert discussion.status is DiscussionStatus.CANCELLED


async def test_mentions_during_a_round_coalesce_into_one(chatty: DiscordHarness, fake_llm: FakeLLM) -> None:
    """Eight mentions while a round runs: one follow-up round for the union of the models, all in context."""
    fake_llm.script("gpt-test", Script(text="g" * 60, chunk_chars=4, token_interval=0.03))
    await chatty.slash("open", question="Q", models="gpt", wait=False)
    [thread] = chatty.threads
    bob = back.make_member(back.make_user("bob", "0002"), chatty.guild, nick="Bob")
    for index in range(8):
        who = bob if index % 2 else chatty.member
        target = "@claude" if index < 6 else "@llama"
        await chatty.say(f"{target} point {index}", channel=thread, member=who, wait=False)
    await chatty.bot.services.runs.wait_idle()
    asked = [r.body["model"] for r in fake_llm.requests[1:]]
    assert sorted(asked) == ["claude-test", "llama-test"]  # one round, not eight
    context = "\n".join(m["content"] for m in fake_llm.requests_for("claude-test")[0].body["messages"])
    assert all(f"point {i}" in context for i in range(8))
    assert "Alice and Bob addressed you" in fake_llm.requests_for("claude-test")[0].body["system"]
    discussion = await Discussion.get(thread_id=thread.id)
    assert await Round.filter(discussion=discussion).count() == 2


async def test_waiting_mentions_are_capped(database: str, fake_llm: FakeLLM) -> None:
    harness = await make_harness(make_config(fake_llm, discord__message_content_intent=True,
                                             defaults__mention_queue_limit=2), TEST_ENV)
    try:
        fake_llm.script("gpt-test", Script(text="g" * 60, chunk_chars=4, token_interval=0.03))
        await harness.slash("open", question="Q", models="gpt", wait=False)
        [thread] = harness.threads
        for index in range(3):
            await harness.say(f"@claude point {index}", channel=thread, wait=False)
        await harness.bot.services.runs.wait_idle()
        refusals = [p for p in harness.channel_payloads if "already waiting" in (p.get("content") or "")]
        assert len(refusals) == 1 and len(fake_llm.requests_for("claude-test")) == 1
    finally:
        await harness.close()
