"""Human-readable summaries of a round (Discord status line, console, exports)."""

from __future__ import annotations

from bot.db.models import MessageStatus
from bot.rounds import Answer, RoundResult


def seconds(ms: int | None) -> str:
    return f"{(ms or 0) / 1000:.1f} s"


def tokens(answer: Answer) -> str:
    usage = answer.usage
    if usage.output_tokens is None:
        return "tokens n/a"
    return f"{usage.input_tokens or 0:,} → {usage.output_tokens:,} tokens"


def answer_line(answer: Answer) -> str:
    name = answer.model.name
    if answer.status is MessageStatus.COMPLETE:
        return f"✅ **{name}** · {seconds(answer.latency_ms)} · {tokens(answer)}"
    if answer.status is MessageStatus.CANCELLED:
        return f"⏹️ **{name}** · stopped after {seconds(answer.latency_ms)}"
    reason = (answer.error or "failed").replace("\n", " ")
    kept = " (partial answer kept)" if answer.text else ""
    return f"❌ **{name}** · {reason}{kept}"


def round_summary(result: RoundResult) -> str:
    done = sum(a.status is MessageStatus.COMPLETE for a in result.answers)
    head = f"-# Round {result.round.number}: {done}/{len(result.answers)} answered"
    return "\n".join([head, *(answer_line(a) for a in result.answers)])
