"""Discord wording of what the core reports: status lines, notices, thread titles (Markdown, `-#` subtext)."""

from __future__ import annotations

import discord

from bot.db.retry import storage_failed
from bot.engine.notices import (
    BlindPause,
    ConsensusWritten,
    ContextTrimmed,
    DepthDecided,
    EarlyStop,
    EveryModelFailed,
    ForecastsRead,
    ModeratorFallback,
    NoModerator,
    Notice,
    PanelistsNamed,
    PeerReviewed,
    Revealed,
    StanceTimeline,
    VoteCall,
    VoteClosed,
)
from bot.engine.rounds import Answer, RoundResult
from bot.estimate import message_cost, money_text
from bot.kinds import DEBATE_KINDS, MessageStatus, MinoritySource, RoundKind
from bot.llm.types import is_cut_off, is_filtered
from bot.stances import FLAGGED, Stance, Timeline, timeline_rows

__all__ = [
    "STOPPED_SUFFIX",
    "THREAD_TITLE_LIMIT",
    "answer_line",
    "crash_text",
    "failed_suffix",
    "member_name",
    "notice_text",
    "round_summary",
    "seconds",
    "stance_line",
    "stop_note",
    "thread_title",
    "timeline_markdown",
    "tokens"
]

THREAD_TITLE_LIMIT = 90


def seconds(ms: int | None) -> str:
    return f"{(ms or 0) / 1000:.1f} s"


def tokens(answer: Answer) -> str:
    usage = answer.usage
    if usage.output_tokens is None:
        return "tokens n/a"
    if usage.estimated:  # the stream never reported its usage: billed by moai's estimate
        return f"~{usage.input_tokens or 0:,} → ~{usage.output_tokens:,} tokens (estimated)"
    return f"{usage.input_tokens or 0:,} → {usage.output_tokens:,} tokens"


def stop_note(stop_reason: str | None, max_tokens: int) -> str:
    """Under an answer that did not end by itself: what stopped it."""
    if is_cut_off(stop_reason):
        return f"\n\n-# ✂️ cut off: the answer hit max_tokens ({max_tokens:,} tokens)"
    if is_filtered(stop_reason):
        return "\n\n-# 🚫 stopped by the provider's content filter"
    return ""


def answer_line(answer: Answer) -> str:
    """An answer's line in the status; under a blind label only what it did, never a number of its own
    (latency, tokens, a cut, a filter, reasoning: each could be paired with a named surface or its price)."""
    name = answer.seat.label
    if answer.seat.blind:
        return {MessageStatus.COMPLETE: f"✅ **{name}**", MessageStatus.CANCELLED: f"⏹️ **{name}** · stopped"}.get(
            answer.status, f"❌ **{name}** · failed{' (partial answer kept)' if answer.text else ''}")
    if answer.status is MessageStatus.COMPLETE:
        cut = " · ✂️ cut at max_tokens" if is_cut_off(answer.stop_reason) else \
            (" · 🚫 filtered" if is_filtered(answer.stop_reason) else "")
        thought = " · 🧠 reasoned" if answer.reasoning else ""
        cost = message_cost(answer.model, answer.usage) if answer.model.priced else None
        priced = f" · {money_text(cost)}" if cost is not None else ""
        return f"✅ **{name}** · {seconds(answer.latency_ms)} · {tokens(answer)}{priced}{cut}{thought}"
    if answer.status is MessageStatus.CANCELLED:
        return f"⏹️ **{name}** · stopped after {seconds(answer.latency_ms)}"
    reason = (answer.error or "failed").replace("\n", " ")
    kept = " (partial answer kept)" if answer.text else ""
    return f"❌ **{name}** · {reason}{kept}"


def round_summary(result: RoundResult, unshown: set[str] | frozenset[str] = frozenset()) -> str:
    """The round's status line; an answer Discord would not show is never ✅ (the database has it)."""
    done = sum(a.status is MessageStatus.COMPLETE for a in result.answers)
    costs = [message_cost(a.model, a.usage) for a in result.answers if a.model.priced]
    total = sum(c for c in costs if c is not None)
    head = f"-# Round {round_label(result)}: {done}/{len(result.answers)} answered" + (
        f" · {money_text(total)} in all" if any(c is not None for c in costs) else "")
    lines = [head, *(f"⚠️ **{a.seat.label}** · answered, but Discord would not show it (it is kept: /export)"
                     if a.seat.alias in unshown and a.status is MessageStatus.COMPLETE else answer_line(a)
                     for a in result.answers)]
    if result.images is not None:
        lines.append(f"-# 🖼️ {result.images.line()}")
    if result.search is not None and result.search.notes:
        lines.append(f"-# 🔎 {result.search.line()}")
    return "\n".join(lines)


def round_label(result: RoundResult) -> str:
    """The debate round's number as the models were told it; a mention or consensus round says which it follows."""
    number = result.shown_number or result.round.number
    if result.round.kind in DEBATE_KINDS:
        return str(number)
    return f"{number} · {'follow-up' if result.round.kind is RoundKind.MENTION else result.round.kind.value}"


def stance_line(stance: Stance) -> str:
    """The compact line under a debate answer, in place of the stance block the model wrote."""
    if not stance.known:
        return "\n\n-# 🧭 stance: unknown (no stance given)"
    confidence = f" · {stance.confidence}% sure" if stance.confidence is not None else ""
    changed = ""
    if stance.changed:
        changed = f" · changed: {stance.reason}" if stance.reason else " · changed (no reason given)"
    return f"\n\n-# 🧭 {stance.position}{confidence}{changed}"


def failed_suffix(reason: str) -> str:
    return f"\n\n-# ⚠️ cut off: {reason}"


STOPPED_SUFFIX = "\n\n-# ⏹️ stopped"


