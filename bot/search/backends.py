"""moai's own search backends, for models whose provider cannot search (Ollama, vLLM, any OpenAI-compatible
server): one narrow seam, `SearchBackend.search(query, limit)`.

Every call is bounded: one total timeout, a response size cap, JSON only. Keys come from the environment and
never appear in an error (errors name the backend and the HTTP status, not the request).

Errors: SearchFailed (one class: the caller answers without search and says why; `reason` is for people).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from bot.config import SearchConfig
from bot.llm.types import source_from

__all__ = ["BACKEND_NAMES", "BraveBackend", "SearchBackend", "SearchFailed", "SearchResult", "SearxngBackend",
           "TavilyBackend", "backend_for"]

MAX_RESPONSE_BYTES = 2_000_000  # a results page is a few kB; anything far larger is not one
SNIPPET_CHARS = 500
TAG_RE = re.compile(r"<[^>]+>")
BRAVE_URL = "https://api.search.brave.com/res/v1/web/search"
TAVILY_URL = "https://api.tavily.com/search"
BACKEND_NAMES = {"searxng": "SearXNG", "brave": "Brave Search", "tavily": "Tavily"}


@dataclass(frozen=True, slots=True)
class SearchResult:
    url: str
    title: str
    snippet: str


class SearchFailed(Exception):
    """The backend could not give results: down, slow, refusing, or answering something that is not results."""

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend}: {reason}")
        self.backend = backend
        self.reason = reason


class SearchBackend(Protocol):
    name: str  # "searxng", "brave", "tavily": the ledger's and the metrics' label

    async def search(self, query: str, limit: int) -> list[SearchResult]: ...


def plain(text: object, limit: int) -> str:
    """Snippets come with markup (<strong>, &amp;): plain text, one line, bounded."""
    if not isinstance(text, str):
        return ""
    return " ".join(html.unescape(TAG_RE.sub("", text)).split())[:limit]


def results_from(entries: object, text_key: str, limit: int) -> list[SearchResult]:
    """http(s) results only, each URL once, in the backend's order."""
    found: list[SearchResult] = []
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, Mapping):
            continue
        source = source_from(entry.get("url"))
        if source is None or any(r.url == source.url for r in found):
            continue
        found.append(SearchResult(source.url, plain(entry.get("title"), 300) or source.url,
                                  plain(entry.get(text_key), SNIPPET_CHARS)))
        if len(found) >= limit:
            break
    return found


async def read_bounded(stream: aiohttp.StreamReader) -> bytes:
    """The body up to one byte past the cap (enough to know it is too large), never all of a huge one."""
    body = bytearray()
    while len(body) <= MAX_RESPONSE_BYTES:
        chunk = await stream.read(65536)
        if not chunk:
            break
        body += chunk
    return bytes(body)


class _HttpBackend:
    name = ""

    def __init__(self, session: aiohttp.ClientSession, config: SearchConfig, api_key: str | None) -> None:
        self._session = session
        self._config = config
        self._api_key = api_key
        self._timeout = aiohttp.ClientTimeout(total=config.timeout_seconds)

    @property
    def label(self) -> str:
        return BACKEND_NAMES[self.name]

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        """The backend's JSON answer, or SearchFailed: nothing here may raise anything else or wait longer."""
        label = self.label
        try:
            async with self._session.request(method, url, timeout=self._timeout, allow_redirects=False,
                                             **kwargs) as response:
                if response.status >= 400:
                    raise SearchFailed(label, f"HTTP {response.status}")
                if "json" not in response.headers.get("Content-Type", "").lower():
                    raise SearchFailed(label, "the answer was not JSON (is its JSON format enabled?)")
                body = await read_bounded(response.content)
        except SearchFailed:
            raise
        except TimeoutError:
            raise SearchFailed(label, f"no answer within {self._config.timeout_seconds:g}s") from None
        except (aiohttp.ClientError, OSError) as error:
            raise SearchFailed(label, f"unreachable ({type(error).__name__})") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise SearchFailed(label, "the answer was too large to be results")
        try:
            return json.loads(body)
        except ValueError:
            raise SearchFailed(label, "the answer was not valid JSON") from None

    async def search(self, query: str, limit: int) -> list[SearchResult]:
        raise NotImplementedError

    def _missing_key(self) -> None:
        if not self._api_key:
            raise SearchFailed(self.label, f"no key: set {self._config.api_key_env}")


class SearxngBackend(_HttpBackend):
    """A SearXNG instance's JSON API (`search.formats` must include json in its settings.yml)."""

    name = "searxng"

    async def search(self, query: str, limit: int) -> list[SearchResult]:
        data = await self._json("GET", f"{self._config.url}/search", params={"q": query, "format": "json"},
                                headers={"Accept": "application/json"})
        if not isinstance(data, Mapping) or not isinstance(data.get("results"), list):
            raise SearchFailed(self.label, "the answer had no results list")
        return results_from(data["results"], "content", limit)


class BraveBackend(_HttpBackend):
    """Brave Search's web search API (`X-Subscription-Token`)."""

    name = "brave"

    async def search(self, query: str, limit: int) -> list[SearchResult]:
        self._missing_key()
        data = await self._json("GET", self._config.url or BRAVE_URL, params={"q": query, "count": str(limit)},
                                headers={"Accept": "application/json", "X-Subscription-Token": self._api_key or ""})
        web = data.get("web") if isinstance(data, Mapping) else None
        if not isinstance(data, Mapping) or (web is not None and not isinstance(web, Mapping)):
            raise SearchFailed(self.label, "the answer had no web results")
        return results_from(web.get("results") if web else [], "description", limit)


class TavilyBackend(_HttpBackend):
    """Tavily's search API (a bearer key; basic depth, one credit per search)."""

    name = "tavily"

    async def search(self, query: str, limit: int) -> list[SearchResult]:
        self._missing_key()
        data = await self._json("POST", self._config.url or TAVILY_URL,
                                json={"query": query, "max_results": limit, "search_depth": "basic"},
                                headers={"Authorization": f"Bearer {self._api_key}"})
        if not isinstance(data, Mapping) or not isinstance(data.get("results"), list):
            raise SearchFailed(self.label, "the answer had no results list")
        return results_from(data["results"], "content", limit)


BACKENDS: dict[str, type[_HttpBackend]] = {"searxng": SearxngBackend, "brave": BraveBackend,
                                           "tavily": TavilyBackend}


def backend_for(config: SearchConfig, session: aiohttp.ClientSession,
                environ: Mapping[str, str]) -> SearchBackend | None:
    """The configured backend, or None when moai does no search of its own."""
    if not config.backend:
        return None
    key = environ.get(config.api_key_env) if config.api_key_env else None
    backend: SearchBackend = BACKENDS[config.backend](session, config, key)
    return backend
