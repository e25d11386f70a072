"""Shared machinery of every provider client: limits, timeouts, retries, error mapping."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import random
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from bot import metrics
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
from bot.llm.limits import LimitsUnavailable, ProviderLimits
from bot.llm.sse import EventTooLarge
from bot.llm.types import (
    ChatRequest,
    Completion,
    ReasoningDelta,
    SourceCited,
    StreamEvent,
    StreamOpened,
    TextDelta,
    Usage,
    WebSearched,
)
from bot.logs import log_event

log = logging.getLogger(__name__)

BACKOFF_CAP_FACTOR = 16
RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504, 529}
TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
TAG_RE = re.compile(r"<[^>]+>")


def backoff_delay(base: float, attempt: int) -> float:
    """base doubling to 16x base (0.5 s to 8 s by default), jittered so a 429 storm does not retry in lockstep."""
    return float(min(base * BACKOFF_CAP_FACTOR, base * 2.0**attempt)) * random.uniform(0.75, 1.0)


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait, from `retry-after-ms` (OpenAI), `retry-after` in seconds, or `retry-after` as an HTTP-date."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000
            if value >= 0:
                return value
        except ValueError:
            pass
    text = headers.get("retry-after")
    if text is None:
        return None
    try:
        seconds = float(text)
        return seconds if seconds >= 0 else None
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_for_status(provider: str, status: int, detail: str, retry_after: float | None = None) -> ProviderError:
    if status == 429:
        return RateLimited(provider, detail, status=status, retry_after=retry_after)
    if status in (401, 403):
        return AuthenticationFailed(provider, detail, status=status)
    if status in RETRYABLE_STATUS or status >= 500:
        return ServerError(provider, detail, status=status, retry_after=retry_after)
    return BadRequest(provider, detail, status=status)


# Anthropic's in-stream error types, and the HTTP status each stands for.
ERROR_TYPE_STATUS = {"overloaded_error": 529, "api_error": 500, "rate_limit_error": 429, "timeout_error": 504,
                     "authentication_error": 401, "permission_error": 403, "invalid_request_error": 400,
                     "not_found_error": 404, "request_too_large": 413, "billing_error": 402,
                     "server_error": 500}


def in_stream_error(provider: str, kind: object, code: object, detail: str) -> ProviderError:
    """An error sent after HTTP 200, mapped like its HTTP twin so that one before any text is retried alike."""
    status = code if isinstance(code, int) and 400 <= code < 600 else ERROR_TYPE_STATUS.get(str(kind or code))
    if status is None:
        return StreamFailed(provider, detail)
    return error_for_status(provider, status, detail)


def readable_body(text: str, reason: str | None) -> str:
    """An error page from a proxy (HTML) becomes its title or the status phrase, never markup."""
    stripped = text.lstrip()
    if stripped.startswith("<") and ("<html" in stripped[:500].lower() or "<!doctype" in stripped[:50].lower()
                                     or "<body" in stripped.lower()):
        title = TITLE_RE.search(text)
        found = html.unescape(TAG_RE.sub("", title.group(1))).strip() if title else ""
        return found or reason or "error page"
    return text


class ProviderClient(ABC):
    """One configured provider. Streams or completes chat requests; raises only ProviderError."""

    def __init__(self, name: str, config: ProviderConfig, session: aiohttp.ClientSession,
                 timeouts: TimeoutsConfig, api_key: str | None,
                 redact: Callable[[str], str] = lambda text: text, limits: ProviderLimits | None = None) -> None:
        self.name = name
        self.config = config
        self._session = session
        self._api_key = api_key
        self._limits = limits or ProviderLimits({name: config})
        self._redact = redact
        self._timeout = aiohttp.ClientTimeout(
            total=timeouts.total, sock_connect=timeouts.connect, sock_read=timeouts.idle
        )
        self._timeouts = timeouts

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
        """One answer, not streamed; retried like stream() (nothing is shown before it is complete)."""
        attempt = 0
        while True:
            try:
                async with self._limits.slot(self.name), self._post(request, stream=False) as response:
                    await self._raise_for_status(response)
                    return self._parse_completion(await response.json(content_type=None))
            except Exception as error:
                mapped = self._map_exception(error, started=False)
                delay = self._retry_delay(mapped, attempt)
                if delay is None:
                    mapped.retries = attempt
                    raise mapped from None
            attempt += 1
            self._log_retry(delay, attempt)
            await asyncio.sleep(delay)

    async def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """Yield text and reasoning deltas, then one StreamEnd. Retries only while nothing has been delivered."""
        attempt = 0
        while True:
            delivered = False
            try:
                async with self._limits.slot(self.name), self._post(request, stream=True) as response:
                    await self._raise_for_status(response)
                    yield StreamOpened()
                    async for event in self._parse_stream(response):
                        if isinstance(event, SourceCited | WebSearched) or (
                                isinstance(event, TextDelta | ReasoningDelta) and event.text):
                            delivered = True
                        yield event
                    return
            except Exception as error:
                mapped = self._map_exception(error, started=delivered)
                if delivered and not isinstance(mapped, StreamFailed | ProviderTimeout):
                    mapped = StreamFailed(self.name, mapped.detail or mapped.reason)  # it came after a 200
                delay = None if delivered else self._retry_delay(mapped, attempt)
                if delay is None:
                    mapped.retries = attempt
                    raise mapped from None
            attempt += 1
            self._log_retry(delay, attempt)
            await asyncio.sleep(delay)

    async def list_models(self) -> list[str]:
        """The provider's model ids: proves it is reachable and the key is accepted, at no token cost."""
        return [str(e.get("id") or e.get("name")) for e in await self.model_entries()]

    async def model_entries(self) -> list[dict[str, Any]]:
        """The provider's model list as it sends it (OpenRouter's entries carry pricing and modalities)."""
        if self.config.api_key_env and not self._api_key:
            raise MissingApiKey(self.name, self.config.api_key_env)
        try:
            async with self._session.get(self._models_url(), headers=self._headers(),
                                         timeout=self._timeout) as response:
                await self._raise_for_status(response)
                data = await response.json(content_type=None)
        except Exception as error:
            raise self._map_exception(error, started=False) from None
        entries = (data.get("data") or data.get("models") or []) if isinstance(data, dict) else []
        return [e for e in entries if isinstance(e, dict)]

    # --- helpers ------------------------------------------------------------------------
    def _log_retry(self, delay: float, attempt: int) -> None:
        metrics.RETRIES.labels(self.name).inc()
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
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.config.max_retry_after else None
        return backoff_delay(self.config.retry_backoff, attempt)

    async def _raise_for_status(self, response: aiohttp.ClientResponse) -> None:
        if response.status < 400:
            return
        text = await response.text(errors="replace")
        try:
            detail = self._error_message(json.loads(text))
        except (ValueError, TypeError, KeyError, AttributeError):
            detail = readable_body(text, response.reason)
        retry_after = parse_retry_after(response.headers)
        raise error_for_status(self.name, response.status, self._redact(detail), retry_after)

    def stream_error(self, detail: str, kind: object = None, code: object = None) -> ProviderError:
        """An error reported inside the stream (or a broken stream when neither kind nor code is known)."""
        return in_stream_error(self.name, kind, code, self._redact(detail))

    def _map_exception(self, error: BaseException, *, started: bool) -> ProviderError:
        """Translate aiohttp/asyncio failures; never use their text (it can carry request headers)."""
        if isinstance(error, ProviderError):
            return error
        if isinstance(error, aiohttp.ConnectionTimeoutError):
            return ProviderUnavailable(self.name, f"no connection within {self._timeouts.connect:g}s")
        if isinstance(error, aiohttp.ServerTimeoutError):  # the read timeout: nothing arrived for `idle` seconds
            what = f"no data for {self._timeouts.idle:g}s" if started else "no response in time"
            return ProviderTimeout(self.name, what)
        if isinstance(error, TimeoutError):  # the total timeout: data may have been flowing all along
            return ProviderTimeout(self.name, f"no complete answer within {self._timeouts.total:g}s")
        if isinstance(error, aiohttp.ClientConnectorError):
            return ProviderUnavailable(self.name, "connection refused or host unreachable")
        if isinstance(error, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
            if started:
                return StreamFailed(self.name, "connection closed mid-answer")
            return ProviderUnavailable(self.name, "connection closed")
        if isinstance(error, aiohttp.ClientError | OSError):
            return ProviderUnavailable(self.name, type(error).__name__)
        if isinstance(error, LimitsUnavailable):
            return ProviderUnavailable(self.name, str(error))
        if isinstance(error, EventTooLarge):
            return StreamFailed(self.name, "a stream event too large to be a chat answer")
        if isinstance(error, ValueError):
            return StreamFailed(self.name, "malformed response")
        log.exception("unexpected error from provider %s", self.name)
        return ProviderError(self.name, type(error).__name__)


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def usage_or_empty(input_tokens: Any, output_tokens: Any, reasoning_tokens: Any = None) -> Usage:
    return Usage(_as_int(input_tokens), _as_int(output_tokens), _as_int(reasoning_tokens))
