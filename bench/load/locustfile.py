"""Simulated people for the load benchmark (bench/load/run.py starts locust on this file).

- ``Participant`` (8 in 10 by default; see ``mix``): an anonymous person. Opens the
  consultation, then answers the statement the page offers, one after another: reads the
  statement id and the CSRF token from the form, POSTs the answer, follows the redirect to the
  page that shows the next statement, thinks for a moment. One in ten adds a statement of their
  own now and then.
- ``SignedInParticipant`` (1 in 10): the same, after signing in through the real form with one of
  the accounts the runner made.
- ``ReportReader`` (1 in 10): reads the published report page, again and again.

Every simulated person presents an address of its own in ``X-Forwarded-For``, which the site
believes from exactly ``DELIBERATE_TRUSTED_PROXIES`` proxies (werkzeug's ProxyFix): per-address
rate limits then count each person apart, as they would behind a real load balancer.

Every answer the server acknowledged (a redirect to the consultation page) is kept as (person,
statement id, choice), the person being the participant cookie the server set or the account's
email, and written at the end with every request's timing and status, for the runner to check
against the database. Only the standard library and locust are imported: no app code.

Settings come as JSON in ``DELIBERATE_LOAD_CONFIG`` (see ``Settings``).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from locust import FastHttpUser, between, events, task

CHOICES = ("agree", "disagree", "pass")
CHOICE_WEIGHTS = (5, 3, 2)
COOKIE = "deliberate_participant"
SAVED = "Your answer was saved"
_CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)
_STATEMENT = re.compile(r'name="statement_id" value="([0-9]+)"')
_HELD_ACTION = re.compile(r'action="(/consultations/[0-9]+/comments/held/[0-9]+)"')
COMMENT_SUBJECTS = (
    "Councils",
    "Farmers",
    "Schools",
    "Landowners",
    "Volunteers",
    "Developers",
    "Fishing crews",
    "Tourism operators",
)
COMMENT_ACTIONS = (
    "should be paid to restore wetlands",
    "need clear rules on pest control",
    "should publish yearly counts of native birds",
    "must replant native trees along rivers",
    "should fence streams from livestock",
    "need funding to trap stoats and rats",
)


@dataclass
class Settings:
    consultation_id: int = 1
    accounts: list[str] = field(default_factory=list)
    password: str = ""
    think: tuple[float, float] = (0.2, 0.8)  # seconds between answers
    read_think: tuple[float, float] = (2.0, 5.0)  # seconds a reader spends on the report
    commenter_share: float = 0.1
    out: str = ""  # where the samples and acknowledged answers go at the end
    address_base: int = 0  # the first simulated address, so two runs use different ones
    # How many of each kind of person, in proportion: anonymous, signed in, report readers.
    mix: tuple[int, int, int] = (8, 1, 1)

    @classmethod
    def from_environment(cls) -> Settings:
        raw = json.loads(os.environ.get("DELIBERATE_LOAD_CONFIG", "{}"))
        for key in ("think", "read_think", "mix"):
            if key in raw:
                raw[key] = tuple(raw[key])
        return cls(**raw)


SETTINGS = Settings.from_environment()
_addresses = itertools.count(SETTINGS.address_base)
_accounts = itertools.count()
# What the runner reads afterwards: (start, request name, status, milliseconds, error) per request,
# (time, person, statement id, choice) per acknowledged answer, and when spawning finished.
SAMPLES: list[tuple[float, str, int, float, str]] = []
ACKS: list[tuple[float, str, int, str]] = []
MARKS: dict[str, float] = {}
COUNTS: dict[str, int] = {}


def count(what: str) -> None:
    COUNTS[what] = COUNTS.get(what, 0) + 1


def new_address() -> str:
    n = next(_addresses) % (1 << 24)
    return f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}"


def vote_form(html: str) -> tuple[int, str] | None:
    """The statement id and CSRF token of the answer form (id="vote"), or None when the page
    offers no statement (all answered, or the page is not the consultation's)."""
    start = html.find('id="vote"')
    if start < 0:
        return None
    form = html[start : start + 1500]
    statement, token = _STATEMENT.search(form), csrf_token(form)
    if statement is None or token is None:
        return None
    return int(statement.group(1)), token


def csrf_token(html: str) -> str | None:
    found = _CSRF.search(html)
    return (found.group(1) or found.group(2)) if found else None


def path_of(location: str) -> str:
    return urlsplit(location).path


class Person(FastHttpUser):
    """Someone taking part: a fresh address and cookie jar, then answers one after another."""

    abstract = True
    network_timeout = 30.0
    connection_timeout = 30.0
    wait_time = between(*SETTINGS.think)

    def on_start(self) -> None:
        self.become_someone_new()

    @property
    def show_path(self) -> str:
        return f"/consultations/{SETTINGS.consultation_id}"

    def become_someone_new(self) -> None:
        self.client.cookiejar.clear()
        self.headers = {"X-Forwarded-For": new_address()}
        self.person = ""
        self.answered = 0
        self.commenter = random.random() < SETTINGS.commenter_share
        self.next_comment = random.randint(5, 15)
        self.sign_in()
        self.page = self.open_consultation()

    def sign_in(self) -> None:
        """Anonymous people do not."""

    def open_consultation(self) -> str:
        response = self.client.get(self.show_path, headers=self.headers, name="consultation GET")
        return response.text if response.status_code == 200 and response.text else ""

    def who(self) -> str:
        for cookie in self.client.cookiejar:
            if cookie.name == COOKIE:
                return "cookie:" + cookie.value
        return ""

    def wait_as_told(self, response) -> None:
        """A 429 says when to try again (Retry-After): a person waits that long."""
        try:
            wait = float(response.headers.get("Retry-After") or 5)
        except ValueError:
            wait = 5.0
        time.sleep(min(wait, 60.0))

    @task
    def answer_next(self) -> None:
        form = vote_form(self.page)
        if form is None:
            self.page = self.open_consultation()
            if vote_form(self.page) is None:  # nothing left to answer: someone else arrives
                count("finished all statements")
                self.become_someone_new()
            return
        statement_id, token = form
        choice = random.choices(CHOICES, CHOICE_WEIGHTS)[0]
        response = self.client.post(
            f"{self.show_path}/votes",
            data={
                "csrf_token": token,
                "statement_id": str(statement_id),
                "return_to": "consultation",
                "choice": choice,
            },
            headers=self.headers,
            allow_redirects=False,
            name="vote POST",
        )
        location = response.headers.get("Location") or ""
        if response.status_code == 302 and path_of(location) == self.show_path:
            ACKS.append((time.time(), self.person or self.who(), statement_id, choice))
            self.answered += 1
            page = self.client.get(self.show_path, headers=self.headers, name="next statement GET")
            self.page = page.text if page.status_code == 200 and page.text else ""
            count("saved message shown" if SAVED in self.page else "saved message missing")
            if self.commenter and self.answered >= self.next_comment:
                self.next_comment += random.randint(10, 20)
                self.add_comment()
            return
        if response.status_code == 429:
            count("vote refused 429")
            self.wait_as_told(response)
        elif response.status_code == 302:
            count("vote redirected elsewhere")
        self.page = self.open_consultation()

    def add_comment(self) -> None:
        """Write a statement; when it is held for the similarity check, wait for the check as the
        page asks (it refreshes every 2 s), then post it anyway if similar ones were found."""
        token = csrf_token(self.page)
        if token is None:
            return
        text = (
            f"{random.choice(COMMENT_SUBJECTS)} {random.choice(COMMENT_ACTIONS)} "
            f"(idea {random.randrange(10**6)})."
        )
        response = self.client.post(
            f"{self.show_path}/comments",
            data={"csrf_token": token, "text": text},
            headers=self.headers,
            allow_redirects=False,
            name="comment POST",
        )
        location = path_of(response.headers.get("Location") or "")
        if response.status_code not in (302, 303):
            count(f"comment refused {response.status_code}")
            return
        for attempt in range(8):
            if location == self.show_path:
                count("comment posted")
                break
            if "/comments/held/" not in location:
                count("comment redirected elsewhere")
                break
            held = self.client.get(
                location, headers=self.headers, allow_redirects=False, name="held comment GET"
            )
            if held.status_code in (302, 303):
                location = path_of(held.headers.get("Location") or "")
                continue
            if "Refresh" in held.headers and attempt < 3:
                time.sleep(2)  # the page refreshes itself while the check runs
                continue
            # Similar statements found, or the check is slow: "Post my statement anyway" /
            # "Post without waiting".
            action = _HELD_ACTION.search(held.text or "")
            if action is None:
                count("held comment page without a form")
                break
            posted = self.client.post(
                action.group(1),
                data={"csrf_token": csrf_token(held.text) or ""},
                headers=self.headers,
                allow_redirects=False,
                name="held comment POST",
            )
            location = path_of(posted.headers.get("Location") or "")
        else:
            count("comment still held")
        self.page = self.open_consultation()


class Participant(Person):
    weight = SETTINGS.mix[0]


class SignedInParticipant(Person):
    weight = SETTINGS.mix[1]

    def sign_in(self) -> None:
        if not SETTINGS.accounts:
            return
        email = SETTINGS.accounts[next(_accounts) % len(SETTINGS.accounts)]
        page = self.client.get("/sign-in", headers=self.headers, name="sign-in GET")
        response = self.client.post(
            "/sign-in",
            data={
                "csrf_token": csrf_token(page.text or "") or "",
                "email": email,
                "password": SETTINGS.password,
            },
            headers=self.headers,
            allow_redirects=False,
            name="sign-in POST",
        )
        if response.status_code == 302:
            self.person = "user:" + email
            count("signed in")
        else:
            count(f"sign-in refused {response.status_code}")


class ReportReader(FastHttpUser):
    weight = SETTINGS.mix[2]
    network_timeout = 30.0
    connection_timeout = 30.0
    wait_time = between(*SETTINGS.read_think)

    def on_start(self) -> None:
        self.headers = {"X-Forwarded-For": new_address()}

    @task
    def read_report(self) -> None:
        self.client.get(
            f"/consultations/{SETTINGS.consultation_id}/report",
            headers=self.headers,
            name="report GET",
        )


@events.request.add_listener
def _record(name, response_time, response=None, exception=None, start_time=None, **_) -> None:
    status = getattr(response, "status_code", 0) or 0
    error = type(exception).__name__ if exception is not None and not status else ""
    SAMPLES.append((round(start_time or 0, 4), name, int(status), round(response_time, 2), error))


@events.test_start.add_listener
def _started(**_) -> None:
    MARKS["start"] = time.time()


@events.spawning_complete.add_listener
def _spawned(user_count, **_) -> None:
    MARKS.setdefault("spawned", time.time())


@events.test_stopping.add_listener
def _stopping(**_) -> None:
    MARKS.setdefault("stop", time.time())  # the time limit: users are being stopped now


@events.quitting.add_listener
def _write(**_) -> None:
    if not SETTINGS.out:
        return
    data = {"marks": MARKS, "counts": COUNTS, "samples": SAMPLES, "acks": ACKS}
    Path(SETTINGS.out).write_text(json.dumps(data))
