"""Open data: what every download says about itself (README, licence, the run's JSON and its
schema), and the list of published consultations that the open data page and its catalogue show.

The files themselves are the Polis export format (``downloads``); here is what makes them usable
by someone who was not there: which figure of the report page each file matches, under which
licence and attribution, how text cells are escaped against spreadsheet formulas, and a JSON
document of the run whose statement ids are the CSVs' ids, checked against a published schema.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app, url_for
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.findings import Findings, ModerationFindings
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ConsultationState,
    RemovalReason,
    Statement,
)
from deliberate.polis_format import PolisExport
from deliberate.polis_format.cells import TextRows, safe_cell
from deliberate.reporting.figures import Figures, StatementRow, group_name
from deliberate.services.languages import translations_of
from deliberate.services.polis_exchange import POLIS_LICENCE_NAME, POLIS_LICENCE_URL
from deliberate.services.reports.report import AWAITING_TEXT, REMOVED_TEXT
from deliberate.services.reports.runs import published_run

README = "README.txt"
RUN_JSON = "run.json"
SCHEMA_FILE = "run-v1.schema.json"
MODERATION_FILE = "moderation.csv"
RUN_FORMAT = "deliberate-run"
RUN_FORMAT_VERSION = 1
_SCHEMA_PATH = Path(__file__).with_name(SCHEMA_FILE)
# The text columns escaped against formulas, file by file (every other cell is a number or a date).
ESCAPED_COLUMNS = (
    ("comments.csv", "comment-body"),
    ("participants-votes.csv", "xid (when present)"),
    ("summary.csv", "the value column (topic, url, conversation-description...)"),
    ("topics.csv", "topic-label"),
    ("moderation.csv", "reason"),
)


@dataclass(frozen=True)
class DataLicence:
    """Under what terms a consultation's data may be reused, and whom to credit."""

    name: str
    url: str
    attribution: str
    source_url: str | None  # where an imported conversation came from

    @property
    def imported(self) -> bool:
        return self.source_url is not None


def licence_of(consultation: Consultation) -> DataLicence:
    """Imported conversations keep the licence and attribution of their source (Polis data is
    CC BY 4.0 with attribution to The Computational Democracy Project); the site's own
    consultations are under the operator's licence (DELIBERATE_DATA_LICENCE)."""
    if (consultation.source_key or "").startswith("polis") and consultation.source_attribution:
        return DataLicence(
            POLIS_LICENCE_NAME,
            POLIS_LICENCE_URL,
            consultation.source_attribution,
            consultation.source_url or "",
        )
    config = current_app.config
    operator = config.get("OPERATOR_NAME") or "the people who run this Deliberate site"
    return DataLicence(
        config["DATA_LICENCE"],
        config["DATA_LICENCE_URL"],
        f"{operator}: “{consultation.title}”, a consultation on Deliberate",
        None,
    )


def schema_url() -> str:
    return url_for("open_data.run_schema", _external=True)


def run_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``run.json``, with this site's address as its id."""
    return {"$id": schema_url(), **_stored_schema()}


