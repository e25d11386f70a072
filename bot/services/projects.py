"""Projects: named panels per server (models, topic, system prompt, default rounds) and channel defaults."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tortoise.exceptions import IntegrityError

from bot.config import ModelConfig
from bot.db.models import ChannelDefault, Project
from bot.errors import UserError
from bot.kinds import Depth
from bot.panel import find_project
from bot.policy import check_rounds
from bot.services.discussions import DiscussionStore

__all__ = ["Project", "ProjectService"]  # Project: for the cogs' annotations

MAX_PROMPT_CHARS = 4000
CLEAR = "-"  # typed as a topic or prompt, clears it


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 64:
        raise UserError("Project names are 1 to 64 characters.")
    return name


def clean_prompt(text: str) -> str:
    if len(text) > MAX_PROMPT_CHARS:
        raise UserError(f"The system prompt is limited to {MAX_PROMPT_CHARS} characters.")
    return text.strip()


def _cleared(text: str) -> str:
    return "" if text.strip() == CLEAR else text.strip()


class ProjectService:
    def __init__(self, store: DiscussionStore) -> None:
        self.store = store

    async def create(self, guild_id: int, guild_name: str, name: str, models: Sequence[ModelConfig], *,
                     topic: str | None, system_prompt: str | None, rounds: int | None,
                     roles: Mapping[str, str] | None = None, depth: str | None = None,
                     blind: bool | None = None, limit: int | None = None, search: bool | None = None) -> Project:
        name = clean_name(name)
        prompt = clean_prompt(system_prompt or "")
        guild = await self.store.ensure_guild(guild_id, guild_name)
        if limit is not None and await Project.filter(guild=guild).count() >= limit:
            raise UserError(f"This server has {limit} projects, the most it may have; delete one first.")
        try:
            return await Project.create(guild=guild, name=name, models=[m.alias for m in models],
                                        topic=(topic or "").strip(), system_prompt=prompt,
                                        default_rounds=check_rounds(rounds) if rounds is not None else None,
                                        roles=dict(roles or {}), depth=depth or Depth.FIXED, blind=bool(blind),
                                        search=search)
        except IntegrityError:
            raise UserError(f"A project named `{name}` already exists here.") from None

    async def all(self, guild_id: int | None) -> list[Project]:
        return await Project.filter(guild__discord_id=guild_id).order_by("name")

    async def names_like(self, guild_id: int | None, text: str, limit: int) -> list[str]:
        projects = await Project.filter(guild__discord_id=guild_id,
                                        name__icontains=text.strip()).order_by("name").limit(limit)
        return [p.name for p in projects]

    async def get(self, guild_id: int | None, name: str) -> Project:
        return await find_project(guild_id, name)

    async def default_channels(self, project: Project) -> list[int]:
        rows = await ChannelDefault.filter(project=project).order_by("channel_id")
        return [row.channel_id for row in rows]

    async def use(self, guild_id: int, guild_name: str, channel_id: int, name: str | None) -> Project | None:
        """Make the project the channel's default, or clear the default when no name is given."""
        if name is None:
            await ChannelDefault.filter(channel_id=channel_id).delete()
            return None
        project = await find_project(guild_id, name)
        updated = await ChannelDefault.filter(channel_id=channel_id).update(project=project)
        if not updated:
            await ChannelDefault.create(guild=await self.store.ensure_guild(guild_id, guild_name),
                                        channel_id=channel_id, project=project)
        return project

    async def update(self, guild_id: int | None, name: str, *, new_name: str | None, topic: str | None,
                   system_prompt: str | None, rounds: int | None, roles: Mapping[str, str] | None = None,
                   depth: str | None = None, blind: bool | None = None, search: bool | None = None) -> Project:
        project = await find_project(guild_id, name)
        if new_name is not None:
            project.name = clean_name(new_name)
        if topic is not None:
            project.topic = _cleared(topic)
        if system_prompt is not None:
            project.system_prompt = _cleared(clean_prompt(system_prompt))
        if rounds is not None:
            project.default_rounds = check_rounds(rounds)
        if roles is not None:
            project.roles = dict(roles)
        if depth is not None:
            project.depth = depth
        if blind is not None:
            project.blind = blind
        if search is not None:
            project.search = search
        try:
            await project.save()
        except IntegrityError:
            raise UserError(f"A project named `{project.name}` already exists here.") from None
        return project

    async def remove(self, guild_id: int | None, name: str) -> Project:
        project = await find_project(guild_id, name)
        await project.delete()
        return project

    async def add_model(self, guild_id: int | None, name: str, model: ModelConfig) -> Project:
        project = await find_project(guild_id, name)
        if model.alias in project.models:
            raise UserError(f"{model.name} is already in {project.name}.")
        project.models = [*project.models, model.alias]
        await project.save(update_fields=["models"])
        return project

    async def remove_model(self, guild_id: int | None, name: str, alias: str, typed: str) -> Project:
        project = await find_project(guild_id, name)
        if alias not in project.models:
            raise UserError(f"`{typed[:40]}` is not in {project.name} ({', '.join(project.models) or 'empty'}).")
        project.models = [a for a in project.models if a != alias]
        await project.save(update_fields=["models"])
        return project
