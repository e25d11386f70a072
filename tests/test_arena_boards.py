"""The arena's boards through the real command tree: categories (rules and the billed tagging model), style
control and raw ratings, ties, min_votes, `moai leaderboard --json`, and the blind refusal when no vote is
open — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord.ext.test import backend as back
from tortoise.timezone import now

from bot.arena.categories import category_of
from bot.db.models import Discussion, Spend, Vote, VoteRound
from bot.kinds import Category
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM, Script
from tests.helpers import moai, write_config

TAGGER = {"provider": "fakeopenai", "model": "tagger-test", "display_name": "Tagger", "input_price": 1.0,
          "output_price": 2.0}
LONG = "# Plan\n\n" + "\n".join(f"- **step {i}**: do the thing properly" for i in range(12))


async def harness_with(fake_llm: FakeLLM, **arena: object) -> DiscordHarness:
    config = make_config(fake_llm, arena__votes=True, discord__message_content_intent=True, models__tagger=TAGGER,
                         **{f"arena__{key}": value for key, value in arena.items()})
    harness = await make_harness(config, TEST_ENV)
    fake_llm.script("gpt-test", Script(text=LONG))
    fake_llm.script("claude-test", Script(text="Short answer."))
    fake_llm.script("llama-test", Script(text="Another short one."))
    return harness


@pytest.fixture
async def boards(database: str, fake_llm: FakeLLM) -> AsyncIterator[DiscordHarness]:
    harness = await harness_with(fake_llm, min_votes=1)
    yield harness
    await harness.close()


async def vote_on_every_round(choices: dict[int, list[str]]) -> None:
    """Members' votes (user id -> choices by round order), then every vote closes."""
    rounds = await VoteRound.all().order_by("id")
    for user, picks in choices.items():
        for row, pick in zip(rounds, picks, strict=False):
            await Vote.create(vote_round=row, user_id=user, choice=pick)
    await VoteRound.all().update(closed_at=now())


def test_the_rules_place_questions_by_strong_signals_only() -> None:
    assert category_of("Why does my asyncio code deadlock?") is Category.CODING
    assert category_of("Fix this:\n```\nx = [1,2\n```") is Category.CODING
    assert category_of("Write me a haiku about autumn rain") is Category.CREATIVE
    assert category_of("Should I quit my job to start a company?") is Category.ADVICE
    assert category_of("What is the capital of Mongolia?") is Category.FACTUAL
    assert category_of("Tabs or spaces?") is Category.OTHER
    assert category_of("") is Category.OTHER


async def test_a_vote_is_filed_under_its_questions_category_with_its_answers_styles(boards: DiscordHarness) -> None:
    await boards.slash("open", question="Why does my Python script crash on import?")
    discussion = await Discussion.get()
    row = await VoteRound.get()
    assert discussion.category is Category.CODING and row.category is Category.CODING
    styles = dict(zip(row.answered, row.styles, strict=True))
    assert styles["gpt"] == [len(LONG), 1, 12, 12] and styles["claude"] == [len("Short answer."), 0, 0, 0]


async def test_a_category_board_counts_only_its_questions(boards: DiscordHarness) -> None:
    await boards.slash("open", question="Why does my Python script crash on import?")
    await boards.slash("open", question="Write me a poem about the sea")
    await vote_on_every_round({1: ["claude", "gpt"], 2: ["claude", "gpt"]})
    coding = await boards.bot.services.arena.board(boards.guild.id, scope_of(Category.CODING))
    creative = await boards.bot.services.arena.board(boards.guild.id, scope_of(Category.CREATIVE))
    assert coding.ballots == creative.ballots == 2
    assert coding.rows[0].alias == "claude" and creative.rows[0].alias == "gpt"
    assert all(r.answers == 1 for r in coding.rows)  # its answers' numbers too, not the other question's
    call = await boards.slash("leaderboard", category="coding")
    assert call.texts[0].startswith("**Leaderboard (coding, all): 2 vote(s)**")
    empty = await boards.slash("leaderboard", category="advice")
    assert "No answers yet" in empty.texts[0]


