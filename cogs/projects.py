"""/project: named panels (models, topic, system prompt, default rounds) per server; changes need Manage Server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands
from tortoise.exceptions import IntegrityError

from bot.db.models import ChannelDefault, Guild, Project
from bot.errors import UserError
from bot.panel import find_project, parse_models
from cogs.discuss import check_rounds
from cogs.utils.autocomplete import model_autocomplete, models_autocomplete, project_autocomplete
from cogs.utils.checks import require_manage_guild
from cogs.utils.live import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot

MAX_PROMPT_CHARS = 4000


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 64:
        raise UserError("Project names are 1 to 64 characters.")
    return name


def describe(project: Project, channels: list[int]) -> str:
    lines = [f"**{project.name}**", f"Models: {', '.join(project.models) or 'the configured defaults'}"]
    if project.topic:
        lines.append(f"Topic: {project.topic}")
    if project.system_prompt:
        prompt = project.system_prompt
        lines.append(f"System prompt: {prompt[:300]}{'…' if len(prompt) > 300 else ''}")
    if project.default_rounds:
        lines.append(f"Default rounds: {project.default_rounds}")
    if channels:
        lines.append("Default in: " + ", ".join(f"<#{c}>" for c in channels))
    return "\n".join(lines)


class Projects(commands.GroupCog, group_name="project", group_description="Named model panels for this server"):
    models = app_commands.Group(name="models", description="Change a project's models")

    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot
        super().__init__()

    async def _guild_row(self, interaction: discord.Interaction) -> Guild:
        assert interaction.guild is not None
        return await self.bot.orchestrator.ensure_guild(interaction.guild)

    async def _say(self, interaction: discord.Interaction, text: str, *, ephemeral: bool = False) -> None:
        await interaction.response.send_message(text, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="create", description="Create a project (needs Manage Server)")
    @app_commands.describe(name="Project name", models="Comma-separated models (default: the configured panel)",
                           topic="What the project is about", system_prompt="Extra instructions for every model",
                           rounds="Default rounds for /discuss (1-10)")
    @app_commands.autocomplete(models=models_autocomplete)
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def create(self, interaction: discord.Interaction, name: str, models: str | None = None,
                     topic: str | None = None, system_prompt: str | None = None, rounds: int | None = None) -> None:
        require_manage_guild(interaction, "Creating a project")
        name = clean_name(name)
        aliases = [m.alias for m in parse_models(self.bot.config, models)] if models else []
        if system_prompt and len(system_prompt) > MAX_PROMPT_CHARS:
            raise UserError(f"The system prompt is limited to {MAX_PROMPT_CHARS} characters.")
        try:
            await Project.create(guild=await self._guild_row(interaction), name=name, models=aliases,
                                 topic=(topic or "").strip(), system_prompt=(system_prompt or "").strip(),
                                 default_rounds=check_rounds(rounds) if rounds is not None else None)
        except IntegrityError:
            raise UserError(f"A project named `{name}` already exists here.") from None
        await self._say(interaction, f"📁 Project **{name}** created. Use it with `/project use {name}` or the "
                                     "`project` option of /open and /discuss.")

    @app_commands.command(name="list", description="List this server's projects")
    @app_commands.guild_only()
    async def list(self, interaction: discord.Interaction) -> None:
        projects = await Project.filter(guild__discord_id=interaction.guild_id).order_by("name")
        if not projects:
            await self._say(interaction, "No projects yet. Create one with /project create.", ephemeral=True)
            return
        lines = [f"• **{p.name}** — {', '.join(p.models) or 'default models'}"
                 + (f" · {p.topic[:80]}" if p.topic else "") for p in projects]
        await self._say(interaction, "\n".join(lines), ephemeral=True)

    @app_commands.command(name="info", description="Show a project")
    @app_commands.autocomplete(name=project_autocomplete)
    @app_commands.guild_only()
    async def info(self, interaction: discord.Interaction, name: str) -> None:
        project = await find_project(interaction.guild_id, name)
        channels = await ChannelDefault.filter(project=project).values_list("channel_id", flat=True)
        await self._say(interaction, describe(project, list(channels)), ephemeral=True)

    @app_commands.command(name="use", description="Make a project this channel's default (needs Manage Server)")
    @app_commands.describe(name="Project name; leave empty to clear this channel's default")
    @app_commands.autocomplete(name=project_autocomplete)
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def use(self, interaction: discord.Interaction, name: str | None = None) -> None:
        require_manage_guild(interaction, "Changing a channel's project")
        channel = interaction.channel
        channel_id = channel.parent_id if isinstance(channel, discord.Thread) else interaction.channel_id
        assert channel_id is not None
        if name is None:
            await ChannelDefault.filter(channel_id=channel_id).delete()
            await self._say(interaction, f"<#{channel_id}> has no default project now.")
            return
        project = await find_project(interaction.guild_id, name)
        updated = await ChannelDefault.filter(channel_id=channel_id).update(project=project)
        if not updated:
            await ChannelDefault.create(guild=await self._guild_row(interaction), channel_id=channel_id,
                                        project=project)
        await self._say(interaction, f"📁 /open and /discuss in <#{channel_id}> now use **{project.name}**.")

    @app_commands.command(name="edit", description="Change a project (needs Manage Server)")
    @app_commands.describe(new_name="Rename it", topic="New topic (use '-' to clear)",
                           system_prompt="New system prompt (use '-' to clear)", rounds="Default rounds (1-10)")
    @app_commands.autocomplete(name=project_autocomplete)
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def edit(self, interaction: discord.Interaction, name: str, new_name: str | None = None,
                   topic: str | None = None, system_prompt: str | None = None, rounds: int | None = None) -> None:
        require_manage_guild(interaction, "Editing a project")
        project = await find_project(interaction.guild_id, name)
        if new_name is not None:
            project.name = clean_name(new_name)
        if topic is not None:
            project.topic = "" if topic.strip() == "-" else topic.strip()
        if system_prompt is not None:
            if len(system_prompt) > MAX_PROMPT_CHARS:
                raise UserError(f"The system prompt is limited to {MAX_PROMPT_CHARS} characters.")
            project.system_prompt = "" if system_prompt.strip() == "-" else system_prompt.strip()
        if rounds is not None:
            project.default_rounds = check_rounds(rounds)
        try:
            await project.save()
        except IntegrityError:
            raise UserError(f"A project named `{project.name}` already exists here.") from None
        await self._say(interaction, "📁 Updated.\n" + describe(project, []))

    @app_commands.command(name="delete", description="Delete a project (needs Manage Server)")
    @app_commands.autocomplete(name=project_autocomplete)
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def delete(self, interaction: discord.Interaction, name: str) -> None:
        require_manage_guild(interaction, "Deleting a project")
        project = await find_project(interaction.guild_id, name)
        await project.delete()
        await self._say(interaction, f"🗑️ Project **{project.name}** deleted. Its discussions are kept.")

    @models.command(name="add", description="Add a model to a project (needs Manage Server)")
    @app_commands.autocomplete(name=project_autocomplete, model=model_autocomplete)
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def models_add(self, interaction: discord.Interaction, name: str, model: str) -> None:
        require_manage_guild(interaction, "Changing a project's models")
        project = await find_project(interaction.guild_id, name)
        [chosen] = parse_models(self.bot.config, model)
        if chosen.alias in project.models:
            raise UserError(f"{chosen.name} is already in **{project.name}**.")
        project.models = [*project.models, chosen.alias]
        await project.save(update_fields=["models"])
        await self._say(interaction, f"➕ {chosen.name} joined **{project.name}**: {', '.join(project.models)}.")

    @models.command(name="remove", description="Remove a model from a project (needs Manage Server)")
    @app_commands.autocomplete(name=project_autocomplete, model=model_autocomplete)
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def models_remove(self, interaction: discord.Interaction, name: str, model: str) -> None:
        require_manage_guild(interaction, "Changing a project's models")
        project = await find_project(interaction.guild_id, name)
        resolved = self.bot.config.resolve_model(model)
        alias = resolved.alias if resolved is not None else model.strip().lower()
        if alias not in project.models:
            raise UserError(f"`{model[:40]}` is not in **{project.name}** ({', '.join(project.models) or 'empty'}).")
        project.models = [a for a in project.models if a != alias]
        await project.save(update_fields=["models"])
        left = ", ".join(project.models) or "none (the configured defaults apply)"
        await self._say(interaction, f"➖ Removed from **{project.name}**. Models: {left}.")


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Projects(bot))
