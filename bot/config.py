"""config.toml: typed, validated once at startup so a mistake stops the bot with one line naming the key."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.kinds import Ties

DEFAULT_CONFIG_PATH = Path("config.toml")
CONFIG_ENV = "MOAI_CONFIG"
ALIAS_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
MIN_PROMPT_TOKENS = 256  # context left for the discussion after reserving max_tokens for the answer

PositiveSeconds = Annotated[float, Field(gt=0, le=3600)]
SearchRoute = Literal["provider", "moai", "off"]


class ConfigError(Exception):
    """A broken or missing config; the message is one line that names the key."""


def http_url(value: str) -> str:
    """An endpoint's address without its trailing slash ("" stays "": not set)."""
    if value and not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


def env_name(value: str) -> str:
    """The NAME of an environment variable holding a secret ("" for none), never the secret itself."""
    if value and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError("must be the NAME of an environment variable, not the key itself")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderConfig(_Strict):
    kind: Literal["openai", "anthropic"]
    base_url: str
    api_key_env: str = ""
    max_concurrency: int = Field(default=4, ge=1, le=4096)  # requests in flight, across all processes
    requests_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)  # requests started, all processes
    max_retries: int = Field(default=2, ge=0, le=10)
    max_retry_after: PositiveSeconds = 60.0
    retry_backoff: float = Field(default=0.5, gt=0, le=60)
    # How its models search the web when a discussion asks for it: "provider" (Anthropic's web search tool; on
    # an OpenAI-compatible provider, OpenRouter's web plugin), "moai" (moai's own [search] backend, results
    # given to the model as numbered sources), "off". None: "provider" for Anthropic and openrouter.ai, else
    # "moai" when a backend is configured.
    search: SearchRoute | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value:
            raise ValueError("must start with http:// or https://")
        return http_url(value)

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        return env_name(value)


INTERNAL_MODEL_KEYS = ("alias", "price_source")  # moai fills these in; a config that sets them is refused


class ModelConfig(_Strict):
    alias: str = ""
    provider: str
    model: str
    display_name: str = ""
    avatar_url: str | None = None
    max_tokens: int = Field(default=1024, ge=1, le=200_000)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    aliases: tuple[str, ...] = ()
    context_tokens: int = Field(default=16_000, ge=256, le=2_000_000)
    input_price: float | None = Field(default=None, ge=0)  # USD per million input tokens; None: look it up
    output_price: float | None = Field(default=None, ge=0)  # USD per million output tokens
    price_source: str = ""  # filled in when prices are resolved (config, catalogue, shipped list)
    reasoning_effort: Literal["low", "medium", "high"] | None = None  # OpenAI-compatible reasoning models
    thinking_budget: int | None = Field(default=None, ge=1024)  # Anthropic extended thinking, tokens
    role: str = ""  # a standing debate role (devil's advocate, skeptic…); a discussion's roles take its place
    vision: bool | None = None  # sees images; None: from the model catalogue (Anthropic models: yes)
    native_pdf: bool | None = None  # reads PDFs as documents; None: Anthropic and OpenRouter yes, else text
    search: SearchRoute | None = None  # how this model searches the web; None: its provider's way

    @property
    def name(self) -> str:
        return self.display_name or self.alias

    @property
    def priced(self) -> bool:
        """A price is known (a side left out of config.toml, with the other given, is free)."""
        return self.input_price is not None or self.output_price is not None

    @model_validator(mode="after")
    def _room_for_context(self) -> ModelConfig:
        if self.context_tokens - self.max_tokens < MIN_PROMPT_TOKENS:
            raise ValueError(f"context_tokens must exceed max_tokens by at least {MIN_PROMPT_TOKENS}")
        if self.thinking_budget is not None and self.thinking_budget >= self.max_tokens:
            raise ValueError("thinking_budget must be less than max_tokens (thinking counts within max_tokens)")
        return self


class TimeoutsConfig(_Strict):
    connect: PositiveSeconds = 10.0
    idle: PositiveSeconds = 60.0
    total: PositiveSeconds = 300.0


