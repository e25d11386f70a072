"""Loopback search engines in their own wire shapes: SearXNG's JSON API, Brave Search's web search API and
Tavily's search API, each refusing what the real one refuses (SearXNG without `format=json` enabled: 403;
Brave and Tavily without a valid key: 401 in their error bodies) and scriptable to fail the ways the world
does (down, frozen, HTML error pages, a huge body)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import serve

BRAVE_KEY = "BSA-test-SECRET-brave-0123456789"
TAVILY_KEY = "tvly-test-SECRET-tavily-987654"

RESULTS = (("https://www.python.org/downloads/release/python-3140/", "Python Release Python 3.14.0",
            "<strong>Python 3.14.0</strong> is the newest major release of the Python programming language."),
           ("https://docs.python.org/3.14/whatsnew/3.14.html", "What&#39;s new in Python 3.14",
            "This article explains the new features in Python 3.14, compared to 3.13: free-threaded &amp; more."),
           ("javascript:alert(1)", "not a page", "dropped: not http(s)"),
           ("https://peps.python.org/pep-0745/", "PEP 745 – Python 3.14 Release Schedule", "Release dates."))


@dataclass
class SearchRequest:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class FakeSearch:
    results: tuple[tuple[str, str, str], ...] = RESULTS
    status: int = 200
    delay: float = 0.0  # before answering (a frozen engine: longer than moai's timeout)
    html: bool = False  # a proxy's HTML page instead of JSON
    huge: bool = False  # a body far past any results page
    json_enabled: bool = True  # SearXNG's `search.formats` includes json
    requests: list[SearchRequest] = field(default_factory=list)
    base: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> FakeSearch:
        app = web.Application()
        app.router.add_get("/search", self._searxng)
        app.router.add_get("/res/v1/web/search", self._brave)
        app.router.add_post("/tavily/search", self._tavily)
        self._runner, self.base = await serve(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def brave_url(self) -> str:
        return f"{self.base}/res/v1/web/search"

    @property
    def tavily_url(self) -> str:
        return f"{self.base}/tavily/search"

    async def _record(self, request: web.Request) -> web.StreamResponse | None:
        body = await request.json() if request.method == "POST" else {}
        self.requests.append(SearchRequest(request.path, dict(request.query), dict(request.headers), body,
                                           time.monotonic()))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.html:
            return web.Response(status=502, text="<html><title>502 Bad Gateway</title></html>",
                                content_type="text/html")
        if self.huge:
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            await response.prepare(request)
            try:
                await response.write(b'{"results": [' + b" " * 3_000_000)
            except ConnectionResetError:
                pass
            return response
        if self.status != 200:
            return web.json_response({"error": "simulated failure"}, status=self.status)
        return None

    async def _searxng(self, request: web.Request) -> web.StreamResponse:
        if (early := await self._record(request)) is not None:
            return early
        if request.query.get("format") != "json" or not self.json_enabled:
            return web.Response(status=403, text="403 Forbidden", content_type="text/html")
        return web.json_response({
            "query": request.query.get("q", ""), "number_of_results": 0,
            "results": [{"url": url, "title": title, "content": content, "engine": "duckduckgo",
                         "parsed_url": [], "template": "default.html", "engines": ["duckduckgo", "brave"],
                         "positions": [n], "score": 1.0 / n, "category": "general"}
                        for n, (url, title, content) in enumerate(self.results, start=1)],
            "answers": [], "corrections": [], "infoboxes": [], "suggestions": [],
            "unresponsive_engines": [["google", "timeout"]]})

    async def _brave(self, request: web.Request) -> web.StreamResponse:
        if (early := await self._record(request)) is not None:
            return early
        if request.headers.get("X-Subscription-Token") != BRAVE_KEY:
            return web.json_response({"type": "ErrorResponse", "error": {
                "id": "4b5c", "status": 401, "code": "SUBSCRIPTION_TOKEN_INVALID",
                "detail": "The provided subscription token is invalid."}, "time": 1733300000}, status=401)
        count = int(request.query.get("count", "20"))
        return web.json_response({
            "type": "search", "query": {"original": request.query.get("q", ""), "more_results_available": True},
            "mixed": {"type": "mixed", "main": []},
            "web": {"type": "search", "family_friendly": True, "results": [
                {"title": title, "url": url, "is_source_local": False, "description": content,
                 "profile": {"name": "Python", "url": url}, "language": "en", "type": "search_result",
                 "age": "October 7, 2025"} for url, title, content in self.results[:count]]}})

    async def _tavily(self, request: web.Request) -> web.StreamResponse:
        if (early := await self._record(request)) is not None:
            return early
        if request.headers.get("Authorization") != f"Bearer {TAVILY_KEY}":
            return web.json_response({"detail": {"error": "Unauthorized: missing or invalid API key."}},
                                     status=401)
        body = self.requests[-1].body
        return web.json_response({
            "query": body.get("query", ""), "follow_up_questions": None, "answer": None, "images": [],
            "results": [{"title": title, "url": url, "content": content, "score": 0.9, "raw_content": None}
                        for url, title, content in self.results[:body.get("max_results", 5)]],
            "response_time": "1.02"})
