"""Secrets come only from the environment; this keeps them out of logs, errors, exports and the DB."""

from __future__ import annotations

import base64
import logging
import os
import re
from collections.abc import Iterable, Mapping

from bot.config import AppConfig
from bot.logs import FIELDS_ATTR

MASK = "[redacted]"
MIN_SECRET_LENGTH = 6


def base64_cores(secret: str) -> list[str]:
    """The base64 text a secret becomes inside any longer value (`user:key` in an Authorization: Basic header),
    at each of the three alignments, without the characters it shares with its neighbours."""
    data = secret.encode()
    cores = []
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):
            text = encode(b"\0" * offset + data).decode()
            start = 4 if offset else 0  # the first group mixes the prefix in
            end = len(text) - 4 if (offset + len(data)) % 3 else len(text)  # the last one, what follows
            core = text[start:end].rstrip("=")
            if len(core) >= MIN_SECRET_LENGTH:
                cores.append(core)
    return cores


class Redactor:
    """Replaces every known secret in a text: as it is, in any case, spaced out, or base64-encoded inside a
    longer value. Cheap enough to run on every error and log line."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._compile()

    def _compile(self) -> None:
        spaced = [r"\s*".join(re.escape(ch) for ch in secret) for secret in self._secrets]
        self._loose = re.compile("|".join(spaced), re.IGNORECASE) if spaced else None
        encoded = sorted({core for secret in self._secrets for core in base64_cores(secret)}, key=len, reverse=True)
        self._encoded = re.compile("|".join(map(re.escape, encoded))) if encoded else None

    @classmethod
    def from_config(cls, config: AppConfig, environ: Mapping[str, str] | None = None) -> Redactor:
        env = os.environ if environ is None else environ
        names = {config.discord.token_env} | {p.api_key_env for p in config.providers.values() if p.api_key_env}
        if config.search.api_key_env:  # the search backend's key (Brave, Tavily)
            names.add(config.search.api_key_env)
        return cls(env[name] for name in names if env.get(name))

    def learn(self, other: Redactor) -> None:
        """Add another redactor's secrets (a reloaded config may name new keys); old ones stay masked."""
        merged = set(self._secrets) | set(other._secrets)
        self._secrets = sorted(merged, key=len, reverse=True)
        self._compile()

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        if self._loose is not None:
            text = self._loose.sub(MASK, text)
        if self._encoded is not None:
            text = self._encoded.sub(MASK, text)
        return text


class RedactingFilter(logging.Filter):
    """Attached to every handler so no record (message, args or traceback) can carry a secret out."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    @property
    def redactor(self) -> Redactor:
        return self._redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self._redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        fields = getattr(record, FIELDS_ATTR, None)
        if isinstance(fields, dict):
            setattr(record, FIELDS_ATTR, {key: self._redact(value) if isinstance(value, str) else value
                                          for key, value in fields.items()})
        return True



def learn_secrets(config: AppConfig, environ: Mapping[str, str] | None = None) -> Redactor:
    """After a reload: every redacting log filter also masks the secrets the new config names."""
    found = Redactor.from_config(config, environ)
    for handler in logging.getLogger().handlers:
        for item in handler.filters:
            if isinstance(item, RedactingFilter):
                item.redactor.learn(found)
    return found
