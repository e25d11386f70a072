"""Every Discord send in the cogs passes allowed_mentions explicitly.

discord.py applies the bot-wide AllowedMentions.none() to channel messages, but not to interaction
responses, follow-ups or webhooks: one forgotten keyword there lets echoed user input ping @everyone.
"""

from __future__ import annotations

import ast
from pathlib import Path

COGS = Path(__file__).resolve().parent.parent / "cogs"
SENDING = {"send", "send_message", "reply", "edit_original_response", "edit_message", "edit"}


def sends_without_allowed_mentions() -> list[str]:
    """Calls of Discord send/edit methods lacking the keyword (our Poster interface sets it inside)."""
    found = []
    for path in sorted(COGS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SENDING
                    and not (isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "poster")
                    and not any(k.arg == "allowed_mentions" for k in node.keywords)):
                found.append(f"{path.relative_to(COGS.parent)}:{node.lineno} .{node.func.attr}()")
    return found


def test_every_send_sets_allowed_mentions() -> None:
    assert sends_without_allowed_mentions() == []
