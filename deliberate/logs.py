"""Log lines a machine can read: one per request, and whatever the app and its jobs say, with the
request id that ties them together.

- ``DELIBERATE_LOG_FORMAT=json`` (always so in production): one JSON object a line, with ``time``,
  ``level``, ``logger``, ``message`` and every field a caller passes in ``extra=`` (the jobs log
  ``logging.getLogger("deliberate.jobs").info("job finished", extra={...})``). Otherwise the same
  fields as readable text, ``key=value`` after the message.
- Each request logs one line on ``deliberate.requests``: method, route (the URL rule, such as
  ``/consultations/<int:consultation_id>/votes``, never the address with its ids or query string),
  status, duration_ms and request_id. No IP address, email, name or query string: what identifies
  a person stays out of the logs.
- The request id comes from an incoming ``X-Request-ID`` when it is a short safe token (a load
  balancer's), else it is made here; the response carries it back, and every line logged during the
  request has it.
- One handler, on the root logger, writing to stderr; gunicorn's own error log goes through the
  same formatter (``deliberate.gunicorn_config``), so a log shipper reads one format.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from deliberate.config import log_format

REQUEST_ID_HEADER = "X-Request-ID"
# What an incoming request id may be: short, and nothing a log line could be forged with.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Asked every few seconds by each load balancer: logged only when they do not answer 200.
QUIET_ENDPOINTS = ("pages.healthz", "pages.readyz")

request_log = logging.getLogger("deliberate.requests")

# LogRecord attributes that are not a caller's ``extra`` fields (taskName: Python 3.12+).
_STANDARD_ATTRIBUTES = frozenset(RESERVED_ATTRS) | {"taskName", "request_id"}


def _with_request_id(
    make_record: Callable[..., logging.LogRecord],
) -> Callable[..., logging.LogRecord]:
    """Wrap logging's record factory: every record made during a request carries that request's
    id (None outside one), whichever handler writes it."""

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.request_id = g.get("request_id") if has_request_context() else None
        return record

    make.adds_request_id = True  # type: ignore[attr-defined]
    return make


class JsonLineFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message, request_id, then the extra fields."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            json_ensure_ascii=False,
        )


class TextFormatter(logging.Formatter):
    """For a person at a terminal: the usual line, then the extra fields as ``key=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = {
            key: value
            for key, value in record.__dict__.items()
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
        }
        if getattr(record, "request_id", None):
            fields["request_id"] = record.request_id
        if not fields:
            return line
        head, newline, rest = line.partition("\n")  # a traceback stays below the fields
        pairs = " ".join(f"{key}={value}" for key, value in fields.items())
        return f"{head} {pairs}{newline}{rest}"


def formatter(kind: str) -> logging.Formatter:
    return JsonLineFormatter() if kind == "json" else TextFormatter()


def formatter_from_environment() -> logging.Formatter:
    """For logging's dictConfig (gunicorn's ``logconfig_dict``): the format the app would pick."""
    return formatter(log_format(dict(os.environ)))


class StderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is at the time (a test runner
    swaps it per test; a handler that kept the first one would write to a closed stream)."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        """StreamHandler sets its stream on creation; this handler always looks it up."""


def configure(kind: str, *, testing: bool = False) -> None:
    """One handler on the root logger, in this format; the app's own loggers at INFO. Safe to call
    again (every app the tests build calls it): the handler is found and given the format. Under
    test none is added: tests read the records (pytest's caplog), and a background job's line
    written after its test would land in the middle of the test report."""
    if not getattr(logging.getLogRecordFactory(), "adds_request_id", False):
        logging.setLogRecordFactory(_with_request_id(logging.getLogRecordFactory()))
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, StderrHandler)), None)
    if handler is None and not testing:
        handler = StderrHandler()
        root.addHandler(handler)
    if handler is not None:
        handler.setFormatter(formatter(kind))
    from flask.logging import default_handler

    app_logger = logging.getLogger("deliberate")
    app_logger.removeHandler(default_handler)  # the root handler says it, once
    if app_logger.level == logging.NOTSET and not testing:
        app_logger.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    """Configure logging and log each request. Call first in the factory, so these hooks run
    before every other before-request hook (Talisman's HTTPS redirect included) and after every
    other after-request hook."""
    configure(app.config["LOG_FORMAT"], testing=app.testing)
    app.before_request(start_request)
    app.after_request(finish_request)


def request_id_of_incoming() -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    return incoming if SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = request_id_of_incoming()


def finish_request(response: Response) -> Response:
    if not g.get("request_id"):  # a hook before ours answered first (none should)
        g.request_id = request_id_of_incoming()
    response.headers[REQUEST_ID_HEADER] = g.request_id
    started = g.get("request_started")
    fields: dict[str, Any] = {  # request_id is on every record made during the request
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule is not None else None,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
    }
    quiet = request.endpoint in QUIET_ENDPOINTS and response.status_code == 200
    request_log.log(logging.DEBUG if quiet else logging.INFO, "request", extra=fields)
    return response
