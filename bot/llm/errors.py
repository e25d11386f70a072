"""Typed provider failures. Their text is ours plus a trimmed, redacted provider message: never headers.

    ProviderError                 str() is a short reason fit to show a person
    ├── MissingApiKey             the key's environment variable is empty
    ├── AuthenticationFailed      401/403
    ├── BadRequest                other 4xx, or an in-stream error the provider marks as the request's fault
    ├── RateLimited     (retry)   429, in-stream rate_limit_error
    ├── ServerError     (retry)   5xx, 408/409, 529 overloaded, in-stream overloaded/api errors
    ├── ProviderUnavailable (retry) refused or dropped connection before any answer
    ├── ProviderTimeout           nothing for `idle` seconds, or no complete answer within `total`
    └── StreamFailed              the stream broke off or sent garbage after it had started

Retryable errors are retried only before any text reached the person (Retry-After honoured up to a cap).
"""

from __future__ import annotations

MAX_DETAIL = 160


class ProviderError(Exception):
    """Base class; `str()` is a short, user-presentable reason."""

    retryable = False
    reason = "provider error"

    def __init__(self, provider: str, detail: str = "", *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        self.provider = provider
        self.status = status
        self.retry_after = retry_after  # seconds the provider asked us to wait, if it said
        self.retries = 0  # how many retries were spent before giving up (set by the client)
        self.detail = " ".join(detail.split())[:MAX_DETAIL]
        super().__init__(self.describe())

    def describe(self) -> str:
        status = f" (HTTP {self.status})" if self.status else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.reason}{status} from {self.provider}{detail}"


class MissingApiKey(ProviderError):
    reason = "API key not set"

    def describe(self) -> str:
        return f"API key for {self.provider} is not set (environment variable {self.detail})"


class AuthenticationFailed(ProviderError):
    reason = "authentication failed"


class BadRequest(ProviderError):
    reason = "request rejected"


class RateLimited(ProviderError):
    retryable = True
    reason = "rate limited"

    def describe(self) -> str:
        base = super().describe()
        return f"{base} (retry after {self.retry_after:g}s)" if self.retry_after is not None else base


class ServerError(ProviderError):
    retryable = True
    reason = "server error"


class ProviderUnavailable(ProviderError):
    retryable = True
    reason = "cannot reach provider"

    def describe(self) -> str:
        return f"cannot reach {self.provider}" + (f": {self.detail}" if self.detail else "")


class ProviderTimeout(ProviderError):
    reason = "timed out"

    def describe(self) -> str:
        return f"{self.provider} timed out ({self.detail})"


class StreamFailed(ProviderError):
    """The provider broke off or sent garbage after the response had started."""

    reason = "stream failed"
