"""What every request's form fields and query parameters go through before anything reads them.

NUL (U+0000) means nothing in text a person typed, no browser sends it from a text box, and
PostgreSQL cannot store it: a form that kept it failed with a server error. It is removed here,
once, so no form or service has to remember to.
"""

from __future__ import annotations

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict


class ValuesWithoutNul(ImmutableMultiDict):
    """Form fields and query parameters, each text value without NUL characters."""

    def __init__(self, mapping=None) -> None:
        pairs = MultiDict(mapping).items(multi=True) if mapping is not None else ()
        super().__init__(
            [
                (key, value.replace("\x00", "") if isinstance(value, str) else value)
                for key, value in pairs
            ]
        )


class DeliberateRequest(Request):
    parameter_storage_class = ValuesWithoutNul
