"""Discord 429s as operator log lines: discord.py waits them out itself and only logs a sentence; this turns
that sentence into one structured `discord_429` event (route or webhook, seconds waited)."""

from __future__ import annotations

import logging

from bot import metrics
from bot.logs import log_event

__all__ = ["WATCHED_LOGGERS", "RateLimitWatcher", "install", "report_429"]

log = logging.getLogger("moai.discord")
WATCHED_LOGGERS = ("discord.http", "discord.webhook.async_")


class RateLimitWatcher(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING and isinstance(record.msg, str) and "rate limit" in record.msg.lower():
            args = record.args if isinstance(record.args, tuple) else ()
            retry = next((a for a in reversed(args) if isinstance(a, float | int)), None)
            where = " ".join(str(a) for a in args if isinstance(a, str)) or (str(args[0]) if args else "")
            report_429(where, retry, "global" if "global" in record.msg.lower() else "route")
        return True


def report_429(where: str, retry_after: float | None, scope: str) -> None:
    """One `discord_429` line and the metric: scope is route, global, or hidden (the per-thread create limit)."""
    metrics.DISCORD_429.labels(scope).inc()
    log_event(log, "discord_429", logging.WARNING, route=where, retry_after_s=retry_after, scope=scope)


def install() -> RateLimitWatcher:
    watcher = RateLimitWatcher()
    for name in WATCHED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RateLimitWatcher) for f in logger.filters):
            logger.addFilter(watcher)
    return watcher
