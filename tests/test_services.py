"""The core's services without Discord: admission tickets, runs and their status, modes, recovery, logging."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from bot.config import AppConfig
from bot.container import Services
from bot.db.models import BudgetHold, Cooldown, Discussion, Message, Round
from bot.engine.display import SilentDisplay
from bot.engine.notices import EarlyStop, ModeratorFallback, PanelistsNamed
from bot.errors import UserError
from bot.estimate import run_cost
from bot.kinds import DiscussionMode, DiscussionStatus, MessageStatus, RoundKind, RoundStatus
from bot.llm.registry import ModelClients
from bot.logs import JsonFormatter, log_event
from bot.modes import continuation
from bot.modes.consensus import ConsensusMode
from bot.modes.debate import DebateMode
from bot.modes.open import OpenMode
from bot.panel import Panel
from bot.policy import may_steer
from bot.services.budget import BudgetRefused
from bot.services.discussions import Author, Place
from bot.services.runs import RunInfo
from tests.conftest import make_config
from tests.fake_llm import FakeLLM, Script
from tests.helpers import eventually

GUILD = 4242
ALICE = Author(7, "Alice")


def build(config: AppConfig, clients: ModelClients) -> Services:
    return Services.build(config, clients)


async def new_discussion(services: Services, config: AppConfig, mode: DiscussionMode = DiscussionMode.DISCUSS,
                         thread: int | None = 99) -> Discussion:
    return await services.store.create(mode=mode, question="Tea or coffee?", panel=Panel(config.default_models()),
                                       author=ALICE, place=Place(GUILD, "g", 1, thread), rounds_planned=2)


# --- admission -----------------------------------------------------------------------------


async def test_refund_gives_back_hold_and_cooldown(database: str, fake_llm: FakeLLM) -> None:
    config = make_config(fake_llm, defaults__user_cooldown_seconds=60.0, defaults__monthly_budget_usd=5.0,
                         models__gpt__input_price=0.0, models__gpt__output_price=1000.0)
    services = build(config, ModelClients(config, None, environ={}))  # type: ignore[arg-type]
    gpt = [config.models["gpt"]]
    ticket = await services.admission.admit(GUILD, ALICE.id or 0, gpt, 100)
    assert await BudgetHold.all().count() == 1
    with pytest.raises(UserError, match="Slow down"):
        await services.admission.admit(GUILD, ALICE.id or 0, gpt, 100)
    await ticket.refund()  # the run never started: nothing was spent
    assert await BudgetHold.all().count() == 0 and await Cooldown.all().count() == 0
    second = await services.admission.admit(GUILD, ALICE.id or 0, gpt, 100)
    await second.release()  # the run ended: the hold goes, the cooldown stays spent
    assert await BudgetHold.all().count() == 0 and await Cooldown.all().count() == 1
    with pytest.raises(UserError, match="Slow down"):
        await services.admission.admit(GUILD, ALICE.id or 0, gpt, 100)


async def test_refused_over_budget_and_logged(database: str, fake_llm: FakeLLM,
                                              caplog: pytest.LogCaptureFixture) -> None:
    config = make_config(fake_llm, defaults__monthly_budget_usd=0.5, models__gpt__output_price=1000.0)
    services = build(config, ModelClients(config, None, environ={}))  # type: ignore[arg-type]
    caplog.set_level(logging.INFO)
    with pytest.raises(BudgetRefused, match="could cost up to"):
        await services.admission.admit(GUILD, 1, [config.models["gpt"]], 100, rounds=3)
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("budget_refused")]
    assert f"guild={GUILD}" in line and "models=gpt" in line and "rounds=3" in line
    assert await BudgetHold.all().count() == 0


def test_one_estimator_grows_with_the_transcript(fake_llm: FakeLLM) -> None:
    config = make_config(fake_llm, models__gpt__input_price=1.0, models__gpt__output_price=2.0)
    gpt = [config.models["gpt"]]
    one, three = run_cost(gpt, 3000, 1), run_cost(gpt, 3000, 3)
    assert three > 3 * one  # later rounds also read the earlier answers
    assert run_cost(gpt, 10**9, 1) == run_cost(gpt, 10**10, 1)  # capped by what the model's window takes


def test_who_may_steer() -> None:
    assert may_steer(1, 1, manages_threads=False)
    assert not may_steer(1, 2, manages_threads=False)
    assert may_steer(1, 2, manages_threads=True)


# --- runs ----------------------------------------------------------------------------------


async def test_run_owns_status_and_releases_its_ticket(database: str, config: AppConfig,
                                                       clients: ModelClients, fake_llm: FakeLLM) -> None:
    services = build(config, clients)
    discussion = await new_discussion(services, config, DiscussionMode.OPEN)
    run = services.orchestrator.start(1, discussion, OpenMode(config.default_models()), SilentDisplay(),
                                      ticket=None)
    assert services.runs.is_running(1)
    await run.wait()
    assert run.outcome == "completed" and not services.runs.is_running(1)
    assert (await Discussion.get(id=discussion.id)).status is DiscussionStatus.COMPLETED
    assert [a.status for a in run.results[0].answers] == [MessageStatus.COMPLETE] * 3


async def test_stop_cancels_and_keeps_partial_text(database: str, config: AppConfig, clients: ModelClients,
                                                   fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="slow " * 100, chunk_chars=5, token_interval=0.01))
    services = build(config, clients)
    discussion = await new_discussion(services, config)
    services.orchestrator.start(5, discussion, DebateMode([config.models["gpt"]], 2), SilentDisplay(), ticket=None)
    await eventually(lambda: fake_llm.requests_for("gpt-test"))
    await asyncio.sleep(0.1)
    assert await services.runs.stop(5)
    assert (await Discussion.get(id=discussion.id)).status is DiscussionStatus.CANCELLED
    assert (await Round.get(discussion=discussion)).status is RoundStatus.CANCELLED
    assert not await services.runs.stop(5)


async def test_a_crashing_run_reports_and_frees(database: str, config: AppConfig, clients: ModelClients) -> None:
    services = build(config, clients)
    discussion = await new_discussion(services, config)
    reported: list[BaseException] = []

    async def boom() -> list[object]:
        raise RuntimeError("bug")

    async def report(error: BaseException) -> None:
        reported.append(error)

    run = services.runs.start(3, discussion, boom, ticket=None, info=RunInfo("test"), on_crash=report)  # type: ignore[arg-type]
    await run.wait()
    assert run.outcome == "failed" and isinstance(reported[0], RuntimeError)
    assert (await Discussion.get(id=discussion.id)).status is DiscussionStatus.CANCELLED


async def test_runs_of_one_thread_play_in_turn(database: str, config: AppConfig, clients: ModelClients) -> None:
    services = build(config, clients)
    discussion = await new_discussion(services, config)
    order: list[str] = []

    def work(name: str, pause: float):  # type: ignore[no-untyped-def]
        async def play() -> list[object]:
            order.append(f"{name} start")
            await asyncio.sleep(pause)
            order.append(f"{name} end")
            return []
        return play

    services.runs.start(9, discussion, work("first", 0.05), ticket=None, info=RunInfo("a"))
    second = services.runs.start(9, discussion, work("second", 0), ticket=None, info=RunInfo("b"))
    await second.wait()
    assert order == ["first start", "first end", "second start", "second end"]


async def test_run_lines_for_operators(database: str, config: AppConfig, clients: ModelClients, fake_llm: FakeLLM,
                                       caplog: pytest.LogCaptureFixture) -> None:
    fake_llm.script("llama-test", Script(status=500, error_message="down"))
    services = build(config, clients)
    discussion = await new_discussion(services, config)
    caplog.set_level(logging.INFO)
    run = services.orchestrator.start(2, discussion, OpenMode(config.default_models()), SilentDisplay(),
                                      ticket=None, info=RunInfo("open", GUILD, 7))
    await run.wait()
    lines = [r.getMessage() for r in caplog.records]
    [start] = [line for line in lines if line.startswith("run_start ")]
    [end] = [line for line in lines if line.startswith("run_end ")]
    [failure] = [line for line in lines if line.startswith("model_failed ")]
    assert f"guild={GUILD}" in start and "mode=open" in start and "models=gpt,claude,llama" in start
    assert "outcome=completed" in end and "rounds=1" in end and "cost_usd=" in end and "duration_s=" in end
    assert "provider=fakeopenai" in failure and "error=ServerError" in failure and "status=500" in failure
    assert "retries=2" in failure  # max_retries of the provider, all spent


def test_json_log_lines_carry_the_fields() -> None:
    logger = logging.getLogger("moai.test.json")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        log_event(logger, "run_end", guild=1, models=["a", "b"], cost_usd=0.25, note="two words")
    finally:
        logger.removeHandler(handler)
    data = json.loads(JsonFormatter().format(records[0]))
    assert data["event"] == "run_end" and data["guild"] == 1 and data["models"] == ["a", "b"]
    assert data["message"] == 'run_end guild=1 models=a,b cost_usd=0.25 note="two words"'


# --- modes ---------------------------------------------------------------------------------


def agree(body: dict[str, object]) -> str:
    return "I agree with everyone.\n[AGREE]"


async def test_debate_stops_early_with_a_notice(database: str, config: AppConfig, clients: ModelClients,
                                                fake_llm: FakeLLM) -> None:
    for model in ("gpt-test", "claude-test", "llama-test"):
        fake_llm.script(model, Script(reply=agree), Script(reply=agree), Script(reply=agree))
    services = build(config, clients)
    discussion = await new_discussion(services, config)
    display = SilentDisplay()
    results = await services.orchestrator.play(discussion, DebateMode(config.default_models(), 4), display)
    names = (("Panelist A", "GPT"), ("Panelist B", "Claude"), ("Panelist C", "Llama"))  # an anonymous debate
    assert len(results) == 2 and display.notices == [PanelistsNamed(names), EarlyStop(2, 2)]
    assert [r.round.kind for r in results] == [RoundKind.DISCUSS, RoundKind.DISCUSS]


async def test_consensus_falls_back_to_the_next_moderator(database: str, config: AppConfig, clients: ModelClients,
                                                          fake_llm: FakeLLM) -> None:
    services = build(config, clients)
    discussion = await new_discussion(services, config)
    await services.orchestrator.play(discussion, OpenMode(config.default_models()), SilentDisplay())
    fake_llm.script("gpt-test", Script(status=400, error_message="no"))
    display = SilentDisplay()
    moderators = [config.models["gpt"], config.models["claude"]]
    answers = await services.store.latest_answers(discussion)
    results = await services.orchestrator.play(discussion, ConsensusMode(config.models, moderators, answers),
                                               display)
    assert display.notices == [ModeratorFallback("GPT", "Claude")]
    assert [r.answers[0].status for r in results] == [MessageStatus.FAILED, MessageStatus.COMPLETE]


async def test_continuation_dispatches_by_mode(database: str, config: AppConfig, clients: ModelClients) -> None:
    services = build(config, clients)
    panel = config.default_models()
    opened = await new_discussion(services, config, DiscussionMode.OPEN, thread=1)
    debate = await new_discussion(services, config, DiscussionMode.DISCUSS, thread=2)
    assert isinstance(continuation(opened, panel, 1, done=0), OpenMode)  # its answer round never completed
    assert continuation(opened, panel, 3, done=0).name == "open+debate"
    assert isinstance(continuation(opened, panel, 1, done=1), DebateMode)
    assert isinstance(continuation(debate, panel, 1, done=0), DebateMode)
    results = await services.orchestrator.play(opened, continuation(opened, panel, 2, done=0), SilentDisplay())
    assert [r.round.kind for r in results] == [RoundKind.OPEN, RoundKind.DISCUSS]


# --- recovery ------------------------------------------------------------------------------


async def test_recovery_marks_stale_runs_only(database: str, config: AppConfig, clients: ModelClients) -> None:
    services = build(config, clients)
    stale = await new_discussion(services, config, thread=10)
    live = await new_discussion(services, config, thread=11)
    for discussion in (stale, live):
        await services.store.set_status(discussion, DiscussionStatus.RUNNING)
    gate = asyncio.Event()

    async def hold_on() -> list[object]:
        await gate.wait()
        return []

    run = services.runs.start(11, live, hold_on, ticket=None, info=RunInfo("t"))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    marked = await services.recovery.mark_interrupted([GUILD])
    assert [d.id for d in marked] == [stale.id]
    assert (await Discussion.get(id=stale.id)).status is DiscussionStatus.INTERRUPTED
    gate.set()
    await run.wait()


async def test_recovery_of_many_discussions_is_a_few_statements(database: str, config: AppConfig,
                                                                 clients: ModelClients) -> None:
    """120 discussions a crash left mid-round: every round, streaming row and discussion is marked, in a
    handful of statements (not three per discussion), and a finished discussion is left alone."""
    from tortoise.context import require_context

    from bot.db.models import Round

    services = build(config, clients)
    crashed = []
    for number in range(120):
        discussion = await new_discussion(services, config, thread=1000 + number)
        await services.store.set_status(discussion, DiscussionStatus.RUNNING)
        round_ = await Round.create(discussion=discussion, number=1, kind=RoundKind.DISCUSS)
        await Message.create(discussion=discussion, round=round_, author_kind="model", model_alias="gpt",
                             content="half an answer", status=MessageStatus.STREAMING)
        crashed.append(discussion)
    done = await new_discussion(services, config, thread=5000)
    await services.store.set_status(done, DiscussionStatus.COMPLETED)
    connection = require_context().connections.get("default")
    statements = 0
    real = connection.execute_query

    async def counted(query: str, values: list[object] | None = None) -> object:
        nonlocal statements
        statements += 1
        return await real(query, values)

    connection.execute_query = counted  # type: ignore[method-assign]
    try:
        marked = await services.recovery.mark_interrupted([GUILD])
    finally:
        connection.execute_query = real  # type: ignore[method-assign]
    assert len(marked) == 120 and 3 <= statements <= 6, statements
    assert await Discussion.filter(status=DiscussionStatus.INTERRUPTED).count() == 120
    assert await Message.filter(status=MessageStatus.STREAMING).count() == 0
    assert await Message.filter(content="half an answer", status=MessageStatus.INTERRUPTED).count() == 120
    assert await Round.filter(status="interrupted").count() == 120
    assert (await Discussion.get(id=done.id)).status is DiscussionStatus.COMPLETED


async def test_stop_while_the_display_sets_up_leaves_no_streaming_rows(database: str, config: AppConfig,
                                                                      clients: ModelClients,
                                                                      fake_llm: FakeLLM) -> None:
    """A /stop that lands while the round's messages are being prepared (webhook lookup): rows are final."""
    services = build(config, clients)
    discussion = await new_discussion(services, config)
    entered = asyncio.Event()

    class SlowDisplay(SilentDisplay):
        async def begin_round(self, round_, answers):  # type: ignore[no-untyped-def]
            entered.set()
            await asyncio.sleep(10)
            return await super().begin_round(round_, answers)

    services.orchestrator.start(8, discussion, OpenMode(config.default_models()), SlowDisplay(), ticket=None)
    await entered.wait()
    assert await services.runs.stop(8)
    statuses = await Message.filter(discussion=discussion, author_kind="model").values_list("status", flat=True)
    assert set(statuses) == {MessageStatus.CANCELLED} and fake_llm.requests == []
    assert (await Round.get(discussion=discussion)).status is RoundStatus.CANCELLED


async def test_a_graceful_shutdown_leaves_discussions_resumable(database: str, config: AppConfig,
                                                                 clients: ModelClients, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="slow " * 100, chunk_chars=5, token_interval=0.01))
    services = build(config, clients)
    discussion = await new_discussion(services, config, thread=21)
    services.orchestrator.start(21, discussion, DebateMode([config.models["gpt"]], 2), SilentDisplay(), ticket=None)
    await eventually(lambda: fake_llm.requests_for("gpt-test"))
    await services.runs.interrupt_all()
    assert (await Discussion.get(id=discussion.id)).status is DiscussionStatus.RUNNING  # as after a crash
    assert (await Message.get(discussion=discussion, model_alias="gpt")).status is MessageStatus.CANCELLED
    [marked] = await build(config, clients).recovery.mark_interrupted([GUILD])  # the next process
    assert marked.id == discussion.id
    assert (await Discussion.get(id=discussion.id)).status is DiscussionStatus.INTERRUPTED
