"""Values computed once from an immutable run and kept per process (a small LRU per kind).

Runs never change after they are written (only ``published_at`` is set, when publishing), so a
report page is two small queries and a template. A moderation decision or edit made after the run
is part of the key: a comment taken down, or a name edited out, must disappear from public pages
and downloads at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import current_app, has_request_context
from flask_babel import get_locale, get_translations
from sqlalchemy import func, select

from deliberate.extensions import db
from deliberate.models import AnalysisRun, Statement, StatementTranslation
from deliberate.reporting.words import ENGLISH, Words

CACHE_SIZE = 32  # reports of this many runs stay in memory per process (a few MB at most)
EXPORT_CACHE_SIZE = 4  # downloads (up to a few MB each for a large consultation)


class _RunCache:
    """A small thread-safe LRU for values computed from immutable runs."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def _cache(name: str, size: int) -> _RunCache:
    caches = current_app.extensions.setdefault("deliberate_reports", {})
    if name not in caches:
        caches[name] = _RunCache(size)
    cache: _RunCache = caches[name]
    return cache


def cached_for_run(
    name: str,
    run: AnalysisRun,
    compute: Callable[[], Any],
    size: int = CACHE_SIZE,
    also: tuple[Any, ...] = (),
    per_language: bool = False,
) -> Any:
    """A value computed once from an (immutable) run and kept per process, such as its report
    or the rendered findings of its page; computed again only if moderation changed since, or
    ``also`` did (what else the value shows, such as the team's responses under each finding).
    A value in words (``per_language``) is kept once per interface language: a Welsh reader never
    gets the English page, nor the reverse."""
    language = (reader_language(),) if per_language else ()
    return _cache(name, size).get((*_key(run), *language, *also), compute)


def reader_language() -> str:
    """The interface language of this request ("en" outside one: jobs, the command line)."""
    locale = get_locale() if has_request_context() else None
    return str(locale) if locale is not None else "en"


def reader_words() -> Words:
    """The translations of this request, for the pure reporting code (English outside one)."""
    return get_translations() if has_request_context() else ENGLISH


def _key(run: AnalysisRun) -> tuple[Any, ...]:
    """The run (the id alone could name another run in another database served by this process,
    as in tests), and the last moderation decision, edit and translation on its consultation."""
    last_decision, last_edit = db.session.execute(
        select(func.max(Statement.moderated_at), func.max(Statement.redacted_at)).where(
            Statement.consultation_id == run.consultation_id
        )
    ).one()
    last_translation = db.session.scalar(
        select(func.max(StatementTranslation.created_at))
        .join(Statement, Statement.id == StatementTranslation.statement_id)
        .where(Statement.consultation_id == run.consultation_id)
    )
    return (
        run.id,
        run.consultation_id,
        run.started_at,
        run.finished_at,
        last_decision,
        last_edit,
        last_translation,
    )