def scope_of(category: Category | None = None, raw: bool = False):  # type: ignore[no-untyped-def]
    from bot.services.arena import BoardScope

    return BoardScope(category=category, raw=raw)


async def test_style_control_is_the_default_and_raw_is_one_option_away(boards: DiscordHarness) -> None:
    for question in ("One?", "Two?", "Three?"):
        await boards.slash("open", question=question)
    await vote_on_every_round({1: ["gpt", "gpt", "claude"], 2: ["gpt", "llama", "gpt"]})
    styled = await boards.bot.services.arena.board(boards.guild.id)
    raw = await boards.bot.services.arena.board(boards.guild.id, scope_of(raw=True))
    assert set(styled.style) == {"length", "headers", "lists", "bold"} and raw.style == {}
    assert styled.rows[0].rating != raw.rows[0].rating
    shown = (await boards.slash("leaderboard")).texts[0]
    assert "Style-controlled: length and markdown" in shown
    shown_raw = (await boards.slash("leaderboard", raw=True)).texts[0]
    assert "Leaderboard (all, raw)" in shown_raw and "Raw ratings: no style control." in shown_raw


async def test_a_tie_moves_nothing_by_default(boards: DiscordHarness) -> None:
    """Through the real buttons: one member votes GPT, three press Tie, the starter closes the vote."""
    await boards.slash("open", question="One?", models="gpt, claude")
    [thread] = boards.threads
    vote = next(m for m in boards.bot_messages(thread) if (m.content or "").startswith("🗳️ **Which answer"))
    ids = {b.label: b.custom_id for row in vote.components for b in row.children}  # type: ignore[union-attr]
    await boards.click(vote, ids["GPT"])
    for number in range(3):
        member = back.make_member(back.make_user(f"tie{number}", f"000{number + 3}"), boards.guild)
        pressed = await boards.click(vote, ids["Tie"], member=member)
        assert pressed.ephemeral_texts[0].startswith("🗳️ Your vote: **a tie**")
    await boards.click(vote, ids["Close vote"])
    board = await boards.bot.services.arena.board(boards.guild.id)
    assert board.ballots == 4 and board.ties == 3 and [r.votes for r in board.rows] == [1, 1]
    assert "3 tie vote(s) move no rating." in (await boards.slash("leaderboard")).texts[0]


async def test_ties_can_count_half_a_win(database: str, fake_llm: FakeLLM) -> None:
    harness = await harness_with(fake_llm, ties="half", min_votes=1)
    try:
        await harness.slash("open", question="One?", models="gpt, claude")
        await vote_on_every_round({1: ["gpt"], 2: ["tie"], 3: ["tie"], 4: ["tie"]})
        half = await harness.bot.services.arena.board(harness.guild.id)
        assert [r.votes for r in half.rows] == [4, 4]
        first = half.rows[0].rating
        assert first is not None and first.rating < 1000 + 200 * 1.5  # pulled towards even by the ties
        assert "move no rating" not in (await harness.slash("leaderboard")).texts[0]
    finally:
        await harness.close()


async def test_a_model_with_too_few_votes_is_shown_unranked(database: str, fake_llm: FakeLLM) -> None:
    harness = await harness_with(fake_llm, min_votes=4)
    try:
        await harness.slash("open", question="One?", models="gpt, claude")
        await harness.slash("open", question="Two?", models="gpt, llama")
        await vote_on_every_round({1: ["gpt", "gpt"], 2: ["claude", "llama"], 3: ["gpt"]})  # claude 3, llama 2
        board = await harness.bot.services.arena.board(harness.guild.id)
        assert board.ranked == ["gpt"] and board.rows[0].alias == "gpt"
        table = (await harness.slash("leaderboard")).texts[0]
        assert "unranked" in table and "3 vote(s)" in table and "A model is ranked from 4 vote(s)." in table
        stats = (await harness.slash("modelstats", model="claude")).texts[0]
        assert "Unranked, 3 vote(s): a model is ranked from 4." in stats
        assert "rank 1 of 1" in (await harness.slash("modelstats", model="gpt")).texts[0]
    finally:
        await harness.close()


