"""How Deliberate copes with the largest consultations: Bowling Green 2050 and a 33,000-person one.

    .venv/bin/python bench/bench_size.py [--size bg|33k|both] [--skip-embedding] [--repeat N]
        [--database postgresql://postgres@127.0.0.1:5432/postgres] [--scale 0.05] [--out FILE]

Sizes (each in a fresh, uniquely named PostgreSQL database, dropped afterwards):

- ``bg/4``: a quarter of Bowling Green in every dimension, always run, so growth can be judged;
- ``bg``: Bowling Green 2050, 7,890 participants, 3,500 statements, ~1,034,868 votes;
- ``33k``: 33,000 participants x 4,000 statements, ~2,000,000 votes.

Votes have opinion structure (``bench_groups.synthetic``: three latent groups with their own agree
probability per statement, uneven numbers of answers per person, agree / disagree / pass); the
statements carry real comments of the six English Polis conversations in shared/data/polis (the
Austrian one is German, which the English model does not read), repeated with small variations;
5% are rejected and 5% left unmoderated, as in a real export. Each size is written as a classic
Polis export, then measured step by step, each step in a child process whose peak resident
memory (``ru_maxrss`` from ``os.wait4``) is its own:

1. import: ``import_polis_folder``, the service ``flask deliberate import-polis`` uses, files read
   included, committed;
2. analysis: ``run_analysis`` (votes, bridging and, unless ``--skip-embedding``, topics, which
   loads the model as a worker does), committed; killed after ``--analysis-timeout`` seconds. The
   time of each step of deliberate/analysis and services/analysis is recorded as it goes (and
   appended to a progress file, so a killed run still says how far it got); ``--profile-dir``
   adds a cProfile of each analysis;
3. report and export: the run is published, the report page rendered through the Flask test
   client once (it builds the page's figures) and then ``REPORT_REQUESTS`` times (p95), and the
   run's Polis export zip downloaded once (built on that request).

Embedding and topics: 5,500 statements (same texts) imported into a consultation of their own,
embedded with the real model through ``services.embeddings.embed_missing``, then topics fitted
through ``services.topics.analyse_topics``; their vectors are stored for the size cases too (as the
embedding job would have done), so their analysis fits topics without embedding again.

Growth: between consecutive sizes, each figure's ratio is set against the largest of the three
size ratios (participants, statements, votes); a step whose time grows more than 25% beyond that
is named as growing worse than linearly. The machine's load averages are printed beside the
figures: it has 2 cores shared with other work.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import io
import itertools
import json
import math
import os
import pstats
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench")
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "numba-cache"))

from bench._common import (  # noqa: E402
    START_MS,
    ChildFailed,
    load_average,
    p95,
    peak_rss_mb,
    polis_export,
    run_measured,
)
from bench.bench_groups import synthetic  # noqa: E402
from bench.bench_import import fresh_database  # noqa: E402
from bench.evaluate_topics import load_comments  # noqa: E402


@dataclass(frozen=True)
class Size:
    participants: int
    statements: int
    votes: int

    def scaled(self, factor: float) -> Size:
        return Size(
            *(max(2, round(x * factor)) for x in (self.participants, self.statements, self.votes))
        )


SIZES = {
    "bg/4": Size(1_972, 875, 258_717),
    "bg": Size(7_890, 3_500, 1_034_868),
    "33k": Size(33_000, 4_000, 2_000_000),
}
TOPIC_CASE = Size(1_000, 5_500, 30_000)  # votes only so that the topics have groups to join
REPORT_REQUESTS = 20
WORKER_MEMORY_MB = 4096
WORSE_THAN_LINEAR = 1.25  # a time ratio this far above the largest size ratio is named
ADMIN_EMAIL = "lead@example.org"
DAYS_MS = 33 * 24 * 3600 * 1000  # Bowling Green ran 33 days; votes are spread over them
VARIANTS = (
    "{}",
    "I think {}",
    "In my view: {}",
    "{} This matters to me.",
    "Honestly, {}",
    "As a resident: {}",
    "{} We should act on this.",
    "Many of us feel this way: {}",
)

# Steps timed inside the children: (module, attribute, depth). A step whose first argument is a
# model class is timed per class (the import's bulk inserts: one per table).
IMPORT_STEPS = (
    ("deliberate.services.polis_exchange", "read_export", 0),
    ("deliberate.services.polis_exchange", "_bulk_insert", 0),
    ("deliberate.services.polis_exchange", "_id_map", 0),
)
ANALYSIS_STEPS = (
    ("deliberate.services.analysis", "watermark", 0),
    ("deliberate.services.analysis", "exclusions", 0),
    ("deliberate.services.analysis", "load_vote_matrix", 0),
    ("deliberate.services.analysis", "analyse_votes", 0),
    ("deliberate.analysis.vote_analysis", "_roles", 1),
    ("deliberate.analysis.vote_analysis", "compute_opinion_groups", 1),
    ("deliberate.analysis.vote_analysis", "groups_beyond_chance", 1),
    ("deliberate.analysis.vote_analysis", "_kept_groups", 1),
    ("deliberate.analysis.vote_analysis", "held_out_counts", 1),
    ("deliberate.analysis.vote_analysis", "representative_statements", 1),
    ("deliberate.analysis.vote_analysis", "consensus_statements", 1),
    ("deliberate.analysis.vote_analysis", "divisive_statements", 1),
    ("deliberate.analysis.vote_analysis", "VoteAnalysis.to_dict", 0),
    ("deliberate.services.analysis", "removal_counts", 0),
    ("deliberate.services.analysis", "bridging_ranking", 0),
    ("deliberate.services.analysis", "analyse_topics", 0),
    ("deliberate.services.topics", "topic_statements", 1),
    ("deliberate.services.embeddings", "current_embedder", 1),
    ("deliberate.services.embeddings", "missing_statements", 1),
    ("deliberate.services.embeddings", "load_vectors", 1),
    ("deliberate.analysis.topics", "fit_topics", 1),
    ("deliberate.services.topics", "topic_vote_join", 1),
    ("deliberate.services.analysis", "stamp", 0),
    ("deliberate.services.analysis", "store_vectors", 0),
)


# --- data -----------------------------------------------------------------------------------------


@functools.cache
def _all_texts(n: int) -> tuple[str, ...]:
    real, _ = load_comments()
    out = []
    for i in range(n):
        variant, source = divmod(i, len(real))
        out.append(VARIANTS[variant % len(VARIANTS)].format(real[source].strip()))
    return tuple(out)


def statement_texts(n: int) -> list[str]:
    """``n`` statements: the real comments, then each again with a variation, and so on. The
    list for a smaller ``n`` is the start of the list for a larger one."""
    return list(_all_texts(max(n, TOPIC_CASE.statements)))[:n]


def consultation_export(size: Size, seed: int = 7):
    data = synthetic(size.participants, size.statements, size.votes, groups=3, seed=seed)
    rng = np.random.default_rng(seed + 1)
    m, n_votes = size.statements, len(data["rows"])
    authors = rng.integers(0, size.participants, m).tolist()
    moderated = rng.choice([1, -1, 0], m, p=[0.9, 0.05, 0.05]).tolist()
    stamps = START_MS + 100_000 + rng.permutation(n_votes) * (DAYS_MS // max(n_votes, 1))
    votes = zip(
        data["rows"].tolist(),
        data["cols"].tolist(),
        data["values"].tolist(),
        stamps.tolist(),
        strict=True,
    )
    return polis_export(size.participants, statement_texts(m), authors, moderated, votes)


# --- children: each prints one JSON line ----------------------------------------------------------


def _app(url: str):
    from deliberate import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})


def child_import(args) -> dict[str, Any]:
    from deliberate.extensions import db
    from deliberate.missions.catalogue import ensure_missions
    from deliberate.services.polis_exchange import import_polis_folder

    records: dict[str, dict[str, float]] = {}
    with _app(args.database).app_context():
        mission = ensure_missions()[0]
        db.session.commit()
        _instrument(IMPORT_STEPS, records)
        started, cpu = time.perf_counter(), time.process_time()
        result = import_polis_folder(Path(args.folder), mission)
        t0 = time.perf_counter()
        db.session.commit()
        records["commit"] = {"seconds": time.perf_counter() - t0, "cpu_s": 0.0, "depth": 0}
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_s": cpu_s,
        "steps": records,
        "consultation_id": result.consultation_id,
        "participants": result.participants,
        "statements": result.statements,
        "votes": result.votes,
    }


def _say(progress: Path | None, record: dict[str, Any]) -> None:
    line = json.dumps(record)
    print(f"  [step] {line}", file=sys.stderr, flush=True)
    if progress is not None:
        with progress.open("a") as handle:
            handle.write(line + "\n")


def _instrument(
    steps: tuple[tuple[str, str, int], ...],
    records: dict[str, dict[str, float]],
    progress: Path | None = None,
) -> None:
    """Wrap each step so that its wall and CPU time (summed over calls) and the process's peak
    memory after it are recorded, in the order the steps start, and said as they start and end."""
    started = time.perf_counter()

    def timed(name: str, depth: int, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            label = name
            if args and isinstance(args[0], type):
                label += f"[{args[0].__name__}]"
            record = records.setdefault(
                label, {"seconds": 0.0, "cpu_s": 0.0, "calls": 0, "depth": depth}
            )
            _say(progress, {"step": label, "at_s": round(time.perf_counter() - started, 1)})
            t0, c0 = time.perf_counter(), time.process_time()
            out = fn(*args, **kwargs)
            took = time.perf_counter() - t0
            record["seconds"] += took
            record["cpu_s"] += time.process_time() - c0
            record["calls"] += 1
            record["peak_mb"] = peak_rss_mb()
            _say(progress, {"done": label, "s": round(took, 2), "peak_mb": record["peak_mb"]})
            return out

        return wrapper

    for module_name, name, depth in steps:
        owner = importlib.import_module(module_name)
        *path, attribute = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, attribute, timed(name, depth, getattr(owner, attribute)))


def child_analyse(args) -> dict[str, Any]:
    from deliberate.extensions import db
    from deliberate.services import analysis

    progress = Path(args.progress) if args.progress else None
    records: dict[str, dict[str, float]] = {}
    with _app(args.database).app_context():
        # A worker imports the libraries and loads the model once, before its first job: timed
        # apart, so that the analysis figures compare across sizes (the memory stays counted).
        started = time.perf_counter()
        import sklearn.cluster  # noqa: F401

        if args.topics:
            import bertopic  # noqa: F401

            from deliberate.services.embeddings import current_embedder

            current_embedder()
        warm_s = time.perf_counter() - started
        _instrument(ANALYSIS_STEPS, records, progress)
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:

            def dump_and_exit(signum, frame):  # the parent's timeout: keep what was profiled
                profiler.disable()
                _write_profile(profiler, Path(args.profile))
                os._exit(3)

            signal.signal(signal.SIGTERM, dump_and_exit)
            profiler.enable()
        _say(progress, {"start": True, "peak_mb": peak_rss_mb()})
        started, cpu = time.perf_counter(), time.process_time()
        run = analysis.run_analysis(args.consultation, topics=args.topics, refit_topics=True)
        db.session.commit()
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
            _write_profile(profiler, Path(args.profile))
        votes, bridging = run.results["votes"], run.results["bridging"]
        topics = run.results.get("topics") or {}
        return {
            "seconds": seconds,
            "cpu_s": cpu_s,
            "warm_s": warm_s,
            "run_id": run.id,
            "steps": records,
            "k": votes.get("k"),
            "message": votes.get("message"),
            "topics": len(topics.get("topics") or []) or topics.get("message"),
            "results_kb": len(json.dumps(run.results)) / 1024,
            "bridging": {
                key: bridging.get(key)
                for key in ("iterations", "converged", "bootstrap_resamples", "bootstrap_converged")
            },
        }


def _write_profile(profiler: cProfile.Profile, path: Path) -> None:
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    path.write_text(text.getvalue())


def child_serve(args) -> dict[str, Any]:
    from sqlalchemy import select

    from deliberate.extensions import db
    from deliberate.models import AnalysisRun, Consultation, User
    from deliberate.services.reports import publish_run

    app = _app(args.database)
    cid, run_id = args.consultation, args.run
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == ADMIN_EMAIL))
        publish_run(admin, db.session.get(Consultation, cid), db.session.get(AnalysisRun, run_id))
        db.session.commit()
    client = app.test_client()

    def get(url: str) -> tuple[float, int]:
        started = time.perf_counter()
        response = client.get(url)
        took = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        return took, len(response.data)

    report = f"/consultations/{cid}/report"
    first, page_bytes = get(report)
    times = [get(report)[0] for _ in range(REPORT_REQUESTS)]
    export_s, zip_bytes = get(f"/consultations/{cid}/report/runs/{run_id}/polis-export.zip")
    return {
        "report_first_ms": first * 1000,
        "report_p95_ms": p95(times) * 1000,
        "report_median_ms": statistics.median(times) * 1000,
        "page_kb": page_bytes / 1024,
        "export_s": export_s,
        "zip_kb": zip_bytes / 1024,
    }


def child_topics(args) -> dict[str, Any]:
    """Embed the consultation's statements and fit its topics, through the services."""
    from sqlalchemy import select

    from deliberate.analysis import analyse_votes
    from deliberate.extensions import db
    from deliberate.models import Statement
    from deliberate.services.analysis import load_vote_matrix
    from deliberate.services.embeddings import current_embedder, embed_missing, load_vectors
    from deliberate.services.topics import analyse_topics

    cid = args.consultation
    with _app(args.database).app_context():
        started = time.perf_counter()
        embedder = current_embedder()
        load_s = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        n = embed_missing(cid, embedder)
        db.session.commit()
        embed_s, embed_cpu_s = time.perf_counter() - started, time.process_time() - cpu
        matrix = load_vote_matrix(cid)
        votes = analyse_votes(matrix).to_dict()
        started, cpu = time.perf_counter(), time.process_time()
        outcome = analyse_topics(cid, matrix, votes, embedder=embedder, refit=True)
        topics_s, topics_cpu_s = time.perf_counter() - started, time.process_time() - cpu
        source = dict(
            db.session.execute(
                select(Statement.id, Statement.source_id).where(Statement.consultation_id == cid)
            ).all()
        )
        vectors = load_vectors(cid, embedder.fingerprint)
        ordered = np.zeros((len(source), embedder.dimension), dtype=np.float32)
        for sid, vector in vectors.items():
            ordered[source[sid]] = vector
        np.save(args.vectors, ordered)
        topics = outcome.results.get("topics") or []
        return {
            "statements": n,
            "load_s": load_s,
            "embed_s": embed_s,
            "embed_cpu_s": embed_cpu_s,
            "per_s": n / embed_s,
            "topics_s": topics_s,
            "topics_cpu_s": topics_cpu_s,
            "topics": len(topics),
            "fingerprint": embedder.fingerprint,
        }


