"""dpytest, extended with what it lacks: slash commands through the real command tree, threads, webhooks.

Everything Discord would answer over HTTP is answered here in-process: dpytest's FakeHttp for channel
messages, plus a recording webhook adapter for interaction responses, follow-ups and webhook messages.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import discord
import discord.ext.test as dpytest
from discord.ext.test import backend as back
from discord.ext.test import runner
from discord.webhook import async_ as webhook_async

from bot.config import AppConfig
from cogs.client import MoaiBot
from cogs.delivery.pacing import RateWindow
from tests.discord_emulator import DiscordEmulator

BOT_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, send_messages_in_threads=True, create_public_threads=True,
    manage_webhooks=True, embed_links=True, attach_files=True, read_message_history=True,
)
_ids = itertools.count(int(time.time() * 1000) << 22)


def snowflake() -> int:
    return next(_ids)


@dataclass(frozen=True)
class Upload:
    """A file a member attaches (to a slash command option or a message), served from a fake CDN URL."""

    filename: str
    data: bytes
    content_type: str | None = None


@dataclass
class SentMessage:
    """A message the bot made through a webhook or an interaction, with every version of its content."""

    id: int
    channel_id: int
    kind: str  # "webhook" | "response" | "followup"
    content: str | None
    username: str | None = None
    avatar_url: str | None = None
    embeds: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: bool = False
    history: list[str | None] = field(default_factory=list)
    allowed_mentions: list[dict[str, Any] | None] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # time.monotonic() of each version
    files: dict[str, bytes] = field(default_factory=dict)  # attachments by file name
    components: list[dict[str, Any]] = field(default_factory=list)  # the buttons under it, as sent

    @property
    def edits(self) -> int:
        return len(self.history) - 1


@dataclass
class InteractionCall:
    """What one slash command produced: its response (if any), follow-ups and errors."""

    id: int
    token: str
    response_type: int | None = None
    response: SentMessage | None = None
    followups: list[SentMessage] = field(default_factory=list)

    @property
    def ephemeral_texts(self) -> list[str]:
        """What the member saw; a deferred "thinking…" response is replaced by the first follow-up, as on Discord."""
        deferred = self.response_type == 5 and self.followups
        shown = [*([] if deferred else [self.response]), *self.followups]
        return [m.content or "" for m in shown if m is not None and m.ephemeral]

    @property
    def texts(self) -> list[str]:
        """Everything shown, ephemeral or not; a deferred response is replaced by the first follow-up."""
        deferred = self.response_type == 5 and self.followups
        return [m.content or "" for m in [*([] if deferred else [self.response]), *self.followups] if m is not None]


class RecordingWebhookAdapter(webhook_async.AsyncWebhookAdapter):
    """Answers every webhook/interaction route discord.py calls, and keeps what was sent."""

    def __init__(self, bot_user_id: int) -> None:
        super().__init__()
        self.bot_user_id = bot_user_id
        self.real_session: Any = None  # set: channel-webhook calls go over HTTP to the Discord emulator
        self.messages: dict[int, SentMessage] = {}
        self.calls: dict[str, InteractionCall] = {}
        self.requests: list[tuple[str, str, dict[str, Any] | None]] = []
        self.deleted_channels: set[int] = set()
        self.channel_by_token: dict[str, int] = {}  # interaction token -> the channel it was used in
        self.deleted_webhooks: set[int] = set()

    def _message_dict(self, message: SentMessage) -> dict[str, Any]:
        return {
            "id": str(message.id), "channel_id": str(message.channel_id), "type": 0,
            "content": message.content or "", "embeds": message.embeds, "attachments": [], "mentions": [],
            "mention_roles": [], "pinned": False, "mention_everyone": False, "tts": False,
            "timestamp": datetime.now(UTC).isoformat(), "edited_timestamp": None,
            "flags": 64 if message.ephemeral else 0,
            "author": {"id": str(self.bot_user_id), "username": message.username or "FakeApp",
                       "discriminator": "0000", "avatar": None, "bot": True},
            "webhook_id": str(self.bot_user_id),
        }

    def _record(self, message: SentMessage, payload: dict[str, Any]) -> SentMessage:
        if "content" in payload:
            message.content = payload["content"]
        if "embeds" in payload:
            message.embeds = payload["embeds"] or []
        if "components" in payload:
            message.components = payload["components"] or []
        message.history.append(message.content if message.content else _embed_text(message.embeds))
        message.allowed_mentions.append(payload.get("allowed_mentions"))
        message.times.append(time.monotonic())
        self.messages[message.id] = message
        return message

    async def request(self, route: Any, session: Any = None, *, payload: dict[str, Any] | None = None,
                      multipart: list[dict[str, Any]] | None = None, params: dict[str, Any] | None = None,
                      **_: Any) -> Any:
        files = _files(multipart or [])
        if payload is None and multipart:
            payload = _json_part(multipart)
        payload = payload or {}
        path = route.path
        self.requests.append((route.method, path, payload))
        hook_id, token = str(route.webhook_id), route.webhook_token
        ephemeral = bool(payload.get("flags", 0) & 64)

        if path.endswith("/callback"):
            call = self.calls.setdefault(token, InteractionCall(int(hook_id), token))
            call.response_type = payload["type"]
            data = payload.get("data") or {}
            if payload["type"] in (4, 5):  # message, or deferred "thinking"
                message = SentMessage(snowflake(), self._channel_of(token), "response", None,
                                      ephemeral=bool(data.get("flags", 0) & 64), files=files)
                call.response = self._record(message, data)
                return {"interaction": {"id": hook_id, "type": 2, "response_message_id": str(message.id),
                                        "response_message_loading": payload["type"] == 5,
                                        "response_message_ephemeral": message.ephemeral},
                        "resource": {"type": payload["type"], "message": self._message_dict(message)}}
            return {"interaction": {"id": hook_id, "type": 2}}

        if route.method == "POST":  # webhook execute: our channel webhook or an interaction follow-up
            if token in self.calls:
                message = SentMessage(snowflake(), self._channel_of(token), "followup", None, ephemeral=ephemeral,
                                      files=files)
                self.calls[token].followups.append(message)
            else:
                channel_id = int((params or {}).get("thread_id") or 0)
                if int(hook_id) in self.deleted_webhooks:
                    raise discord.NotFound(_FakeResponse(404), {"code": 10015, "message": "Unknown Webhook"})
                if channel_id in self.deleted_channels:
                    raise discord.NotFound(_FakeResponse(404), {"code": 10003, "message": "Unknown Channel"})
                real = await self._over_http(route, payload, multipart, params)
                message = SentMessage(int(real["id"]) if real else snowflake(), channel_id, "webhook", None,
                                      username=payload.get("username"), avatar_url=payload.get("avatar_url"))
            return self._message_dict(self._record(message, payload))

        if route.method in ("PATCH", "DELETE") and token not in self.calls and int(hook_id) in self.deleted_webhooks:
            # A deleted webhook's messages stay on Discord, but its token can no longer edit or delete them.
            raise discord.NotFound(_FakeResponse(404), {"code": 10015, "message": "Unknown Webhook"})
        if route.method == "PATCH":
            if int((params or {}).get("thread_id") or 0) in self.deleted_channels:
                raise discord.NotFound(_FakeResponse(404), {"code": 10003, "message": "Unknown Channel"})
            if token not in self.calls:
                await self._over_http(route, payload, multipart, params)
            return self._message_dict(self._record(self._resolve(token, route), payload))

        if route.method == "GET":
            return self._message_dict(self._resolve(token, route))
        if route.method == "DELETE" and "/messages/" in path:
            if token not in self.calls:
                await self._over_http(route, payload, multipart, params)
            self.messages.pop(self._resolve(token, route).id, None)
        return None

    async def _over_http(self, route: Any, payload: dict[str, Any], multipart: list[dict[str, Any]] | None,
                         params: dict[str, Any] | None) -> dict[str, Any] | None:
        """Through discord.py's real adapter to the emulator (limits, headers, 429s); None without one."""
        if self.real_session is None:
            return None
        sent = await super().request(route, self.real_session, payload=None if multipart else payload,
                                     multipart=multipart, params=params)
        return dict(sent) if isinstance(sent, dict) else None

    def _resolve(self, token: str, route: Any) -> SentMessage:
        """The message a .../messages/{id} route points at; "@original" is the interaction's response."""
        url_id = route.url.rsplit("/", 1)[-1].split("?")[0]
        if url_id == "@original":
            response = self.calls[token].response
            assert response is not None, "edit_original_response before any response"
            return response
        return self.messages[int(url_id)]

    def _channel_of(self, token: str) -> int:
        return self.channel_by_token.get(token, 0)


