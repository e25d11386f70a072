"""The round engine without Discord: concurrency, isolation, checkpoints instead of per-token writes."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.config import AppConfig
from bot.db.models import Discussion, DiscussionMode, Message, MessageStatus, RoundKind
from bot.engine.rounds import ModelDelta, ModelFailed, ModelFinished, ModelStarted, RoundEvent, RoundRunner
from bot.llm.registry import ModelClients
from bot.llm.types import ChatMessage
from bot.seats import seats
from tests.fake_llm import FakeLLM, Script


def ask(question: str):
    return lambda model: [ChatMessage("user", question)]


async def test_events_and_rows(database: str, config: AppConfig, clients: ModelClients, fake_llm: FakeLLM) -> None:
    fake_llm.script("llama-test", Script(status=400, error_message="bad model"))
    discussion = await Discussion.create(mode=DiscussionMode.OPEN, question="q")
    events: list[RoundEvent] = []
    result = await RoundRunner(clients).run(discussion, RoundKind.OPEN, seats(config.default_models()), ask("q"),
                                            events.append)
    assert {type(e) for e in events} == {ModelStarted, ModelDelta, ModelFinished, ModelFailed}
    finished = {e.alias for e in events if isinstance(e, ModelFinished)}
    assert finished == {"gpt", "claude"}
    [failed] = [e for e in events if isinstance(e, ModelFailed)]
    assert failed.alias == "llama" and failed.reason == "request rejected (HTTP 400) from fakeopenai: bad model"
    assert [a.status for a in result.answers] == [MessageStatus.COMPLETE, MessageStatus.COMPLETE,
                                                  MessageStatus.FAILED]
    assert result.round.number == 1
    second = await RoundRunner(clients).run(discussion, RoundKind.OPEN, seats(config.default_models()[:1]), ask("q2"))
    assert second.round.number == 2


async def test_no_db_write_per_token_but_checkpoints(database: str, config: AppConfig, clients: ModelClients,
                                                     fake_llm: FakeLLM) -> None:
    """200 tokens over ~1 s: a handful of checkpoints, and the text is in the DB while still streaming."""
    fake_llm.script("gpt-test", Script(text="t" * 200, chunk_chars=1, token_interval=0.005))
    discussion = await Discussion.create(mode=DiscussionMode.OPEN, question="q")
    runner = RoundRunner(clients, checkpoint_interval=0.2)
    task = asyncio.create_task(runner.run(discussion, RoundKind.OPEN, seats([config.models["gpt"]]), ask("q")))
    await asyncio.sleep(0.5)
    mid_stream = await Message.get(discussion=discussion, model_alias="gpt")
    assert mid_stream.status == MessageStatus.STREAMING
    assert 0 < len(mid_stream.content) < 200  # a crash now would keep this much
    await task
    assert runner.stats.deltas == 200
    assert runner.stats.db_writes <= 2 + 1 + 10 + 1  # round + row + checkpoints + final save
    final = await Message.get(discussion=discussion, model_alias="gpt")
    assert final.content == "t" * 200 and final.status == MessageStatus.COMPLETE
    assert final.first_token_ms is not None and final.latency_ms is not None
    assert final.first_token_ms <= final.latency_ms


async def test_slow_model_does_not_delay_fast_ones(database: str, config: AppConfig, clients: ModelClients,
                                                   fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="s" * 10, chunk_chars=1, token_interval=0.1))  # ~0.9 s
    discussion = await Discussion.create(mode=DiscussionMode.OPEN, question="q")
    finished_at: dict[str, float] = {}
    started = time.monotonic()

    def listen(event: RoundEvent) -> None:
        if isinstance(event, ModelFinished):
            finished_at[event.alias] = time.monotonic() - started

    await RoundRunner(clients).run(discussion, RoundKind.OPEN, seats(config.default_models()), ask("q"), listen)
    assert finished_at["gpt"] >= 0.85
    assert max(finished_at["claude"], finished_at["llama"]) < finished_at["gpt"] / 2


async def test_crashing_listener_is_isolated(database: str, config: AppConfig, clients: ModelClients) -> None:
    discussion = await Discussion.create(mode=DiscussionMode.OPEN, question="q")

    def listen(event: RoundEvent) -> None:
        if isinstance(event, ModelDelta) and event.alias == "claude":
            raise RuntimeError("display bug")

    panel = seats(config.default_models())
    result = await RoundRunner(clients).run(discussion, RoundKind.OPEN, panel, ask("q"), listen)
    statuses = {a.model.alias: (a.status, a.error) for a in result.answers}
    assert statuses["claude"] == (MessageStatus.FAILED, "internal error (RuntimeError)")
    assert statuses["gpt"][0] == statuses["llama"][0] == MessageStatus.COMPLETE


async def test_all_streaming_answers_share_one_checkpoint_statement_per_interval(
        database: str, config: AppConfig, clients: ModelClients, fake_llm: FakeLLM) -> None:
    """Eight answers of ~1 s: about one checkpoint statement per 0.1 s interval for all of them (it was one per
    answer per interval), each row's text in the database while it streams, and no final text overwritten."""
    from bot.config import ModelConfig

    panel = [ModelConfig(alias=f"m{i}", provider="fakeopenai", model=f"m{i}-test") for i in range(8)]
    for model in panel:
        fake_llm.script(model.model, Script(text="t" * 100, chunk_chars=1, token_interval=0.01))
    discussion = await Discussion.create(mode=DiscussionMode.OPEN, question="q")
    runner = RoundRunner(clients, checkpoint_interval=0.1)
    started = time.monotonic()
    task = asyncio.create_task(runner.run(discussion, RoundKind.OPEN, seats(panel), ask("q")))
    await asyncio.sleep(0.6)
    rows = await Message.filter(discussion=discussion)
    assert all(r.status == MessageStatus.STREAMING and 0 < len(r.content) < 100 for r in rows)
    await task
    took = time.monotonic() - started  # ~1 s, longer on a loaded machine
    checkpoints = runner.stats.db_writes - (1 + 8 + 8 + 1)  # round, rows, final saves, round closed
    assert 3 <= checkpoints <= took / 0.1 + 2, checkpoints  # one per interval, not 8 x that
    assert all(r.content == "t" * 100 and r.status == MessageStatus.COMPLETE
               for r in await Message.filter(discussion=discussion))


