"""Pieces the benchmarks share: a synthetic Polis export from vote triples, a child process whose
peak memory is its own, a percentile and the machine's load.

Children are used wherever memory is reported: the parent's own peak includes data generation and
whatever earlier steps left behind, a child's ``ru_maxrss`` (read with ``os.wait4``) is that step's
alone, as a fresh worker would see it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterable, Sequence

from deliberate.polis_format import PolisComment, PolisExport, PolisParticipant, PolisVote

START_MS = 1_600_000_000_000  # comments are stamped from here, votes 100 s later


def polis_export(
    n_participants: int,
    texts: Sequence[str],
    authors: Sequence[int | None],
    moderated: Sequence[int],
    votes: Iterable[tuple[int, int, int, int]],
) -> PolisExport:
    """A classic export: comment i has ``texts[i]``, ``authors[i]`` and ``moderated[i]``; votes are
    (voter, comment, value, timestamp ms) rows, one per voter and comment (no re-votes)."""
    comments = [
        PolisComment(i, author, text, mod, START_MS + i, False, False)
        for i, (text, author, mod) in enumerate(zip(texts, authors, moderated, strict=True))
    ]
    rows = sorted((PolisVote(*v) for v in votes), key=lambda v: (v.voter_id, v.comment_id))
    people = [PolisParticipant(p, None, None) for p in range(n_participants)]
    url = "https://pol.is/bench" + uuid.uuid4().hex[:6]
    return PolisExport("Bench", url, "", comments, rows, rows, people)


class ChildFailed(RuntimeError):
    """A measured child exited non-zero or ran out of time; ``peak_mb`` is what it had reached."""

    def __init__(self, message: str, peak_mb: float, seconds: float, timed_out: bool):
        super().__init__(message)
        self.peak_mb, self.seconds, self.timed_out = peak_mb, seconds, timed_out


def run_measured(command: Sequence[str], timeout: float | None = None) -> tuple[dict, float]:
    """Run ``command`` (stderr passes through, so its progress shows); return the JSON object on
    the last line of its stdout and its peak resident memory in MB. A child still running after
    ``timeout`` seconds is stopped (SIGTERM, so it can say what it has; SIGKILL 30 s later) and
    ``ChildFailed`` raised."""
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=os.environ)
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if timeout is not None and time.monotonic() - started > timeout:
            proc.terminate()
            timed_out = True
            for _ in range(150):
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                time.sleep(0.2)
            else:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.2)
    seconds = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stdout is not None
    out = proc.stdout.read()
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    if timed_out or proc.returncode != 0:
        why = f"killed after {timeout:.0f} s" if timed_out else f"exit code {proc.returncode}"
        raise ChildFailed(f"{' '.join(command[1:4])}: {why}", peak_mb, seconds, timed_out)
    return json.loads(out.strip().splitlines()[-1]), peak_mb


def p95(times: Sequence[float]) -> float:
    """The 95th percentile as the value ranked ceil-ish 0.95 n (no interpolation)."""
    ordered = sorted(times)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (VmHWM), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0
