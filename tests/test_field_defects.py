"""Field defects found by hostile members and faulty environments, each pinned by a test that failed before
its fix (issue 22): hostile files in thread messages, the gateway's duplicates, rounds nobody answered, a
mention that copies the stance format."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

import pytest

from bot.db.models import Message, Round
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import DiscordHarness, Upload, make_harness
from tests.fake_llm import FakeLLM, Script
from tests.helpers import pdf


@pytest.fixture
async def chatty(database: str, fake_llm: FakeLLM) -> AsyncIterator[DiscordHarness]:
    """The bot reading thread messages (the Message Content intent on)."""
    harness = await make_harness(make_config(fake_llm, discord__message_content_intent=True), TEST_ENV)
    yield harness
    await harness.close()


def replies(harness: DiscordHarness, thread: object) -> list[str]:
    return [m.content or "" for m in harness.bot_messages(thread)]  # type: ignore[arg-type]


async def test_a_pdf_bomb_in_a_thread_message_gets_a_named_refusal(chatty: DiscordHarness,
                                                                   fake_llm: FakeLLM) -> None:
    """It used to get no reply at all (the thread handler only caught UserError)."""
    await chatty.slash("open", question="Start", models="gpt,claude")
    [thread] = chatty.threads
    bomb = pdf("", zlib.compress(b"0" * 90_000_000, 9), b" /Filter /FlateDecode")
    await chatty.say("@gpt read this", channel=thread, files=[Upload("bomb.pdf", bomb, "application/pdf")])
    [reply] = [t for t in replies(chatty, thread) if "bomb.pdf" in t]
    assert "is a PDF that unpacks to far more than its size" in reply and "not passed on" in reply
    assert len(fake_llm.requests) == 2  # nobody was asked
    assert await Message.filter(author_kind="user").count() == 1  # only the opening question is stored


async def test_a_thread_message_that_hits_a_bug_gets_a_reply(chatty: DiscordHarness, fake_llm: FakeLLM) -> None:
    await chatty.slash("open", question="Start", models="gpt,claude")
    [thread] = chatty.threads

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("store bug")

    chatty.bot.services.store.add_user_turn = broken  # type: ignore[method-assign]
    await chatty.say("@gpt hello?", channel=thread)
    assert any(t.startswith("Something went wrong on my side (ref `") for t in replies(chatty, thread))


async def test_a_message_delivered_twice_is_answered_once(chatty: DiscordHarness, fake_llm: FakeLLM) -> None:
    await chatty.slash("open", question="Start", models="gpt,claude")
    [thread] = chatty.threads
    await chatty.say("@gpt again?", channel=thread, deliveries=2)
    assert len(fake_llm.requests_for("gpt-test")) == 2  # the /open and one mention, not two
    assert await Message.filter(author_kind="user", content="@gpt again?").count() == 1


async def test_a_round_nobody_answered_ends_the_debate(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    """It used to play every remaining round with no answers (and no bill)."""
    for model in ("gpt-test", "claude-test"):
        fake_llm.script(model, *[Script(status=400, error_message="model is gone")] * 3)
    await harness.slash("discuss", topic="Anything?", rounds=3, models="gpt,claude")
    [thread] = harness.threads
    assert await Round.all().count() == 1
    notice = [t for t in replies(harness, thread) if "Every model failed in round 1" in t]
    assert notice and "Use /continue to try again" in notice[0] and "model is gone" in notice[0]


async def test_a_mention_that_copies_the_stance_format_shows_no_raw_block(chatty: DiscordHarness,
                                                                        fake_llm: FakeLLM) -> None:
    await chatty.slash("discuss", topic="Rust or Go?", rounds=1, models="gpt,claude")
    [thread] = chatty.threads
    fake_llm.script("gpt-test", Script(text="Go, for its tooling.\n\nSTANCE: Use Go\nCONFIDENCE: 80\nCHANGED: no"))
    await chatty.say("@gpt and now?", channel=thread)
    last = chatty.webhook_messages(thread.id)[-1].content or ""
    assert last.startswith("Go, for its tooling.") and "STANCE:" not in last and "🧭 Use Go" in last


async def test_forget_me_during_my_own_run_stops_it_first(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    """It used to delete the rows under the live run, which died on a foreign-key error shown as "internal error"."""
    from bot.db.models import Discussion, Spend
    from tests.helpers import eventually

    fake_llm.script("gpt-test", Script(text="word " * 300, chunk_chars=5, token_interval=0.02))
    await harness.slash("open", question="Forget me mid-answer", models="gpt,claude", wait=False)
    [thread] = harness.threads
    await eventually(lambda: len(harness.answers_by_model(thread.id).get("GPT", "")) > 50)
    call = await harness.slash("forget me", confirm=True)
    assert "Deleted 1 discussion(s)" in call.ephemeral_texts[0]
    assert harness.errors == [] and not harness.bot.services.runs.is_running(thread.id)
    assert not any("internal error" in t for t in replies(harness, thread))
    assert await Discussion.all().count() == 0 and await Message.all().count() == 0
    assert {r.model_alias for r in await Spend.all()} == {"gpt", "claude"}  # what was spent stays counted
    assert all(r.user_id is None and r.discussion_id is None for r in await Spend.all())


async def test_after_a_mention_the_next_round_is_numbered_as_the_models_are_told(chatty: DiscordHarness,
                                                                                fake_llm: FakeLLM) -> None:
    """It used to be shown as "Round 3" while the model was told "round 2 of 2"."""
    from tests.helpers import system_of

    await chatty.slash("discuss", topic="Tabs?", rounds=1, models="gpt,claude")
    [thread] = chatty.threads
    await chatty.say("@gpt one more thought?", channel=thread)
    await chatty.slash("continue", channel=thread)
    status = [t for t in replies(chatty, thread) if t.startswith("-# Round")]
    assert [s.split(":")[0] for s in status] == ["-# Round 1", "-# Round 1 · follow-up", "-# Round 2"]
    assert "round 2 of 2" in system_of(fake_llm.requests_for("gpt-test")[-1].body)


def test_a_key_is_masked_in_every_form_a_provider_echoes_it() -> None:
    """The redactor matched exact values only: upper-cased, spaced or base64 forms were stored and shown."""
    import base64

    from bot.secrets import Redactor
    from tests.conftest import OPENAI_KEY

    redact = Redactor([OPENAI_KEY])
    basic = base64.b64encode(f"user:{OPENAI_KEY}".encode()).decode()
    for echoed in (OPENAI_KEY, OPENAI_KEY.upper(), " ".join(OPENAI_KEY), f"Authorization: Basic {basic}",
                   base64.urlsafe_b64encode(f"x{OPENAI_KEY}".encode()).decode()):
        masked = redact(f"error: {echoed} was refused")
        assert "[redacted]" in masked and OPENAI_KEY.upper() not in masked.replace(" ", "").upper()
        for encoded in (base64.b64encode(f"user:{OPENAI_KEY}".encode()), base64.b64encode(OPENAI_KEY.encode())):
            assert encoded.decode()[8:-8] not in masked
    assert redact("no secret in here") == "no secret in here"


async def test_stop_while_the_first_round_s_rows_are_made_leaves_nothing_running(
        harness: DiscordHarness, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    """The round stayed `running` and its answers `streaming` for good; a later /continue said "Round 2"."""
    import asyncio

    from bot.db.models import Discussion

    gate, reached = asyncio.Event(), asyncio.Event()
    real_create = Message.create.__func__  # type: ignore[attr-defined]

    async def slow_create(cls: type[Message], **values: object) -> Message:
        if values.get("author_kind") == "model":
            reached.set()
            await gate.wait()  # the database is slow right now
        return await real_create(cls, **values)  # type: ignore[no-any-return]

    monkeypatch.setattr(Message, "create", classmethod(slow_create))
    await harness.slash("discuss", topic="Stop me early", rounds=2, models="gpt,claude", wait=False)
    [thread] = harness.threads
    await asyncio.wait_for(reached.wait(), 5)  # the round's row exists, its answers' rows are being made
    call = await harness.slash("stop", channel=thread)
    assert any("Stopped by Alice" in t for t in call.texts)
    gate.set()
    monkeypatch.undo()
    assert await Round.filter(status="running").count() == 0
    assert await Message.filter(status="streaming").count() == 0
    assert (await Discussion.get(thread_id=thread.id)).status == "cancelled"
    await harness.slash("continue", channel=thread)
    status = [t for t in replies(harness, thread) if t.startswith("-# Round")]
    assert status and status[-1].startswith("-# Round 1:")


async def test_a_webhook_deleted_mid_answer_is_replaced_and_the_answer_reposted(harness: DiscordHarness,
                                                                                fake_llm: FakeLLM) -> None:
    """Answers were stored `complete` with no Discord message (or frozen at their first words) under ✅."""
    from tests.helpers import eventually

    text = "streamed " * 60
    fake_llm.script("gpt-test", Script(text=text, chunk_chars=9, token_interval=0.02))
    await harness.slash("open", question="Delete my webhook", models="gpt,claude", wait=False)
    [thread] = harness.threads
    await eventually(lambda: len(harness.answers_by_model(thread.id).get("GPT", "")) > 20)
    harness.delete_webhooks()  # a moderator cleans up the integrations
    await harness.bot.services.runs.wait_idle()
    shown = [m for m in harness.webhook_messages(thread.id) if m.username == "GPT"]
    assert len(shown) >= 2 and (shown[-1].content or "").startswith(text.strip()[:100])  # posted again, in full
    assert text.strip() in "".join(m.content or "" for m in harness.webhook_messages(thread.id)[-2:])
    status = [t for t in replies(harness, thread) if t.startswith("-# Round")][-1]
    assert "✅ **GPT**" in status


def test_an_answer_discord_would_not_show_is_never_ticked(fake_llm: FakeLLM) -> None:
    from bot.engine.rounds import Answer, RoundResult
    from bot.kinds import MessageStatus, RoundKind
    from bot.seats import seat
    from cogs.delivery.render import round_summary
    from tests.conftest import make_config

    config = make_config(fake_llm)
    answers = [Answer(seat(config.models[alias]), Message(id=n), text="an answer", status=MessageStatus.COMPLETE)
               for n, alias in enumerate(("gpt", "claude"), start=1)]
    result = RoundResult(Round(id=1, number=1, kind=RoundKind.OPEN), answers)
    summary = round_summary(result, unshown={"gpt"})
    assert "✅ **GPT**" not in summary and "⚠️ **GPT** · answered, but Discord would not show it" in summary
    assert "✅ **Claude**" in summary


def test_a_member_s_name_is_shown_as_text_never_as_markup() -> None:
    """A nickname was pasted into the intro unescaped: Markdown and masked links under the bot's name."""
    from cogs.delivery.render import member_name

    shown = member_name("**Admin** [verify here](https://evil.example)\n# big")
    assert "\n" not in shown and r"\*\*Admin\*\*" in shown and r"\[verify here]" in shown
