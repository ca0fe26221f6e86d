"""The government missions that consultations belong to."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberate.extensions import db


class Mission(db.Model):
    __tablename__ = "missions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    goal: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)

    consultations: Mapped[list[Consultation]] = relationship(  # noqa: F821
        back_populates="mission", order_by="Consultation.created_at.desc()"
    )
