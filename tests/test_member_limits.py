"""Money per member (issue 30, item 1): monthly limits for a member, a role or every member, the tightest
winning, in the same locked admission as the server's budget (holds, both databases, several processes)."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord.ext.test import backend as back

from bot.db.models import BudgetHold, Cooldown, Guild, MemberLimit
from bot.errors import UserError
from bot.kinds import LimitScope
from bot.llm.types import Usage
from bot.services import ledger
from bot.services.admission import Admission
from bot.services.budget import member_committed, set_member_limit
from bot.services.ledger import Payer
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import make_harness
from tests.fake_llm import FakeLLM

ADMIN = discord.Permissions(manage_guild=True)
GUILD = 4242


def priced(fake_llm: FakeLLM, **overrides: object):  # $1 worst case per run of gpt (1000 tokens at $1000/M)
    return make_config(fake_llm, models__gpt__max_tokens=1000, models__gpt__input_price=0.0,
                       models__gpt__output_price=1000.0, **overrides)


async def test_a_quota_admits_exactly_what_fits_of_24_simultaneous_runs(database: str, fake_llm: FakeLLM) -> None:
    config = priced(fake_llm)
    admission = Admission(config)
    await set_member_limit(GUILD, LimitScope.MEMBER, 7, 5.0)
    model = config.models["gpt"]
    await ledger.record(Payer(GUILD, 7), None, model, Usage(1, 1), 0.5)  # spent already this month

    async def attempt() -> bool:
        try:
            await admission.admit(GUILD, 7, [model], 10)
            return True
        except UserError:
            return False

    won = await asyncio.gather(*(attempt() for _ in range(24)))
    assert sum(won) == 4  # $0.50 spent + 4 × $1 held ≤ $5 < + a fifth
    assert await BudgetHold.filter(user_id=7).count() == 4
    guild = await Guild.get(discord_id=GUILD)
    assert await member_committed(guild, 7) == pytest.approx(4.5)
    await admission.admit(GUILD, 8, [model], 10)  # another member: not their limit (no server budget set)


async def test_the_tightest_limit_wins_and_the_refusal_gives_the_numbers(database: str, fake_llm: FakeLLM) -> None:
    config = priced(fake_llm, defaults__user_cooldown_seconds=60.0)
    admission = Admission(config)
    model = config.models["gpt"]
    await set_member_limit(GUILD, LimitScope.EVERYONE, 0, 10.0)
    await set_member_limit(GUILD, LimitScope.ROLE, 555, 1.5)
    await set_member_limit(GUILD, LimitScope.MEMBER, 7, 3.0)
    await admission.admit(GUILD, 7, [model], 10, role_ids=[555])
    with pytest.raises(UserError) as refused:
        await admission.admit(GUILD, 9, [model], 10, role_ids=[555, 1])  # cooldown is per member: not it
        await admission.admit(GUILD, 7, [model], 10, role_ids=[555])
    assert str(refused.value).startswith("Your monthly limit here is $1.50 (the limit of one of your roles); $1.00 "
                                         "of it is spent or in use and this run could cost up to $1.00.")
    assert await Cooldown.filter(user_id=7).count() == 1  # the refusal took no cooldown of its own
    await admission.admit(GUILD, 11, [model], 10)  # no role: the per-member default of $10
    await set_member_limit(GUILD, LimitScope.ROLE, 555, 0)  # removed
    assert not await MemberLimit.filter(scope=LimitScope.ROLE).exists()


async def test_budget_sets_lists_and_usage_shows_a_members_limit(database: str, fake_llm: FakeLLM) -> None:
    harness = await make_harness(priced(fake_llm), TEST_ENV)
    try:
        supporters = back.make_role("supporters", harness.guild)
        bob = back.make_member(back.make_user("bob", "0002"), harness.guild, nick="Bob")
        refused = await harness.slash("budget", amount=5.0, member=bob)
        assert refused.ephemeral_texts == ["Setting the budget needs the Manage Server permission."]
        said = await harness.slash("budget", permissions=ADMIN, amount=5.0, member=bob)
        assert said.texts == [f"💰 Monthly limit for {bob.mention}: $5.00 (the tightest limit that applies to a "
                              "member wins)."]
        await harness.slash("budget", permissions=ADMIN, amount=2.0, role=supporters)
        await harness.slash("budget", permissions=ADMIN, amount=20.0, per_member=True)
        both = await harness.slash("budget", permissions=ADMIN, amount=1.0, member=bob, per_member=True)
        assert both.ephemeral_texts == ["Set one limit at a time: member, role or per_member."]
        listed = await harness.slash("budget", permissions=ADMIN)
        [text] = listed.ephemeral_texts
        assert f"• <@{bob.id}>: $5.00 a month" in text and f"• <@&{supporters.id}>: $2.00 a month" in text
        assert "• every member: $20.00 a month" in text
        await harness.slash("open", question="Q?", models="gpt", by=bob)  # $1 held, then its real cost
        usage = await harness.slash("usage", member=bob)
        assert any("Bob's limit: $0.00 of $5.00 this month (spent or in use; their own limit)" in t
                   for t in usage.texts), usage.texts
    finally:
        await harness.close()


async def test_each_answer_shows_its_cost_and_the_round_its_total(database: str, fake_llm: FakeLLM) -> None:
    import re

    from tests.fake_llm import Script

    config = make_config(fake_llm, models__gpt__input_price=3.0, models__gpt__output_price=15.0,
                         models__claude__input_price=1.0, models__claude__output_price=5.0)
    harness = await make_harness(config, TEST_ENV)
    try:
        fake_llm.script("gpt-test", Script(text="Four.", input_tokens=100, output_tokens=200))  # $0.0033
        fake_llm.script("claude-test", Script(text="4", input_tokens=100, output_tokens=100))  # $0.0006
        await harness.slash("open", question="2+2?", models="gpt,claude,llama")
        [thread] = harness.threads
        [summary] = [m for m in harness.bot_messages(thread) if (m.content or "").startswith("-# Round 1")]
        assert summary.content.startswith("-# Round 1: 3/3 answered · $0.0039 in all")
        assert re.search(r"✅ \*\*GPT\*\* · [\d.]+ s · 100 → 200 tokens · \$0\.0033", summary.content)
        assert re.search(r"✅ \*\*Claude\*\* · [\d.]+ s · 100 → 100 tokens · \$0\.0006", summary.content)
        assert re.search(r"✅ \*\*Llama\*\* · [\d.]+ s · [\d,]+ → [\d,]+ tokens\n|✅ \*\*Llama\*\* · [\d.]+ s · "
                         r"[\d,]+ → [\d,]+ tokens$", summary.content)  # no price known: no cost shown
    finally:
        await harness.close()


async def test_an_expensive_run_asks_first_and_holds_nothing_meanwhile(database: str, fake_llm: FakeLLM) -> None:
    from bot.db.models import Discussion

    harness = await make_harness(priced(fake_llm, defaults__confirm_above_usd=0.5,
                                        defaults__user_cooldown_seconds=60.0), TEST_ENV)
    try:
        asked = await harness.slash("open", question="Worth a dollar?", models="gpt")
        [text] = asked.ephemeral_texts
        assert text.startswith("💰 This run could cost up to **$1.00** (its worst case: every model writing its "
                               "full answer; the server asks above $0.5000). Run it?")
        assert not harness.threads and await Discussion.all().count() == 0
        assert await BudgetHold.all().count() == 0 and await Cooldown.all().count() == 0  # nothing taken
        assert asked.response is not None
        prompt = harness.as_message(asked.response)
        buttons = {b.label: b.custom_id for b in prompt.components[0].children}  # type: ignore[union-attr]
        assert list(buttons) == ["Run it", "Cancel"]
        bob = back.make_member(back.make_user("bob", "0002"), harness.guild, nick="Bob")
        other = await harness.click(prompt, buttons["Run it"], member=bob)  # type: ignore[arg-type]
        assert other.ephemeral_texts == ["Only the member who asked can confirm this run."]
        await harness.click(prompt, buttons["Run it"])  # type: ignore[arg-type]
        assert len(harness.threads) == 1 and await Discussion.all().count() == 1
        assert asked.response.content == "▶️ Confirmed."
        cheap = await harness.slash("ask", model="claude", question="Cheap?")  # unpriced claude: $0 worst case
        assert not any(t.startswith("💰") for t in cheap.texts)

        from bot.db.models import Round

        [thread] = harness.threads
        more = await harness.slash("continue", channel=thread)  # more rounds ask too, before any claim or hold
        assert more.ephemeral_texts[0].startswith("💰 This run could cost up to")
        assert await Round.filter(discussion__thread_id=thread.id).count() == 1 and not await BudgetHold.exists()
        assert (await Discussion.get(thread_id=thread.id)).status == "completed"  # not claimed meanwhile
        assert more.response is not None
        again = harness.as_message(more.response)
        run_it = next(b.custom_id for b in again.components[0].children if b.label == "Run it")  # type: ignore[union-attr]
        from datetime import timedelta

        from tortoise.timezone import now

        await Cooldown.all().update(last_at=now() - timedelta(minutes=5))  # the first run's cooldown is over
        await harness.click(again, run_it)  # type: ignore[arg-type]
        assert await Round.filter(discussion__thread_id=thread.id).count() == 2
    finally:
        await harness.close()


async def test_a_model_kept_for_a_role_is_refused_to_others_everywhere(database: str, fake_llm: FakeLLM) -> None:
    harness = await make_harness(make_config(fake_llm, discord__message_content_intent=True), TEST_ENV)
    try:
        supporters = back.make_role("supporters", harness.guild)
        fan = back.make_member(back.make_user("fan", "0003"), harness.guild, nick="Fan", roles=[supporters])
        refused = await harness.slash("access", model="claude", role=supporters)
        assert refused.ephemeral_texts == ["Choosing who may run a model needs the Manage Server permission."]
        said = await harness.slash("access", permissions=ADMIN, model="claude", role=supporters)
        assert said.texts == [f"🔒 Claude is now only for <@&{supporters.id}> here."]
        kept = f"Claude is only for <@&{supporters.id}> in this server. Pick other models, or ask an admin."
        assert (await harness.slash("open", question="Q?", models="gpt,claude")).ephemeral_texts == [kept]
        assert (await harness.slash("ask", model="claude", question="Q?")).ephemeral_texts == [kept]
        assert not harness.threads
        await harness.slash("open", question="Q?", models="gpt,claude", by=fan)  # a supporter may
        [thread] = harness.threads
        reply = await harness.say("@claude and you?", channel=thread)  # a mention by someone else: refused too
        assert any(kept in (m.content or "") for m in harness.bot_messages(thread)), reply
        listed = await harness.slash("budget", permissions=ADMIN)
        assert f"🔒 Claude: only for <@&{supporters.id}>" in listed.ephemeral_texts[0]
        await harness.slash("project create", permissions=ADMIN, name="deep", models="gpt")
        said = await harness.slash("access", permissions=ADMIN, model="gpt", role=supporters, project="deep")
        assert said.texts == [f"🔒 GPT is now only for <@&{supporters.id}> in project deep."]
        in_project = await harness.slash("open", question="Q?", project="deep")
        assert in_project.ephemeral_texts == [f"GPT is only for <@&{supporters.id}> in this project. Pick other "
                                              "models, or ask an admin."]
        assert not (await harness.slash("ask", model="gpt", question="Outside it?")).ephemeral_texts
        listed = await harness.slash("budget", permissions=ADMIN)
        assert f"🔒 GPT (project deep): only for <@&{supporters.id}>" in listed.ephemeral_texts[0]
        await harness.slash("access", permissions=ADMIN, model="claude", remove=True)
        await harness.slash("ask", model="claude", question="Now?")
        assert not any(kept in t for t in (await harness.slash("ask", model="claude", question="And?")).texts)
    finally:
        await harness.close()
