"""PostgreSQL goes away while people vote, then comes back.

A real server (werkzeug, threaded) reaches PostgreSQL through a TCP proxy written here. Three
signed-in people answer statements one after another from threads. The proxy is cut (every
connection closed, new ones refused) for a few seconds, then restored; the real PostgreSQL server,
which other tests share, is never touched. What must hold:

- during the outage every answer is a 503 page (not a 500) and comes back at once, not after a hang;
- afterwards answers are saved again, with nothing restarted;
- every answer the site acknowledged is stored exactly once, with the choice that was sent (an
  answer refused with a 503 is sent again by the person, as the page asks).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, make_url, select
from werkzeug.serving import make_server

from deliberate.extensions import db
from deliberate.models import Participant, Vote, VoteChoice, VoteEvent
from tests.conftest import make_test_app
from tests.live_site import Browser, acknowledged, need_postgres, open_consultation, vote_form

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

VOTERS = 3
CHOICES = ("agree", "disagree", "pass")
OUTAGE_SECONDS = 3


class CuttableProxy:
    """A TCP proxy to ``target`` that can be cut (all connections closed, the port refusing new
    ones) and restored on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._open = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._open.set()
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()

    def cut(self) -> None:
        self._open.clear()
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        with listener:  # closed when cut: connecting to the port is then refused
            while self._open.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                except OSError:
                    client.close()
                    continue
                client.settimeout(None)
                upstream.settimeout(None)
                with self._lock:
                    self._sockets |= {client, upstream}
                for source, sink in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@dataclass
class Voter:
    """A signed-in person answering statements. An answer refused with a 503 is sent again."""

    browser: Browser
    page_path: str
    user_id: int
    number: int
    responses: list = field(default_factory=list)  # (kind, Response)
    acks: dict[int, str] = field(default_factory=dict)  # statement id -> choice acknowledged
    ack_times: list[float] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        pending: tuple[str, int] | None = None
        turn = 0
        try:
            while not stop.is_set():
                if pending is None:
                    page = self.browser.get(self.page_path)
                    self.responses.append(("page", page))
                    if page.status == 200:
                        pending = vote_form(page.body)
                        if pending is None:
                            return  # answered everything
                        time.sleep(0.1)  # reading the statement
                    else:
                        time.sleep(0.2)
                    continue
                token, statement_id = pending
                choice = CHOICES[(turn + self.number) % 3]
                form = {"csrf_token": token, "statement_id": statement_id, "choice": choice}
                answer = self.browser.post(f"{self.page_path}/votes", form)
                self.responses.append(("vote", answer))
                if acknowledged(answer):
                    assert statement_id not in self.acks, "the same statement was shown twice"
                    self.acks[statement_id] = choice
                    self.ack_times.append(answer.started)
                    pending, turn = None, turn + 1
                else:
                    time.sleep(0.2)  # refused (503): as the page says, wait and send it again
        except BaseException as error:  # a timeout is a hang: the test reports it
            self.errors.append(error)


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.1)


def test_votes_during_a_database_outage_get_a_503_and_the_site_recovers_by_itself(
    app, database_url, is_postgres, missions, create_user, tmp_path
):
    need_postgres(is_postgres)
    consultation = open_consultation(missions, statements=150)
    users = [create_user(email=f"voter{n}@example.org") for n in range(VOTERS + 1)]
    emails = [user.email for user in users]
    user_ids = [user.id for user in users]

    real = make_url(database_url)
    proxy = CuttableProxy((real.host or "127.0.0.1", real.port or 5432))
    proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    served = make_test_app(
        proxied,
        tmp_path,
        SERVER_NAME=None,
        ANALYSIS_DEBOUNCE_SECONDS=3600,
        EMBEDDING_DELAY_SECONDS=3600,
    )
    server = make_server("127.0.0.1", 0, served, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    base = f"http://127.0.0.1:{server.server_port}"
    stop = threading.Event()
    voters: list[Voter] = []
    threads: list[threading.Thread] = []
    try:
        for n, (email, user_id) in enumerate(zip(emails, user_ids, strict=True)):
            browser = Browser(base)
            browser.sign_in(email)
            voters.append(Voter(browser, f"/consultations/{consultation.id}", user_id, n))
        # The last person opens the page before the outage and answers during it.
        late = voters.pop()
        token, late_statement = vote_form(late.browser.get(late.page_path).body)
        late_form = {"csrf_token": token, "statement_id": late_statement, "choice": "disagree"}
        threads = [threading.Thread(target=v.run, args=(stop,), daemon=True) for v in voters]
        for thread in threads:
            thread.start()
        wait_until(lambda: all(len(v.acks) >= 3 for v in voters), 60, "answers before the outage")

        proxy.cut()
        cut_at = time.monotonic()  # from here on, no connection to the database is open

        def answered_during_outage() -> list:
            return [r for v in voters for _, r in v.responses if r.started > cut_at]

        late_refused = late.browser.post(f"{late.page_path}/votes", late_form)
        wait_until(lambda: len(answered_during_outage()) >= 3 * VOTERS, 60, "503s in the outage")
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - cut_at)))
        restored_at = time.monotonic()
        proxy.restore()

        def acks_after_restore(voter: Voter) -> int:
            return sum(1 for started in voter.ack_times if started > restored_at)

        wait_until(lambda: all(acks_after_restore(v) >= 3 for v in voters), 90, "recovery")
        late_sent_again = late.browser.post(f"{late.page_path}/votes", late_form)
        assert acknowledged(late_sent_again), late_sent_again.status
        late.acks[late_statement] = "disagree"
        voters.append(late)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        server.shutdown()
        serving.join(timeout=10)
        proxy.cut()
        with served.app_context():
            db.engine.dispose()

    for voter in voters:
        assert voter.errors == [], voter.errors  # no request timed out (hung) or failed to send
    everything = [r for v in voters for _, r in v.responses]
    statuses = {r.status for r in everything}
    assert statuses <= {200, 302, 503}, statuses  # above all: no 500

    # Whatever started and ended inside the outage was a 503 page saying to try again later.
    inside = [r for r in everything if r.started > cut_at and r.finished < restored_at]
    inside.append(late_refused)
    assert {r.status for r in inside} == {503}
    for refused in inside:
        assert refused.headers["retry-after"] == "5"
        assert "Sorry, the service is unavailable" in refused.body
        assert "Nothing you sent has been saved" in refused.body
    slowest = max(r.finished - r.started for r in inside)

    # Every acknowledged answer is stored once, with its choice; nothing else was stored.
    db.session.commit()
    for voter in voters:
        participant = db.session.scalar(
            select(Participant).where(
                Participant.user_id == voter.user_id,
                Participant.consultation_id == consultation.id,
            )
        )
        stored = dict(
            db.session.execute(
                select(Vote.statement_id, Vote.choice).where(Vote.participant_id == participant.id)
            ).all()
        )
        expected = {s: VoteChoice[c.upper()] for s, c in voter.acks.items()}
        assert {s: VoteChoice(c) for s, c in stored.items()} == expected
        events = dict(
            db.session.execute(
                select(VoteEvent.statement_id, func.count())
                .where(VoteEvent.participant_id == participant.id)
                .group_by(VoteEvent.statement_id)
            ).all()
        )
        assert events == dict.fromkeys(expected, 1)
    print(
        f"outage: {len(inside)} requests inside it, all 503, slowest {slowest * 1000:.0f} ms; "
        f"{sum(len(v.acks) for v in voters)} answers acknowledged and stored once"
    )
