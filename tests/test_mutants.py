"""Tests written to kill what survived `python -m tests.mutation` in the money and rating code: each pins a
boundary or an operator of admission, budgets, the ledger or the ratings that the rest of the suite let pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import ModelConfig
from bot.db.models import MonthlySpend, Spend
from bot.llm.types import Usage
from bot.services import ledger
from bot.services.ledger import Payer


async def test_the_usage_report_adds_every_field_per_model_per_day_and_in_total(database: str) -> None:
    gpt = ModelConfig(alias="gpt", provider="p", model="m", display_name="GPT")
    claude = ModelConfig(alias="claude", provider="q", model="c")
    await ledger.record(Payer(1, 7), 3, gpt, Usage(10, 20, 5), 0.25)
    await ledger.record(Payer(1, 8), 3, gpt, Usage(1, 2, None), 0.5)
    await ledger.record(Payer(1, 7), 4, claude, Usage(None, None), 0.0)
    await ledger.record(Payer(2, 7), 5, claude, Usage(100, 200), 9.0)  # another guild
    report = await ledger.usage_report(1)
    line = report.lines["gpt"]
    assert (line.name, line.messages, line.input_tokens, line.output_tokens, line.reasoning_tokens) == \
        ("GPT", 2, 11, 22, 5)
    assert line.cost == pytest.approx(0.75)
    assert report.lines["claude"].name == "claude" and report.lines["claude"].input_tokens == 0
    total = report.total
    assert (total.messages, total.input_tokens, total.output_tokens, total.reasoning_tokens) == (3, 11, 22, 5)
    assert total.cost == pytest.approx(0.75)
    [day] = report.daily.values()
    assert day == {"GPT": pytest.approx(0.75), "claude": 0.0}
    mine = await ledger.usage_report(1, user_id=7)
    assert mine.lines["gpt"].messages == 1 and mine.total.cost == pytest.approx(0.25)
    everywhere = await ledger.usage_report(None)
    assert everywhere.total.messages == 4 and everywhere.total.cost == pytest.approx(9.75)
    assert await ledger.month_total(1) == pytest.approx(0.75) and await ledger.month_total(2) == pytest.approx(9.0)
    assert await MonthlySpend.filter(guild_id=1).count() == 1  # a free call moves no total
    row = await Spend.get(discussion_id=3, user_id=7)
    assert (row.model_name, row.provider, row.input_tokens, row.output_tokens) == ("GPT", "p", 10, 20)


def test_months_start_on_the_first_at_midnight() -> None:
    at = datetime(2026, 3, 17, 13, 45, 12, 999, tzinfo=UTC)
    assert ledger.month_start(at) == datetime(2026, 3, 1, tzinfo=UTC) and ledger.month_key(at) == "2026-03"
