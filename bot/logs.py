"""Structured logs: one JSON object a line, carrying the delivery being processed.

The delivery's fields live in a context variable, so every line logged while a delivery is in
hand carries them without each call passing them along. Secrets are scrubbed from every line
as a last line of defence; no code path is meant to log one in the first place.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any

_delivery_fields: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("delivery_fields", default={})

# Installation tokens (ghs_…), user tokens (gho_/ghu_/ghp_/ghr_), old 40-hex tokens after
# "token ", and JWTs (three base64url parts).
_TOKEN_PATTERNS = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{16,}"
    r"|(?<=token )[0-9a-f]{40}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
)
REDACTED = "[redacted]"


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        self._secrets += tuple(s for s in secrets if s)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _TOKEN_PATTERNS.sub(REDACTED, text)

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_delivery_fields.get())
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return self._scrub(json.dumps(line, default=str))


def configure(level: str = "INFO", secrets: Iterable[str] = (), stream: Any = None) -> None:
    """Send every log line, ours and our libraries', through the JSON formatter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log repeats what our own lines say, one line per request.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def add_secrets(secrets: Iterable[str]) -> None:
    """Scrub these too from now on: credentials that arrive while the process runs."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, JsonFormatter):
            handler.formatter.add_secrets(secrets)


@contextlib.contextmanager
def delivery_context(**fields: Any) -> Iterator[None]:
    """Attach these fields (delivery id, event, action, installation, repository) to every line."""
    token = _delivery_fields.set({**_delivery_fields.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _delivery_fields.reset(token)


def fields(**values: Any) -> dict[str, Any]:
    """``extra=`` for a log call: ``log.info("rejected", extra=fields(reason="signature"))``."""
    return {"fields": values}
