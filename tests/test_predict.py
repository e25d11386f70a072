"""Forecasts against the truth (issue 28): /predict in a thread, final forecasts read from the answers, members'
forecasts through the modal, the reminder exactly once, /resolve by the right people, scores and the board."""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest
from discord.ext.test import backend as back
from tortoise.timezone import now

from bot.db.models import Discussion, ForecastRecord, Prediction
from bot.forecasting.parse import Forecast
from bot.kinds import AuthorKind
from bot.services.forecasts import ForecastService
from tests.discord_harness import DiscordHarness
from tests.fake_llm import FakeLLM, Script

ADMIN = discord.Permissions(manage_guild=True)


async def open_question(service: ForecastService) -> Prediction:
    """A yes/no question in guild 42 that resolves in two days, forecasts open for one."""
    from bot.db.models import Guild

    guild = await Guild.create(discord_id=42, name="g")
    discussion = await Discussion.create(guild=guild, mode="predict", question="q")
    return await service.create(discussion, ["Yes", "No"], now() + timedelta(days=2), now() + timedelta(days=1), 42)


async def run_the_reminder_loop(harness: DiscordHarness, times: int) -> None:
    """The Predict cog's 30-second loop, run now (as often as a slow minute would)."""
    cog = harness.bot.get_cog("Predict")
    assert cog is not None
    for _ in range(times):
        await cog.remind_due.coro(cog)  # type: ignore[attr-defined]


def forecast_text(yes: int) -> str:
    return f"Base rates say so.\n\n**Forecast**\n- Yes: {yes}%\n- No: {100 - yes}%"


