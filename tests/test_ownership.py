"""Who may steer a discussion, and that steering is claimed once: Resume races, old Resume buttons,
holds a crashed process left behind, /stop and /continue by the wrong member."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import discord
from discord.ext.test import backend as back
from tortoise.timezone import now

from bot.db.models import BudgetHold, Cooldown, Discussion, Guild
from bot.kinds import DiscussionStatus
from bot.services.budget import PROCESS_ID
from tests.discord_harness import DiscordHarness
from tests.fake_llm import FakeLLM, Script
from tests.helpers import crash_mid_round


def resume_button(harness: DiscordHarness, thread: discord.Thread) -> tuple[discord.Message, str]:
    [notice] = [m for m in harness.bot_messages(thread) if "restarted" in (m.content or "")]
    [button] = notice.components[0].children  # type: ignore[union-attr]
    assert button.custom_id is not None
    return notice, button.custom_id


async def test_two_resume_presses_run_once(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    discussion = await crash_mid_round(harness, fake_llm)
    [thread] = harness.threads
    await harness.bot.get_cog("Discuss").recover([harness.guild.id])  # type: ignore[union-attr]
    notice, custom_id = resume_button(harness, thread)
    before = len(fake_llm.requests)
    first, second = await asyncio.gather(harness.click(notice, custom_id, wait=False),
                                         harness.click(notice, custom_id, wait=False))
    await harness.bot.services.runs.wait_idle()
    texts = first.texts + second.texts
    assert sum("more round(s)" in t for t in texts) == 1
    assert sum("still answering" in t or "already" in t for t in first.ephemeral_texts + second.ephemeral_texts) == 1
    assert len(fake_llm.requests) - before == 2  # one round of two models, not two
    # The same old button, pressed again later, is no "+1 round" for anyone.
    again = await harness.click(notice, custom_id)
    assert again.ephemeral_texts == ["This discussion was already resumed. Use /continue for more rounds."]
    assert (await Discussion.get(id=discussion.id)).status is DiscussionStatus.COMPLETED


async def test_only_the_starter_or_thread_moderators_steer(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="slow " * 60, chunk_chars=5, token_interval=0.01))
    await harness.slash("discuss", topic="Mine", rounds=1, models="gpt", wait=False)
    [thread] = harness.threads
    bob = back.make_member(back.make_user("bob", "0002"), harness.guild, nick="Bob")
    call = await harness.slash("stop", channel=thread, by=bob, permissions=discord.Permissions.none(), wait=False)
    assert call.ephemeral_texts == ["Only the member who started this discussion, or someone with Manage Threads, "
                                    "can stop it."]
    assert harness.bot.services.runs.is_running(thread.id)
    call = await harness.slash("stop", channel=thread, by=bob, permissions=discord.Permissions(manage_threads=True))
    assert "Stopped by Bob" in call.texts[-1]
    call = await harness.slash("continue", channel=thread, by=bob, permissions=discord.Permissions.none())
    assert call.ephemeral_texts[0].endswith("can continue it.")


async def test_holds_of_a_crashed_process_are_released_at_startup(harness: DiscordHarness,
                                                                  fake_llm: FakeLLM) -> None:
    guild = await Guild.create(discord_id=harness.guild.id)
    later = now() + timedelta(minutes=50)
    await BudgetHold.create(guild=guild, amount_usd=4.0, expires_at=later, owner="old-host:1:dead")
    mine = await BudgetHold.create(guild=guild, amount_usd=1.0, expires_at=later, owner=PROCESS_ID)
    await harness.bot.get_cog("Discuss").recover([harness.guild.id])  # type: ignore[union-attr]
    assert await BudgetHold.all().values_list("id", flat=True) == [mine.id]  # a live run's hold stays


async def test_a_refused_first_post_leaves_nothing_behind(database: str, fake_llm: FakeLLM) -> None:
    """AutoMod blocks the question in the new thread: told why, thread removed, no row, cooldown refunded."""
    from tests.conftest import TEST_ENV, make_config
    from tests.discord_harness import make_harness

    harness = await make_harness(make_config(fake_llm, defaults__user_cooldown_seconds=600.0), TEST_ENV)
    try:
        harness.refuse_thread_posts = (403, 200000)
        call = await harness.slash("open", question="Something AutoMod dislikes", models="gpt")
        assert call.ephemeral_texts == ["Discord's AutoMod in this server blocked me when I tried to post your "
                                        "question in the thread. Rephrase and try again."]
        [thread] = harness.threads
        assert thread.id in harness.deleted_by_bot
        assert await Discussion.all().count() == 0 and fake_llm.requests == []
        assert await Cooldown.all().count() == 0 and await BudgetHold.all().count() == 0
        harness.refuse_thread_posts = None
        await harness.slash("open", question="Something fine", models="gpt")  # no cooldown was spent
        assert len(fake_llm.requests) == 1
    finally:
        await harness.close()


async def test_a_server_can_let_anyone_steer(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="slow " * 60, chunk_chars=5, token_interval=0.01))
    bob = back.make_member(back.make_user("bob", "0002"), harness.guild, nick="Bob")
    call = await harness.slash("steering", by=bob, permissions=discord.Permissions.none(), who="everyone")
    assert call.ephemeral_texts == ["Choosing who steers discussions needs the Manage Server permission."]
    await harness.slash("steering", permissions=discord.Permissions(manage_guild=True), who="everyone")
    await harness.slash("discuss", topic="Ours", rounds=1, models="gpt", wait=False)
    [thread] = harness.threads
    call = await harness.slash("stop", channel=thread, by=bob, permissions=discord.Permissions.none())
    assert "Stopped by Bob" in call.texts[-1]
