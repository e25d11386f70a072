"""The roundtable layer every front end calls: everything is validated before admission, and between admission
and the run's start any failure gives back the budget hold, the cooldown and any claim — in one place.

Driven without Discord (a stage double) and through the bot (commands and buttons, one error path)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.attachments import Attachment
from bot.config import AppConfig
from bot.container import Services
from bot.db.models import BudgetHold, Cooldown, Discussion, Message
from bot.engine.display import Display, SilentDisplay
from bot.engine.prompts import Turn
from bot.engine.transcript import label_members
from bot.errors import Hint, UserError
from bot.kinds import AttachmentKind, DiscussionMode, DiscussionStatus
from bot.llm.registry import ModelClients
from bot.roundtable import Accepted, Actor, DebateChoices, MentionOutcome, NewDiscussion, Opening, Stage
from bot.services.discussions import Place
from tests.conftest import make_config
from tests.discord_harness import DiscordHarness
from tests.fake_llm import FakeLLM, Script
from tests.helpers import press_forged

GUILD = 5151
ALICE = Actor(7, "Alice", GUILD)
PRICED = {"models__gpt__input_price": 1.0, "models__gpt__output_price": 1.0, "models__claude__input_price": 1.0,
          "models__claude__output_price": 1.0, "models__llama__input_price": 1.0, "models__llama__output_price": 1.0}


@dataclass
class FakeStage:
    """A front end's stage and venue, recording what the roundtable told it; `fail_on` makes one step fail."""

    key: int = 1
    place: Place = field(default_factory=lambda: Place(GUILD, "g", 10, 11))
    fail_on: str = ""
    told: list[Accepted] = field(default_factory=list)
    opened: list[Opening] = field(default_factory=list)
    abandoned: int = 0

    @property
    def channel_id(self) -> int | None:
        return self.place.thread_id

    def display(self) -> Display:
        return SilentDisplay()

    async def accepted(self, event: Accepted) -> None:
        if self.fail_on == "accepted":
            raise RuntimeError("the front end could not say so")
        self.told.append(event)

    async def crashed(self, error: BaseException) -> None:
        pass

    async def open(self, opening: Opening) -> Stage:
        if self.fail_on == "open":
            raise UserError("Discord would not let me create a thread here.")
        self.opened.append(opening)
        return self

    async def abandon(self, stage: Stage) -> None:
        self.abandoned += 1


def services_for(fake_llm: FakeLLM, clients: ModelClients | None = None, **overrides: object) -> tuple[AppConfig,
                                                                                                       Services]:
    settings: dict[str, object] = {"defaults__user_cooldown_seconds": 60.0, "defaults__monthly_budget_usd": 100.0,
                                   **PRICED, **overrides}
    config = make_config(fake_llm, **settings)
    return config, Services.build(config, clients or ModelClients(config, None, environ={}))  # type: ignore[arg-type]


async def nothing_taken() -> bool:
    return await BudgetHold.all().count() == 0 and await Cooldown.all().count() == 0


@pytest.mark.parametrize("mode", [DiscussionMode.OPEN, DiscussionMode.DISCUSS])
async def test_a_blind_round_of_one_model_takes_nothing(database: str, fake_llm: FakeLLM, mode: DiscussionMode) -> None:
    """It used to be refused after admission: the hold stayed for an hour and the cooldown was spent."""
    config, services = services_for(fake_llm)
    stage = FakeStage()
    with pytest.raises(UserError, match="A blind round needs at least two models"):
        await services.roundtable.open(NewDiscussion(mode, "Q?", ALICE, models=[config.models["gpt"]], blind=True),
                                       stage)
    assert await nothing_taken() and stage.opened == [] and await Discussion.all().count() == 0


@pytest.mark.parametrize("request_", [
    {"question": "   "}, {"rounds": 0}, {"rounds": 11}, {"debate_roles": "gpt=jester"}, {"project": "nope"},
])
async def test_every_bad_request_is_refused_before_admission(database: str, fake_llm: FakeLLM,
                                                             request_: dict[str, object]) -> None:
    _, services = services_for(fake_llm)

    debate = DebateChoices(roles=str(request_["debate_roles"])) if "debate_roles" in request_ else DebateChoices()
    request = NewDiscussion(DiscussionMode.DISCUSS, str(request_.get("question", "Q?")), ALICE,
                            rounds=request_.get("rounds"), project=request_.get("project"),  # type: ignore[arg-type]
                            debate=debate)
    with pytest.raises(UserError):
        await services.roundtable.open(request, FakeStage())
    assert await nothing_taken() and await Discussion.all().count() == 0


