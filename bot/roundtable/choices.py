"""A new discussion's choices resolved: the member's options, else the project's defaults, else the config's."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import AppConfig, ModelConfig
from bot.errors import UserError
from bot.kinds import Depth
from bot.modes.debate import DebateSetup
from bot.panel import Panel
from bot.roles import parse_roles
from bot.roundtable.requests import DebateChoices

__all__ = ["blind_choice", "debate_setup_for", "require_search", "search_choice"]


def debate_setup_for(config: AppConfig, panel: Panel, choices: DebateChoices) -> DebateSetup:
    """The debate's roles and depth: the member's options, else the project's defaults."""
    aliases = [m.alias for m in panel.models]
    names = {n.lower(): m.alias for m in panel.models for n in (m.alias, m.name, *m.aliases)}
    if choices.roles is not None:
        chosen = parse_roles(choices.roles, aliases, config.debate.roles, names)
    else:
        stored = panel.project.roles if panel.project else {}
        chosen = {alias: role for alias, role in stored.items() if alias in aliases}
    if choices.rotate and not chosen:
        chosen = {aliases[0]: "devil's advocate"}  # rotating with no roles given: the built-in one goes round
    depth = choices.depth or (Depth(panel.project.depth) if panel.project else Depth.FIXED)
    return DebateSetup(config.debate, chosen, choices.rotate, depth)


def blind_choice(asked: bool | None, panel: Panel) -> bool:
    """The member's choice, else the project's default; a blind round needs two models to compare."""
    blind = asked if asked is not None else bool(panel.project and panel.project.blind)
    if blind and len(panel.models) < 2:
        raise UserError("A blind round needs at least two models to compare.")
    return blind


def search_choice(config: AppConfig, asked: bool | None, panel: Panel) -> bool:
    """The member's choice, else the project's default, else `[search] default`; refused when search is off or
    none of the models could search (a model that cannot answers without it, and says so)."""
    project_default = panel.project.search if panel.project is not None else None
    search = asked if asked is not None else (project_default if project_default is not None
                                              else config.search.default)
    if search:
        require_search(config, panel.models)
    return search


def require_search(config: AppConfig, models: Sequence[ModelConfig]) -> None:
    if not config.search.enabled:
        raise UserError("Web search is turned off for this bot ([search] enabled = false in config.toml).")
    if all(config.search_route(m) == "off" for m in models):
        raise UserError("None of these models can search the web: their providers have no search of their own "
                        "and no [search] backend (SearXNG, Brave or Tavily) is configured.")
