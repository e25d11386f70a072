"""Discord's buckets mirrored from their headers, and the hidden per-thread create budget."""

from __future__ import annotations

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from cogs.delivery.pacing import BucketReport, CreateBudget, RateWindow
from cogs.delivery.ratelimit_headers import bucket_key, read_report, webhook_key


def report(remaining: int, reset_after: float, at: float, limit: int = 5, status: int = 200) -> BucketReport:
    return BucketReport(status=status, at=at, limit=limit, remaining=remaining, reset_after=reset_after)


def test_a_full_window_waits_for_its_oldest_answer_and_progress_leaves_room() -> None:
    window = RateWindow(5, 2.0)
    for n in range(3):
        window.record(n * 0.1)
    assert window.delay(0.3) == 0.0  # two of five left: urgent calls may go
    assert window.delay(0.3, reserve=2) == 2.0 - 0.3  # progress would eat the reserve: wait for the oldest
    window.record(0.3)
    window.record(0.4)
    assert abs(window.delay(0.5) - 1.5) < 1e-9
    assert window.delay(2.01) == 0.0 and window.used(2.01) == 4


def test_the_window_is_learned_from_the_headers() -> None:
    window = RateWindow(5, 2.0)
    window.record(10.0, report(remaining=9, reset_after=1.0, at=10.0, limit=10))  # a lenient bucket
    assert (window.limit, window.window) == (10, 1.0)
    window.record(20.0, report(remaining=1, reset_after=4.0, at=20.0, limit=2))  # a stricter one
    assert window.limit == 2 and window.window == 4.0 and window.delay(20.0) == 0.0
    window.record(20.5)
    assert abs(window.delay(20.5) - 3.5) < 1e-9  # two calls in four seconds


def test_calls_made_by_someone_else_are_counted_from_remaining() -> None:
    """Another process uses the same webhook: Discord's Remaining is lower than our own count says."""
    window = RateWindow(5, 2.0)
    window.record(1.0, report(remaining=1, reset_after=1.5, at=1.0))
    assert window.used(1.0) == 4 and window.delay(1.0) == 0.0 and window.delay(1.0, reserve=2) > 0
    window.record(1.1, report(remaining=0, reset_after=1.4, at=1.1))
    assert window.delay(1.1) >= 1.4  # not before Discord's reset (later if its window slides)


def test_a_429_blocks_the_bucket_but_a_hidden_one_does_not() -> None:
    window = RateWindow(5, 2.0)
    window.record(1.0, BucketReport(status=429, at=1.0, retry_after=0.7))
    assert abs(window.delay(1.0) - 0.7) < 1e-9 and window.used(1.0) == 0
    other = RateWindow(5, 2.0)
    other.record(1.0, BucketReport(status=429, at=1.0, retry_after=30.0, hidden=True, thread_id=7))
    assert other.delay(1.0) == 0.0


def test_the_create_budget_per_thread() -> None:
    budget = CreateBudget(4, window=10.0)
    for n in range(4):
        budget.record(1, float(n))
    assert budget.delay(1, 4.0) == 6.0 and budget.delay(2, 4.0) == 0.0  # other threads are not affected
    assert not budget.room(1, 1, now=4.0) and budget.room(2, 2, now=4.0) and not budget.room(2, 3, now=4.0)
    budget.block(2, until=9.0)
    assert budget.delay(2, 4.0) == 5.0
    for thread in range(3, 300):  # many threads, long ago: forgotten
        budget.record(thread, 0.0)
    budget.record(999, 100.0)
    assert budget.used(1, 100.0) == 0 and len(budget._sent) == 1


def test_bucket_keys_and_reports_from_discord_urls() -> None:
    base = "https://discord.com/api/v10"
    assert bucket_key(URL(f"{base}/webhooks/123/tok-en/messages/9?thread_id=5")) == webhook_key(123, "tok-en")
    assert bucket_key(URL(f"{base}/webhooks/123/tok-en")) == webhook_key(123, "tok-en")
    assert "tok-en" not in webhook_key(123, "tok-en")  # the token is never kept
    assert bucket_key(URL(f"{base}/channels/77/messages/1")) == "channel:77"
    assert bucket_key(URL(f"{base}/channels/77/threads")) is None
    assert bucket_key(URL(f"{base}/interactions/1/tok/callback")) is None
    hidden = read_report(429, CIMultiDictProxy(CIMultiDict({"Retry-After": "31", "X-RateLimit-Scope": "shared"})),
                         URL(f"{base}/webhooks/1/t?wait=true&thread_id=42"), 5.0)
    assert hidden.hidden and hidden.thread_id == 42 and hidden.retry_after == 31.0
    bucket = read_report(429, CIMultiDictProxy(CIMultiDict({
        "Retry-After": "1", "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset-After": "0.42", "X-RateLimit-Scope": "user"})), URL(f"{base}/webhooks/1/t"), 5.0)
    assert not bucket.hidden and bucket.retry_after == 0.42 and bucket.limit == 5


def test_a_hidden_429_teaches_the_budget_the_real_limit() -> None:
    budget = CreateBudget(30, window=60.0)
    for n in range(3):
        budget.record(5, float(n))  # the third was refused by Discord
    budget.refused(5, at=2.1, retry_after=50.0)
    assert budget.limit == 2 and budget.delay(5, 2.1) >= 50.0
    assert budget.delay(6, 2.1) == 0.0  # another thread may still create (up to two a minute)

