"""Model prices without hand-editing: config first, then the synced provider catalogue (OpenRouter lists
prices with its models), then the list prices shipped with moai (Anthropic, OpenAI). A model with none of
these is unpriced: `moai check` and startup say so loudly, and a server with a budget refuses it unless
`defaults.allow_unpriced` is set.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from bot.config import AppConfig, ModelConfig

SHIPPED = "prices.toml"


@dataclass(frozen=True, slots=True)
class Price:
    input: float  # USD per million tokens
    output: float
    source: str  # "config", "catalogue", "shipped list (checked YYYY-MM-DD)"


def shipped_prices() -> tuple[str, dict[str, dict[str, tuple[float, float]]]]:
    """(date checked, {provider kind: {model id: (input, output)}}) from the data file shipped with moai."""
    data = tomllib.loads(resources.files("bot.data").joinpath(SHIPPED).read_text("utf-8"))
    checked = str(data.pop("checked", "?"))
    table = {kind: {model: (float(pair[0]), float(pair[1])) for model, pair in models.items()}
             for kind, models in data.items() if isinstance(models, dict)}
    return checked, table


def load_catalogue(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """{provider name: {model id: entry}} from `moai models sync`, or {} when there is none (or it is broken)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    providers = data.get("providers") if isinstance(data, dict) else None
    return providers if isinstance(providers, dict) else {}


def catalogue_entry(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """One OpenRouter-style `/models` entry as stored: prices per million, context, input modalities."""
    pricing = entry.get("pricing")
    if not isinstance(pricing, Mapping):
        return None
    try:
        prompt, completion = float(pricing["prompt"]), float(pricing["completion"])
    except (KeyError, TypeError, ValueError):
        return None
    if prompt < 0 or completion < 0:  # OpenRouter marks variable-priced routers with -1
        return None
    architecture = entry.get("architecture")
    if not isinstance(architecture, Mapping):
        architecture = {}
    return {"input_price": prompt * 1e6, "output_price": completion * 1e6,
            "context_length": entry.get("context_length"),
            "input_modalities": list(architecture.get("input_modalities") or [])}


def write_catalogue(path: Path, providers: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> None:
    data = {"fetched_at": datetime.now(UTC).isoformat(timespec="seconds"), "providers": providers}
    path.write_text(json.dumps(data, indent=1, sort_keys=True), "utf-8")


def price_of(config: AppConfig, model: ModelConfig, catalogue: Mapping[str, Mapping[str, Mapping[str, Any]]],
             shipped: tuple[str, Mapping[str, Mapping[str, tuple[float, float]]]]) -> Price | None:
    if model.priced:  # config wins; a side it leaves out is free
        return Price(model.input_price or 0.0, model.output_price or 0.0, "config")
    listed = catalogue.get(model.provider, {}).get(model.model)
    if listed is not None:
        return Price(float(listed["input_price"]), float(listed["output_price"]), "catalogue")
    checked, table = shipped
    kind = config.providers[model.provider].kind
    pair = table.get(kind, {}).get(model.model)
    if pair is not None:
        return Price(pair[0], pair[1], f"shipped list (checked {checked})")
    return None


def with_prices(config: AppConfig, catalogue_path: Path | None = None) -> tuple[AppConfig, list[str]]:
    """The config with every model priced that can be, and the aliases left unpriced."""
    catalogue = load_catalogue(catalogue_path or Path(config.defaults.catalogue_file))
    shipped = shipped_prices()
    models: dict[str, ModelConfig] = {}
    unpriced: list[str] = []
    for alias, model in config.models.items():
        listed = catalogue.get(model.provider, {}).get(model.model) or {}
        if model.vision is None:  # the catalogue's input modalities say whether it sees images
            model = model.model_copy(update={"vision": "image" in (listed.get("input_modalities") or [])})
        price = price_of(config, model, catalogue, shipped)
        if price is None:
            unpriced.append(alias)
            models[alias] = model
        else:
            models[alias] = model.model_copy(update={"input_price": price.input, "output_price": price.output,
                                                     "price_source": price.source})
    return config.model_copy(update={"models": models}), unpriced
