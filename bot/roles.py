"""Debate roles: standing instructions that keep a panel from collapsing into agreement.

Built in: devil's advocate, skeptic, domain expert. Servers' owners add their own under `[debate.roles]`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from bot.errors import UserError

BUILT_IN_ROLES = {
    "devil's advocate": (
        "Your role in this debate is devil's advocate: argue the strongest case against the position most "
        "participants hold, even if you privately agree with it. Find the weakest assumption and press on it. "
        "Concede a point only when it has been answered with evidence, never because others agree."),
    "skeptic": (
        "Your role in this debate is the skeptic: ask for evidence behind every claim, point out what is "
        "unverified or extrapolated, and separate what is known from what is guessed."),
    "domain expert": (
        "Your role in this debate is the domain expert: bring precise, field-specific knowledge, correct "
        "technical mistakes by name, and say where the question leaves your field."),
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def find_role(name: str, custom: Mapping[str, str]) -> tuple[str, str] | None:
    """(canonical name, instructions) for a role name like "devils-advocate" or "Skeptic"; custom roles win."""
    wanted = _key(name)
    for table in (custom, BUILT_IN_ROLES):
        for role, prompt in table.items():
            if _key(role) == wanted:
                return role, prompt
    return None


def role_names(custom: Mapping[str, str]) -> list[str]:
    return [*custom, *(r for r in BUILT_IN_ROLES if _key(r) not in {_key(c) for c in custom})]


def parse_roles(text: str, panel: Sequence[str], custom: Mapping[str, str],
                resolve: Mapping[str, str]) -> dict[str, str]:
    """`claude=skeptic, gpt=devil's advocate` -> {alias: role}. `resolve` maps every accepted model name to its
    alias. UserError names the first thing wrong, so a member sees exactly what to fix."""
    roles: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        model, sep, role = part.partition("=")
        if not sep:
            raise UserError(f"Roles are given as `model=role`, e.g. `claude=skeptic` (got `{part}`).")
        alias = resolve.get(model.strip().lstrip("@").lower())
        if alias is None or alias not in panel:
            raise UserError(f"`{model.strip()}` is not on this discussion's panel ({', '.join(panel)}).")
        found = find_role(role.strip(), custom)
        if found is None:
            raise UserError(f"Unknown role `{role.strip()}`. Roles: {', '.join(role_names(custom))}.")
        roles[alias] = found[0]
    return roles


def seat_roles(panel: Sequence[str], roles: Mapping[str, str], rotate: bool, round_number: int) -> dict[str, str]:
    """Who holds which role in a round. Rotating moves every role one seat along per round, so each model
    takes a turn as (say) devil's advocate; round 1 is as assigned."""
    if not rotate or not roles:
        return dict(roles)
    shift = (round_number - 1) % len(panel)
    return {panel[(panel.index(alias) + shift) % len(panel)]: role for alias, role in roles.items()
            if alias in panel}