class DefaultsConfig(_Strict):
    models: tuple[str, ...] = ()
    rounds: int = Field(default=3, ge=1, le=10)
    max_question_chars: int = Field(default=4000, ge=1, le=6000)
    monthly_budget_usd: float = Field(default=0.0, ge=0)  # per guild; 0 = no limit
    user_cooldown_seconds: float = Field(default=0.0, ge=0, le=86_400)
    moderators: tuple[str, ...] = ()  # /consensus: the first that answers writes the synthesis
    mention_queue_limit: int = Field(default=10, ge=1, le=100)  # mentions merged into one waiting round
    max_projects: int = Field(default=50, ge=1, le=1000)  # projects one server may have
    allow_unpriced: bool = False  # with a budget set, run models whose price is unknown (counted as free)
    confirm_above_usd: float = Field(default=0.0, ge=0)  # a run whose worst case is above this asks first; 0: never
    catalogue_file: str = "moai-catalogue.json"  # written by `moai models sync`
    timeouts: TimeoutsConfig = TimeoutsConfig()


class DebateConfig(_Strict):
    similarity: float = Field(default=0.5, gt=0.0, le=1.0)  # word overlap at which two stances are one position
    stop_confidence: int = Field(default=60, ge=0, le=100)  # early stop needs every model at least this sure
    depth_confidence: int = Field(default=60, ge=0, le=100)  # depth:auto goes on past round 1 below this
    anonymous: bool = True  # debate rounds show the models each other as "Panelist A"…, never by name
    position_judge: str = ""  # a model alias that groups stances when the word rules are unsure (billed; off)
    roles: dict[str, str] = {}  # your own roles: name -> the instructions the model gets

    @field_validator("roles")
    @classmethod
    def _role_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, prompt in value.items():
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9 '_-]{0,39}", name):
                raise ValueError(f"role name '{name}': letters, digits, spaces, ' _ - (max 40)")
            if not prompt.strip():
                raise ValueError(f"role '{name}' needs its instructions")
        return value


class AttachmentsConfig(_Strict):
    max_files: int = Field(default=4, ge=1, le=10)  # per message or command (Discord allows 10 per message)
    max_file_mb: float = Field(default=10.0, gt=0, le=100)
    max_message_mb: float = Field(default=25.0, gt=0, le=500)
    image_max_side: int = Field(default=1568, ge=256, le=8192)  # longer images are downscaled before upload
    max_text_chars: int = Field(default=100_000, ge=1000, le=2_000_000)  # of a text file or a PDF's text
    max_pdf_pages: int = Field(default=100, ge=1, le=1000)


class ArenaConfig(_Strict):
    votes: bool = True  # a vote under every /open and debate round with two or more answers
    vote_minutes: float = Field(default=10.0, gt=0, le=10_080)  # the vote closes after this, at the latest
    ties: Ties = Ties.NONE  # a tie vote: moves no rating (none), or half a win each way (half)
    min_votes: int = Field(default=5, ge=1, le=100_000)  # votes a model needs before it gets a rank
    category_model: str = ""  # a model alias that tags questions the rules leave as "other" (billed; off when empty)


class PredictConfig(_Strict):
    close_before_hours: float = Field(default=1.0, ge=0, le=24 * 365)  # members' forecasts close this long before
    min_resolved: int = Field(default=5, ge=1, le=100_000)  # resolved questions before a rank on the accuracy board
    max_rounds: int = Field(default=3, ge=1, le=10)  # forecasting rounds /predict may ask for


class SearchPricesConfig(_Strict):
    """List prices of web search in USD, as shipped (SEARCH_PRICES_AS_OF); an operator with other terms sets
    their own. Billed to the ledger as rows of their own, counted in every worst-case estimate."""

    anthropic_per_search: float = Field(default=0.01, ge=0)  # Anthropic web search: $10 per 1,000 searches
    openrouter_per_result: float = Field(default=0.004, ge=0)  # OpenRouter web plugin (Exa): $4 per 1,000 results
    searxng_per_request: float = Field(default=0.0, ge=0)  # self-hosted: free unless you price your server
    brave_per_request: float = Field(default=0.005, ge=0)  # Brave Search API: $5 per 1,000 requests
    tavily_per_request: float = Field(default=0.008, ge=0)  # Tavily basic search: 1 credit, $0.008


SEARCH_PRICES_AS_OF = "2026-11-01"