@cache
def _stored_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(_SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def dumps(document: Any) -> bytes:
    """JSON as every download writes it: UTF-8, indented, keys in the order built."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


# -- the run's JSON ---------------------------------------------------------------------------


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def run_document(
    consultation: Consultation,
    run: AnalysisRun,
    figures: Figures,
    findings: Findings,
    comment_ids: dict[int, int],
    moderated: dict[int, int],
) -> dict[str, Any]:
    """The run as open data: what the report page shows, with statement ids as in the CSVs
    (``comment_ids``: own id -> comment-id; ``moderated``: comment-id -> comments.csv's
    moderated), each statement's text as the public reads it, the language it was written in and
    the team's translations (none while its words are withheld), and the method with its
    parameters. Described by ``run-v1.schema.json``."""
    written_in = dict(
        db.session.execute(
            select(Statement.id, Statement.language).where(
                Statement.consultation_id == consultation.id
            )
        ).all()
    )
    translated = translations_of(consultation)

    def sid(own: int) -> int:
        return comment_ids[own]

    def statement(row: StatementRow) -> dict[str, Any]:
        withheld = row.text in (REMOVED_TEXT, AWAITING_TEXT)
        return {
            "id": sid(row.id),
            "text": row.text,
            "language": written_in.get(row.id, consultation.language),
            "translations": {} if withheld else translated.get(row.id, {}),
            "moderated": moderated.get(sid(row.id), 0),
            "analysed": row.active,
            "agrees": row.agree,
            "disagrees": row.disagree,
            "passes": row.passed,
            "seen": row.seen,
            "topic_id": row.topic_id,
            "groups": [
                {"group_id": g, "agrees": v.agree, "disagrees": v.disagree, "seen": v.seen}
                for g, v in enumerate(row.groups)
            ],
        }

    votes = findings.votes
    test = votes.groups_test
    topics = findings.topics
    licence = licence_of(consultation)
    return {
        "format": RUN_FORMAT,
        "format_version": RUN_FORMAT_VERSION,
        "schema": schema_url(),
        "consultation": {
            "id": consultation.id,
            "title": consultation.title,
            "report_url": url_for(
                "reports.run_report", consultation_id=consultation.id, run_id=run.id, _external=True
            ),
            "opened_at": _time(consultation.opened_at),
            "closed_at": _time(consultation.closed_at),
            "source_url": licence.source_url,
        },
        "licence": {"name": licence.name, "url": licence.url, "attribution": licence.attribution},
        "run": {
            "id": run.id,
            "started_at": _time(run.started_at),
            "finished_at": _time(run.finished_at),
            "published_at": _time(run.published_at),
            "code_version": run.code_version,
            "n_participants": figures.n_voters,
            "n_statements": figures.n_statements,
            "n_votes": figures.n_votes,
            "n_left_out": figures.exclusions.n_participants,
        },
        "method": {
            "votes": {
                "method_version": votes.method_version,
                "status": votes.status,
                "message": votes.message,
                "alpha": votes.alpha,
                "claims_method": votes.claims_method,
                "parameters": dict(votes.parameters),
                "groups_test": None
                if test is None
                else {
                    "decision": test.decision,
                    "statistic": test.statistic,
                    "p_value": test.p_value,
                    "permutations": test.permutations,
                    "k_found": test.k_found,
                    "k": test.k,
                },
            },
            "topics": None
            if topics is None
            else {
                "status": topics.status,
                "message": topics.message,
                "model_name": topics.model_name,
                "model_fingerprint": topics.model_fingerprint,
                "language": topics.language,
                "parameters": dict(topics.parameters),
            },
        },
        "statements": [statement(row) for row in figures.statements],
        "groups": [
            {
                "id": g.id,
                "name": g.name,
                "size": g.size,
                "n_assigned": g.n_assigned,
                "representative": [
                    {
                        "statement_id": sid(d.statement.id),
                        "direction": d.direction,
                        "in_group": [d.group.count, d.group.seen],
                        "q_value": d.q_value,
                    }
                    for d in g.distinctive
                ],
            }
            for g in figures.groups
        ],
        "consensus": {
            direction: {
                "n_passed": total,
                "quoted": [
                    {
                        "statement_id": sid(c.statement.id),
                        "per_group": [[t.count, t.seen] for t in c.per_group],
                        "q_value": c.q_value,
                    }
                    for c in quoted
                ],
            }
            for direction, total, quoted in (
                ("agree", figures.n_consensus_agree, figures.consensus_agree),
                ("disagree", figures.n_consensus_disagree, figures.consensus_disagree),
            )
        },
        "divisive": [
            {
                "statement_id": sid(d.statement.id),
                "most_agreeing_group": d.most_agreeing,
                "most_disagreeing_group": d.most_disagreeing,
                "q_value": d.q_value,
            }
            for d in figures.divisive
        ],
        "topics": [
            {
                "id": t.id,
                "label": t.label,
                "keywords": list(t.keywords),
                "size": t.size,
                "statement_ids": [sid(s) for s in t.statement_ids if s in comment_ids],
            }
            for t in figures.topics.topics
        ],
        "moderation": None
        if findings.moderation is None
        else {
            "n_removed": findings.moderation.n_removed,
            "by_reason": dict(findings.moderation.by_reason),
            "n_without_reason": findings.moderation.n_without_reason,
            "n_edited": findings.moderation.n_edited,
        },
    }


def moderation_csv(found: ModerationFindings) -> str:
    """What the moderators took out of the statements the run saw, counted as the page counts
    it (nobody named, no removed words)."""
    out = io.StringIO()
    writer = TextRows(out)
    writer.writerow(["action", "reason", "statements"])
    for value, n in found.by_reason:
        try:
            label = RemovalReason(value).label
        except ValueError:
            label = value
        writer.writerow(["removed", safe_cell(label), n])
    if found.n_without_reason:
        writer.writerow(["removed", "no reason recorded", found.n_without_reason])
    if not found.n_removed:
        writer.writerow(["removed", "", 0])
    writer.writerow(["edited", "", found.n_edited])
    return out.getvalue()


# -- the README -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileCounts:
    """What the CSVs of a download hold, counted from the export written into them."""

    comments: int
    vote_rows: int
    final_votes: int
    participants: int
    in_groups: dict[int, int]

    @classmethod
    def of(cls, export: PolisExport) -> FileCounts:
        groups = Counter(p.group_id for p in export.participants if p.group_id is not None)
        return cls(
            comments=len(export.comments),
            vote_rows=len(export.vote_events) or len(export.votes),
            final_votes=len(export.votes),
            participants=len(export.participants),
            in_groups=dict(sorted(groups.items())),
        )


def _n(value: int) -> str:
    return f"{value:,}"


def _wrap(text: str, width: int = 78) -> str:
    """Plain-text paragraphs at a width a terminal shows whole; "- " items keep an indent."""
    lines = []
    for paragraph in text.split("\n"):
        indent = "  " if paragraph.startswith("- ") else ""
        line = ""
        for word in paragraph.split(" "):
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = indent + word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return "\n".join(lines)


def readme_text(
    consultation: Consultation,
    counts: FileCounts,
    members: list[str],
    run: AnalysisRun | None = None,
    figures: Figures | None = None,
) -> str:
    """The README.txt of a download: what each file holds, which figure of the report page it
    matches, the licence and attribution, and how text cells are escaped."""
    licence = licence_of(consultation)
    title = f"Deliberate open data: {consultation.title}"
    parts = [title, "=" * min(len(title), 78), ""]
    if run is not None and figures is not None:
        report = url_for(
            "reports.run_report", consultation_id=consultation.id, run_id=run.id, _external=True
        )
        published = f"published {_time(run.published_at)}" if run.published_at else "not published"
        parts += [
            _wrap(
                f"Consultation {consultation.id}, as analysis run {run.id} saw it (made "
                f"{_time(run.finished_at)}, {published}). Its report page: {report}"
            ),
            "",
        ]
    else:
        parts += [
            _wrap(
                f"Consultation {consultation.id} as it stood when this file was made, for its "
                "team. A report page counts what its analysis saw, which may be less; group-id "
                "holds the newest analysis' groups, if there is one."
            ),
            "",
        ]
    parts += ["Licence", "-------", f"{licence.name}: {licence.url}"]
    parts.append(_wrap(f"Attribution: {licence.attribution}"))
    if licence.imported:
        source = licence.source_url or "a Polis export (no address given)"
        parts.append(
            _wrap(
                f"Source: {source}. This conversation was imported from Polis; its data keeps "
                "the licence and attribution above. The opinion groups (and topics and run.json, "
                "where present) are Deliberate's analysis of it."
            )
        )
    parts += ["", "Files", "-----"]
    parts += [_wrap(f"- {name}: {_describe(name, counts, figures)}") for name in members]
    parts += [
        "",
        "Spreadsheet safety",
        "------------------",
        _wrap(
            "A text cell that a spreadsheet would run as a formula (one starting with =, +, -, "
            "@, a tab or a carriage return) is written with a leading apostrophe ('), which "
            "spreadsheets hide; a text that itself begins with apostrophes before one of those "
            "characters gets one more. Escaped columns: "
            + "; ".join(f"{name} {column}" for name, column in ESCAPED_COLUMNS if name in members)
            + ". Numbers are never escaped: -1 in votes.csv and participants-votes.csv is a "
            "disagreement. To read the original text, take one apostrophe off a cell that "
            "starts with apostrophes followed by one of those characters; `flask deliberate "
            "import-polis` does exactly that, so these files import back unchanged."
        ),
        "",
    ]
    return "\n".join(parts)


def _describe(name: str, counts: FileCounts, figures: Figures | None) -> str:
    page = figures is not None
    if name == "comments.csv":
        text = (
            f"every statement, one row each ({_n(counts.comments)} rows"
            + (f"; the page's {_n(figures.n_statements)} statements" if page else "")
            + "). moderated: 1 shown, 0 awaiting moderation, -1 removed (its text is replaced by "
            f"“{REMOVED_TEXT}”; its votes still count, as on the page). agrees and disagrees "
            "count each person's final answer, as the report page's statement table does "
            "(Polis's own comments.csv counted every row of votes.csv)."
        )
        return text
    if name == "votes.csv":
        changed = counts.vote_rows - counts.final_votes
        rows = (
            f"every answer including changed ones, as Polis writes it: {_n(counts.vote_rows)} rows"
        )
        if page and figures.n_votes == counts.final_votes:
            rows += f"; the page's {_n(figures.n_votes)} votes count each person's final answer"
        elif page:
            rows += (
                f", of which {_n(counts.final_votes)} are final answers; the page's "
                f"{_n(figures.n_votes)} votes count the final answers its analysis used"
            )
        else:
            rows += f", of which {_n(counts.final_votes)} are final answers"
        return (
            f"{rows} ({_n(changed)} answers were changed later: where a person answered a "
            "statement more than once, the row with the latest timestamp is the final answer). "
            "vote: 1 agree, -1 disagree, 0 pass; timestamp in milliseconds since 1970 (UTC), "
            "datetime in UTC."
        )
    if name == "participants-votes.csv":
        groups = ", ".join(
            f"{group_name(g)} (group-id {g}): {_n(n)}" for g, n in counts.in_groups.items()
        )
        text = (
            f"one row per participant ({_n(counts.participants)} rows"
            + (f"; the page's {_n(figures.n_voters)} people taking part" if page else "")
            + ") with their final answer to each statement (columns are comment-ids; 1 agree, "
            "-1 disagree, 0 pass, blank not seen). group-id is the opinion group of Deliberate's "
            "analysis (blank: too few answers to be placed in a group)"
        )
        if groups:
            text += f": {groups}" + (", the group sizes on the page" if page else "")
        return text + "."
    if name == "summary.csv":
        return (
            "Polis's key,value summary without a header: topic (the consultation's title), url, "
            "voters, commenters, comments (those with at least one vote), groups."
        )
    if name == "topics.csv":
        n_topics = len(figures.topics.named) if figures is not None else 0
        return (
            f"the topic of each statement: comment-id, topic-id, topic-label; -1 is “Other”. "
            f"The page's {_n(n_topics)} topics."
        )
    if name == MODERATION_FILE:
        return (
            "what the moderators removed (by reason) and edited among these statements, as the "
            "page's Moderation figure; nobody is named and no removed words are kept."
        )
    if name == RUN_JSON:
        return (
            "the run's findings as on the page: statements (ids as comment-id in the CSVs, "
            "public text, counts), opinion groups, common ground, divisions, topics, moderation, "
            f"and the method with its parameters. Described by {SCHEMA_FILE} (JSON Schema, "
            f"draft 2020-12), also published at {schema_url()}."
        )
    if name == SCHEMA_FILE:
        return "the JSON Schema of run.json."
    if name == README:
        return "this file."
    return ""


# -- the open data page and its catalogue -----------------------------------------------------


@dataclass(frozen=True)
class OpenDataset:
    """A published consultation as the open data page lists it."""

    consultation: Consultation
    run: AnalysisRun
    licence: DataLicence


def published_datasets() -> list[OpenDataset]:
    """Every consultation whose team published an analysis, newest publication first."""
    consultations = db.session.scalars(
        select(Consultation)
        .where(Consultation.state != ConsultationState.DRAFT)
        .order_by(Consultation.id)
    )
    found = []
    for consultation in consultations:
        run = published_run(consultation.id)
        if run is not None:
            found.append(OpenDataset(consultation, run, licence_of(consultation)))
    found.sort(key=lambda d: (d.run.published_at, d.run.id), reverse=True)
    return found


def catalogue(datasets: list[OpenDataset]) -> dict[str, Any]:
    """The open data as a DCAT catalogue in JSON-LD, so harvesters (data.gov.uk, the European
    data portal, CKAN) find each consultation's zip with its licence."""
    site = url_for("open_data.index", _external=True)
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
        },
        "@id": url_for("open_data.catalogue", _external=True),
        "@type": "dcat:Catalog",
        "dct:title": "Deliberate open data",
        "dct:description": (
            "Published consultations: statements, every vote, opinion groups and topics, in the "
            "Polis export format with a README and the analysis as JSON."
        ),
        "foaf:homepage": site,
        "dcat:dataset": [_dataset(d) for d in datasets],
    }


def _dataset(d: OpenDataset) -> dict[str, Any]:
    c, run = d.consultation, d.run
    download = url_for("open_data.consultation_zip", consultation_id=c.id, _external=True)
    return {
        "@id": url_for("reports.report", consultation_id=c.id, _external=True),
        "@type": "dcat:Dataset",
        "dct:identifier": str(c.id),
        "dct:title": c.title,
        "dct:description": c.context or c.title,
        "dct:issued": _time(run.published_at),
        "dct:modified": _time(run.finished_at),
        "dct:license": d.licence.url,
        "dct:rights": d.licence.attribution,
        "dct:source": d.licence.source_url,
        "dcat:landingPage": url_for("reports.report", consultation_id=c.id, _external=True),
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dct:title": "Polis-format CSVs, topics, the run's JSON and its schema, README",
                "dcat:downloadURL": download,
                "dcat:mediaType": "application/zip",
                "dct:license": d.licence.url,
            },
            {
                "@type": "dcat:Distribution",
                "dct:title": "JSON Schema of run.json",
                "dcat:downloadURL": schema_url(),
                "dcat:mediaType": "application/schema+json",
            },
        ],
    }
