"""Running a discussion's rounds, independent of where they are shown (Discord thread or terminal)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager

from bot.config import ModelConfig
from bot.context import fit_context
from bot.db.models import (
    Discussion,
    DiscussionMode,
    DiscussionStatus,
    MessageStatus,
    Project,
    Round,
    RoundKind,
    RoundStatus,
)
from bot.prompts import converged, discuss_note, system_prompt
from bot.rounds import MessagesFor, RoundResult
from bot.transcript import load_turns

PlayRound = Callable[[RoundKind, MessagesFor], Awaitable[RoundResult]]
Notify = Callable[[str], Awaitable[None]]


async def round_context(discussion: Discussion, panel: Sequence[ModelConfig],
                        note: str = "") -> tuple[MessagesFor, dict[str, int]]:
    """Each model's prompt: roundtable system prompt plus the stored discussion, fitted to its budget.

    Returns the prompt builder and, per model, how many old turns had to be left out.
    """
    project = await Project.get_or_none(id=discussion.project_id) if discussion.project_id else None
    topic, project_prompt = (project.topic, project.system_prompt) if project else ("", "")
    turns = await load_turns(discussion)
    fitted = {m.alias: fit_context(m, system_prompt(m, panel, topic=topic, project_prompt=project_prompt) + note,
                                   turns) for m in panel}
    dropped = {alias: f.dropped for alias, f in fitted.items() if f.dropped}
    return (lambda model: fitted[model.alias].messages), dropped


def trimmed_notice(panel: Sequence[ModelConfig], dropped: Mapping[str, int]) -> str:
    names = {m.alias: m.name for m in panel}
    parts = [f"{names[alias]}: {count} oldest message(s) left out" for alias, count in dropped.items()]
    return "-# ℹ️ Context trimmed to fit the models' budgets — " + "; ".join(parts) + "."


async def completed_rounds(discussion: Discussion) -> int:
    return await Round.filter(discussion=discussion, status=RoundStatus.COMPLETED,
                              kind__in=[RoundKind.OPEN, RoundKind.DISCUSS]).count()


async def set_status(discussion: Discussion, status: DiscussionStatus) -> None:
    discussion.status = status
    await discussion.save(update_fields=["status", "updated_at"])


@asynccontextmanager
async def active(discussion: Discussion) -> AsyncIterator[None]:
    """Running while models answer (a crash leaves it so, for recovery); completed or cancelled after."""
    await set_status(discussion, DiscussionStatus.RUNNING)
    status = DiscussionStatus.CANCELLED
    try:
        yield
        status = DiscussionStatus.COMPLETED
    finally:
        await set_status(discussion, status)


async def run_rounds(discussion: Discussion, panel: Sequence[ModelConfig], rounds: int, play: PlayRound,
                     notify: Notify) -> list[RoundResult]:
    """Debate rounds one after another; each model sees every earlier round. Stops early on consensus.

    An open discussion's single first round is a plain answer; anything after it is a debate round.
    """
    done = await completed_rounds(discussion)
    total = done + rounds
    results: list[RoundResult] = []
    single_open = discussion.mode is DiscussionMode.OPEN and total == 1
    async with active(discussion):
        for number in range(done + 1, total + 1):
            note = "" if single_open else discuss_note(number, total)
            messages_for, dropped = await round_context(discussion, panel, note)
            if dropped:
                await notify(trimmed_notice(panel, dropped))
            result = await play(RoundKind.OPEN if single_open else RoundKind.DISCUSS, messages_for)
            results.append(result)
            answered = [a.text for a in result.answers if a.status is MessageStatus.COMPLETE]
            if 1 < number < total and len(answered) == len(panel) and converged(answered):
                await notify(f"-# 🤝 Every model agreed in round {number}: stopping early "
                             f"({total - number} round(s) left unused).")
                break
    return results
