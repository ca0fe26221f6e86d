"""How long importing a Bowling-Green-size Polis export takes (2,000 participants x 900 statements,
225,000 votes), on SQLite and, when DATABASE_URL names one, PostgreSQL.

    .venv/bin/python bench/bench_import.py [--participants 2000] [--statements 900]

A synthetic export is written in the classic format, then imported into a fresh database through
the same service `flask deliberate import-polis` uses. Reading the files is timed apart from the
database work, and both are reported with the median of the runs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("SECRET_KEY", "bench")

from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from bench._common import START_MS, polis_export
from deliberate import create_app
from deliberate.config import normalise_database_url
from deliberate.extensions import db
from deliberate.missions.catalogue import ensure_missions
from deliberate.polis_format import PolisExport, read_export, write_export
from deliberate.services.polis_exchange import import_polis_folder


def synthetic_export(participants: int, statements: int, votes: int, seed: int = 7) -> PolisExport:
    """Uniformly random votes (no opinion structure): the cost of the rows, not their meaning."""
    rng = random.Random(seed)
    texts = [f"Statement number {i} about topic {i % 17}" for i in range(statements)]
    authors = [rng.randrange(participants) for _ in range(statements)]
    cells = rng.sample(range(participants * statements), votes)
    rows = [
        (c // statements, c % statements, rng.choice((1, -1, 0)), START_MS + 100_000 + n)
        for n, c in enumerate(cells)
    ]
    return polis_export(participants, texts, authors, [1] * statements, rows)


def fresh_database(kind: str, folder: Path) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{folder / f'bench-{uuid.uuid4().hex}.sqlite3'}", lambda: None
    server = make_url(normalise_database_url(kind))
    name = f"deliberate_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return server.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--statements", type=int, default=900)
    parser.add_argument("--votes", type=int, default=225_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    targets = ["sqlite"] + ([os.environ["DATABASE_URL"]] if os.environ.get("DATABASE_URL") else [])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        write_export(synthetic_export(args.participants, args.statements, args.votes), folder)
        read_times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            read_export(folder)
            read_times.append(time.perf_counter() - start)
        print(
            f"export: {args.participants} participants, {args.statements} statements, "
            f"{args.votes} votes; reading the files: median {statistics.median(read_times):.2f} s"
        )
        for target in targets:
            times = []
            for _ in range(args.runs):
                url, drop = fresh_database(target, Path(tmp))
                app = create_app({"SQLALCHEMY_DATABASE_URI": url})
                try:
                    with app.app_context():
                        upgrade()
                        mission = ensure_missions()[0]
                        db.session.commit()
                        start = time.perf_counter()
                        import_polis_folder(folder, mission)
                        db.session.commit()
                        times.append(time.perf_counter() - start)
                        db.session.remove()
                        db.engine.dispose()
                finally:
                    drop()
            label = "sqlite" if target == "sqlite" else "postgresql"
            print(
                f"{label}: import median {statistics.median(times):.2f} s "
                f"(runs: {', '.join(f'{t:.2f}' for t in times)}); target < 15 s"
            )


if __name__ == "__main__":
    main()
