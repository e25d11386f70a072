"""Hardening: nothing pings, no secret leaks, faults stay contained, bad input gets a clear answer."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest
from discord.ext.test import backend as back

from bot.db.models import BudgetHold, Discussion, DiscussionStatus, Message, MessageStatus, Round, RoundStatus
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM, Script
from tests.helpers import eventually

PINGS = "@everyone @here <@123456789012345678> <@!123456789012345678> <@&234567890123456789>"
NO_PINGS = {"parse": []}


def allowed_mentions_of(harness: DiscordHarness) -> list[dict[str, Any] | None]:
    """The allowed_mentions of every payload that carried text (a bare "thinking" defer carries none)."""
    webhook = [allowed for m in harness.adapter.messages.values()
               for text, allowed in zip(m.history, m.allowed_mentions, strict=True) if text]
    channel = [p.get("allowed_mentions") for p in harness.channel_payloads if p.get("content") or p.get("embeds")]
    return webhook + channel


# --- 1. output safety ----------------------------------------------------------------------


async def test_no_output_can_ping(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    for model in ("gpt-test", "claude-test", "llama-test"):
        fake_llm.script(model, Script(text=f"Hey {PINGS} look", chunk_chars=5))
    await harness.slash("open", question=f"Ping test {PINGS}")
    [thread] = harness.threads
    troll = back.make_member(back.make_user("troll", "0666"), harness.guild, nick="@everyone <@&234567890123456789>")
    await harness.slash("ask", model="gpt", question=PINGS, by=troll)
    await harness.slash("stop", channel=thread)  # an error reply too
    sent = allowed_mentions_of(harness)
    kinds = {m.kind for m in harness.adapter.messages.values() if any(m.history)}
    assert kinds == {"webhook", "response", "followup"}  # answers, /ask's reply, follow-ups and errors
    assert sum(1 for p in harness.channel_payloads if p.get("content")) >= 2  # question post and status line
    assert all(mentions == NO_PINGS for mentions in sent), sent
    assert any(PINGS in (m.content or "") for m in harness.adapter.messages.values())  # the text is shown as is


async def test_embed_fallback_and_edits_cannot_ping(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    harness.revoke_bot_permissions("manage_webhooks")
    fake_llm.script("gpt-test", Script(text=f"{PINGS} " * 10, chunk_chars=20, token_interval=0.01))
    await harness.slash("open", question="Embeds", models="gpt")
    edits = [p for p in harness.channel_payloads if p.get("embeds")]
    assert len(edits) >= 2
    assert all(p.get("allowed_mentions") == NO_PINGS for p in harness.channel_payloads)


# --- 2. secrets ----------------------------------------------------------------------------


async def test_secrets_never_leak(harness: DiscordHarness, fake_llm: FakeLLM, caplog: pytest.LogCaptureFixture) -> None:
    """Every provider echoes our request, headers and all, back in its errors; nothing of it gets out."""
    caplog.set_level(logging.DEBUG)
    for model in ("gpt-test", "claude-test", "llama-test"):
        fake_llm.script(model, Script(status=400, echo_request_in_error=True, error_message="bad request"))
    await harness.slash("open", question="Leak?")
    [thread] = harness.threads
    await harness.slash("ask", model="claude", question="Leak again?")
    export = await harness.slash("export", channel=thread, format="json")
    assert fake_llm.requests[0].headers["Authorization"].endswith(TEST_ENV["FAKE_OPENAI_KEY"])  # keys were used

    shown = [m.content or "" for m in harness.adapter.messages.values()]
    shown += [str(p) for p in harness.channel_payloads]
    shown += [data.decode() for m in export.followups for data in m.files.values()]
    stored = [str(row) for row in await Message.all().values()] + [str(row) for row in await Discussion.all().values()]
    logged = [caplog.text]
    everything = "\n".join(shown + stored + logged)
    assert "echo:" in everything and "[redacted]" in everything  # the echo happened and was scrubbed
    for secret in TEST_ENV.values():
        assert secret not in everything


# --- 3. faults -----------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


FAULTS = {
    "429 storm": (Script(status=429, retry_after="0.05", error_message="slow down"),
                  "rate limited (HTTP 429) from fakeopenai: slow down (retry after 0.05s)"),
    "500s": (Script(status=500, error_message="internal"), "server error (HTTP 500) from fakeopenai: internal"),
    "stall": (Script(text="stalling answer", chunk_chars=4, stall_after_chunks=2),
              "fakeopenai timed out (no data for 0.5s) (partial answer kept)"),
    "mid-stream error": (Script(text="partial then error", chunk_chars=4, error_after_chunks=2,
                                error_message="upstream died"),
                         "stream failed from fakeopenai: upstream died (partial answer kept)"),
    "malformed SSE": (Script(text="abcdefgh", chunk_chars=2, malformed_after_chunks=1),
                      "stream failed from fakeopenai: malformed stream data (partial answer kept)"),
    "connection reset": (Script(text="abcdefgh", chunk_chars=2, reset_after_chunks=2),
                         "stream failed from fakeopenai: connection closed mid-answer (partial answer kept)"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_fault_is_contained(harness: DiscordHarness, fake_llm: FakeLLM, fault: str) -> None:
    script, reason = FAULTS[fault]
    fake_llm.script("llama-test", script)
    await harness.slash("open", question=f"Fault: {fault}")
    await check_contained(harness, reason)


async def test_provider_down_is_contained(database: str, fake_llm: FakeLLM) -> None:
    config = make_config(fake_llm, providers__deadprovider={
        "kind": "openai", "base_url": f"http://127.0.0.1:{closed_port()}/v1", "api_key_env": "FAKE_OPENAI_KEY",
        "retry_backoff": 0.01}, models__llama__provider="deadprovider")
    harness = await make_harness(config, TEST_ENV)
    try:
        await harness.slash("open", question="Is anyone down?")
        await check_contained(harness, "cannot reach deadprovider: connection refused or host unreachable")
    finally:
        await harness.close()


async def check_contained(harness: DiscordHarness, reason: str) -> None:
    """The others answered, the DB is consistent, and the user got one line naming the model and why."""
    assert harness.errors == []
    [thread] = harness.threads
    answers = harness.answers_by_model(thread.id)
    assert answers["GPT"].startswith("gpt-test answers") and answers["Claude"].startswith("claude-test answers")
    status = harness.bot_messages(thread)[-1].content or ""
    [line] = [line for line in status.splitlines() if "Llama" in line]
    assert line == f"❌ **Llama** · {reason}"
    discussion = await Discussion.get(thread_id=thread.id)
    assert discussion.status == DiscussionStatus.COMPLETED
    assert (await Round.get(discussion=discussion)).status == RoundStatus.COMPLETED
    rows = {r.model_alias: r for r in await Message.filter(discussion=discussion, author_kind="model")}
    assert rows["gpt"].status == rows["claude"].status == MessageStatus.COMPLETE
    assert rows["llama"].status == MessageStatus.FAILED and rows["llama"].error
    assert await Message.filter(status=MessageStatus.STREAMING).count() == 0


async def test_every_model_failing_at_once(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    for model in ("gpt-test", "claude-test", "llama-test"):
        fake_llm.script(model, Script(status=503, error_message="overloaded"))
    await harness.slash("open", question="All down")
    [thread] = harness.threads
    status = harness.bot_messages(thread)[-1].content or ""
    assert "Round 1: 0/3 answered" in status and status.count("❌") == 3
    assert (await Discussion.get(thread_id=thread.id)).status == DiscussionStatus.COMPLETED


# --- 4. bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["\u200b\u200d\u2060", "\u202e\u200f  ", "\t\n"])
async def test_invisible_questions_are_empty(harness: DiscordHarness, fake_llm: FakeLLM, question: str) -> None:
    call = await harness.slash("open", question=question)
    assert call.ephemeral_texts == ["The question is empty."]
    assert fake_llm.requests == []


ODD = "Ünïcødé ✓ 🧠👩‍👩‍👧 \u202eRTL\u202c e\u0301 𝔘𝔫𝔦 \x00null"


async def test_odd_unicode_round_trips_and_is_stored(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="answer with NUL \x00 and a lone surrogate \ud800 ✓"))
    await harness.slash("open", question=ODD, models="gpt,claude")
    assert harness.errors == []
    [thread] = harness.threads
    stored = await Message.get(author_kind="user")
    assert stored.content == ODD.replace("\x00", "")
    gpt = await Message.get(model_alias="gpt")
    assert gpt.status == MessageStatus.COMPLETE and gpt.content == "answer with NUL  and a lone surrogate ? ✓"
    assert thread.name.startswith("Ünïcødé ✓ 🧠")


async def test_huge_question_is_refused_clearly(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    call = await harness.slash("discuss", topic="🧠" * 6000)
    assert call.ephemeral_texts == ["The question is 6,000 characters long; the limit is 500. Shorten it and try "
                                    "again."]


@pytest.mark.parametrize(("command", "options"), [
    ("stop", {}), ("continue", {}), ("consensus", {}), ("export", {}), ("forget discussion", {})])
async def test_thread_commands_outside_a_thread(harness: DiscordHarness, command: str, options: dict) -> None:
    call = await harness.slash(command, **options)
    [text] = call.ephemeral_texts
    assert "thread" in text or "Manage Server" in text


async def test_thread_deleted_mid_round(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    """Discord answers 404 for the thread: the run stops at once (no more paid tokens), what was said is kept."""
    fake_llm.script("gpt-test", Script(text="word " * 400, chunk_chars=5, token_interval=0.01))  # about 4 s
    started = asyncio.get_running_loop().time()
    await harness.slash("discuss", topic="Delete my thread", rounds=3, models="gpt,claude", wait=False)
    [thread] = harness.threads
    harness.delete_thread(thread)
    await harness.bot.services.runs.wait_idle()
    assert asyncio.get_running_loop().time() - started < 2  # stopped, not streamed to the end
    assert harness.errors == []
    discussion = await Discussion.get(thread_id=thread.id)
    assert discussion.status == DiscussionStatus.CANCELLED
    assert await Round.filter(discussion=discussion).count() == 1  # no further rounds were paid for
    gpt = await Message.get(discussion=discussion, model_alias="gpt")
    assert gpt.status == MessageStatus.CANCELLED and ("word " * 400).startswith(gpt.content)  # kept as far as it got
    assert await BudgetHold.all().count() == 0


async def test_thread_deleted_event_stops_the_run(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="word " * 400, chunk_chars=5, token_interval=0.01))
    await harness.slash("discuss", topic="Gone", rounds=2, models="gpt", wait=False)
    [thread] = harness.threads
    await eventually(lambda: fake_llm.requests)
    back.get_state().parse_thread_delete({"id": str(thread.id), "guild_id": str(harness.guild.id),
                                          "parent_id": str(harness.channel.id), "type": 11})
    await eventually(lambda: not harness.bot.services.runs.is_running(thread.id), within=1.0)
    discussion = await Discussion.get(thread_id=thread.id)
    assert discussion.status == DiscussionStatus.CANCELLED


async def test_locked_thread_stops_the_run(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="word " * 400, chunk_chars=5, token_interval=0.01))
    await harness.slash("discuss", topic="Locked", rounds=2, models="gpt", wait=False)
    [thread] = harness.threads
    await eventually(lambda: fake_llm.requests)
    back.get_state().parse_thread_update({
        "id": str(thread.id), "guild_id": str(harness.guild.id), "parent_id": str(harness.channel.id), "type": 11,
        "name": thread.name, "owner_id": str(back.get_state().user.id),
        "thread_metadata": {"archived": False, "locked": True, "auto_archive_duration": 1440,
                            "archive_timestamp": "2026-01-01T00:00:00+00:00"}})
    await eventually(lambda: not harness.bot.services.runs.is_running(thread.id), within=1.0)
    assert (await Discussion.get(thread_id=thread.id)).status == DiscussionStatus.CANCELLED


async def test_deleted_webhook_is_replaced(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("open", question="First", models="gpt")
    harness.delete_webhooks()
    await harness.slash("open", question="Second", models="gpt")  # fails to show, but is stored
    assert (await Message.filter(model_alias="gpt").order_by("-id").first()).status == MessageStatus.COMPLETE
    await harness.slash("open", question="Third", models="gpt")
    third = harness.threads[2]
    assert harness.answers_by_model(third.id) == {"GPT": "gpt-test answers: [Alice]: Third"}
    assert len(harness.webhooks[harness.channel.id]) == 1  # a fresh one was made


async def test_schedulers_do_not_pile_up(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    for question in ("one", "two"):
        await harness.slash("ask", model="gpt", question=question)
        await harness.slash("open", question=question, models="gpt")
    assert harness.bot.screens.pool.idle
