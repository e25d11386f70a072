"""Which members may run which models in a server: "the expensive reasoning model only for @supporters".
A model with no rule runs for everyone; with rules, only for members holding one of the roles named. A
server's rules hold everywhere in it; a project's rules hold in its discussions too (both must be met)."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.exceptions import IntegrityError

from bot.config import ModelConfig
from bot.db.models import ModelAccess
from bot.errors import UserError
from bot.services.budget import create_guild_row

__all__ = ["access_rules", "allow_role", "every_rule", "require_access", "revoke_role"]


async def access_rules(guild_id: int, project_id: int | None = None) -> dict[str, list[int]]:
    """Model alias -> the roles it is kept for: the server's rules, or (project_id) that project's."""
    rules: dict[str, list[int]] = {}
    rows = ModelAccess.filter(guild__discord_id=guild_id, project_id=project_id).order_by("model_alias", "role_id")
    for alias, role_id in await rows.values_list("model_alias", "role_id"):
        rules.setdefault(str(alias), []).append(int(role_id))
    return rules


async def every_rule(guild_id: int) -> dict[tuple[str, str], list[int]]:
    """(project name, "" for the server's; model alias) -> roles, for listing."""
    rules: dict[tuple[str, str], list[int]] = {}
    rows = ModelAccess.filter(guild__discord_id=guild_id).order_by("project_id", "model_alias", "role_id")
    for project, alias, role_id in await rows.values_list("project__name", "model_alias", "role_id"):
        rules.setdefault((str(project or ""), str(alias)), []).append(int(role_id))
    return rules


async def require_access(guild_id: int, models: Sequence[ModelConfig], role_ids: Sequence[int],
                         project_id: int | None = None) -> None:
    """UserError naming the first model the member may not run here, and the roles it is kept for."""
    scopes = [(await access_rules(guild_id), "in this server")]
    if project_id is not None:
        scopes.append((await access_rules(guild_id, project_id), "in this project"))
    for kept, where in scopes:
        for model in models:
            roles = kept.get(model.alias)
            if roles and not set(roles) & set(role_ids):
                names = ", ".join(f"<@&{role}>" for role in roles)
                raise UserError(f"{model.name} is only for {names} {where}. Pick other models, or ask an admin.")


async def allow_role(guild_id: int, alias: str, role_id: int, project_id: int | None = None) -> None:
    guild = await create_guild_row(guild_id)
    try:
        await ModelAccess.create(guild=guild, project_id=project_id, model_alias=alias, role_id=role_id)
    except IntegrityError:
        pass  # already kept for that role


async def revoke_role(guild_id: int, alias: str, role_id: int | None, project_id: int | None = None) -> int:
    """One role's rule off the model, or (role None) every rule: the model runs for everyone again there."""
    rules = ModelAccess.filter(guild__discord_id=guild_id, project_id=project_id, model_alias=alias)
    return await (rules.filter(role_id=role_id) if role_id is not None else rules).delete()
