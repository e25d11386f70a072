"""After a restart: discussions this process's guilds left running are marked interrupted, text kept."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tortoise.timezone import now

from bot.db.models import Discussion, Message, Round
from bot.kinds import DiscussionStatus, MessageStatus, RoundStatus
from bot.logs import log_event
from bot.services.budget import release_orphaned_holds
from bot.services.discussions import DiscussionStore
from bot.services.runs import RunRegistry

log = logging.getLogger(__name__)
INTERRUPTED_REASON = "interrupted by a restart"
RECOVERY_CHUNK = 500  # discussions per statement: inside every database's parameter limit


class Recovery:
    def __init__(self, store: DiscussionStore, runs: RunRegistry) -> None:
        self.store = store
        self.runs = runs

    async def release_holds(self, guild_ids: Sequence[int]) -> int:
        """Budget holds a crashed run of this process left in its guilds: released now, not in an hour."""
        released = await release_orphaned_holds(guild_ids)
        if released:
            log_event(log, "holds_released", count=released, guilds=len(guild_ids))
        return released

    async def mark_interrupted(self, guild_ids: Sequence[int]) -> list[Discussion]:
        """Running discussions of these guilds that no run of this process is playing become interrupted."""
        stale = await Discussion.filter(status=DiscussionStatus.RUNNING, guild__discord_id__in=list(guild_ids))
        stale = [d for d in stale if not (d.thread_id and self.runs.is_running(d.thread_id))]
        # Three statements per chunk of discussions, not three per discussion: 100 interrupted discussions
        # cost what one did, and their Resume notices go out at once.
        for start in range(0, len(stale), RECOVERY_CHUNK):
            ids = [d.id for d in stale[start:start + RECOVERY_CHUNK]]
            await Round.filter(discussion_id__in=ids, status=RoundStatus.RUNNING).update(
                status=RoundStatus.INTERRUPTED, finished_at=now())
            await Message.filter(discussion_id__in=ids, status=MessageStatus.STREAMING).update(
                status=MessageStatus.INTERRUPTED, error=INTERRUPTED_REASON)
            await Discussion.filter(id__in=ids, status=DiscussionStatus.RUNNING).update(
                status=DiscussionStatus.INTERRUPTED, updated_at=now())
        for discussion in stale:
            discussion.status = DiscussionStatus.INTERRUPTED
            log_event(log, "run_interrupted", discussion=discussion.id, thread=discussion.thread_id)
        return stale
