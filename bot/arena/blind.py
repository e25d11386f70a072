"""Blind rounds: models answer as "Model A", "Model B"… (shuffled per discussion) until the vote reveals them.

A model that gives itself away in a blind answer (names itself, its family or its maker) voids that round's
vote for the ratings, as LMArena does: the members' choice can no longer be blind.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.config import ModelConfig
from bot.seats import Seat

BLIND_NOTE = """

This round is blind: the members see you as {label} and must not learn which model you are. Do not name \
yourself, your model family or the company that made you."""

# Words that give a family away, by what appears in the model's id or name.
FAMILIES = {
    "gpt": ("gpt", "chatgpt", "openai"), "o1": ("openai",), "o3": ("openai",), "o4": ("openai",),
    "claude": ("claude", "anthropic", "sonnet", "opus", "haiku"),
    "gemini": ("gemini", "google", "bard", "deepmind"), "gemma": ("gemma", "google"),
    "llama": ("llama", "meta"), "mistral": ("mistral",), "mixtral": ("mixtral", "mistral"),
    "deepseek": ("deepseek",), "qwen": ("qwen", "alibaba"), "grok": ("grok", "xai"), "command": ("cohere",),
    "phi": ("phi", "microsoft"),
}


def blind_names(aliases: Sequence[str], rng: random.Random) -> dict[str, str]:
    """Each model's neutral name, letters shuffled so the seat order tells nothing."""
    order = list(aliases)
    rng.shuffle(order)
    return {alias: f"Model {chr(ord('A') + index)}" for index, alias in enumerate(order)}


def blind_panel(panel: Sequence[Seat], names: Mapping[str, str]) -> list[Seat]:
    """The seats showing only their neutral name (no avatar, no role)."""
    return [replace(s, shown_as=names[s.alias], role="") if s.alias in names else s for s in panel]


# Words of model ids that name no one (`meta-llama/llama-3.1-8b-instruct`: "instruct" gives nothing away).
GENERIC_ID_WORDS = frozenset({
    "instruct", "chat", "latest", "preview", "beta", "free", "online", "thinking", "turbo", "mini", "nano",
    "pro", "flash", "lite", "large", "medium", "small", "base", "exp", "experimental", "vision", "code", "coder",
    "nitro", "extended", "fast", "high", "low", "reasoning", "distill", "versatile", "test", "the", "and",
})


def giveaway_words(model: ModelConfig) -> set[str]:
    """The words that would tell which model wrote an answer: its alias and aliases, the words of its display
    name and of its provider-side id (`claude-sonnet-4` -> "claude", "sonnet"), and its family's names."""
    words = {model.alias.lower(), *(a.lower() for a in model.aliases)}
    words |= {part.lower() for part in re.findall(r"[A-Za-z]{3,}", model.display_name)}
    words |= {part.lower() for part in re.findall(r"[A-Za-z]{3,}", model.model)} - GENERIC_ID_WORDS
    identifier = f"{model.model} {model.display_name}".lower()
    for family, giveaways in FAMILIES.items():
        if family in identifier:
            words |= set(giveaways)
    return {w for w in words if len(w) >= 3 and not w.startswith("model")}


def families_of(model: ModelConfig) -> frozenset[str]:
    """The model's families by its id and name (`gpt-4o-mini` -> {"gpt"}), empty when none is known: a peer
    reviewer never ranks an answer of its own family."""
    identifier = f"{model.model} {model.display_name}".lower()
    return frozenset(FAMILIES[f][0] for f in FAMILIES if re.search(rf"(?<![a-z]){re.escape(f)}", identifier))


def names_itself(text: str, model: ModelConfig) -> bool:
    """The answer contains a word that tells which model (or maker) wrote it."""
    lowered = text.lower()
    return any(re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", lowered) for word in giveaway_words(model))
