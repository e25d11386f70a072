"""Projects, usage, budgets and cooldowns, data deletion, /help."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest
from PIL import Image

from bot.db.models import BudgetHold, ChannelDefault, Cooldown, Discussion, Guild, Message, MonthlySpend, Project
from bot.services.budget import CooldownClaim, take_cooldown
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM, Script

ADMIN = discord.Permissions(manage_guild=True)


async def test_project_lifecycle(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    call = await harness.slash("project create", permissions=ADMIN, name="Physics", models="claude, gpt",
                               topic="Quantum gravity", system_prompt="Cite papers.", rounds=2)
    assert harness.errors == [] and "Project **Physics** created" in call.texts[0]
    project = await Project.get(name="Physics")
    assert project.models == ["claude", "gpt"] and project.default_rounds == 2

    await harness.slash("project models add", permissions=ADMIN, name="Physics", model="llama")
    await harness.slash("project models remove", permissions=ADMIN, name="Physics", model="ChatGPT")
    assert (await Project.get(name="Physics")).models == ["claude", "llama"]

    await harness.slash("project edit", permissions=ADMIN, name="Physics", topic="-", new_name="Physics 2")
    project = await Project.get(name="Physics 2")
    assert project.topic == "" and project.system_prompt == "Cite papers."

    listing = await harness.slash("project list")
    assert "**Physics 2** — claude, llama" in listing.ephemeral_texts[0]
    info = await harness.slash("project info", name="Physics 2")
    assert "System prompt: Cite papers." in info.ephemeral_texts[0]

    await harness.slash("project delete", permissions=ADMIN, name="Physics 2")
    assert await Project.all().count() == 0


async def test_changing_projects_needs_manage_server(harness: DiscordHarness) -> None:
    call = await harness.slash("project create", name="Nope")
    assert call.ephemeral_texts == ["Creating a project needs the Manage Server permission."]
    assert await Project.all().count() == 0
    for command, options in [("project delete", {"name": "x"}), ("project use", {"name": "x"}),
                             ("project edit", {"name": "x"}), ("project models add", {"name": "x", "model": "gpt"})]:
        call = await harness.slash(command, **options)
        assert call.ephemeral_texts[0].endswith("needs the Manage Server permission.")


async def test_project_errors(harness: DiscordHarness) -> None:
    await harness.slash("project create", permissions=ADMIN, name="dup")
    call = await harness.slash("project create", permissions=ADMIN, name="dup")
    assert call.ephemeral_texts == ["A project named `dup` already exists here."]
    call = await harness.slash("project create", permissions=ADMIN, name="bad", models="gpt, nope")
    assert call.ephemeral_texts[0].startswith("Unknown model: `nope`.")
    call = await harness.slash("project info", name="ghost")
    assert call.ephemeral_texts == ["No project named `ghost` in this server. See /project list."]


async def test_channel_default_project_is_used(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("project create", permissions=ADMIN, name="solo", models="llama", topic="Llamas")
    await harness.slash("project use", permissions=ADMIN, name="solo")
    assert await ChannelDefault.filter(channel_id=harness.channel.id).count() == 1
    await harness.slash("open", question="Who is here?")
    assert [r.body["model"] for r in fake_llm.requests] == ["llama-test"]
    assert "Project topic: Llamas" in fake_llm.requests[0].body["messages"][0]["content"]
    await harness.slash("project use", permissions=ADMIN)  # clears
    assert await ChannelDefault.all().count() == 0


async def test_project_autocomplete(harness: DiscordHarness) -> None:
    await harness.slash("project create", permissions=ADMIN, name="alpha")
    await harness.slash("project create", permissions=ADMIN, name="beta")
    choices = await harness.autocomplete("open", "project", question="q", project="alp")
    assert choices == [{"name": "alpha", "value": "alpha"}]


# --- usage, budgets, cooldowns -------------------------------------------------------------


@pytest.fixture
async def priced(database: str, fake_llm: FakeLLM):
    config = make_config(fake_llm, models__gpt__input_price=1000.0, models__gpt__output_price=2000.0,
                         models__claude__input_price=3.0, models__claude__output_price=15.0,
                         models__llama__input_price=0.0, models__llama__output_price=0.0)  # free, and known to be
    harness = await make_harness(config, TEST_ENV)
    yield harness
    await harness.close()


async def test_cost_is_recorded_and_reported(priced: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(input_tokens=100, output_tokens=50))
    await priced.slash("open", question="Costs?", models="gpt,claude")
    gpt = await Message.get(model_alias="gpt")
    assert gpt.cost_usd == pytest.approx((100 * 1000 + 50 * 2000) / 1e6)
    call = await priced.slash("usage")
    [reply] = call.followups
    assert reply.ephemeral and call.response_type == 5  # deferred while the chart is drawn
    assert "• GPT: 1 answers · 100 in / 50 out tokens · $0.2000" in (reply.content or "")
    assert "**Total**: 2 answers" in (reply.content or "")
    with Image.open(io.BytesIO(reply.files["usage.png"])) as chart:
        assert chart.format == "PNG" and chart.width == 1008 and 500 <= chart.height <= 800
        assert chart.convert("RGB").getpixel((3, 3)) == (0x2b, 0x2d, 0x31)  # moai's dark card, not white
    mine = await priced.slash("usage", member=priced.member)
    assert "Usage for Alice" in (mine.followups[0].content or "") and "$0.2" in (mine.followups[0].content or "")


async def test_usage_before_any_spend_has_no_chart(priced: DiscordHarness) -> None:
    call = await priced.slash("usage")
    [text] = call.ephemeral_texts
    assert text.startswith("**Usage for this server") and "**Total**: 0 answers" in text
    assert call.response is not None and not call.response.files


async def test_budget_refuses_runs_that_would_exceed_it(priced: DiscordHarness, fake_llm: FakeLLM) -> None:
    call = await priced.slash("budget", amount=5.0)
    assert call.ephemeral_texts == ["Setting the budget needs the Manage Server permission."]
    await priced.slash("budget", permissions=ADMIN, amount=5.0)
    assert (await Guild.get(discord_id=priced.guild.id)).monthly_budget_usd == 5.0
    # gpt: up to 1024 output tokens at $2000/M = $2.05 per run; the first run spends $0.2.
    fake_llm.script("gpt-test", Script(input_tokens=100, output_tokens=50))
    await priced.slash("open", question="One", models="gpt")
    await MonthlySpend.filter(guild_id=priced.guild.id).update(total_usd=3.5)  # as if answers had been long
    call = await priced.slash("open", question="Two", models="gpt")
    [text] = call.ephemeral_texts
    assert text.startswith("This server's monthly budget is $5.00; $3.50 is spent or in use and this run could cost "
                           "up to $2.05")
    assert len(fake_llm.requests) == 1 and await Discussion.all().count() == 1
    await priced.slash("open", question="Cheap", models="llama")  # free model: fits
    assert len(fake_llm.requests) == 2
    assert await BudgetHold.all().count() == 0  # every run gave its hold back


async def test_running_runs_hold_their_budget(priced: DiscordHarness, fake_llm: FakeLLM) -> None:
    """While one run is in flight its worst case is set aside: a second run that would not fit is refused."""
    await priced.slash("budget", permissions=ADMIN, amount=3.0)
    fake_llm.script("gpt-test", Script(text="slow " * 40, chunk_chars=5, token_interval=0.02))
    await priced.slash("open", question="First", models="gpt", wait=False)
    assert await BudgetHold.all().count() == 1
    call = await priced.slash("open", question="Second", models="gpt", by=priced.member, wait=False)
    assert "is spent or in use" in call.ephemeral_texts[0]
    await priced.bot.services.runs.wait_idle()
    assert await BudgetHold.all().count() == 0
    await priced.slash("open", question="Third", models="gpt")  # the first run really cost little
    assert len(fake_llm.requests_for("gpt-test")) == 2


async def test_cooldown_per_user(database: str, fake_llm: FakeLLM) -> None:
    harness = await make_harness(make_config(fake_llm, defaults__user_cooldown_seconds=60.0), TEST_ENV)
    try:
        await harness.slash("open", question="First", models="gpt")
        call = await harness.slash("ask", model="gpt", question="Second")
        [text] = call.ephemeral_texts
        assert text.startswith("Slow down: you can start another run in")
        assert len(fake_llm.requests) == 1
    finally:
        await harness.close()


async def test_cooldown_is_atomic_under_concurrency(database: str, fake_llm: FakeLLM) -> None:
    """Ten simultaneous claims (as from several processes) on the same user: exactly one wins."""
    config = make_config(fake_llm, defaults__user_cooldown_seconds=30.0)
    results = await asyncio.gather(*(take_cooldown(config, 1, 2) for _ in range(10)), return_exceptions=True)
    assert sum(isinstance(r, CooldownClaim) for r in results) == 1
    assert await Cooldown.all().count() == 1


# --- data deletion and help ----------------------------------------------------------------


async def test_forget_discussion_needs_admin_and_confirmation(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("open", question="Forget me", models="gpt")
    [thread] = harness.threads
    call = await harness.slash("forget discussion", channel=thread)
    assert call.ephemeral_texts == ["Deleting a discussion needs the Manage Server permission."]
    call = await harness.slash("forget discussion", channel=thread, permissions=ADMIN)
    assert "Run `/forget discussion confirm:True`" in call.ephemeral_texts[0]
    assert await Discussion.all().count() == 1
    await harness.slash("forget discussion", channel=thread, permissions=ADMIN, confirm=True)
    assert await Discussion.all().count() == 0 and await Message.all().count() == 0


async def test_forget_me(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("open", question="Mine", models="gpt")
    other = await Discussion.create(mode="open", question="someone else's", created_by=1)
    await Message.create(discussion=other, author_kind="user", author_id=harness.member.id, content="my reply")
    await Message.create(discussion=other, author_kind="user", author_id=1, content="their text")
    call = await harness.slash("forget me")
    assert "the 1 discussion(s) you started" in call.ephemeral_texts[0] and "your 1 message(s)" in \
        call.ephemeral_texts[0]
    await harness.slash("forget me", confirm=True)
    assert await Discussion.all().values_list("question", flat=True) == ["someone else's"]
    assert await Message.all().values_list("content", flat=True) == ["their text"]


async def test_help_lists_every_command(harness: DiscordHarness) -> None:
    call = await harness.slash("help")
    [text] = call.ephemeral_texts
    for command in ("open", "ask", "discuss", "continue", "stop", "consensus", "export", "usage", "budget",
                    "project create", "project models add", "forget me", "help"):
        assert f"`/{command}` — " in text
    assert len(text) <= 2000


async def test_a_long_project_list_comes_in_pages_and_projects_are_capped(database: str, fake_llm: FakeLLM) -> None:
    """One message over 2,000 characters is a 400 on real Discord; nothing capped how many a server made."""
    from cogs.utils.pages import paginate

    harness = await make_harness(make_config(fake_llm, defaults__max_projects=30), TEST_ENV)
    try:
        for number in range(30):
            call = await harness.slash("project create", permissions=ADMIN, name=f"project-{number:02}",
                                       topic="a topic long enough to fill a page quickly " * 2)
            assert harness.errors == [], call.texts
        refused = await harness.slash("project create", permissions=ADMIN, name="one-too-many")
        assert refused.ephemeral_texts == ["This server has 30 projects, the most it may have; delete one first."]
        listing = await harness.slash("project list")
        [text] = listing.ephemeral_texts
        assert len(text) <= 2000 and "page 1 of " in text and "project-00" in text
    finally:
        await harness.close()
    pages = paginate([f"line {i} " + "x" * 90 for i in range(100)])
    assert len(pages) > 1 and all(len(p) <= 1900 for p in pages)
    assert sum(p.count("\n") + 1 for p in pages) == 100
