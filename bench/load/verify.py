"""Is every answer the server acknowledged stored, exactly once, with the last choice acknowledged?

The simulated people keep each acknowledged answer as (person, statement id, choice): the person
is the participant cookie the server set (``cookie:<value>``) or the account (``user:<email>``).
A cookie holds the participant's token per consultation; the database keeps only the token's
SHA-256, so the cookie's payload is read (its signature needs the server's secret, the payload
does not) and hashed the way the app hashes it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import bindparam, create_engine, text

from deliberate.config import normalise_database_url
from deliberate.consultations.participant_cookie import _SALT as COOKIE_SALT
from deliberate.extensions import token_hash

CHOICE_VALUES = {"agree": 1, "disagree": -1, "pass": 0}


@dataclass
class Verification:
    acknowledged: int  # answers acknowledged, changes of an answer included
    acknowledged_pairs: int  # distinct (person, statement)
    people: int  # distinct people with an acknowledged answer
    people_found: int  # ... whose participant row the database has
    participants_created: int  # participant rows made during the run (imported ones excluded)
    stored_pairs: int  # votes rows of those participants
    matching: int  # acknowledged pairs stored with the last acknowledged choice
    lost: int  # acknowledged pairs with no stored vote (or whose person has no participant)
    wrong_choice: int  # stored, but not with the last acknowledged choice
    duplicated: int  # pairs stored more than once, or with more history rows than answers
    stored_unacknowledged: int  # stored, never acknowledged (a request cut off at the end)
    own_statements: int  # the agree every author gives their own statement (not an answer POST)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.wrong_choice == 0 and self.duplicated == 0

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def _cookie_token(cookie: str, consultation_id: int) -> str | None:
    _, payload = URLSafeTimedSerializer("signature-not-checked", salt=COOKIE_SALT).loads_unsafe(
        cookie
    )
    if isinstance(payload, dict):
        return payload.get(str(consultation_id))
    return None


def _person(raw: str, consultation_id: int) -> str:
    """One key per person: ``user:<email>``, or ``token:<hash>`` (the cookie is signed again, with
    a new timestamp, on every answer, so its text changes while its token stays)."""
    kind, _, value = raw.partition(":")
    if kind == "user":
        return raw
    token = _cookie_token(value, consultation_id) if kind == "cookie" else None
    return f"token:{token_hash(token)}" if token else f"unreadable:{value}"


def verify(database_url: str, consultation_id: int, acks: list) -> Verification:
    """``acks``: (time, person, statement id, choice) in any order."""
    last: dict[tuple[str, int], int] = {}
    answers: Counter[tuple[str, int]] = Counter()
    for _, raw, statement_id, choice in sorted(acks, key=lambda a: a[0]):
        person = _person(raw, consultation_id)
        last[(person, statement_id)] = CHOICE_VALUES[choice]
        answers[(person, statement_id)] += 1
    people = {person for person, _ in last}

    engine = create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as connection:
            participants = connection.execute(
                text(
                    "SELECT p.id, p.anonymous_token_hash, u.email FROM participants p "
                    "LEFT JOIN users u ON u.id = p.user_id "
                    "WHERE p.consultation_id = :c AND p.source_id IS NULL"
                ),
                {"c": consultation_id},
            ).all()
            by_hash = {row.anonymous_token_hash: row.id for row in participants}
            by_email = {row.email: row.id for row in participants if row.email}
            participant_of: dict[str, int] = {}
            for person in people:
                kind, _, value = person.partition(":")
                found = by_email.get(value) if kind == "user" else by_hash.get(value)
                if found is not None:
                    participant_of[person] = found
            ids = sorted(set(participant_of.values()))
            stored: dict[tuple[int, int], list[int]] = {}
            history: Counter[tuple[int, int]] = Counter()
            if ids:
                rows = connection.execute(
                    text(
                        "SELECT participant_id, statement_id, choice FROM votes "
                        "WHERE participant_id IN :ids"
                    ).bindparams(bindparam("ids", expanding=True)),
                    {"ids": ids},
                )
                for row in rows:
                    stored.setdefault((row.participant_id, row.statement_id), []).append(row.choice)
                events = connection.execute(
                    text(
                        "SELECT participant_id, statement_id, count(*) AS n FROM vote_events "
                        "WHERE consultation_id = :c AND participant_id IN :ids "
                        "GROUP BY participant_id, statement_id"
                    ).bindparams(bindparam("ids", expanding=True)),
                    {"c": consultation_id, "ids": ids},
                )
                for row in events:
                    history[(row.participant_id, row.statement_id)] = row.n
                authored = connection.execute(
                    text(
                        "SELECT author_id, id FROM statements "
                        "WHERE consultation_id = :c AND author_id IN :ids"
                    ).bindparams(bindparam("ids", expanding=True)),
                    {"c": consultation_id, "ids": ids},
                )
                own = {(row.author_id, row.id) for row in authored}
            else:
                own = set()
    finally:
        engine.dispose()

    matching = lost = wrong = duplicated = 0
    acknowledged_keys = set()
    for (person, statement_id), choice in last.items():
        participant = participant_of.get(person)
        if participant is None:
            lost += 1
            continue
        key = (participant, statement_id)
        acknowledged_keys.add(key)
        rows = stored.get(key, [])
        if not rows:
            lost += 1
        elif rows[-1] != choice:
            wrong += 1
        else:
            matching += 1
        if len(rows) > 1 or history[key] > answers[(person, statement_id)]:
            duplicated += 1
    return Verification(
        acknowledged=len(acks),
        acknowledged_pairs=len(last),
        people=len(people),
        people_found=len(participant_of),
        participants_created=len(participants),
        stored_pairs=len(stored),
        matching=matching,
        lost=lost,
        wrong_choice=wrong,
        duplicated=duplicated,
        stored_unacknowledged=len(set(stored) - acknowledged_keys - own),
        own_statements=len(set(stored) & own),
    )
