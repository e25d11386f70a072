"""/project: named panels (models, topic, system prompt, default rounds) per server; changes need Manage Server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.kinds import Depth
from bot.roles import parse_roles
from cogs.delivery.send import NO_MENTIONS
from cogs.utils.checks import require_manage_guild
from cogs.utils.pages import Pages, paginate
from cogs.utils.transformers import Model, Models, Project, model_choices

if TYPE_CHECKING:
    from bot.services.projects import Project as ProjectRow
    from cogs.client import MoaiBot

PROMPT_PREVIEW = 300


def describe(project: ProjectRow, channels: list[int]) -> str:
    lines = [f"**{project.name}**", f"Models: {', '.join(project.models) or 'the configured defaults'}"]
    if project.topic:
        lines.append(f"Topic: {project.topic}")
    if project.system_prompt:
        prompt = project.system_prompt
        lines.append(f"System prompt: {prompt[:PROMPT_PREVIEW]}{'…' if len(prompt) > PROMPT_PREVIEW else ''}")
    if project.default_rounds:
        lines.append(f"Default rounds: {project.default_rounds}")
    if project.roles:
        lines.append("Roles: " + ", ".join(f"{alias} as {role}" for alias, role in project.roles.items()))
    if project.blind:
        lines.append("Blind: /open and round 1 of /discuss answer as Model A, B… until the vote")
    if project.search is not None:
        lines.append("Web search: " + ("on by default (search:false to skip)" if project.search else "off by default"))
    if project.depth == Depth.AUTO:
        lines.append("Depth: auto (more rounds only when round 1 leaves the models disagreeing or unsure)")
    if channels:
        lines.append("Default in: " + ", ".join(f"<#{c}>" for c in channels))
    return "\n".join(lines)


class Projects(commands.GroupCog, group_name="project", group_description="Named model panels for this server"):
    models = app_commands.Group(name="models", description="Change a project's models")

    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot
        self.projects = bot.services.projects
        super().__init__()

    async def _say(self, interaction: discord.Interaction[MoaiBot], text: str, *, ephemeral: bool = False) -> None:
        await interaction.response.send_message(text, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)

    @staticmethod
    def _guild(interaction: discord.Interaction[MoaiBot]) -> discord.Guild:
        assert interaction.guild is not None, "guild_only"
        return interaction.guild

    @app_commands.command(name="create", description="Create a project (needs Manage Server)")
    @app_commands.describe(name="Project name", models="Comma-separated models (default: the configured panel)",
                           topic="What the project is about", system_prompt="Extra instructions for every model",
                           rounds="Default rounds for /discuss (1-10)",
                           roles="Debate roles, model=role, e.g. claude=devil's advocate, gpt=skeptic",
                           depth="auto: /discuss plays more rounds only when round 1 leaves disagreement",
                           blind="Blind rounds by default (arena votes without knowing who is who)",
                           search="Its discussions search the web and cite sources unless asked not to")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def create(self, interaction: discord.Interaction[MoaiBot], name: str, models: Models | None = None,
                     topic: str | None = None, system_prompt: str | None = None, rounds: int | None = None,
                     roles: str | None = None, depth: Literal["fixed", "auto"] | None = None,
                     blind: bool | None = None, search: bool | None = None) -> None:
        require_manage_guild(interaction, "Creating a project")
        guild = self._guild(interaction)
        seated = [m.alias for m in (models or self.bot.config.default_models())]
        project = await self.projects.create(guild.id, guild.name, name, models or [], topic=topic,
                                             limit=self.bot.config.defaults.max_projects,
                                             system_prompt=system_prompt, rounds=rounds,
                                             roles=self._roles(roles, seated), depth=depth, blind=blind,
                                             search=search)
        await self._say(interaction, f"📁 Project **{project.name}** created. Use it with `/project use "
                                     f"{project.name}` or the `project` option of /open and /discuss.")

    @app_commands.command(name="list", description="List this server's projects")
    @app_commands.guild_only()
    async def list(self, interaction: discord.Interaction[MoaiBot]) -> None:
        projects = await self.projects.all(interaction.guild_id)
        if not projects:
            await self._say(interaction, "No projects yet. Create one with /project create.", ephemeral=True)
            return
        lines = [f"• **{p.name}** — {', '.join(p.models) or 'default models'}"
                 + (f" · {p.topic[:80]}" if p.topic else "") for p in projects]
        await Pages(paginate(lines), interaction.user.id).show(interaction)

    @app_commands.command(name="info", description="Show a project")
    @app_commands.guild_only()
    async def info(self, interaction: discord.Interaction[MoaiBot], name: Project) -> None:
        project = await self.projects.get(interaction.guild_id, name)
        await self._say(interaction, describe(project, await self.projects.default_channels(project)),
                        ephemeral=True)

    @app_commands.command(name="use", description="Make a project this channel's default (needs Manage Server)")
    @app_commands.describe(name="Project name; leave empty to clear this channel's default")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def use(self, interaction: discord.Interaction[MoaiBot], name: Project | None = None) -> None:
        require_manage_guild(interaction, "Changing a channel's project")
        channel = interaction.channel
        channel_id = channel.parent_id if isinstance(channel, discord.Thread) else interaction.channel_id
        assert channel_id is not None
        guild = self._guild(interaction)
        project = await self.projects.use(guild.id, guild.name, channel_id, name)
        if project is None:
            await self._say(interaction, f"<#{channel_id}> has no default project now.")
        else:
            await self._say(interaction, f"📁 /open and /discuss in <#{channel_id}> now use **{project.name}**.")

    @app_commands.command(name="edit", description="Change a project (needs Manage Server)")
    @app_commands.describe(new_name="Rename it", topic="New topic (use '-' to clear)",
                           system_prompt="New system prompt (use '-' to clear)", rounds="Default rounds (1-10)",
                           roles="Debate roles, model=role (use '-' to clear)",
                           depth="auto: more rounds only when round 1 leaves disagreement; fixed: as asked",
                           blind="Blind rounds by default",
                           search="Its discussions search the web by default (true/false)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def edit(self, interaction: discord.Interaction[MoaiBot], name: Project, new_name: str | None = None,
                   topic: str | None = None, system_prompt: str | None = None, rounds: int | None = None,
                   roles: str | None = None, depth: Literal["fixed", "auto"] | None = None,
                   blind: bool | None = None, search: bool | None = None) -> None:
        require_manage_guild(interaction, "Editing a project")
        current = await self.projects.get(interaction.guild_id, name)
        seated = list(current.models) or [m.alias for m in self.bot.config.default_models()]
        parsed = {} if roles is not None and roles.strip() == "-" else self._roles(roles, seated)
        project = await self.projects.update(interaction.guild_id, name, new_name=new_name, topic=topic,
                                             system_prompt=system_prompt, rounds=rounds, roles=parsed, depth=depth,
                                             blind=blind, search=search)
        await self._say(interaction, "📁 Updated.\n" + describe(project, []))

    def _roles(self, text: str | None, seated: Sequence[str]) -> dict[str, str] | None:
        if text is None:
            return None
        config = self.bot.config
        names = {n.lower(): m.alias for m in config.models.values() for n in (m.alias, m.name, *m.aliases)}
        return parse_roles(text, seated, config.debate.roles, names)

    @app_commands.command(name="delete", description="Delete a project (needs Manage Server)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def delete(self, interaction: discord.Interaction[MoaiBot], name: Project) -> None:
        require_manage_guild(interaction, "Deleting a project")
        project = await self.projects.remove(interaction.guild_id, name)
        await self._say(interaction, f"🗑️ Project **{project.name}** deleted. Its discussions are kept.")

    @models.command(name="add", description="Add a model to a project (needs Manage Server)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def models_add(self, interaction: discord.Interaction[MoaiBot], name: Project, model: Model) -> None:
        require_manage_guild(interaction, "Changing a project's models")
        project = await self.projects.add_model(interaction.guild_id, name, model)
        await self._say(interaction, f"➕ {model.name} joined **{project.name}**: {', '.join(project.models)}.")

    @models.command(name="remove", description="Remove a model from a project (needs Manage Server)")
    @app_commands.autocomplete(model=model_choices)
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def models_remove(self, interaction: discord.Interaction[MoaiBot], name: Project, model: str) -> None:
        require_manage_guild(interaction, "Changing a project's models")
        resolved = self.bot.config.resolve_model(model)  # a model no longer configured can still be removed
        alias = resolved.alias if resolved is not None else model.strip().lower()
        project = await self.projects.remove_model(interaction.guild_id, name, alias, model)
        left = ", ".join(project.models) or "none (the configured defaults apply)"
        await self._say(interaction, f"➖ Removed from **{project.name}**. Models: {left}.")


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Projects(bot))