CHILDREN = {
    "import": child_import,
    "analyse": child_analyse,
    "serve": child_serve,
    "topics": child_topics,
}


# --- the parent -----------------------------------------------------------------------------------


def _child(task: str, url: str, timeout: float | None = None, **options: Any) -> tuple[dict, float]:
    command = [sys.executable, __file__, "--child", task, "--database", url]
    for key, value in options.items():
        if value is True:
            command.append(f"--{key}")
        elif value not in (None, False):
            command += [f"--{key}", str(value)]
    return run_measured(command, timeout=timeout)


def _prepare_database(url: str) -> None:
    """Schema, missions and the team member who publishes the report."""
    from flask_migrate import upgrade

    from deliberate.extensions import db
    from deliberate.missions.catalogue import ensure_missions
    from deliberate.services.accounts import register_user

    app = _app(url)
    with app.app_context():
        upgrade()
        ensure_missions()
        admin = register_user(ADMIN_EMAIL, "Bench", "granite harbour lantern 2026")
        admin.is_admin = True
        db.session.commit()
        db.engine.dispose()


def _store_vectors(url: str, consultation_id: int, vectors_file: Path, fingerprint: str) -> None:
    """What the embedding job would have stored: the vector of each statement's text."""
    from sqlalchemy import select

    from deliberate.extensions import db
    from deliberate.models import Statement
    from deliberate.services.embeddings import store_vectors

    vectors = np.load(vectors_file)
    app = _app(url)
    with app.app_context():
        rows = db.session.execute(
            select(Statement.id, Statement.source_id).where(
                Statement.consultation_id == consultation_id
            )
        ).all()
        rows = [(sid, source) for sid, source in rows if source < len(vectors)]
        store_vectors(fingerprint, [sid for sid, _ in rows], vectors[[s for _, s in rows]])
        db.session.commit()
        db.engine.dispose()


