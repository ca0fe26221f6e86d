"""Texts of the site that operators write, such as the moderation policy, with their history."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from deliberate.extensions import db
from deliberate.models._types import enum_column, utcnow


class SiteTextKey(enum.StrEnum):
    MODERATION_POLICY = "moderation_policy"


class SiteText(db.Model):
    """One version of an operator-edited text. An edit adds a version and never changes an older
    one, so what the policy said on the day a statement was removed can always be read again; the
    newest version of a key is the one the site shows. The editor is kept as a plain id (as in
    the audit log), so deleting their account leaves the history whole."""

    __tablename__ = "site_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[SiteTextKey] = mapped_column(enum_column(SiteTextKey), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None]
