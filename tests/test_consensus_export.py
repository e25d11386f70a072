"""/consensus (moderator, fallback, anonymised peer review) and /export in every format."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

from bot.db.models import AuthorKind, Message, MessageStatus, PeerRanking, Round, RoundKind
from bot.modes.peer_review import aggregate, ballot_for, parse_ranking
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM, Script

LETTER_ANSWER = re.compile(r"Answer ([A-Z]):\n(\S+)-test")


def rank_by_name(preference: list[str]):
    """A reviewer that ranks the anonymised answers by a fixed preference of model ids."""

    def reply(body: dict[str, Any]) -> str:
        prompt = body["messages"][-1]["content"]
        shown = {model: letter for letter, model in LETTER_ANSWER.findall(prompt)}
        return " > ".join(shown[m] for m in preference if m in shown)

    return reply


def test_ballots_exclude_the_reviewer_and_shuffle_per_reviewer() -> None:
    rng = random.Random(3)
    candidates = ["a", "b", "c", "d", "e"]
    ballots = [ballot_for(r, candidates, rng) for r in candidates]
    for ballot in ballots:
        assert ballot.reviewer not in ballot.letters.values()
        assert sorted(ballot.letters.values()) == sorted(c for c in candidates if c != ballot.reviewer)
    orders = {tuple(b.shown_order) for b in ballots}
    assert len(orders) == len(ballots)  # no two reviewers saw the same order


def test_parse_and_aggregate() -> None:
    ballot = ballot_for("x", ["x", "a", "b", "c"], random.Random(1))
    letter = {alias: letter for letter, alias in ballot.letters.items()}
    assert parse_ranking(f"Best: {letter['b']} > {letter['a']} > {letter['c']}", ballot) == ["b", "a", "c"]
    with pytest.raises(ValueError):
        parse_ranking(f"{letter['b']} > {letter['a']}", ballot)
    assert aggregate([["a", "b"], ["a", "c"], ["b", "a"]], ["a", "b", "c"]) == [("a", 2 / 3), ("b", 0.5), ("c", 0.0)]


async def test_consensus_by_moderator(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("discuss", topic="Cats or dogs?", rounds=1)
    [thread] = harness.threads
    fake_llm.script("gpt-test", Script(text="**Agreement** ... **Final answer**: both."))
    call = await harness.slash("consensus", channel=thread)
    assert harness.errors == [] and "asked for a consensus" in call.texts[0]
    moderator_request = fake_llm.requests[-1].body
    assert moderator_request["model"] == "gpt-test"  # the first of defaults.models
    assert "You are the moderator now" in moderator_request["messages"][0]["content"]
    assert any("[Claude]: claude-test answers" in m["content"] for m in moderator_request["messages"])
    gpt_messages = sorted((m for m in harness.webhook_messages(thread.id) if m.username == "GPT"), key=lambda m: m.id)
    assert gpt_messages[-1].content == "**Agreement** ... **Final answer**: both."
    consensus = await Round.get(kind=RoundKind.CONSENSUS)
    assert (await Message.get(round=consensus)).content.startswith("**Agreement**")


async def test_moderator_fallback(database: str, fake_llm: FakeLLM) -> None:
    harness = await make_harness(make_config(fake_llm, defaults__moderators=["llama", "claude"]), TEST_ENV)
    try:
        await harness.slash("open", question="Q", models="gpt,claude")
        [thread] = harness.threads
        fake_llm.script("llama-test", Script(status=500, error_message="down"))
        fake_llm.script("claude-test", Script(text="Synthesis by Claude."))
        await harness.slash("consensus", channel=thread)
        texts = [m.content or "" for m in harness.bot_messages(thread)]
        assert any("Llama could not moderate; asking Claude instead." in t for t in texts)
        rounds = await Round.filter(kind=RoundKind.CONSENSUS).order_by("number").prefetch_related("messages")
        assert [r.messages[0].status for r in rounds] == [MessageStatus.FAILED, MessageStatus.COMPLETE]
    finally:
        await harness.close()


async def test_peer_review_ranks_anonymised_answers(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    await harness.slash("open", question="Explain entropy")
    [thread] = harness.threads
    preference = ["claude", "llama", "gpt"]
    for model in ("gpt-test", "claude-test", "llama-test"):
        fake_llm.script(model, Script(reply=rank_by_name(preference)))
    await harness.slash("consensus", channel=thread, peer_review=True)
    assert harness.errors == []
    reviews = [r.body for r in fake_llm.requests[3:9]]
    for body in reviews:
        prompt = body["messages"][-1]["content"]
        own = body["model"].removesuffix("-test")
        assert f"{own}-test answers" not in prompt  # never its own answer
        assert "GPT" not in prompt and "Claude" not in prompt and "Llama" not in prompt  # anonymised
    stored = await PeerRanking.all().order_by("id")
    assert len(stored) == 6  # every reviewer ranked twice: one order, then the reverse
    for reviewer in ("gpt", "claude", "llama"):
        first, second = (r.shown_order for r in stored if r.reviewer == reviewer)
        assert second == list(reversed(first))
    rankings = {r.reviewer: r for r in stored}
    assert rankings["gpt"].ranking == ["claude", "llama"]
    assert rankings["claude"].ranking == ["llama", "gpt"]
    assert all(r.error is None for r in rankings.values())
    summary = await Message.get(author_kind=AuthorKind.SYSTEM)  # stored in plain words; Discord shows it in bold
    assert summary.content.splitlines()[1:] == ["1. Claude · 1.00 points", "2. Llama · 0.50 points",
                                                "3. GPT · 0.00 points"]
    shown = "1. **Claude** · 1.00 points\n2. **Llama** · 0.50 points\n3. **GPT** · 0.00 points"
    assert any(shown in (m.content or "") for m in harness.bot_messages(thread))
    assert fake_llm.requests[-1].body["model"] == "gpt-test"  # then the moderator wrote the synthesis


async def test_consensus_errors(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    call = await harness.slash("consensus")
    assert call.ephemeral_texts == ["Use /consensus inside a discussion thread started with /open or /discuss."]
    await harness.slash("open", question="Q", models="gpt,claude")
    call = await harness.slash("consensus", channel=harness.threads[0], peer_review=True)
    assert call.ephemeral_texts == ["Peer review needs at least three answers (each model ranks the others, not "
                                    "itself)."]


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
async def test_export(harness: DiscordHarness, fake_llm: FakeLLM, fmt: str) -> None:
    fake_llm.script("llama-test", Script(status=429, retry_after="600", error_message="busy"))
    await harness.slash("discuss", topic="Export <me> & keep *formatting*", rounds=2, models="gpt,llama")
    [thread] = harness.threads
    call = await harness.slash("export", channel=thread, format=fmt)
    [followup] = call.followups
    [(name, data)] = followup.files.items()
    assert name.startswith("moai-") and name.endswith(f"-export-me-keep-formatting.{fmt}")
    text = data.decode()
    if fmt == "json":
        exported = json.loads(text)
        assert exported["question"] == "Export <me> & keep *formatting*"
        assert [s["round"] for s in exported["sections"]] == [None, 1, 2]
        first = exported["sections"][1]["messages"]
        assert first[0]["author"] == "GPT" and first[0]["input_tokens"] == 11 and first[0]["created_at"]
        assert first[1]["status"] == "failed" and "HTTP 429" in first[1]["error"]
    elif fmt == "md":
        assert text.startswith("# Export <me> & keep *formatting*")
        assert "## Round 1 · discuss" in text and "## Round 2 · discuss" in text
        assert "### GPT — " in text and "tokens" in text and "failed: rate limited (HTTP 429)" in text
    else:
        assert "<h1>Export &lt;me&gt; &amp; keep *formatting*</h1>" in text
        assert text.count("<article") == 1 + 4
    for secret in TEST_ENV.values():
        assert secret not in text


async def test_export_outside_a_thread(harness: DiscordHarness) -> None:
    call = await harness.slash("export")
    assert call.ephemeral_texts == ["Use /export inside a discussion thread started with /open or /discuss."]


def test_an_export_is_packaged_to_fit_the_upload_limit() -> None:
    """Discord's 413 used to become "Something went wrong": now it is zipped, else cut into numbered parts."""
    import io
    import random
    import zipfile

    from bot.export import package

    small = b"# Title\n" + b"a line\n" * 100
    assert package("moai-1.md", small, 8_000_000) == [("moai-1.md", small)]
    [(name, zipped)] = package("moai-1.md", b"# Title\n" + b"repeats well\n" * 100_000, 100_000)
    assert name == "moai-1.md.zip" and len(zipped) <= 100_000
    rng = random.Random(7)
    noisy = b"".join(f"{rng.getrandbits(256):x}\n".encode() for _ in range(20_000))  # zips poorly
    files = package("moai-2.html", noisy, 200_000)
    assert len(files) > 1 and all(len(data) <= 200_000 for _, data in files)
    assert files[0][0] == f"moai-2.part1-of-{len(files)}.html.zip"
    joined = b"".join(zipfile.ZipFile(io.BytesIO(data)).read(n.removesuffix(".zip")) for n, data in files)
    assert joined == noisy


