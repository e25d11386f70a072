"""Debates that keep their dissent: stances, early stop by stances, roles, depth:auto, structured consensus,
and the buttons under each round — through the Discord harness, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import discord
import pytest
from discord.ext.test import backend as back

from bot.db.models import ConsensusReport, Discussion, DiscussionStatus, Message, Round, StanceRecord
from bot.kinds import MinoritySource
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM, Script
from tests.helpers import system_of


def said(text: str, position: str, confidence: int, changed: str = "no") -> Script:
    return Script(text=f"{text}\n\nSTANCE: {position}\nCONFIDENCE: {confidence}\nCHANGED: {changed}",
                  chunk_chars=12)


def status_lines(harness: DiscordHarness, thread: discord.Thread) -> list[discord.Message]:
    return [m for m in harness.bot_messages(thread) if (m.content or "").startswith("-# Round")]


def thread_text(harness: DiscordHarness, thread: discord.Thread) -> str:
    return "\n".join(m.content or "" for m in harness.bot_messages(thread))


async def test_stances_are_parsed_stored_shown_compactly_and_charted(harness: DiscordHarness,
                                                                     fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", said("Rust, for safety.", "Use Rust", 80),
                    said("Still Rust.", "Use Rust", 85))
    fake_llm.script("claude-test", said("Go is simpler.", "Use Go", 70),
                    said("Fine, Go it is... no wait, Rust.", "Use Rust", 60, "yes, I agree with the others"))
    fake_llm.script("llama-test", Script(text="I ignore formats."))
    await harness.slash("discuss", topic="Rust or Go?", rounds=2)
    [thread] = harness.threads
    answers = [m for m in harness.webhook_messages(thread.id)]
    gpt_first = next(m for m in answers if m.username == "GPT")
    assert gpt_first.content == "Rust, for safety.\n\n-# 🧭 Use Rust · 80% sure"
    assert all("STANCE:" not in (v or "") for m in answers for v in m.history)  # never shown, even mid-stream
    llama = next(m for m in answers if m.username == "Llama")
    assert llama.content == "I ignore formats.\n\n-# 🧭 stance: unknown (no stance given)"

    rows = await StanceRecord.all().order_by("round_number", "id")
    assert [(r.model_alias, r.round_number, r.position, r.confidence) for r in rows] == [
        ("gpt", 1, "Use Rust", 80), ("claude", 1, "Use Go", 70), ("llama", 1, None, None),
        ("gpt", 2, "Use Rust", 85), ("claude", 2, "Use Rust", 60), ("llama", 2, None, None)]
    stored = await Message.get(id=rows[0].message_id)  # type: ignore[attr-defined]
    assert "STANCE: Use Rust" in stored.content  # the models themselves read each other's stances

    text = thread_text(harness, thread)
    assert "**Stance timeline**" in text and "**Claude**: R1 B 70% → R2 A 60% ⚠️" in text
    assert "changed position without citing a new argument: Claude (round 2)" in text
    [(channel, name, png)] = harness.channel_files
    assert channel == thread.id and name == "stance-timeline.png" and png.startswith(b"\x89PNG")

    export = await harness.slash("export", channel=thread, format="json")
    exported = json.loads(next(iter(export.followups[0].files.values())))
    debate = [m for s in exported["sections"] for m in s["messages"] if m["stance"]]
    assert debate[0]["stance"] == {"position": "Use Rust", "confidence": 80, "changed": False, "reason": "",
                                   "role": ""}


async def test_the_debate_stops_when_stances_settle(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    for model in ("gpt-test", "claude-test", "llama-test"):
        fake_llm.script(model, said("Go.", "Use Go", 90))
    await harness.slash("discuss", topic="Rust or Go?", rounds=4)
    assert await Round.all().count() == 2  # round 1 sets the stances, round 2 holds them: stop
    [thread] = harness.threads
    assert "Every model held the same agreeing stance in round 2: stopping early (2 round(s) left unused)." in \
        thread_text(harness, thread)


async def test_unsure_agreement_does_not_stop_the_debate(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    for model in ("gpt-test", "claude-test", "llama-test"):
        fake_llm.script(model, said("Go, maybe.", "Use Go", 40))
    await harness.slash("discuss", topic="Rust or Go?", rounds=3)
    assert await Round.all().count() == 3


async def test_roles_are_shown_prompted_stored_and_rotate(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("discuss", topic="Tabs or spaces?", rounds=2, models="gpt, claude",
                        roles="claude=devil's advocate", rotate_roles=True)
    [thread] = harness.threads
    names = [m.username for m in sorted(harness.webhook_messages(thread.id), key=lambda m: m.id)]
    assert names == ["GPT", "Claude (devil's advocate)", "GPT (devil's advocate)", "Claude"]
    first_claude = fake_llm.requests_for("claude-test")[0].body
    assert "Your role in this debate is devil's advocate" in system_of(first_claude)
    assert "You are Panelist B (devil's advocate)" in system_of(first_claude)  # anonymous, its role kept
    assert "devil's advocate" not in system_of(fake_llm.requests_for("gpt-test")[0].body).split("Participants")[0]
    discussion = await Discussion.get()
    assert discussion.roles == {"claude": "devil's advocate"} and discussion.rotate_roles
    assert [r.role for r in await StanceRecord.all().order_by("id")] == ["", "devil's advocate",
                                                                         "devil's advocate", ""]
    assert "(Claude as devil's advocate, rotating each round)" in harness.bot_messages(thread)[0].content


async def test_a_project_carries_roles_and_depth(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    admin = discord.Permissions(manage_guild=True)
    await harness.slash("project create", permissions=admin, name="Arch", models="gpt, claude",
                        roles="gpt=skeptic", depth="auto")
    info = await harness.slash("project info", name="Arch")
    assert "Roles: gpt as skeptic" in info.ephemeral_texts[0] and "Depth: auto" in info.ephemeral_texts[0]
    for model in ("gpt-test", "claude-test"):
        fake_llm.script(model, said("Go.", "Use Go", 90))
    await harness.slash("discuss", topic="Rust or Go?", rounds=3, project="Arch")
    discussion = await Discussion.get()
    assert discussion.roles == {"gpt": "skeptic"} and discussion.depth == "auto"
    assert await Round.all().count() == 1  # depth auto: an agreeing panel costs one round
    assert "GPT (skeptic)" in {m.username for m in harness.adapter.messages.values()}
    await harness.slash("project edit", permissions=admin, name="Arch", roles="-", depth="fixed")
    info = await harness.slash("project info", name="Arch")
    assert "Roles" not in info.ephemeral_texts[0] and "Depth" not in info.ephemeral_texts[0]


async def test_a_bad_role_is_refused_before_anything_is_made(harness: DiscordHarness) -> None:
    call = await harness.slash("discuss", topic="x", roles="claude=jester")
    assert call.ephemeral_texts[0].startswith("Unknown role `jester`. Roles: devil's advocate, skeptic, domain expert")
    call = await harness.slash("discuss", topic="x", models="gpt, claude", roles="llama=skeptic")
    assert call.ephemeral_texts[0] == "`llama` is not on this discussion's panel (gpt, claude)."
    assert harness.threads == [] and await Discussion.all().count() == 0


@pytest.fixture
async def priced(database: str, fake_llm: FakeLLM) -> AsyncIterator[DiscordHarness]:
    config = make_config(fake_llm, models__gpt__input_price=1.0, models__gpt__output_price=2.0,
                         models__claude__input_price=3.0, models__claude__output_price=15.0,
                         models__llama__input_price=0.5, models__llama__output_price=0.5)
    harness = await make_harness(config, TEST_ENV)
    yield harness
    await harness.close()


async def test_depth_auto_stops_after_an_agreeing_round_and_says_what_it_saved(priced: DiscordHarness,
                                                                                fake_llm: FakeLLM) -> None:
    for model in ("gpt-test", "claude-test", "llama-test"):
        fake_llm.script(model, said("Go.", "Use Go", 90))
    await priced.slash("discuss", topic="Rust or Go?", rounds=3, depth="auto")
    assert await Round.all().count() == 1
    [thread] = priced.threads
    text = thread_text(priced, thread)
    assert "depth:auto — every model agrees, confidently after round 1: stopping here, 2 round(s) skipped (up to $" \
        in text
    assert (await Discussion.get()).depth == "auto"


async def test_depth_auto_goes_on_when_round_one_disagrees(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", said("Rust.", "Use Rust", 90))
    fake_llm.script("claude-test", said("Go.", "Use Go", 90))
    await harness.slash("discuss", topic="Rust or Go?", rounds=2, models="gpt, claude", depth="auto")
    assert await Round.all().count() == 2
    [thread] = harness.threads
    assert "depth:auto — the stances disagree after round 1, so the debate goes on." in thread_text(harness, thread)


async def test_structured_consensus_keeps_the_minority(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", said("Go.", "Use Go", 80))
    fake_llm.script("claude-test", said("Go.", "Use Go", 70))
    fake_llm.script("llama-test", said("Rust!", "Use Rust", 95))
    await harness.slash("discuss", topic="Rust or Go?", rounds=1)
    [thread] = harness.threads
    # "None" in the words moderators really use: each erases a dissent the stances still show.
    nones = ("None.", "None — everyone converged on Go.", "- None", "No one dissented.", "**N/A**",
             "There was no real minority; all participants agreed.")
    fake_llm.script("gpt-test", *(Script(text="## Agreement\nBoth compile.\n## Disagreements\nGo vs Rust.\n"
                                              "## Unique insights\nLlama: memory safety.\n## Blind spots\nHiring.\n"
                                              f"## Minority report\n{none}\n## Final answer\nUse Go.")
                                  for none in nones))
    for _ in nones:
        await harness.slash("consensus", channel=thread)
    reports = await ConsensusReport.all().order_by("id")
    assert len(reports) == len(nones)
    for report in reports:
        assert report.minority_report == "Llama: Use Rust (95%)"  # the moderator dropped it; the stances did not
        assert report.minority_source is MinoritySource.STANCES
    report = reports[0]
    assert (report.agreement, report.final_answer, report.blind_spots) == ("Both compile.", "Use Go.", "Hiring.")
    assert report.stances == {"GPT": "Use Go (80%)", "Claude": "Use Go (70%)", "Llama": "Use Rust (95%)"}
    moderator_prompt = system_of(fake_llm.requests_for("gpt-test")[-1].body)
    assert "**Minority report**" in moderator_prompt and "- Llama: Use Rust (95%)" in moderator_prompt
    text = thread_text(harness, thread)
    assert "🗳️ **Minority report** (moai's, from the stances: the moderator wrote none): Llama: Use Rust (95%)" in text
    export = await harness.slash("export", channel=thread, format="md")
    markdown = next(iter(export.followups[0].files.values())).decode()
    assert "### Minority report (moai's, from the stances: the moderator wrote none)\n\nLlama: Use Rust (95%)" \
        in markdown and "### Final answer\n\nUse Go." in markdown
    data = json.loads(next(iter((await harness.slash("export", channel=thread, format="json")).followups[0]
                                .files.values())))
    assert {r["minority_source"] for r in data["consensus_reports"]} == {"stances"}


async def test_round_buttons_do_what_their_commands_do(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("discuss", topic="Buttons?", rounds=1, models="gpt, claude")
    [thread] = harness.threads
    [summary] = status_lines(harness, thread)
    buttons = {b.label: b.custom_id for b in summary.components[-1].children}  # type: ignore[union-attr]
    assert list(buttons) == ["One more round", "Consensus", "Stop", "Export"]

    bob = back.make_member(back.make_user("bob", "0002"), harness.guild, nick="Bob")
    refused = await harness.click(summary, buttons["One more round"], member=bob)
    assert refused.ephemeral_texts == ["Only the member who started this discussion, or someone with Manage Threads, "
                                       "can continue it."]
    assert (await Discussion.get()).status is DiscussionStatus.COMPLETED  # no claim left behind
    nothing = await harness.click(summary, buttons["Stop"])
    assert nothing.ephemeral_texts[0].startswith("Nothing is running in this channel.")

    await harness.click(summary, buttons["One more round"])
    assert await Round.filter(kind="discuss").count() == 2
    exported = await harness.click(summary, buttons["Export"])
    assert exported.followups[0].files and exported.followups[0].content == "📄 Transcript (md)"
    await harness.click(summary, buttons["Consensus"])
    assert await Round.filter(kind="consensus").count() == 1


async def test_opposite_positions_keep_the_debate_going(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    """'Use Rust' and 'Don’t use Rust' (a typographic apostrophe), 'Rust, not Go' and 'Go, not Rust': opposite
    positions, so depth:auto debates on and no round stops early."""
    fake_llm.script("gpt-test", said("Rust.", "Use Rust", 90))
    fake_llm.script("claude-test", said("No Rust.", "Don’t use Rust", 90))
    await harness.slash("discuss", topic="Rust?", rounds=2, models="gpt, claude", depth="auto")
    assert await Round.all().count() == 2
    fake_llm.script("gpt-test", said("Rust.", "Use Rust, not Go", 90))
    fake_llm.script("claude-test", said("Go.", "Use Go, not Rust", 90))
    await harness.slash("discuss", topic="Rust or Go?", rounds=3, models="gpt, claude")
    second = await Discussion.filter(question="Rust or Go?").get()
    assert await Round.filter(discussion=second).count() == 3  # never "every model agrees": they do not
    assert "stopping early" not in thread_text(harness, harness.threads[1])


async def test_conformity_is_flagged_only_where_a_position_moved(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", said("Rust.", "Use Rust", 80),
                    said("Go then.", "Use Go", 60, "yes, I was persuaded by the consensus of the other participants"))
    fake_llm.script("claude-test", said("Go.", "Use Go", 80),
                    said("Go, more so.", "Use Go for its goroutines", 85, "yes, I agree"))
    fake_llm.script("llama-test", said("Go.", "Use Go", 70),
                    said("Go.", "Use Go", 70))
    await harness.slash("discuss", topic="Rust or Go?", rounds=2)
    text = thread_text(harness, harness.threads[0])
    assert "changed position without citing a new argument: GPT (round 2)" in text
    assert "Claude (round 2)" not in text  # it wrote CHANGED: yes, but still holds Go


async def test_the_models_debate_without_names_while_people_see_them(harness: DiscordHarness,
                                                                      fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", said("Go.", "Use Go", 80), said("Still Go.", "Use Go", 80))
    fake_llm.script("claude-test", said("Rust, and GPT is wrong about that.", "Use Rust", 70),
                    said("Rust.", "Use Rust", 70))
    await harness.slash("discuss", topic="Should we use Rust, Claude?", rounds=2, models="gpt, claude")
    [thread] = harness.threads
    second = fake_llm.requests_for("gpt-test")[1].body["messages"]
    seen = "\n".join(str(m["content"]) for m in second)
    assert "[Panelist B]: Rust, and Panelist A is wrong about that." in seen  # names in answers masked too
    assert "[Alice]: Should we use Rust, Claude?" in seen  # people's words are theirs
    assert "Claude" not in seen.replace("Should we use Rust, Claude?", "")
    names = {m.username for m in harness.webhook_messages(thread.id)}
    assert names == {"GPT", "Claude"}  # people still see who is who
    text = thread_text(harness, thread)
    assert "-# 🎭 The models read each other without names (so no name sways them): Panelist A is **GPT**, " \
           "Panelist B is **Claude**." in text
    assert "⚖️ Round 1 majority: no majority; after the debate: no majority" in text


async def test_the_round_one_majority_is_shown_beside_the_outcome(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", said("Go.", "Use Go", 80), said("Go.", "Use Go", 80))
    fake_llm.script("claude-test", said("Go.", "Use Go", 70), said("Rust now.", "Use Rust", 70,
                                                                   "yes, the borrow checker removes data races"))
    fake_llm.script("llama-test", said("Rust.", "Use Rust", 90), said("Rust.", "Use Rust", 90))
    await harness.slash("discuss", topic="Rust or Go?", rounds=2)
    text = thread_text(harness, harness.threads[0])
    assert "⚖️ Round 1 majority: A (Use Go); after the debate: B (Use Rust) — the debate moved it" in text


async def test_debates_can_show_the_models_each_others_names(database: str, fake_llm: FakeLLM) -> None:
    config = make_config(fake_llm, debate__anonymous=False)
    named = await make_harness(config, TEST_ENV)
    try:
        await named.slash("discuss", topic="Tabs?", rounds=2, models="gpt, claude")
        seen = "\n".join(str(m["content"]) for m in fake_llm.requests_for("gpt-test")[1].body["messages"])
        assert "[Claude]:" in seen and "Panelist" not in seen
        assert "read each other without names" not in thread_text(named, named.threads[0])
    finally:
        await named.close()


async def test_the_moderator_reads_the_weighted_positions(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", said("Rust.", "Use Rust", 90),
                    said("Go.", "Use Go", 90, "yes, I was persuaded by the others"))
    fake_llm.script("claude-test", said("Go.", "Use Go", 60), said("Go.", "Use Go", 60))
    fake_llm.script("llama-test", said("Go.", "Use Go", 50), said("Go.", "Use Go", 50))
    await harness.slash("discuss", topic="Rust or Go?", rounds=2)
    [thread] = harness.threads
    assert "-# Weighted by confidence, conformity discounted: B 1.32 · A 0.68" in thread_text(harness, thread)
    fake_llm.script("gpt-test", Script(text="## Agreement\nGo.\n## Minority report\nNone.\n## Final answer\nGo."))
    await harness.slash("consensus", channel=thread)
    prompt = system_of(fake_llm.requests_for("gpt-test")[-1].body)
    assert "Positions weighted by confidence over the whole debate" in prompt
    assert "- Use Go: 1.32" in prompt and "- Use Rust: 0.68" in prompt


JUDGE = {"provider": "fakeopenai", "model": "judge-test", "display_name": "Judge", "input_price": 1.0,
         "output_price": 2.0}


def test_judge_replies_become_groups_only_when_complete() -> None:
    from bot.positions import unsure
    from bot.services.judge import parse_groups

    assert parse_groups("1,3 | 2", 3) == [0, 1, 0]
    assert parse_groups("Groups: 2 | 1, 3", 3) == [0, 1, 0]  # numbered by first position
    assert parse_groups("1,2,3", 3) == [0, 0, 0]
    assert parse_groups("1 | 2", 3) is None and parse_groups("1,1 | 2,3", 3) is None and parse_groups("4", 3) is None
    assert unsure(["Use Postgres", "PostgreSQL is the right database"], 0.5)  # apart, but not opposed
    assert not unsure(["Use Rust, not Go", "Use Go, not Rust"], 0.5)  # opposed: the rules are sure
    assert not unsure(["Use Go", "Use Go for its goroutines"], 0.5)  # together


async def test_the_position_judge_groups_what_the_rules_cannot_and_is_billed(database: str,
                                                                             fake_llm: FakeLLM) -> None:
    from bot.db.models import Spend

    config = make_config(fake_llm, models__judge=JUDGE, debate__position_judge="judge")
    judged = await make_harness(config, TEST_ENV)
    try:
        fake_llm.script("gpt-test", said("Postgres.", "Use Postgres", 90))
        fake_llm.script("claude-test", said("PostgreSQL.", "PostgreSQL is the right database", 90))
        fake_llm.script("judge-test", Script(text="1,2"))
        await judged.slash("discuss", topic="Which database?", rounds=3, models="gpt, claude", depth="auto")
        assert await Round.all().count() == 1  # the judge read one position: depth:auto stops after round 1
        [call] = fake_llm.requests_for("judge-test")
        assert call.body["stream"] is False and call.body["max_tokens"] == 64
        assert "1. Use Postgres\n2. PostgreSQL is the right database" in call.body["messages"][-1]["content"]
        [spend] = await Spend.filter(model_alias="judge")
        assert spend.cost_usd > 0 and spend.discussion_id == (await Discussion.get()).id
        fake_llm.script("judge-test", Script(status=500), Script(status=500), Script(status=500))
        await judged.slash("discuss", topic="Which database, again?", rounds=2, models="gpt, claude", depth="auto")
        second = await Discussion.filter(question="Which database, again?").get()
        assert await Round.filter(discussion=second).count() == 2  # a failing judge: the rules decide
    finally:
        await judged.close()


async def test_without_a_judge_nothing_is_asked(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", said("Postgres.", "Use Postgres", 90))
    fake_llm.script("claude-test", said("PostgreSQL.", "PostgreSQL is the right database", 90))
    await harness.slash("discuss", topic="Which database?", rounds=2, models="gpt, claude", depth="auto")
    assert await Round.all().count() == 2 and fake_llm.requests_for("judge-test") == []


async def test_each_debate_round_holds_the_judges_worst_case(database: str, fake_llm: FakeLLM) -> None:
    from bot.db.models import BudgetHold
    from bot.estimate import run_cost
    from bot.services.judge import judge_cost, judge_for

    config = make_config(fake_llm, models__judge=JUDGE, debate__position_judge="judge",
                         defaults__monthly_budget_usd=100.0, models__gpt__input_price=1.0,
                         models__gpt__output_price=2.0, models__claude__input_price=1.0,
                         models__claude__output_price=2.0)
    judged = await make_harness(config, TEST_ENV)
    held: list[float] = []
    real_create = BudgetHold.create

    async def spy(**values: object) -> BudgetHold:
        held.append(float(values["amount_usd"]))  # type: ignore[arg-type]
        return await real_create(**values)

    try:
        BudgetHold.create = spy  # type: ignore[method-assign]
        await judged.slash("discuss", topic="Which database?", rounds=3, models="gpt, claude")
    finally:
        BudgetHold.create = real_create  # type: ignore[method-assign]
        await judged.close()
    judge = judge_for(config)
    assert judge is not None
    panel = [config.models["gpt"], config.models["claude"]]
    [amount] = held
    assert amount == pytest.approx(run_cost(panel, len("Which database?"), 3) + 3 * judge_cost(judge, 2))


async def test_real_stance_formats_are_read_and_hidden_in_a_debate(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="Go is simpler.\n\n## Stance\nUse Go\n## Confidence\n8/10\n## Changed\nno"))
    fake_llm.script("claude-test", Script(text="Rust 更安全。\n\n立场：使用 Rust\n置信度：75 %\n是否改变：否"))
    await harness.slash("discuss", topic="Rust or Go?", rounds=1, models="gpt, claude")
    stored = {r.model_alias: (r.position, r.confidence, r.changed) for r in await StanceRecord.all()}
    assert stored == {"gpt": ("Use Go", 80, False), "claude": ("使用 Rust", 75, False)}
    shown = [m.content or "" for m in harness.webhook_messages(harness.threads[0].id)]
    assert not any("## Confidence" in text or "置信度" in text for text in shown)  # the blocks are not shown raw
    assert any(text.startswith("Go is simpler.") for text in shown)
