"""`moai init` and `moai invite`: a valid config.toml from a few answers, and the bot's invite URL.

Keys are never written anywhere: the config names the environment variables that hold them, and each key
is checked with the provider's model list (a free call) before anything is written.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlencode

# What moai does in a server, and the permission each needs (bit values from Discord's permission table).
INVITE_PERMISSIONS = {
    "VIEW_CHANNEL": 1 << 10,  # see the channels it is asked in
    "SEND_MESSAGES": 1 << 11,  # the thread's opening post
    "EMBED_LINKS": 1 << 14,  # status lines, consensus cards
    "ATTACH_FILES": 1 << 15,  # /export, /usage charts, long reasoning
    "READ_MESSAGE_HISTORY": 1 << 16,  # replies and mentions inside threads
    "MANAGE_WEBHOOKS": 1 << 29,  # models speak under their own names and avatars through one webhook
    "MANAGE_THREADS": 1 << 34,  # delete a thread that could not be opened properly, archive finished ones
    "CREATE_PUBLIC_THREADS": 1 << 35,  # one thread per discussion
    "SEND_MESSAGES_IN_THREADS": 1 << 38,  # everything it says inside threads
}
INVITE_SCOPES = ("bot", "applications.commands")


def application_id(token: str) -> int:
    """A bot token's first part is its application's id, base64-encoded; ValueError if it is not a token."""
    first = token.strip().split(".", 1)[0]
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("that does not look like a Discord bot token") from None
    if not decoded.isdigit() or "." not in token:
        raise ValueError("that does not look like a Discord bot token")
    return int(decoded)


def invite_url(app_id: int) -> str:
    permissions = sum(INVITE_PERMISSIONS.values())
    query = urlencode({"client_id": app_id, "scope": " ".join(INVITE_SCOPES), "permissions": permissions})
    return f"https://discord.com/oauth2/authorize?{query}"


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    kind: str  # openai | anthropic
    base_url: str
    key_env: str  # "" for local servers without keys
    max_concurrency: int
    preferred: tuple[str, ...]  # model ids worth a seat on the default panel, best first


PRESETS = {preset.name: preset for preset in (
    Preset("openrouter", "openai", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", 8,
           ("openai/gpt-5-mini", "anthropic/claude-sonnet-4.5", "google/gemini-2.5-flash",
            "meta-llama/llama-3.3-70b-instruct", "deepseek/deepseek-chat-v3.1", "openai/gpt-4o-mini")),
    Preset("openai", "openai", "https://api.openai.com/v1", "OPENAI_API_KEY", 8,
           ("gpt-5-mini", "gpt-4.1-mini", "gpt-4o-mini")),
    Preset("anthropic", "anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY", 4,
           ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-3-5-haiku-latest")),
    Preset("ollama", "openai", "http://127.0.0.1:11434/v1", "", 1, ()),
)}


def chosen_presets(names: Iterable[str], key_envs: Mapping[str, str],
                   base_urls: Mapping[str, str]) -> list[Preset]:
    """The presets asked for, with the owner's own variable names and URLs; ValueError names a stranger."""
    chosen = []
    for name in names:
        if name not in PRESETS:
            raise ValueError(f"unknown provider '{name}' (known: {', '.join(PRESETS)})")
        preset = PRESETS[name]
        chosen.append(replace(preset, key_env=key_envs.get(name, preset.key_env),
                              base_url=base_urls.get(name, preset.base_url)))
    return chosen


@dataclass(frozen=True, slots=True)
class Seat:
    alias: str
    provider: str
    model: str
    display_name: str


def vendor(provider: Preset, model: str) -> str:
    """Who made a model: OpenRouter ids say it ("google/…"); native providers are their own vendor."""
    if "/" in model:
        return model.split("/", 1)[0]
    return provider.name if provider.name in ("openai", "anthropic") else model.split(":", 1)[0]


def pick_panel(presets: Sequence[Preset], listed: Mapping[str, Sequence[str]], size: int = 4) -> list[Seat]:
    """Up to `size` models, one per vendor, preferring each provider's recommended ones that it really lists;
    native providers (their own keys) come before the same vendor through OpenRouter."""
    ordered = sorted(presets, key=lambda p: p.name == "openrouter")
    seats: list[Seat] = []
    vendors: set[str] = set()
    for preset in ordered:
        available = list(listed.get(preset.name, ()))
        candidates = [m for m in preset.preferred if m in available] or available[:2]
        for model in candidates:
            who = vendor(preset, model)
            if who in vendors or len(seats) >= size:
                continue
            vendors.add(who)
            alias = alias_for(model, {s.alias for s in seats})
            seats.append(Seat(alias, preset.name, model, display_for(alias)))
    return seats


def alias_for(model: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", model.rsplit("/", 1)[-1].lower()).strip("-")
    word = re.split(r"-(?=\d)|-", base, maxsplit=1)[0] or "model"  # claude-sonnet-4-5 -> claude
    alias = word[:32]
    number = 2
    while alias in taken:
        alias, number = f"{word[:29]}-{number}", number + 1
    return alias


KNOWN_NAMES = {"gpt": "GPT", "claude": "Claude", "gemini": "Gemini", "llama": "Llama", "deepseek": "DeepSeek",
               "mistral": "Mistral", "qwen": "Qwen", "grok": "Grok", "o3": "o3", "o4": "o4"}


def display_for(alias: str) -> str:
    word = alias.split("-", 1)[0]
    return KNOWN_NAMES.get(word, word.capitalize()) + alias[len(word):]


def toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def avatar_for(alias: str) -> str:
    """The picture a model speaks under (as the shipped config.toml gives each model): one per alias."""
    return f"https://api.dicebear.com/9.x/bottts/png?seed={alias}"


def render_config(presets: Sequence[Preset], seats: Sequence[Seat], token_env: str = "DISCORD_TOKEN") -> str:
    """config.toml text: the shipped file's layout, only what was chosen, secrets as variable names."""
    lines = [
        "# moai configuration, written by `moai init`. Secrets never go here: each key is read from the",
        "# environment variable named beside it. Reload after editing with /admin reload or `kill -HUP <pid>`.",
        "",
        "[discord]",
        f"token_env = {toml_string(token_env)}",
        "sync_commands = true",
        "message_content_intent = false    # true for @model mentions (enable it in the developer portal too)",
        "",
        "[database]",
        'url = "sqlite://moai.sqlite3"     # postgres://user@host:5432/moai for several processes',
        "",
        "[defaults]",
        f"models = [{', '.join(toml_string(s.alias) for s in seats)}]",
        "rounds = 3",
        "",
    ]
    for preset in presets:
        lines += [f"[providers.{preset.name}]", f"kind = {toml_string(preset.kind)}",
                  f"base_url = {toml_string(preset.base_url)}", f"api_key_env = {toml_string(preset.key_env)}",
                  f"max_concurrency = {preset.max_concurrency}", ""]
    for seat in seats:
        lines += [f"[models.{seat.alias}]", f"provider = {toml_string(seat.provider)}",
                  f"model = {toml_string(seat.model)}", f"display_name = {toml_string(seat.display_name)}",
                  f"avatar_url = {toml_string(avatar_for(seat.alias))}", "max_tokens = 1024", ""]
    return "\n".join(lines)
