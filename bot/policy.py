"""Rules that several commands share, each in one place: round counts and who may steer a running discussion."""

from __future__ import annotations

from bot.errors import UserError

MIN_ROUNDS, MAX_ROUNDS = 1, 10


def check_rounds(rounds: int) -> int:
    if not MIN_ROUNDS <= rounds <= MAX_ROUNDS:
        raise UserError(f"Rounds must be between {MIN_ROUNDS} and {MAX_ROUNDS} (got {rounds}).")
    return rounds


def may_steer(started_by: int | None, member_id: int, *, manages_threads: bool, anyone: bool = False) -> bool:
    """/stop, /continue and Resume: the member who started the discussion, or a moderator of threads
    (or anyone, where the server chose so with /steering)."""
    return anyone or manages_threads or started_by is None or started_by == member_id


def require_steer(started_by: int | None, member_id: int, *, manages_threads: bool, action: str,
                  anyone: bool = False) -> None:
    if not may_steer(started_by, member_id, manages_threads=manages_threads, anyone=anyone):
        raise UserError(f"Only the member who started this discussion, or someone with Manage Threads, can "
                        f"{action} it.")
