"""The one exception services raise when a user's request cannot be carried out."""

from __future__ import annotations


class Refused(Exception):
    """A request broke a rule. ``field`` names the form field the message belongs next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