async def test_an_export_over_the_upload_limit_arrives_zipped(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="a long answer line\n" * 400))
    await harness.slash("open", question="Big export", models="gpt")
    harness.upload_limit = 4_000
    call = await harness.slash("export", channel=harness.threads[0], format="md")
    assert harness.errors == [] and call.followups
    names = [name for followup in call.followups for name in followup.files]
    assert names and all(name.endswith(".zip") for name in names)
    assert all(len(data) <= 4_000 for followup in call.followups for data in followup.files.values())


async def test_a_reviewer_never_ranks_its_own_family(database: str, fake_llm: FakeLLM) -> None:
    config = make_config(fake_llm, models__mini={"provider": "fakeopenai", "model": "gpt-mini-test",
                                                 "display_name": "GPT mini"},
                         defaults__models=["gpt", "mini", "claude", "llama"])
    harness = await make_harness(config, TEST_ENV)
    try:
        await harness.slash("open", question="Explain entropy")
        for model in ("gpt-test", "gpt-mini-test", "claude-test", "llama-test"):
            fake_llm.script(model, Script(reply=rank_by_name(["claude", "llama", "gpt", "gpt-mini"])))
        await harness.slash("consensus", channel=harness.threads[0], peer_review=True)
        seen = {r.reviewer: set(r.shown_order) for r in await PeerRanking.all()}
        assert seen["gpt"] == {"claude", "llama"} and seen["mini"] == {"claude", "llama"}  # not each other
        assert seen["claude"] == {"gpt", "mini", "llama"}
    finally:
        await harness.close()