async def test_answers_ending_during_a_checkpoint_break_nothing(database: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """More dirty rows than one statement takes, and answers ending while the first statement runs: the rows
    still streaming are written, those that ended are left to their final save (no statement for them: after
    the last answer the database may be closing), and the flusher stops when the last answer ends."""
    from dataclasses import dataclass, field

    from bot.engine import checkpoints
    from bot.engine.rounds import RunnerStats

    @dataclass
    class Streaming:
        row: Message
        text: str
        shown_in: list[int] = field(default_factory=list)
        shown_stored: list[int] = field(default_factory=list)

    monkeypatch.setattr(checkpoints, "ROWS_PER_STATEMENT", 2)
    discussion = await Discussion.create(mode=DiscussionMode.OPEN, question="q")
    answers = [Streaming(await Message.create(discussion=discussion, author_kind="model", model_alias=f"m{i}",
                                              status=MessageStatus.STREAMING), f"text {i}") for i in range(6)]
    stats = RunnerStats()
    saver = checkpoints.Checkpoints(lambda: 60.0, stats)
    for answer in answers:
        saver.begin(answer)  # type: ignore[arg-type]
        saver.grew(answer)  # type: ignore[arg-type]
    flushing = asyncio.create_task(saver.flush())
    await asyncio.sleep(0)  # inside its first statement
    for answer in answers[1:]:
        saver.end(answer)  # type: ignore[arg-type]
    await flushing
    stored = await Message.filter(discussion=discussion).order_by("id").values_list("content", flat=True)
    assert stats.db_writes == 1 and list(stored) == ["text 0", "text 1", "", "", "", ""]
    saver.end(answers[0])  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert saver._task is not None and saver._task.done()


@pytest.mark.parametrize("seconds", [0.2, 2.0])
async def test_an_answer_costs_the_same_statements_whatever_its_length(
        seconds: float, database: str, clients: ModelClients, fake_llm: FakeLLM) -> None:
    """Four priced answers, each shown in a new message per 50 characters (as Discord would show a long answer):
    the statements of their own (row, bill, final save) are the same few for 0.2 s as for 2 s; what grows
    with the length is the shared checkpoint, one statement per interval for all four, and it also stores the
    message ids, so a restart finds the text and the messages as of the last interval."""
    from bot.config import ModelConfig
    from bot.engine.rounds import Answer
    from bot.llm.types import Usage
    from bot.services import ledger
    from tests.statements import counting_statements

    panel = [ModelConfig(alias=f"m{i}", provider="fakeopenai", model=f"m{i}-test", input_price=1.0,
                         output_price=2.0) for i in range(4)]
    chunks = int(seconds / 0.01)
    for model in panel:
        fake_llm.script(model.model, Script(text="t" * chunks, chunk_chars=1, token_interval=0.01))
    discussion = await Discussion.create(mode=DiscussionMode.OPEN, question="q")
    runner = RoundRunner(clients, checkpoint_interval=0.05)
    streamed: dict[str, Answer] = {}
    quarter = asyncio.Event()  # every answer has a quarter of its text

    def show(event: RoundEvent) -> None:  # a front end: one more message per 50 characters
        if isinstance(event, ModelDelta):
            answer = streamed[event.alias]
            answer.shown_in = [1000 * (answer.row.id + 1) + part for part in range(1 + len(event.text) // 50)]
            if all(len(a.text) >= chunks // 4 for a in streamed.values()):
                quarter.set()

    async def bill(answer: Answer) -> None:
        await ledger.record(ledger.Payer(1, 2), discussion.id, answer.model, answer.usage, 0.001)

    await ledger.record(ledger.Payer(1, 2), discussion.id, panel[0], Usage(), 0.001)  # the month's row exists
    with counting_statements() as statements:
        round_, answers = await runner.start_round(discussion, RoundKind.OPEN, seats(panel))
        streamed.update((a.model.alias, a) for a in answers)
        started = time.monotonic()
        playing = asyncio.create_task(runner.play(round_, answers, ask("q"), show, bill))
        # Mid-stream: once every answer has a quarter of its text (a loaded machine delays the first token, so
        # not a fixed time from the start), and one checkpoint interval more for the checkpoint to have run.
        waiting = asyncio.ensure_future(quarter.wait())
        await asyncio.wait([waiting, playing], return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        await asyncio.sleep(0.06)
        before = len(statements.sql)
        mid_stream = await Message.filter(discussion=discussion).order_by("id")
        # That read was the test's: drop it, wherever it landed among the checkpoints running meanwhile.
        [mine] = [i for i, sql in enumerate(statements.sql) if i >= before and sql.startswith("SELECT")
                  and 'FROM "message"' in sql]
        del statements.sql[mine]
        await playing
        streamed_for = time.monotonic() - started  # a loaded machine stretches the 0.01 s between chunks
    checkpoints = statements.matching('UPDATE "message"', "CASE")
    own = [sql for sql in statements.sql if sql not in checkpoints]
    assert len(own) <= 6 * len(panel), own
    assert len(own) == 2 + 4 * len(panel) + 1, own  # round; per answer row, spend, month total, final; closed
    assert len(checkpoints) <= streamed_for / 0.05 + 2, len(checkpoints)  # one per interval for all four
    assert all(row.status == MessageStatus.STREAMING and row.content and row.discord_message_ids
               for row in mid_stream)
    if seconds > 1:
        assert all(len(row.discord_message_ids) >= 2 for row in mid_stream)  # later messages too, no own write
    final = await Message.filter(discussion=discussion)
    assert all(row.discord_message_ids == [1000 * (row.id + 1) + p for p in range(1 + chunks // 50)]
               for row in final)
