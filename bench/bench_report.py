"""How fast the public report of a Bowling-Green-size consultation is served from its stored run
(2,000 participants x 900 statements, 225,000 votes), against the home page, in the same run.

    .venv/bin/python bench/bench_report.py [--requests 200] [--no-topics] [--database URL]

A synthetic export (bench_import.synthetic_export) is imported into a fresh database, analysed
once (votes and, unless --no-topics, topics with the real embedding model) and published. The app
is then served by werkzeug's development server from a thread, and urllib asks for the report page
and the home page alternately; median and p95 latency are reported for each, with the first
report request apart (it builds the page's figures and SVG once for the run). Target: report p95
under 100 ms.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("SECRET_KEY", "bench")

from flask_migrate import upgrade
from werkzeug.serving import make_server

from bench._common import p95
from bench.bench_import import fresh_database, synthetic_export
from deliberate import create_app
from deliberate.extensions import db
from deliberate.missions.catalogue import ensure_missions
from deliberate.models import Consultation
from deliberate.polis_format import write_export


def prepare(app, folder: Path, args) -> tuple[int, int]:
    """Import, analyse and publish; returns (consultation id, run id)."""
    from deliberate.services.accounts import register_user
    from deliberate.services.analysis import run_analysis
    from deliberate.services.polis_exchange import import_polis_folder
    from deliberate.services.reports import publish_run

    with app.app_context():
        upgrade()
        mission = ensure_missions()[0]
        admin = register_user("lead@example.org", "Bench", "granite harbour lantern 2026")
        admin.is_admin = True
        db.session.commit()
        start = time.perf_counter()
        result = import_polis_folder(folder, mission)
        db.session.commit()
        print(f"import: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        run = run_analysis(result.consultation_id, topics=args.topics)
        db.session.commit()
        topics = (run.results.get("topics") or {}).get("message", "none")
        print(
            f"analysis: {time.perf_counter() - start:.1f} s ({run.results['votes']['message']} "
            f"Topics: {topics})"
        )
        publish_run(admin, db.session.get(Consultation, result.consultation_id), run)
        db.session.commit()
        ids = result.consultation_id, run.id
        db.session.remove()
    return ids


def timed_get(url: str) -> tuple[float, int]:
    start = time.perf_counter()
    with urllib.request.urlopen(url) as response:  # noqa: S310 - our own local server
        body = response.read()
        assert response.status == 200, response.status
    return (time.perf_counter() - start) * 1000, len(body)


def describe(name: str, times: list[float]) -> str:
    return (
        f"{name:<12} median {statistics.median(times):6.1f} ms   p95 {p95(times):6.1f} ms   "
        f"max {max(times):6.1f} ms   ({len(times)} requests)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--statements", type=int, default=900)
    parser.add_argument("--votes", type=int, default=225_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--no-topics", dest="topics", action="store_false")
    parser.add_argument("--database", default="sqlite", help="sqlite, or a PostgreSQL URL")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        write_export(synthetic_export(args.participants, args.statements, args.votes), folder)
        url, drop = fresh_database(args.database, Path(tmp))
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
        try:
            cid, run_id = prepare(app, folder, args)
            server = make_server("127.0.0.1", 0, app, threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            base = f"http://127.0.0.1:{server.server_port}"
            report_url, home_url = f"{base}/consultations/{cid}/report", f"{base}/"
            try:
                cold, size = timed_get(report_url)
                timed_get(home_url)
                print(
                    f"first report request (builds the figures and SVG of run {run_id}): "
                    f"{cold:.0f} ms; page {size / 1024:.0f} KiB"
                )
                report_times, home_times = [], []
                for _ in range(args.requests):
                    report_times.append(timed_get(report_url)[0])
                    home_times.append(timed_get(home_url)[0])
            finally:
                server.shutdown()
                thread.join(timeout=5)
            print(describe("report page", report_times))
            print(describe("home page", home_times))
            print(f"target p95 < 100 ms: {'met' if p95(report_times) < 100 else 'NOT met'}")
        finally:
            with app.app_context():
                db.engine.dispose()
            drop()


if __name__ == "__main__":
    main()