def _imported(size: Size, server: str, folder: Path):
    """Write the export, make a fresh database and import into it: (url, drop, import figures)."""
    started = time.perf_counter()
    from deliberate.polis_format import write_export

    write_export(consultation_export(size), folder / "export")
    written = time.perf_counter() - started
    url, drop = fresh_database(server, folder)
    try:
        _prepare_database(url)
        result, peak = _child("import", url, folder=folder / "export")
    except BaseException:
        drop()
        raise
    result.update(peak_mb=peak, write_s=written)
    return url, drop, result


def measure_topics(args, folder: Path) -> dict[str, Any]:
    size = TOPIC_CASE.scaled(args.scale) if args.scale != 1 else TOPIC_CASE
    url, drop, imported = _imported(size, args.database, folder)
    try:
        cid = imported["consultation_id"]
        result, peak = _child("topics", url, consultation=cid, vectors=folder / "v.npy")
    finally:
        drop()
    result["peak_mb"] = peak
    result["vectors"] = folder / "v.npy"
    return result


def measure_size(name: str, size: Size, args, embedded: dict | None, folder: Path) -> dict:
    print(f"\n## {name}: {size} (load {load_average()})", flush=True)
    out: dict[str, Any] = {"name": name, "size": size, "load_before": load_average()}
    url, drop, imported = _imported(size, args.database, folder)
    out["import"] = imported
    print(f"import: {imported['seconds']:.1f} s, peak {imported['peak_mb']:.0f} MB", flush=True)
    try:
        cid = imported["consultation_id"]
        if embedded:
            _store_vectors(url, cid, embedded["vectors"], embedded["fingerprint"])
        progress = folder / f"progress-{name.replace('/', '-')}.jsonl"
        profile = (
            Path(args.profile_dir) / f"profile-{name.replace('/', '-')}.txt"
            if args.profile_dir
            else None
        )
        try:
            analysed, peak = _child(
                "analyse",
                url,
                timeout=args.analysis_timeout,
                consultation=cid,
                topics=embedded is not None,
                progress=progress,
                profile=profile,
            )
        except ChildFailed as failed:
            out["analysis"] = {
                "failed": str(failed),
                "seconds": failed.seconds,
                "peak_mb": failed.peak_mb,
                "progress": progress.read_text() if progress.exists() else "",
            }
            print(f"analysis FAILED: {failed} (peak {failed.peak_mb:.0f} MB)", flush=True)
            return out
        analysed["peak_mb"] = peak
        out["analysis"] = analysed
        print(
            f"analysis: {analysed['seconds']:.1f} s, peak {peak:.0f} MB; {analysed['message']}",
            flush=True,
        )
        served, peak = _child("serve", url, consultation=cid, run=analysed["run_id"])
        served["peak_mb"] = peak
        out["serve"] = served
        print(
            f"report: first {served['report_first_ms']:.0f} ms, p95 {served['report_p95_ms']:.0f}"
            f" ms; export {served['export_s']:.1f} s ({served['zip_kb']:.0f} KiB)",
            flush=True,
        )
    finally:
        drop()
        out["load_after"] = load_average()
    return out