async def test_a_question_is_forecast_resolved_and_scored(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text=forecast_text(70)))
    fake_llm.script("claude-test", Script(text="Forecast:\nYes: 80%\nNo: 40%"))  # 120%: scaled and said
    fake_llm.script("llama-test", Script(text="I cannot say."))
    await harness.slash("predict", question="Will Python 3.15 ship by October 2026?", resolves="3d",
                        models="gpt,claude,llama")
    [thread] = harness.threads
    assert harness.errors == []
    prediction = await Prediction.get()
    assert prediction.outcomes == ["Yes", "No"] and prediction.resolves_at is not None
    assert prediction.closes_at == prediction.resolves_at - timedelta(hours=1)
    prompt = fake_llm.requests_for("gpt-test")[0].body["messages"][0]["content"]
    assert "**Forecast**\n- Yes: NN%\n- No: NN%" in prompt and "final round" in prompt
    finals = {f.model_alias: f for f in await ForecastRecord.filter(final=True)}
    assert finals["gpt"].probabilities == {"Yes": 0.7, "No": 0.3} and not finals["gpt"].normalised
    assert finals["claude"].normalised and finals["claude"].probabilities["Yes"] == pytest.approx(2 / 3)
    assert "llama" not in finals
    [shown] = [m for m in harness.bot_messages(thread) if (m.content or "").startswith("🔮 **Final forecasts**")]
    assert "• GPT: Yes 70% · No 30%" in shown.content and "(did not add up to 100%: scaled)" in shown.content
    assert "• Llama: no forecast given" in shown.content
    [button] = shown.components[0].children  # type: ignore[union-attr]
    assert button.label == "Add your forecast"

    await harness.click(shown, button.custom_id, wait=False)  # type: ignore[arg-type]
    modal = harness.shown_modal()
    entry = modal["components"][0]["components"][0]
    assert entry["value"] == "Yes: 50\nNo: 50"
    said = await harness.submit_modal(modal, {entry["custom_id"]: "Yes: 90\nNo: 10"}, channel=thread)
    assert said.ephemeral_texts == ["🔮 Your forecast: Yes 90% · No 10%. You can change it until forecasts close."]
    await harness.click(shown, button.custom_id, wait=False)  # type: ignore[arg-type]
    modal = harness.shown_modal()
    entry = modal["components"][0]["components"][0]
    await harness.submit_modal(modal, {entry["custom_id"]: "Yes: 60"}, channel=thread)  # changed, one each
    [mine] = await ForecastRecord.filter(author_kind=AuthorKind.USER)
    assert mine.probabilities == pytest.approx({"Yes": 0.6, "No": 0.4}) and mine.user_id == harness.member.id

    bob = back.make_member(back.make_user("bob", "0002"), harness.guild, nick="Bob")
    refused = await harness.slash("resolve", channel=thread, by=bob, outcome="Yes")
    assert refused.ephemeral_texts == ["Only the member who asked, or someone with Manage Server, can resolve this."]
    wrong = await harness.slash("resolve", channel=thread, outcome="Maybe")
    assert wrong.ephemeral_texts == ["`Maybe` is not one of this question's outcomes: Yes, No (or void)."]
    resolved = await harness.slash("resolve", channel=thread, outcome="yes")
    [text] = resolved.texts
    assert text.startswith("🔮 **Resolved: Yes**")
    assert "• GPT: Yes 70% · No 30% → Brier 0.090, log -0.36" in text
    assert f"• {harness.member.display_name}: Yes 60% · No 40% → Brier 0.160" in text
    again = await harness.slash("resolve", channel=thread, outcome="No")
    assert again.ephemeral_texts == ["This question is already resolved."]
    late = await harness.click(shown, button.custom_id, wait=False)  # type: ignore[arg-type]
    assert late.ephemeral_texts == ["That question is resolved: forecasts are closed."]
    late_modal = await harness.submit_modal(modal, {entry["custom_id"]: "Yes: 99"}, channel=thread)
    assert late_modal.ephemeral_texts == []  # a modal left open from before is one-shot: already used

    import json

    exported = await harness.slash("export", channel=thread, format="json")
    [data] = [json.loads(f) for f in exported.followups[0].files.values()]
    [question] = data["predictions"]
    assert question["outcome"] == "Yes" and question["resolved_at"]
    gpt = next(f for f in question["forecasts"] if f["model"] == "gpt")
    assert gpt["brier"] == pytest.approx(0.09) and gpt["probabilities"] == {"Yes": 0.7, "No": 0.3}
    assert all("user_id" not in f for f in question["forecasts"])
    markdown = await harness.slash("export", channel=thread, format="md")
    text = next(iter(markdown.followups[0].files.values())).decode()
    assert "## Forecasts" in text and "- GPT (round 1): Yes 70% · No 30% → Brier 0.090, log -0.36" in text

    stats = await harness.slash("modelstats", model="gpt")
    assert "Forecasts: 1 resolved · Brier 0.090 (95% CI 0.090–0.090) · log -0.36" in stats.followups[0].content
    assert list(stats.followups[0].files) == ["calibration.png"]

    board = await harness.slash("leaderboard", metric="accuracy")
    shown_board = "\n".join(board.texts)
    assert "– GPT · unranked, 1 of 5 resolved" in shown_board and "All members" in shown_board


@pytest.mark.parametrize(("options", "refusal"), [
    ({"resolves": "2020-01-01"}, "The resolution time must be in the future (2020-01-01 23:59 UTC has passed)."),
    ({"resolves": "soon"}, "`soon` is neither a date (2027-01-31, 2027-01-31 18:00 UTC) nor a duration (3d, 2w, "
                           "12h)."),
    ({"resolves": "30m"}, "Members' forecasts close 1 h before the resolution time ([predict] close_before_hours): "
                          "resolve later than that."),
    ({"resolves": "3d", "outcomes": "a,b,c,d,e,f,g"}, "At most 6 outcomes (7 given)."),
    ({"resolves": "3d", "rounds": 5}, "A forecast takes at most 3 round(s) ([predict] max_rounds)."),
])
async def test_bad_questions_are_refused_with_nothing_made(harness: DiscordHarness, options: dict[str, object],
                                                           refusal: str) -> None:
    call = await harness.slash("predict", question="Will it rain?", **options)
    assert call.ephemeral_texts == [refusal]
    assert not harness.threads and await Discussion.all().count() == 0 and await Prediction.all().count() == 0


