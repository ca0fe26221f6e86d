"""The load benchmark of issue 13: simulated people answering, commenting and reading the report
against the production shape (gunicorn, PostgreSQL, Redis, an RQ worker), on loopback only.

    .venv/bin/python bench/load/run.py                      # 200 people, ramp 20/s, hold 60 s
    .venv/bin/python bench/load/run.py --users 20 --duration 20 --workers 2
    .venv/bin/python bench/load/run.py --scaling            # 1, 2 and 4 web workers
    .venv/bin/python bench/load/run.py --no-ratelimit
    .venv/bin/python bench/load/run.py --url http://127.0.0.1:8000 --database-url postgresql://...

By default it makes everything itself: a fresh PostgreSQL database (migrated, then seeded by
bench/load/seed.py with a real 316-statement conversation, reopened, analysed and published, and
accounts), copied afresh for each run; Redis db 13, flushed; gunicorn on a free loopback port
and one RQ worker (``start_server``: the one place to change for ``python -m deliberate.serve``).
locust (headless, FastHttpUser; bench/load/locustfile.py) ramps up to ``--users`` people and holds
them for ``--duration`` seconds. Everything it started is killed when it ends, is interrupted or
passes ``--timeout``; the databases are dropped.

Each simulated person sends its own address in X-Forwarded-For and the server trusts one proxy
(DELIBERATE_TRUSTED_PROXIES=1), so per-address rate limits count people apart; ``--no-ratelimit``
runs with DELIBERATE_RATELIMIT=0. The output says which.

Figures are taken over the hold (from the moment every user has started to the time limit):
acknowledged answers a second; p50/p95/p99 of the answer POST, the next-statement GET and the
report GET (successful responses); responses by status over the whole run (no 5xx allowed, 429s
counted apart); CPU from /proc (utime+stime) of the gunicorn master and workers per acknowledged
answer, and of the RQ worker, the PostgreSQL backends of the run's database and the load
generator itself. Afterwards every acknowledged answer is looked up in the database
(bench/load/verify.py): lost, wrong and duplicated answers are counted.

Results: a markdown table on stdout and in bench/results/load-<time>.md, all figures in the
.json beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import seed  # noqa: E402 - bench/load/seed.py, beside this file
import verify  # noqa: E402

BIN = Path(sys.executable).parent
LOCUSTFILE = HERE / "locustfile.py"
RESULTS = ROOT / "bench" / "results"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
TICK = os.sysconf("SC_CLK_TCK")
OK_STATUSES = range(200, 400)
LATENCY_OF = ("vote POST", "next statement GET", "report GET", "consultation GET")

# Everything this process started or created, so that every way out cleans it up.
_STARTED: list[subprocess.Popen] = []
_DATABASES: list[tuple[str, str]] = []


# -- the server ---------------------------------------------------------------------------------


def start_server(
    workers: int, port: int, env: dict[str, str], logs: Path
) -> list[subprocess.Popen]:
    """Start the site as ``make serve`` does (``python -m deliberate.serve``): gunicorn with
    ``workers`` web workers on loopback (its config file, ``WEB_CONCURRENCY``) and one RQ worker
    with the scheduler that runs delayed jobs such as the debounced re-analysis. The supervisor
    runs in a session of its own and stops its children on SIGTERM (``stop``)."""
    env = {
        **env,
        "WEB_CONCURRENCY": str(workers),
        "BIND": f"127.0.0.1:{port}",
        "DELIBERATE_RQ_WORKERS": "1",
        "DELIBERATE_STOP_SECONDS": "10",
    }
    with open(logs / "serve.log", "ab") as log:
        server = subprocess.Popen(
            [str(BIN / "python"), "-m", "deliberate.serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _STARTED.append(server)
    return [server]


def is_job_process(command: str) -> bool:
    return "rq" in command.split("\0")[0].rsplit("/", 1)[-1] or "deliberate.worker" in command


def server_environment(database_url: str, redis_url: str, ratelimit: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_DEBUG", "DELIBERATE_ENV")}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_urlsafe(32),
        DELIBERATE_TRUSTED_PROXIES="1",
        DELIBERATE_RATELIMIT="1" if ratelimit else "0",
        NUMBA_CACHE_DIR=os.environ.get("NUMBA_CACHE_DIR", str(ROOT / "instance" / "numba-cache")),
        PYTHONUNBUFFERED="1",
    )
    return env


def stop(process: subprocess.Popen, grace: float) -> None:
    """SIGTERM to the process group (a clean shutdown), SIGKILL once ``grace`` has passed."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # anything of the group still there
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)
    if process in _STARTED:
        _STARTED.remove(process)


