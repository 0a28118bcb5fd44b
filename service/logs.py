"""Structured logs: one JSON object per line, tagged with the request id when there is one.

The request middleware writes one `request` line per HTTP request (method, path, status,
duration, model, request id); uvicorn's own access log is switched off so each request is
logged once, and uvicorn's other lines are reformatted as JSON too.
"""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

import orjson

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the request being handled, set by the request middleware."""

_HANDLER_NAME = "nnserve-json"


class JsonFormatter(logging.Formatter):
    """A LogRecord -> one JSON line; `extra={"fields": {...}}` adds keys to it."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str) -> None:
    """Send the service's logs to stderr as JSON lines; idempotent (tests build many apps)."""
    logger = logging.getLogger("service")
    logger.setLevel(level.upper())
    if not any(h.get_name() == _HANDLER_NAME for h in logger.handlers):
        stream = logging.StreamHandler(sys.stderr)
        stream.set_name(_HANDLER_NAME)
        stream.setFormatter(JsonFormatter())
        logger.addHandler(stream)
    logging.getLogger("uvicorn.access").disabled = True
    for handler in logging.getLogger("uvicorn").handlers:
        handler.setFormatter(JsonFormatter())
