"""Counting a consultation's rows, shared by the dashboard and the downloads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from deliberate.extensions import db


def count_rows(model: Any, consultation_id: int, *where: Any) -> int:
    return (
        db.session.scalar(
            select(func.count(model.id)).where(model.consultation_id == consultation_id, *where)
        )
        or 0
    )
