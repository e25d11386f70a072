"""Operator logging: one structured line per event (`event key=value ...`, or one JSON object per line)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

FIELDS_ATTR = "moai_fields"
EVENT_ATTR = "moai_event"


def _text(value: Any) -> str:
    if isinstance(value, float):
        value = round(value, 6)
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (not text or any(c.isspace() or c in '"=' for c in text)) else text


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """`event k=v k=v`; the JSON formatter emits the same fields as keys."""
    line = " ".join([event, *(f"{key}={_text(value)}" for key, value in fields.items() if value is not None)])
    logger.log(level, "%s", line, extra={EVENT_ATTR: event, FIELDS_ATTR: fields})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, message and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": getattr(record, EVENT_ATTR, None) or "log",
            "message": record.getMessage(),
        }
        fields = getattr(record, FIELDS_ATTR, None)
        if isinstance(fields, Mapping):
            data.update({key: value for key, value in fields.items() if key not in data and value is not None})
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["traceback"] = record.exc_text
        return json.dumps(data, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str = "INFO", fmt: str = "text") -> logging.Handler:
    """Root logging to stderr in the chosen format; returns the handler (redaction is attached by the caller)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
