"""Typed provider failures. Their text is ours plus a trimmed, redacted provider message: never headers."""

from __future__ import annotations

MAX_DETAIL = 160


class ProviderError(Exception):
    """Base class; `str()` is a short, user-presentable reason."""

    retryable = False
    reason = "provider error"
    retries = 0  # how many retries were spent before giving up (set by the client)

    def __init__(self, provider: str, detail: str = "", *, status: int | None = None) -> None:
        self.provider = provider
        self.status = status
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

    def __init__(self, provider: str, detail: str = "", *, status: int | None = 429,
                 retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(provider, detail, status=status)

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