async def test_a_venue_that_cannot_open_gives_everything_back(database: str, fake_llm: FakeLLM) -> None:
    _, services = services_for(fake_llm)
    with pytest.raises(UserError, match="create a thread"):
        await services.roundtable.open(NewDiscussion(DiscussionMode.OPEN, "Q?", ALICE), FakeStage(fail_on="open"))
    assert await nothing_taken() and await Discussion.all().count() == 0
    # The cooldown was not spent: the member can ask again at once.
    run = await services.roundtable.open(NewDiscussion(DiscussionMode.OPEN, "Q?", ALICE), stage := FakeStage())
    await run.wait()
    assert len(stage.opened) == 1


async def test_storing_that_fails_removes_the_place_and_refunds(database: str, fake_llm: FakeLLM,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _, services = services_for(fake_llm)

    async def broken(**_: object) -> Discussion:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.store, "create", broken)
    stage = FakeStage()
    with pytest.raises(RuntimeError, match="disk full"):
        await services.roundtable.open(NewDiscussion(DiscussionMode.OPEN, "Q?", ALICE), stage)
    assert stage.abandoned == 1 and await nothing_taken()


async def test_continue_that_fails_before_its_start_gives_back_claim_money_and_cooldown(
        database: str, fake_llm: FakeLLM, clients: ModelClients) -> None:
    _, services = services_for(fake_llm, clients)
    run = await services.roundtable.open(NewDiscussion(DiscussionMode.OPEN, "Q?", ALICE), FakeStage())
    await run.wait()
    await Cooldown.all().delete()  # the first run's cooldown is not this test's business
    discussion = await Discussion.get(id=run.discussion.id)
    with pytest.raises(RuntimeError):
        await services.roundtable.continue_(discussion, ALICE, FakeStage(fail_on="accepted"), rounds=1)
    assert await nothing_taken()
    assert (await Discussion.get(id=discussion.id)).status is DiscussionStatus.COMPLETED  # unclaimed
    stage = FakeStage()
    again = await services.roundtable.continue_(await Discussion.get(id=discussion.id), ALICE, stage, rounds=1)
    await again.wait()
    assert [type(e).__name__ for e in stage.told] == ["Continued"]


