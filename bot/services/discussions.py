"""Every write to the discussion tables (discussions, turns, records, Discord ids, deletion) goes through here."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from bot.arena.blind import blind_names
from bot.arena.categories import category_of
from bot.attachments import Attachment
from bot.claims import MAX_SOURCES, Claim, ConsensusSource
from bot.consensus_sections import Minority
from bot.db.models import (
    AttachmentRecord,
    ConsensusReport,
    Discussion,
    ForecastRecord,
    Guild,
    Message,
    PeerRanking,
    Round,
    SourceRecord,
    StanceRecord,
    Vote,
    VoteRound,
)
from bot.engine.rounds import RoundResult
from bot.errors import UserError
from bot.kinds import (
    ANSWERING_KINDS,
    DEBATE_KINDS,
    AuthorKind,
    Category,
    Depth,
    DiscussionMode,
    DiscussionStatus,
    MessageStatus,
    RoundStatus,
)
from bot.panel import Panel
from bot.search.shown import AnswerSources, ShownSource
from bot.services import ledger
from bot.services.budget import create_guild_row
from bot.stances import UNKNOWN, Stance
from bot.text import clean_text

__all__ = ["Author", "Discussion", "DiscussionStore"]

# The structured consensus, in the order the moderator writes it (stored as ConsensusReport fields).
CONSENSUS_SECTIONS = ("agreement", "disagreements", "unique_insights", "blind_spots", "minority_report",
                      "final_answer")  # Discussion: for the cogs' annotations


@dataclass(frozen=True, slots=True)
class Author:
    """A person as the core knows them: a stable id and the name the models see."""

    id: int | None
    name: str


@dataclass(frozen=True, slots=True)
class Place:
    """Where a discussion lives: its guild (None in the console), channel and thread."""

    guild_id: int | None = None
    guild_name: str = ""
    channel_id: int | None = None
    thread_id: int | None = None


class DiscussionStore:
    async def ensure_guild(self, guild_id: int, name: str = "") -> Guild:
        return await create_guild_row(guild_id, name)

    async def create(self, *, mode: DiscussionMode, question: str, panel: Panel, author: Author, place: Place,
                     rounds_planned: int = 1, roles: Mapping[str, str] | None = None, rotate_roles: bool = False,
                     depth: Depth = Depth.FIXED, blind: bool = False,
                     attachments: Sequence[Attachment] = (), search: bool = False) -> Discussion:
        """The discussion and its opening question as the first turn; a blind one gets its models' neutral
        names ("Model A"…, shuffled) and stays unrevealed until its vote closes or its next round starts."""
        guild = await self.ensure_guild(place.guild_id, place.guild_name) if place.guild_id is not None else None
        discussion = await Discussion.create(
            guild=guild, project=panel.project, channel_id=place.channel_id, thread_id=place.thread_id, mode=mode,
            question=question, models=[m.alias for m in panel.models], rounds_planned=rounds_planned,
            created_by=author.id, roles=dict(roles or {}), rotate_roles=rotate_roles, depth=depth,
            blind_names=blind_names([m.alias for m in panel.models], random.SystemRandom()) if blind else {},
            revealed=not blind, category=category_of(question), search=search,
        )
        await self.add_user_turn(discussion, author, question, attachments=attachments)
        return discussion

    async def discard(self, discussion: Discussion) -> None:
        """A discussion whose start failed after it was stored: it goes, with its question (nothing ran)."""
        await discussion.delete()

    async def set_category(self, discussion: Discussion, category: Category) -> None:
        """What a tagging model placed the discussion in (its leaderboard category): its votes move with it."""
        async with in_transaction() as connection:
            await Discussion.filter(id=discussion.id).using_db(connection).update(category=category)
            await VoteRound.filter(discussion_id=discussion.id).using_db(connection).update(category=category)
        discussion.category = category

    async def add_user_turn(self, discussion: Discussion, author: Author, content: str,
                            discord_message_id: int | None = None, attachments: Sequence[Attachment] = ()) -> Message:
        """A member's message and its files, in one transaction: never a turn with half its files."""
        async with in_transaction() as connection:
            row = await Message.create(discussion=discussion, author_kind=AuthorKind.USER, author_id=author.id,
                                       author_name=clean_text(author.name)[:100], content=clean_text(content),
                                       discord_message_ids=[discord_message_id] if discord_message_id else [],
                                       using_db=connection)
            for file in attachments:
                await AttachmentRecord.create(message=row, discussion=discussion, name=file.name, kind=file.kind,
                                              media_type=file.media_type, data=file.data,
                                              text=clean_text(file.text), width=file.width, height=file.height,
                                              pages=file.pages, sha256=file.sha256, using_db=connection)
        return row

    async def attachments_of(self, discussion: Discussion) -> list[AttachmentRecord]:
        return await AttachmentRecord.filter(discussion=discussion).order_by("id")

    async def add_record(self, discussion: Discussion, text: str) -> Message:
        """moai's own note in the discussion (a peer review's ranking): exported, not shown to the models."""
        return await Message.create(discussion=discussion, author_kind=AuthorKind.SYSTEM, author_name="moai",
                                    content=text)

    async def add_ranking(self, round_: Round, reviewer: str, ranking: Sequence[str], shown_order: Sequence[str],
                          error: str | None) -> None:
        await PeerRanking.create(round=round_, reviewer=reviewer, ranking=list(ranking),
                                 shown_order=list(shown_order), error=error[:300] if error else None)

    async def add_stances(self, result: RoundResult, stances: Mapping[str, Stance]) -> None:
        """Each answer's stance as parsed (unknown ones too, so the timeline shows who gave none)."""
        for answer in result.answers:
            stance = stances.get(answer.model.alias, UNKNOWN)
            await StanceRecord.create(message_id=answer.row.id, discussion_id=result.round.discussion_id,
                                      round_number=result.round.number, model_alias=answer.model.alias,
                                      role=answer.seat.role[:64], position=stance.position,
                                      confidence=stance.confidence, changed=stance.changed, reason=stance.reason)

    async def add_consensus_report(self, discussion: Discussion, moderator: str, sections: Mapping[str, str],
                                   stances: Mapping[str, str], minority: Minority, claims: Sequence[Claim] = (),
                                   sources: Sequence[ConsensusSource] = ()) -> ConsensusReport:
        return await ConsensusReport.create(
            discussion=discussion, moderator=moderator[:32], stances=dict(stances), minority_report=minority.text,
            minority_source=minority.source,
            agreement=sections.get("agreement", ""), disagreements=sections.get("disagreements", ""),
            unique_insights=sections.get("unique_insights", ""), blind_spots=sections.get("blind_spots", ""),
            final_answer=sections.get("final_answer", ""),
            claims=[{"text": c.text, "sources": list(c.sources)} for c in claims],
            claim_sources=[{"number": s.number, "url": s.url, "title": s.title} for s in sources])

    async def consensus_sources(self, discussion: Discussion) -> list[ConsensusSource]:
        """Every source the discussion's answers cited, each URL once, numbered for a consensus's Claims."""
        found: dict[str, str] = {}
        rows = await SourceRecord.filter(discussion=discussion, cited=True).order_by("message_id", "number") \
            .values_list("url", "title")
        for url, title in rows:
            if url not in found and len(found) < MAX_SOURCES:
                found[url] = title
        return [ConsensusSource(n, url, title) for n, (url, title) in enumerate(found.items(), start=1)]

    # --- lookups ------------------------------------------------------------------------
    async def stances(self, discussion: Discussion) -> list[StanceRecord]:
        return await StanceRecord.filter(discussion=discussion).order_by("round_number", "id")

    async def latest_stances(self, discussion: Discussion) -> dict[str, Stance]:
        """Each model's most recent stance (a later unknown one does not hide an earlier known one)."""
        latest: dict[str, Stance] = {}
        for row in await self.stances(discussion):
            if row.position is not None:
                latest[row.model_alias] = Stance(row.position, row.confidence, row.changed, row.reason)
        return latest

    async def get(self, discussion_id: int) -> Discussion | None:
        return await Discussion.get_or_none(id=discussion_id)

    async def by_thread(self, thread_id: int | None) -> Discussion | None:
        return await Discussion.get_or_none(thread_id=thread_id) if thread_id else None

    async def has_rounds(self, discussion: Discussion) -> bool:
        """Whether any round was ever started (a new discussion's first run has none)."""
        return await Round.filter(discussion=discussion).exists()

    async def completed_rounds(self, discussion: Discussion) -> int:
        return await Round.filter(discussion=discussion, status=RoundStatus.COMPLETED,
                                  kind__in=list(DEBATE_KINDS)).count()

    async def latest_answers(self, discussion: Discussion) -> dict[str, str]:
        """The complete answers of the most recent finished answering round, by model alias."""
        last = await Round.filter(discussion=discussion, status=RoundStatus.COMPLETED,
                                  kind__in=list(ANSWERING_KINDS)).order_by("-number").first()
        if last is None:
            return {}
        rows = await Message.filter(round=last, status=MessageStatus.COMPLETE).exclude(content="").order_by("id")
        return {row.model_alias: row.content for row in rows if row.model_alias}

    async def model_of_message(self, discussion: Discussion, discord_message_id: int) -> str | None:
        """The alias of the model whose answer includes this Discord message."""
        rows = await Message.filter(discussion=discussion, author_kind=AuthorKind.MODEL).only(
            "id", "model_alias", "discord_message_ids")
        for row in rows:
            if discord_message_id in row.discord_message_ids:
                return row.model_alias
        return None

    async def still_blind(self, discussion: Discussion) -> bool:
        """A blind discussion not revealed yet (read fresh: another process may have closed its vote)."""
        if not discussion.blind_names:
            return False
        await discussion.refresh_from_db(fields=["revealed"])
        return discussion.masked

    async def blind_vote_open(self, discussion: Discussion) -> bool:
        """Whether a vote is open under this (blind) discussion: closing it is what reveals the models."""
        return await VoteRound.filter(discussion=discussion, closed_at=None).exists()

    async def reasoning_of(self, message_row_id: int) -> tuple[str, str] | None:
        """(model name, reasoning) of a stored answer, or None when it is gone (deleted) or has none.

        Refused (UserError) in a blind discussion until its reveal: a reasoning can name its model."""
        row = await Message.get_or_none(id=message_row_id, author_kind=AuthorKind.MODEL)
        if row is None or not row.reasoning:
            return None
        discussion = await Discussion.get(id=row.discussion_id)
        if discussion.masked:
            raise UserError("This round is blind: its reasoning is shown once the vote closes.")
        return row.author_name, row.reasoning

    async def round_sources(self, round_id: int) -> tuple[int, list[AnswerSources]] | None:
        """(discussion id, each answer's sources as numbered) of a round, or None when the round is gone.

        Labels are what the answers were shown under (a blind round's stay blind); never the provider."""
        round_ = await Round.get_or_none(id=round_id)
        if round_ is None:
            return None
        answers = await Message.filter(round_id=round_id, author_kind=AuthorKind.MODEL).order_by("id")
        query = SourceRecord.filter(message_id__in=[a.id for a in answers]).order_by("message_id", "number")
        if (await Discussion.get(id=round_.discussion_id)).masked:
            query = query.filter(cited=True)  # results given but not cited come from moai's backend: whose it is
        rows = await query
        by_answer: dict[int, list[SourceRecord]] = {}
        for row in rows:
            by_answer.setdefault(row.message_id, []).append(row)  # type: ignore[attr-defined]
        return round_.discussion_id, [
            AnswerSources(a.author_name, a.search_note,
                          tuple(ShownSource(s.number, s.url, s.title, s.cited) for s in by_answer.get(a.id, [])))
            for a in answers if a.id in by_answer or a.search_note]

    async def place_of(self, discussion_id: int) -> Place | None:
        """Where a discussion lives (its guild's Discord id, channel, thread), or None once it is gone."""
        rows = await Discussion.filter(id=discussion_id).values("guild__discord_id", "channel_id", "thread_id")
        if not rows:
            return None
        row = rows[0]
        return Place(row["guild__discord_id"], "", row["channel_id"], row["thread_id"])

    async def discussion_of_answer(self, message_row_id: int) -> int | None:
        rows = await Message.filter(id=message_row_id).values_list("discussion_id", flat=True)
        return int(rows[0]) if rows else None  # type: ignore[call-overload]

    async def message_count(self, discussion: Discussion) -> int:
        return await Message.filter(discussion=discussion).count()

    # --- changes ------------------------------------------------------------------------
    async def set_status(self, discussion: Discussion, status: DiscussionStatus) -> None:
        discussion.status = status
        await discussion.save(update_fields=["status", "updated_at"])

    async def claim(self, discussion: Discussion) -> bool:
        """Mark it running unless it already is: one atomic update, so of two simultaneous Resume or /continue
        presses (in any process) exactly one wins."""
        claimed = await Discussion.filter(id=discussion.id).exclude(status=DiscussionStatus.RUNNING).update(
            status=DiscussionStatus.RUNNING)
        return bool(claimed)

    async def unclaim(self, discussion: Discussion) -> None:
        """The claimed run never started: back to the status it had."""
        await Discussion.filter(id=discussion.id, status=DiscussionStatus.RUNNING).update(status=discussion.status)

    async def plan_rounds(self, discussion: Discussion, total: int) -> None:
        discussion.rounds_planned = total
        await discussion.save(update_fields=["rounds_planned", "updated_at"])

    async def remember_discord_messages(self, message_row_id: int, discord_ids: Sequence[int]) -> None:
        await Message.filter(id=message_row_id).update(discord_message_ids=list(discord_ids))

    async def forget_discussion(self, discussion: Discussion) -> None:
        """Its rows go; its spend stays counted in the ledger, no longer tied to it or its members."""
        await ledger.anonymise_discussion(discussion.id)
        await discussion.delete()

    async def forget_member(self, user_id: int, *, dry_run: bool) -> tuple[int, int]:
        """Discussions the member started (with everything in them) and their turns elsewhere, as counts."""
        started = Discussion.filter(created_by=user_id)
        elsewhere = Message.filter(author_kind=AuthorKind.USER, author_id=user_id).exclude(
            discussion__created_by=user_id)
        counts = (await started.count(), await elsewhere.count())
        if not dry_run:
            # Their spend stays counted (budgets), tied to no one and to no deleted discussion.
            for discussion_id in await Discussion.filter(created_by=user_id).values_list("id", flat=True):
                await ledger.anonymise_discussion(int(discussion_id))  # type: ignore[call-overload]
            await ledger.anonymise_member(user_id)
            # Still counted, once; no longer theirs. In a vote still open the binding stays until the tally,
            # or forgetting would free the member to vote again.
            await Vote.filter(user_id=user_id, vote_round__closed_at__isnull=False).update(user_id=None)
            await Vote.filter(user_id=user_id).update(forget_on_close=True)
            # Their forecasts on others' questions stay in those questions and in the crowd's score, nameless.
            await ForecastRecord.filter(user_id=user_id).update(user_id=None, author_name="")
            await started.delete()
            await Message.filter(author_kind=AuthorKind.USER, author_id=user_id).delete()
        return counts
