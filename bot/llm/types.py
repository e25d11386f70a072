"""Provider-neutral request and stream types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["system", "user", "assistant"]
ReasoningEffort = Literal["low", "medium", "high"]

# Stop reasons as both wire formats spell them, by what they mean to the person reading the answer.
CUT_OFF_REASONS = frozenset({"length", "max_tokens", "model_context_window_exceeded"})
FILTERED_REASONS = frozenset({"content_filter", "refusal"})


@dataclass(frozen=True, slots=True)
class ImagePart:
    media_type: str  # image/png, image/jpeg, image/webp, image/gif
    data_b64: str


@dataclass(frozen=True, slots=True)
class DocumentPart:
    name: str
    media_type: str  # application/pdf
    data_b64: str


Part = ImagePart | DocumentPart


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str
    parts: tuple[Part, ...] = ()  # files sent natively beside the text (user turns only)


@dataclass(frozen=True, slots=True)
class WebSearch:
    """Ask the provider to search the web itself: Anthropic's server tool (`max_uses` searches at most), or
    OpenRouter's web plugin (`max_results` results, one search)."""

    max_uses: int = 3
    max_results: int = 5


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int
    temperature: float
    reasoning_effort: ReasoningEffort | None = None  # OpenAI-compatible reasoning models
    thinking_budget: int | None = None  # Anthropic extended thinking, in tokens
    web_search: WebSearch | None = None  # the provider searches the web for this answer


@dataclass(slots=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None  # includes reasoning tokens, as every provider bills them
    reasoning_tokens: int | None = None
    estimated: bool = False  # no usage came from the provider: moai's estimate from the text sent and received
    web_searches: int = 0  # searches the provider ran for this answer (Anthropic: usage.server_tool_use)

    @property
    def total(self) -> int | None:
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """Thinking the model shows before (or beside) its answer; never part of the answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class SourceCited:
    """A web source the provider says the answer draws on: an OpenAI-compatible `url_citation` annotation
    (OpenRouter's web plugin and `:online` models), or an Anthropic `web_search_result_location` citation."""

    url: str
    title: str = ""
    quote: str = ""  # the cited text or snippet, when the provider gives one


@dataclass(frozen=True, slots=True)
class WebSearched:
    """The provider ran one search for this answer (Anthropic: a `web_search_tool_result` block). `failed`: why
    it brought nothing (a `web_search_tool_result_error` code; not billed); the model goes on without it.

    A successful search is billed from here on, so a stream that breaks after it is not retried (the retry
    would search, and be billed, again) and its search is billed even when the usage never arrives."""

    failed: str = ""


@dataclass(frozen=True, slots=True)
class StreamOpened:
    """The provider accepted the request and began answering: from here on the call is billed, even if the
    stream is stopped or breaks before its end (when its usage would have arrived)."""


@dataclass(frozen=True, slots=True)
class StreamEnd:
    usage: Usage
    stop_reason: str | None


StreamEvent = StreamOpened | TextDelta | ReasoningDelta | SourceCited | WebSearched | StreamEnd


def source_from(url: object, title: object = "", quote: object = "") -> SourceCited | None:
    """A citation as stored: an http(s) URL (anything else is dropped: it could never be a link to open)."""
    if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")) or len(url) > 2000:
        return None
    return SourceCited(url, title[:300] if isinstance(title, str) else "",
                       quote[:1000] if isinstance(quote, str) else "")


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    usage: Usage
    stop_reason: str | None
    reasoning: str = ""


def is_cut_off(stop_reason: str | None) -> bool:
    return stop_reason in CUT_OFF_REASONS


def is_filtered(stop_reason: str | None) -> bool:
    return stop_reason in FILTERED_REASONS
