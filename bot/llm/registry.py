"""Builds one client per configured provider on the bot's shared HTTP session."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Callable, Mapping

import aiohttp

from bot.config import AppConfig, ModelConfig
from bot.llm.anthropic import AnthropicClient
from bot.llm.client import ProviderClient
from bot.llm.limits import ProviderLimits
from bot.llm.openai import OpenAIClient
from bot.llm.types import ChatMessage, ChatRequest, Completion, StreamEvent, WebSearch

CLIENT_KINDS: dict[str, type[ProviderClient]] = {"openai": OpenAIClient, "anthropic": AnthropicClient}


class ModelClients:
    """Looks up the provider behind a model alias and sends it requests with the model's settings."""

    def __init__(self, config: AppConfig, session: aiohttp.ClientSession,
                 environ: Mapping[str, str] | None = None,
                 redact: Callable[[str], str] = lambda text: text, limits: ProviderLimits | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._session = session
        self._redact = redact
        self.limits = limits or ProviderLimits(config.providers)
        self.config = config
        self.providers: dict[str, ProviderClient] = {name: self._client(name, config) for name in config.providers}

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared HTTP session (moai's search backend calls on it too)."""
        return self._session

    @property
    def environ(self) -> Mapping[str, str]:
        return self._environ

    def _client(self, name: str, config: AppConfig) -> ProviderClient:
        provider = config.providers[name]
        return CLIENT_KINDS[provider.kind](
            name, provider, self._session, config.defaults.timeouts,
            api_key=self._environ.get(provider.api_key_env) if provider.api_key_env else None,
            redact=self._redact, limits=self.limits,
        )

    def reconfigure(self, config: AppConfig) -> None:
        """Take a reloaded config: requests already running finish on the clients they started with."""
        self.limits.configure(config.providers)
        self.providers = {name: self._client(name, config) for name in config.providers}
        self.config = config

    def request_for(self, model: ModelConfig, messages: list[ChatMessage],
                    web_search: WebSearch | None = None) -> ChatRequest:
        return ChatRequest(model=model.model, messages=tuple(messages), max_tokens=model.max_tokens,
                           temperature=model.temperature, reasoning_effort=model.reasoning_effort,
                           thinking_budget=model.thinking_budget, web_search=web_search)

    def stream(self, model: ModelConfig, messages: list[ChatMessage],
               web_search: WebSearch | None = None) -> AsyncGenerator[StreamEvent, None]:
        return self.providers[model.provider].stream(self.request_for(model, messages, web_search))

    async def complete(self, model: ModelConfig, messages: list[ChatMessage]) -> Completion:
        return await self.providers[model.provider].complete(self.request_for(model, messages))