async def test_the_tagging_model_places_what_the_rules_cannot_and_is_billed(database: str, fake_llm: FakeLLM) -> None:
    harness = await harness_with(fake_llm, category_model="tagger", min_votes=1)
    fake_llm.script("tagger-test", Script(text="Advice."))
    try:
        await harness.slash("open", question="Tabs or spaces?")
        [call] = fake_llm.requests_for("tagger-test")
        assert call.body["stream"] is False and call.body["max_tokens"] == 64
        assert call.body["messages"][-1]["content"] == "Tabs or spaces?"
        assert (await Discussion.get()).category is Category.ADVICE
        assert (await VoteRound.get()).category is Category.ADVICE  # the vote moved with its discussion
        [spend] = await Spend.filter(model_alias="tagger")
        assert spend.discussion_id == (await Discussion.get()).id and spend.user_id is not None
        assert spend.cost_usd > 0 and spend.guild_id == harness.guild.id
        await harness.slash("open", question="Why does my Rust build fail?")  # the rules know: no call
        assert len(fake_llm.requests_for("tagger-test")) == 1
    finally:
        await harness.close()


async def test_a_failing_or_rambling_tagger_leaves_the_rules_category(database: str, fake_llm: FakeLLM) -> None:
    harness = await harness_with(fake_llm, category_model="tagger", min_votes=1)
    fake_llm.script("tagger-test", Script(status=500), Script(status=500), Script(status=500),
                    Script(text="It could be coding or advice."))
    try:
        await harness.slash("open", question="Tabs or spaces?")
        await harness.slash("open", question="Cats or dogs?")
        assert [d.category for d in await Discussion.all().order_by("id")] == [Category.OTHER, Category.OTHER]
        assert await VoteRound.all().count() == 2  # both runs finished and opened their votes
        assert await Spend.filter(model_alias="tagger").count() == 1  # the answer that came is billed
    finally:
        await harness.close()


async def test_the_tagging_call_is_in_the_budget_hold(database: str, fake_llm: FakeLLM) -> None:
    from bot.estimate import run_cost
    from bot.services.admission import Admission
    from bot.services.tagging import tagger_for, tagging_cost

    config = make_config(fake_llm, defaults__monthly_budget_usd=10.0, models__tagger=TAGGER,
                         arena__category_model="tagger", arena__votes=True,
                         models__gpt__input_price=1.0, models__gpt__output_price=2.0)
    tagger = tagger_for(config, *_open("Tabs or spaces?"))
    assert tagger is not None and tagger.max_tokens == 64
    ticket = await Admission(config).admit(1, 7, [config.models["gpt"]], 100, 1,
                                           [(tagger, tagging_cost(tagger, "Tabs or spaces?"))])
    assert ticket.holds[0].amount_usd == pytest.approx(run_cost([config.models["gpt"]], 100, 1)
                                                       + tagging_cost(tagger, "Tabs or spaces?"))
    await ticket.refund()
    assert tagger_for(config, *_open("Why does my Rust build fail?")) is None
    off = make_config(fake_llm, models__tagger=TAGGER, arena__category_model="tagger", arena__votes=False)
    assert tagger_for(off, *_open("Tabs or spaces?")) is None  # no votes, no boards: nothing to tag for


def _open(question: str) -> tuple[object, str, Category]:
    from bot.kinds import DiscussionMode

    return DiscussionMode.OPEN, question, category_of(question)


async def test_a_blind_round_without_a_vote_says_when_the_reveal_comes(database: str, fake_llm: FakeLLM) -> None:
    harness = await harness_with(fake_llm, min_votes=1)
    fake_llm.script("claude-test", Script(status=400, error_message="bad request"))
    try:
        await harness.slash("open", question="Best sorting algorithm?", models="gpt, claude", blind=True)
        assert await VoteRound.all().count() == 0  # one complete answer: no vote
        [thread] = harness.threads
        bob = back.make_member(back.make_user("bob", "0002"), harness.guild, nick="Bob")
        await harness.say("@gpt what about heapsort?", channel=thread, member=bob)
        said = [m.content or "" for m in harness.bot_messages(thread)][-1]
        assert "too few complete answers for a vote" in said and "next round starts (/continue)" in said
        board = await harness.bot.services.arena.board(harness.guild.id)
        assert board.rows == []  # its answer and its failure stay off the board until the reveal
    finally:
        await harness.close()


