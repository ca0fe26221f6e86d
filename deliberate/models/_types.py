"""Column helpers shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import Enum


def utcnow() -> datetime:
    """Naive UTC: SQLite and PostgreSQL then store and return the same value."""
    return datetime.now(UTC).replace(tzinfo=None)


def enum_column(enum_cls: type[enum.Enum], name: str | None = None) -> Enum:
    """Store an enum by its value as a checked string, the same on every database.

    ``name`` names the check constraint; give one when a table has two columns of one enum."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=max(len(str(m.value)) for m in enum_cls) + 8,
        values_callable=lambda cls: [str(m.value) for m in cls],
        validate_strings=True,
        name=name or enum_cls.__name__.lower(),
    )
