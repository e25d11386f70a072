"""Errors whose text is written for the person who typed the command."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a state the user can fix; shown to them as is (ephemeral in Discord)."""
