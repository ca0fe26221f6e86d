"""The code a team pastes into another website's page to show the embed page there."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import gettext as _
from markupsafe import escape

from deliberate.models import Consultation

HEIGHT = 420  # pixels: the title, one statement and its three buttons on a phone


@dataclass(frozen=True)
class Snippet:
    code: str  # the <iframe> element, as text to copy
    allowed_origins: tuple[str, ...]  # the websites that may show it (DELIBERATE_EMBED_ORIGINS)


def snippet_for(consultation: Consultation) -> Snippet:
    url = url_for("embed.consultation", consultation_id=consultation.id, _external=True)
    title = escape(_("Take part: %(title)s", title=consultation.title))
    code = (
        f'<iframe src="{escape(url)}" title="{title}" width="100%" height="{HEIGHT}" '
        'loading="lazy"></iframe>'
    )
    return Snippet(code=code, allowed_origins=tuple(current_app.config.get("EMBED_ORIGINS") or ()))
