"""gunicorn's settings for Deliberate: ``gunicorn -c python:deliberate.gunicorn_config wsgi:app``
(what ``make serve`` runs). Every value can be changed from the environment:

- ``WEB_CONCURRENCY``: worker processes; default 2 x cores + 1 (gunicorn's own advice for sync
  workers, whose requests wait on the database about as long as they compute).
- ``BIND`` (``host:port``), or ``PORT`` on 127.0.0.1; default 127.0.0.1:8000. A machine behind a
  load balancer binds its private address (``BIND=0.0.0.0:8000`` inside a container).
- ``GUNICORN_CMD_ARGS``: any other gunicorn option (``--threads 4``), read by gunicorn itself.

No access log: the app writes one structured line per request (``deliberate.logs``), without the
client's address or the query string. gunicorn's own messages (workers started, killed, timed out)
go through the same formatter, so the log is one format.
"""

from __future__ import annotations

import os

from deliberate.logs import StderrHandler


def default_workers(cores: int | None = None) -> int:
    cores = cores or os.cpu_count() or 1
    return 2 * cores + 1


def workers_from(env: dict[str, str]) -> int:
    raw = (env.get("WEB_CONCURRENCY") or "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else default_workers()


def bind_from(env: dict[str, str]) -> str:
    bind = (env.get("BIND") or "").strip()
    if bind:
        return bind
    port = (env.get("PORT") or "").strip() or "8000"
    return f"127.0.0.1:{port}"


wsgi_app = "wsgi:app"
bind = [bind_from(dict(os.environ))]
workers = workers_from(dict(os.environ))
worker_class = "sync"
proc_name = "deliberate"

# A request that takes longer than this has its worker killed and restarted (the vote path takes
# milliseconds; an export of a large consultation a few seconds).
timeout = 60
# On SIGTERM (a deploy, Ctrl-C under make serve) requests in flight get this long to finish.
graceful_timeout = 20
# Idle keep-alive connections from the load balancer or proxy in front.
keepalive = 5
# Restart each worker after about this many requests (the jitter keeps them from all restarting
# at once): a slow leak in a library cannot grow without end.
max_requests = 5000
max_requests_jitter = 500

accesslog = None
errorlog = "-"
loglevel = "info"
# gunicorn.error through the app's formatter (JSON in production), on the root handler the app
# uses too; gunicorn.access silent (the app logs each request).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"deliberate": {"()": "deliberate.logs.formatter_from_environment"}},
    "handlers": {
        "stderr": {
            "()": f"{StderrHandler.__module__}.{StderrHandler.__qualname__}",
            "formatter": "deliberate",
        },
    },
    "root": {"level": "WARNING", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}

# The app is loaded in each worker, after the fork: no database or Redis connection is shared
# between processes.
preload_app = False

# gunicorn's control socket (``gunicornc``) sits at one path per user by default, which two
# servers on one machine (a test beside a running site) would fight over: off.
control_socket_disable = True