def _median_runs(runs: list[dict]) -> dict:
    """The median of each figure over repeated runs (the first run's structure otherwise)."""
    if len(runs) == 1:
        return runs[0]
    merged = json.loads(json.dumps(runs[0], default=str))
    for part in ("import", "analysis", "serve"):
        if part not in merged or "failed" in merged[part]:
            continue
        for key, value in merged[part].items():
            if isinstance(value, float):
                merged[part][key] = statistics.median(r[part][key] for r in runs)
    for part in ("import", "analysis"):
        for step, record in merged.get(part, {}).get("steps", {}).items():
            for key in ("seconds", "cpu_s"):
                record[key] = statistics.median(r[part]["steps"][step][key] for r in runs)
    merged["size"] = runs[0]["size"]
    merged["repeats"] = [
        {p: r.get(p, {}).get("seconds") for p in ("import", "analysis")} for r in runs
    ]
    return merged


# --- the report -----------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _figures(case: dict) -> dict[str, float | None]:
    """The figures compared across sizes (None where a step did not finish)."""
    analysis, serve = case.get("analysis", {}), case.get("serve", {})
    done = "failed" not in analysis
    figures = {
        "import s": case["import"]["seconds"],
        "import peak MB": case["import"]["peak_mb"],
        "analysis s": analysis.get("seconds") if done else None,
        "analysis CPU s": analysis.get("cpu_s") if done else None,
        "analysis peak MB": analysis.get("peak_mb") if done else None,
        "report first ms": serve.get("report_first_ms"),
        "report p95 ms": serve.get("report_p95_ms"),
        "export s": serve.get("export_s"),
    }
    for part in ("import", "analysis"):
        for step, record in (case.get(part, {}).get("steps") or {}).items():
            figures[f"{part} step {step} s"] = record["seconds"]
            figures[f"{part} step {step} CPU s"] = record["cpu_s"]
    return figures


