"""When a question resolves, as typed: a date ("2027-01-31", "2027-01-31 18:00", UTC) or a duration from now
("3d", "2w", "12h", "90m", "1 day")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["parse_resolves"]

DURATION_RE = re.compile(r"^\s*(\d{1,4})\s*(m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)\s*$", re.IGNORECASE)
UNITS = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}
LONGEST = timedelta(days=3660)  # ten years: a later date is a typo


def parse_resolves(text: str, at: datetime) -> datetime:
    """The resolution time, or ValueError saying what is wrong with what was typed."""
    typed = text.strip()
    match = DURATION_RE.match(typed)
    if match is not None:
        unit = match[2].lower()[0]
        when = at + timedelta(seconds=int(match[1]) * UNITS[unit])
    else:
        try:
            parsed = datetime.fromisoformat(typed.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"`{typed[:40]}` is neither a date (2027-01-31, 2027-01-31 18:00 UTC) nor a duration "
                             "(3d, 2w, 12h).") from None
        when = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if len(typed) <= 10:  # a date alone: the end of that day
            when = when.replace(hour=23, minute=59)
    if when <= at:
        raise ValueError(f"The resolution time must be in the future ({when:%Y-%m-%d %H:%M} UTC has passed).")
    if when - at > LONGEST:
        raise ValueError("The resolution time must be within ten years.")
    return when