@pytest.mark.slow  # the real CLI in a subprocess
async def test_moai_leaderboard_prints_json_for_scripts(boards: DiscordHarness, database: str, fake_llm: FakeLLM,
                                                        tmp_path: Path) -> None:
    await boards.slash("open", question="Why does my Python script crash?", models="gpt, claude")
    await boards.slash("open", question="Write me a poem about rain", models="gpt, claude")
    await vote_on_every_round({1: ["claude", "gpt"], 2: ["claude", "gpt"], 3: ["claude", "tie"]})
    config = write_config(tmp_path / "c.toml", fake_llm, db_url=database)
    code, out, err = await moai("--config", str(config), "leaderboard", "--json", env={})
    assert code == 0, err
    data = json.loads(out)
    assert data["guild_id"] is None and data["votes"] == 6 and data["ties"] == 1 and data["style_control"]
    assert [m["alias"] for m in data["models"]] == ["claude", "gpt"]
    first = data["models"][0]
    assert first["rank"] == 1 and first["votes"] == 5 and first["low"] <= first["rating"] <= first["high"]
    code, out, err = await moai("--config", str(config), "leaderboard", "--json", "--category", "creative", "--raw",
                                "--guild", str(boards.guild.id), env={})
    assert code == 0, err
    creative = json.loads(out)
    assert creative["category"] == "creative" and not creative["style_control"] and creative["style"] == {}
    assert [m["alias"] for m in creative["models"]] == ["gpt", "claude"] and creative["votes"] == 3
    code, out, _ = await moai("--config", str(config), "leaderboard", env={})
    assert code == 0 and out.startswith("Leaderboard for all servers (every category, all): 6 vote(s)")


async def test_the_migration_files_earlier_votes_under_categories_with_their_styles(database: str) -> None:
    """Votes cast before this version: the upgrade places their discussions by the rules and reads their
    answers' styles from the stored answers, so the boards do not start empty."""
    from tortoise.context import require_context
    from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

    from bot.db.setup import TORTOISE_ORM

    connection = require_context().connections.get("default")
    executor = MigrationExecutor(connection, TORTOISE_ORM["apps"])
    await executor.migrate([MigrationTarget("moai", "0012_vote_forget_on_close")])
    postgres = connection.capabilities.dialect == "postgres"
    stamp = "now()" if postgres else "CURRENT_TIMESTAMP"
    await connection.execute_script(
        "INSERT INTO discussion (id, mode, status, question, models, rounds_planned, roles, rotate_roles, depth, "
        f"blind_names, revealed, created_at, updated_at) VALUES (1, 'open', 'completed', 'Why does my Python code "
        f"crash?', '[\"gpt\", \"claude\"]', 1, '{{}}', false, 'fixed', '{{}}', true, {stamp}, {stamp});"
        f"INSERT INTO round (id, discussion_id, number, kind, status, started_at) VALUES (1, 1, 1, 'open', "
        f"'completed', {stamp});"
        "INSERT INTO message (discussion_id, round_id, author_kind, author_name, model_alias, content, status, "
        f"discord_message_ids, reasoning, usage_estimated, created_at, updated_at) VALUES (1, 1, 'model', 'GPT', "
        f"'gpt', '# Fix\n\n- **one**\n- two', 'complete', '[]', '', false, {stamp}, {stamp}), (1, 1, 'model', "
        f"'Claude', 'claude', 'Short.', 'complete', '[]', '', false, {stamp}, {stamp});"
        "INSERT INTO vote_round (round_id, discussion_id, blind, answered, labels, voided, closes_at, created_at) "
        f"VALUES (1, 1, false, '[\"claude\", \"gpt\"]', '[\"Claude\", \"GPT\"]', '', {stamp}, {stamp});")
    await executor.migrate(None)
    assert (await Discussion.get(id=1)).category is Category.CODING
    row = await VoteRound.get()
    assert row.category is Category.CODING
    assert row.styles == [[6, 0, 0, 0], [len("# Fix\n\n- **one**\n- two"), 1, 2, 1]]
