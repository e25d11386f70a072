"""Discord's buckets mirrored from their headers, and the hidden per-thread create budget."""

from __future__ import annotations

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from cogs.delivery.pacing import BucketReport, CreateBudget, RateWindow, Where
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
    one, two = Where(1, 100), Where(2, 100)
    for n in range(4):
        budget.record(one, float(n))
    assert budget.delay(one, 4.0) == 6.0 and budget.delay(two, 4.0) == 0.0  # other threads are not affected
    assert not budget.room(one, 1, now=4.0) and budget.room(two, 2, now=4.0) and not budget.room(two, 3, now=4.0)
    budget.block(two, until=9.0, now=4.0)
    assert budget.delay(two, 4.0) == 5.0
    for thread in range(3, 600):  # many threads, long ago: forgotten
        budget.record(Where(thread, 100 + thread), 0.0)
    budget.record(Where(999, 5), 100.0)
    assert budget.used(one, 100.0) == 0 and len(budget._sent) == 2  # the thread and its channel


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
    here = Where(5, 50)
    for n in range(3):
        budget.record(here, float(n))  # the third was refused by Discord
    budget.refused(here, at=2.1, retry_after=50.0)
    assert budget.limit_at(2.1) == 2 and budget.delay(here, 2.1) >= 50.0
    assert budget.delay(Where(6, 50), 2.1) == 0.0  # another thread may still create (up to two a minute)
    assert not budget.wide(50, 2.1)  # nothing else created in the channel: the limit is the thread's, lower


def test_a_learned_limit_climbs_back_without_hidden_429s() -> None:
    budget = CreateBudget(30, window=60.0)
    here = Where(5, 50)
    for n in range(11):
        budget.record(here, float(n))
    budget.refused(here, at=10.5, retry_after=50.0)
    assert budget.limit_at(11.0) == 10
    assert budget.limit_at(10.5 + budget.RECOVER_EVERY) == 11
    assert budget.limit_at(10.5 + 5 * budget.RECOVER_EVERY) == 15
    assert budget.limit_at(10.5 + 100 * budget.RECOVER_EVERY) == 30  # never above what is configured
    later = 10.5 + 3 * budget.RECOVER_EVERY  # 13 by then; refused again at 6: 5 from then on
    for n in range(6):
        budget.record(here, later + n)
    budget.refused(here, at=later + 5.5, retry_after=10.0)
    assert budget.limit_at(later + 6) == 5


def test_a_hidden_429_under_the_threads_own_budget_moves_the_limit_to_the_channel() -> None:
    """Five threads of one channel, 7 creates each within the minute: no thread is near its 30, so a hidden 429
    means the channel's threads share the limit. The budget counts per channel from then on (the 35 made
    already, blocked for the retry, then 30 a minute for all five threads together), without lowering the
    limit; and per thread again an hour after the last such 429."""
    budget = CreateBudget(30, window=60.0)
    threads = [Where(t, 77) for t in range(1, 6)]
    for n in range(35):
        budget.record(threads[n % 5], n * 0.1)
    budget.refused(threads[0], at=3.5, retry_after=20.0)
    assert budget.wide(77, 3.6) and budget.limit_at(3.6) == 30
    for where in threads:  # every thread of the channel waits, not only the refused one
        assert budget.delay(where, 3.6) >= 19.9
    assert budget.used(threads[2], 3.6) == 35 and not budget.room(threads[2], 1, 3.6)
    assert budget.delay(Where(9, 88), 3.6) == 0.0  # another channel's threads are not affected
    assert budget.delay(threads[1], 30.0) > 0  # past the retry, still over the channel's 30 a minute
    assert budget.delay(threads[1], 63.0) == 0.0
    assert budget.wide(77, 3.5 + budget.WIDE_FOR - 1) and not budget.wide(77, 3.5 + budget.WIDE_FOR + 1)
    assert budget.used(threads[2], 3.5 + budget.WIDE_FOR + 1) == 0


def test_a_channel_wide_limit_lower_than_configured_is_learned_too() -> None:
    budget = CreateBudget(30, window=60.0)
    a, b = Where(1, 77), Where(2, 77)
    for n in range(20):
        budget.record(a if n % 2 else b, n * 0.1)
    budget.refused(a, at=2.0, retry_after=5.0)  # the channel allowed 19
    assert budget.wide(77, 2.0) and budget.limit_at(2.0) == 19


def test_creates_past_the_channels_share_go_one_at_a_time_until_the_scope_is_known() -> None:
    """The channel's threads together reach the limit while it is counted per thread: the next create is a
    probe and the others wait for its answer; a probe that was made shows the limit is per thread."""
    budget = CreateBudget(4, window=60.0)
    threads = [Where(t, 9) for t in range(1, 4)]
    for n in range(4):
        assert not budget.record(threads[n % 3], float(n))  # under the limit: no probe
    assert budget.delay(threads[2], 4.0) == 0.0
    assert budget.record(threads[2], 4.0)  # the probe
    assert budget.delay(threads[0], 4.01) > 0 and budget.delay(threads[1], 4.01) > 0  # behind the probe
    assert budget.delay(Where(7, 8), 4.01) == 0.0  # another channel is not
    budget.answered(threads[2], 4.05, made=True)
    assert budget.delay(threads[0], 4.06) == 0.0 and not budget.record(threads[0], 4.06)  # per thread, known
    assert not budget.wide(9, 4.06)
