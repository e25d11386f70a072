"""The one estimator of tokens and money: context budgets, budget holds and reports all use it."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import ModelConfig
from bot.llm.types import Usage

CHARS_PER_TOKEN = 3  # deliberately pessimistic: staying under a budget matters more than filling it


def tokens_for_chars(chars: int) -> int:
    return chars // CHARS_PER_TOKEN + 1


def estimate_tokens(text: str) -> int:
    return tokens_for_chars(len(text))


def chars_for_tokens(tokens: int) -> int:
    return tokens * CHARS_PER_TOKEN


def message_cost(model: ModelConfig, usage: Usage) -> float | None:
    """What a finished answer cost, from the tokens the provider reported; None when it reported none."""
    if usage.input_tokens is None and usage.output_tokens is None:
        return None
    return ((usage.input_tokens or 0) * (model.input_price or 0.0)
            + (usage.output_tokens or 0) * (model.output_price or 0.0)) / 1e6


def round_cost(models: Sequence[ModelConfig], prompt_chars: int) -> float:
    """Worst case for one round: the whole prompt in (as much as each model's window takes), max_tokens out."""
    prompt_tokens = tokens_for_chars(prompt_chars) if prompt_chars else 0
    return sum((min(prompt_tokens, m.context_tokens - m.max_tokens) * (m.input_price or 0.0)
                + m.max_tokens * (m.output_price or 0.0)) / 1e6 for m in models)


def run_cost(models: Sequence[ModelConfig], prompt_chars: int, rounds: int = 1) -> float:
    """Worst case for `rounds` rounds of `models`: each later round also reads every earlier answer in full."""
    growth = sum(chars_for_tokens(m.max_tokens) for m in models)
    return sum(round_cost(models, prompt_chars + growth * done) for done in range(rounds))


def money_text(amount: float) -> str:
    """USD as people read a model's price: cents with enough precision below a dollar ("$0.0041", not "$0.00")."""
    return f"${amount:,.4f}" if amount < 1 else f"${amount:,.2f}"