class SearchConfig(_Strict):
    enabled: bool = True  # members may ask for search:true (off: refused with a clear message)
    default: bool = False  # discussions search unless asked not to (search:false)
    backend: Literal["", "searxng", "brave", "tavily"] = ""  # moai's own search, for models without native search
    url: Annotated[str, AfterValidator(http_url)] = ""  # a SearXNG instance (required), another Brave/Tavily endpoint
    api_key_env: Annotated[str, AfterValidator(env_name)] = ""  # Brave: BRAVE_API_KEY, Tavily: TAVILY_API_KEY
    max_results: int = Field(default=5, ge=1, le=10)  # results per search (backend; OpenRouter's plugin too)
    max_uses: int = Field(default=3, ge=1, le=10)  # searches one answer may make (Anthropic's tool)
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)  # one backend search, all of it
    prices: SearchPricesConfig = SearchPricesConfig()


    @model_validator(mode="after")
    def _backend_reachable(self) -> SearchConfig:
        if self.backend == "searxng" and not self.url:
            raise ValueError("backend 'searxng' needs url (your SearXNG instance, with format json enabled)")
        if self.backend in ("brave", "tavily") and not self.api_key_env:
            raise ValueError(f"backend '{self.backend}' needs api_key_env (the variable holding its key)")
        return self


class DatabaseConfig(_Strict):
    url: str = "sqlite://moai.sqlite3"

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
            raise ValueError("must start with sqlite:// or postgres://")
        return value


class DiscordConfig(_Strict):
    token_env: str = "DISCORD_TOKEN"
    sync_commands: bool = True
    dev_guild_ids: tuple[int, ...] = ()
    edit_interval: float = Field(default=0.5, ge=0.0, le=30.0)  # least seconds between progress edits of a message
    webhooks_per_channel: int = Field(default=15, ge=1, le=15)  # the most moai makes per channel (Discord allows 15)
    thread_creates_per_minute: int = Field(default=30, ge=1, le=1000)  # Discord's hidden webhook limit per thread
    message_content_intent: bool = False
    webhook_name: str = "moai"