async def test_consensus_reads_nothing_after_admission(database: str, fake_llm: FakeLLM, clients: ModelClients,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read happens before the money is held: a read that fails leaves nothing behind."""
    _, services = services_for(fake_llm, clients)
    run = await services.roundtable.open(NewDiscussion(DiscussionMode.OPEN, "Q?", ALICE), FakeStage())
    await run.wait()
    await Cooldown.all().delete()

    async def broken(_: Discussion) -> dict[str, object]:
        raise ConnectionError("database went away")

    monkeypatch.setattr(services.store, "latest_stances", broken)
    with pytest.raises(ConnectionError):
        await services.roundtable.consensus(run.discussion, ALICE, FakeStage(), peer_review=False)
    assert await nothing_taken()


async def test_the_console_operator_spends_no_server_budget(database: str, fake_llm: FakeLLM,
                                                            clients: ModelClients) -> None:
    _, services = services_for(fake_llm, clients)
    operator = Actor(None, "you", manages_threads=True, local=True)
    run = await services.roundtable.open(NewDiscussion(DiscussionMode.DISCUSS, "Q?", operator, rounds=1),
                                         FakeStage(place=Place()))
    await run.wait()
    assert await Cooldown.all().count() == 0 and run.outcome == "completed"
    more = await services.roundtable.continue_(await Discussion.get(id=run.discussion.id), operator,
                                               FakeStage(place=Place()), rounds=1)
    await more.wait()
    assert await Message.filter(discussion_id=run.discussion.id, author_kind="model").count() == 6


async def test_mentions_join_one_waiting_round_and_a_full_queue_takes_nothing(
        database: str, fake_llm: FakeLLM, clients: ModelClients) -> None:
    config, services = services_for(fake_llm, clients, defaults__mention_queue_limit=2,
                                    defaults__user_cooldown_seconds=0.0)
    fake_llm.script("gpt-test", Script(text="slow " * 30, chunk_chars=5, token_interval=0.01))
    first = await services.roundtable.open(NewDiscussion(DiscussionMode.OPEN, "Q?", ALICE), stage := FakeStage())
    discussion = first.discussion
    gpt, claude = config.models["gpt"], config.models["claude"]
    assert await services.roundtable.mention(discussion, ALICE, [gpt], stage) is MentionOutcome.STARTED
    assert await services.roundtable.mention(discussion, Actor(8, "Bob", GUILD), [claude], stage) \
        is MentionOutcome.JOINED
    holds = await BudgetHold.all().count()
    assert await services.roundtable.mention(discussion, Actor(9, "Cy", GUILD), [gpt], stage) \
        is MentionOutcome.QUEUE_FULL
    assert await BudgetHold.all().count() == holds  # nothing was taken for the refused one
    await services.runs.wait_idle()
    assert await nothing_taken()


async def test_stop_is_for_the_starter_or_a_moderator(database: str, fake_llm: FakeLLM,
                                                      clients: ModelClients) -> None:
    _, services = services_for(fake_llm, clients)
    fake_llm.script("gpt-test", Script(text="long " * 200, chunk_chars=5, token_interval=0.01))
    run = await services.roundtable.open(NewDiscussion(DiscussionMode.OPEN, "Q?", ALICE, models=None),
                                         FakeStage())
    told: list[object] = []

    async def accepted(event: object) -> None:
        told.append(event)

    with pytest.raises(UserError, match="Only the member who started") as refused:
        await services.roundtable.stop(11, Actor(8, "Bob", GUILD), accepted)
    assert refused.value.hint is None and told == []
    with pytest.raises(UserError) as nothing:
        await services.roundtable.stop(999, ALICE, accepted)
    assert nothing.value.hint is Hint.STOP_WHERE
    stopped = await services.roundtable.stop(11, Actor(8, "Mod", GUILD, manages_threads=True), accepted)
    assert stopped is run and len(told) == 1 and run.outcome == "cancelled"


def test_a_member_named_like_a_model_keeps_their_files(fake_llm: FakeLLM) -> None:
    """label_members used to rebuild the turn positionally and drop its attachments."""
    config = make_config(fake_llm)
    note = Attachment("notes.txt", AttachmentKind.TEXT, "text/plain", b"hi", "hi")
    [turn] = label_members([Turn("Claude", "see my notes", None, (note,))], [config.models["claude"]])
    assert turn.author_name == "Claude (member)" and turn.attachments == (note,)


# --- through Discord: buttons take the commands' error path --------------------------------------------


async def test_a_button_that_hits_a_bug_answers_with_a_reference(harness: DiscordHarness, fake_llm: FakeLLM,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    await harness.slash("open", question="Explain entropy", models="gpt,claude")
    [thread] = harness.threads
    status = [m for m in harness.bot_messages(thread) if (m.content or "").startswith("-# Round")][-1]
    export = next(c.custom_id for row in status.components for c in row.children  # type: ignore[union-attr]
                  if (c.custom_id or "").startswith("moai:act:export:"))

    def broken(_: str) -> str:
        raise RuntimeError("exporter bug")

    monkeypatch.setattr(harness.bot, "redact", broken)
    call = await harness.click(status, export)
    [text] = call.ephemeral_texts
    assert text.startswith("Something went wrong on my side (ref `") and "exporter bug" not in text


async def test_a_copied_button_does_nothing_in_another_thread(harness: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="answer"))
    await harness.slash("open", question="First", models="gpt,claude")
    await harness.slash("open", question="Second", models="gpt,claude")
    first, second = harness.threads
    status = [m for m in harness.bot_messages(second) if (m.content or "").startswith("-# Round")][-1]
    first_id = (await Discussion.get(thread_id=first.id)).id
    for action in ("more", "consensus", "stop", "export"):
        call = await press_forged(harness, status, f"moai:act:{action}:{first_id}")
        assert call.ephemeral_texts == ["This discussion no longer exists."], action
    assert harness.errors == [] and await Message.filter(author_kind="model").count() == 4  # nothing more was asked


def test_hints_are_worded_by_each_front_end() -> None:
    from bot.console import user_text as console_text
    from cogs.utils.errors import user_text as discord_text

    error = UserError("The models are still answering here.", Hint.STOP)
    assert discord_text(error) == "The models are still answering here. Wait for them, or /stop first."
    assert "/stop" not in console_text(error) and console_text(error).startswith(str(error))
    assert all(discord_text(UserError("x", hint)) != "x" for hint in Hint)  # every hint has Discord words
    assert all(console_text(UserError("x", hint)) != "x" for hint in Hint)


