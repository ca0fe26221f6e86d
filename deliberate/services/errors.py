"""The one exception services raise when a user's request cannot be carried out."""

from __future__ import annotations


class Refused(Exception):
    """A request broke a rule. ``field`` names the form field the message belongs next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def one_line(value: str | None, field: str, label: str, longest: int, missing: str) -> str:
    """A required one-line text as people mean it: runs of white space become one space. Refused
    with ``missing`` when nothing is left, or when longer than ``longest`` characters."""
    text = " ".join((value or "").split())
    if not text:
        raise Refused(missing, field)
    if len(text) > longest:
        raise Refused(f"{label} must be {longest} characters or fewer", field)
    return text