def notice_text(notice: Notice) -> str:
    match notice:
        case ContextTrimmed(dropped, files):
            parts = [f"{name}: {count} oldest message(s) left out" for name, count in dropped]
            parts += [f"{name}: {count} file(s) of older messages left out" for name, count in files]
            return "-# ℹ️ Context trimmed to fit the models' budgets — " + "; ".join(parts) + "."
        case EarlyStop(number, unused, by_stances):
            how = "held the same agreeing stance" if by_stances else "agreed"
            return f"-# 🤝 Every model {how} in round {number}: stopping early ({unused} round(s) left unused)."
        case DepthDecided(go_on, reason, saved, saved_usd):
            if go_on:
                return f"-# 🧭 depth:auto — {reason} after round 1, so the debate goes on."
            return (f"-# 🧭 depth:auto — {reason} after round 1: stopping here, {saved} round(s) skipped "
                    f"(up to ${saved_usd:.4f} not spent).")
        case StanceTimeline(line):
            return timeline_markdown(line)
        case VoteClosed(tally, ties, all_bad, voided, blind):
            head = "🗳️ **Vote closed — the models were:**" if blind else "🗳️ **Vote closed**"
            lines = [head, *(f"• {label} was **{name}**: {votes} vote(s)" if blind and label != name
                             else f"• **{name}**: {votes} vote(s)" for label, name, votes in tally)]
            if ties or all_bad:
                lines.append(f"-# tie: {ties} · all bad: {all_bad}")
            if voided:
                lines.append(f"-# Not counted in the ratings: {voided}.")
            return "\n".join(lines)
        case EveryModelFailed(number, reasons):
            why = "; ".join(f"{name}: {reason}" for name, reason in reasons)
            return (f"-# ⚠️ Every model failed in round {number} ({why[:1500]}), so the discussion stops here "
                    "instead of playing its other rounds with no answers. Use /continue to try again.")
        case PanelistsNamed(names):
            return ("-# 🎭 The models read each other without names (so no name sways them): "
                    + ", ".join(f"{label} is **{name}**" for label, name in names) + ".")
        case BlindPause(left):
            return (f"-# 🎭 That round was blind: vote below first. The other {left} round(s) follow with /continue "
                    "(or **One more round** for one), and the models are revealed when they start.")
        case VoteCall(_, labels, closes_at):
            return f"🗳️ Vote open until {closes_at:%H:%M} UTC: " + ", ".join(labels)
        case Revealed(names):
            return "🎭 **Revealed:** " + ", ".join(f"{label} was **{name}**" for label, name in names)
        case ConsensusWritten(stances, minority, source, claims, sources):
            lines = ["📋 **Where each model stands**", *(f"• **{name}**: {stance}" for name, stance in stances)
                     ] if stances else []
            if minority:
                whose = ("moai's, from the stances: the moderator wrote none" if source is MinoritySource.STANCES
                         else "kept even though it lost")
                lines.append(f"🗳️ **Minority report** ({whose}): {minority}")
            if claims:
                lines.append(f"🔎 **{notice.claims_line()}**")
                lines += [f"-# [{s.number}] {s.title[:80] or 'source'} — <{s.url}>" for s in sources[:10]]
            return "\n".join(lines)
        case ForecastsRead(_, _, final, _, closes_at):
            head = "🔮 **Final forecasts**" if final else "🔮 **Forecasts so far**"
            lines = [head, *(f"• {line}" for line in notice.lines())]
            if final and closes_at is not None:
                lines.append(f"-# Add yours with the button below until <t:{int(closes_at.timestamp())}:f> "
                             "(one each, changeable until then).")
            return "\n".join(lines)
        case ModeratorFallback(failed, next_):
            return f"-# {failed} could not moderate; asking {next_} instead."
        case NoModerator():
            return "⚠️ No moderator could write the consensus. Try again later."
        case PeerReviewed(_, _, reviews, names, not_counted):
            lines = [f"**Peer review** — {reviews} reviewer(s), anonymised, own answer excluded:"]
            lines += [f"{place}. **{name}** · {score:.2f} points" for place, (name, score) in enumerate(names, 1)]
            lines += [f"_{name}'s ranking was not counted: {why}_" for name, why in not_counted]
            return "\n".join(lines)


def timeline_markdown(line: Timeline) -> str:
    """The text fallback of the stance chart, as Discord shows it."""
    rows = timeline_rows(line)
    out = ["**Stance timeline**", *(f"-# {letter}: {position}" for letter, position in rows.positions),
           *(f"**{model}**: {steps}" for model, steps in rows.steps)]
    if rows.baseline:
        out.append(f"⚖️ {rows.baseline}")
    if rows.weighted:
        out.append(f"-# {rows.weighted}")
    if rows.flagged:
        out.append(f"-# ⚠️ {FLAGGED}{rows.flagged}")
    return "\n".join(out)


def member_name(name: str) -> str:
    """A member's name as moai shows it: one line, its Markdown escaped (a nickname is no masked link or bold)."""
    return discord.utils.escape_markdown(" ".join(name.split()))[:100]


def thread_title(question: str, limit: int = THREAD_TITLE_LIMIT) -> str:
    first_line = " ".join(question.split())
    return first_line if len(first_line) <= limit else first_line[: limit - 1].rstrip() + "…"


def crash_text(error: BaseException) -> str:
    """Never claims more than is known: a failed write means what was said may not be stored."""
    if storage_failed(error):
        return (f"⚠️ This discussion stopped: moai's database refused a write ({type(error).__name__}; a full disk "
                "or a lost connection). What is shown here may not be stored; an admin should look at the logs.")
    return (f"⚠️ This discussion stopped on an internal error ({type(error).__name__}). "
            "What was said so far is saved.")