class RedisConfig(_Strict):
    url: str = ""  # redis://host:6379/0 — when set, provider limits are shared through Redis
    timeout: float = Field(default=5.0, gt=0, le=60)  # seconds one question to Redis (or the database) may take

    @field_validator("url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value


class MetricsConfig(_Strict):
    port: int = Field(default=0, ge=0, le=65535)  # 0: no metrics endpoint
    host: str = "127.0.0.1"  # bind address; 0.0.0.0 exposes /metrics and /healthz beyond this machine
    loop_lag_interval: PositiveSeconds = 0.5  # how often the event-loop lag probe runs


class AppConfig(_Strict):
    discord: DiscordConfig = DiscordConfig()
    database: DatabaseConfig = DatabaseConfig()
    redis: RedisConfig = RedisConfig()
    metrics: MetricsConfig = MetricsConfig()
    debate: DebateConfig = DebateConfig()
    arena: ArenaConfig = ArenaConfig()
    attachments: AttachmentsConfig = AttachmentsConfig()
    search: SearchConfig = SearchConfig()
    predict: PredictConfig = PredictConfig()
    defaults: DefaultsConfig = DefaultsConfig()
    providers: dict[str, ProviderConfig] = {}
    models: dict[str, ModelConfig] = {}

    @model_validator(mode="before")
    @classmethod
    def _fill_aliases(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("models"), dict):
            for key, value in data["models"].items():
                for internal in INTERNAL_MODEL_KEYS:
                    if isinstance(value, dict) and internal in value:
                        raise _KeyError(f"models.{key}.{internal}", "is set by moai, not in config")
            data = dict(data)
            data["models"] = {
                key: ({"alias": key, **value} if isinstance(value, dict) else value)
                for key, value in data["models"].items()
            }
        return data

    @model_validator(mode="after")
    def _cross_check(self) -> AppConfig:
        seen: dict[str, str] = {}
        for key, model in self.models.items():
            if not ALIAS_RE.match(key):
                raise _KeyError(f"models.{key}", "alias must be lowercase letters, digits, - _ . (max 32)")
            if model.provider not in self.providers:
                raise _KeyError(f"models.{key}.provider", f"unknown provider '{model.provider}'")
            kind = self.providers[model.provider].kind
            if model.thinking_budget is not None and kind != "anthropic":
                raise _KeyError(f"models.{key}.thinking_budget", "is for anthropic providers; use reasoning_effort")
            if model.reasoning_effort is not None and kind != "openai":
                raise _KeyError(f"models.{key}.reasoning_effort", "is for openai providers; use thinking_budget")
            if model.role and not self.role_prompt(model.role):
                raise _KeyError(f"models.{key}.role", f"unknown role '{model.role}'")
            for name in (key, *model.aliases):
                name = name.lower()
                if name in seen and seen[name] != key:
                    raise _KeyError(f"models.{key}.aliases", f"'{name}' is already used by '{seen[name]}'")
                seen[name] = key
        for key in ("models", "moderators"):
            for alias in getattr(self.defaults, key):
                if alias not in self.models:
                    raise _KeyError(f"defaults.{key}", f"unknown model '{alias}'")
        if self.debate.position_judge and self.debate.position_judge not in self.models:
            raise _KeyError("debate.position_judge", f"unknown model '{self.debate.position_judge}'")
        if self.arena.category_model and self.arena.category_model not in self.models:
            raise _KeyError("arena.category_model", f"unknown model '{self.arena.category_model}'")
        return self.model_copy(update={"models": {key: self._capable(m) for key, m in self.models.items()}})

    def _capable(self, model: ModelConfig) -> ModelConfig:
        """What a model reads when config does not say: Anthropic's models see images and read PDFs; OpenRouter
        takes PDFs for any model; other OpenAI-compatible servers' vision comes from the catalogue, else none."""
        provider = self.providers[model.provider]
        update: dict[str, bool] = {}
        if model.native_pdf is None:
            update["native_pdf"] = provider.kind == "anthropic" or "openrouter.ai" in provider.base_url
        if model.vision is None and provider.kind == "anthropic":
            update["vision"] = True
        return model.model_copy(update=update) if update else model

    def search_route(self, model: ModelConfig) -> SearchRoute:
        """How `model` searches when a discussion asks for search: its own setting, its provider's, else the
        provider's native search where there is one (Anthropic, OpenRouter), else moai's backend, else off."""
        provider = self.providers[model.provider]
        route = model.search or provider.search
        if route is None:
            native = provider.kind == "anthropic" or "openrouter.ai" in provider.base_url
            route = "provider" if native else "moai"
        return "off" if route == "moai" and not self.search.backend else route

    def resolve_model(self, name: str) -> ModelConfig | None:
        """Find a model by alias or extra alias, case-insensitively ('@Claude' works too)."""
        wanted = name.strip().lstrip("@").lower()
        for model in self.models.values():
            if wanted == model.alias or wanted in (a.lower() for a in model.aliases):
                return model
        return None

    def role_prompt(self, name: str) -> str | None:
        """The instructions of a built-in or configured role, found by name ignoring case and punctuation."""
        from bot.roles import find_role

        found = find_role(name, self.debate.roles)
        return found[1] if found else None

    def moderators(self) -> list[ModelConfig]:
        aliases = self.defaults.moderators or self.defaults.models or tuple(self.models)
        return [self.models[a] for a in aliases]

    def default_models(self) -> list[ModelConfig]:
        aliases = self.defaults.models or tuple(self.models)
        return [self.models[a] for a in aliases]


class _KeyError(ValueError):
    """Raised inside validators to name the exact key at fault."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    ctx_error = first.get("ctx", {}).get("error")
    if isinstance(ctx_error, _KeyError):
        return str(ctx_error)
    location = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{location}: {message}" if location else message


def parse_config(data: Mapping[str, object], source: str = "config.toml") -> AppConfig:
    try:
        return AppConfig.model_validate(dict(data))
    except ValidationError as error:
        raise ConfigError(f"{source}: {_describe(error)}") from None


def load_config(path: str | Path | None = None) -> AppConfig:
    """Read the config file named by the argument, $MOAI_CONFIG, or ./config.toml."""
    config_path = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)
    try:
        raw = config_path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{config_path}: cannot read config file ({error.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{config_path}: not valid TOML ({error})") from None
    return parse_config(data, source=str(config_path))
