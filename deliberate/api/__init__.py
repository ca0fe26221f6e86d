"""The JSON API under ``/api/v1``: public data to read without signing in, and taking part with a
personal API token. Its OpenAPI document (``/api/v1/openapi.json``) is generated from the code by
flask-smorest; ``/api/v1/docs`` draws it for people.

What every API answer shares, set here:

- one error shape (``errors``), for the site's own errors under the prefix too (routing 404 and
  405, the limiter's 429, a database outage's 503);
- reads are rate-limited per address (``READ_LIMIT``); writes keep the site's own limits;
- CORS: any origin may read (GET, HEAD and the preflight OPTIONS get
  ``Access-Control-Allow-Origin: *``, never with credentials); writes get no CORS header, so a
  page on another site cannot use a visitor's browser to write;
- no cookie is read: the routes are exempt from the site's CSRF check, and a write needs a bearer
  token (``auth``);
- ``Cache-Control: no-store`` on everything but the public reads (``no-cache``) and published
  runs (which set their own, with an ETag).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

from deliberate.api import errors, reads, writes  # noqa: F401 (their routes join the blueprint)
from deliberate.api.blueprint import PREFIX, blp
from deliberate.api.blueprint import init_app as init_api
from deliberate.errors import JSON_ERRORS
from deliberate.extensions import csrf, limiter

READ_LIMIT = "300 per minute"  # per address; API_READ_LIMIT in the settings overrides it
READ_METHODS = ("GET", "HEAD", "OPTIONS")
EXPOSED_HEADERS = "ETag, Link, Location, Retry-After"


def _read_limit() -> str:
    return current_app.config.get("API_READ_LIMIT", READ_LIMIT)


limiter.limit(_read_limit, methods=["GET", "HEAD"])(blp)


def in_api() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def _share_and_cache(response: Response) -> Response:
    if not in_api() or request.endpoint == "api_docs.docs":  # the docs page is a site page
        return response
    if request.method in READ_METHODS:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = ", ".join(READ_METHODS)
            response.headers["Access-Control-Allow-Headers"] = "Accept, If-None-Match"
            response.headers["Access-Control-Max-Age"] = "86400"
    if "Cache-Control" not in response.headers:
        public_read = request.method in ("GET", "HEAD") and response.status_code == 200
        writes_or_own = request.headers.get("Authorization") is not None
        response.headers["Cache-Control"] = (
            "no-cache" if public_read and not writes_or_own else "no-store"
        )
    return response


def init_app(app: Flask) -> None:
    """After the site's blueprints: the API's blueprint, its docs, and what its answers share."""
    init_api(app)
    csrf.exempt(blp)
    app.after_request(_share_and_cache)
    app.extensions[JSON_ERRORS] = (in_api, errors.error_response)
