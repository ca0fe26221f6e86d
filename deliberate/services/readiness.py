"""Is this web process ready for traffic? What ``GET /readyz`` answers a load balancer.

Ready means the database answers a ``SELECT 1``: that is all a vote needs. Redis (``REDIS_URL``)
is asked too and its state reported, but a Redis that does not answer leaves the site ready and
"degraded": votes are still taken, rate limits fall back to each process's memory and jobs wait
in the database until Redis is back (deliberate.jobs). A shared Redis down would otherwise take
every web machine out of the load balancer at once. The queued and failed job counts come along
for whoever watches. Every
check is bounded: PostgreSQL connections wait at most ``DATABASE_CONNECT_TIMEOUT`` seconds, Redis
is asked through a client of its own with one-second timeouts, so a dead database gives a 503 within
seconds instead of a request that hangs until the load balancer gives up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from deliberate import jobs
from deliberate.extensions import db

OK = "ok"
NOT_USED = "not used"
UNAVAILABLE = "unavailable"
REDIS_TIMEOUT_SECONDS = 1.0

log = logging.getLogger("deliberate.readiness")


@dataclass
class Readiness:
    database: str
    redis: str
    jobs: dict[str, int | None] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.database == OK

    @property
    def status(self) -> str:
        if not self.ready:
            return "not ready"
        return "degraded" if self.redis == UNAVAILABLE else "ready"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "database": self.database,
            "redis": self.redis,
            "jobs": self.jobs,
        }


def check() -> Readiness:
    database = _database()
    redis = _redis()
    counts: dict[str, int | None] = {"queued": None, "failed": None}
    if redis != UNAVAILABLE:
        try:
            counts = dict(jobs.runner().counts())
        except Exception as error:  # Redis went away between the ping and the count
            log.warning("job counts unavailable", extra={"error": type(error).__name__})
            redis = UNAVAILABLE
    return Readiness(database=database, redis=redis, jobs=counts)


def _database() -> str:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("database not ready", extra={"error": type(error).__name__})
        return UNAVAILABLE
    return OK


def _redis() -> str:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return NOT_USED
    from redis import Redis
    from redis.exceptions import RedisError

    probes = current_app.extensions.setdefault("deliberate_readiness", {})
    if url not in probes:
        probes[url] = Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
    try:
        probes[url].ping()
    except (RedisError, OSError) as error:
        log.warning("redis not ready", extra={"error": type(error).__name__})
        return UNAVAILABLE
    return OK
