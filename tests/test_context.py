"""Context fitting: never over budget, the question and the newest turns kept, drops announced."""

from __future__ import annotations

import random

import pytest

from bot.config import ModelConfig
from bot.engine.context import FittedContext, fit_context
from bot.engine.prompts import Turn


def model(context_tokens: int, max_tokens: int = 100) -> ModelConfig:
    return ModelConfig(alias="m", provider="p", model="m", display_name="M", context_tokens=context_tokens,
                       max_tokens=max_tokens)


def random_turns(rng: random.Random, count: int) -> list[Turn]:
    turns = [Turn("Alice", "The question? " * rng.randint(1, 80))]
    for i in range(count):
        alias = rng.choice(["m", "x", None])
        turns.append(Turn("Alice" if alias is None else alias.upper(), f"turn {i} " + "word " * rng.randint(0, 600),
                          alias))
    return turns


@pytest.mark.parametrize("seed", range(40))
def test_never_exceeds_budget(seed: int) -> None:
    rng = random.Random(seed)
    target = model(rng.choice([500, 600, 2000, 8000]), max_tokens=rng.choice([50, 100, 200, 244]))
    turns = random_turns(rng, rng.randint(0, 40))
    fitted = fit_context(target, "system prompt " * rng.randint(1, 300), turns)
    assert fitted.tokens <= fitted.budget == target.context_tokens - target.max_tokens
    assert fitted.messages[0].role == "system"
    if turns:
        assert fitted.messages[1].content.startswith("[Alice]: The question?")


def test_keeps_everything_when_it_fits() -> None:
    turns = [Turn("Alice", "Q"), Turn("X", "x said", "x"), Turn("M", "my answer", "m")]
    fitted = fit_context(model(4000), "sys", turns)
    assert fitted.dropped == 0
    assert [(m.role, m.content) for m in fitted.messages] == [
        ("system", "sys"), ("user", "[Alice]: Q"), ("user", "[X]: x said"), ("assistant", "my answer")]


def test_drops_oldest_and_says_so() -> None:
    turns = [Turn("Alice", "Q")] + [Turn("X", f"answer {i} " + "pad " * 100, "x") for i in range(10)]
    fitted: FittedContext = fit_context(model(1000, max_tokens=100), "sys", turns)
    assert 0 < fitted.dropped < 10
    contents = [m.content for m in fitted.messages]
    assert contents[2] == f"[moai]: {fitted.dropped} earlier messages were left out to fit your context window."
    assert contents[-1].startswith("[X]: answer 9 ")  # newest kept
    assert not any("answer 0 " in c for c in contents)  # oldest dropped


def test_oversized_newest_turn_keeps_head_and_tail() -> None:
    huge = "start " + "middle " * 3000 + " end"
    fitted = fit_context(model(1000, max_tokens=100), "sys", [Turn("Alice", "Q"), Turn("X", huge, "x")])
    last = fitted.messages[-1].content
    assert last.startswith("[X]: start") and last.endswith(" end") and "[…]" in last
    assert fitted.tokens <= fitted.budget
