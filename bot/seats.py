"""A seat at a discussion's table: one model for one round, with the debate role it holds there and the neutral
name it answers under while the round is blind. The model's config says what it is; the seat, how it sits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import ModelConfig

__all__ = ["Seat", "seat", "seats"]


@dataclass(frozen=True, slots=True)
class Seat:
    model: ModelConfig
    role: str = ""  # the debate role held this round ("" for none)
    shown_as: str = ""  # the blind name ("Model B"); "" once the panel is revealed, or never blind

    @property
    def alias(self) -> str:
        return self.model.alias

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def blind(self) -> bool:
        return bool(self.shown_as)

    @property
    def avatar_url(self) -> str | None:
        """No avatar in a blind round: a picture would say who it is."""
        return None if self.shown_as else self.model.avatar_url

    @property
    def label(self) -> str:
        """How the model is shown and introduced: its blind name, else its name with its debate role."""
        if self.shown_as:
            return self.shown_as
        return f"{self.name} ({self.role})" if self.role else self.name


def seat(model: ModelConfig, role: str | None = None) -> Seat:
    """A model's seat: the role given, else its standing role from config.toml."""
    return Seat(model, model.role if role is None else role)


def seats(models: Sequence[ModelConfig]) -> list[Seat]:
    return [seat(m) for m in models]