def clean_up() -> None:
    for process in list(_STARTED):
        stop(process, grace=20)  # make serve's own grace for its children is 10 s
    for server, name in list(_DATABASES):
        with contextlib.suppress(Exception):
            seed.drop_database(server, name)
        _DATABASES.remove((server, name))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, address: str, timeout: float = 10) -> int:
    request = urllib.request.Request(url, headers={"X-Forwarded-For": address})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def wait_until_ready(base: str, processes: list[subprocess.Popen], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise SystemExit("The server stopped while starting: see the logs named above.")
        if get(f"{base}/healthz", "192.0.2.1", timeout=2) == 200:
            return
        time.sleep(0.5)
    raise SystemExit(f"The server did not answer {base}/healthz within {timeout:.0f} s.")


def warm_up(base: str, consultation_id: int, workers: int) -> None:
    """Each worker renders the pages once before the clock starts (the report's findings are
    rendered once per process, then reused)."""
    for n in range(max(4, workers * 4)):
        address = f"192.0.2.{n + 10}"
        get(f"{base}/consultations/{consultation_id}", address)
        get(f"{base}/consultations/{consultation_id}/report", address)


# -- CPU from /proc -----------------------------------------------------------------------------


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, CPU seconds: user + system) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _command(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


@dataclass
class CpuSampler:
    """Every second, the CPU seconds used so far by each kind of process: "web" and "jobs" (the
    server's processes, descendants of ``server_roots``), "postgres" (backends of ``database``),
    "load generator" (descendants of ``client_roots``) and "redis" (the whole redis-server,
    shared with whoever else uses it). A process that ends keeps its last reading."""

    server_roots: set[int]
    database: str | None
    client_roots: set[int] = field(default_factory=set)
    interval: float = 1.0
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._last: dict[int, tuple[str, float]] = {}
        self._commands: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _kind(self, pid: int, parents: dict[int, int]) -> str | None:
        seen, at = 0, pid
        while at > 1 and seen < 64:
            if at in self.server_roots:
                return "jobs" if is_job_process(self._command(pid)) else "web"
            if at in self.client_roots:
                return "load generator"
            at, seen = parents.get(at, 0), seen + 1
        command = self._command(pid)
        if command.startswith("postgres: ") and self.database:
            if f" {self.database} " not in command:
                return None
            client = self._client_of(command)
            known = self._last.get(client) if client else None
            return f"postgres for {known[0]}" if known else "postgres for others"
        if command.split("\0")[0].endswith("redis-server") or command.startswith("redis-server"):
            return "redis"
        return None

    def _client_of(self, backend_command: str) -> int | None:
        """The server process at the other end of a PostgreSQL backend's connection: the backend
        names the client's port, /proc/net/tcp the socket on it, /proc/<pid>/fd its owner."""
        found = re.search(r"\(([0-9]+)\)", backend_command)
        if found is None:
            return None
        port, inode = int(found.group(1)), None
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[9] != "0":
                        inode = f"socket:[{fields[9]}]"
        if inode is None:
            return None
        for pid, (kind, _) in list(self._last.items()):
            if kind not in ("web", "jobs"):
                continue
            with contextlib.suppress(OSError):
                for fd in os.scandir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError):
                        if os.readlink(fd.path) == inode:
                            return pid
        return None

    def _command(self, pid: int) -> str:
        if pid not in self._commands:
            self._commands[pid] = _command(str(pid))
        return self._commands[pid]

    def sample(self) -> None:
        readings: dict[int, tuple[int, float]] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and (stat := _stat(entry.name)) is not None:
                readings[int(entry.name)] = stat
        parents = {pid: parent for pid, (parent, _) in readings.items()}
        for pid, (_, cpu) in readings.items():
            known = self._last.get(pid)
            kind = known[0] if known else self._kind(pid, parents)
            if kind is not None:
                self._last[pid] = (kind, cpu)
        totals: dict[str, float] = {}
        for kind, cpu in self._last.values():
            totals[kind] = totals.get(kind, 0.0) + cpu
        self.samples.append((time.time(), totals))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> None:
        self.sample()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sample()

    def used(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds per kind between the last sample at or before ``start`` and the first at
        or after ``end``."""
        before = max((s for s in self.samples if s[0] <= start), default=self.samples[0])
        after = min((s for s in self.samples if s[0] >= end), default=self.samples[-1])
        kinds = set(before[1]) | set(after[1])
        return {k: after[1].get(k, 0.0) - before[1].get(k, 0.0) for k in sorted(kinds)}


# -- one run ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """Nearest rank."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def drive(args, base: str, seeded: seed.Seeded, sampler: CpuSampler, work: Path, label: str):
    """Run locust headless against ``base``; returns what the simulated people recorded."""
    ramp = math.ceil(args.users / args.spawn_rate)
    out = work / f"locust-{label}.json"
    settings = {
        "consultation_id": seeded.consultation_id,
        "accounts": seeded.accounts,
        "password": seeded.password,
        "think": args.think,
        "read_think": args.read_think,
        "commenter_share": args.commenter_share,
        "mix": args.mix,
        "out": str(out),
        "address_base": secrets.randbelow(1 << 23),
    }
    env = {**os.environ, "DELIBERATE_LOAD_CONFIG": json.dumps(settings), "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{ramp + args.duration}s",
        "--stop-timeout",
        "5",
        "--host",
        base,
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    with open(work / f"locust-{label}.log", "wb") as log:
        client = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    _STARTED.append(client)
    sampler.client_roots.add(client.pid)
    try:
        client.wait(ramp + args.duration + 90)
    except subprocess.TimeoutExpired:
        print(f"locust ran past its time: killed (log: {work / f'locust-{label}.log'})")
    stop(client, grace=10)
    if not out.exists():
        raise SystemExit(f"locust wrote no results: see {work / f'locust-{label}.log'}")
    return json.loads(out.read_text())


def figures(args, recorded: dict, cpu: CpuSampler, workers: int | None) -> dict:
    marks = recorded["marks"]
    start = marks.get("spawned", marks["start"])
    end = marks.get("stop", max((s[0] for s in recorded["samples"]), default=start))
    hold = max(end - start, 1e-9)
    samples, acks = recorded["samples"], recorded["acks"]
    in_hold = [s for s in samples if start <= s[0] <= end]
    acks_in_hold = sum(1 for a in acks if start <= a[0] <= end)
    latency = {}
    for name in LATENCY_OF:
        times = [s[3] for s in in_hold if s[1] == name and s[2] in OK_STATUSES]
        latency[name] = {
            "n": len(times),
            **{f"p{q}": percentile(times, q / 100) for q in (50, 95, 99)},
        }
    statuses: dict[str, dict[str, int]] = {}
    for _, name, status, _, error in samples:
        key = str(status) if status else f"no response ({error or 'error'})"
        statuses.setdefault(name, {}).setdefault(key, 0)
        statuses[name][key] += 1
    every = [(s[2], s[4]) for s in samples]
    used = cpu.used(start, end)
    whole = cpu.used(marks["start"], marks.get("stop", end))
    per_answer = {
        kind: (seconds * 1000 / acks_in_hold if acks_in_hold else None)
        for kind, seconds in used.items()
    }
    return {
        "web_workers": workers,
        "users": args.users,
        "hold_seconds": round(hold, 1),
        "ramp_seconds": round(start - marks["start"], 1),
        "acknowledged_in_hold": acks_in_hold,
        "acknowledged_total": len(acks),
        "answers_per_second": acks_in_hold / hold,
        "latency_ms": latency,
        "statuses": statuses,
        "errors": {
            "5xx": sum(1 for status, _ in every if status >= 500),
            "429": sum(1 for status, _ in every if status == 429),
            "other 4xx": sum(1 for status, _ in every if 400 <= status < 500 and status != 429),
            "no response": sum(1 for status, _ in every if status == 0),
        },
        "client_counts": recorded["counts"],
        "cpu_seconds_in_hold": used,
        "cpu_seconds_whole_run": whole,
        "cpu_cores_in_hold": {kind: seconds / hold for kind, seconds in used.items()},
        "cpu_ms_per_answer": per_answer,
    }


def one_run(args, server: str, template: str, seeded: seed.Seeded, workers: int, work: Path):
    name = seed.unique_name("run")
    _DATABASES.append((server, name))
    url = seed.create_database(server, name, template=template)
    from redis import Redis

    Redis.from_url(args.redis_url).flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = work / f"server-{workers}"
    logs.mkdir(exist_ok=True)
    processes = start_server(
        workers, port, server_environment(url, args.redis_url, not args.no_ratelimit), logs
    )
    try:
        wait_until_ready(base, processes)
        warm_up(base, seeded.consultation_id, workers)
        sampler = CpuSampler({p.pid for p in processes}, name)
        load_before = os.getloadavg()
        sampler.start()
        try:
            recorded = drive(args, base, seeded, sampler, work, f"{workers}w")
        finally:
            sampler.stop()
        load_after = os.getloadavg()
    finally:
        for process in processes:
            stop(process, grace=15)
    result = figures(args, recorded, sampler, workers)
    result["load_average_before"] = load_before
    result["load_average_after"] = load_after
    result["verification"] = verify.verify(url, seeded.consultation_id, recorded["acks"]).as_dict()
    result["server_logs"] = str(logs)
    if not args.keep_databases:
        seed.drop_database(server, name)
        _DATABASES.remove((server, name))
    return result


def external_run(args, seeded: seed.Seeded, work: Path) -> dict:
    """Against a server someone else started (``--url``); its CPU only with ``--server-pid``."""
    base = args.url.rstrip("/")
    sampler = CpuSampler(set(args.server_pid), seed.database_name(args.database_url))
    load_before = os.getloadavg()
    sampler.start()
    try:
        recorded = drive(args, base, seeded, sampler, work, "external")
    finally:
        sampler.stop()
    result = figures(args, recorded, sampler, None)
    result["load_average_before"] = load_before
    result["load_average_after"] = os.getloadavg()
    result["verification"] = verify.verify(
        args.database_url, seeded.consultation_id, recorded["acks"]
    ).as_dict()
    return result


# -- the report ---------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _latency(result: dict, name: str) -> str:
    found = result["latency_ms"][name]
    return " / ".join(_ms(found[f"p{q}"]) for q in (50, 95, 99))


def machine() -> dict:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    branch = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--abbrev-ref", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "commit": commit,
        "branch": branch,
    }


def markdown(args, about: dict, results: list[dict]) -> str:
    mode = "rate limits ON" if not args.no_ratelimit else "rate limits OFF (DELIBERATE_RATELIMIT=0)"
    lines = [
        f"# Load benchmark, {about['date']}",
        "",
        f"Commit {about['commit']} ({about['branch']}); {about['cores']} cores ({about['cpu']}); "
        "the load generator runs on the same cores as the server, PostgreSQL and Redis.",
        f"Command: `{about['command']}`",
        "",
        f"- {args.users} simulated people ({args.mix[0]} anonymous : {args.mix[1]} signed in : "
        f"{args.mix[2]} report readers), started "
        f"{args.spawn_rate}/s, held {args.duration} s; think {args.think[0]} to {args.think[1]} s "
        f"between answers, {args.read_think[0]} to {args.read_think[1]} s on the report; "
        f"{args.commenter_share:.0%} of participants add a statement now and then.",
        f"- {mode}; every simulated person sends its own address in X-Forwarded-For, "
        "believed through one trusted proxy (DELIBERATE_TRUSTED_PROXIES=1, werkzeug ProxyFix).",
        f"- Server: {about['server']}.",
        "- Latencies are of successful responses during the hold; errors are counted over the "
        "whole run; CPU is utime+stime from /proc during the hold, per acknowledged answer.",
        "",
        "| web workers | answers/s | answer POST p50/p95/p99 ms | next statement GET p50/p95/p99 "
        "| report GET p50/p95/p99 | 5xx | 429 | other 4xx | no response | web CPU ms/answer "
        "| its PostgreSQL ms/answer | web cores | RQ worker + its PostgreSQL CPU s "
        "| load generator cores | load avg (1 min) before → after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        per, cores, used = r["cpu_ms_per_answer"], r["cpu_cores_in_hold"], r["cpu_seconds_in_hold"]
        lines.append(
            f"| {r['web_workers'] or 'external'} | {r['answers_per_second']:.1f} "
            f"| {_latency(r, 'vote POST')} | {_latency(r, 'next statement GET')} "
            f"| {_latency(r, 'report GET')} | {r['errors']['5xx']} | {r['errors']['429']} "
            f"| {r['errors']['other 4xx']} | {r['errors']['no response']} "
            f"| {_ms(per.get('web'))} | {_ms(per.get('postgres for web'))} "
            f"| {cores.get('web', 0):.2f} "
            f"| {used.get('jobs', 0):.1f} + {used.get('postgres for jobs', 0):.1f} "
            f"| {cores.get('load generator', 0):.2f} "
            f"| {r['load_average_before'][0]:.2f} → {r['load_average_after'][0]:.2f} |"
        )
    lines += [
        "",
        "| web workers | acknowledged (hold / whole run) | people | stored | lost | wrong choice "
        "| duplicated | stored, not acknowledged | own statements | client notes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        v = r["verification"]
        notes = ", ".join(f"{k}: {n}" for k, n in sorted(r["client_counts"].items()))
        lines.append(
            f"| {r['web_workers'] or 'external'} "
            f"| {r['acknowledged_in_hold']} / {r['acknowledged_total']} "
            f"| {v['people_found']} of {v['people']} | {v['stored_pairs']} | {v['lost']} "
            f"| {v['wrong_choice']} | {v['duplicated']} | {v['stored_unacknowledged']} "
            f"| {v['own_statements']} | {notes} |"
        )
    verdicts = [
        "every acknowledged answer is stored exactly once, with its last choice"
        if all(r["verification"]["ok"] for r in results)
        else "SOME ACKNOWLEDGED ANSWERS ARE LOST, WRONG OR DUPLICATED (see the table)",
        "no 5xx" if all(r["errors"]["5xx"] == 0 for r in results) else "5xx RESPONSES SEEN",
    ]
    lines += ["", "Verdict: " + "; ".join(verdicts) + "."]
    return "\n".join(lines) + "\n"


# -- the command --------------------------------------------------------------------------------


def _span(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def _mix(text: str) -> tuple[int, int, int]:
    parts = tuple(int(p) for p in text.split(":"))
    if len(parts) != 3 or min(parts) < 0 or sum(parts) == 0:
        raise argparse.ArgumentTypeError("three whole numbers, like 8:1:1")
    return parts  # type: ignore[return-value]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--duration", type=int, default=60, help="seconds held at --users")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn web workers")
    parser.add_argument("--scaling", action="store_true", help="run with 1, 2 and 4 web workers")
    parser.add_argument("--no-ratelimit", action="store_true", help="DELIBERATE_RATELIMIT=0")
    parser.add_argument("--think", type=_span, default=(0.2, 0.8), help="seconds, e.g. 0.2-0.8")
    parser.add_argument("--read-think", type=_span, default=(2.0, 5.0))
    parser.add_argument("--commenter-share", type=float, default=0.1)
    parser.add_argument(
        "--mix", type=_mix, default=(8, 1, 1), help="anonymous:signed-in:readers, e.g. 8:1:1"
    )
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server for new dbs")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="flushed before each run")
    parser.add_argument("--template", help="an already seeded database to copy (skips seeding)")
    parser.add_argument("--url", help="a running server instead of starting one")
    parser.add_argument("--database-url", help="with --url: that server's database")
    parser.add_argument("--server-pid", type=int, action="append", default=[])
    parser.add_argument("--keep-databases", action="store_true")
    parser.add_argument("--timeout", type=float, help="hard limit in seconds (default: computed)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.url and not args.database_url:
        parser.error("--url needs --database-url, to seed the consultation and check the answers")
    return args


def _interrupted(signum, _frame):
    raise SystemExit(f"Stopped by signal {signal.Signals(signum).name}: cleaning up.")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runs = [1, 2, 4] if args.scaling else [args.workers]
    per_run = math.ceil(args.users / args.spawn_rate) + args.duration + 240
    timeout = args.timeout or 900 + per_run * (1 if args.url else len(runs))
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM, signal.SIGHUP):
        signal.signal(signum, _interrupted)
    signal.alarm(int(timeout))
    started = datetime.now(UTC)
    about = {
        **machine(),
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "server": (
            f"already running at {args.url}"
            if args.url
            else "gunicorn (sync workers, wsgi:app) + 1 RQ worker "
            "(deliberate.worker.Worker, --with-scheduler), PostgreSQL 127.0.0.1, "
            f"Redis {args.redis_url}"
        ),
        "hard_timeout_seconds": timeout,
    }
    print(
        f"Load benchmark: {args.users} users, {'1, 2, 4' if args.scaling else args.workers} web "
        f"worker(s), {'rate limits OFF' if args.no_ratelimit else 'rate limits ON'}, one "
        f"X-Forwarded-For address per simulated person; hard timeout {timeout:.0f} s.",
        flush=True,
    )
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="deliberate-load-") as tmp:
            work = Path(tmp)
            accounts = math.ceil(args.users * args.mix[1] / sum(args.mix) * 2) + 5
            if args.url:
                seeded = seed.seed(args.database_url, accounts)
                results.append(external_run(args, seeded, work))
            else:
                template = args.template
                if template is None:
                    template = seed.unique_name("template")
                    _DATABASES.append((args.server, template))
                    clock = time.monotonic()
                    seed.create_database(args.server, template)
                    print("Seeding the template database (import, analysis, accounts)...")
                seeded = seed.seed(seed.database_url(args.server, template), accounts)
                if args.template is None:
                    print(f"  seeded in {time.monotonic() - clock:.0f} s", flush=True)
                for workers in runs:
                    print(f"Run with {workers} web worker(s)...", flush=True)
                    results.append(one_run(args, args.server, template, seeded, workers, work))
                    print(markdown(args, about, results[-1:]), flush=True)
            about["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
            report = markdown(args, about, results)
            args.results.mkdir(parents=True, exist_ok=True)
            stem = args.results / f"load-{started.strftime('%Y%m%d-%H%M%S')}"
            stem.with_suffix(".md").write_text(report)
            stem.with_suffix(".json").write_text(
                json.dumps(
                    {"about": about, "settings": vars(args), "runs": results}, indent=1, default=str
                )
            )
            print(report)
            print(f"Written: {stem}.md and {stem}.json")
    finally:
        signal.alarm(0)
        clean_up()
    ok = all(r["verification"]["ok"] and r["errors"]["5xx"] == 0 for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
