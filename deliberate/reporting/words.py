"""The reader's language, handed in: reporting is pure and imports no Flask.

A service passes ``flask_babel.get_translations()`` (a ``babel.support.Translations``); a function
here writes ``_ = words.gettext`` and ``ngettext = words.ngettext`` locally, so ``pybabel extract``
still finds its literal strings. Without one, the words are English (``ENGLISH``).
"""

from __future__ import annotations

from typing import Protocol

from babel.support import NullTranslations


class Words(Protocol):
    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


ENGLISH: Words = NullTranslations()
