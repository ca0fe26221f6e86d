"""The measure of a mission's goal and its actual values over time.

A mission has at most one indicator: what it measures, in which unit and from which source, where
it started (the baseline) and where the goal puts it by when (the target). The straight path from
the baseline to the target is the plainest reading of "on the way": a value is ahead of the path
or behind it, nothing more is claimed.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberate.extensions import db
from deliberate.models._types import enum_column, utcnow

INDICATOR_NAME_MAX = 200
INDICATOR_UNIT_MAX = 60
INDICATOR_SOURCE_MAX = 500
INDICATOR_URL_MAX = 500
VALUE_NOTE_MAX = 1000


class IndicatorDirection(enum.StrEnum):
    LOWER = "lower"  # lower is better: serious violent crime, waiting times
    HIGHER = "higher"  # higher is better: growth, clean power's share

    @property
    def label(self) -> str:
        return "Lower is better" if self is IndicatorDirection.LOWER else "Higher is better"


class MissionIndicator(db.Model):
    __tablename__ = "mission_indicators"
    __table_args__ = (UniqueConstraint("mission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(INDICATOR_NAME_MAX))
    unit: Mapped[str] = mapped_column(String(INDICATOR_UNIT_MAX))
    source: Mapped[str] = mapped_column(String(INDICATOR_SOURCE_MAX))
    source_url: Mapped[str | None] = mapped_column(String(INDICATOR_URL_MAX))
    baseline_value: Mapped[float] = mapped_column(Float)
    baseline_on: Mapped[date] = mapped_column(Date)
    target_value: Mapped[float] = mapped_column(Float)
    target_on: Mapped[date] = mapped_column(Date)
    direction: Mapped[IndicatorDirection] = mapped_column(enum_column(IndicatorDirection))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    mission: Mapped[Mission] = relationship()  # noqa: F821
    values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="indicator",
        order_by="IndicatorValue.measured_on",
        cascade="all, delete-orphan",
    )


class IndicatorValue(db.Model):
    """One actual value of the indicator, on the day it describes, with where it came from."""

    __tablename__ = "indicator_values"
    __table_args__ = (UniqueConstraint("indicator_id", "measured_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("mission_indicators.id", ondelete="CASCADE"), index=True
    )
    measured_on: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(INDICATOR_SOURCE_MAX))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    indicator: Mapped[MissionIndicator] = relationship(back_populates="values")
