"""The API's flask-smorest objects: the blueprint every endpoint is declared on, and the ``Api``
that writes the OpenAPI document from them.

One ``Api`` per app (tests build many apps; an ``Api`` keeps its app and spec on itself), holding
only this blueprint, so the site's own pages are never in the document. Its errors are the site's
error handling's, answered in the API's shape (``deliberate.api.errors``), not flask-smorest's.
"""

from __future__ import annotations

from flask import Blueprint as FlaskBlueprint
from flask import Flask, current_app
from flask_smorest import Api
from flask_smorest import Blueprint as ApiBlueprint

from deliberate.api.schemas import ErrorSchema

PREFIX = "/api/v1"
TITLE = "Deliberate API"
VERSION = "1"

DESCRIPTION = """\
Open consultations for government missions, as data: missions, consultations, the statements
people vote on, published analyses (opinion groups, common ground, divisions, topics, staff and
citizens compared) and ideas from frontline staff.

Reading needs no sign-in. Writing (answering a statement, adding one) needs a personal API
token, created on your account page and sent as `Authorization: Bearer <token>`; it acts as you,
under the same rules, limits and moderation as the site.

Lists come a page at a time, in the order of their ids: follow `next` (or the `Link` header)
until it is null. Every error has one shape: `{"error": {"status", "code", "message"}}`, with
`details` where there is more to say. Too many requests get a 429 with `Retry-After`.

The data is open: each consultation says its licence and the attribution it needs (imported Polis
conversations keep their own, CC BY 4.0).
"""

blp = ApiBlueprint(
    "api",
    __name__,
    url_prefix=PREFIX,
    description="Deliberate's public data, and taking part with a personal API token.",
)

BEARER = "personal_api_token"
BEARER_DOC = [{BEARER: []}]  # an operation's ``security``: it needs a personal API token
SPEC_OPTIONS = {
    "info": {"description": DESCRIPTION},
    "components": {
        "securitySchemes": {
            BEARER: {
                "type": "http",
                "scheme": "bearer",
                "description": "A personal API token from your account page (shown once).",
            }
        }
    },
}


class DeliberateApi(Api):
    """flask-smorest's Api, with the site's error handling and a docs page of our own."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """Nothing app-wide: ``deliberate.errors`` answers every error, and hands those under
        the API's prefix to ``deliberate.api.errors`` (flask-smorest's own handler would answer
        the site's pages in JSON)."""

    def _register_doc_blueprint(self) -> None:
        """The document at ``/api/v1/openapi.json`` and a docs page at ``/api/v1/docs`` drawn
        on the server from it (Swagger UI and ReDoc need scripts from a CDN, which the site's
        Content-Security-Policy forbids)."""
        from deliberate.api import docs

        pages = FlaskBlueprint("api_docs", __name__, url_prefix=PREFIX)
        pages.add_url_rule("/openapi.json", endpoint="openapi_json", view_func=self._openapi_json)
        pages.add_url_rule("/docs", endpoint="docs", view_func=docs.docs_page)
        self._app.register_blueprint(pages)


def spec_document() -> dict:
    """The OpenAPI document of the app serving this request."""
    api: DeliberateApi = current_app.extensions["deliberate_api"]
    return api.spec.to_dict()


def init_app(app: Flask) -> DeliberateApi:
    app.config.setdefault("API_TITLE", TITLE)
    app.config.setdefault("API_VERSION", VERSION)
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("API_SPEC_OPTIONS", SPEC_OPTIONS)
    api = DeliberateApi(app)
    api.register_blueprint(blp)
    app.extensions["deliberate_api"] = api
    return api