def markdown(cases: list[dict], embedded: dict | None, args) -> str:
    lines = [
        "| size | participants | statements | votes | import s (CPU s; peak MB) | "
        "analysis s (CPU s) | analysis peak MB | fits 4 GB | report first / p95 ms (KiB) | "
        "export zip s (KiB) | load before → after |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for case in cases:
        imp, ana, srv = case["import"], case.get("analysis", {}), case.get("serve", {})
        if "failed" in ana:
            ana_s = f"not done: {ana['failed']}"
            fits = "no" if ana["peak_mb"] > WORKER_MEMORY_MB else "?"
        else:
            ana_s = f"{_fmt(ana.get('seconds'))} ({_fmt(ana.get('cpu_s'))})"
            fits = "yes" if ana.get("peak_mb", math.inf) <= WORKER_MEMORY_MB else "NO"
        report = (
            f"{_fmt(srv.get('report_first_ms'), 0)} / {_fmt(srv.get('report_p95_ms'), 0)} "
            f"({_fmt(srv.get('page_kb'), 0)})"
            if srv
            else "-"
        )
        export = f"{_fmt(srv.get('export_s'))} ({_fmt(srv.get('zip_kb'), 0)})" if srv else "-"
        lines.append(
            f"| {case['name']} | {imp['participants']:,} | {imp['statements']:,} | "
            f"{imp['votes']:,} | {_fmt(imp['seconds'])} ({_fmt(imp['cpu_s'])}; "
            f"{_fmt(imp['peak_mb'], 0)}) | {ana_s} | "
            f"{_fmt(ana.get('peak_mb'), 0)} | {fits} | {report} | {export} | "
            f"{case['load_before']} → {case['load_after']} |"
        )
    if embedded:
        lines += [
            "",
            f"Embedding {embedded['statements']:,} statements (real model, "
            f"`embed_missing`): {embedded['embed_s']:.1f} s, CPU {embedded['embed_cpu_s']:.1f} s "
            f"({embedded['per_s']:.0f}/s; model load {embedded['load_s']:.1f} s); topics "
            f"(`analyse_topics`, refit): {embedded['topics_s']:.1f} s, CPU "
            f"{embedded['topics_cpu_s']:.1f} s, {embedded['topics']} topics; peak "
            f"{embedded['peak_mb']:.0f} MB; load {embedded['load']}.",
        ]
    lines += [
        "",
        "Steps (wall / CPU seconds, summed over calls; peak MB of the process after it). "
        "Before the analysis the worker's start (imports, model load), not in its time: "
        + ", ".join(
            f"{c['name']} {c['analysis']['warm_s']:.1f} s"
            for c in cases
            if "warm_s" in c.get("analysis", {})
        ),
        "",
        *step_table("import", cases),
        "",
        *step_table("analysis", cases),
    ]
    fits = [(c["name"], c["analysis"]["bridging"]) for c in cases if "bridging" in c["analysis"]]
    if fits:
        lines += [
            "",
            "Bridging fit (ALS sweeps until no parameter moves by more than the tolerance): "
            + "; ".join(
                f"{name} {b['iterations']} sweeps, {'' if b['converged'] else 'NOT '}converged, "
                f"{b['bootstrap_converged']} of {b['bootstrap_resamples']} refits converged"
                for name, b in fits
            ),
        ]
    for case in cases:
        if "failed" in case.get("analysis", {}):
            lines += [
                "",
                f"{case['name']}: how far the analysis got:",
                "```",
                case["analysis"]["progress"].strip(),
                "```",
            ]
    lines += ["", *growth(cases)]
    return "\n".join(lines)


def step_table(part: str, cases: list[dict]) -> list[str]:
    done = [c for c in cases if "steps" in c.get(part, {})]
    names: dict[str, int] = {}  # every step in the order it started, with its depth
    for case in done:
        for name, record in case[part]["steps"].items():
            names.setdefault(name, record["depth"])
    lines = [
        f"| {part} step | " + " | ".join(c["name"] for c in done) + " |",
        "|---|" + "---:|" * len(done),
    ]
    for name, depth in names.items():
        cells = []
        for case in done:
            r = case[part]["steps"].get(name)
            peak = f" ({r['peak_mb']:.0f})" if r and "peak_mb" in r else ""
            cells.append(f"{r['seconds']:.2f} / {r['cpu_s']:.2f}{peak}" if r else "-")
        lines.append(f"| {'↳ ' if depth else ''}{name} | " + " | ".join(cells) + " |")
    return lines


def growth(cases: list[dict]) -> list[str]:
    """Each figure's ratio between consecutive sizes against the largest size ratio."""
    lines = ["Growth between consecutive sizes (time ratio / largest of the size ratios):", ""]
    worse: list[str] = []
    for small, large in itertools.pairwise(cases):
        a, b = small["import"], large["import"]
        ratios = {
            "participants": b["participants"] / a["participants"],
            "statements": b["statements"] / a["statements"],
            "votes": b["votes"] / a["votes"],
        }
        bound = max(ratios.values())
        lines.append(
            f"- {small['name']} → {large['name']}: participants x{ratios['participants']:.2f}, "
            f"statements x{ratios['statements']:.2f}, votes x{ratios['votes']:.2f}"
        )
        fa, fb = _figures(small), _figures(large)
        for key in fb:
            if key not in fa or fa[key] is None or fb[key] is None or fa[key] <= 0:
                continue
            ratio = fb[key] / fa[key]
            if "MB" in key or (" step " in key and fa[key] < 0.2):
                continue  # memory has a fixed base; sub-0.2 s steps are noise
            flag = ratio > WORSE_THAN_LINEAR * bound
            lines.append(
                f"  - {key}: x{ratio:.2f} ({ratio / bound:.2f} of linear)"
                + (" **worse than linear**" if flag else "")
            )
            if flag:
                worse.append(f"{key} ({small['name']} → {large['name']}: x{ratio:.1f})")
    lines += ["", "Worse than linear: " + ("; ".join(worse) if worse else "nothing measured")]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=("bg", "33k", "both"), default="bg")
    parser.add_argument("--skip-embedding", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each size (median)")
    parser.add_argument(
        "--database",
        default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server URL; each size gets a fresh database on it",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="shrink every size (debugging)")
    parser.add_argument("--analysis-timeout", type=float, default=1200.0)
    parser.add_argument("--profile-dir", help="write a cProfile of each analysis here")
    parser.add_argument("--out", help="also write the markdown report to this file")
    parser.add_argument("--child", choices=tuple(CHILDREN), help=argparse.SUPPRESS)
    for hidden in ("folder", "progress", "profile", "vectors"):
        parser.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
    parser.add_argument("--consultation", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--topics", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return

    from deliberate.services.analysis import code_version

    # Stopped from outside: leave through the finally blocks, which drop the databases.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    names = {"bg": ["bg/4", "bg"], "33k": ["bg/4", "33k"], "both": ["bg/4", "bg", "33k"]}
    sizes = {
        name: SIZES[name].scaled(args.scale) if args.scale != 1 else SIZES[name]
        for name in names[args.size]
    }
    started = datetime.now(UTC)
    header = (
        f"{started:%Y-%m-%d %H:%M} UTC, {code_version()}, {os.cpu_count()} cores, "
        f"load average at start {load_average()}; PostgreSQL; scale {args.scale:g}"
    )
    print(header, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        embedded = None
        if not args.skip_embedding:
            load = load_average()
            embedded = measure_topics(args, folder / "topics")
            embedded["load"] = f"{load} → {load_average()}"
            print(
                f"embedding {embedded['statements']}: {embedded['embed_s']:.1f} s; topics "
                f"{embedded['topics_s']:.1f} s; peak {embedded['peak_mb']:.0f} MB",
                flush=True,
            )
        cases = []
        for name, size in sizes.items():
            runs = []
            for repeat in range(args.repeat):
                work = folder / f"{name.replace('/', '-')}-{repeat}"
                work.mkdir(parents=True)
                runs.append(measure_size(name, size, args, embedded, work))
            cases.append(_median_runs(runs))
        report = f"{header}\n\n{markdown(cases, embedded, args)}\n"
    print("\n" + report)
    if args.out:
        Path(args.out).write_text(report)


if __name__ == "__main__":
    main()