async def test_several_outcomes_and_rounds(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="Rust: 50%\nGo: 30%\nZig: 20%"), Script(text="Rust: 60%\nGo: 40%"))
    await harness.slash("predict", question="Which language wins the rewrite?", resolves="2w", models="gpt",
                        outcomes="Rust, Go, Zig", rounds=2)
    rows = await ForecastRecord.filter(model_alias="gpt").order_by("round_number")
    assert [(r.round_number, r.final) for r in rows] == [(1, False), (2, True)]
    assert rows[1].probabilities == pytest.approx({"Rust": 0.6, "Go": 0.4, "Zig": 0.0})
    [thread] = harness.threads
    void = await harness.slash("resolve", channel=thread, outcome="void")
    assert void.texts == ["🔮 **Resolved: void**\n• The question is void: no forecast is scored."]


async def test_a_debate_resolved_scores_each_final_stance(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="Go.\n\nPosition: Use Go\nConfidence: 80%\nChanged: no"))
    fake_llm.script("claude-test", Script(text="Rust.\n\nPosition: Use Rust\nConfidence: 70%\nChanged: no"))
    await harness.slash("discuss", topic="Go or Rust?", rounds=1, models="gpt,claude")
    [thread] = harness.threads
    resolved = await harness.slash("resolve", channel=thread, outcome="Use Go")
    [text] = resolved.texts
    assert "• GPT: right 80% · wrong 20% → Brier 0.040" in text and "• Claude: right 30% · wrong 70% → Brier 0.490" \
        in text


async def test_the_reminder_is_claimed_once_whatever_the_processes(database: str) -> None:
    from bot.db.models import Guild

    guild = await Guild.create(discord_id=42, name="g")
    discussion = await Discussion.create(guild=guild, mode="predict", question="q")
    service = ForecastService()
    due = await Prediction.create(discussion=discussion, guild_id=42, outcomes=["Yes", "No"],
                                  resolves_at=now() - timedelta(seconds=1), closes_at=now() - timedelta(hours=1))
    await Prediction.create(discussion=discussion, guild_id=42, outcomes=["Yes", "No"],
                            resolves_at=now() + timedelta(days=1), closes_at=now())
    import asyncio

    claims = await asyncio.gather(*(service.claim_due_reminders([42]) for _ in range(8)))
    assert sorted(len(c) for c in claims) == [0] * 7 + [1]  # exactly one claim among eight racers
    assert await service.claim_due_reminders([42]) == []  # held: nobody else posts it meanwhile
    await Prediction.filter(id=due.id).update(reminder_until=now() - timedelta(seconds=1))  # its process died
    [again] = await service.claim_due_reminders([42])
    await service.mark_reminded(again)
    await Prediction.filter(id=due.id).update(reminder_until=now() - timedelta(seconds=1))
    assert await service.claim_due_reminders([42]) == []  # posted: never again
    assert await service.claim_due_reminders([7]) == []  # another process's servers


async def test_forgetting_a_member_keeps_their_forecast_in_the_crowd(database: str) -> None:
    service = ForecastService()
    prediction = await open_question(service)
    await service.record_member(prediction.id, 7, "Ann", Forecast({"Yes": 0.9, "No": 0.1}, False))
    await service.resolve(prediction, "Yes", 1)
    assert [line.name for line in await service.accuracy(42, {})] == ["Ann", "All members"]
    await service.forget_member(7)
    [crowd] = await service.accuracy(42, {})
    assert crowd.name == "All members" and crowd.summary is not None and crowd.summary.count == 1
    assert await ForecastRecord.filter(user_id=7).count() == 0


async def test_the_thread_is_reminded_once_when_the_question_is_due(harness: DiscordHarness,
                                                                   fake_llm: FakeLLM) -> None:
    await harness.slash("predict", question="Will it snow?", resolves="2d", models="claude", search=True)
    assert fake_llm.requests_for("claude-test")[0].body["tools"][0]["name"] == "web_search"  # grounded forecasts
    [thread] = harness.threads
    await Prediction.all().update(resolves_at=now() - timedelta(seconds=1))
    await run_the_reminder_loop(harness, times=3)
    reminders = [m for m in harness.bot_messages(thread) if (m.content or "").startswith("⏰")]
    assert len(reminders) == 1 and "/resolve" in reminders[0].content


