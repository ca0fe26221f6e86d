"""For tests that talk to a real server over a socket (``make serve``, a database outage): a
browser that keeps its cookies and answers statements as a person does, an open consultation to
answer, and the check that says whether PostgreSQL is here (Redis: conftest's ``redis_url``).

Plain ``http.client``: one connection a request, a timeout on each, no redirects followed."""

from __future__ import annotations

import http.client
import re
import socket
import time
import urllib.parse
from dataclasses import dataclass, field

import pytest

from deliberate.extensions import db
from deliberate.models import Consultation, StatementOrigin
from deliberate.services.statements import write_statement
from tests.helpers import csrf_token_from

VOTE_FORM = re.compile(r'<form[^>]*id="vote".*?</form>', re.S)
STATEMENT_FIELD = re.compile(r'name="statement_id" value="(\d+)"')


def need_postgres(is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip(
            "needs PostgreSQL: TEST_DATABASE_URL is SQLite here (`make test` runs it in its "
            "PostgreSQL pass when DATABASE_URL is set; or TEST_DATABASE_URL=postgresql://...)"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def open_consultation(missions, statements: int, title: str = "Outage test") -> Consultation:
    consultation = Consultation(
        mission=missions["nhs"], title=title, context="Tell us.", allow_anonymous=True
    )
    consultation.open()
    db.session.add(consultation)
    db.session.flush()
    for n in range(1, statements + 1):
        write_statement(
            consultation, f"Statement number {n} about buses.", origin=StatementOrigin.SEED
        )
    db.session.commit()
    return consultation


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str
    started: float
    finished: float


@dataclass
class Browser:
    """One person's browser: cookies kept, every request bounded by ``timeout`` seconds."""

    base: str
    timeout: float = 20
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict | None = None) -> Response:
        url = urllib.parse.urlsplit(self.base)
        headers = {"Host": url.netloc}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            text = raw.read().decode("utf-8", "replace")
            for header, value in raw.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    cookie_value = rest.split(";", 1)[0]
                    if cookie_value and "max-age=0" not in value.lower():
                        self.cookies[name] = cookie_value
                    else:
                        self.cookies.pop(name, None)
            headers_out = {k.lower(): v for k, v in raw.getheaders()}
            return Response(raw.status, headers_out, text, started, time.monotonic())
        finally:
            connection.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict) -> Response:
        return self.request("POST", path, form)

    def sign_in(self, email: str, password: str = "correct horse battery") -> None:
        page = self.get("/sign-in")
        assert page.status == 200, page.status
        token = csrf_token_from(page.body)
        answer = self.post("/sign-in", {"csrf_token": token, "email": email, "password": password})
        assert answer.status == 302, answer.body[:500]


def vote_form(page: str) -> tuple[str, int] | None:
    """The CSRF token and the statement the page asks to answer now, or None when none is left."""
    form = VOTE_FORM.search(page)
    if form is None:
        return None
    return csrf_token_from(form.group(0)), int(STATEMENT_FIELD.search(form.group(0)).group(1))


def acknowledged(response: Response) -> bool:
    """The site said the answer was saved: the redirect back to the consultation."""
    return response.status == 302 and "sign-in" not in response.headers.get("location", "")