class _FakeResponse:
    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = "fake"


def _json_part(multipart: list[dict[str, Any]]) -> dict[str, Any]:
    import json

    for part in multipart:
        if part.get("name") == "payload_json":
            return json.loads(part["value"])
    return {}


def _flat_options(options: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for option in options:
        yield option
        yield from _flat_options(option.get("options", []))


def _files(multipart: list[dict[str, Any]]) -> dict[str, bytes]:
    found = {}
    for part in multipart:
        if str(part.get("name", "")).startswith("files["):
            value = part["value"]
            found[part["filename"]] = value if isinstance(value, bytes) else value.read()
    return found


def _embed_text(embeds: list[dict[str, Any]]) -> str | None:
    return "\n".join(e.get("description", "") for e in embeds) if embeds else None


class DiscordHarness:
    """A configured MoaiBot inside dpytest with one guild, one text channel and one member."""

    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot
        self.adapter: RecordingWebhookAdapter
        self.guild: discord.Guild
        self.channel: discord.TextChannel
        self.member: discord.Member
        self.bot_role: discord.Role
        self.threads: list[discord.Thread] = []
        self.errors: list[BaseException] = []
        self.channel_payloads: list[dict[str, Any]] = []  # every bot message create/edit, as sent
        self.channel_files: list[tuple[int, str, bytes]] = []  # (channel id, file name, bytes) of bot posts
        self.uploads: dict[str, Upload] = {}  # fake CDN: what members attached, by URL
        self._resolved_attachments: dict[str, dict[str, Any]] = {}
        self.deleted_channels: set[int] = set()
        self.deleted_by_bot: set[int] = set()  # threads the bot deleted itself
        self.refuse_thread_posts: tuple[int, int] | None = None  # (HTTP status, Discord code) for posts in threads
        self._token_reset: Any = None
        self.emulator: DiscordEmulator | None = None  # set: webhook traffic goes through the REST emulator
        self._emulator_session: aiohttp.ClientSession | None = None
        self._route_base = discord.http.Route.BASE
        self.upload_limit = 8 * 1024 * 1024  # the interaction's attachment_size_limit (a server's boost raises it)

    # --- setup --------------------------------------------------------------------------
    async def start(self) -> DiscordHarness:
        await self.bot._async_setup_hook()
        back.configure(self.bot)
        state = back.get_state()
        await self.bot.setup_hook()
        state._command_tree = self.bot.tree
        self._patch_http()
        # Real gateways always cache the bot's own member (GUILD_CREATE); dpytest adds members one by one,
        # which discord.py only caches with the privileged members intent that moai does not ask for.
        state.member_cache_flags = discord.MemberCacheFlags.all()
        self.guild = back.make_guild("Moai Test Guild")
        self.channel = back.make_text_channel("roundtable", self.guild)
        user = back.make_user("alice", "0001")
        self.member = back.make_member(user, self.guild, nick="Alice")
        self.bot_role = back.make_role("moai", self.guild, permissions=BOT_PERMISSIONS.value)
        back.make_member(state.user, self.guild, nick="moai", roles=[self.bot_role])
        runner._cur_config = runner.RunnerConfig(self.bot, [self.guild], [self.channel], [self.member])
        self.adapter = RecordingWebhookAdapter(state.user.id)
        self._token_reset = webhook_async.async_context.set(self.adapter)
        if self.emulator is not None:  # discord.py's real webhook client, with the bot's header watch
            discord.http.Route.BASE = self.emulator.base
            self._emulator_session = aiohttp.ClientSession(trace_configs=[self.bot.rate_headers.trace_config()])
            self.adapter.real_session = self._emulator_session
        self._wrap_error_handler()
        return self

    def delete_thread(self, thread: discord.Thread) -> None:
        """From now on Discord answers 404 for this thread, as after a moderator deletes it."""
        self.deleted_channels.add(thread.id)
        self.adapter.deleted_channels = self.deleted_channels

    def delete_webhooks(self) -> None:
        """An admin deletes moai's webhooks: Discord answers 10015 Unknown Webhook for them from now on."""
        for hooks in self.webhooks.values():
            self.adapter.deleted_webhooks.update(int(h["id"]) for h in hooks)
            hooks.clear()

    def revoke_bot_permissions(self, *names: str) -> None:
        permissions = discord.Permissions(self.bot_role.permissions.value)
        permissions.update(**dict.fromkeys(names, False))
        back.update_role(self.bot_role, permissions=permissions.value)

    def _wrap_error_handler(self) -> None:
        original = self.bot.tree.on_error

        async def record(interaction: discord.Interaction, error: discord.app_commands.AppCommandError) -> None:
            self.errors.append(error)
            await original(interaction, error)

        self.bot.tree.on_error = record  # type: ignore[method-assign]

    def _attachment_dict(self, upload: Upload) -> dict[str, Any]:
        file_id = snowflake()
        url = f"https://cdn.discordapp.invalid/attachments/{file_id}/{upload.filename}"
        self.uploads[url] = upload
        data = {"id": str(file_id), "filename": upload.filename, "size": len(upload.data), "url": url,
                "proxy_url": url}
        if upload.content_type:
            data["content_type"] = upload.content_type
        return data

    def _patch_http(self) -> None:
        http = back.get_state().http
        harness = self
        self._find_user_mentions = back.find_user_mentions

        async def get_from_cdn(url: str) -> bytes:
            if url not in harness.uploads:
                raise discord.NotFound(_FakeResponse(404), {"code": 0, "message": "404: Not Found"})
            return harness.uploads[url].data

        http.get_from_cdn = get_from_cdn

        def find_user_mentions(content: str | None, guild: discord.Guild | None) -> list[discord.Member]:
            """dpytest returns None for mentions of users it does not know, then crashes on them."""
            return [m for m in self._find_user_mentions(content, guild) if m is not None]

        back.find_user_mentions = find_user_mentions

        async def start_thread_without_message(channel_id: int, *, name: str, auto_archive_duration: int = 1440,
                                               type: int = 11, **_: Any) -> dict[str, Any]:
            payload = {
                "id": str(snowflake()), "guild_id": str(harness.guild.id), "parent_id": str(channel_id),
                "owner_id": str(back.get_state().user.id), "name": name, "type": type, "member_count": 1,
                "message_count": 0, "rate_limit_per_user": 0, "flags": 0,
                "thread_metadata": {"archived": False, "auto_archive_duration": auto_archive_duration,
                                    "archive_timestamp": datetime.now(UTC).isoformat(), "locked": False},
            }
            back.get_state().parse_thread_create(payload)
            harness.threads.append(harness.guild.get_thread(int(payload["id"])))  # type: ignore[arg-type]
            return payload

        webhooks: dict[int, list[dict[str, Any]]] = {}

        async def channel_webhooks(channel_id: int) -> list[dict[str, Any]]:
            return list(webhooks.get(int(channel_id), []))

        async def create_webhook(channel_id: int, *, name: str, avatar: Any = None, reason: Any = None) -> dict:
            state = back.get_state()
            payload = {"id": str(snowflake()), "type": 1, "guild_id": str(harness.guild.id),
                       "channel_id": str(channel_id), "name": name, "avatar": None, "token": "webhook-token",
                       "application_id": None,
                       "user": {"id": str(state.user.id), "username": state.user.name, "discriminator": "0001",
                                "avatar": None, "bot": True}}
            if harness.emulator is not None:
                payload = {**harness.emulator.add_webhook(int(channel_id), name, state.user.id),
                           "guild_id": str(harness.guild.id)}
            webhooks.setdefault(int(channel_id), []).append(payload)
            return payload

        original_send = http.send_message

        async def send_message(channel_id: int, *, params: Any) -> dict[str, Any]:
            """Records the payload; keeps components (dpytest drops them); fails in deleted threads."""
            harness.channel_payloads.append(params.payload or {})
            if int(channel_id) in harness.deleted_channels:
                raise discord.NotFound(_FakeResponse(404), {"code": 10003, "message": "Unknown Channel"})
            if params.files:  # kept here; dpytest would write them to files in the working directory
                for file in params.files:
                    harness.channel_files.append((int(channel_id), file.filename or "", file.fp.read()))
                    file.fp.seek(0)
                params = params._replace(payload=_json_part(params.multipart or []), files=None)
            refusal = harness.refuse_thread_posts
            if refusal is not None and any(t.id == int(channel_id) for t in harness.threads):
                status, code = refusal
                error = discord.Forbidden if status == 403 else discord.HTTPException
                raise error(_FakeResponse(status), {"code": code, "message": "refused"})
            # dpytest reads `channel` from its caller's locals (frame inspection): provide it.
            channel = harness.guild.get_channel_or_thread(int(channel_id))  # noqa: F841
            data = await original_send(channel_id, params=params)
            components = (params.payload or {}).get("components")
            if components:
                message = back.get_state()._get_message(int(data["id"]))
                assert message is not None
                message._handle_components(components)
                data["components"] = components
            return data

        original_edit = http.edit_message

        async def edit_message(channel_id: int, message_id: int, **fields: Any) -> dict[str, Any]:
            harness.channel_payloads.append(fields["params"].payload or {})
            if int(channel_id) in harness.deleted_channels:
                raise discord.NotFound(_FakeResponse(404), {"code": 10003, "message": "Unknown Channel"})
            # dpytest reads the message as `self` from its caller's locals: provide it.
            self = back.get_state()._get_message(int(message_id))  # noqa: F841
            return await original_edit(channel_id, message_id, **fields)

        async def delete_channel(channel_id: int, *, reason: str | None = None) -> None:
            harness.deleted_by_bot.add(int(channel_id))
            harness.deleted_channels.add(int(channel_id))

        http.delete_channel = delete_channel  # type: ignore[method-assign]
        http.send_message = send_message  # type: ignore[method-assign]
        http.edit_message = edit_message  # type: ignore[method-assign]
        http.start_thread_without_message = start_thread_without_message  # type: ignore[method-assign]
        http.channel_webhooks = channel_webhooks  # type: ignore[method-assign]
        http.create_webhook = create_webhook  # type: ignore[method-assign]
        self.webhooks = webhooks

    async def close(self) -> None:
        back.find_user_mentions = self._find_user_mentions
        await self.settle()
        for extension in list(self.bot.extensions):
            await self.bot.unload_extension(extension)
        if self.bot.http_session is not None:
            await self.bot.http_session.close()
        if self._token_reset is not None:
            webhook_async.async_context.reset(self._token_reset)
        if self._emulator_session is not None:
            await self._emulator_session.close()
            discord.http.Route.BASE = self._route_base
        await dpytest.empty_queue()

    # --- driving ------------------------------------------------------------------------
    def _interaction_payload(self, kind: int, name: str, options: list[dict[str, Any]],
                             channel: discord.abc.GuildChannel | discord.Thread | None,
                             member: discord.Member | None,
                             permissions: discord.Permissions | None = None) -> dict[str, Any]:
        """`name` may be "project models add": groups become nested options, as Discord sends them."""
        channel = channel or self.channel
        member = member or self.member
        name, *path = name.split() or [""]
        for depth, sub in reversed(list(enumerate(path))):
            options = [{"name": sub, "type": 1 if depth == len(path) - 1 else 2, "options": options}]
        member_permissions = permissions if permissions is not None else member.guild_permissions
        interaction_id = snowflake()
        token = f"interaction-token-{interaction_id}"
        self.adapter.channel_by_token[token] = channel.id
        assert kind in (3, 5) or self.bot.tree.get_command(name) is not None, f"no slash command /{name}"
        channel_data: dict[str, Any] = {"id": str(channel.id), "type": channel.type.value,
                                        "guild_id": str(self.guild.id), "name": channel.name}
        if isinstance(channel, discord.Thread):
            channel_data["parent_id"] = str(channel.parent_id)
        return {
            "id": str(interaction_id), "application_id": str(back.get_state().user.id), "type": kind,
            "token": token, "version": 1, "guild_id": str(self.guild.id), "channel_id": str(channel.id),
            "channel": channel_data, "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": {}, "context": 0, "attachment_size_limit": self.upload_limit,
            "app_permissions": str(channel.permissions_for(self.guild.me).value),
            "member": {"user": {"id": str(member.id), "username": member.name, "discriminator": "0001",
                                "avatar": None, "global_name": member.name, "bot": member.bot},
                       "nick": member.nick, "roles": [str(r.id) for r in member.roles if not r.is_default()],
                       "joined_at": datetime.now(UTC).isoformat(),
                       "deaf": False, "mute": False, "flags": 0,
                       "permissions": str(member_permissions.value)},
            "data": {"id": str(snowflake()), "name": name, "type": 1, "options": options},
        }

    def _options(self, values: dict[str, Any], focused: str | None = None) -> list[dict[str, Any]]:
        options = []
        for key, value in values.items():
            if value is None:
                continue
            if isinstance(value, Upload):
                attachment = self._attachment_dict(value)
                self._resolved_attachments[attachment["id"]] = attachment
                options.append({"name": key, "type": 11, "value": attachment["id"]})
                continue
            if isinstance(value, discord.Member):
                options.append({"name": key, "type": 6, "value": str(value.id)})
                continue
            if isinstance(value, discord.Role):
                options.append({"name": key, "type": 8, "value": str(value.id)})
                continue
            kind = {bool: 5, int: 4, float: 10}.get(type(value), 3)
            option: dict[str, Any] = {"name": key, "type": kind, "value": value}
            if key == focused:
                option["focused"] = True
            options.append(option)
        return options

    async def _dispatch(self, payload: dict[str, Any], invoker: str = "CommandTree-invoker") -> None:
        """Feed the interaction to discord.py and wait for the handler tasks it spawned."""
        flat = list(_flat_options(payload["data"].get("options", [])))
        uploads = {o["value"]: self._resolved_attachments.pop(o["value"]) for o in flat
                   if o.get("type") == 11 and o["value"] in self._resolved_attachments}
        if uploads:
            payload["data"].setdefault("resolved", {})["attachments"] = uploads
        members = [m for m in self.guild.members if any(o.get("value") == str(m.id) and o.get("type") == 6
                                                         for o in flat)]
        roles = [r for r in self.guild.roles if any(o.get("value") == str(r.id) and o.get("type") == 8 for o in flat)]
        if roles:
            payload["data"].setdefault("resolved", {})["roles"] = {
                str(r.id): {"id": str(r.id), "name": r.name, "color": 0, "hoist": False, "position": r.position,
                            "permissions": str(r.permissions.value), "managed": False, "mentionable": True}
                for r in roles}
        if members:
            payload["data"].setdefault("resolved", {}).update({
                "users": {str(m.id): {"id": str(m.id), "username": m.name, "discriminator": "0001", "avatar": None}
                          for m in members},
                "members": {str(m.id): {"roles": [], "joined_at": datetime.now(UTC).isoformat(), "deaf": False,
                                        "mute": False, "flags": 0, "permissions": "0", "nick": m.nick}
                            for m in members},
            })
        before = asyncio.all_tasks()
        back.get_state().parse_interaction_create(payload)  # type: ignore[arg-type]
        for _ in range(3):  # component dispatch goes through one more task hop than commands
            await asyncio.sleep(0)
        spawned = [t for t in asyncio.all_tasks() - before if invoker in t.get_name() and not
                   t.get_name().startswith("moai-")]
        await asyncio.gather(*spawned)

    async def settle(self) -> None:
        """Wait for every background run, and the tagging calls they started."""
        await self.bot.services.runs.wait_idle()
        tagger = self.bot.services.orchestrator.tagger
        if tagger is not None:
            await tagger.wait_idle()

    async def slash(self, command: str, /, *, channel: discord.abc.GuildChannel | discord.Thread | None = None,
                    by: discord.Member | None = None, permissions: discord.Permissions | None = None,
                    wait: bool = True, **options: Any) -> InteractionCall:
        """Invoke /name through the real command tree; with `wait`, also wait for background rounds."""
        payload = self._interaction_payload(2, command, self._options(options), channel, by, permissions)
        await self._dispatch(payload)
        if wait:
            await self.settle()
        return self.adapter.calls.get(payload["token"]) or InteractionCall(int(payload["id"]), payload["token"])

    async def say(self, content: str, *, channel: discord.abc.Messageable | None = None,
                  member: discord.Member | None = None, reply_to: int | None = None,
                  wait: bool = True, files: list[Upload] | None = None, deliveries: int = 1) -> discord.Message:
        """A user posts in a channel or thread (optionally replying to a message), as the gateway would deliver it
        (`deliveries` times: a gateway may deliver a message again after a resume)."""
        from discord.ext.test import factories as facts

        target = channel or self.channel
        author = member or self.member
        data = facts.make_message_dict(target, author, content=content, guild_id=self.guild.id)
        if files:
            data["attachments"] = [self._attachment_dict(upload) for upload in files]
        if reply_to is not None:
            data["message_reference"] = {"message_id": str(reply_to), "channel_id": str(target.id),
                                         "guild_id": str(self.guild.id)}
            data["type"] = 19
        before = asyncio.all_tasks()
        for _ in range(deliveries):
            back.get_state().parse_message_create(data)
        await asyncio.sleep(0)
        await asyncio.gather(*(t for t in asyncio.all_tasks() - before if "on_message" in t.get_name()))
        if wait:
            await self.settle()
        message = back.get_state()._get_message(int(data["id"]))
        assert message is not None
        return message

    async def click(self, message: discord.Message, custom_id: str, *, member: discord.Member | None = None,
                    wait: bool = True) -> InteractionCall:
        """Press a button on a bot message; persistent (dynamic) buttons are dispatched like on Discord."""
        from discord.ext.test import factories as facts

        member = member or self.member
        payload = self._interaction_payload(3, "", [], message.channel, member)  # type: ignore[arg-type]
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        payload["message"] = facts.dict_from_message(message)
        payload["message"]["components"] = [c.to_dict() for c in message.components]
        await self._dispatch(payload, invoker="")
        if wait:
            await self.settle()
        return self.adapter.calls.get(payload["token"]) or InteractionCall(int(payload["id"]), payload["token"])

    def as_message(self, sent: SentMessage) -> discord.Message:
        """A reply or follow-up as a message a member can press buttons on (an ephemeral one too)."""
        data = {**self.adapter._message_dict(sent), "components": sent.components}
        channel = self.bot.get_channel(sent.channel_id) or self.channel
        return discord.Message(state=back.get_state(), channel=channel, data=data)  # type: ignore[arg-type]

    def shown_modal(self) -> dict[str, Any]:
        """The last modal a press answered with (interaction callback type 9), as Discord received it."""
        modals = [p["data"] for _, path, p in self.adapter.requests
                  if path.endswith("/callback") and p and p.get("type") == 9]
        assert modals, "no modal was shown"
        data: dict[str, Any] = modals[-1]
        return data

    async def submit_modal(self, modal: dict[str, Any], values: dict[str, str], *,
                           member: discord.Member | None = None,
                           channel: discord.abc.GuildChannel | discord.Thread | None = None) -> InteractionCall:
        """Submit a modal as a member fills it in: each text input's custom id -> its value (MODAL_SUBMIT)."""
        payload = self._interaction_payload(5, "", [], channel, member)
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": c["custom_id"], "value": values.get(
            c["custom_id"], c.get("value", ""))} for c in row["components"]]} for row in modal["components"]]
        payload["data"] = {"custom_id": modal["custom_id"], "components": rows}
        await self._dispatch(payload, invoker="")
        return self.adapter.calls.get(payload["token"]) or InteractionCall(int(payload["id"]), payload["token"])

    async def autocomplete(self, command: str, focused: str, /, **options: Any) -> list[dict[str, Any]]:
        payload = self._interaction_payload(4, command, self._options(options, focused), None, None)
        await self._dispatch(payload)
        requests = [p for m, path, p in self.adapter.requests if path.endswith("/callback") and p and p["type"] == 8]
        return requests[-1]["data"]["choices"]

    # --- reading ------------------------------------------------------------------------
    def webhook_messages(self, channel_id: int) -> list[SentMessage]:
        return [m for m in self.adapter.messages.values() if m.kind == "webhook" and m.channel_id == channel_id]

    def bot_messages(self, channel: discord.abc.Snowflake) -> list[discord.Message]:
        return [m for m in self.bot.cached_messages if m.channel.id == channel.id and m.author == self.guild.me]

    def answers_by_model(self, channel_id: int) -> dict[str, str]:
        """Each model's full answer in a thread, its split messages joined in order."""
        result: dict[str, str] = {}
        for message in sorted(self.webhook_messages(channel_id), key=lambda m: m.id):
            shown = (message.content or "") + "".join(str(e.get("description") or "") for e in message.embeds)
            result[message.username or ""] = result.get(message.username or "", "") + shown
        return result


@asynccontextmanager
async def emulated_harness(config: AppConfig, environ: dict[str, str],
                           **limits: Any) -> AsyncIterator[tuple[DiscordHarness, DiscordEmulator]]:
    """The bot in the harness with its webhook traffic on a fresh Discord emulator (`limits`: its settings)."""
    emulator = await DiscordEmulator(**limits).start()
    try:
        harness = await make_harness(config, environ, emulator=emulator)
        try:
            yield harness, emulator
        finally:
            await harness.close()
    finally:
        await emulator.stop()


async def make_harness(config: AppConfig, environ: dict[str, str],
                       emulator: DiscordEmulator | None = None) -> DiscordHarness:
    """`emulator`: moai's webhook traffic (the streaming answers) goes over HTTP to the Discord REST emulator,
    through discord.py's real webhook adapter, with Discord's limits; the rest stays in-process."""
    # The in-process recorder has no rate limits and sends no headers: lanes need not wait for it.
    roomy = {} if emulator is not None else {"rate_window": lambda key: RateWindow(1000, 1.0)}
    bot = MoaiBot(config, environ=environ, manage_database=False, **roomy)
    harness = DiscordHarness(bot)
    harness.emulator = emulator
    return await harness.start()