async def test_an_interrupted_forecast_resumes_to_its_final_round(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    from bot.db.models import Round
    from bot.kinds import DiscussionStatus, RoundStatus

    fake_llm.script("gpt-test", Script(text=forecast_text(40)), Script(text=forecast_text(55)))
    await harness.slash("predict", question="Will it snow?", resolves="2d", models="gpt", rounds=2)
    [thread] = harness.threads
    last = await Round.filter(number=2).first()
    assert last is not None
    await Round.filter(id=last.id).delete()  # as if the process died during round 2
    await ForecastRecord.filter(final=True).delete()
    await Discussion.all().update(status=DiscussionStatus.INTERRUPTED)
    more = await harness.slash("continue", channel=thread, rounds=1)
    assert more.ephemeral_texts[0].startswith("A forecast's rounds are set when it is asked")
    await harness.slash("continue", channel=thread)
    rounds = await Round.filter(status=RoundStatus.COMPLETED).order_by("number").values_list("number", flat=True)
    assert list(rounds) == [1, 2]
    [final] = await ForecastRecord.filter(final=True)
    assert final.round_number == 2 and final.probabilities == {"Yes": 0.55, "No": 0.45}
    done = await harness.slash("continue", channel=thread)
    assert done.ephemeral_texts[0].startswith("A forecast's rounds are set when it is asked")


async def test_a_member_racing_their_own_forecast_keeps_one(database: str) -> None:
    import asyncio

    service = ForecastService()
    prediction = await open_question(service)
    await asyncio.gather(*(service.record_member(prediction.id, 7, "Ann", Forecast({"Yes": p / 10, "No": 1 - p / 10},
                                                                                   False)) for p in range(10)))
    assert await ForecastRecord.filter(user_id=7).count() == 1


async def test_a_blind_forecast_stays_blind_until_forecasts_close(database: str, fake_llm: FakeLLM) -> None:
    import json

    from bot.db.models import VoteRound
    from tests.conftest import TEST_ENV, make_config
    from tests.discord_harness import make_harness

    harness = await make_harness(make_config(fake_llm, arena__votes=True, discord__message_content_intent=True),
                                 TEST_ENV)
    try:
        fake_llm.script("gpt-test", Script(text="As GPT I say " + forecast_text(70)))
        fake_llm.script("claude-test", Script(text=forecast_text(20)))
        await harness.slash("predict", question="Will it snow?", resolves="2d", models="gpt,claude", blind=True)
        [thread] = harness.threads
        shown = "\n".join(m.content or "" for m in harness.bot_messages(thread))
        assert "2 models, blind until forecasts close" in shown and "Claude" not in shown
        [final] = [m for m in harness.bot_messages(thread) if (m.content or "").startswith("🔮 **Final")]
        assert "Model A" in final.content and "Model B" in final.content
        assert await VoteRound.all().count() == 0  # scored by the truth; a vote's close would reveal it early
        exported = await harness.slash("export", channel=thread, format="json")
        [data] = [json.loads(f) for f in exported.followups[0].files.values()]
        forecasts = data["predictions"][0]["forecasts"]
        assert {f["author"] for f in forecasts} == {"Model A", "Model B"} and all(f["model"] is None for f in forecasts)
        await harness.say("@claude what now?", channel=thread)
        [refusal] = [m for m in harness.bot_messages(thread) if "blind forecast" in (m.content or "")]
        assert refusal.content.startswith("Mentions and replies wait until this blind forecast's forecasts close")

        await Prediction.all().update(closes_at=now() - timedelta(seconds=1))
        await run_the_reminder_loop(harness, times=2)
        revealed = [m for m in harness.bot_messages(thread) if (m.content or "").startswith("🔒")]
        assert len(revealed) == 1 and "was **GPT**" in revealed[0].content and "was **Claude**" in revealed[0].content
        assert (await Discussion.get()).revealed
    finally:
        await harness.close()
