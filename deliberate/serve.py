"""``make serve`` (``python -m deliberate.serve``): the production shape on this machine, in the
foreground.

1. Refuses to start without what the production shape needs: PostgreSQL (``DATABASE_URL``) and
   Redis (``REDIS_URL``), and with ``DELIBERATE_ENV=production`` a ``SECRET_KEY`` and every other
   production setting (the app's own checks, in ``deliberate.config``). ``make run`` is the way
   to develop: SQLite, jobs in a thread, nothing else running.
2. Applies the migrations (``flask db upgrade``) before anything serves.
3. Starts gunicorn (``deliberate.gunicorn_config``: workers sized from the cores) and
   ``DELIBERATE_RQ_WORKERS`` RQ workers (default 1; 0 on a machine that only serves pages),
   each child in a process group of its own, then says where the site answers.
4. On Ctrl-C or SIGTERM it asks every child to stop as each knows how (gunicorn finishes the
   requests in flight, an RQ worker its current job), waits ``DELIBERATE_STOP_SECONDS`` (default
   30), then kills what is left, grandchildren included. If a child dies on its own, it stops the
   others and exits non-zero, so whatever runs it (systemd, a container) starts it again.

On several machines the parts run apart (README, "Running at scale"): web machines run gunicorn
with the same config, worker machines run the same ``rq worker`` command.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from deliberate.config import PROJECT_ROOT, ConfigurationError, settings_from_environment
from deliberate.gunicorn_config import bind_from, workers_from
from deliberate.jobs import QUEUE_NAME

POLL_SECONDS = 0.2
READY_SECONDS = 60  # how long gunicorn may take to listen before the start counts as failed
DEFAULT_STOP_SECONDS = 30


@dataclass
class Child:
    name: str
    process: subprocess.Popen

    def alive(self) -> bool:
        return self.process.poll() is None


def refusal(env: dict[str, str]) -> str | None:
    """Why this environment cannot run the production shape, or None."""
    if env.get("DELIBERATE_ENV") == "production":
        try:
            settings_from_environment(PROJECT_ROOT / "instance", env)
        except ConfigurationError as error:
            return f"make serve: refusing to start: {error}"
        return None
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not env.get(name, "").strip()]
    if missing:
        return (
            f"make serve: refusing to start: {' and '.join(missing)} not set.\n"
            "make serve runs the production shape: gunicorn with several worker processes and RQ "
            "workers, which share PostgreSQL (DATABASE_URL=postgresql://user@host/db) and Redis "
            "(REDIS_URL=redis://host:6379/0). Several processes on a SQLite file, with jobs in a "
            "thread of each, is not that shape.\n"
            "To develop or try the site on its own (SQLite, jobs in a thread, nothing else "
            "running), use `make run`."
        )
    try:
        # Checks every setting once, and writes the development secret before several
        # processes could race to create it.
        settings_from_environment(PROJECT_ROOT / "instance", env)
    except ConfigurationError as error:
        return f"make serve: refusing to start: {error}"
    return None


def rq_worker_count(env: dict[str, str]) -> int:
    raw = (env.get("DELIBERATE_RQ_WORKERS") or "").strip()
    if not raw:
        return 1
    if not raw.isdigit():
        raise ConfigurationError("DELIBERATE_RQ_WORKERS must be a whole number, 0 or more.")
    return int(raw)


def stop_seconds(env: dict[str, str]) -> float:
    raw = (env.get("DELIBERATE_STOP_SECONDS") or "").strip()
    return float(raw) if raw else DEFAULT_STOP_SECONDS


def gunicorn_command() -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", "python:deliberate.gunicorn_config", "wsgi:app"]


def rq_worker_command(redis_url: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "rq.cli",
        "worker",
        "--worker-class",
        "deliberate.worker.Worker",
        "--with-scheduler",
        "--url",
        redis_url,
        QUEUE_NAME,
    ]


def _die_with_parent() -> None:
    """In the child, before it runs (Linux): SIGTERM if the supervisor itself is killed, so even
    a ``kill -9`` of make serve leaves no server behind."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def start(name: str, command: list[str], env: dict[str, str]) -> Child:
    process = subprocess.Popen(  # noqa: S603 (our own commands, from sys.executable)
        command,
        cwd=PROJECT_ROOT,
        env=env,
        process_group=0,  # Ctrl-C reaches the supervisor only; it stops each child in order
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    return Child(name, process)


def listening(bind: str) -> bool:
    host, _, port = bind.rpartition(":")
    if not port.isdigit() or bind.startswith(("unix:", "fd://")):
        return True  # a socket file or descriptor: gunicorn's own log says when it listens
    host = host.strip("[]") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # noqa: S104 (asked to bind every address; ask on loopback)
        host = "127.0.0.1"
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def where(bind: str) -> str:
    if bind.startswith(("unix:", "fd://")):
        return bind
    return f"http://{bind}"


def stop_all(children: list[Child], patience: float) -> None:
    """SIGTERM to each child (gunicorn: finish requests in flight; RQ: finish the current job),
    then, after ``patience`` seconds, SIGKILL to the process group of any still running."""
    for child in children:
        if child.alive():
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + patience
    while any(c.alive() for c in children) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    for child in children:
        if child.alive():
            print(f"make serve: {child.name} did not stop in {patience:.0f} s: killed", flush=True)
        with contextlib.suppress(ProcessLookupError):  # nothing left in its group
            os.killpg(child.process.pid, signal.SIGKILL)  # its workers and scheduler too
        child.process.wait()


def main() -> int:
    env = dict(os.environ)
    problem = refusal(env)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        rq_workers = rq_worker_count(env)
    except ConfigurationError as error:
        print(f"make serve: refusing to start: {error}", file=sys.stderr)
        return 2
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("NUMBA_CACHE_DIR", str(PROJECT_ROOT / "instance" / "numba-cache"))

    print("make serve: applying the database migrations (flask db upgrade)", flush=True)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    upgraded = subprocess.run(flask, cwd=PROJECT_ROOT, env=env, check=False)  # noqa: S603
    if upgraded.returncode != 0:
        print(
            "make serve: `flask db upgrade` failed: is the database in DATABASE_URL reachable?",
            file=sys.stderr,
        )
        return upgraded.returncode or 1

    stopping: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, frame: stopping.append(signum))

    bind = bind_from(env)
    children = [start("gunicorn", gunicorn_command(), env)]
    children += [
        start(f"rq worker {n}", rq_worker_command(env["REDIS_URL"]), env)
        for n in range(1, rq_workers + 1)
    ]
    exit_code = supervise(children, bind, workers_from(env), rq_workers, stopping)
    stop_all(children, stop_seconds(env))
    print("make serve: stopped", flush=True)
    return exit_code


def supervise(
    children: list[Child], bind: str, web_workers: int, rq_workers: int, stopping: list[int]
) -> int:
    """Watch the children until a signal asks to stop (0) or one of them dies (1)."""
    announced = False
    started = time.monotonic()
    while not stopping:
        for child in children:
            if not child.alive():
                print(
                    f"make serve: {child.name} exited (code {child.process.returncode}): "
                    "stopping the rest",
                    file=sys.stderr,
                    flush=True,
                )
                return 1
        if not announced:
            if listening(bind):
                announced = True
                print(
                    f"make serve: Deliberate is serving on {where(bind)} (gunicorn, "
                    f"{web_workers} web workers; {rq_workers} RQ worker"
                    f"{'' if rq_workers == 1 else 's'}). Ctrl-C stops it.",
                    flush=True,
                )
            elif time.monotonic() - started > READY_SECONDS:
                print(f"make serve: nothing listens on {bind} after {READY_SECONDS} s", flush=True)
                return 1
        time.sleep(POLL_SECONDS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
