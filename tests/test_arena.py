"""The arena through the Discord harness: blind rounds that leak nothing, votes and their rules, reveals,
timers and restarts, the leaderboard and /modelstats, export and /forget — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import discord
import pytest
from discord.ext.test import backend as back
from tortoise.timezone import now

from bot.arena.blind import names_itself
from bot.config import ModelConfig
from bot.db.models import Discussion, Message, Round, Vote, VoteRound
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM, Script

IDENTITIES = ("gpt", "claude", "llama", "chatgpt", "example.invalid", "openai", "anthropic")


@pytest.fixture
async def arena(database: str, fake_llm: FakeLLM) -> AsyncIterator[DiscordHarness]:
    config = make_config(fake_llm, arena__votes=True, arena__vote_minutes=10.0, arena__min_votes=1,
                         discord__message_content_intent=True)
    harness = await make_harness(config, TEST_ENV)
    for model, text in (("gpt-test", "Quicksort, on average."), ("claude-test", "Merge sort: stable."),
                        ("llama-test", "Timsort in practice.")):
        fake_llm.script(model, Script(text=text))
    yield harness
    await harness.close()


def everything_sent(harness: DiscordHarness) -> str:
    """Every payload the bot sent to Discord: channel posts and edits, webhook and interaction messages."""
    parts: list[Any] = list(harness.channel_payloads)
    for message in harness.adapter.messages.values():
        parts += [message.username, message.avatar_url, message.embeds, *message.history]
    parts += [payload for _, _, payload in harness.adapter.requests]
    return json.dumps(parts, default=str).lower()


def vote_message(harness: DiscordHarness, thread: discord.Thread) -> discord.Message:
    return next(m for m in harness.bot_messages(thread) if (m.content or "").startswith("🗳️ **Which answer"))


def buttons(message: discord.Message) -> dict[str, str]:
    return {b.label: b.custom_id for row in message.components for b in row.children}  # type: ignore[union-attr]


async def test_a_blind_round_leaks_no_identity_until_the_vote_reveals_it(arena: DiscordHarness,
                                                                          fake_llm: FakeLLM) -> None:
    await arena.slash("open", question="Best sorting algorithm?", blind=True)
    [thread] = arena.threads
    sent = everything_sent(arena)
    assert not [word for word in IDENTITIES if word in sent], "a model's identity leaked before the reveal"
    names = sorted(m.username or "" for m in arena.webhook_messages(thread.id))
    assert names == ["Model A", "Model B", "Model C"]
    assert all(m.avatar_url is None for m in arena.webhook_messages(thread.id))
    assert "asked 3 models, blind:" in arena.bot_messages(thread)[0].content
    told = fake_llm.requests_for("claude-test")[0].body["system"]
    assert "This round is blind: the members see you as Model " in told and "You are Model " in told

    vote = vote_message(arena, thread)
    ids = buttons(vote)
    assert list(ids) == ["Model A", "Model B", "Model C", "Tie", "All bad", "Close vote"]
    assert not [word for word in IDENTITIES if word in json.dumps(ids).lower()]

    bob = back.make_member(back.make_user("bob", "0002"), arena.guild, nick="Bob")
    first = await arena.click(vote, ids["Model B"])
    assert first.ephemeral_texts == ["🗳️ Your vote: **Model B**. You can change it until the vote closes."]
    await arena.click(vote, ids["Model A"])  # changed, not added
    await arena.click(vote, ids["Model A"], member=bob)
    assert await Vote.all().count() == 2
    refused = await arena.click(vote, ids["Close vote"], member=bob)
    assert refused.ephemeral_texts[0].startswith("Only the member who started this discussion")

    closed = await arena.click(vote, ids["Close vote"])
    [reveal] = closed.texts
    row = await VoteRound.get()
    winner = dict(zip(row.labels, row.answered, strict=True))["Model A"]
    assert reveal.startswith("🗳️ **Vote closed — the models were:**")
    assert f"• Model A was **{arena.bot.config.models[winner].name}**: 2 vote(s)" in reveal
    assert (await Discussion.get()).revealed and row.closed_at is not None
    late = await arena.click(vote, ids["Model C"])
    assert late.ephemeral_texts == ["This vote is closed."]


async def test_a_model_that_names_itself_voids_the_vote_for_the_ratings(arena: DiscordHarness,
                                                                       fake_llm: FakeLLM) -> None:
    fake_llm.script("claude-test", Script(text="As Claude, made by Anthropic, I'd say merge sort."))
    await arena.slash("open", question="Best sorting algorithm?", models="gpt, claude", blind=True)
    row = await VoteRound.get()
    label = dict(zip(row.answered, row.labels, strict=True))["claude"]
    assert row.voided == f"{label} gave away who they are"
    [thread] = arena.threads
    vote = vote_message(arena, thread)
    await arena.click(vote, buttons(vote)[label])
    closed = await arena.click(vote, buttons(vote)["Close vote"])
    assert f"Not counted in the ratings: {label} gave away who they are." in closed.texts[0]
    board = await arena.bot.services.arena.board(arena.guild.id)
    assert board.ballots == 0


async def test_the_next_round_closes_the_vote_and_reveals(arena: DiscordHarness) -> None:
    await arena.slash("open", question="Best sorting algorithm?", blind=True)
    [thread] = arena.threads
    vote = vote_message(arena, thread)
    await arena.click(vote, buttons(vote)["Model C"])
    await arena.slash("continue", channel=thread)
    assert (await VoteRound.filter(closed_at=None).count()) == 1  # the new round's own vote
    texts = [m.content or "" for m in arena.bot_messages(thread)]
    assert any(t.startswith("🗳️ **Vote closed — the models were:**") for t in texts)
    second = await Round.get(number=2)
    names = {m.username for m in arena.webhook_messages(thread.id) if m.id > 0} - {"Model A", "Model B", "Model C"}
    assert names == {"GPT", "Claude", "Llama"} and second.number == 2


async def test_a_blind_debate_pauses_for_the_vote_then_debates_by_name(arena: DiscordHarness) -> None:
    await arena.slash("discuss", topic="Tabs or spaces?", rounds=3, blind=True)
    assert await Round.all().count() == 1
    [thread] = arena.threads
    assert any("That round was blind: vote below first. The other 2 round(s)" in (m.content or "")
               for m in arena.bot_messages(thread))
    await arena.slash("continue", channel=thread)
    assert await Round.all().count() == 3
    assert (await Discussion.get()).revealed


async def test_votes_close_on_time_even_after_a_restart(arena: DiscordHarness) -> None:
    await arena.slash("open", question="Best sorting algorithm?", blind=True)
    [thread] = arena.threads
    await VoteRound.all().update(closes_at=now() - timedelta(seconds=1))
    cog = arena.bot.get_cog("Arena")
    assert cog is not None
    await cog.close_due()  # type: ignore[attr-defined]  # the loop's body, as the timer runs it
    assert (await VoteRound.get()).closed_at is not None and (await Discussion.get()).revealed
    assert any((m.content or "").startswith("🗳️ **Vote closed") for m in arena.bot_messages(thread))
    await cog.close_due()  # type: ignore[attr-defined]  # closed once, announced once
    assert sum((m.content or "").startswith("🗳️ **Vote closed") for m in arena.bot_messages(thread)) == 1


async def test_the_leaderboard_and_modelstats(arena: DiscordHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    for question in ("One?", "Two?", "Three?"):
        await arena.slash("open", question=question)
    for row in await VoteRound.all():
        await Vote.create(vote_round=row, user_id=1, choice="claude")
        await Vote.create(vote_round=row, user_id=2, choice="gpt" if row.id % 2 else "claude")
        await Vote.create(vote_round=row, user_id=3, choice="tie")
    await VoteRound.all().update(closed_at=now())
    drawn: list[Any] = []

    def capture(*args: Any, **_: Any) -> bytes:
        drawn.append(args)
        return b"\x89PNG fake"

    monkeypatch.setattr(sys.modules["cogs.arena"], "leaderboard_chart", capture)
    call = await arena.slash("leaderboard")
    [reply] = call.followups
    board = await arena.bot.services.arena.board(arena.guild.id)
    assert [r.name for r in board.rows] == ["Claude", "GPT", "Llama"]
    for row in board.rows:
        assert row.rating is not None and f"{row.rating.rating:.0f}" in (reply.content or "")
    [(names, human, _, title, _)] = drawn
    assert list(names) == ["Claude", "GPT", "Llama"] and title.endswith("9 vote(s)")
    assert [h[0] for h in human] == [r.rating.rating for r in board.rows if r.rating]  # the chart plots the table
    assert reply.files == {"leaderboard.png": b"\x89PNG fake"}
    stats = await arena.slash("modelstats", model="claude")
    text = stats.texts[0]
    assert text.startswith("**Claude**\nRating **") and "rank 1 of 3" in text and "vs GPT:" in text


async def test_the_real_chart_is_a_png(arena: DiscordHarness) -> None:
    await arena.slash("open", question="One?")
    row = await VoteRound.get()
    await Vote.create(vote_round=row, user_id=1, choice="gpt")
    await VoteRound.all().update(closed_at=now())
    call = await arena.slash("leaderboard", period="week")
    assert call.followups[0].files["leaderboard.png"].startswith(b"\x89PNG\r\n\x1a\n")


async def test_votes_are_exported_and_forgotten_but_still_counted(arena: DiscordHarness) -> None:
    await arena.slash("open", question="Best sorting algorithm?", blind=True)
    [thread] = arena.threads
    vote = vote_message(arena, thread)
    await arena.click(vote, buttons(vote)["Model A"])
    export = await arena.slash("export", channel=thread, format="json")
    data = json.loads(next(iter(export.followups[0].files.values())))
    assert data["models"] is None and data["votes"][0]["models"] is None  # still blind: no names in the file
    assert data["votes"][0]["tally"]["Model A"] == 1
    assert not [word for word in ("gpt", "claude", "llama") if word in json.dumps(data).lower()]
    await arena.click(vote, buttons(vote)["Close vote"])
    await arena.slash("forget me", confirm=True)
    assert await Vote.filter(user_id=None).count() == 0  # the discussion was theirs: deleted with it
    await arena.slash("open", question="Again?")
    [_, thread2] = arena.threads
    bob = back.make_member(back.make_user("bob", "0002"), arena.guild, nick="Bob")
    vote2 = vote_message(arena, thread2)
    await arena.click(vote2, buttons(vote2)["GPT"], member=bob)
    await arena.slash("forget me", by=bob, confirm=True)
    # The vote is still open: it stays bound to Bob until the tally (or he could vote again), then it is not.
    assert await Vote.filter(user_id=None).count() == 0
    await arena.click(vote2, buttons(vote2)["Close vote"])
    assert await Vote.filter(user_id=None).count() == 1  # anonymised, counted once


async def test_a_failing_blind_model_does_not_name_its_provider(arena: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("llama-test", Script(status=500, error_message="llama-test overloaded at fakeopenai"))
    await arena.slash("open", question="Best sorting algorithm?", blind=True)
    sent = everything_sent(arena)
    status = next(m.content or "" for m in arena.bot_messages(arena.threads[0])
                  if (m.content or "").startswith("-# Round 1"))
    assert status.endswith("** · failed") and "http 500" not in sent  # an error's wording can tell its provider
    assert not [word for word in IDENTITIES if word in sent]


async def test_modelstats_counts_only_the_period_asked_for(arena: DiscordHarness) -> None:
    await arena.slash("open", question="Old?")
    row = await VoteRound.get()
    await Vote.create(vote_round=row, user_id=1, choice="claude")
    await VoteRound.all().update(closed_at=now(), created_at=now() - timedelta(days=30))
    all_time = (await arena.slash("modelstats", model="claude")).texts[0]
    week = (await arena.slash("modelstats", model="claude", period="week")).texts[0]
    assert "vs GPT: 1 won, 0 lost" in all_time
    assert "vs GPT" not in week and "Not rated yet" in week


async def test_a_vote_or_reasoning_button_copied_elsewhere_does_nothing(arena: DiscordHarness,
                                                                        fake_llm: FakeLLM) -> None:
    """Every persistent button checks that what its custom id names belongs to this guild and thread."""
    from tests.helpers import press_forged

    fake_llm.script("gpt-test", Script(text="Quicksort.", reasoning="I weigh the options"))
    await arena.slash("open", question="First?")
    await arena.slash("open", question="Second?")
    first, second = arena.threads
    vote_id = buttons(vote_message(arena, first))["Tie"].split(":")[2]
    row = await Message.get(discussion__thread_id=first.id, model_alias="gpt")
    target = vote_message(arena, second)
    for custom_id in (f"moai:vote:{vote_id}:0", f"moai:vote:{vote_id}:close", f"moai:reasoning:{row.id}"):
        call = await press_forged(arena, target, custom_id)
        assert call.ephemeral_texts == ["This discussion no longer exists."], custom_id
    assert await Vote.all().count() == 0 and arena.errors == []


async def test_a_member_cannot_unmask_a_blind_round_by_mention_reply_or_consensus(arena: DiscordHarness,
                                                                                   fake_llm: FakeLLM) -> None:
    await arena.slash("open", question="Best sorting algorithm?", blind=True)
    [thread] = arena.threads
    asked = len(fake_llm.requests)
    bob = back.make_member(back.make_user("bob", "0002"), arena.guild, nick="Bob")
    blind_answer = next(m for m in arena.webhook_messages(thread.id) if m.username == "Model B")
    await arena.say("@claude which one are you?", channel=thread, member=bob)
    await arena.say("Say more?", channel=thread, member=bob, reply_to=blind_answer.id)
    refusals = [m.content or "" for m in arena.bot_messages(thread) if "until this blind round" in (m.content or "")]
    assert len(refusals) == 2
    assert refusals[0].startswith("Mentions and replies wait until this blind round's vote closes")
    consensus = await arena.slash("consensus", channel=thread, by=bob)
    assert consensus.ephemeral_texts[0].startswith("A consensus waits until this blind round's vote closes")
    assert len(fake_llm.requests) == asked  # nothing asked, nothing spent
    row = await VoteRound.get()
    assert row.closed_at is None and not (await Discussion.get()).revealed
    sent = everything_sent(arena)
    assert not [word for word in IDENTITIES if word in sent], "a model's identity leaked before the reveal"
    vote = vote_message(arena, thread)
    await arena.click(vote, buttons(vote)["Close vote"])  # the starter closes it: now mentions are answered
    await arena.say("@claude which one are you?", channel=thread, member=bob)
    assert [r.body["model"] for r in fake_llm.requests[asked:]] == ["claude-test"]


async def test_a_mention_round_does_not_close_an_open_vote(arena: DiscordHarness, fake_llm: FakeLLM) -> None:
    await arena.slash("open", question="Best sorting algorithm?")
    [thread] = arena.threads
    bob = back.make_member(back.make_user("bob", "0002"), arena.guild, nick="Bob")
    await arena.say("@claude why?", channel=thread, member=bob)
    assert fake_llm.requests[-1].body["model"] == "claude-test"
    assert (await VoteRound.get()).closed_at is None  # only the starter, Manage Threads or the timer close it


async def test_forgetting_oneself_mid_vote_does_not_free_a_second_vote(arena: DiscordHarness) -> None:
    await arena.slash("open", question="Best sorting algorithm?")
    [thread] = arena.threads
    vote = vote_message(arena, thread)
    ids = buttons(vote)
    bob = back.make_member(back.make_user("bob", "0002"), arena.guild, nick="Bob")
    first, second = [label for label in ids if label not in ("Tie", "All bad", "Close vote")][:2]
    for _ in range(3):  # vote, forget, vote again: still one vote, the latest
        await arena.click(vote, ids[first], member=bob)
        await arena.slash("forget me", by=bob, confirm=True)
        await arena.click(vote, ids[second], member=bob)
    assert await Vote.all().count() == 1
    assert (await Vote.get()).user_id == bob.id  # bound to Bob while the vote is open
    await arena.click(vote, ids["Close vote"])
    [row] = await Vote.all()
    assert row.user_id is None and row.choice == (await VoteRound.get()).answered[list(ids).index(second)]
    assert (await arena.bot.services.arena.board(arena.guild.id)).ballots == 1


async def test_a_bot_account_cannot_vote(arena: DiscordHarness) -> None:
    await arena.slash("open", question="Best sorting algorithm?")
    [thread] = arena.threads
    vote = vote_message(arena, thread)
    user = back.make_user("robot", "0003")
    user.bot = True
    robot = back.make_member(user, arena.guild, nick="Robot")
    refused = await arena.click(vote, buttons(vote)["Tie"], member=robot)
    assert refused.ephemeral_texts == ["Bots and webhooks do not vote."] and await Vote.all().count() == 0


async def test_a_vote_that_races_the_close_lands_before_the_tally_or_not_at_all(arena: DiscordHarness) -> None:
    await arena.slash("open", question="Best sorting algorithm?")
    service = arena.bot.services.arena
    row = await VoteRound.get()
    results = await asyncio.gather(*(service.cast(row.id, 100 + n, "tie") for n in range(8)), service.close(row.id),
                                   *(service.cast(row.id, 200 + n, "tie") for n in range(8)), return_exceptions=True)
    closed = results[8]
    assert not isinstance(closed, BaseException) and closed is not None
    landed = await Vote.all().count()
    assert closed.notice.ties == landed  # every vote stored is in the tally
    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(str(r) == "This vote is closed." for r in refused) and landed + len(refused) == 16


async def test_no_number_of_an_open_blind_round_pairs_a_label_with_a_name(arena: DiscordHarness,
                                                                          fake_llm: FakeLLM) -> None:
    fake_llm.script("claude-test", Script(text="Merge sort: stable.", reasoning="Speaking as Sonnet, I'd say merge."))
    await arena.slash("open", question="Best sorting algorithm?", blind=True)
    [thread] = arena.threads
    status = next(m.content for m in arena.bot_messages(thread) if (m.content or "").startswith("-# Round 1"))
    assert "tokens" not in status and " s ·" not in status and "🧠" not in status
    usage = "".join((await arena.slash("usage")).texts)
    assert "Blind rounds, not revealed yet" in usage
    assert not [name for name in ("GPT", "Claude", "Llama") if name in usage]
    board = await arena.bot.services.arena.board(arena.guild.id)
    assert all(row.answers == 0 for row in board.rows)  # latency, cost, failures: left out until the reveal
    export = await arena.slash("export", channel=thread, format="json")
    data = json.loads(next(iter(export.followups[0].files.values())))
    answers = [m for s in data["sections"] for m in s["messages"] if m["author_kind"] == "model"]
    assert answers and all(m["cost_usd"] is None and m["output_tokens"] is None and m["stop_reason"] is None
                           and m["latency_ms"] is None and m["reasoning"] == "" for m in answers)
    row = await VoteRound.get()
    label = dict(zip(row.answered, row.labels, strict=True))["claude"]
    assert row.voided == f"{label} gave away who they are"  # in its reasoning: "Sonnet" is in its id's words
    vote = vote_message(arena, thread)
    await arena.click(vote, buttons(vote)["Close vote"])
    usage = "".join((await arena.slash("usage")).texts)
    assert "Blind rounds" not in usage and "Claude" in usage
    board = await arena.bot.services.arena.board(arena.guild.id)
    assert sum(row.answers for row in board.rows) == 3


def test_self_naming_reads_the_model_id_and_family_names_but_not_generic_words() -> None:
    sonnet = ModelConfig(alias="c", provider="p", model="anthropic/claude-sonnet-4", display_name="C")
    assert names_itself("Speaking as Sonnet: yes.", sonnet) and names_itself("Opus would agree.", sonnet)
    gemini = ModelConfig(alias="g", provider="p", model="google/gemini-2.5-pro-preview", display_name="G")
    assert names_itself("DeepMind trained me", gemini)
    assert not names_itself("A pro tip, in preview: use a flash of insight.", gemini)


async def test_named_vote_buttons_come_in_a_new_order_each_round(arena: DiscordHarness) -> None:
    orders = set()
    for number in range(8):
        await arena.slash("open", question=f"Best sorting algorithm, take {number}?")
        vote = vote_message(arena, arena.threads[-1])
        orders.add(tuple(buttons(vote))[:3])
    assert len(orders) > 1  # three models: all eight rounds in one order would happen 1 time in 6**7
    assert {frozenset(order) for order in orders} == {frozenset({"GPT", "Claude", "Llama"})}
