"""One unit of work per request, per background job and per command.

Services flush and never commit. The unit around them commits once at the end, rolls back when
anything goes wrong, and only after a successful commit queues the jobs and emails asked for
during it (``jobs.enqueue`` and ``mail.queue_email`` wait for it), so a job never looks for rows
that were not saved and nobody is emailed about a change that was undone. Every view runs in one
(``init_app``), as indico's request handler does; jobs and commands open their own with
``unit_of_work()``.

``may_be_refused`` wraps a write a service may refuse: the refusal undoes the unit's writes so
far and lands next to its form field, and the view carries on to show the form again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, g, has_app_context
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError

from deliberate.extensions import db
from deliberate.forms_support import show_refusal
from deliberate.services.errors import Refused

_OPEN = "deliberate_unit_of_work"
T = TypeVar("T")


class UnitOfWork:
    """What waits for the commit of one request, job or command."""

    def __init__(self) -> None:
        self._after_commit: list[Callable[[], Any]] = []

    def after_commit(self, action: Callable[[], Any]) -> None:
        self._after_commit.append(action)

    def forget(self) -> None:
        self._after_commit.clear()

    def _run_after_commit(self) -> None:
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            action()


def current() -> UnitOfWork | None:
    """The unit of work open in this app context, if any."""
    return g.get(_OPEN) if has_app_context() else None


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """Commit what the block wrote, once, then run what waited for the commit; roll back and
    forget it all if the block (or the commit) raises."""
    if current() is not None:
        raise RuntimeError("A unit of work is already open here: units do not nest")
    work = UnitOfWork()
    setattr(g, _OPEN, work)
    try:
        yield work
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        g.pop(_OPEN, None)
    work._run_after_commit()


def rollback() -> None:
    """Undo the open unit's writes so far, and forget the jobs and emails it asked for."""
    db.session.rollback()
    work = current()
    if work is not None:
        work.forget()


def once_more_on_conflict(write: Callable[[], T]) -> T:
    """Run a write; if an identical request stored the same participant or vote first (a unique
    constraint fired), undo and run it once more: the second run finds what the other stored."""
    try:
        return write()
    except IntegrityError:
        rollback()
        return write()


class Refusal:
    """What a refused write said; ``error`` stays None while nothing was refused."""

    error: Refused | None = None

    @property
    def message(self) -> str:
        return self.error.message if self.error is not None else ""


@contextmanager
def may_be_refused(form: FlaskForm | None = None) -> Iterator[Refusal]:
    """Around a write a service may refuse. A ``Refused`` is caught: the writes so far are undone,
    the refusal is kept (and shown on ``form``, when given), and the code after the block runs.

        with may_be_refused(form) as refusal:
            thing = service.do(...)
            return redirect(...)
        return render_template(..., form=form), 400
    """
    refusal = Refusal()
    try:
        yield refusal
    except Refused as error:
        rollback()
        refusal.error = error
        if form is not None:
            show_refusal(form, error)


def _as_one_unit(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        with unit_of_work():
            return view(*args, **kwargs)

    run.one_unit_of_work = True  # type: ignore[attr-defined]
    return run


def init_app(app: Flask) -> None:
    """Run every view as one unit of work: call once the blueprints are registered. A view that
    returns commits (whatever its status code); one that raises, ``abort`` included, saves
    nothing."""
    for endpoint, view in app.view_functions.items():
        if endpoint != "static" and not getattr(view, "one_unit_of_work", False):
            app.view_functions[endpoint] = _as_one_unit(view)
