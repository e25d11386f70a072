"""Shared machinery of every provider client: limits, timeouts, retries, error mapping."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import Any

import aiohttp

from bot.config import ProviderConfig, TimeoutsConfig
from bot.llm.errors import (
    AuthenticationFailed,
    BadRequest,
    MissingApiKey,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    ServerError,
    StreamFailed,
)
from bot.llm.types import ChatRequest, Completion, StreamEvent, TextDelta, Usage
from bot.logs import log_event

log = logging.getLogger(__name__)

BACKOFF_CAP_FACTOR = 16
RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504, 529}


def backoff_delay(base: float, attempt: int) -> float:
    """base doubling to 16x base (0.5 s to 8 s by default), jittered so a 429 storm does not retry in lockstep."""
    return float(min(base * BACKOFF_CAP_FACTOR, base * 2.0**attempt)) * random.uniform(0.75, 1.0)


def parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


class ProviderClient(ABC):
    """One configured provider. Streams or completes chat requests; raises only ProviderError."""

    def __init__(self, name: str, config: ProviderConfig, session: aiohttp.ClientSession,
                 timeouts: TimeoutsConfig, api_key: str | None,
                 redact: Callable[[str], str] = lambda text: text) -> None:
        self.name = name
        self.config = config
        self._session = session
        self._api_key = api_key
        self._limit = asyncio.Semaphore(config.max_concurrency)
        self._redact = redact
        self._timeout = aiohttp.ClientTimeout(
            total=timeouts.total, sock_connect=timeouts.connect, sock_read=timeouts.idle
        )
        self._idle = timeouts.idle

    # --- provider specifics -------------------------------------------------------------
    @abstractmethod
    def _url(self) -> str: ...

    @abstractmethod
    def _headers(self) -> dict[str, str]: ...

    @abstractmethod
    def _models_url(self) -> str: ...

    @abstractmethod
    def _body(self, request: ChatRequest, stream: bool) -> dict[str, Any]: ...

    @abstractmethod
    def _parse_completion(self, data: Mapping[str, Any]) -> Completion: ...

    @abstractmethod
    def _parse_stream(self, response: aiohttp.ClientResponse) -> AsyncIterator[StreamEvent]: ...

    @staticmethod
    @abstractmethod
    def _error_message(data: Any) -> str: ...

    # --- public API ---------------------------------------------------------------------
    async def complete(self, request: ChatRequest) -> Completion:
        attempt = 0
        while True:
            try:
                async with self._limit, self._post(request, stream=False) as response:
                    await self._raise_for_status(response)
                    return self._parse_completion(await response.json(content_type=None))
            except ProviderError as error:
                delay = self._retry_delay(error, attempt)
                if delay is None:
                    error.retries = attempt
                    raise
            except Exception as error:
                mapped = self._map_exception(error, started=False)
                mapped.retries = attempt
                raise mapped from None
            attempt += 1
            self._log_retry(delay, attempt)
            await asyncio.sleep(delay)

    async def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """Yield text deltas then one StreamEnd. Retries only while no text has been delivered."""
        attempt = 0
        while True:
            delivered = False
            try:
                async with self._limit, self._post(request, stream=True) as response:
                    await self._raise_for_status(response)
                    async for event in self._parse_stream(response):
                        if isinstance(event, TextDelta) and event.text:
                            delivered = True
                        yield event
                    return
            except ProviderError as error:
                delay = None if delivered else self._retry_delay(error, attempt)
                if delay is None:
                    error.retries = attempt
                    raise
            except Exception as error:
                mapped = self._map_exception(error, started=delivered)
                delay = None if delivered else self._retry_delay(mapped, attempt)
                if delay is None:
                    mapped.retries = attempt
                    raise mapped from None
            attempt += 1
            self._log_retry(delay, attempt)
            await asyncio.sleep(delay)

    async def list_models(self) -> list[str]:
        """The provider's model ids: proves it is reachable and the key is accepted, at no token cost."""
        if self.config.api_key_env and not self._api_key:
            raise MissingApiKey(self.name, self.config.api_key_env)
        try:
            async with self._session.get(self._models_url(), headers=self._headers(),
                                         timeout=self._timeout) as response:
                await self._raise_for_status(response)
                data = await response.json(content_type=None)
        except ProviderError:
            raise
        except Exception as error:
            raise self._map_exception(error, started=False) from None
        entries = (data.get("data") or data.get("models") or []) if isinstance(data, dict) else []
        return [str(e.get("id") or e.get("name")) for e in entries if isinstance(e, dict)]

    # --- helpers ------------------------------------------------------------------------
    def _log_retry(self, delay: float, attempt: int) -> None:
        log_event(log, "provider_retry", provider=self.name, attempt=attempt + 1, delay_s=round(delay, 3))

    def _post(self, request: ChatRequest, *, stream: bool) -> Any:
        if self.config.api_key_env and not self._api_key:
            raise MissingApiKey(self.name, self.config.api_key_env)
        return self._session.post(
            self._url(), json=self._body(request, stream), headers=self._headers(), timeout=self._timeout
        )

    def _retry_delay(self, error: ProviderError, attempt: int) -> float | None:
        if not error.retryable or attempt >= self.config.max_retries:
            return None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return retry_after if retry_after <= self.config.max_retry_after else None
        return backoff_delay(self.config.retry_backoff, attempt)

    async def _raise_for_status(self, response: aiohttp.ClientResponse) -> None:
        if response.status < 400:
            return
        text = await response.text(errors="replace")
        try:
            detail = self._error_message(json.loads(text))
        except (ValueError, TypeError, KeyError, AttributeError):
            detail = text
        detail = self._redact(detail)
        status = response.status
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RateLimited(self.name, detail, status=status, retry_after=retry_after)
        if status in (401, 403):
            raise AuthenticationFailed(self.name, detail, status=status)
        if status in RETRYABLE_STATUS or status >= 500:
            raise ServerError(self.name, detail, status=status)
        raise BadRequest(self.name, detail, status=status)

    def stream_error(self, detail: str) -> StreamFailed:
        return StreamFailed(self.name, self._redact(detail))

    def _map_exception(self, error: BaseException, *, started: bool) -> ProviderError:
        """Translate aiohttp/asyncio failures; never use their text (it can carry request headers)."""
        if isinstance(error, ProviderError):
            return error
        if isinstance(error, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
            what = f"no data for {self._idle:g}s" if started else "no response in time"
            return ProviderTimeout(self.name, what)
        if isinstance(error, aiohttp.ClientConnectorError):
            return ProviderUnavailable(self.name, "connection refused or host unreachable")
        if isinstance(error, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
            if started:
                return StreamFailed(self.name, "connection closed mid-answer")
            return ProviderUnavailable(self.name, "connection closed")
        if isinstance(error, aiohttp.ClientError | OSError):
            return ProviderUnavailable(self.name, type(error).__name__)
        if isinstance(error, ValueError):
            return StreamFailed(self.name, "malformed response")
        log.exception("unexpected error from provider %s", self.name)
        return ProviderError(self.name, type(error).__name__)


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def usage_or_empty(input_tokens: Any, output_tokens: Any) -> Usage:
    return Usage(_as_int(input_tokens), _as_int(output_tokens))

