"""What web search costs: the fee per answer or per request (list prices in `[search.prices]`), and its worst
case, which every budget hold counts before a searching run starts."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import AppConfig, ModelConfig
from bot.estimate import tokens_for_chars

__all__ = ["BACKEND_RESULT_CHARS", "backend_fee", "native_fee", "search_estimate", "searches_billed"]

BACKEND_RESULT_CHARS = 1_000  # one numbered result as moai lists it: title, URL, snippet (bounded at 500)
BACKEND_NOTE_CHARS = 600  # the citation instructions around them
OPENROUTER_RESULT_CHARS = 3_000  # a result the web plugin puts into the prompt (its page extract)
ANTHROPIC_SEARCH_TOKENS = 10_000  # input tokens one search of Anthropic's tool may bring (its results' content)


def backend_fee(config: AppConfig) -> float:
    """One request to moai's own backend."""
    prices = config.search.prices
    return {"searxng": prices.searxng_per_request, "brave": prices.brave_per_request,
            "tavily": prices.tavily_per_request}.get(config.search.backend, 0.0)


def native_fee(config: AppConfig, model: ModelConfig, searches: int) -> float:
    """What the provider bills for `searches` searches of one answer: Anthropic per search; OpenRouter's web
    plugin per result it asked for (its `max_results`), once per request."""
    prices = config.search.prices
    if config.providers[model.provider].kind == "anthropic":
        return searches * prices.anthropic_per_search
    return prices.openrouter_per_result * config.search.max_results if searches else 0.0


def searches_billed(config: AppConfig, model: ModelConfig, reported: int, seen: int, opened: bool) -> int:
    """Searches to bill for one answer: Anthropic's own count (`usage.server_tool_use`), else the searches its
    stream showed (usage lost with a broken stream); OpenRouter's plugin: one, once the request was accepted."""
    if config.providers[model.provider].kind == "anthropic":
        return max(reported, seen)
    return 1 if opened else 0


def search_estimate(config: AppConfig, models: Sequence[ModelConfig], rounds: int) -> float:
    """The worst case search adds to `rounds` rounds of `models`: every fee at its limit, and the results read
    as input tokens at each model's input price."""
    per_round = 0.0
    backend = False
    for model in models:
        route = config.search_route(model)
        if route == "off":
            continue
        if route == "moai":
            backend = True
            tokens = tokens_for_chars(config.search.max_results * BACKEND_RESULT_CHARS + BACKEND_NOTE_CHARS)
        elif config.providers[model.provider].kind == "anthropic":
            per_round += native_fee(config, model, config.search.max_uses)
            tokens = config.search.max_uses * ANTHROPIC_SEARCH_TOKENS
        else:
            per_round += native_fee(config, model, 1)
            tokens = tokens_for_chars(config.search.max_results * OPENROUTER_RESULT_CHARS)
        per_round += min(tokens, model.context_tokens) * (model.input_price or 0.0) / 1e6
    if backend:
        per_round += backend_fee(config)
    return per_round * rounds
