"""One short, billed model call beside a run (the tagging model, the position judge).

Bounded in time; billed like an answer (the provider's usage, else moai's estimate); a call stopped mid-way
bills the prompt the provider already read; any failure is one log line and None, so the caller keeps its
rule-based answer. Billing goes through `Bill`, which the caller defines (who pays, which discussion).

Errors: CancelledError propagates (after billing the prompt); every other exception becomes None.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.config import ModelConfig
from bot.engine.rounds import estimated_usage
from bot.llm.registry import ModelClients
from bot.llm.types import ChatMessage, Completion, Usage
from bot.logs import log_event

__all__ = ["Bill", "billed_call"]

log = logging.getLogger(__name__)
Bill = Callable[[ModelConfig, Usage], Awaitable[float | None]]  # records the cost, returns it (None: unpriced)


async def billed_call(clients: ModelClients, model: ModelConfig, messages: Sequence[ChatMessage], bill: Bill, *,
                      seconds: float, failed_event: str, **fields: object) -> tuple[Completion, float | None] | None:
    """The completion and what it cost, or None when the call failed (logged as `failed_event`)."""
    try:
        async with asyncio.timeout(seconds):
            completion = await clients.complete(model, list(messages))
    except asyncio.CancelledError:  # stopped mid-call: the provider bills the prompt it already read
        await asyncio.shield(bill(model, estimated_usage(messages, "", "")))
        raise
    except Exception as error:  # a provider error, the timeout, a broken reply
        log_event(log, failed_event, logging.WARNING, model=model.alias, error=type(error).__name__,
                  status=getattr(error, "status", None), **fields)
        return None
    usage = completion.usage
    if usage.input_tokens is None or usage.output_tokens is None:
        usage = estimated_usage(messages, completion.text, completion.reasoning)
    return completion, await bill(model, usage)
