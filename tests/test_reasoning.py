"""Reasoning models and stop reasons as a person sees them: kept apart from the answer, shown on request,
cut-off and thought-only answers told honestly, in Discord, the database and exports."""

from __future__ import annotations

import json

from bot.db.models import Message
from bot.kinds import MessageStatus
from tests.discord_harness import DiscordHarness
from tests.fake_llm import FakeLLM, Script


async def test_reasoning_is_stored_apart_and_shown_on_request(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="The answer is 4.", reasoning="2+2: count on fingers.",
                                       reasoning_tokens=9))
    fake_llm.script("claude-test", Script(text="Four.", reasoning="Simple addition."))
    await harness.slash("open", question="2+2?", models="gpt,claude,llama")
    [thread] = harness.threads
    assert harness.errors == []
    answers = harness.answers_by_model(thread.id)
    assert answers["GPT"] == "The answer is 4." and "fingers" not in answers["GPT"]  # never mixed in
    gpt = await Message.get(model_alias="gpt")
    assert gpt.reasoning == "2+2: count on fingers." and gpt.reasoning_tokens == 9 and gpt.content == "The answer is 4."
    assert (await Message.get(model_alias="llama")).reasoning == ""

    [summary] = [m for m in harness.bot_messages(thread) if (m.content or "").startswith("-# Round 1")]
    assert "🧠 reasoned" in summary.content
    buttons = summary.components[0].children  # type: ignore[union-attr]
    assert [b.label for b in buttons] == ["GPT's reasoning", "Claude's reasoning"]  # llama did not reason
    actions = summary.components[-1].children  # type: ignore[union-attr]
    assert [b.label for b in actions] == ["One more round", "Consensus", "Stop", "Export"]
    call = await harness.click(summary, buttons[0].custom_id, wait=False)
    [text] = call.ephemeral_texts
    assert "GPT" in text and "2+2: count on fingers." in text


async def test_long_reasoning_comes_as_a_file(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="Done.", reasoning="step " * 1000, chunk_chars=200))
    await harness.slash("open", question="Think a lot", models="gpt")
    [thread] = harness.threads
    [summary] = [m for m in harness.bot_messages(thread) if (m.content or "").startswith("-# Round 1")]
    [button] = summary.components[0].children  # type: ignore[union-attr]
    call = await harness.click(summary, button.custom_id, wait=False)
    [response] = [m for m in [call.response, *call.followups] if m is not None]
    assert response.ephemeral
    [(name, data)] = response.files.items()
    assert name.endswith(".md") and data.decode() == "step " * 1000


async def test_thought_but_no_answer_is_a_failure(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="", reasoning="so much to consider", stop_reason="length"))
    await harness.slash("open", question="Hard one", models="gpt,claude")
    [thread] = harness.threads
    row = await Message.get(model_alias="gpt")
    assert row.status is MessageStatus.FAILED and row.reasoning == "so much to consider"
    assert row.error == "thought but gave no answer (hit max_tokens (1024))" and row.stop_reason == "length"
    [summary] = [m for m in harness.bot_messages(thread) if (m.content or "").startswith("-# Round 1")]
    assert "❌ **GPT** · thought but gave no answer" in summary.content and "1/2 answered" in summary.content


async def test_cut_off_answer_says_so(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("claude-test", Script(text="It begins with", stop_reason="max_tokens"))
    await harness.slash("open", question="Tell me everything", models="claude")
    [thread] = harness.threads
    shown = harness.answers_by_model(thread.id)["Claude"]
    assert shown.startswith("It begins with") and "cut off: the answer hit max_tokens (1,024 tokens)" in shown
    row = await Message.get(model_alias="claude")
    assert row.content == "It begins with" and row.status is MessageStatus.COMPLETE  # the note is not stored text
    [summary] = [m for m in harness.bot_messages(thread) if (m.content or "").startswith("-# Round 1")]
    assert "✂️ cut at max_tokens" in summary.content

    call = await harness.slash("export", channel=thread, format="json")
    [(_, data)] = call.followups[0].files.items()
    [exported] = [m for s in json.loads(data)["sections"] for m in s["messages"] if m["model"] == "claude"]
    assert exported["stop_reason"] == "max_tokens"
    call = await harness.slash("export", channel=thread, format="md")
    [(_, data)] = call.followups[0].files.items()
    assert "cut off at the token limit (max_tokens)" in data.decode()


async def test_filtered_answer_says_so(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="I won't", stop_reason="content_filter"))
    await harness.slash("open", question="Something", models="gpt")
    [thread] = harness.threads
    assert "stopped by the provider's content filter" in harness.answers_by_model(thread.id)["GPT"]


async def test_export_keeps_reasoning_collapsed(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="Yes.", reasoning="Because <reasons>."))
    await harness.slash("open", question="Why?", models="gpt")
    [thread] = harness.threads
    call = await harness.slash("export", channel=thread, format="html")
    [(_, data)] = call.followups[0].files.items()
    # rendered as Markdown now (the export reads like a report); the angle brackets stay text
    assert "<details><summary>Reasoning</summary><p>Because &lt;reasons&gt;.</p>\n</details>" in data.decode()


async def test_ask_offers_reasoning_too(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("claude-test", Script(text="Sure.", reasoning="Let me think."))
    call = await harness.slash("ask", model="claude", question="Can you?")
    [footer] = call.followups
    assert "🧠 reasoned" in (footer.content or "")
