"""A leaderboard as members and operators read it: the monospace table of /leaderboard and `moai
leaderboard`, its footnotes, and the JSON `moai leaderboard --json` prints."""

from __future__ import annotations

from typing import Any

from bot.kinds import Ties
from bot.services.arena import Board, BoardRow

__all__ = ["board_json", "board_notes", "board_table", "money", "percent"]


def money(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _rating_cells(row: BoardRow) -> tuple[str, str]:
    rated = row.rating
    if rated is None:
        return "–", "–"
    if not row.ranked:
        return "unranked", f"{row.votes} vote(s)"
    return f"{rated.rating:.0f}", f"{rated.low:.0f}–{rated.high:.0f}"


NAME_WIDTH = 40  # a longer display name is cut (with "…"); shorter ones are never cut


def table_name(name: str, width: int) -> str:
    name = name.replace("`", "ˋ")  # a backtick could close the code block
    return name if len(name) <= width else name[:width - 1] + "…"


def board_table(board: Board) -> str:
    """The board as a code block: ranked models first, then unranked (too few votes), then unrated. The
    model column is as wide as the longest name (up to NAME_WIDTH)."""
    width = max([5, *(min(len(row.name), NAME_WIDTH) for row in board.rows)])
    header = f"{'#':>2}  {'model':<{width}} {'rating':>8} {'95% CI':>11} {'votes':>5} {'win':>4} {'med s':>5} " \
             f"{'$/ans':>7} {'fail':>4} {'peer':>5}"
    lines = [header]
    for row in board.rows:
        rating, span = _rating_cells(row)
        peer = board.peer.get(row.alias)
        lines.append(
            f"{board.rank(row.alias) or '–':>2}  {table_name(row.name, width):<{width}} {rating:>8} {span:>11} "
            f"{row.votes:>5} "
            f"{percent(row.win_rate):>4} "
            f"{f'{row.median_latency_s:.1f}' if row.median_latency_s is not None else '–':>5} "
            f"{money(row.cost_per_answer):>7} {percent(row.failure_rate):>4} "
            f"{f'{peer.rating:.0f}' if peer else '–':>5}")
    return "```\n" + "\n".join(lines) + "\n```"


def board_notes(board: Board, ties: Ties) -> list[str]:
    """What the ratings control for and leave out, one short line each."""
    notes = []
    if board.style:
        length = board.style.get("length", 0.0)
        notes.append(f"Style-controlled: length and markdown (headers, lists, bold) are weighed out (here an answer "
                     f"twice as long as the other is worth {length:+.0f} by itself). Raw ratings: raw:True.")
    elif board.scope.raw:
        notes.append("Raw ratings: no style control.")
    if board.ties and ties is Ties.NONE:
        notes.append(f"{board.ties} tie vote(s) move no rating.")
    if any(r.rating is not None and not r.ranked for r in board.rows):
        notes.append(f"A model is ranked from {board.min_votes} vote(s).")
    return notes


def board_json(board: Board, *, guild_id: int | None) -> dict[str, Any]:
    """The board as data, for scripts: every number of the table, unrounded."""
    rows = []
    for row in board.rows:
        rated = row.rating
        rows.append({
            "alias": row.alias, "name": row.name, "rank": board.rank(row.alias), "ranked": row.ranked,
            "rating": rated.rating if rated else None, "low": rated.low if rated else None,
            "high": rated.high if rated else None, "votes": row.votes, "wins": row.wins, "win_rate": row.win_rate,
            "answers": row.answers, "median_latency_s": row.median_latency_s,
            "cost_per_answer_usd": row.cost_per_answer, "failure_rate": row.failure_rate,
            "peer_rating": board.peer[row.alias].rating if row.alias in board.peer else None,
        })
    scope = board.scope
    return {
        "guild_id": guild_id, "category": scope.category.value if scope.category else None,
        "project_id": scope.project_id, "period": scope.period, "style_control": not scope.raw,
        "since": board.since.isoformat() if board.since else None, "votes": board.ballots, "ties": board.ties,
        "min_votes": board.min_votes, "style": board.style, "models": rows,
    }
